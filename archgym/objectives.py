"""Objectives: metrics -> reward (higher is better), plus feasibility and Pareto helpers.

- :class:`Target` is ArchGym's formulation (Krishnan et al., ISCA 2023, DRAMGym): each
  metric's reward is ``target / |value - target|`` (inverse relative distance to the
  target) and "both" multiplies them. We add ``eps`` to the distance so a design that hits
  the target exactly gets a finite reward (``1 / eps``).
- :class:`Optimize` minimises (or maximises) one metric, scaled by its typical value.
- :class:`WeightedSum` scalarises several metrics with user weights.
- :class:`Constrained` adds hard limits on metrics to any objective (penalty + feasibility).
- :class:`MultiObjective` keeps the vector for multi-objective searchers; its scalar reward
  (for RL) is an equal-weight sum. :func:`pareto_front` and :func:`hypervolume` work on
  cost vectors (smaller is better in every coordinate).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from archgym.errors import ArchGymError
from archgym.evaluator import Metrics, MetricSpec


class Objective:
    """Base: ``reward(metrics)``, ``feasible(metrics)``, ``target_met(metrics)``."""

    #: metrics this objective reads (checked against the evaluator's specs by the env)
    metrics: tuple[str, ...] = ()

    def reward(self, metrics: Metrics) -> float:
        raise NotImplementedError

    def feasible(self, metrics: Metrics) -> bool:
        return True

    def target_met(self, metrics: Metrics) -> bool:
        """Whether a design meets the user's goal (objectives without a goal: never)."""
        return False

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

    def reward(self, metrics: Metrics) -> float:
        return -self.spec.sign * metrics[self.spec.name] / self.spec.scale

    def describe(self) -> dict[str, Any]:
        return {"kind": "optimize", "metric": self.spec.name, "direction": self.spec.direction}


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
        return {"kind": "weighted_sum", "weights": self.weights}


_LIMIT_OPS = {"<=": operator.le, ">=": operator.ge}


class Constrained(Objective):
    """Hard limits on metrics around any objective.

    A design breaking a limit is infeasible, and its reward is the base reward minus
    ``penalty`` times the summed relative violations, so searchers still see a gradient
    back towards feasibility.
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
        return self.base.reward(metrics) - self.penalty * self.violation(metrics)

    def feasible(self, metrics: Metrics) -> bool:
        return self.violation(metrics) == 0.0 and self.base.feasible(metrics)

    def target_met(self, metrics: Metrics) -> bool:
        return self.feasible(metrics) and self.base.target_met(metrics)

    def describe(self) -> dict[str, Any]:
        return {"kind": "constrained", "base": self.base.describe(),
                "limits": {m: list(v) for m, v in self.limits.items()},
                "penalty": self.penalty}


class MultiObjective(Objective):
    """A vector of costs (``sign * value / scale``, smaller is better) for MO searchers."""

    def __init__(self, specs: Sequence[MetricSpec]) -> None:
        if len(specs) < 2:
            raise ArchGymError("a multi-objective needs at least two metrics")
        self.specs = tuple(specs)
        self.metrics = tuple(s.name for s in specs)

    def costs(self, metrics: Metrics) -> np.ndarray:
        return np.array([s.sign * metrics[s.name] / s.scale for s in self.specs])

    def reward(self, metrics: Metrics) -> float:
        return -float(self.costs(metrics).sum())

    def describe(self) -> dict[str, Any]:
        return {"kind": "multi_objective", "metrics": list(self.metrics)}


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
