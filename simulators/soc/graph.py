"""Task graphs for static scheduling, and their JSON form (``schema: "archgym-soc-dag/1"``).

The model is Topcuoglu, Hariri and Wu (IEEE TPDS 13(3), 2002): ``n`` tasks, ``P``
processors, an execution-time table ``exec_time[task][proc]`` (unrelated machines), and
edges ``src -> dst`` whose ``comm`` cost is paid only when the two tasks run on different
processors (no link contention; transfers overlap computation). A ``null`` (``None``) entry
in ``exec_time`` marks a processor that cannot run the task (an accelerator that lacks the
function); every task needs at least one processor.

JSON form::

    {"schema": "archgym-soc-dag/1", "name": "...", "tasks": ["n1", ...],
     "processors": ["P1", ...], "exec_time": [[14, 16, 9], ...],
     "edges": [{"src": 0, "dst": 1, "comm": 18}, ...]}

Task indices are 0-based. Times are non-negative integers or floats; integer inputs give
integer schedules. Malformed input raises :class:`SocInputError` naming the file and field.
"""

from __future__ import annotations

import heapq
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulators.soc.errors import SocInputError
from simulators.soc.jsonfile import read_json, write_json

SCHEMA = "archgym-soc-dag/1"
Number = int | float


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _check_time(x: Any, where: str, source: str, allow_none: bool = False) -> None:
    if x is None and allow_none:
        return
    if not _is_number(x) or (isinstance(x, float) and not math.isfinite(x)):
        allowed = "a finite number >= 0" + (" or null (cannot run there)" if allow_none else "")
        raise SocInputError(f"{source}: {where}: {x!r} is not allowed; expected {allowed}")
    if x < 0:
        raise SocInputError(f"{source}: {where}: negative time {x!r}; times must be >= 0")


