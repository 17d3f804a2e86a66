"""Applications (job templates) for the dynamic SoC simulator, and their JSON form
(``schema: "archgym-soc-app/1"``).

An application is a DAG of tasks; each task names the *function* it runs (whose execution
time per PE type the SoC gives) and each edge carries a data ``volume`` in bytes that moves
over the interconnect when the two tasks run on different PEs. A job is one instance of an
application; its latency runs from its arrival to the completion of its last task. DS3's
job files (``job_*.txt``) map onto this one to one (see :mod:`simulators.soc.ds3_files`).

JSON form::

    {"schema": "archgym-soc-app/1", "name": "wifi_tx", "description": "...",
     "tasks": ["scrambler_encoder", "interleaver_1", ...],
     "edges": [{"src": 0, "dst": 1, "volume": 2000}, ...]}
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from simulators.soc.errors import SocInputError
from simulators.soc.graph import TaskGraph
from simulators.soc.jsonfile import read_json

SCHEMA = "archgym-soc-app/1"


@dataclass(frozen=True, eq=False)
class App:
    """A job template: task functions and data edges (indices 0-based, topological check)."""

    name: str
    functions: tuple[str, ...]
    edges: tuple[tuple[int, int, float], ...]
    description: str = ""
    source: str = field(default="<App>", repr=False)
    succ: tuple[tuple[tuple[int, float], ...], ...] = field(init=False, repr=False)
    pred: tuple[tuple[tuple[int, float], ...], ...] = field(init=False, repr=False)
    topo_order: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "functions", tuple(self.functions))
        # reuse the task graph's checks (indices, duplicates, negative volumes, cycles)
        try:
            g = TaskGraph(tasks=[f"{i}:{f}" for i, f in enumerate(self.functions)],
                          processors=["any"], exec_time=[[0]] * len(self.functions),
                          edges=self.edges, source=self.source)
        except SocInputError as exc:
            msg = str(exc).replace(".comm:", ".volume:").replace("negative time", "negative volume")
            raise SocInputError(msg.replace("times must be", "volumes must be")) from None
        set_(self, "edges", g.edges)
        set_(self, "succ", g.succ)
        set_(self, "pred", g.pred)
        set_(self, "topo_order", g.topo_order)

    @property
    def num_tasks(self) -> int:
        return len(self.functions)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "name": self.name, "description": self.description,
                "tasks": list(self.functions),
                "edges": [{"src": s, "dst": d, "volume": v} for s, d, v in self.edges]}

    @classmethod
    def from_dict(cls, data: Any, source: str = "<dict>") -> App:
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            got = data.get("schema") if isinstance(data, dict) else type(data).__name__
            raise SocInputError(f"{source}: schema: {got!r}; expected {SCHEMA!r}")
        tasks = data.get("tasks")
        if not isinstance(tasks, list) or not tasks or \
                not all(isinstance(t, str) for t in tasks):
            raise SocInputError(f"{source}: tasks: expected a non-empty list of function names")
        edges = []
        for k, e in enumerate(data.get("edges", [])):
            if not isinstance(e, dict) or not {"src", "dst", "volume"} <= set(e):
                raise SocInputError(f"{source}: edges[{k}]: expected "
                                    '{"src": i, "dst": j, "volume": bytes}')
            edges.append((e["src"], e["dst"], e["volume"]))
        return cls(name=str(data.get("name", "")), functions=tuple(tasks), edges=tuple(edges),
                   description=str(data.get("description", "")), source=source)


def read_app(path: str | os.PathLike) -> App:
    """Read an application JSON file; errors name the file and field."""
    return App.from_dict(read_json(path, "application"), source=str(path))
