"""A static schedule, and the incremental list-schedule builder every list heuristic uses.

The builder holds the partial schedule: per processor a sorted list of busy intervals (so
insertion into idle gaps is a binary search plus a short scan), each task's processor and
times, and the set of ready tasks (all predecessors placed). Heuristics ask it for earliest
start/finish times (EST/EFT) and ``place`` tasks one by one; a reinforcement-learning
environment drives the same object step by step.

- *Insertion-based* EST (the default, as in HEFT): the earliest time ``t >= DRT`` such that
  ``[t, t + exec)`` fits in an idle gap of the processor, searched from time 0.
- *Appended* EST: ``max(DRT, finish of the processor's last task)``.
- ``DRT(i, p)``, the data-ready time, is the max over predecessors ``j`` of
  ``finish(j) + (comm(j, i) if proc(j) != p else 0)``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Any

from simulators.soc.errors import SocInputError
from simulators.soc.graph import Number, TaskGraph


@dataclass(frozen=True)
class Schedule:
    """One processor and start/finish time per task (index order), and the makespan."""

    scheduler: str
    proc: tuple[int, ...]
    start: tuple[Number, ...]
    finish: tuple[Number, ...]
    makespan: Number
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``makespan``, ``scheduler``, ``schedule`` ([proc, start, finish] per task)."""
        out = {"scheduler": self.scheduler, "makespan": self.makespan,
               "schedule": [[p, s, f] for p, s, f in zip(self.proc, self.start, self.finish,
                                                          strict=True)]}
        out.update(self.extra)
        return out


