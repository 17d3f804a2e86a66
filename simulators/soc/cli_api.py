"""Pure entry functions behind ``archgym simulate soc`` (each returns the JSON-ready dict the
command prints; errors are :class:`SocInputError` with a message for the user).

- :func:`static_json`: ``--graph FILE.json --scheduler NAME [--time-limit S]``
- :func:`dynamic_json`: ``--soc CONFIG --workload NAME --jobs N [--rate R] [--scheduler NAME]
  [--seed S]``; ``R`` is the Poisson arrival rate in jobs per millisecond. The caller
  resolves ``CONFIG`` (an ``archgym-soc/1`` JSON file, see :mod:`simulators.soc.platform`, or
  a shipped SoC name) and ``NAME`` with ``workloads.soc.resolve_soc`` and
  ``workloads.soc.load_workload`` (simulators do not import the workloads package).
- :func:`ds3_json`: ``--ds3-config FILE.ini [--scheduler NAME] [--seed S]`` in ``ds3_compat``.
"""

from __future__ import annotations

import os
from typing import Any

from simulators.soc.checker import check_schedule
from simulators.soc.ds3_compat import run_ds3
from simulators.soc.ds3_files import read_ds3_config
from simulators.soc.dynamic import simulate
from simulators.soc.errors import SocInputError
from simulators.soc.graph import read_graph
from simulators.soc.platform import Platform
from simulators.soc.static import canonical_name, schedule
from simulators.soc.workload import Workload, poisson_arrivals

DEFAULT_RATE_PER_MS = 2.0
DEFAULT_DYNAMIC_SCHEDULER = "heft"


def static_json(graph: str | os.PathLike, scheduler: str, time_limit: float | None = None,
                seed: int = 0) -> dict[str, Any]:
    """Schedule a task-graph file; ``schedule`` lists ``[processor, start, finish]`` per task
    in task-index order, ``valid`` is the independent checker's verdict."""
    g = read_graph(graph)
    name = canonical_name(scheduler)
    opts: dict[str, Any] = {}
    if name == "optimal":
        opts = {"time_limit": 10.0 if time_limit is None else time_limit, "seed": seed}
    elif time_limit is not None:
        raise SocInputError("--time-limit applies to --scheduler optimal only")
    elif name == "random":
        opts = {"seed": seed}
    s = schedule(g, name, **opts)
    check = check_schedule(g, s.proc, s.start, s.finish, s.makespan)
    out = {"graph": g.name, "num_tasks": g.num_tasks, "num_procs": g.num_procs}
    out.update(s.to_dict())
    out["valid"] = check.valid
    if not check.valid:
        out["violations"] = check.violations
    if name == "optimal":
        out["time_limit"] = opts["time_limit"]
    return out


def dynamic_json(platform: Platform, workload: Workload, jobs: int,
                 rate: float = DEFAULT_RATE_PER_MS, scheduler: str = DEFAULT_DYNAMIC_SCHEDULER,
                 seed: int = 0, warmup_us: float = 0.0) -> dict[str, Any]:
    """Run ``jobs`` Poisson arrivals (``rate`` jobs/ms, seeded) of ``workload`` on
    ``platform`` with a dynamic scheduler (:data:`policies.DYNAMIC_SCHEDULERS`)."""
    out = simulate(platform, workload, poisson_arrivals(workload, jobs, rate, seed), scheduler,
                   warmup_us).to_dict()
    out.update(rate_jobs_per_ms=rate, seed=seed, mode="exact")
    return out


def ds3_json(ds3_config: str | os.PathLike, scheduler: str | None = None,
             seed: int | None = None) -> dict[str, Any]:
    """Run a DS3 ``config_file.ini`` in ``ds3_compat`` mode."""
    return run_ds3(read_ds3_config(ds3_config), scheduler, seed).to_dict()
