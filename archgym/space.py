"""Design spaces: named hardware parameters and the encodings searchers need.

One :class:`DesignSpace` serves every searcher, so no two searchers can quietly search
different value sets (ArchGym's comparison did). A design is a *config*, a plain dict
``{parameter name: value}``; the space converts it to and from

- an **index vector** (``int64``, one entry per parameter; ``gymnasium.spaces.MultiDiscrete``),
- a point of the **unit cube** ``[0, 1]^d`` (``gymnasium.spaces.Box``; BO, SAC, TD3, CMA-ES),
- a **one-hot** vector (one block per finite parameter, one scalar per ``Real``).

Finite parameters round-trip exactly through every encoding. ``Real`` parameters round-trip
exactly through the config; for the index encoding they are discretised into ``steps``
grid points (MultiDiscrete needs a finite grid).
"""

from __future__ import annotations

import ast
import itertools
import json
import math
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

from archgym.errors import ArchGymError


class InvalidDesignError(ArchGymError, ValueError):
    """A config names an unknown parameter, misses one, holds a value outside the
    parameter's domain, or breaks a constraint."""


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Parameter:
    """Base of all parameter kinds: a name and a domain."""

    name: str

    kind = "parameter"

    @property
    def cardinality(self) -> int:
        """Number of index values (grid points for ``Real``)."""
        raise NotImplementedError

    def value_at(self, index: int) -> Any:
        raise NotImplementedError

    @property
    def grid(self) -> Sequence:
        """The value at each index (``grid[i] == value_at(i)``), as a sequence that is
        cheap to index."""
        return _Grid(self)

    def index_of(self, value: Any) -> int:
        raise NotImplementedError

    def canonical(self, value: Any) -> Any:
        """``value`` as the plain Python value a valid config holds, or :data:`REFUSED`
        when the parameter does not allow it (what :meth:`contains` and
        :meth:`DesignSpace.validate` ask)."""
        raise NotImplementedError

    def contains(self, value: Any) -> bool:
        return self.canonical(value) is not REFUSED

    def allowed(self) -> str:
        """What is allowed, for error messages."""
        raise NotImplementedError

    def to_unit(self, value: Any) -> float:
        """Finite parameters map index i of n to the centre of bin i, ``(i + 0.5) / n``."""
        return (self.index_of(value) + 0.5) / self.cardinality

    def from_unit(self, u: float) -> Any:
        i = min(int(math.floor(float(u) * self.cardinality)), self.cardinality - 1)
        return self.value_at(max(i, 0))

    @property
    def finite(self) -> bool:
        return True

    def default_value(self) -> Any:
        return self.value_at(0)

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars, so configs compare, hash and serialise cleanly."""
    return value.item() if isinstance(value, np.generic) else value


#: what :meth:`Parameter.canonical` returns for a value the parameter does not allow
REFUSED = object()


class _Grid(Sequence):
    """A parameter's values by index, computed on access (``Real`` grids)."""

    def __init__(self, parameter: Parameter) -> None:
        self.parameter = parameter

    def __len__(self) -> int:
        return self.parameter.cardinality

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self.parameter.value_at(index)


@dataclass(frozen=True)
class _Choice(Parameter):
    values: tuple = ()
    default: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(_plain(v) for v in self.values))
        if not self.values:
            raise ValueError(f"parameter {self.name!r}: needs at least one value")
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"parameter {self.name!r}: values must be distinct")
        if self.default is not None and self.default not in self.values:
            raise ValueError(f"parameter {self.name!r}: default {self.default!r} not in values")
        # value -> index, looked up by hash (numpy scalars hash as their Python values);
        # values are distinct, so no two keys collide
        object.__setattr__(self, "_index", {v: i for i, v in enumerate(self.values)})

    @property
    def cardinality(self) -> int:
        return len(self.values)

    def value_at(self, index: int) -> Any:
        return self.values[int(index)]

    @property
    def grid(self) -> Sequence:
        return self.values

    def index_of(self, value: Any) -> int:
        try:
            return self._index[value]
        except (KeyError, TypeError):
            return self.values.index(_plain(value))  # unhashable or NaN-like: raises

    def canonical(self, value: Any) -> Any:
        try:
            found = self.values[self._index[value]]
        except (KeyError, TypeError):
            return REFUSED
        # bool is an int in Python: keep True from matching a declared 1.
        if isinstance(value, bool | np.bool_) != isinstance(found, bool):
            return REFUSED
        return found

    def allowed(self) -> str:
        return "one of " + ", ".join(map(repr, self.values))

    def default_value(self) -> Any:
        return self.values[0] if self.default is None else self.default

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "values": list(self.values)}
        if self.default is not None:
            d["default"] = self.default
        return d


