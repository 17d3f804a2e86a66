"""Proxies in the loop: evaluators an env uses in place of (or next to) its simulator.

- :class:`ProxyEvaluator` (``cost_model="proxy"``): every design answered by the proxy, a
  whole batch in one model call (``evaluate_batch``).
- :class:`MultiFidelityEvaluator` (``cost_model="multi-fidelity"``): the proxy answers
  where its ensemble is confident, the simulator everywhere else. Confidence is the largest
  relative spread over the metrics, ``max_m std_m / |mean_m|``; a design uses the proxy when
  that is strictly below ``threshold`` (default :data:`DEFAULT_THRESHOLD`, i.e. 5 %), so
  ``threshold=0`` always simulates and ``threshold=inf`` never does. Which one answered is
  kept per design (:meth:`MultiFidelityEvaluator.fidelity_of`) and written by the dataset
  recorder as each row's ``fidelity`` column.

:func:`wrap_evaluator` is what an env calls for its ``cost_model``/``proxy`` parameters;
it works for any env whose evaluator exposes ``space`` and ``metric_specs``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from archgym.errors import ArchGymError
from archgym.evaluator import Evaluator, Metrics
from archgym.proxy.core import Proxy, load

COST_MODELS = ("simulator", "proxy", "multi-fidelity")
DEFAULT_THRESHOLD = 0.05


def _rows(names: Sequence[str], preds: Mapping[str, np.ndarray]) -> list[Metrics]:
    cols = [preds[n].tolist() for n in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*cols, strict=True)]


class ProxyEvaluator(Evaluator):
    """Answers every design with a trained :class:`Proxy` (batch-fast)."""

    cost_model = "proxy"

    def __init__(self, proxy: Proxy, reference: Evaluator | None = None,
                 cache_size: int = 4096) -> None:
        super().__init__(cache_size)
        self.proxy = proxy
        if reference is not None:
            proxy.check(space=reference.space, workload=reference.workload,
                        metrics=reference.metric_names)
            self.space, self.metric_specs = reference.space, tuple(reference.metric_specs)
            self.workload, self.workload_hash = reference.workload, reference.workload_hash
        else:
            self.space, self.metric_specs = proxy.space, proxy.metric_specs
            self.workload = str(proxy.meta.get("workload", ""))
        # the proxy's columns in the env's metric order
        self._order = [proxy.metrics.index(n) for n in self.metric_names]

    def _evaluate(self, config: Mapping[str, Any]) -> Metrics:
        return self._evaluate_many([config])[0]

    def _evaluate_many(self, configs: Sequence[Mapping[str, Any]]) -> list[Metrics]:
        return _rows(self.metric_names, self.proxy.predict(configs))

    def evaluate_batch(self, configs: Iterable[Mapping[str, Any]]) -> list[Metrics]:
        """One model call for the whole batch. Without constraints in the space, the
        feature encoder is the validation (an unknown value or a missing parameter raises;
        an extra one is caught by the size check) and the per-design cache is skipped: a
        prediction costs less than a cache look-up. Otherwise the base class's path."""
        configs = list(configs)
        n = len(self.space)
        if self.space.constraints or any(len(c) != n for c in configs):
            return super().evaluate_batch(configs)
        self.calls += len(configs)
        return self._evaluate_many(configs)

    def evaluate_rows(self, rows: np.ndarray) -> np.ndarray:
        """Index rows (on the grid, as :meth:`DesignEnv.step_rows` checks them) straight to
        features by table look-ups and one model call, on a finite space without
        constraints; the same numbers as :meth:`evaluate_batch` (tested)."""
        if self.space.constraints or not self.space.finite:
            return super().evaluate_rows(rows)
        self.calls += len(rows)
        return self.proxy.predict_matrix(self.proxy.encoder.encode_index(rows))[0][:, self._order]



