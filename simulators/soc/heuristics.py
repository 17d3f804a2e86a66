"""Static list schedulers for heterogeneous task graphs, with the published definitions.

Every scheduler takes a :class:`TaskGraph` and returns a :class:`Schedule`; all of them
build it with :class:`ScheduleBuilder`. Ranks are exact (see :mod:`simulators.soc.ranks`).
EST/EFT are insertion-based (earliest idle gap that fits, searched from time 0) unless
"appended" (after the processor's last task) is said.

- **HEFT** (Topcuoglu, Hariri and Wu, IEEE TPDS 13(3):260-274, 2002): tasks by decreasing
  ``rank_u``; each to the processor with minimum insertion-based EFT. **HEFT-NOINS**: the
  same with appended EFT.
- **CPOP** (same paper): priority ``rank_u + rank_d``; critical-path (CP) tasks are those whose
  priority equals the entry task's (the largest entry priority if there are several); the CP
  processor minimises the CP tasks' summed execution time; the ready list is served by
  decreasing priority; CP tasks go to the CP processor, the others to their minimum-EFT one.
- **PEFT** (Arabnejad and Barbosa, IEEE TPDS 25(3):682-694, 2014): optimistic cost table
  ``OCT``; ready list by decreasing ``rank_oct`` (mean OCT); each task to the processor
  minimising ``EFT + OCT``.
- **MET**: tasks in topological order (the lowest-index ready task first), each appended on
  its minimum-execution-time processor. **MCT**: same order, each to the processor with the
  minimum appended completion time (Braun et al., JPDC 61(6), 2001).
- **Min-Min / Max-Min** (Braun et al. 2001; Ibarra and Kim 1977): appended; after every
  placement, each ready task's minimum completion time over processors; the task with the
  smallest (Min-Min) / largest (Max-Min) one is placed on its minimising processor.
- **ETF** (Hwang, Chow, Anger and Lee, SIAM J. Comput. 18(2), 1989): over all
  (ready task, processor) pairs the appended EST; the pair with the smallest EST is placed.
- **RANDOM**: list scheduling in a given topological order (or a seeded random one), each
  task to its minimum insertion-based EFT processor.

Tie rules, so results are reproducible and comparable: between tasks the lower task index
first; between processors the lower processor index. ETF breaks EST ties by the smaller EFT,
then the larger ``rank_u``, then the index rules.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence

import numpy as np

from simulators.soc.errors import SocInputError
from simulators.soc.graph import Number, TaskGraph
from simulators.soc.ranks import (
    Rational,
    downward_rank,
    exact,
    mean_exec,
    mean_oct,
    optimistic_cost_table,
    upward_rank,
)
from simulators.soc.schedule import Schedule, ScheduleBuilder

ProcChooser = Callable[[ScheduleBuilder, int], tuple[int, Number]]


def _by_priority(graph: TaskGraph, priority: Sequence[Rational], choose: ProcChooser,
                 name: str, insertion: bool = True) -> Schedule:
    """Serve ready tasks by decreasing ``priority`` (lower index on ties); ``choose`` gives
    ``(processor, start)``. Equals the classic sorted-list form whenever priorities decrease
    along every edge, and stays valid when they do not (zero-cost tasks)."""
    b = ScheduleBuilder(graph, insertion=insertion)
    heap = [(-priority[i], i) for i in b.ready]
    heapq.heapify(heap)
    while heap:
        _, i = heapq.heappop(heap)
        p, s = choose(b, i)
        b.place(i, p, s)
        for j, _ in graph.succ[i]:
            if b.is_ready(j):
                heapq.heappush(heap, (-priority[j], j))
    return b.result(name)


def _min_eft(b: ScheduleBuilder, task: int) -> tuple[int, Number]:
    p, s, _ = b.best_eft(task)
    return p, s


def heft(graph: TaskGraph) -> Schedule:
    """HEFT: decreasing ``rank_u``, minimum insertion-based EFT."""
    return _by_priority(graph, upward_rank(graph), _min_eft, "heft", insertion=True)


def heft_noins(graph: TaskGraph) -> Schedule:
    """HEFT without insertion: decreasing ``rank_u``, minimum appended EFT."""
    return _by_priority(graph, upward_rank(graph), _min_eft, "heft_noins", insertion=False)


def critical_path(graph: TaskGraph) -> tuple[list[Rational], set[int], int]:
    """CPOP's priorities, its critical-path task set and the CP processor."""
    w = mean_exec(graph)
    ru, rd = upward_rank(graph, w), downward_rank(graph, w)
    prio = [a + b for a, b in zip(ru, rd, strict=True)]
    entries = [i for i in range(graph.num_tasks) if not graph.pred[i]]
    cp_len = max(prio[i] for i in entries)
    cp = {i for i in range(graph.num_tasks) if prio[i] == cp_len}
    best = None
    for p in range(graph.num_procs):
        times = [graph.exec_time[i][p] for i in cp]
        if any(t is None for t in times):
            continue
        total = sum(exact(t) for t in times)
        if best is None or total < best[0]:
            best = (total, p)
    if best is None:
        raise SocInputError(f"{graph.source}: CPOP: no processor can run every critical-path "
                            f"task {sorted(cp)}")
    return prio, cp, best[1]


def cpop(graph: TaskGraph) -> Schedule:
    """CPOP: priority ``rank_u + rank_d``; CP tasks on the CP processor."""
    prio, cp, cp_proc = critical_path(graph)

    def choose(b: ScheduleBuilder, i: int) -> tuple[int, Number]:
        if i in cp:
            return cp_proc, b.est(i, cp_proc)
        return _min_eft(b, i)

    return _by_priority(graph, prio, choose, "cpop")