@dataclass(frozen=True)
class Categorical(_Choice):
    """Unordered choices (policies, schedulers). Searchers must not assume an order."""

    kind = "categorical"


@dataclass(frozen=True)
class Ordinal(_Choice):
    """Ordered values (buffer sizes, powers of two): neighbours are meaningful."""

    kind = "ordinal"


@dataclass(frozen=True)
class Integer(Parameter):
    """Integers ``low..high`` inclusive; ``log`` spaces the unit-cube encoding in log scale."""

    low: int = 0
    high: int = 0
    log: bool = False
    default: int | None = None

    kind = "integer"

    def __post_init__(self) -> None:
        if self.high < self.low:
            raise ValueError(f"parameter {self.name!r}: high {self.high} < low {self.low}")
        if self.log and self.low <= 0:
            raise ValueError(f"parameter {self.name!r}: log scale needs low > 0")
        if self.default is not None and not self.contains(self.default):
            raise ValueError(f"parameter {self.name!r}: default {self.default!r} out of range")

    @property
    def cardinality(self) -> int:
        return self.high - self.low + 1

    def value_at(self, index: int) -> int:
        return self.low + int(index)

    @property
    def grid(self) -> Sequence:
        return range(self.low, self.high + 1)

    def index_of(self, value: Any) -> int:
        return int(value) - self.low

    def canonical(self, value: Any) -> Any:
        value = _plain(value)
        if isinstance(value, int) and not isinstance(value, bool) and (
                self.low <= value <= self.high):
            return value
        return REFUSED

    def allowed(self) -> str:
        return f"an integer in [{self.low}, {self.high}]"

    def to_unit(self, value: Any) -> float:
        if not self.log:
            return super().to_unit(value)
        lo, hi = math.log(self.low - 0.5), math.log(self.high + 0.5)
        return (math.log(int(value)) - lo) / (hi - lo)

    def from_unit(self, u: float) -> int:
        if not self.log:
            return super().from_unit(u)
        lo, hi = math.log(self.low - 0.5), math.log(self.high + 0.5)
        v = int(round(math.exp(lo + float(u) * (hi - lo))))
        return min(max(v, self.low), self.high)

    def default_value(self) -> int:
        return self.low if self.default is None else self.default

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "low": self.low, "high": self.high}
        if self.log:
            d["log"] = True
        if self.default is not None:
            d["default"] = self.default
        return d


@dataclass(frozen=True)
class Real(Parameter):
    """Reals in ``[low, high]``; the index encoding uses ``steps`` grid points."""

    low: float = 0.0
    high: float = 1.0
    log: bool = False
    steps: int = 65
    default: float | None = None

    kind = "real"

    def __post_init__(self) -> None:
        if not self.high > self.low:
            raise ValueError(f"parameter {self.name!r}: needs high > low")
        if self.log and self.low <= 0:
            raise ValueError(f"parameter {self.name!r}: log scale needs low > 0")
        if self.steps < 2:
            raise ValueError(f"parameter {self.name!r}: steps must be >= 2")
        if self.default is not None and not self.contains(self.default):
            raise ValueError(f"parameter {self.name!r}: default {self.default!r} out of range")

    @property
    def finite(self) -> bool:
        return False

    @property
    def cardinality(self) -> int:
        return self.steps

    def _scale(self, x: float) -> float:
        return math.log(x) if self.log else x

    def to_unit(self, value: Any) -> float:
        lo, hi = self._scale(self.low), self._scale(self.high)
        return (self._scale(float(value)) - lo) / (hi - lo)

    def from_unit(self, u: float) -> float:
        lo, hi = self._scale(self.low), self._scale(self.high)
        x = lo + min(max(float(u), 0.0), 1.0) * (hi - lo)
        x = math.exp(x) if self.log else x
        return min(max(x, self.low), self.high)

    def value_at(self, index: int) -> float:
        return self.from_unit(int(index) / (self.steps - 1))

    def index_of(self, value: Any) -> int:
        return int(round(self.to_unit(value) * (self.steps - 1)))

    def canonical(self, value: Any) -> Any:
        value = _plain(value)
        if isinstance(value, int | float) and not isinstance(value, bool) and (
                math.isfinite(value) and self.low <= value <= self.high):
            return value
        return REFUSED

    def allowed(self) -> str:
        return f"a real number in [{self.low}, {self.high}]"

    def default_value(self) -> float:
        return self.value_at(0) if self.default is None else self.default

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "low": self.low, "high": self.high,
                             "steps": self.steps}
        if self.log:
            d["log"] = True
        if self.default is not None:
            d["default"] = self.default
        return d


