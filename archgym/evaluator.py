"""The evaluator protocol: a design config in, named metrics out.

Simulator-backed and proxy-backed evaluators are interchangeable behind this one interface,
so an environment never knows which cost model answers it. Evaluations are deterministic
for (config, workload, seed), which is what makes caching by config key correct.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from archgym.space import DesignSpace

Metrics = dict[str, float]
"""Metric name -> value, in the units of the matching :class:`MetricSpec`."""


@dataclass(frozen=True)
class MetricSpec:
    """What a metric means: its unit, which direction is better, and a typical magnitude.

    ``scale`` is the value the observation maps to 0.5 (``obs = v / (v + scale)``), so it
    should be a typical value of the metric on the workload (not a bound).
    """

    name: str
    unit: str
    direction: Literal["minimize", "maximize"] = "minimize"
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.direction not in ("minimize", "maximize"):
            raise ValueError(f"metric {self.name!r}: direction must be 'minimize' or "
                             f"'maximize', got {self.direction!r}")
        if not self.scale > 0:
            raise ValueError(f"metric {self.name!r}: scale must be > 0")

    @property
    def sign(self) -> float:
        """+1 where smaller is better, -1 where larger is better (a cost's sign)."""
        return 1.0 if self.direction == "minimize" else -1.0


class Evaluator:
    """Base class: subclasses implement :meth:`_evaluate` and set ``space``/``metric_specs``.

    :meth:`evaluate` validates the config and answers repeated configs from an LRU cache
    (``cache_size`` entries; 0 disables it).
    """

    space: DesignSpace
    metric_specs: tuple[MetricSpec, ...]
    cost_model: str = "simulator"
    #: what the dataset's ``workload`` column says, and a hash of the workload's content
    #: (so a replay can tell a changed trace file from a changed simulator)
    workload: str = ""
    workload_hash: str = ""

    def __init__(self, cache_size: int = 4096) -> None:
        self._cache: OrderedDict[str, Metrics] = OrderedDict()
        self._cache_size = cache_size
        self.calls = 0  # evaluations actually computed (cache misses)

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.metric_specs)

    def _evaluate(self, config: Mapping[str, Any]) -> Metrics:
        raise NotImplementedError

    def _evaluate_many(self, configs: Sequence[Mapping[str, Any]]) -> list[Metrics]:
        """Override where a batch is cheaper than a loop (proxies)."""
        return [self._evaluate(c) for c in configs]

    def evaluate(self, config: Mapping[str, Any]) -> Metrics:
        return self.evaluate_batch([config])[0]

    def evaluate_batch(self, configs: Iterable[Mapping[str, Any]]) -> list[Metrics]:
        configs = [self.space.validate(c) for c in configs]
        keys = [self.space.key(c) for c in configs]
        known = {k: self._cache[k] for k in keys if k in self._cache}
        todo = {k: c for k, c in zip(keys, configs, strict=True) if k not in known}
        if todo:
            results = self._evaluate_many(list(todo.values()))
            self.calls += len(todo)
            for k, m in zip(todo, results, strict=True):
                missing = set(self.metric_names) - set(m)
                if missing:
                    raise RuntimeError(f"{type(self).__name__} returned no {sorted(missing)}")
                known[k] = {n: float(m[n]) for n in self.metric_names}
        for k in known:
            self._remember(k, known[k])
        return [dict(known[k]) for k in keys]

    def evaluate_rows(self, rows: np.ndarray) -> np.ndarray:
        """Metrics of designs given as index rows: ``(n, metrics)`` in ``metric_names``
        order, the numbers :meth:`evaluate_batch` gives for their configs. Override where
        rows are cheaper than configs (a proxy encodes them with table look-ups)."""
        names = self.metric_names
        metrics = self.evaluate_batch(self.space.from_rows(rows))
        return np.array([[m[n] for n in names] for m in metrics],
                        dtype=np.float64).reshape(len(metrics), len(names))

    def _remember(self, key: str, metrics: Metrics) -> None:
        if self._cache_size <= 0:
            return
        self._cache[key] = metrics
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def describe(self) -> dict[str, Any]:
        """What a dataset row needs to say which cost model and workload answered."""
        return {"cost_model": self.cost_model, "workload": self.workload}
