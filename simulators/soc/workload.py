"""Job streams for the dynamic simulator: a mix of applications and their arrival times.

- Poisson arrivals: exponential gaps of mean ``1000 / rate`` us (``rate`` in jobs per ms,
  the unit of the DS3 paper's figures), each job's application drawn from the mix's
  probabilities; one ``numpy`` Generator seeded with ``seed`` draws both, gaps first.
- Trace arrivals: explicit ``(time_us, app_name)`` pairs (non-decreasing times).

``app_to_graph`` turns an application on a SoC into a static :class:`TaskGraph` (one
processor per compute PE; an edge costs ``latency + volume / B`` across PEs, ``B`` the
average bandwidth between distinct compute PEs, Topcuoglu et al.'s mean communication
cost), which is what the static schedulers, the dynamic heuristics' ranks and a static
scheduling environment use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulators.soc.apps import App
from simulators.soc.errors import SocInputError
from simulators.soc.graph import TaskGraph
from simulators.soc.platform import Platform


@dataclass(frozen=True)
class Workload:
    """Applications and the probability of each for a new job."""

    name: str
    apps: tuple[App, ...]
    probabilities: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.apps:
            raise SocInputError(f"workload {self.name!r}: no application")
        if len(self.probabilities) != len(self.apps):
            raise SocInputError(f"workload {self.name!r}: {len(self.probabilities)} "
                                f"probabilities for {len(self.apps)} applications")
        if any(p < 0 for p in self.probabilities) or abs(sum(self.probabilities) - 1) > 1e-9:
            raise SocInputError(f"workload {self.name!r}: probabilities must be >= 0 and sum "
                                "to 1")

    def check_runs_on(self, platform: Platform) -> None:
        """Every task's function must be supported by some PE of ``platform``."""
        have = platform.functions
        for app in self.apps:
            missing = sorted(set(app.functions) - have)
            if missing:
                raise SocInputError(f"application {app.name!r}: no PE of SoC {platform.name!r} "
                                    f"runs {', '.join(missing[:5])}"
                                    f"{' ...' if len(missing) > 5 else ''}")


@dataclass(frozen=True)
class Arrival:
    time_us: float
    app: int


def poisson_arrivals(workload: Workload, jobs: int, rate_per_ms: float,
                     seed: int = 0) -> list[Arrival]:
    """``jobs`` arrivals of a Poisson process of ``rate_per_ms`` jobs per ms, the first at 0."""
    if not isinstance(jobs, int) or jobs < 1:
        raise SocInputError(f"jobs: {jobs!r}; expected an integer >= 1")
    if not rate_per_ms > 0:
        raise SocInputError(f"rate: {rate_per_ms!r}; expected a positive rate in jobs per ms")
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1000.0 / rate_per_ms, size=jobs - 1)
    times = np.concatenate([[0.0], np.cumsum(gaps)])
    apps = rng.choice(len(workload.apps), size=jobs, p=np.asarray(workload.probabilities))
    return [Arrival(float(t), int(a)) for t, a in zip(times, apps, strict=True)]


def trace_arrivals(workload: Workload, trace: Sequence[tuple[float, str]]) -> list[Arrival]:
    """Arrivals from ``(time_us, app_name)`` pairs."""
    index = {a.name: k for k, a in enumerate(workload.apps)}
    out, last = [], 0.0
    for k, (t, name) in enumerate(trace):
        if name not in index:
            raise SocInputError(f"trace[{k}]: unknown application {name!r}; workload has "
                                f"{', '.join(index)}")
        if not t >= last:
            raise SocInputError(f"trace[{k}]: time {t!r} is before the previous arrival {last}")
        out.append(Arrival(float(t), index[name]))
        last = t
    if not out:
        raise SocInputError("trace: no arrival")
    return out


def app_to_graph(app: App, platform: Platform) -> TaskGraph:
    """``app`` on ``platform`` as a static task graph (processors = compute PEs)."""
    pes = [(k, platform.pe_types[k]) for k in platform.pe_type_of]
    compute = [(i, t) for i, (_, t) in enumerate(pes) if not t.is_memory]
    ic = platform.interconnect
    exec_time = [[t.exec_time(f) for _, t in compute] for f in app.functions]
    for i, row in enumerate(exec_time):
        if all(x is None for x in row):
            raise SocInputError(f"application {app.name!r}: no PE of SoC {platform.name!r} runs "
                                f"task {i} ({app.functions[i]!r})")
    idx = [i for i, _ in compute]
    bw = platform.bandwidth_matrix()
    links = [bw[i][j] for i in idx for j in idx if i != j]
    mean_bw = sum(links) / len(links) if links else ic.bandwidth
    edges = [(s, d, (ic.latency_us + v / mean_bw) if v else 0.0) for s, d, v in app.edges]
    return TaskGraph(tasks=[f"{i}:{f}" for i, f in enumerate(app.functions)],
                     processors=[f"{t.name}_{i}" for i, t in compute], exec_time=exec_time,
                     edges=edges, name=f"{app.name}@{platform.name}",
                     description=f"application {app.name} on SoC {platform.name}")