class MultiFidelityEvaluator(Evaluator):
    """Proxy where its ensemble is confident, simulator where it is not (see module doc)."""

    cost_model = "multi-fidelity"

    def __init__(self, simulator: Evaluator, proxy: Proxy,
                 threshold: float = DEFAULT_THRESHOLD, cache_size: int = 4096) -> None:
        super().__init__(cache_size)
        if not proxy.has_std:
            raise ArchGymError(f"multi-fidelity needs a proxy with an uncertainty (rf, gbt, "
                               f"gp); {proxy.kind!r} has none")
        if not threshold >= 0:
            raise ArchGymError(f"multi-fidelity threshold must be >= 0, got {threshold}")
        proxy.check(space=simulator.space, workload=simulator.workload,
                    metrics=simulator.metric_names)
        self.simulator, self.proxy, self.threshold = simulator, proxy, float(threshold)
        self.space, self.metric_specs = simulator.space, tuple(simulator.metric_specs)
        self.workload, self.workload_hash = simulator.workload, simulator.workload_hash
        self._fidelity: dict[str, str] = {}
        self.proxy_calls = self.simulator_calls = 0

    def uncertainty(self, configs: Sequence[Mapping[str, Any]]
                    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Proxy means and each design's largest relative spread over the metrics."""
        mean, std = self.proxy.predict(configs, return_std=True)
        rel = np.zeros(len(configs))
        for m in self.metric_names:
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.abs(std[m]) / np.abs(mean[m])
            r = np.where(std[m] == 0, 0.0, r)
            rel = np.maximum(rel, np.where(np.isfinite(r), r, math.inf))
        return mean, rel

    def _evaluate(self, config: Mapping[str, Any]) -> Metrics:
        return self._evaluate_many([config])[0]

    def _evaluate_many(self, configs: Sequence[Mapping[str, Any]]) -> list[Metrics]:
        mean, rel = self.uncertainty(configs)
        out = _rows(self.metric_names, mean)
        confident = rel < self.threshold
        unsure = [i for i in range(len(configs)) if not confident[i]]
        if unsure:
            simulated = self.simulator.evaluate_batch([configs[i] for i in unsure])
            for i, m in zip(unsure, simulated, strict=True):
                out[i] = m
        for i, c in enumerate(configs):
            self._fidelity[self.space.key(c)] = "proxy" if confident[i] else "simulator"
        self.simulator_calls += len(unsure)
        self.proxy_calls += len(configs) - len(unsure)
        return out

    def fidelity_of(self, config: Mapping[str, Any]) -> str:
        """Which cost model answered ``config``: ``"proxy"`` or ``"simulator"``."""
        return self._fidelity.get(self.space.key(config), "")



def wrap_evaluator(sim_evaluator: Evaluator, cost_model: str,
                   proxy_path: str | Path | None, threshold: float = DEFAULT_THRESHOLD,
                   env: Any = None) -> Evaluator:
    """The evaluator an env uses for ``cost_model`` (one of :data:`COST_MODELS`).

    ``proxy_path`` is a directory saved by :meth:`Proxy.save`; it must match the
    simulator's space, workload and metrics, and, given the ``env``, every parameter of the
    env that decides a design's metrics (its ``metric_spec_key()``).
    """
    if cost_model not in COST_MODELS:
        raise ArchGymError(f"unknown cost_model {cost_model!r}; allowed: "
                           f"{', '.join(COST_MODELS)}")
    if cost_model == "simulator":
        return sim_evaluator
    if proxy_path is None or str(proxy_path) == "":
        raise ArchGymError(f"cost_model={cost_model!r} needs proxy=<path of a saved proxy> "
                           "(train one with `archgym proxy train`)")
    proxy = load(proxy_path, space=sim_evaluator.space, workload=sim_evaluator.workload,
                 spec_key=env.metric_spec_key() if env is not None else None)
    if cost_model == "proxy":
        return ProxyEvaluator(proxy, reference=sim_evaluator)
    return MultiFidelityEvaluator(sim_evaluator, proxy, threshold)
