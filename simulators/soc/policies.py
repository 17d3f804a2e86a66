"""Scheduler plug-ins for the dynamic simulator (called at every decision point).

Each is written as a *chooser*, ``choose(sim) -> (task uid, PE)``: one decision over the
current ready tasks (:data:`DYNAMIC_CHOOSERS`; a step-by-step environment asks it once per
step), and its scheduler maps every ready task by repeated choices with
:meth:`DynamicSim.decide` (:data:`DYNAMIC_SCHEDULERS`). They read the simulator's
estimates, which account for the work already queued on each PE:

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

from collections.abc import Callable, Sequence

from simulators.soc.dynamic import DynamicSim, Scheduler, Task
from simulators.soc.errors import SocInputError
from simulators.soc.ranks import mean_oct, optimistic_cost_table

Decision = tuple[int, int]  # (task uid, PE)
#: ``choose(sim, among=None)``: the next decision, over the ready tasks ``among`` (all if None)
Chooser = Callable[..., Decision]


def _first(tasks: Sequence[Task]) -> Task:
    """The :meth:`DynamicSim.next_task` order: earliest ready, lower job, lower index."""
    return min(tasks, key=lambda t: (t.ready_at, t.job, t.index))


def _min_eft(sim: DynamicSim, t: Task, bonus: Callable[[int], float] | None = None) -> int:
    best = None
    for p, se in enumerate(sim.est_eft(t)):
        if se is None:
            continue
        key = se[1] + (bonus(p) if bonus else 0.0)
        if best is None or key < best[0]:
            best = (key, p)
    return best[1]


def met_choice(sim: DynamicSim, among: Sequence[Task] | None = None) -> Decision:
    t = _first(among or sim.ready)
    allowed = sim.allowed_pes(t)
    best = min(sim.exec_time(t, p) for p in allowed)
    ties = [p for p in allowed if sim.exec_time(t, p) == best]
    return t.uid, min(ties, key=lambda p: (sim.pe_available_at(p), p))


def mct_choice(sim: DynamicSim, among: Sequence[Task] | None = None) -> Decision:
    t = _first(among or sim.ready)
    return t.uid, _min_eft(sim, t)


def etf_choice(sim: DynamicSim, among: Sequence[Task] | None = None) -> Decision:
    key = min((se[1], se[0], -sim.upward_rank(t), t.job, t.index, p, t.uid)
              for t in among or sim.ready for p, se in enumerate(sim.est_eft(t)) if se is not None)
    return key[6], key[5]


def heft_choice(sim: DynamicSim, among: Sequence[Task] | None = None) -> Decision:
    t = min(among or sim.ready, key=lambda t: (-sim.upward_rank(t), t.job, t.index))
    return t.uid, _min_eft(sim, t)


class PeftChoice:
    """PEFT at run time; the optimistic cost table is computed once per application."""

    def __init__(self) -> None:
        self.tables: dict[int, tuple[list, list]] = {}

    def _table(self, sim: DynamicSim, app: int) -> tuple[list, list]:
        if app not in self.tables:
            g = sim._graphs[app]
            oct_ = optimistic_cost_table(g)
            self.tables[app] = (oct_, [float(x) for x in mean_oct(g, oct_)])
        return self.tables[app]

    def __call__(self, sim: DynamicSim, among: Sequence[Task] | None = None) -> Decision:
        col = {p: k for k, p in enumerate(sim.compute_pes)}
        t = min(among or sim.ready, key=lambda t: (-self._table(sim, t.app)[1][t.index], t.job,
                                           t.index))
        oct_row = self.tables[t.app][0][t.index]
        return t.uid, _min_eft(sim, t, lambda p: float(oct_row[col[p]]))


def repeatedly(choose: Chooser) -> Scheduler:
    """A scheduler that maps every ready task, one ``choose(sim)`` decision at a time."""
    def scheduler(sim: DynamicSim) -> None:
        while sim.ready:
            uid, pe = choose(sim)
            sim.decide(pe, uid)
    return scheduler


#: name -> factory of a fresh one-decision chooser (some keep per-run tables); an
#: environment asks one for each step, the schedulers below loop over them
DYNAMIC_CHOOSERS: dict[str, Callable[[], Chooser]] = {
    "met": lambda: met_choice, "mct": lambda: mct_choice, "etf": lambda: etf_choice,
    "heft": lambda: heft_choice, "peft": PeftChoice,
}


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
    name: (lambda f=factory: repeatedly(f())) for name, factory in DYNAMIC_CHOOSERS.items()
}


def make_scheduler(name: str) -> Scheduler:
    key = name.strip().lower()
    if key not in DYNAMIC_SCHEDULERS:
        raise SocInputError(f"unknown dynamic scheduler {name!r}; choose one of: "
                            f"{', '.join(DYNAMIC_SCHEDULERS)}")
    return DYNAMIC_SCHEDULERS[key]()
