"""SoC design points (FARSI-style design-space exploration): a PE mix, DVFS points and link
bandwidth applied to a base SoC, run on a job stream; and bounds no design can pass.

A design is ``counts`` (PEs per type), ``freqs_mhz`` (the DVFS operating point of a type,
by frequency), ``bandwidth`` (bytes/us of every interconnect link; the SoC's per-pair
bandwidths are all replaced by it, so the interconnect is uniform) and a dynamic scheduler
(:mod:`simulators.soc.policies`). :func:`evaluate_design` runs the exact dynamic simulator
(:mod:`simulators.soc.dynamic`) and returns its figures.

Bounds (:func:`latency_floor_us`, :func:`energy_floor_uj`, :func:`area_floor_mm2`) hold for
every design whose counts, points and bandwidth come from the given value sets: they are
what the ``target:`` objectives aim at when no target is given, so that an unreachable
target never hides progress (the idea of ArchGym's targets, Krishnan et al., ISCA 2023,
made physical):

- latency: each job's critical path with every task on the fastest type that may exist at
  its fastest point and free communication, averaged over the stream's jobs (and its 95th
  percentile for the p95 latency);
- energy per job: each task at its least dynamic energy (``P(f, V) t(f)`` over the types
  that may exist and their allowed points), leakage left out; total over jobs / jobs;
- area: the smallest PE mix that runs every function of the workload.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from simulators.soc.dynamic import simulate
from simulators.soc.errors import SocInputError
from simulators.soc.platform import PEType, Platform
from simulators.soc.workload import Arrival, Workload


def apply_design(base: Platform, counts: Mapping[str, int], freqs_mhz: Mapping[str, int],
                 bandwidth: float | None) -> Platform:
    """``base`` with other PE counts, DVFS points (by frequency) and link bandwidth."""
    opps = {}
    for name, f in freqs_mhz.items():
        t = _type(base, name)
        points = [p[0] for p in t.opps]
        if f not in points:
            raise SocInputError(f"frequency of {name}: {f!r} MHz is not an operating point; "
                                f"points: {', '.join(map(str, points)) or 'none (no DVFS)'}")
        opps[name] = points.index(f)
    return base.with_design(counts=dict(counts), opps=opps, bandwidth=bandwidth)


def evaluate_design(base: Platform, workload: Workload, arrivals: list[Arrival],
                    counts: Mapping[str, int], freqs_mhz: Mapping[str, int],
                    bandwidth: float | None, scheduler: str) -> dict[str, float]:
    """Run the stream on the design; the dynamic simulator's figures (us, uJ, mm^2)."""
    soc = apply_design(base, counts, freqs_mhz, bandwidth)
    workload.check_runs_on(soc)
    r = simulate(soc, workload, arrivals, scheduler)
    if r.area_mm2 is None:
        raise SocInputError(f"SoC {base.name!r}: a PE type has no area_mm2")
    return {"mean_job_latency_us": r.mean_job_latency_us,
            "p95_job_latency_us": r.p95_job_latency_us,
            "makespan_us": r.makespan_us,
            "throughput_jobs_per_ms": r.throughput_jobs_per_ms,
            "energy_uj": r.energy_uj,
            "energy_per_job_uj": r.energy_per_job_uj,
            "edp_uj_us": r.edp_uj_us,
            "area_mm2": r.area_mm2,
            "mean_pe_utilisation": r.mean_pe_utilisation}


def _type(base: Platform, name: str) -> PEType:
    for t in base.pe_types:
        if t.name == name:
            return t
    raise SocInputError(f"unknown PE type {name!r}; types: "
                        f"{', '.join(t.name for t in base.pe_types)}")


def _present(base: Platform, count_values: Mapping[str, Sequence[int]]) -> list[PEType]:
    """Compute PE types that some design has (a positive count allowed)."""
    return [t for t in base.pe_types if not t.is_memory
            and max(count_values.get(t.name, (t.count,))) > 0]


def _points(t: PEType, freq_values: Mapping[str, Sequence[int]]) -> list[int]:
    """Indices of the type's allowed operating points (one pseudo-point without DVFS)."""
    if not t.opps:
        return [-1]
    allowed = freq_values.get(t.name, (t.opps[t.opp][0],))
    return [k for k, (f, _) in enumerate(t.opps) if f in allowed]


def critical_paths_us(base: Platform, workload: Workload, arrivals: list[Arrival],
                      count_values: Mapping[str, Sequence[int]],
                      freq_values: Mapping[str, Sequence[int]]) -> list[float]:
    """Per job of the stream, its critical path at the fastest possible times (a lower
    bound of its latency on every design of the value sets)."""
    types = _present(base, count_values)
    paths = []
    for app in workload.apps:
        best = []
        for f in app.functions:
            times = [t.exec_us[f] * t.opps[-1][0] / t.opps[max(_points(t, freq_values))][0]
                     if t.opps else t.exec_us[f] for t in types if f in t.exec_us]
            if not times:
                raise SocInputError(f"application {app.name!r}: no PE type runs {f!r}")
            best.append(min(times))
        finish = [0.0] * app.num_tasks
        for i in app.topo_order:
            finish[i] = max((finish[j] for j, _ in app.pred[i]), default=0.0) + best[i]
        paths.append(max(finish))
    return [paths[a.app] for a in arrivals]


def latency_floor_us(paths: Sequence[float]) -> float:
    """Mean job latency bound: the mean of the jobs' critical paths."""
    return sum(paths) / len(paths)


def p95_floor_us(paths: Sequence[float]) -> float:
    """95th-percentile bound (nearest rank, as the simulator's): each job's latency is at
    least its critical path, so each order statistic is at least theirs."""
    srt = sorted(paths)
    return srt[max(1, math.ceil(0.95 * len(srt))) - 1]


def energy_floor_uj(base: Platform, workload: Workload, arrivals: list[Arrival],
                    count_values: Mapping[str, Sequence[int]],
                    freq_values: Mapping[str, Sequence[int]]) -> float:
    """Least dynamic energy per job of the stream (leakage and transfers are free)."""
    types = _present(base, count_values)
    per_app = []
    for app in workload.apps:
        total = 0.0
        for f in app.functions:
            total += min(_task_energy(t, k, f) for t in types if f in t.exec_us
                         for k in _points(t, freq_values))
        per_app.append(total)
    return sum(per_app[a.app] for a in arrivals) / len(arrivals)


def _task_energy(t: PEType, k: int, func: str) -> float:
    at = replace(t, opp=k) if t.opps else t
    return at.busy_power_w * at.exec_time(func)


def area_floor_mm2(base: Platform, workload: Workload,
                   count_values: Mapping[str, Sequence[int]]) -> float:
    """Smallest area of a PE mix (counts from their value sets) that runs every function."""
    types = [t for t in base.pe_types if not t.is_memory]
    needed = {f for app in workload.apps for f in app.functions}
    best = None
    for chosen in itertools.product((False, True), repeat=len(types)):
        area, runs, ok = 0.0, set(), True
        for t, on in zip(types, chosen, strict=True):
            values = count_values.get(t.name, (t.count,))
            positive = [c for c in values if c > 0]
            if on and not positive or not on and 0 not in values:
                ok = False
                break
            if on:
                area += min(positive) * (t.area_mm2 or 0.0)
                runs |= set(t.exec_us)
        if ok and needed <= runs and (best is None or area < best):
            best = area
    if best is None:
        raise SocInputError(f"no PE mix of the allowed counts runs every function of "
                            f"workload {workload.name!r}")
    return best
