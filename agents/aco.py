"""Ant colony optimisation over a design space's per-parameter choices.

Follows Dorigo's ant colony optimisation (Dorigo, Maniezzo & Colorni, "Ant System", IEEE
SMC-B 1996; Dorigo & Stützle, *Ant Colony Optimization*, MIT Press 2004) on the construction
graph ArchGym's ACO used (through DeepSwarm): an ant builds a design by choosing one value
per parameter, in order, and each (parameter, value) pair carries pheromone ``tau``. An ant
picks value ``v`` of parameter ``p`` with probability proportional to
``tau[p][v]**alpha * eta[p][v]**beta``, or, with probability ``greediness``, takes the best-
scoring value outright (the pseudo-random-proportional rule of Ant Colony System, Dorigo &
Gambardella 1997; ArchGym's ``greediness``).

After every ``ants`` evaluations (one iteration) all pheromone evaporates,
``tau <- (1 - evaporation) * tau``, and the iteration's valid ants deposit in proportion to
their reward rank (rank-based Ant System, Bullnheimer, Hartl & Strauss 1999): of ``k`` ants
the best deposits ``evaporation * 1``, the next ``evaporation * (k-1)/k``, ..., the worst
``evaporation / k``; the best design found so far deposits ``evaporation`` too (elitist ant).
Pheromone never falls below ``0.01`` (of the initial 1.0), as in MAX-MIN Ant System (Stützle
& Hoos 2000), so no value becomes unreachable.

A black-box design problem has no a-priori heuristic (ArchGym's had none), so ``eta`` is
learnt: the best reward seen with that value, scaled to ``[0.1, 1]`` across the parameter's
values, and ``1`` (optimistic) for a value never tried. Ants that build an invalid or
already-proposed design build again (:class:`agents.memo.Memo`).

Hyper-parameters
----------------
ants : int, default 10
    Ants (evaluations) per iteration between pheromone updates.
evaporation : float, default 0.1
    Pheromone evaporation rate ``rho`` in ``(0, 1]`` (ArchGym's default); also scales deposits.
alpha : float, default 1.0
    Weight of pheromone in the choice rule.
beta : float, default 1.0
    Weight of the learnt heuristic ``eta``; 0 ignores it.
greediness : float, default 0.5
    Probability of choosing the best-scoring value instead of sampling (ArchGym's default).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from agents.base import Searcher
from agents.memo import Memo
from archgym.errors import ArchGymError
from archgym.space import DesignSpace

TAU_MIN = 0.01


class AntColony(Searcher):
    name = "aco"
    defaults: dict[str, Any] = {"ants": 10, "evaporation": 0.1, "alpha": 1.0, "beta": 1.0,
                                "greediness": 0.5}

    def __init__(self, space: DesignSpace, seed: int = 0, **hparams: Any) -> None:
        super().__init__(space, seed=seed, **hparams)
        h = self.hparams
        if h["ants"] < 1:
            raise ArchGymError("aco: ants must be >= 1")
        if not 0.0 < h["evaporation"] <= 1.0:
            raise ArchGymError("aco: evaporation must be in (0, 1]")
        if h["alpha"] < 0 or h["beta"] < 0:
            raise ArchGymError("aco: alpha and beta must be >= 0")
        if not 0.0 <= h["greediness"] <= 1.0:
            raise ArchGymError("aco: greediness must be in [0, 1]")
        self.tau = [np.ones(n) for n in space.nvec]
        #: best fitness seen with each (parameter, value); -inf for never seen
        self.best_with = [np.full(n, -math.inf) for n in space.nvec]
        self.memo = Memo(space)
        self._iteration: list[tuple[np.ndarray, float]] = []
        self.best: tuple[np.ndarray, float] | None = None
        self.iterations = 0
        self._score_cache: list[np.ndarray] | None = None

    def heuristic(self, i: int) -> np.ndarray:
        """``eta`` of parameter ``i``'s values (see the module docstring)."""
        seen = self.best_with[i]
        finite = np.isfinite(seen)
        eta = np.ones(len(seen))
        if finite.any():
            lo, hi = seen[finite].min(), seen[finite].max()
            eta[finite] = 0.1 + 0.9 * ((seen[finite] - lo) / (hi - lo) if hi > lo else 1.0)
        return eta

    def _scores(self) -> list[np.ndarray]:
        """``tau**alpha * eta**beta`` per parameter; cached until the next ``tell``."""
        if self._score_cache is None:
            a, b = self.hparams["alpha"], self.hparams["beta"]
            self._score_cache = [tau ** a * self.heuristic(i) ** b
                                 for i, tau in enumerate(self.tau)]
        return self._score_cache

    def _construct(self) -> dict[str, Any]:
        index = np.empty(len(self.space), dtype=np.int64)
        for i, score in enumerate(self._scores()):
            if self.rng.random() < self.hparams["greediness"]:
                top = np.flatnonzero(score == score.max())
                index[i] = top[self.rng.integers(len(top))]
            else:
                cum = np.cumsum(score)
                index[i] = min(int(np.searchsorted(cum, self.rng.random() * cum[-1],
                                                   side="right")), len(score) - 1)
        return self.space.from_index(index)

    def ask(self) -> dict[str, Any]:
        return self.memo.fresh(self._construct, self.rng)

    def tell(self, config: Mapping[str, Any], metrics: Mapping[str, float] | None,
             reward: float) -> None:
        f, index = self.memo.tell(config, metrics, reward)
        if index is None:
            return
        self._score_cache = None
        if math.isfinite(f):
            for i, v in enumerate(index):
                self.best_with[i][v] = max(self.best_with[i][v], f)
            if self.best is None or f > self.best[1]:
                self.best = (index, f)
        self._iteration.append((index, f))
        if len(self._iteration) >= self.hparams["ants"]:
            self._update()

    def _update(self) -> None:
        rho = self.hparams["evaporation"]
        for tau in self.tau:
            tau *= 1.0 - rho
        ranked = sorted((a for a in self._iteration if math.isfinite(a[1])),
                        key=lambda a: -a[1])
        deposits = [(index, (len(ranked) - r) / len(ranked)) for r, (index, _)
                    in enumerate(ranked)]
        if self.best is not None:
            deposits.append((self.best[0], 1.0))
        for index, weight in deposits:
            for i, v in enumerate(index):
                self.tau[i][v] += rho * weight
        for tau in self.tau:
            np.maximum(tau, TAU_MIN, out=tau)
        self._iteration = []
        self.iterations += 1
