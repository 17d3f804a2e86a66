"""Multi-objective bookkeeping shared by the searchers that take an ``objectives`` list.

A searcher given ``objectives=["latency_ns", "power_mw"]`` optimises each named metric in
its direction (``agents.for_env`` reads them from the env's metric specs; a name ending in
``":max"`` or ``":min"`` says it explicitly). The searcher
keeps every evaluated design in a :class:`ParetoArchive` and its ``pareto_front()`` returns
the non-dominated ``(config, metrics)`` pairs, judged on the metrics themselves, not on the
env's scalar reward.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from archgym.errors import ArchGymError
from archgym.objectives import CostVector, metric_directions, pareto_front


def parse_objectives(searcher: str, objectives: Any) -> tuple[list[str], np.ndarray] | None:
    """``(metric names, signs)`` with sign +1 for minimised and -1 for maximised metrics,
    or ``None`` for single-objective search (``objectives`` is ``None``). A name without a
    direction is minimised unless ``agents.for_env`` resolved it from the env's metric specs
    (it writes every entry as ``name:min`` or ``name:max``)."""
    if objectives is None:
        return None
    if not isinstance(objectives, str | Sequence) or not objectives:
        raise ArchGymError(f"searcher {searcher!r}: hyper-parameter 'objectives' must be a "
                           f"non-empty list of metric names, got {objectives!r}")
    names, signs = metric_directions(objectives, owner=f"searcher {searcher!r} objectives")
    return names, np.array(signs)


class ParetoArchive:
    """Every evaluated design with its cost vector (minimise every column)."""

    def __init__(self, searcher: str, names: Sequence[str], signs: np.ndarray) -> None:
        self.searcher, self.names, self.signs = searcher, list(names), np.asarray(signs)
        self.cost = CostVector(self.names, self.signs)
        self.configs: list[dict[str, Any]] = []
        self.metrics: list[dict[str, float]] = []
        self.costs: list[np.ndarray] = []

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
