"""Exhaustive ground truth for a DRAM-v0 sub-space small enough to enumerate.

Searchers are compared by how fast they approach an optimum; on the full 442,368-design
DRAM space nobody knows it. This script evaluates *every* design of a sub-space (some knobs
fixed, a short trace) with the real simulator, on all cores, and writes
``workloads/dram/ground_truth/<name>.json``: the env kwargs, the optimum (config, metrics,
reward), how many designs lie within 1 % of it, the top designs with all metrics, the
objective metric of every design (in :meth:`DesignSpace.enumerate` order, so the file doubles
as an exact lookup table), and how it was produced (command, date, versions, git commit,
trace checksum).

Usage (from the repository root)::

    python -m experiments.ground_truth                 # the shipped "cloud_latency" table
    python -m experiments.ground_truth --workers 2 --name NAME --workload random \\
        --trace-length 2000 --objective latency_ns --fix RespQueue=Fifo

:func:`load` reads a table back and :func:`lookup_env` builds a ``DesignEnv`` answering from
it (same space, same objective, no simulation), which tests and the sample-efficiency
benchmark use to run hundreds of searches in seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import multiprocessing
import platform
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from archgym.env import DesignEnv
from archgym.errors import ArchGymError
from archgym.evaluator import Evaluator, MetricSpec
from archgym.objectives import Optimize
from archgym.space import DesignSpace

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "workloads" / "dram" / "ground_truth"
ENV_ID = "archgym/DRAM-v0"

#: The shipped sub-space: the cloud-like trace (writes, random and streaming accesses,
#: bursts), 2,000 requests, minimise average read latency. The refresh knobs and the
#: response queue are fixed at DRAMSys' defaults (on a 2,000-request trace, about 1.7 us,
#: refresh barely happens); the other six knobs keep all their values:
#: 4 * 3 * 3 * 8 * 3 * 8 = 6,912 designs (MaxActiveTransactions acts only with the Fifo and
#: Reorder arbiters, as in DRAMSys).
DEFAULT_NAME = "cloud_latency"
DEFAULT_KWARGS: dict[str, Any] = {
    "workload": "cloud", "trace_length": 2000, "objective": "latency_ns",
    "fixed": {"RefreshPolicy": "AllBank", "RefreshMaxPostponed": 1, "RefreshMaxPulledin": 1,
              "RespQueue": "Fifo"},
}
TOP_K = 50
NEAR = 0.01  #: "within 1 % of the optimum's reward"


def near_optimal(reward: float, optimum: float, rel: float = NEAR) -> bool:
    """``reward`` is within ``rel`` (relative to ``|optimum|``) of the optimum reward."""
    return reward >= optimum - rel * abs(optimum)


# ------------------------------------------------------------------------ enumeration

_ENV: DesignEnv | None = None


def _init_worker(kwargs: dict[str, Any]) -> None:
    global _ENV
    from archgym.envs.dram import DramEnv

    _ENV = DramEnv(**kwargs)


def _evaluate(config: dict[str, Any]) -> tuple[dict[str, float], float]:
    metrics = _ENV.evaluator.evaluate(config)
    return metrics, float(_ENV.objective.reward(metrics))


def _git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+uncommitted" if dirty else "")


def _trace_sha256(workload: str) -> str | None:
    from workloads import dram as dram_workloads

    if workload in dram_workloads.available():
        path = dram_workloads.trace_path(workload)
    elif Path(workload).is_file():
        path = Path(workload)
    else:
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def compute(kwargs: Mapping[str, Any], workers: int | None = None) -> dict[str, Any]:
    """Evaluate every design of the sub-space ``kwargs`` describes; the table as a dict."""
    from archgym.envs.dram import DramEnv

    kwargs = dict(kwargs)
    env = DramEnv(**kwargs)
    space = env.space
    designs = list(space.enumerate())
    workers = workers or multiprocessing.cpu_count()
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(workers, _init_worker, (kwargs,)) as pool:
        results = pool.map(_evaluate, designs, chunksize=32)
    seconds = time.perf_counter() - start
    metric = env.objective.metrics[0] if len(env.objective.metrics) == 1 else None
    rewards = np.array([r for _, r in results])
    order = np.argsort(-rewards, kind="stable")
    best = int(order[0])
    optimum = float(rewards[best])
    near = int(sum(near_optimal(r, optimum) for r in rewards))

    import numba
    import scipy

    import archgym

    return {
        "name": kwargs.get("name"),
        "env_id": ENV_ID,
        "env_kwargs": kwargs,
        "space": space.to_dict(),
        "objective": env.objective.describe(),
        "metric": metric,
        "metric_specs": [{"name": s.name, "unit": s.unit, "direction": s.direction,
                          "scale": s.scale} for s in env.evaluator.metric_specs],
        "count": len(designs),
        "optimum": {"config": designs[best], "metrics": results[best][0], "reward": optimum},
        "within_1pct": near,
        "top": [{"config": designs[i], "metrics": results[i][0], "reward": float(rewards[i])}
                for i in order[:TOP_K]],
        "sorted_rewards": [float(r) for r in rewards[order]],
        "table": {"order": "DesignSpace.enumerate()", "metric": metric,
                  "values": [m[metric] for m, _ in results] if metric else None},
        "produced": {
            "command": "python -m experiments.ground_truth " + " ".join(sys.argv[1:]),
            "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "seconds": round(seconds, 1), "workers": workers,
            "git_commit": _git_commit(), "trace_sha256": _trace_sha256(str(kwargs["workload"])),
            "versions": {"archgym": archgym.__version__, "python": platform.python_version(),
                         "numpy": np.__version__, "scipy": scipy.__version__,
                         "numba": numba.__version__},
            "host": f"{platform.system()} {platform.machine()}",
        },
    }


# --------------------------------------------------------------------------- lookup


def path_for(name: str) -> Path:
    return OUT_DIR / f"{name}.json"


def load(name_or_path: str | Path = DEFAULT_NAME) -> dict[str, Any]:
    """A ground-truth table by name (``workloads/dram/ground_truth/<name>.json``) or path."""
    path = Path(name_or_path)
    if not path.is_file():
        path = path_for(str(name_or_path))
    if not path.is_file():
        raise ArchGymError(f"no ground-truth table {str(name_or_path)!r} (looked for {path}); "
                           "make it with: python -m experiments.ground_truth")
    return json.loads(path.read_text())


class LookupEvaluator(Evaluator):
    """Answers from a ground-truth table: the objective metric the simulator computed for
    each design, looked up by config key. Exactly the simulator's numbers for that metric,
    without simulating (other metrics are not in the table)."""

    cost_model = "ground-truth-table"

    def __init__(self, data: Mapping[str, Any]) -> None:
        super().__init__(cache_size=0)
        metric = data["table"]["metric"]
        if metric is None:
            raise ArchGymError("this ground-truth table has no single objective metric to "
                               "look up")
        self.space = DesignSpace.from_dict(data["space"])
        spec = next(s for s in data["metric_specs"] if s["name"] == metric)
        self.metric_specs = (MetricSpec(**spec),)
        self.workload = str(data["env_kwargs"].get("workload", ""))
        values = data["table"]["values"]
        self._table = {self.space.key(c): float(v)
                       for c, v in zip(self.space.enumerate(), values, strict=True)}

    def _evaluate(self, config: Mapping[str, Any]) -> dict[str, float]:
        return {self.metric_specs[0].name: self._table[self.space.key(config)]}


def lookup_env(data: Mapping[str, Any], max_steps: int = 1_000_000) -> DesignEnv:
    """A ``DesignEnv`` over the table's space whose evaluations are table look-ups."""
    evaluator = LookupEvaluator(data)
    if data["objective"].get("kind") != "optimize":
        raise ArchGymError("lookup_env supports tables made with a single-metric objective")
    return DesignEnv(evaluator, Optimize(evaluator.metric_specs[0]), max_steps=max_steps)