@dataclass(frozen=True, eq=False)
class TaskGraph:
    """An immutable task graph with its adjacency and a canonical topological order.

    ``succ[i]`` / ``pred[i]`` list ``(task, comm)`` pairs; ``topo_order`` is the
    topological order that takes the lowest-index ready task first; ``allowed[i]`` lists
    the processors that can run task ``i``.
    """

    tasks: tuple[str, ...]
    processors: tuple[str, ...]
    exec_time: tuple[tuple[Number | None, ...], ...]
    edges: tuple[tuple[int, int, Number], ...]
    name: str = ""
    description: str = ""
    source: str = field(default="<TaskGraph>", repr=False)
    succ: tuple[tuple[tuple[int, Number], ...], ...] = field(init=False, repr=False)
    pred: tuple[tuple[tuple[int, Number], ...], ...] = field(init=False, repr=False)
    allowed: tuple[tuple[int, ...], ...] = field(init=False, repr=False)
    topo_order: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "tasks", tuple(self.tasks))
        set_(self, "processors", tuple(self.processors))
        set_(self, "exec_time", tuple(tuple(row) for row in self.exec_time))
        set_(self, "edges", tuple((int(s), int(d), c) for s, d, c in self.edges))
        n, P, src = len(self.tasks), len(self.processors), self.source
        if n == 0:
            raise SocInputError(f"{src}: tasks: a graph needs at least one task")
        if P == 0:
            raise SocInputError(f"{src}: processors: a graph needs at least one processor")
        if len(self.exec_time) != n:
            raise SocInputError(f"{src}: exec_time: {len(self.exec_time)} rows for {n} tasks; "
                                f"expected one row per task ({n} x {P})")
        allowed = []
        for i, row in enumerate(self.exec_time):
            if len(row) != P:
                raise SocInputError(f"{src}: exec_time[{i}]: {len(row)} entries for {P} "
                                    f"processors; expected {P}")
            for p, x in enumerate(row):
                _check_time(x, f"exec_time[{i}][{p}]", src, allow_none=True)
            ok = tuple(p for p, x in enumerate(row) if x is not None)
            if not ok:
                raise SocInputError(f"{src}: exec_time[{i}]: task {self.tasks[i]!r} cannot run "
                                    "on any processor (all null)")
            allowed.append(ok)
        succ: list[list[tuple[int, Number]]] = [[] for _ in range(n)]
        pred: list[list[tuple[int, Number]]] = [[] for _ in range(n)]
        seen = set()
        for k, (s, d, c) in enumerate(self.edges):
            for key, v in (("src", s), ("dst", d)):
                if not 0 <= v < n:
                    raise SocInputError(f"{src}: edges[{k}].{key}: task index {v} out of range "
                                        f"0..{n - 1}")
            _check_time(c, f"edges[{k}].comm", src)
            if (s, d) in seen:
                raise SocInputError(f"{src}: edges[{k}]: duplicate edge {s} -> {d}")
            seen.add((s, d))
            succ[s].append((d, c))
            pred[d].append((s, c))
        set_(self, "succ", tuple(tuple(x) for x in succ))
        set_(self, "pred", tuple(tuple(x) for x in pred))
        set_(self, "allowed", tuple(allowed))
        set_(self, "topo_order", self._topological_order())

    def _topological_order(self) -> tuple[int, ...]:
        n = len(self.tasks)
        indeg = [len(p) for p in self.pred]
        heap = [i for i in range(n) if indeg[i] == 0]
        heapq.heapify(heap)
        order = []
        while heap:
            i = heapq.heappop(heap)
            order.append(i)
            for j, _ in self.succ[i]:
                indeg[j] -= 1
                if indeg[j] == 0:
                    heapq.heappush(heap, j)
        if len(order) < n:
            raise SocInputError(f"{self.source}: edges: cycle through tasks "
                                f"{' -> '.join(map(str, self._a_cycle(indeg)))}; "
                                "a task graph must be acyclic")
        return tuple(order)

    def _a_cycle(self, indeg: list[int]) -> list[int]:
        """One cycle among the tasks Kahn's algorithm could not release."""
        stuck = {i for i, d in enumerate(indeg) if d > 0}
        i = min(stuck)
        path: list[int] = []
        pos: dict[int, int] = {}
        while i not in pos:
            pos[i] = len(path)
            path.append(i)
            i = min(p for p, _ in self.pred[i] if p in stuck)
        cycle = path[pos[i]:][::-1]
        return cycle + [cycle[0]]

    # ---------------------------------------------------------------- properties
    @property
    def num_tasks(self) -> int:
        return len(self.tasks)

    @property
    def num_procs(self) -> int:
        return len(self.processors)

    @property
    def is_integral(self) -> bool:
        """True when every time is an integer (then every schedule is integral too)."""
        return all(isinstance(x, int) for row in self.exec_time for x in row if x is not None) \
            and all(isinstance(c, int) for _, _, c in self.edges)

    def comm(self, src: int, dst: int) -> Number:
        """The edge's cost (paid only across processors); KeyError if no such edge."""
        for d, c in self.succ[src]:
            if d == dst:
                return c
        raise KeyError(f"no edge {src} -> {dst}")

    # ---------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": SCHEMA}
        if self.name:
            out["name"] = self.name
        if self.description:
            out["description"] = self.description
        out["tasks"] = list(self.tasks)
        out["processors"] = list(self.processors)
        out["exec_time"] = [list(r) for r in self.exec_time]
        out["edges"] = [{"src": s, "dst": d, "comm": c} for s, d, c in self.edges]
        return out

    @classmethod
    def from_dict(cls, data: Any, source: str = "<dict>") -> TaskGraph:
        """Build from the JSON form, naming ``source`` and the field in every error."""
        if not isinstance(data, dict):
            raise SocInputError(f"{source}: expected a JSON object with schema {SCHEMA!r}")
        schema = data.get("schema")
        if schema != SCHEMA:
            raise SocInputError(f"{source}: schema: {schema!r}; expected {SCHEMA!r}")
        for key in ("tasks", "processors", "exec_time", "edges"):
            if key not in data:
                raise SocInputError(f"{source}: {key}: missing (required: tasks, processors, "
                                    "exec_time, edges)")
            if not isinstance(data[key], list):
                raise SocInputError(f"{source}: {key}: expected a list, got "
                                    f"{type(data[key]).__name__}")
        for key in ("tasks", "processors"):
            names = data[key]
            for k, v in enumerate(names):
                if not isinstance(v, str):
                    raise SocInputError(f"{source}: {key}[{k}]: {v!r} is not a string name")
            if len(set(names)) != len(names):
                dup = next(v for v in names if names.count(v) > 1)
                raise SocInputError(f"{source}: {key}: duplicate name {dup!r}")
        for i, row in enumerate(data["exec_time"]):
            if not isinstance(row, list):
                raise SocInputError(f"{source}: exec_time[{i}]: expected a list of "
                                    f"{len(data['processors'])} times")
        edges = []
        for k, e in enumerate(data["edges"]):
            if not isinstance(e, dict):
                raise SocInputError(f"{source}: edges[{k}]: expected an object "
                                    '{"src", "dst", "comm"}')
            for key in ("src", "dst", "comm"):
                if key not in e:
                    raise SocInputError(f"{source}: edges[{k}].{key}: missing")
            for key in ("src", "dst"):
                if not isinstance(e[key], int) or isinstance(e[key], bool):
                    raise SocInputError(f"{source}: edges[{k}].{key}: {e[key]!r} is not a task "
                                        "index (0-based integer)")
            edges.append((e["src"], e["dst"], e["comm"]))
        return cls(tasks=data["tasks"], processors=data["processors"],
                   exec_time=data["exec_time"], edges=edges, name=str(data.get("name", "")),
                   description=str(data.get("description", "")), source=source)


def read_graph(path: str | os.PathLike) -> TaskGraph:
    """Read a task graph JSON file; errors name the file and the field."""
    graph = TaskGraph.from_dict(read_json(path, "task graph"), source=str(path))
    if not graph.name:
        object.__setattr__(graph, "name", Path(path).stem)
    return graph


def write_graph(graph: TaskGraph, path: str | os.PathLike) -> None:
    """Write ``graph`` as JSON atomically (the file appears whole or not at all)."""
    write_json(path, graph.to_dict())
