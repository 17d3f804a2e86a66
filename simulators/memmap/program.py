"""ML programs for the memory-mapping game: tensors, ops in execution order, a hierarchy.

The JSON format (``schema: "archgym-memmap-program/1"``)::

    {"schema": "archgym-memmap-program/1", "name": "...", "description": "...",
     "tensors": [{"name": "x", "size": 4096}, ...],            # size in bytes, integer > 0
     "ops": [{"name": "mm0", "flops": 2.1e9,                    # flops >= 0, execution order
              "reads": [0, 1], "writes": [2]}, ...],            # tensor indices
     "hierarchy": {"fast": {"capacity_bytes": 4194304,           # integer >= 0
                            "bandwidth_bytes_per_s": 3.2e12,     # > 0
                            "alignment_bytes": 256},             # integer >= 1
                   "slow": {"bandwidth_bytes_per_s": 4e11},      # > 0
                   "peak_flops": 4e13}}                          # > 0, FLOP/s

A tensor's live range runs from the first op that reads or writes it to the last one,
inclusive (op indices). Tensors may carry an optional ``kind`` string (``weight``,
``input``, ``activation``, ``kv_cache``...) that importers and generators set; the game's
rules ignore it. Other keys (``description``, ``provenance``) are kept as free text or
ignored.

Malformed programs raise :class:`ProgramError` naming the file, the op or tensor, and the
field, with what is allowed. Numbers are read exactly: an integral float such as ``1024.0``
is accepted where an integer is required; rates and FLOP counts are kept as the decimal the
file gives (``Fraction(repr(x))``) so that costs can be computed in exact rational units.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Any

SCHEMA = "archgym-memmap-program/1"


class ProgramError(ValueError):
    """A program that breaks the format: names the file, the op or tensor, and the field."""


@dataclass(frozen=True)
class Tensor:
    """A buffer of ``size`` bytes; ``kind`` is descriptive only (weight, activation, ...)."""

    name: str
    size: int
    kind: str = ""


@dataclass(frozen=True)
class Op:
    """One operation: FLOPs and the tensors (indices) it reads and writes."""

    name: str
    flops: float
    reads: tuple[int, ...]
    writes: tuple[int, ...]

    @property
    def operands(self) -> tuple[int, ...]:
        """The distinct tensors the op touches, ascending (the cost counts each once)."""
        return tuple(sorted(set(self.reads) | set(self.writes)))


@dataclass(frozen=True)
class Hierarchy:
    """Two memory tiers and the compute peak.

    ``capacity_bytes``, ``fast_bandwidth`` and ``alignment_bytes`` describe the scarce
    on-chip tier (scratchpad SRAM); ``slow_bandwidth`` the off-chip tier (HBM), whose
    capacity is unbounded in the game. Rates are bytes/s and FLOP/s.
    """

    capacity_bytes: int
    fast_bandwidth: float
    alignment_bytes: int
    slow_bandwidth: float
    peak_flops: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON ``hierarchy`` object."""
        return {
            "fast": {"capacity_bytes": self.capacity_bytes,
                     "bandwidth_bytes_per_s": self.fast_bandwidth,
                     "alignment_bytes": self.alignment_bytes},
            "slow": {"bandwidth_bytes_per_s": self.slow_bandwidth},
            "peak_flops": self.peak_flops,
        }


