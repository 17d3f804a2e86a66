"""The environment contract: the one protocol every archgym environment offers, and the only
thing the runner, the dataset, collection, proxies, replay and reports rely on.

Two kinds of environment share it (both are ``gymnasium.Env``):

- **design-point** (:class:`archgym.env.DesignEnv`, ``kind == "design"``): one step evaluates
  one whole design;
- **sequential** (:class:`archgym.sequential.SequentialEnv`, ``kind == "sequential"``): an
  episode builds one design decision by decision, with action masks; the finished design and
  its metrics are one evaluation.

The protocol (:class:`ArchEnv`, written out in ``docs/env-contract.md``):

``kind``
    ``"design"`` or ``"sequential"``.
``space``
    The :class:`~archgym.space.DesignSpace` of a whole design (a sequential env's is that of
    its design-point view, or ``None`` when it has none).
``metric_specs``
    :class:`~archgym.evaluator.MetricSpec` per metric: name, unit, direction, scale.
``objective``
    The :class:`~archgym.objectives.Objective` turning metrics into the reward.
``env_spec()``
    A JSON-able dict that re-creates the env: ``id``, ``version``, ``kind``, ``kwargs`` (every
    constructor parameter, defaults included), ``workload`` and ``workload_hash``,
    ``cost_model`` and ``objective`` (resolved, e.g. default targets filled in).
``subscribe(observer, batches=False)``
    ``observer(Evaluation)`` is called once per evaluation, whoever drives the env (a
    searcher, an RL library, a wrapper); returns a function that unsubscribes. With
    ``batches=True`` it is called once per env call with the call's :class:`Records`
    instead (after the per-evaluation observers have seen each of them).
``evaluate(config)``
    The metrics of a design as logged in :attr:`Evaluation.config`, without stepping or
    notifying anyone (what ``archgym replay`` re-simulates).
``best_known()`` (optional; :class:`EnvBase` returns ``None``)
    A :class:`BestKnown` reward under the env's objective: a proven optimum (an exact solver
    over the same design space and cost model) or the best design the literature or a
    solver knows. Reports normalise a searcher's final quality to it (or to the best design
    in the dataset, if that is better or the env knows none).

Constructor parameters are checked against their type hints before ``__init__`` runs (a wrong
type or unknown name raises :class:`~archgym.errors.ArchGymError` naming the parameter and
what is allowed), and recorded for ``env_spec()``; subclasses get both by being subclasses.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import numpy as np

from archgym.errors import ArchGymError
from archgym.evaluator import Metrics, MetricSpec

Observer = Callable[["Evaluation"], None]
BatchObserver = Callable[["Records"], None]


@dataclass(slots=True)
class Evaluation:
    """One evaluated (or rejected) design, as observers and the dataset see it.

    ``config`` is the design in the form :meth:`ArchEnv.evaluate` takes back (a design-point
    env's config; a sequential env's ``actions`` and ``episode_seed``); ``extra`` holds
    env-specific columns (the finished design, which cost model answered).
    """

    step: int
    config: dict[str, Any]
    metrics: Metrics | None
    reward: float
    feasible: bool
    target_met: bool
    valid: bool
    wall_seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


class RowsSource(Protocol):
    """Where a :class:`RowEvaluation` finds its design: one batch of index rows."""

    def config(self, i: int) -> dict[str, Any]: ...

    def metrics(self, i: int) -> Metrics | None: ...


class RowEvaluation(Evaluation):
    """An :class:`Evaluation` of design ``i`` of a batch evaluated as index rows
    (:meth:`archgym.env.DesignEnv.step_rows`), whose ``config`` and ``metrics`` dicts are
    built from the batch on first access (then kept): a search loop that reads rewards only
    never pays for them, about as much per design as a proxy's prediction. Otherwise it is
    an ``Evaluation``: equal to one with the same fields, pickled as one."""

    __slots__ = ("_source", "_i", "_config", "_metrics")
    _UNSET: ClassVar[object] = object()

    def __init__(self, step: int, reward: float, feasible: bool, target_met: bool,
                 valid: bool, wall_seconds: float, extra: dict[str, Any],
                 source: RowsSource, i: int) -> None:
        self.step, self.reward, self.feasible, self.target_met = step, reward, feasible, \
            target_met
        self.valid, self.wall_seconds, self.extra = valid, wall_seconds, extra
        self._source, self._i = source, i
        self._config = self._metrics = self._UNSET

    @property  # type: ignore[override]
    def config(self) -> dict[str, Any]:
        if self._config is self._UNSET:
            self._config = self._source.config(self._i)
        return self._config  # type: ignore[return-value]

    @property  # type: ignore[override]
    def metrics(self) -> Metrics | None:
        if self._metrics is self._UNSET:
            self._metrics = self._source.metrics(self._i)
        return self._metrics  # type: ignore[return-value]

    def plain(self) -> Evaluation:
        """The same record as a plain :class:`Evaluation`."""
        return Evaluation(*self._fields())

    def _fields(self) -> tuple[Any, ...]:
        return (self.step, self.config, self.metrics, self.reward, self.feasible,
                self.target_met, self.valid, self.wall_seconds, self.extra)

    def __eq__(self, other: object) -> bool:
        return self.plain() == (other.plain() if isinstance(other, RowEvaluation) else other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.plain())

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        return Evaluation, self._fields()


class Records(Sequence[Evaluation]):
    """The evaluations of one env call (a batch, or a single step), in order, as batch
    observers get them: ``reward`` and ``valid`` as arrays, and each record built by
    ``make(i)`` when it is first read (then kept). A run that only tracks the best design
    never builds most records; in the population-100 proxy loop building them cost as much
    as the MLP's predictions."""

    __slots__ = ("reward", "valid", "_make", "_built")

    def __init__(self, reward: np.ndarray, valid: np.ndarray,
                 make: Callable[[int], Evaluation]) -> None:
        self.reward = np.asarray(reward, dtype=np.float64)
        self.valid = np.asarray(valid, dtype=bool)
        self._make = make
        self._built: list[Evaluation | None] = [None] * len(self.reward)

    @classmethod
    def of(cls, evaluations: Sequence[Evaluation]) -> Records:
        """Records of evaluations already built."""
        built = list(evaluations)
        out = cls(np.array([e.reward for e in built], dtype=np.float64),
                  np.array([e.valid for e in built], dtype=bool), built.__getitem__)
        out._built = built  # type: ignore[assignment]
        return out

    def __len__(self) -> int:
        return len(self._built)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        record = self._built[i]
        if record is None:
            record = self._built[i] = self._make(i)
        return record

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __reduce__(self) -> tuple[Any, ...]:
        return list, (list(self),)  # pickled as its records (``make`` may be a closure)

    def best(self) -> int | None:
        """The index of the highest finite reward of a valid record (the first of ties),
        or ``None`` when there is none."""
        ok = self.valid & np.isfinite(self.reward)
        return int(np.argmax(np.where(ok, self.reward, -np.inf))) if ok.any() else None


