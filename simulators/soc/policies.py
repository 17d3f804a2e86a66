"""Scheduler plug-ins for the dynamic simulator (called at every decision point).

Each takes the :class:`DynamicSim` and maps ready tasks with :meth:`DynamicSim.decide` (tasks
it leaves stay ready until the next decision point); it reads the simulator's estimates,
which account for the work already queued on each PE:

- ``met``: each ready task (in :meth:`DynamicSim.next_task` order) to its minimum-execution-
  time PE (ties: the PE available first, then the lower index);
- ``mct``: each ready task, in the same order, to the PE with the earliest estimated finish;
- ``etf``: DS3's "earliest task first": repeatedly the (ready task, PE) pair with the
  earliest estimated finish (ties: the earlier start, the larger ``rank_u``, then job, task
  and PE order);
- ``heft``: ready tasks by decreasing upward rank, each to its earliest-finish PE (HEFT
  applied at run time to the ready tasks, like DS3's HEFT_RT);
- ``peft``: ready tasks by decreasing mean optimistic cost, each to the PE minimising the
  estimated finish plus the optimistic cost table entry (PEFT at run time);
- :func:`policy_scheduler` wraps a function ``fn(sim, task) -> pe`` (a learned policy).

Estimated start on a PE = max(PE's running and queued work done, inputs transferred if
sent now without contention); finish = start + execution time.
"""

from __future__ import annotations

from collections.abc import Callable

from simulators.soc.dynamic import DynamicSim, Scheduler, Task
from simulators.soc.errors import SocInputError
from simulators.soc.ranks import mean_oct, optimistic_cost_table


def _order(sim: DynamicSim) -> list[Task]:
    return sorted(sim.ready, key=lambda t: (t.ready_at, t.job, t.index))


def met(sim: DynamicSim) -> None:
    for t in _order(sim):
        allowed = sim.allowed_pes(t)
        best = min(sim.exec_time(t, p) for p in allowed)
        ties = [p for p in allowed if sim.exec_time(t, p) == best]
        sim.decide(min(ties, key=lambda p: (sim.pe_available_at(p), p)), t.uid)


def _min_eft(sim: DynamicSim, t: Task, bonus: Callable[[int], float] | None = None) -> int:
    best = None
    for p, se in enumerate(sim.est_eft(t)):
        if se is None:
            continue
        key = se[1] + (bonus(p) if bonus else 0.0)
        if best is None or key < best[0]:
            best = (key, p)
    return best[1]


def mct(sim: DynamicSim) -> None:
    for t in _order(sim):
        sim.decide(_min_eft(sim, t), t.uid)


def etf(sim: DynamicSim) -> None:
    while sim.ready:
        key = min((se[1], se[0], -sim.upward_rank(t), t.job, t.index, p, t.uid)
                  for t in sim.ready for p, se in enumerate(sim.est_eft(t)) if se is not None)
        sim.decide(key[5], key[6])


def heft(sim: DynamicSim) -> None:
    for t in sorted(sim.ready, key=lambda t: (-sim.upward_rank(t), t.job, t.index)):
        sim.decide(_min_eft(sim, t), t.uid)


class _Peft:
    """PEFT at run time; the optimistic cost table is computed once per application."""

    def __init__(self) -> None:
        self.tables: dict[int, tuple[list, list]] = {}

    def __call__(self, sim: DynamicSim) -> None:
        col = {p: k for k, p in enumerate(sim.compute_pes)}
        for app in {t.app for t in sim.ready}:
            if app not in self.tables:
                g = sim._graphs[app]
                oct_ = optimistic_cost_table(g)
                self.tables[app] = (oct_, [float(x) for x in mean_oct(g, oct_)])
        for t in sorted(sim.ready, key=lambda t: (-self.tables[t.app][1][t.index], t.job,
                                                   t.index)):
            oct_row = self.tables[t.app][0][t.index]
            sim.decide(_min_eft(sim, t, lambda p, r=oct_row: float(r[col[p]])), t.uid)


def policy_scheduler(fn: Callable[[DynamicSim, Task], int]) -> Scheduler:
    """A scheduler that asks ``fn(sim, task)`` for the PE of each ready task, in
    :meth:`DynamicSim.next_task` order (a learned policy's callback)."""
    def scheduler(sim: DynamicSim) -> None:
        while sim.ready:
            t = sim.next_task()
            sim.decide(int(fn(sim, t)), t.uid)
    return scheduler


#: name -> factory of a fresh scheduler (some keep per-run tables)
DYNAMIC_SCHEDULERS: dict[str, Callable[[], Scheduler]] = {
    "met": lambda: met, "mct": lambda: mct, "etf": lambda: etf, "heft": lambda: heft,
    "peft": _Peft,
}


def make_scheduler(name: str) -> Scheduler:
    key = name.strip().lower()
    if key not in DYNAMIC_SCHEDULERS:
        raise SocInputError(f"unknown dynamic scheduler {name!r}; choose one of: "
                            f"{', '.join(DYNAMIC_SCHEDULERS)}")
    return DYNAMIC_SCHEDULERS[key]()
