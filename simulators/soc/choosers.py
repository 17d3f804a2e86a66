"""One decision at a time: the static list heuristics as *choosers* over a partial schedule.

A chooser answers ``choose(builder, among) -> (task, processor)``: the next placement the
heuristic makes given the :class:`~simulators.soc.schedule.ScheduleBuilder`'s partial
schedule, considering only the ready tasks ``among`` (default: all ready tasks). A
step-by-step environment asks one per step and places the answer with the builder at its
EST; placing every answer until the graph is done gives exactly the schedule of the
whole-graph function in :mod:`simulators.soc.heuristics` (the tests check it), which
stays the fast form (heaps, incremental rows) for large graphs. The definitions and tie
rules are the ones written there:

- ``heft``: the ready task of largest ``rank_u`` (lower index on ties), its minimum-EFT
  processor (lower index on ties);
- ``peft``: the ready task of largest ``rank_oct``, the processor minimising EFT + OCT;
- ``etf``: the (ready task, processor) pair of smallest EST, then smaller EFT, larger
  ``rank_u``, lower task and processor index;
- ``met``: the lowest-index ready task (the canonical topological order), its minimum-
  execution-time processor;
- ``mct``: the lowest-index ready task, its minimum-EFT processor.

EST/EFT follow the builder's setting: HEFT and PEFT are defined insertion-based, ETF, MET
and MCT appended, so a builder with ``insertion=False`` reproduces the last three.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from simulators.soc.graph import TaskGraph
from simulators.soc.ranks import exact, mean_oct, optimistic_cost_table, upward_rank
from simulators.soc.schedule import ScheduleBuilder

Placement = tuple[int, int]  # (task, processor)
StaticChooser = Callable[[ScheduleBuilder, Iterable[int] | None], Placement]


def _among(b: ScheduleBuilder, among: Iterable[int] | None) -> list[int]:
    return b.ready if among is None else list(among)


class Heft:
    def __init__(self, graph: TaskGraph) -> None:
        self.rank = upward_rank(graph)

    def __call__(self, b: ScheduleBuilder, among: Iterable[int] | None = None) -> Placement:
        i = min(_among(b, among), key=lambda i: (-self.rank[i], i))
        return i, b.best_eft(i)[0]


class Peft:
    def __init__(self, graph: TaskGraph) -> None:
        self.oct = optimistic_cost_table(graph)
        self.rank = mean_oct(graph, self.oct)

    def __call__(self, b: ScheduleBuilder, among: Iterable[int] | None = None) -> Placement:
        i = min(_among(b, among), key=lambda i: (-self.rank[i], i))
        best = None
        for p, t in enumerate(b.est_eft(i)):
            if t is not None:
                o = exact(t[1]) + self.oct[i][p]
                if best is None or o < best[0]:
                    best = (o, p)
        return i, best[1]


class Etf:
    def __init__(self, graph: TaskGraph) -> None:
        self.rank = upward_rank(graph)

    def __call__(self, b: ScheduleBuilder, among: Iterable[int] | None = None) -> Placement:
        key = min((t[0], t[1], -self.rank[i], i, p) for i in _among(b, among)
                  for p, t in enumerate(b.est_eft(i)) if t is not None)
        return key[3], key[4]


class Met:
    def __init__(self, graph: TaskGraph) -> None:
        self.graph = graph

    def __call__(self, b: ScheduleBuilder, among: Iterable[int] | None = None) -> Placement:
        i = min(_among(b, among))
        row = self.graph.exec_time[i]
        return i, min(self.graph.allowed[i], key=lambda q: (exact(row[q]), q))


class Mct:
    def __init__(self, graph: TaskGraph) -> None:
        pass

    def __call__(self, b: ScheduleBuilder, among: Iterable[int] | None = None) -> Placement:
        i = min(_among(b, among))
        return i, b.best_eft(i)[0]


#: name -> chooser class, built once per graph (``STATIC_CHOOSERS["heft"](graph)``)
STATIC_CHOOSERS: dict[str, Callable[[TaskGraph], StaticChooser]] = {
    "heft": Heft, "peft": Peft, "etf": Etf, "met": Met, "mct": Mct,
}


def run_chooser(graph: TaskGraph, name: str, insertion: bool = True):
    """The whole schedule a chooser builds (every ready task considered)."""
    b = ScheduleBuilder(graph, insertion=insertion)
    choose = STATIC_CHOOSERS[name](graph)
    while not b.done:
        b.place(*choose(b, None))
    return b.result(name)