@dataclass(frozen=True)
class Program:
    """An ML program: tensors, ops in execution order and the memory hierarchy."""

    name: str
    tensors: tuple[Tensor, ...]
    ops: tuple[Op, ...]
    hierarchy: Hierarchy
    description: str = ""
    source: str = field(default="<program>", compare=False, repr=False)

    @cached_property
    def live_ranges(self) -> tuple[tuple[int, int], ...]:
        """Per tensor, ``(first, last)`` op index that touches it, inclusive."""
        first = [len(self.ops)] * len(self.tensors)
        last = [-1] * len(self.tensors)
        for j, op in enumerate(self.ops):
            for t in op.operands:
                first[t] = min(first[t], j)
                last[t] = j
        return tuple(zip(first, last, strict=True))

    @cached_property
    def uses(self) -> tuple[tuple[int, ...], ...]:
        """Per tensor, the ops (ascending) that read or write it."""
        out: list[list[int]] = [[] for _ in self.tensors]
        for j, op in enumerate(self.ops):
            for t in op.operands:
                out[t].append(j)
        return tuple(tuple(u) for u in out)

    @cached_property
    def sizes(self) -> tuple[int, ...]:
        return tuple(t.size for t in self.tensors)

    def fits(self, i: int) -> bool:
        """Whether tensor ``i`` can be in fast memory at all (size <= capacity)."""
        return self.tensors[i].size <= self.hierarchy.capacity_bytes

    def with_hierarchy(self, hierarchy: Hierarchy) -> Program:
        """The same tensors and ops on another hierarchy."""
        return Program(self.name, self.tensors, self.ops, hierarchy, self.description,
                       self.source)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of the program (round-trips through :func:`program_from_dict`)."""
        tensors = []
        for t in self.tensors:
            d: dict[str, Any] = {"name": t.name, "size": t.size}
            if t.kind:
                d["kind"] = t.kind
            tensors.append(d)
        out: dict[str, Any] = {"schema": SCHEMA, "name": self.name}
        if self.description:
            out["description"] = self.description
        out["tensors"] = tensors
        out["ops"] = [{"name": o.name, "flops": o.flops, "reads": list(o.reads),
                       "writes": list(o.writes)} for o in self.ops]
        out["hierarchy"] = self.hierarchy.to_dict()
        return out


def exact(x: float | int) -> Fraction:
    """The rational a JSON number stands for: ints exactly, floats by their shortest repr."""
    return Fraction(x) if isinstance(x, int) else Fraction(repr(float(x)))


# --------------------------------------------------------------------------- reading


class _Reader:
    """Field checks that name the file and the element in every message."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, msg: str) -> ProgramError:
        return ProgramError(f"{self.source}: {where}: {msg}")

    def obj(self, d: Any, where: str) -> dict:
        if not isinstance(d, dict):
            raise self.fail(where, f"must be a JSON object, got {type(d).__name__}")
        return d

    def get(self, d: dict, key: str, where: str) -> Any:
        if key not in d:
            raise self.fail(where, f"missing field {key!r}")
        return d[key]

    def string(self, d: dict, key: str, where: str) -> str:
        v = self.get(d, key, where)
        if not isinstance(v, str):
            raise self.fail(where, f"field {key!r} must be a string, got {v!r}")
        return v

    def integer(self, d: dict, key: str, where: str, low: int) -> int:
        v = self.get(d, key, where)
        ok = isinstance(v, int) and not isinstance(v, bool)
        if isinstance(v, float) and math.isfinite(v) and v.is_integer():
            v, ok = int(v), True
        if not ok or v < low:
            raise self.fail(where, f"field {key!r} must be an integer >= {low}, got {v!r}")
        return v

    def number(self, d: dict, key: str, where: str, positive: bool) -> float | int:
        v = self.get(d, key, where)
        bad = isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)
        if bad or v < 0 or (positive and v == 0):
            rule = "a finite number > 0" if positive else "a finite number >= 0"
            raise self.fail(where, f"field {key!r} must be {rule}, got {v!r}")
        return v

    def named_items(self, d: dict, key: str):
        """Yield ``(where, object, name)`` for each element of the non-empty list ``key``;
        ``where`` reads like ``tensors[3] ('W1')``."""
        items = self.get(d, key, "program")
        if not isinstance(items, list) or not items:
            raise self.fail("program", f"field {key!r} must be a non-empty list")
        for k, item in enumerate(items):
            item = self.obj(item, f"{key}[{k}]")
            name = self.string(item, "name", f"{key}[{k}]")
            yield f"{key}[{k}] ({name!r})", item, name

    def indices(self, d: dict, key: str, where: str, n: int) -> tuple[int, ...]:
        v = self.get(d, key, where)
        if not isinstance(v, list):
            raise self.fail(where, f"field {key!r} must be a list of tensor indices, got {v!r}")
        for k, i in enumerate(v):
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n:
                raise self.fail(where, f"field {key!r}[{k}] = {i!r} is not a tensor index "
                                       f"(an integer in 0..{n - 1})")
        return tuple(v)


