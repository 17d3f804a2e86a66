"""Objectives: metrics -> reward (higher is better), plus feasibility and Pareto helpers.

- :class:`Target` is ArchGym's formulation (Krishnan et al., ISCA 2023, DRAMGym): each
  metric's reward is ``target / |value - target|`` (inverse relative distance to the
  target) and "both" multiplies them. We add ``eps`` to the distance so a design that hits
  the target exactly gets a finite reward (``1 / eps``).
- :class:`Optimize` minimises (or maximises) one metric, scaled by its typical value.
- :class:`WeightedSum` scalarises several metrics with user weights.
- :class:`Constrained` adds hard limits on metrics to any objective (penalty + feasibility).
- :class:`MultiObjective` keeps the vector for multi-objective searchers; its scalar reward
  (for RL) is an equal-weight sum. :class:`CostVector` is the one definition of a cost
  vector (``sign * value / scale``, smaller is better in every coordinate) that
  :func:`pareto_front`, :func:`hypervolume` and the searchers' Pareto archives work on.

Every env takes its objective as a string, read by :func:`parse` against the env's metric
specs (so each metric's direction is honoured)::

    latency_ns                     optimise one metric in its direction (min/max from its spec)
    min:power_mw | max:bw_gbps     ... in the direction given
    target:latency_ns=300,power_mw ArchGym's targets (a metric without '=' takes the env's
                                   default target)
    0.7*latency_ns+0.3*power_mw    weighted sum, each metric in its direction, scaled
    pareto:latency_ns,power_mw     multi-objective (vector for MO searchers)
    <any of these>; power_mw<=1500; bandwidth_gbps>=10   hard limits (:class:`Constrained`)

An env may add aliases (DRAM-v0: ``latency`` for ``target:latency_ns``).
"""

from __future__ import annotations

import dataclasses
import operator
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from archgym.errors import ArchGymError
from archgym.evaluator import Metrics, MetricSpec