@dataclass(frozen=True)
class BestKnown:
    """The best reward an env knows for its objective, and where it comes from."""

    reward: float
    #: ``True`` when no design of the env can score higher (an exact solver proved it)
    proven: bool
    #: how it was found, for the report (e.g. ``"CP-SAT/DP optimum of the placement"``)
    source: str


@runtime_checkable
class ArchEnv(Protocol):
    """What every archgym env offers beyond ``gymnasium.Env`` (see the module docstring)."""

    kind: str
    metric_specs: tuple[MetricSpec, ...]

    def env_spec(self) -> dict[str, Any]: ...

    def subscribe(self, observer: Observer, batches: bool = False) -> Callable[[], None]: ...

    def evaluate(self, config: Mapping[str, Any]) -> Metrics: ...


# ----------------------------------------------------------------------- parameter types


def _type_name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(hint))
    if hint is type(None):
        return "null"
    if origin is not None:
        return {Mapping: "a mapping", dict: "a mapping", Sequence: "a list",
                list: "a list", tuple: "a list"}.get(origin, getattr(origin, "__name__",
                                                                     str(origin)))
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false",
            Path: "a path"}.get(hint, getattr(hint, "__name__", str(hint)))


_NO = object()


def _coerce(value: Any, hint: Any) -> Any:
    """``value`` converted to ``hint`` (ints to floats, paths to strings), or ``_NO``."""
    origin = typing.get_origin(hint)
    if hint is Any or hint is inspect.Parameter.empty:
        return value
    if origin in (typing.Union, types.UnionType):
        for arm in typing.get_args(hint):
            got = _coerce(value, arm)
            if got is not _NO:
                return got
        return _NO
    if origin is Literal:
        return value if value in typing.get_args(hint) else _NO
    if hint is type(None):
        return value if value is None else _NO
    if hint is bool:
        return value if isinstance(value, bool) else _NO
    if hint is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else _NO
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok else _NO
    if hint is str:
        return value if isinstance(value, str) else _NO
    if hint is Path:
        return value if isinstance(value, str | Path) else _NO
    if origin in (Mapping, dict) or hint in (Mapping, dict):
        return value if isinstance(value, Mapping) else _NO
    if origin in (Sequence, list, tuple) or hint in (Sequence, list, tuple):
        return value if isinstance(value, Sequence) and not isinstance(value, str) else _NO
    return value


