"""An independent validity checker for static schedules.

It shares no code with the schedulers or :class:`ScheduleBuilder`: it reads the graph's raw
fields and checks, from scratch,

- each task exactly once, on a processor that exists and can run it, with
  ``finish - start == exec_time[task][proc]`` and ``start >= 0``;
- precedence with communication: ``start[dst] >= finish[src] + comm`` when the two tasks
  run on different processors, ``>= finish[src]`` on the same one;
- processor exclusivity: the intervals on one processor do not overlap (a zero-length task
  occupies no processor time, so it conflicts with nothing);
- the makespan equals the latest finish.

Integer times are compared exactly; when a float is involved, a relative tolerance of 1e-9
absorbs rounding (``finish - start`` of a float schedule need not equal ``exec`` bit for bit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Real

from simulators.soc.graph import TaskGraph


def _lt(a: Real, b: Real) -> bool:
    """``a < b`` exactly for integers, beyond a 1e-9 relative tolerance for floats."""
    if isinstance(a, int) and isinstance(b, int):
        return a < b
    return a < b - 1e-9 * max(1.0, abs(b))


def _ne(a: Real, b: Real) -> bool:
    return _lt(a, b) or _lt(b, a)


@dataclass(frozen=True)
class CheckResult:
    valid: bool
    violations: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.valid


def check_schedule(graph: TaskGraph, proc: Sequence[int], start: Sequence[Real],
                   finish: Sequence[Real], makespan: Real | None = None,
                   max_violations: int = 20) -> CheckResult:
    """Check a schedule given as per-task processor, start and finish (index order)."""
    bad: list[str] = []
    n, P = len(graph.tasks), len(graph.processors)
    if not (len(proc) == len(start) == len(finish) == n):
        return CheckResult(False, [f"expected {n} entries per field, got proc={len(proc)}, "
                                   f"start={len(start)}, finish={len(finish)}"])
    for t in range(n):
        p = proc[t]
        if not isinstance(p, int) or isinstance(p, bool) or not 0 <= p < P:
            bad.append(f"task {t}: processor {p!r} is not one of 0..{P - 1}")
            continue
        d = graph.exec_time[t][p]
        if d is None:
            bad.append(f"task {t}: processor {p} cannot run it")
        elif _ne(finish[t] - start[t], d):
            bad.append(f"task {t}: finish - start = {finish[t] - start[t]} != exec_time {d}")
        if start[t] < 0:
            bad.append(f"task {t}: negative start {start[t]}")
    if bad:
        return CheckResult(False, bad[:max_violations])
    for s, d, c in graph.edges:
        need = finish[s] + (c if proc[s] != proc[d] else 0)
        if _lt(start[d], need):
            bad.append(f"edge {s}->{d}: task {d} starts at {start[d]} before its data is ready "
                       f"at {need}")
    by_proc: dict[int, list[tuple[Real, Real, int]]] = {}
    for t in range(n):
        if finish[t] > start[t]:
            by_proc.setdefault(proc[t], []).append((start[t], finish[t], t))
    for p, items in by_proc.items():
        items.sort()
        for (_s0, f0, t0), (s1, _, t1) in zip(items, items[1:], strict=False):
            if _lt(s1, f0):
                bad.append(f"processor {p}: task {t1} starts at {s1} before task {t0} finishes "
                           f"at {f0}")
    latest = max(finish)
    if makespan is not None and _ne(makespan, latest):
        bad.append(f"makespan {makespan} != latest finish {latest}")
    return CheckResult(not bad, bad[:max_violations])