PARAMETER_KINDS: dict[str, type[Parameter]] = {
    c.kind: c for c in (Categorical, Ordinal, Integer, Real)
}


# -------------------------------------------------------------------------- constraints

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
           ast.Pow: operator.pow}
_CMPOPS = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
           ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
           ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}


def _eval_expr(node: ast.AST, env: Mapping[str, Any]) -> Any:
    """Evaluate a tiny, safe expression language: names, literals, arithmetic,
    comparisons, ``and``/``or``/``not``, tuples/lists for ``in``. Nothing else."""
    match node:
        case ast.Expression(body=body):
            return _eval_expr(body, env)
        case ast.Constant(value=v):
            return v
        case ast.Name(id=name):
            return env[name]
        case ast.Tuple(elts=elts) | ast.List(elts=elts):
            return tuple(_eval_expr(e, env) for e in elts)
        case ast.UnaryOp(op=ast.Not(), operand=x):
            return not _eval_expr(x, env)
        case ast.UnaryOp(op=ast.USub(), operand=x):
            return -_eval_expr(x, env)
        case ast.BoolOp(op=op, values=values):
            results = (_eval_expr(v, env) for v in values)
            return all(results) if isinstance(op, ast.And) else any(results)
        case ast.BinOp(left=a, op=op, right=b) if type(op) in _BINOPS:
            return _BINOPS[type(op)](_eval_expr(a, env), _eval_expr(b, env))
        case ast.Compare(left=left, ops=ops, comparators=rights):
            a = _eval_expr(left, env)
            for op, right in zip(ops, rights, strict=True):
                b = _eval_expr(right, env)
                if type(op) not in _CMPOPS or not _CMPOPS[type(op)](a, b):
                    return False
                a = b
            return True
    raise ValueError(f"unsupported syntax in constraint expression: {ast.dump(node)[:60]}")


@dataclass(frozen=True)
class Constraint:
    """A named rule every valid design satisfies: an expression over parameter names
    (``"RefreshMaxPulledin <= RefreshMaxPostponed"``) or a callable ``config -> bool``."""

    name: str
    rule: str | Callable[[Mapping[str, Any]], bool]

    def __post_init__(self) -> None:
        if isinstance(self.rule, str):
            try:
                tree = ast.parse(self.rule, mode="eval")
            except SyntaxError as e:
                raise ValueError(f"constraint {self.name!r}: bad expression: {e.msg}") from e
            object.__setattr__(self, "_tree", tree)

    def names(self) -> set[str]:
        """Parameter names an expression refers to (empty for a callable)."""
        if not isinstance(self.rule, str):
            return set()
        return {n.id for n in ast.walk(self._tree) if isinstance(n, ast.Name)}

    def holds(self, config: Mapping[str, Any]) -> bool:
        if isinstance(self.rule, str):
            return bool(_eval_expr(self._tree, config))
        return bool(self.rule(config))


# ------------------------------------------------------------------------- design space