def check_kwargs(cls: type, env_name: str, kwargs: Mapping[str, Any],
                 extra: Mapping[str, tuple[Any, Any]] = {}) -> dict[str, Any]:  # noqa: B006
    """Every constructor parameter of ``cls`` (defaults filled in) after checking ``kwargs``
    against the type hints; ``extra`` adds parameters the base class handles
    (name -> (default, hint)). Raises :class:`ArchGymError` naming what is allowed."""
    params = parameters(cls, extra)
    hints = _hints(cls)
    hints.update({k: h for k, (_, h) in extra.items()})
    out: dict[str, Any] = {}
    for name, value in kwargs.items():
        if name not in params:
            raise ArchGymError(f"{env_name} has no parameter {name!r}; parameters: "
                               f"{', '.join(params) or '(none)'}")
        got = _coerce(value, hints.get(name, Any))
        if got is _NO:
            raise ArchGymError(f"{env_name}: parameter {name!r} must be "
                               f"{_type_name(hints[name])}, got {value!r}")
        out[name] = got
    missing = [n for n, d in params.items() if d is inspect.Parameter.empty and n not in out]
    if missing:
        raise ArchGymError(f"{env_name} needs parameter(s) {', '.join(missing)}")
    return {n: out.get(n, d) for n, d in params.items()}


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls.__init__)
    except Exception:  # noqa: BLE001 - unresolvable hints: accept any value
        return {}