def program_from_dict(d: Any, source: str = "<program>") -> Program:
    """Validate a JSON-like dict and build the :class:`Program`.

    Raises
    ------
    ProgramError
        Naming ``source``, the tensor or op (index and name) and the field.
    """
    r = _Reader(source)
    d = r.obj(d, "program")
    schema = r.get(d, "schema", "program")
    if schema != SCHEMA:
        raise r.fail("program", f"field 'schema' must be {SCHEMA!r}, got {schema!r}")
    name = r.string(d, "name", "program")
    description = d.get("description", "")
    if not isinstance(description, str):
        raise r.fail("program", f"field 'description' must be a string, got {description!r}")

    tensors = []
    for where, t, tname in r.named_items(d, "tensors"):
        size = r.integer(t, "size", where, low=1)
        kind = t.get("kind", "")
        if not isinstance(kind, str):
            raise r.fail(where, f"field 'kind' must be a string, got {kind!r}")
        tensors.append(Tensor(tname, size, kind))

    ops = []
    for where, o, oname in r.named_items(d, "ops"):
        flops = r.number(o, "flops", where, positive=False)
        reads = r.indices(o, "reads", where, len(tensors))
        writes = r.indices(o, "writes", where, len(tensors))
        ops.append(Op(oname, flops, reads, writes))

    touched = set()
    for o in ops:
        touched.update(o.reads, o.writes)
    for i, t in enumerate(tensors):
        if i not in touched:
            raise r.fail(f"tensors[{i}] ({t.name!r})",
                         "no op reads or writes this tensor (every tensor needs a live range)")

    h = r.obj(r.get(d, "hierarchy", "program"), "hierarchy")
    fast = r.obj(r.get(h, "fast", "hierarchy"), "hierarchy.fast")
    slow = r.obj(r.get(h, "slow", "hierarchy"), "hierarchy.slow")
    hierarchy = Hierarchy(
        capacity_bytes=r.integer(fast, "capacity_bytes", "hierarchy.fast", low=0),
        fast_bandwidth=r.number(fast, "bandwidth_bytes_per_s", "hierarchy.fast", True),
        alignment_bytes=r.integer(fast, "alignment_bytes", "hierarchy.fast", low=1),
        slow_bandwidth=r.number(slow, "bandwidth_bytes_per_s", "hierarchy.slow", True),
        peak_flops=r.number(h, "peak_flops", "hierarchy", positive=True),
    )
    return Program(name, tuple(tensors), tuple(ops), hierarchy, description, source)


def read_program(path: str | os.PathLike) -> Program:
    """Read a program JSON file (errors name the file, the element and the field)."""
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise FileNotFoundError(f"program file {p} does not exist") from None
    except IsADirectoryError:
        raise ProgramError(f"{p} is a directory, not a program file") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ProgramError(f"{p}: line {e.lineno} column {e.colno}: invalid JSON: {e.msg}") \
            from None
    return program_from_dict(data, source=str(p))


def write_program(program: Program, path: str | os.PathLike) -> None:
    """Write ``program`` as JSON, atomically (a temporary file renamed into place)."""
    p = Path(path)
    text = json.dumps(program.to_dict(), indent=1) + "\n"
    fd, tmp = tempfile.mkstemp(dir=p.parent or ".", prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