# ------------------------------------------------------------------------------ CLI


def _assignment(text: str) -> tuple[str, Any]:
    import yaml

    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected KNOB=VALUE, got {text!r}")
    return key, yaml.safe_load(value)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--name", default=DEFAULT_NAME)
    ap.add_argument("--workload", default=DEFAULT_KWARGS["workload"])
    ap.add_argument("--trace-length", type=int, default=DEFAULT_KWARGS["trace_length"])
    ap.add_argument("--objective", default=DEFAULT_KWARGS["objective"])
    ap.add_argument("--fix", type=_assignment, action="append", metavar="KNOB=VALUE",
                    help="fix a knob (repeatable); default: the shipped table's fixed knobs")
    ap.add_argument("--values", type=_assignment, action="append", metavar="KNOB=[V1,V2]",
                    help="narrow a knob's values (YAML list; repeatable)")
    ap.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    args = ap.parse_args(argv)
    kwargs: dict[str, Any] = {"workload": args.workload, "trace_length": args.trace_length,
                              "objective": args.objective,
                              "fixed": dict(args.fix) if args.fix else DEFAULT_KWARGS["fixed"]}
    if args.values:
        kwargs["values"] = dict(args.values)
    data = compute(kwargs, args.workers)
    data["name"] = args.name
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = path_for(args.name)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(out)  # whole or not at all
    opt = data["optimum"]
    print(json.dumps({"written": str(out.relative_to(ROOT)), "count": data["count"],
                      "optimum_reward": opt["reward"], "optimum_config": opt["config"],
                      "within_1pct": data["within_1pct"],
                      "seconds": data["produced"]["seconds"]}, indent=1))
    if not math.isfinite(opt["reward"]):
        sys.exit("the optimum's reward is not finite")


if __name__ == "__main__":
    main()
