"""Genetic algorithm for mixed categorical / ordinal design spaces (Holland 1975; Goldberg 1989).

Each design is a chromosome with one gene per parameter (its index in the parameter's
values). A generation is bred from the current population by tournament selection, uniform
crossover and per-gene mutation; the ``elite`` best designs survive unchanged, and the
offspring replace the rest. Mutation respects the kind of parameter: a categorical gene is
resampled to another choice (no order to exploit), an ordinal, integer or real gene steps to
a neighbouring value (reals move on the space's index grid of ``Real.steps`` points), so
"a slightly bigger buffer" is a small move. Children that break a constraint or repeat a
design already proposed are bred again (see :class:`agents.memo.Memo`). Children are bred
``population_size`` at a time, as rows of index vectors with numpy (one set of random draws
per block, not per child), and handed out in order; a new generation discards the rest.

Hand-written rather than pymoo: pymoo's GA survives by (mu + lambda) truncation without an
elite count, and the kind-aware mutation and constraint/duplicate repair would have been
custom pymoo operators, i.e. most of this file plus glue.

Hyper-parameters
----------------
population_size : int, default 20
    Designs per generation; the first generation is uniform random.
crossover_prob : float, default 0.9
    Probability that a child mixes two parents (uniform crossover, each gene from either
    parent with probability 1/2); otherwise it copies the first parent.
mutation_prob : float or None, default None
    Per-gene mutation probability; ``None`` means ``1 / number of parameters`` (one gene per
    child on average, the usual choice).
tournament_size : int, default 3
    Designs drawn (with replacement) per tournament; the fittest becomes a parent. Larger is
    greedier.
elite : int, default 2
    Best designs copied unchanged into the next generation (``0 <= elite < population_size``).

Invalid designs (``metrics is None``) get fitness ``-inf``, so they never win a tournament.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from agents.base import Searcher
from agents.memo import Memo
from archgym.errors import ArchGymError
from archgym.space import Categorical, DesignSpace


class GeneticAlgorithm(Searcher):
    name = "ga"
    defaults: dict[str, Any] = {"population_size": 20, "crossover_prob": 0.9,
                                "mutation_prob": None, "tournament_size": 3, "elite": 2}

    def __init__(self, space: DesignSpace, seed: int = 0, **hparams: Any) -> None:
        super().__init__(space, seed=seed, **hparams)
        h = self.hparams
        if h["population_size"] < 2:
            raise ArchGymError("ga: population_size must be >= 2")
        if not 0.0 <= h["crossover_prob"] <= 1.0:
            raise ArchGymError("ga: crossover_prob must be in [0, 1]")
        if h["mutation_prob"] is None:
            self.mutation_prob = 1.0 / len(space)
        elif isinstance(h["mutation_prob"], int | float) and not isinstance(
                h["mutation_prob"], bool) and 0.0 <= h["mutation_prob"] <= 1.0:
            self.mutation_prob = float(h["mutation_prob"])
        else:
            raise ArchGymError(f"ga: mutation_prob must be a number in [0, 1] or None, "
                               f"got {h['mutation_prob']!r}")
        if h["tournament_size"] < 1:
            raise ArchGymError("ga: tournament_size must be >= 1")
        if not 0 <= h["elite"] < h["population_size"]:
            raise ArchGymError(f"ga: elite must be in 0..{h['population_size'] - 1}")
        self.nvec = space.nvec
        self.categorical = np.array([isinstance(p, Categorical) for p in space])
        self.memo = Memo(space)
        #: the current generation: (genes, fitness), evaluated
        self.population: list[tuple[np.ndarray, float]] = []
        self._offspring: list[tuple[np.ndarray, float]] = []
        #: children bred from the current population, not yet handed out (last first)
        self._bred: list[list[int]] = []
        self.generation = 0

    # ---- operators, on a block of children at once (index rows)
    def _tournaments(self, shape: tuple[int, ...]) -> np.ndarray:
        """Winners of ``shape`` tournaments, as population rows: the fittest of
        ``tournament_size`` picks drawn with replacement, ties to the earliest row."""
        fit = np.array([f for _, f in self.population])
        picks = self.rng.integers(len(fit), size=(*shape, self.hparams["tournament_size"]))
        f = fit[picks]
        return np.where(f == f.max(axis=-1, keepdims=True), picks, len(fit)).min(axis=-1)

    def _mutate(self, genes: np.ndarray) -> np.ndarray:
        """Each gene (of index rows ``genes[..., d]``) mutates with ``mutation_prob``: a
        categorical one to another choice, uniformly, any other one step up or down (the
        only step there is at either end)."""
        n = self.nvec
        hit = (self.rng.random(genes.shape) < self.mutation_prob) & (n > 1)
        shift = self.rng.integers(1, np.maximum(n, 2), size=genes.shape)
        up = (self.rng.random(genes.shape) < 0.5) | (genes == 0)
        up &= genes < n - 1
        moved = np.where(self.categorical, (genes + shift) % n, genes + np.where(up, 1, -1))
        return np.where(hit, moved, genes)

    def _breed(self, m: int) -> np.ndarray:
        """``m`` children of the current population: two tournaments each, uniform
        crossover with ``crossover_prob`` (else a copy of the first parent), mutation."""
        genes = np.array([g for g, _ in self.population])
        a, b = (genes[w] for w in self._tournaments((2, m)))
        cross = self.rng.random((m, 1)) < self.hparams["crossover_prob"]
        from_a = (self.rng.random(a.shape) < 0.5) | ~cross
        return self._mutate(np.where(from_a, a, b))

    def _child(self) -> dict[str, Any]:
        if not self._bred:
            self._bred = self._breed(self.hparams["population_size"])[::-1].tolist()
        return self.space.from_index(self._bred.pop())

    # ---- ask / tell
    def ask(self) -> dict[str, Any]:
        if not self.population:
            return self.memo.fresh(lambda: self.space.sample(self.rng), self.rng)
        return self.memo.fresh(self._child, self.rng)

    def batch_limit(self) -> int:
        """The rest of the generation: its children are bred from the current population,
        which changes only once all of them are told."""
        size = self.hparams["population_size"]
        if self.population:
            size -= self.hparams["elite"]
        return max(1, size - len(self._offspring))

    def tell(self, config: Mapping[str, Any], metrics: Mapping[str, float] | None,
             reward: float) -> None:
        f, genes = self.memo.tell(config, metrics, reward)
        if genes is None:
            return
        self._offspring.append((genes, f))
        size, elite = self.hparams["population_size"], self.hparams["elite"]
        if not self.population and len(self._offspring) >= size:
            self.population, self._offspring, self._bred = self._offspring, [], []
        elif self.population and len(self._offspring) >= size - elite:
            ranked = sorted(self.population, key=lambda g: -g[1])  # stable: ties keep order
            self.population = ranked[:elite] + self._offspring
            self._offspring, self._bred = [], []
            self.generation += 1