class ScheduleBuilder:
    """Build a list schedule task by task.

    Parameters
    ----------
    graph:
        The task graph.
    insertion:
        Default EST policy: insertion into idle gaps (True) or appended (False).
    """

    def __init__(self, graph: TaskGraph, insertion: bool = True) -> None:
        self.graph = graph
        self.insertion = insertion
        n, P = graph.num_tasks, graph.num_procs
        self.proc: list[int | None] = [None] * n
        self.start: list[Number | None] = [None] * n
        self.finish: list[Number | None] = [None] * n
        self._starts: list[list[Number]] = [[] for _ in range(P)]
        self._finishes: list[list[Number]] = [[] for _ in range(P)]
        self._missing = [len(p) for p in graph.pred]
        self._ready = {i for i in range(n) if self._missing[i] == 0}
        self.num_placed = 0

    # ---------------------------------------------------------------- state
    @property
    def done(self) -> bool:
        return self.num_placed == self.graph.num_tasks

    @property
    def ready(self) -> list[int]:
        """Ready tasks (every predecessor placed, not yet placed), ascending index."""
        return sorted(self._ready)

    def is_ready(self, task: int) -> bool:
        return task in self._ready

    @property
    def makespan(self) -> Number:
        """Latest finish so far (0 before the first placement)."""
        return max((f[-1] for f in self._finishes if f), default=0)

    def proc_available(self, p: int) -> Number:
        """Finish time of processor ``p``'s last task (0 when idle so far)."""
        f = self._finishes[p]
        return f[-1] if f else 0

    # ---------------------------------------------------------------- times
    def data_ready_times(self, task: int) -> list[Number]:
        """``DRT(task, p)`` for every processor (all predecessors must be placed)."""
        P = self.graph.num_procs
        same = [0] * P  # latest finish of a predecessor on p (no comm needed there)
        cross = {}  # per predecessor processor: latest finish + comm
        for j, c in self.graph.pred[task]:
            q = self.proc[j]
            if q is None:
                raise SocInputError(f"task {task} is not ready: predecessor {j} is not placed")
            f = self.finish[j]
            if f > same[q]:
                same[q] = f
            v = f + c
            if v > cross.get(q, -1):
                cross[q] = v
        # for processor p, data from predecessors on q != p arrives at cross[q]
        top = sorted(cross.items(), key=lambda kv: kv[1], reverse=True)[:2]
        out = []
        for p in range(P):
            other = next((v for q, v in top if q != p), 0)
            out.append(same[p] if same[p] > other else other)
        return out

    def exec_time(self, task: int, p: int) -> Number | None:
        return self.graph.exec_time[task][p]

    def est(self, task: int, p: int, insertion: bool | None = None,
            drt: Number | None = None) -> Number | None:
        """Earliest start of ``task`` on ``p`` (None if ``p`` cannot run it)."""
        d = self.graph.exec_time[task][p]
        if d is None:
            return None
        r = self.data_ready_times(task)[p] if drt is None else drt
        if not (self.insertion if insertion is None else insertion):
            avail = self.proc_available(p)
            return r if r > avail else avail
        starts, finishes = self._starts[p], self._finishes[p]
        k = bisect_right(finishes, r)
        s = r
        for idx in range(k, len(starts)):
            if s + d <= starts[idx]:
                return s
            if finishes[idx] > s:
                s = finishes[idx]
        return s

    def est_eft(self, task: int, insertion: bool | None = None
                ) -> list[tuple[Number, Number] | None]:
        """``(EST, EFT)`` of ``task`` on every processor (None where it cannot run)."""
        drt = self.data_ready_times(task)
        row = self.graph.exec_time[task]
        out: list[tuple[Number, Number] | None] = []
        for p in range(self.graph.num_procs):
            if row[p] is None:
                out.append(None)
            else:
                s = self.est(task, p, insertion, drt[p])
                out.append((s, s + row[p]))
        return out

    def best_eft(self, task: int, insertion: bool | None = None) -> tuple[int, Number, Number]:
        """``(p, EST, EFT)`` minimising EFT, lowest processor index on ties."""
        best = None
        for p, t in enumerate(self.est_eft(task, insertion)):
            if t is not None and (best is None or t[1] < best[2]):
                best = (p, t[0], t[1])
        return best

    # ---------------------------------------------------------------- placing
    def place(self, task: int, p: int, start: Number | None = None,
              insertion: bool | None = None) -> tuple[Number, Number]:
        """Put ``task`` on ``p`` at ``start`` (default: its EST there); returns (start, finish)."""
        if task not in self._ready:
            state = "already placed" if self.proc[task] is not None else "not ready"
            raise SocInputError(f"cannot place task {task}: {state}")
        d = self.graph.exec_time[task][p]
        if d is None:
            raise SocInputError(f"task {task} ({self.graph.tasks[task]!r}) cannot run on "
                                f"processor {p} ({self.graph.processors[p]!r})")
        if start is None:
            start = self.est(task, p, insertion)
        fin = start + d
        starts, finishes = self._starts[p], self._finishes[p]
        # a zero-length task goes before intervals starting at the same time: finishes stay sorted
        k = (bisect_left if d == 0 else bisect_right)(starts, start)
        if (k > 0 and finishes[k - 1] > start) or (k < len(starts) and starts[k] < fin):
            raise SocInputError(f"task {task} at [{start}, {fin}) overlaps processor {p}'s "
                                "schedule")
        starts.insert(k, start)
        finishes.insert(k, fin)
        self.proc[task], self.start[task], self.finish[task] = p, start, fin
        self._ready.discard(task)
        self.num_placed += 1
        for j, _ in self.graph.succ[task]:
            self._missing[j] -= 1
            if self._missing[j] == 0:
                self._ready.add(j)
        return start, fin

    def result(self, scheduler: str, **extra: Any) -> Schedule:
        if not self.done:
            raise SocInputError(f"schedule incomplete: {self.graph.num_tasks - self.num_placed} "
                                "tasks not placed")
        return Schedule(scheduler=scheduler, proc=tuple(self.proc), start=tuple(self.start),
                        finish=tuple(self.finish), makespan=self.makespan, extra=extra)