def parameters(cls: type, extra: Mapping[str, tuple[Any, Any]] = {}  # noqa: B006
               ) -> dict[str, Any]:
    """Constructor parameters of ``cls`` -> default (``inspect.Parameter.empty`` if none)."""
    sig = inspect.signature(cls.__init__)
    out = {n: p.default for n, p in list(sig.parameters.items())[1:]
           if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    for name, (default, _) in extra.items():
        out.setdefault(name, default)
    return out


def parameter_hints(cls: type, extra: Mapping[str, tuple[Any, Any]] = {}  # noqa: B006
                    ) -> dict[str, str]:
    """Constructor parameter -> what it accepts, in words (for ``archgym envs ID``)."""
    hints = {**_hints(cls), **{k: h for k, (_, h) in extra.items()}}
    return {n: _type_name(hints[n]) if n in hints else "any" for n in parameters(cls, extra)}


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (paths and unknown objects as strings)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def digest(*parts: Any) -> str:
    """A short SHA-256 of ``parts`` (bytes, or anything JSON-able), e.g. a workload's hash."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes | bytearray | memoryview)
                 else json.dumps(jsonable(p), sort_keys=True).encode())
    return h.hexdigest()[:16]


# ------------------------------------------------------------------------------ the base


class EnvBase:
    """What both kinds of env share: parameter checking and recording, observers, the spec.

    Subclasses set ``kind``, ``metric_specs``, ``objective`` and (where meaningful)
    ``workload`` / ``workload_hash``; they call :meth:`notify` once per evaluation, or
    :meth:`notify_each` once per batch.
    """

    kind: ClassVar[str] = ""
    #: parameters the base class accepts on top of the subclass's own (name -> (default, hint))
    EXTRA_PARAMETERS: ClassVar[dict[str, tuple[Any, Any]]] = {}
    #: parameters that change only the reward or the episode, never a design's metrics
    #: (a proxy trained with other values still applies); names starting with ``target``
    #: count too
    REWARD_PARAMETERS: ClassVar[frozenset[str]] = frozenset(
        {"objective", "max_steps", "invalid_reward", "cost_model", "proxy", "proxy_threshold"})
    workload: str = ""
    workload_hash: str = ""
    #: env-specific objective words -> objective strings (``archgym envs ID`` lists them)
    objective_aliases: ClassVar[dict[str, str]] = {}
    #: metric -> the default target a ``target:METRIC`` objective uses
    targets: dict[str, float] = {}

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if "__init__" in cls.__dict__:
            cls.__init__ = _recording(cls.__init__)

    def parse_objective(self, text: str):
        """The objective ``text`` names for this env (:func:`archgym.objectives.parse` with
        the env's metric specs, aliases and default targets)."""
        from archgym.objectives import parse

        return parse(text, self.metric_specs, self.objective_aliases, self.targets)

    # ---- observers
    def subscribe(self, observer: Observer | BatchObserver,
                  batches: bool = False) -> Callable[[], None]:
        """Call ``observer(evaluation)`` for every evaluation, or with ``batches``
        ``observer(records)`` once per env call; returns the unsubscriber."""
        observers = self.__dict__.setdefault("_observers", [])
        entry = (observer, batches)
        observers.append(entry)

        def unsubscribe() -> None:
            if entry in observers:
                observers.remove(entry)

        return unsubscribe

    def notify(self, evaluation: Evaluation) -> None:
        self.notify_each((evaluation,))

    def notify_each(self, evaluations: Sequence[Evaluation]) -> None:
        """Hand one env call's evaluations to the observers: each per-evaluation observer
        sees each record in order, then each batch observer the whole call as
        :class:`Records` (``evaluations`` itself when it is one)."""
        observers = self.__dict__.get("_observers", ())
        if any(not whole for _, whole in observers):
            for evaluation in evaluations:
                for observer, whole in list(observers):
                    if not whole:
                        observer(evaluation)
        records = None
        for observer, whole in list(observers):
            if whole:
                if records is None:
                    records = evaluations if isinstance(evaluations, Records) \
                        else Records.of(evaluations)
                observer(records)

    # ---- the spec
    @property
    def given_kwargs(self) -> dict[str, Any]:
        """Every constructor parameter with the value this env was made with."""
        return dict(self.__dict__.get("_kwargs", {}))

    def env_id(self) -> str:
        spec = getattr(self, "spec", None)
        if spec is not None:
            return spec.id
        from archgym import registry

        return registry.id_of(type(self)) or f"{type(self).__module__}:{type(self).__name__}"

    def env_spec(self) -> dict[str, Any]:
        """What re-creates this env (see the module docstring); JSON-able."""
        from archgym import registry

        env_id = self.env_id()
        return {"id": env_id, "version": registry.version_of(env_id), "kind": self.kind,
                "kwargs": jsonable(self.given_kwargs), "workload": str(self.workload),
                "workload_hash": self.workload_hash, "cost_model": self.cost_model_name(),
                "objective": jsonable(self.objective.describe())}

    def cost_model_name(self) -> str:
        return "simulator"

    def best_known(self) -> BestKnown | None:
        """The best reward known for this env's objective (module docstring); ``None``: none
        known beyond what searchers find. Override where an exact solver or a published
        optimum exists; it may be slow (reports call it once per problem)."""
        return None

    def metric_spec_key(self) -> dict[str, Any]:
        """The part of :meth:`env_spec` that decides a design's metrics (what a proxy must
        match): the id, the workload hash and every parameter but the reward's."""
        kwargs = {k: v for k, v in jsonable(self.given_kwargs).items()
                  if k not in self.REWARD_PARAMETERS and not k.startswith("target")}
        return {"id": self.env_id(), "workload_hash": self.workload_hash, "kwargs": kwargs}


def _recording(init: Callable[..., None]) -> Callable[..., None]:
    """Wrap an env's ``__init__``: check and record the outermost call's parameters, and
    hand base-class parameters (``EXTRA_PARAMETERS``) to the base instead of the subclass."""

    @functools.wraps(init)
    def wrapper(self: EnvBase, *args: Any, **kwargs: Any) -> None:
        if "_kwargs" in self.__dict__:  # a subclass's wrapper already did it
            init(self, *args, **kwargs)
            return
        cls = type(self)
        own = parameters(cls)
        extra = {k: v for k, v in cls.EXTRA_PARAMETERS.items() if k not in own}
        named = list(own)
        if len(args) > len(named):
            raise ArchGymError(f"{cls.__name__} takes at most {len(named)} positional "
                               "parameters")
        given = {**dict(zip(named, args, strict=False)), **kwargs}
        from archgym import registry

        name = registry.id_of(cls) or cls.__name__
        full = check_kwargs(cls, name, given, extra)
        self.__dict__["_kwargs"] = full
        self.__dict__["_base_kwargs"] = {k: full[k] for k in extra}
        init(self, **{k: full[k] for k in own})

    return wrapper


def design_env(env: Any) -> Any:
    """The design-point env to run black-box search on: ``env`` itself if it is one, else
    its design-point view (an :class:`ArchGymError` when the env has none)."""
    base = env.unwrapped if hasattr(env, "unwrapped") else env
    view = base.design_point_view()
    if view is None:
        raise ArchGymError(f"{base.env_id()} is a sequential environment without a "
                           "design-point view: black-box searchers cannot run on it; use one "
                           "of its policies or an RL searcher that handles action masks "
                           "(see `archgym agents`)")
    return view