class DesignSpace:
    """An ordered set of named parameters, with optional constraints and agent groups.

    Parameters
    ----------
    parameters : the parameters, in the order of the index vector.
    constraints : rules a valid design satisfies (checked by :meth:`validate`).
    groups : optional ``{group: [parameter names]}`` partitioning the parameters, one
        agent per group in multi-agent search. Without it each parameter is its own group.
    """

    def __init__(
        self,
        parameters: Sequence[Parameter],
        constraints: Sequence[Constraint] = (),
        groups: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.parameters: tuple[Parameter, ...] = tuple(parameters)
        names = [p.name for p in self.parameters]
        if not names:
            raise ValueError("a design space needs at least one parameter")
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate parameter names in {names}")
        self._by_name = {p.name: p for p in self.parameters}
        self._names = tuple(names)
        self._cardinalities = tuple(p.cardinality for p in self.parameters)
        self._nvec = np.array(self._cardinalities, dtype=np.int64)
        self._nvec.flags.writeable = False
        self._finite = all(p.finite for p in self.parameters)
        self._grids = tuple(p.grid for p in self.parameters)
        self.constraints: tuple[Constraint, ...] = tuple(constraints)
        for c in self.constraints:
            unknown = c.names() - set(names)
            if unknown:
                raise ValueError(f"constraint {c.name!r} names unknown parameter(s) "
                                 f"{sorted(unknown)}; parameters are {names}")
        self.groups: dict[str, tuple[str, ...]] | None = None
        if groups is not None:
            self.groups = {g: tuple(members) for g, members in groups.items()}
            listed = [n for members in self.groups.values() for n in members]
            if sorted(listed) != sorted(names):
                raise ValueError("groups must list every parameter exactly once; "
                                 f"got {listed}, parameters are {names}")

    # ---- basic facts
    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    def __getitem__(self, name: str) -> Parameter:
        return self._by_name[name]

    def __len__(self) -> int:
        return len(self.parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.parameters)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DesignSpace) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(json.dumps(self._identity(), sort_keys=True, default=str))

    def _identity(self) -> dict[str, Any]:
        return self.to_dict(strict=False)

    def __repr__(self) -> str:
        return f"DesignSpace({', '.join(self.names)})"

    @property
    def finite(self) -> bool:
        return self._finite

    @property
    def nvec(self) -> np.ndarray:
        """Cardinality of each index entry (the ``MultiDiscrete`` vector)."""
        return np.array([p.cardinality for p in self.parameters], dtype=np.int64)

    @property
    def size(self) -> int:
        """Number of grid points, before constraints (exact integer)."""
        if not self.finite:
            raise ValueError("size is defined for finite spaces only (this one has Real "
                             "parameters)")
        return math.prod(int(n) for n in self.nvec)

    def agent_groups(self) -> dict[str, tuple[str, ...]]:
        """The named groups, or one group per parameter (the MARL DSE default)."""
        return self.groups if self.groups is not None else {n: (n,) for n in self.names}

    # ---- validity
    def default(self) -> dict[str, Any]:
        """The space's default design (each parameter's default)."""
        return {p.name: p.default_value() for p in self.parameters}

    def validate(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``config`` as plain Python values, or raise :class:`InvalidDesignError`."""
        if len(config) != len(self._names) or not self._by_name.keys() >= config.keys():
            unknown = [k for k in config if k not in self._by_name]
            if unknown:
                raise InvalidDesignError(f"unknown parameter {unknown[0]!r}; parameters "
                                         f"are {', '.join(self.names)}")
            missing = [n for n in self.names if n not in config]
            raise InvalidDesignError(f"missing parameter {missing[0]!r}")
        clean = {}
        for p in self.parameters:
            value = p.canonical(config[p.name])
            if value is REFUSED:
                raise InvalidDesignError(
                    f"parameter {p.name!r}: value {_plain(config[p.name])!r} is not "
                    f"allowed; allowed: {p.allowed()}")
            clean[p.name] = value
        for c in self.constraints:
            if not c.holds(clean):
                detail = f" ({c.rule})" if isinstance(c.rule, str) else ""
                raise InvalidDesignError(f"constraint {c.name!r}{detail} is violated by "
                                         f"{ {n: clean[n] for n in sorted(c.names())} or clean}")
        return clean

    def satisfies(self, config: Mapping[str, Any]) -> bool:
        """Whether a config whose values are in their parameters' domains (what
        :meth:`from_index`, :meth:`from_unit` and :meth:`sample` give) meets every
        constraint; :meth:`validate` checks the domains too."""
        return all(c.holds(config) for c in self.constraints)

    def is_valid(self, config: Mapping[str, Any]) -> bool:
        try:
            self.validate(config)
        except InvalidDesignError:
            return False
        return True

    def complete(self, partial: Mapping[str, Any]) -> dict[str, Any]:
        """Fill parameters missing from ``partial`` with defaults, then validate."""
        return self.validate({**self.default(), **partial})

    def point(self, config: Mapping[str, Any]) -> tuple:
        """A config as a hashable tuple of its values in parameter order: what in-memory
        sets and dicts of designs key on (a searcher's memory of what it proposed). Equal
        for equal values (numpy scalars equal their Python values); :meth:`key` is its
        text, for files."""
        return tuple(map(config.__getitem__, self._names))

    def key(self, config: Mapping[str, Any]) -> str:
        """A canonical string for a config (cache keys, dataset de-duplication)."""
        return json.dumps([_plain(v) for v in self.point(config)], separators=(",", ":"))

    # ---- index encoding
    def to_index(self, config: Mapping[str, Any]) -> np.ndarray:
        return np.array([p.index_of(config[p.name]) for p in self.parameters], dtype=np.int64)

    def from_index(self, index: Sequence[int] | np.ndarray) -> dict[str, Any]:
        index = np.asarray(index)
        if index.shape != (len(self),):
            raise InvalidDesignError(f"index vector must have shape ({len(self)},), "
                                     f"got {index.shape}")
        index = index.tolist() if index.dtype.kind in "iu" else [int(i) for i in index.tolist()]
        if not all(0 <= i < n for i, n in zip(index, self._cardinalities, strict=True)):
            p, i, n = next((p, i, n) for p, i, n in zip(self.parameters, index,
                                                        self._cardinalities, strict=True)
                           if not 0 <= i < n)
            raise InvalidDesignError(f"parameter {p.name!r}: index {i} out of range "
                                     f"0..{n - 1}")
        return {name: grid[i] for name, grid, i in zip(self._names, self._grids, index,
                                                        strict=True)}

    def check_rows(self, rows: np.ndarray) -> np.ndarray:
        """``rows`` as an array, if it is an ``(n, len(space))`` index matrix on the grid;
        otherwise :class:`InvalidDesignError` for the first row off it, as
        :meth:`from_index` would say."""
        rows = np.asarray(rows)
        if rows.ndim != 2 or rows.shape[1] != len(self):
            raise InvalidDesignError(f"index rows must have shape (n, {len(self)}), "
                                     f"got {rows.shape}")
        if not ((rows < self._nvec).all() and rows.min(initial=0) >= 0):
            self.from_index(rows[np.argmin(((rows >= 0) & (rows < self._nvec)).all(axis=1))])
        return rows

    def from_rows(self, rows: np.ndarray) -> list[dict[str, Any]]:
        """:meth:`from_index` of each row of an ``(n, len(space))`` index matrix, with the
        range checked for all rows at once (the first row off the grid raises, as
        :meth:`from_index` would)."""
        rows = self.check_rows(rows)
        names, grids = self._names, self._grids
        return [dict(zip(names, map(operator.getitem, grids, r), strict=True))
                for r in rows.astype(np.int64).tolist()]

    # ---- unit-cube encoding
    def to_unit(self, config: Mapping[str, Any]) -> np.ndarray:
        return np.array([p.to_unit(config[p.name]) for p in self.parameters], dtype=np.float64)

    def from_unit(self, u: Sequence[float] | np.ndarray) -> dict[str, Any]:
        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
        if u.shape != (len(self),):
            raise InvalidDesignError(f"unit vector must have shape ({len(self)},), got {u.shape}")
        return {p.name: p.from_unit(x) for p, x in zip(self.parameters, u, strict=True)}

    # ---- one-hot encoding
    @property
    def onehot_size(self) -> int:
        return sum(p.cardinality if p.finite else 1 for p in self.parameters)

    def to_onehot(self, config: Mapping[str, Any]) -> np.ndarray:
        parts = []
        for p in self.parameters:
            if p.finite:
                block = np.zeros(p.cardinality)
                block[p.index_of(config[p.name])] = 1.0
                parts.append(block)
            else:
                parts.append(np.array([p.to_unit(config[p.name])]))
        return np.concatenate(parts)

    def from_onehot(self, x: Sequence[float] | np.ndarray) -> dict[str, Any]:
        """Inverse of :meth:`to_onehot`; each block's arg-max wins (so scores work too)."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (self.onehot_size,):
            raise InvalidDesignError(f"one-hot vector must have shape ({self.onehot_size},), "
                                     f"got {x.shape}")
        out, at = {}, 0
        for p in self.parameters:
            if p.finite:
                out[p.name] = p.value_at(int(np.argmax(x[at:at + p.cardinality])))
                at += p.cardinality
            else:
                out[p.name] = p.from_unit(x[at])
                at += 1
        return out

    # ---- gymnasium views
    def encoding(self):
        """The mixed one-hot feature encoding of this space (proxies and BO share it)."""
        from archgym.encoding import FeatureEncoder

        if "_encoding" not in self.__dict__:
            self.__dict__["_encoding"] = FeatureEncoder(self)
        return self.__dict__["_encoding"]

    def multidiscrete(self, seed: int | None = None) -> gymnasium.spaces.MultiDiscrete:
        return gymnasium.spaces.MultiDiscrete(self.nvec, seed=seed)

    def box(self, seed: int | None = None) -> gymnasium.spaces.Box:
        return gymnasium.spaces.Box(0.0, 1.0, shape=(len(self),), dtype=np.float32, seed=seed)

    # ---- sampling and enumeration
    def sample(self, rng: np.random.Generator, max_tries: int = 10_000) -> dict[str, Any]:
        """A uniform random valid design (rejection sampling under the constraints)."""
        for _ in range(max_tries):
            config = {}
            for p in self.parameters:
                if p.finite:
                    config[p.name] = p.value_at(int(rng.integers(p.cardinality)))
                else:
                    config[p.name] = p.from_unit(float(rng.random()))
            if self.satisfies(config):
                return config
        raise ArchGymError(f"no valid design found in {max_tries} samples: the constraints "
                           f"{[c.name for c in self.constraints]} may be unsatisfiable")

    def enumerate(self) -> Iterator[dict[str, Any]]:
        """Every valid design of a finite space, in index order."""
        if not self.finite:
            raise ValueError("enumerate() needs a finite space (no Real parameters)")
        for values in itertools.product(*(p.values if isinstance(p, _Choice)
                                          else range(p.low, p.high + 1)
                                          for p in self.parameters)):
            config = dict(zip(self.names, values, strict=True))
            if self.satisfies(config):
                yield config

    # ---- serialisation
    def to_dict(self, strict: bool = True) -> dict[str, Any]:
        """JSON/YAML-ready description. Callable constraints cannot be serialised."""
        constraints = []
        for c in self.constraints:
            if not isinstance(c.rule, str):
                if strict:
                    raise ArchGymError(f"constraint {c.name!r} is a Python callable and cannot "
                                       "be serialised; write it as an expression")
                constraints.append({"name": c.name, "expr": f"<callable {c.rule!r}>"})
            else:
                constraints.append({"name": c.name, "expr": c.rule})
        d: dict[str, Any] = {"parameters": {p.name: p.to_dict() for p in self.parameters}}
        if constraints:
            d["constraints"] = constraints
        if self.groups is not None:
            d["groups"] = {g: list(m) for g, m in self.groups.items()}
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DesignSpace:
        params = []
        for name, spec in d["parameters"].items():
            spec = dict(spec)
            kind = spec.pop("kind", None)
            if kind not in PARAMETER_KINDS:
                raise ValueError(f"parameter {name!r}: unknown kind {kind!r}; "
                                 f"allowed: {', '.join(PARAMETER_KINDS)}")
            if "values" in spec:
                spec["values"] = tuple(spec["values"])
            params.append(PARAMETER_KINDS[kind](name=name, **spec))
        constraints = [Constraint(c["name"], c["expr"]) for c in d.get("constraints", ())]
        return cls(params, constraints, d.get("groups"))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> DesignSpace:
        return cls.from_dict(json.loads(text))

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_yaml(cls, text: str) -> DesignSpace:
        import yaml

        return cls.from_dict(yaml.safe_load(text))

    @classmethod
    def load(cls, path: str | Path) -> DesignSpace:
        path = Path(path)
        text = path.read_text()
        return cls.from_json(text) if path.suffix == ".json" else cls.from_yaml(text)


__all__ = ["Categorical", "Constraint", "DesignSpace", "Integer", "InvalidDesignError",
           "Ordinal", "Parameter", "Real"]