class Objective:
    """Base: ``reward(metrics)``, ``feasible(metrics)``, ``target_met(metrics)``."""

    #: metrics this objective reads (checked against the evaluator's specs by the env)
    metrics: tuple[str, ...] = ()
    #: a lower bound of the reward where one exists (``None``: unbounded below)
    reward_floor: float | None = None

    def reward(self, metrics: Metrics) -> float:
        raise NotImplementedError

    def feasible(self, metrics: Metrics) -> bool:
        return True

    def target_met(self, metrics: Metrics) -> bool:
        """Whether a design meets the user's goal (objectives without a goal: never)."""
        return False

    def score(self, metrics: Sequence[Metrics]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``reward``, ``feasible`` and ``target_met`` of several designs, as arrays."""
        scores = [(float(self.reward(m)), bool(self.feasible(m)), bool(self.target_met(m)))
                  for m in metrics]
        reward, feasible, met = zip(*scores, strict=True) if scores else ((), (), ())
        return (np.array(reward, dtype=np.float64), np.array(feasible, dtype=bool),
                np.array(met, dtype=bool))

    def score_rows(self, values: np.ndarray, names: Sequence[str]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`score` of designs given as rows of metric values (columns ``names``).
        Objectives whose reward is one formula override it with the same floats in one
        array expression (a batch of proxy answers then never becomes dicts)."""
        return self.score([dict(zip(names, v, strict=True)) for v in values.tolist()])

    def describe(self) -> dict[str, Any]:
        return {"kind": type(self).__name__}

    def check(self, specs: Sequence[MetricSpec]) -> None:
        known = {s.name for s in specs}
        for m in self.metrics:
            if m not in known:
                raise ArchGymError(f"objective uses unknown metric {m!r}; "
                                   f"metrics are {', '.join(sorted(known))}")


class Target(Objective):
    """ArchGym's target formulation over one or more metrics (combined by product)."""

    reward_floor = 0.0  # 1 / (distance + eps) > 0

    def __init__(self, targets: Mapping[str, float], eps: float = 1e-3,
                 tolerance: float = 0.01) -> None:
        if not targets:
            raise ArchGymError("a target objective needs at least one metric target")
        for name, t in targets.items():
            if not t > 0:
                raise ArchGymError(f"target for {name!r} must be > 0, got {t!r}")
        self.targets = {k: float(v) for k, v in targets.items()}
        self.metrics = tuple(self.targets)
        self.eps, self.tolerance = float(eps), float(tolerance)

    def distances(self, metrics: Metrics) -> dict[str, float]:
        """Relative distance ``|value - target| / target`` per metric."""
        return {m: abs(metrics[m] - t) / t for m, t in self.targets.items()}

    def reward(self, metrics: Metrics) -> float:
        return float(np.prod([1.0 / (d + self.eps) for d in self.distances(metrics).values()]))

    def target_met(self, metrics: Metrics) -> bool:
        return all(d <= self.tolerance for d in self.distances(metrics).values())

    def describe(self) -> dict[str, Any]:
        return {"kind": "target", "targets": self.targets, "eps": self.eps,
                "tolerance": self.tolerance}


class Optimize(Objective):
    """Minimise (or maximise) one metric; reward ``-sign * value / scale``."""

    def __init__(self, spec: MetricSpec) -> None:
        self.spec = spec
        self.metrics = (spec.name,)
        self._terms = (-spec.sign, spec.name, spec.scale)  # read once per design

    def reward(self, metrics: Metrics) -> float:
        neg_sign, name, scale = self._terms
        return neg_sign * metrics[name] / scale

    def score_rows(self, values: np.ndarray, names: Sequence[str]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if type(self).feasible is not Objective.feasible or \
                type(self).target_met is not Objective.target_met:
            return super().score_rows(values, names)
        neg_sign, name, scale = self._terms
        n = len(values)
        return (neg_sign * np.asarray(values, dtype=np.float64)[:, names.index(name)] / scale,
                np.ones(n, dtype=bool), np.zeros(n, dtype=bool))

    def describe(self) -> dict[str, Any]:
        return {"kind": "optimize", "metric": self.spec.name, "direction": self.spec.direction,
                "scale": self.spec.scale}


class WeightedSum(Objective):
    """``-sum_m w_m * sign_m * value_m / scale_m`` over the named metrics."""

    def __init__(self, weights: Mapping[str, float], specs: Sequence[MetricSpec]) -> None:
        by_name = {s.name: s for s in specs}
        unknown = [m for m in weights if m not in by_name]
        if unknown:
            raise ArchGymError(f"weighted sum names unknown metric {unknown[0]!r}; "
                               f"metrics are {', '.join(by_name)}")
        self.weights = {k: float(v) for k, v in weights.items()}
        self.specs = {m: by_name[m] for m in self.weights}
        self.metrics = tuple(self.weights)

    def reward(self, metrics: Metrics) -> float:
        return -sum(w * self.specs[m].sign * metrics[m] / self.specs[m].scale
                    for m, w in self.weights.items())

    def describe(self) -> dict[str, Any]:
        return {"kind": "weighted_sum", "weights": self.weights,
                "directions": {m: s.direction for m, s in self.specs.items()},
                "scales": {m: s.scale for m, s in self.specs.items()}}


_LIMIT_OPS = {"<=": operator.le, ">=": operator.ge}


class Constrained(Objective):
    """Hard limits on metrics around any objective.

    A design breaking a limit is infeasible, and its reward is the base reward minus
    ``penalty`` times the summed relative violations, so searchers still see a gradient
    back towards feasibility. Where the base reward is bounded below (ArchGym's targets:
    ``> 0``), an infeasible design gets that bound minus the penalty instead, so it ranks
    below every feasible design however close to its target it lands (an additive penalty
    cannot guarantee that against a reward peaked at ``1 / eps``).
    """

    def __init__(self, base: Objective, limits: Mapping[str, tuple[str, float]],
                 penalty: float = 10.0) -> None:
        for m, (op, bound) in limits.items():
            if op not in _LIMIT_OPS:
                raise ArchGymError(f"limit on {m!r}: operator must be '<=' or '>=', got {op!r}")
            if bound == 0:
                raise ArchGymError(f"limit on {m!r}: bound must be non-zero (it is the scale)")
        self.base, self.limits, self.penalty = base, dict(limits), float(penalty)
        self.metrics = tuple(dict.fromkeys((*base.metrics, *self.limits)))

    def violation(self, metrics: Metrics) -> float:
        total = 0.0
        for m, (op, bound) in self.limits.items():
            if not _LIMIT_OPS[op](metrics[m], bound):
                total += abs(metrics[m] - bound) / abs(bound)
        return total

    def reward(self, metrics: Metrics) -> float:
        violation = self.violation(metrics)
        start = self.base.reward_floor if violation and self.base.reward_floor is not None \
            else self.base.reward(metrics)
        return start - self.penalty * violation

    def feasible(self, metrics: Metrics) -> bool:
        return self.violation(metrics) == 0.0 and self.base.feasible(metrics)

    def target_met(self, metrics: Metrics) -> bool:
        return self.feasible(metrics) and self.base.target_met(metrics)

    def describe(self) -> dict[str, Any]:
        return {"kind": "constrained", "base": self.base.describe(),
                "limits": {m: list(v) for m, v in self.limits.items()},
                "penalty": self.penalty}


class CostVector:
    """Per metric ``sign * value / scale``: smaller is better in every coordinate.

    ``signs`` are +1 for minimised and -1 for maximised metrics; ``scales`` default to 1.
    """

    def __init__(self, names: Sequence[str], signs: Sequence[float],
                 scales: Sequence[float] | None = None) -> None:
        self.names = tuple(names)
        self.signs = np.asarray(signs, dtype=np.float64)
        self.scales = np.ones(len(self.names)) if scales is None \
            else np.asarray(scales, dtype=np.float64)

    @classmethod
    def of_specs(cls, specs: Sequence[MetricSpec]) -> CostVector:
        return cls([s.name for s in specs], [s.sign for s in specs], [s.scale for s in specs])

    def __call__(self, metrics: Mapping[str, float]) -> np.ndarray:
        missing = [n for n in self.names if n not in metrics]
        if missing:
            raise ArchGymError(f"objective metric {missing[0]!r} is not reported by the env; "
                               f"metrics are {', '.join(sorted(metrics))}")
        return self.signs * np.array([float(metrics[n]) for n in self.names]) / self.scales


class MultiObjective(Objective):
    """A vector of costs (``sign * value / scale``, smaller is better) for MO searchers."""

    def __init__(self, specs: Sequence[MetricSpec]) -> None:
        if len(specs) < 2:
            raise ArchGymError("a multi-objective needs at least two metrics")
        self.specs = tuple(specs)
        self.metrics = tuple(s.name for s in specs)
        self.costs = CostVector.of_specs(self.specs)

    def reward(self, metrics: Metrics) -> float:
        return -float(self.costs(metrics).sum())

    def describe(self) -> dict[str, Any]:
        return {"kind": "multi_objective", "metrics": list(self.metrics),
                "directions": [s.direction for s in self.specs]}


def pareto_front(costs: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows of ``costs`` (n x d, minimise every column).

    Duplicated points are all kept (none strictly dominates the other)."""
    costs = np.asarray(costs, dtype=np.float64)
    keep = []
    for i, c in enumerate(costs):
        dominated = np.all(costs <= c, axis=1) & np.any(costs < c, axis=1)
        if not dominated.any():
            keep.append(i)
    return np.array(keep, dtype=np.int64)


def hypervolume(costs: np.ndarray, reference: Sequence[float]) -> float:
    """Exact hypervolume dominated by ``costs`` (minimisation) and bounded by ``reference``.

    Slices along the last objective recursively (HSO; While et al., IEEE TEC 2006), which is
    exact and fast enough for the fronts DSE produces (tens to hundreds of points, d <= 4).
    """
    ref = np.asarray(reference, dtype=np.float64)
    pts = np.asarray(costs, dtype=np.float64).reshape(-1, ref.size)
    pts = pts[np.all(pts < ref, axis=1)]
    if len(pts) == 0:
        return 0.0
    if ref.size == 1:
        return float(ref[0] - pts[:, 0].min())
    pts = pts[pareto_front(pts)]
    order = np.argsort(pts[:, -1])
    pts = pts[order]
    volume = 0.0
    for i in range(len(pts)):
        upper = pts[i + 1, -1] if i + 1 < len(pts) else ref[-1]
        depth = upper - pts[i, -1]
        if depth > 0:
            volume += depth * hypervolume(pts[: i + 1, :-1], ref[:-1])
    return float(volume)


# ------------------------------------------------------------------------------ parsing

_LIMIT = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(<=|>=)\s*(\S+)\s*$")
_FORMS = ("a metric, min:METRIC, max:METRIC, target:METRIC[=VALUE],..., W*METRIC+W*METRIC, "
          "pareto:METRIC,METRIC, each optionally followed by '; METRIC<=VALUE' limits")


def metric_directions(entries: Sequence[str] | str, specs: Sequence[MetricSpec] | None = None,
                      owner: str = "objective") -> tuple[list[str], list[float]]:
    """``["latency_ns", "bandwidth_gbps:max", "min:power_mw"]`` -> names and signs (+1
    minimise, -1 maximise). A name without a direction takes its spec's (minimise when no
    specs are known). The one reader of metric lists, for objectives and searchers alike."""
    if isinstance(entries, str):
        entries = [entries]
    by_name = {s.name: s for s in specs or ()}
    names, signs = [], []
    for entry in entries:
        if not isinstance(entry, str) or not entry.strip():
            raise ArchGymError(f"{owner}: metrics must be non-empty names, got {entry!r}")
        text = entry.strip()
        direction = ""
        for d in ("min", "max"):
            if text.startswith(d + ":"):
                direction, text = d, text[len(d) + 1:]
            elif text.endswith(":" + d):
                direction, text = d, text[: -len(d) - 1]
        if ":" in text:
            raise ArchGymError(f"{owner}: {entry!r}: a direction is 'min' or 'max' (e.g. "
                               "'bandwidth_gbps:max')")
        if by_name and text not in by_name:
            raise ArchGymError(f"{owner}: unknown metric {text!r}; metrics: "
                               f"{', '.join(by_name)}")
        if text in names:
            raise ArchGymError(f"{owner}: metric {text!r} appears twice")
        sign = {"min": 1.0, "max": -1.0}.get(direction,
                                            by_name[text].sign if text in by_name else 1.0)
        names.append(text)
        signs.append(sign)
    if not names:
        raise ArchGymError(f"{owner}: no metric given")
    return names, signs


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ArchGymError(f"objective: {what} must be a number, got {text!r}") from None


def parse(text: str, specs: Sequence[MetricSpec], aliases: Mapping[str, str] | None = None,
          targets: Mapping[str, float] | None = None) -> Objective:
    """The objective an env's ``objective=`` string names (grammar in the module docstring).

    ``aliases`` map env-specific words to objective strings; ``targets`` give the default
    target of a metric named in ``target:`` without a value.
    """
    aliases, targets = dict(aliases or {}), dict(targets or {})
    by_name = {s.name: s for s in specs}
    if not isinstance(text, str) or not text.strip():
        raise ArchGymError(f"objective must be a non-empty string: {_FORMS}")
    text = aliases.get(text.strip(), text)
    head, *limit_texts = [part.strip() for part in text.split(";")]
    head = aliases.get(head, head)

    def spec(name: str) -> MetricSpec:
        if name not in by_name:
            known = ", ".join([*aliases, *by_name])
            raise ArchGymError(f"unknown objective or metric {name!r}; allowed: {known} "
                               f"(forms: {_FORMS})")
        return by_name[name]

    kind, _, rest = head.partition(":") if ":" in head else ("", "", head)
    if kind == "target":
        chosen: dict[str, float] = {}
        for item in filter(None, (i.strip() for i in rest.split(","))):
            name, eq, value = (x.strip() for x in item.partition("="))
            spec(name)
            if eq:
                chosen[name] = _number(value, f"the target of {name}")
            elif name in targets:
                chosen[name] = float(targets[name])
            else:
                raise ArchGymError(f"objective: no default target for {name!r}; give one, "
                                   f"e.g. target:{name}=VALUE")
        base: Objective = Target(chosen)
    elif kind == "pareto":
        names, signs = metric_directions(rest.split(","), specs, "objective pareto")
        base = MultiObjective([dataclasses.replace(
            by_name[n], direction="minimize" if s > 0 else "maximize")
            for n, s in zip(names, signs, strict=True)])
    elif kind in ("min", "max"):
        base = Optimize(dataclasses.replace(
            spec(rest.strip()), direction="minimize" if kind == "min" else "maximize"))
    elif kind:
        raise ArchGymError(f"objective {head!r}: unknown form {kind!r}; forms: {_FORMS}")
    elif "*" in head or "+" in head:
        weights: dict[str, float] = {}
        for term in head.split("+"):
            w, star, name = term.strip().rpartition("*")
            weights[spec(name.strip()).name] = _number(w, "a weight") if star else 1.0
        base = WeightedSum(weights, specs)
    else:
        base = Optimize(spec(head))
    if not limit_texts:
        return base
    limits: dict[str, tuple[str, float]] = {}
    for item in limit_texts:
        m = _LIMIT.match(item)
        if not m:
            raise ArchGymError(f"objective limit {item!r} must look like METRIC<=VALUE or "
                               "METRIC>=VALUE")
        limits[spec(m.group(1)).name] = (m.group(2), _number(m.group(3), "a limit"))
    return Constrained(base, limits)


def formula(objective: Objective | Mapping[str, Any]) -> str:
    """The reward of ``objective`` (or of its :meth:`~Objective.describe` dict, as a dataset's
    ``objective`` column holds it) as one formula, for help texts, summaries and reports."""
    expr, note = _formula(objective if isinstance(objective, Mapping) else objective.describe())
    return f"{expr}   ({note})" if note else expr


def _formula(d: Mapping[str, Any]) -> tuple[str, str]:
    """The formula and a note on what it means (ArchGym's targets)."""
    kind = d["kind"]
    if kind == "target":
        terms = [f"{t:.6g} / (|{m} - {t:.6g}| + {d['eps'] * t:.4g})"
                 for m, t in d["targets"].items()]
        return " * ".join(terms), f"ArchGym's target reward; met within {d['tolerance']:.0%}"
    if kind == "optimize":
        sign = "-" if d["direction"] == "minimize" else "+"
        return f"{sign}{d['metric']} / {d['scale']:.6g}", ""
    if kind == "weighted_sum":
        return " ".join(f"{'-' if d['directions'][m] == 'minimize' else '+'} {w:g}*{m}/"
                        f"{d['scales'][m]:.6g}" for m, w in d["weights"].items()), ""
    if kind == "multi_objective":
        return "Pareto front of (" + ", ".join(
            f"{dr[:3]} {m}" for m, dr in zip(d["metrics"], d["directions"], strict=True)) + \
            ")", "scalar reward = -sum of scaled costs"
    if kind == "constrained":
        limits = ", ".join(f"{m} {op} {b:.6g}" for m, (op, b) in d["limits"].items())
        base, note = _formula(d["base"])
        if d["base"]["kind"] == "target":  # bounded below by Target.reward_floor
            return (f"{base} if {limits}, else {Target.reward_floor:g} - {d['penalty']:g} * "
                    "relative violation"), note
        return f"{base} - {d['penalty']:g} * relative violation of ({limits})", note
    return kind, ""


def has_targets(description: Mapping[str, Any]) -> bool:
    """Whether an objective (as described) has ArchGym targets, i.e. a ``target_met`` goal."""
    kind = description.get("kind")
    return kind == "target" or (kind == "constrained" and has_targets(description["base"]))