def peft(graph: TaskGraph) -> Schedule:
    """PEFT: decreasing mean OCT; processor minimising ``EFT + OCT``."""
    oct_ = optimistic_cost_table(graph)

    def choose(b: ScheduleBuilder, i: int) -> tuple[int, Number]:
        best = None
        for p, t in enumerate(b.est_eft(i)):
            if t is None:
                continue
            o = exact(t[1]) + oct_[i][p]
            if best is None or o < best[0]:
                best = (o, p, t[0])
        return best[1], best[2]

    return _by_priority(graph, mean_oct(graph, oct_), choose, "peft")


def _in_topological_order(graph: TaskGraph, choose: ProcChooser, name: str) -> Schedule:
    b = ScheduleBuilder(graph, insertion=False)
    for i in graph.topo_order:
        b.place(i, *choose(b, i))
    return b.result(name)


def met(graph: TaskGraph) -> Schedule:
    """MET: topological order, each appended on its minimum-execution-time processor."""
    def choose(b: ScheduleBuilder, i: int) -> tuple[int, Number]:
        row = graph.exec_time[i]
        p = min(graph.allowed[i], key=lambda q: (exact(row[q]), q))
        return p, b.est(i, p)

    return _in_topological_order(graph, choose, "met")


def mct(graph: TaskGraph) -> Schedule:
    """MCT: topological order, each to its minimum appended completion time."""
    return _in_topological_order(graph, _min_eft, "mct")


def _batch(graph: TaskGraph, name: str,
           pick: Callable[[dict[int, list[tuple[Number, Number] | None]]], tuple[int, int]]
           ) -> Schedule:
    """Appended batch heuristics (Min-Min, Max-Min, ETF): after every placement, re-evaluate
    the ready tasks. Only the processor just used changes its availability, so each ready
    task's (EST, EFT) row is updated in that one column."""
    b = ScheduleBuilder(graph, insertion=False)
    drt: dict[int, list[Number]] = {}
    rows: dict[int, list[tuple[Number, Number] | None]] = {}
    for i in b.ready:
        drt[i] = b.data_ready_times(i)
        rows[i] = b.est_eft(i)
    while rows:
        i, p = pick(rows)
        s, _ = b.place(i, p, rows[i][p][0])
        del rows[i], drt[i]
        for j, r in rows.items():
            if r[p] is not None:
                st = b.est(j, p, drt=drt[j][p])
                r[p] = (st, st + graph.exec_time[j][p])
        for j, _ in graph.succ[i]:
            if b.is_ready(j):
                drt[j] = b.data_ready_times(j)
                rows[j] = b.est_eft(j)
    return b.result(name)


def _best_column(row: list[tuple[Number, Number] | None]) -> tuple[int, Number]:
    """Processor with the smallest completion time (lower index on ties) and that time."""
    p = min((q for q, t in enumerate(row) if t is not None), key=lambda q: (row[q][1], q))
    return p, row[p][1]


def minmin(graph: TaskGraph) -> Schedule:
    """Min-Min: the ready task with the smallest minimum completion time goes first."""
    def pick(rows):
        best = min((_best_column(r)[1], i) for i, r in rows.items())
        return best[1], _best_column(rows[best[1]])[0]

    return _batch(graph, "minmin", pick)


def maxmin(graph: TaskGraph) -> Schedule:
    """Max-Min: the ready task with the largest minimum completion time goes first."""
    def pick(rows):
        best = min((-exact(_best_column(r)[1]), i) for i, r in rows.items())
        return best[1], _best_column(rows[best[1]])[0]

    return _batch(graph, "maxmin", pick)


def etf(graph: TaskGraph) -> Schedule:
    """ETF: the (ready task, processor) pair with the smallest appended EST."""
    rank = upward_rank(graph)

    def pick(rows):
        key = min((t[0], t[1], -rank[i], i, p)
                  for i, r in rows.items() for p, t in enumerate(r) if t is not None)
        return key[3], key[4]

    return _batch(graph, "etf", pick)


def random_topological_order(graph: TaskGraph, seed: int = 0) -> list[int]:
    """A uniformly chosen ready task at every step (seeded ``numpy`` Generator)."""
    rng = np.random.default_rng(seed)
    missing = [len(p) for p in graph.pred]
    ready = sorted(i for i in range(graph.num_tasks) if missing[i] == 0)
    order = []
    while ready:
        i = ready.pop(int(rng.integers(len(ready))))
        order.append(i)
        for j, _ in graph.succ[i]:
            missing[j] -= 1
            if missing[j] == 0:
                ready.append(j)
        ready.sort()
    return order


def random_order(graph: TaskGraph, order: Sequence[int] | None = None,
                 seed: int = 0) -> Schedule:
    """List scheduling in ``order`` (a topological order; default: a seeded random one),
    each task to its minimum insertion-based EFT processor."""
    if order is None:
        order = random_topological_order(graph, seed)
    order = [int(i) for i in order]
    if sorted(order) != list(range(graph.num_tasks)):
        raise SocInputError(f"order: must list every task index 0..{graph.num_tasks - 1} "
                            "exactly once")
    b = ScheduleBuilder(graph, insertion=True)
    for k, i in enumerate(order):
        if not b.is_ready(i):
            raise SocInputError(f"order[{k}]: task {i} comes before one of its predecessors; "
                                "the order must be topological")
        b.place(i, *_min_eft(b, i))
    return b.result("random")
