"""Multi-objective bookkeeping shared by the searchers that take an ``objectives`` list.

A searcher given ``objectives=["latency_ns", "power_mw"]`` minimises each named metric; a
name ending in ``":max"`` (``"bandwidth_gbps:max"``) is maximised instead. The searcher
keeps every evaluated design in a :class:`ParetoArchive` and its ``pareto_front()`` returns
the non-dominated ``(config, metrics)`` pairs, judged on the metrics themselves, not on the
env's scalar reward.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from archgym.errors import ArchGymError
from archgym.objectives import pareto_front


def parse_objectives(searcher: str, objectives: Any) -> tuple[list[str], np.ndarray] | None:
    """``(metric names, signs)`` with sign +1 for minimised and -1 for maximised metrics,
    or ``None`` for single-objective search (``objectives`` is ``None``)."""
    if objectives is None:
        return None
    if isinstance(objectives, str):
        objectives = [objectives]
    if not isinstance(objectives, Sequence) or not objectives \
            or not all(isinstance(o, str) and o for o in objectives):
        raise ArchGymError(f"searcher {searcher!r}: hyper-parameter 'objectives' must be a "
                           f"non-empty list of metric names, got {objectives!r}")
    names, signs = [], []
    for o in objectives:
        name, _, direction = o.partition(":")
        if direction not in ("", "min", "max"):
            raise ArchGymError(f"searcher {searcher!r}: objective {o!r}: direction must be "
                               "'min' or 'max' (e.g. 'bandwidth_gbps:max')")
        names.append(name)
        signs.append(-1.0 if direction == "max" else 1.0)
    if len(set(names)) != len(names):
        raise ArchGymError(f"searcher {searcher!r}: objectives repeat a metric: {objectives}")
    return names, np.array(signs)


class ParetoArchive:
    """Every evaluated design with its cost vector (minimise every column)."""

    def __init__(self, searcher: str, names: Sequence[str], signs: np.ndarray) -> None:
        self.searcher, self.names, self.signs = searcher, list(names), np.asarray(signs)
        self.configs: list[dict[str, Any]] = []
        self.metrics: list[dict[str, float]] = []
        self.costs: list[np.ndarray] = []

    def cost(self, metrics: Mapping[str, float]) -> np.ndarray:
        """The cost vector of ``metrics``; a missing metric is an error naming the choices."""
        missing = [n for n in self.names if n not in metrics]
        if missing:
            raise ArchGymError(f"searcher {self.searcher!r}: objective metric {missing[0]!r} "
                               f"is not reported by the env; metrics are "
                               f"{', '.join(sorted(metrics))}")
        return self.signs * np.array([float(metrics[n]) for n in self.names])

    def add(self, config: Mapping[str, Any], metrics: Mapping[str, float]) -> np.ndarray:
        c = self.cost(metrics)
        self.configs.append(dict(config))
        self.metrics.append(dict(metrics))
        self.costs.append(c)
        return c

    def front(self) -> list[tuple[dict[str, Any], dict[str, float]]]:
        """Non-dominated ``(config, metrics)`` pairs, each design once, in evaluation order."""
        if not self.costs:
            return []
        costs = np.array(self.costs)
        finite = np.flatnonzero(np.all(np.isfinite(costs), axis=1))
        out, seen = [], set()
        for i in sorted(finite[pareto_front(costs[finite])]):
            key = repr(sorted(self.configs[i].items()))
            if key not in seen:
                seen.add(key)
                out.append((dict(self.configs[i]), dict(self.metrics[i])))
        return out
