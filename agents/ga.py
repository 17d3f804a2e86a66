"""Genetic algorithm for mixed categorical / ordinal design spaces (Holland 1975; Goldberg 1989).

Each design is a chromosome with one gene per parameter (its index in the parameter's
values). A generation is bred from the current population by tournament selection, uniform
crossover and per-gene mutation; the ``elite`` best designs survive unchanged, and the
offspring replace the rest. Mutation respects the kind of parameter: a categorical gene is
resampled to another choice (no order to exploit), an ordinal, integer or real gene steps to
a neighbouring value (reals move on the space's index grid of ``Real.steps`` points), so
"a slightly bigger buffer" is a small move. Children that break a constraint or repeat a
design already proposed are bred again (see :class:`agents.memo.Memo`). Designs are index
rows throughout (:meth:`GeneticAlgorithm.ask_rows` / ``tell_rows``; ``ask``/``tell`` wrap
them, so both give the same run): children are bred ``population_size`` at a time by one
compiled call over a block of uniform draws, and handed out in order; a new generation
discards the rest.

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

import numba
import numpy as np

from agents.base import Searcher
from agents.memo import Memo, fitness, row_keys
from archgym.errors import ArchGymError
from archgym.space import Categorical, DesignSpace


@numba.njit(cache=True)
def _tournament(u: np.ndarray, fit: np.ndarray) -> int:
    """The fittest of ``len(u)`` population rows drawn with replacement (row
    ``floor(u * size)``), ties to the earliest row."""
    best = int(u[0] * fit.size)
    for x in u[1:]:
        p = int(x * fit.size)
        if fit[p] > fit[best] or (fit[p] == fit[best] and p < best):
            best = p
    return best


@numba.njit(cache=True)
def _breed(u: np.ndarray, genes: np.ndarray, fit: np.ndarray, tournament_size: int,
           crossover_prob: float, mutation_prob: float, nvec: np.ndarray,
           categorical: np.ndarray) -> np.ndarray:
    """One child per row of uniforms ``u`` (``2 t + 1 + 3 d`` each, see :func:`_draws`) of
    a population (index rows ``genes``, fitness ``fit``): two tournaments, uniform
    crossover with ``crossover_prob`` (else a copy of the first parent), then each gene
    mutates with ``mutation_prob``: a categorical one to another choice, uniformly, any
    other one step up or down (the only step there is at either end)."""
    m, d, t = u.shape[0], genes.shape[1], tournament_size
    out = np.empty((m, d), np.int64)
    for c in range(m):
        a, b = _tournament(u[c, :t], fit), _tournament(u[c, t:2 * t], fit)
        cross = u[c, 2 * t] < crossover_prob
        for j in range(d):
            pick, hit, move = u[c, 2 * t + 1 + 3 * j:2 * t + 4 + 3 * j]
            g = genes[b, j] if cross and pick < 0.5 else genes[a, j]
            n = nvec[j]
            if n > 1 and hit < mutation_prob:
                if categorical[j]:
                    g = (g + 1 + int(move * (n - 1))) % n
                elif g == n - 1 or (g > 0 and move < 0.5):
                    g -= 1
                else:
                    g += 1
            out[c, j] = g
    return out


def _draws(tournament_size: int, genes: int) -> int:
    """Uniforms one child takes: two tournaments, the crossover coin, and per gene its
    parent, mutation and move."""
    return 2 * tournament_size + 1 + 3 * genes


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
        self.nvec = np.asarray(space.nvec, dtype=np.int64)
        self.categorical = np.array([isinstance(p, Categorical) for p in space])
        self.memo = Memo(space, rows=True)
        #: the current generation, evaluated: index rows and their fitness
        self.genes, self.fit = np.empty((0, len(space)), np.int64), np.empty(0)
        #: children told since it formed, as told: chunks of (rows, fitness)
        self._offspring: list[tuple[np.ndarray, np.ndarray]] = []
        self._told = 0
        #: children bred from the current population, their memo keys, and the next one
        #: to hand out
        self._bred, self._bred_keys, self._next = np.empty((0, len(space)), np.int64), [], 0
        self.generation = 0

    @property
    def population(self) -> list[tuple[np.ndarray, float]]:
        """The current generation as (genes, fitness) pairs, best-kept elite first."""
        return list(zip(self.genes, self.fit.tolist(), strict=True))

    def _breed(self, m: int) -> np.ndarray:
        """``m`` children of the current population, as index rows: one block of uniform
        draws, then compiled selection, crossover and mutation (numpy spent about 90 µs
        per block in small-array calls, the GA's largest cost in the proxy loop)."""
        h, d = self.hparams, len(self.nvec)
        u = self.rng.random((m, _draws(h["tournament_size"], d)))
        return _breed(u, self.genes, self.fit, h["tournament_size"], h["crossover_prob"],
                      self.mutation_prob, self.nvec, self.categorical)

    def _draw(self) -> np.ndarray:
        """The next candidate child: a uniform random design in the first generation."""
        if not len(self.fit):
            return self.space.to_index(self.space.sample(self.rng))
        i = self._take()
        return self._bred[i]

    def _take(self) -> int:
        """The index in ``_bred`` of the next child."""
        self._refill()
        self._next += 1
        return self._next - 1

    def _refill(self) -> None:
        """Breed a block of children (and their memo keys) when all are handed out."""
        if self._next == len(self._bred):
            self._bred = self._breed(self.hparams["population_size"])
            self._bred_keys, self._next = row_keys(self._bred), 0

    def _children(self, m: int) -> np.ndarray:
        """:meth:`Memo.fresh_row` of :meth:`_draw`, ``m`` times, for bred children in a
        space without constraints: the same decisions, made by scanning each bred block's
        keys in order (no call per child), the rows taken from the block in one index."""
        proposed, pieces, got, misses = self.memo.proposed, [], 0, 0
        while got < m:
            self._refill()
            keys, i, taken = self._bred_keys, self._next, []
            while i < len(keys) and got < m:
                key, i = keys[i], i + 1
                if key not in proposed:
                    proposed.add(key)
                    taken.append(i - 1)
                    got, misses = got + 1, 0
                    continue
                misses += 1
                if misses == Memo.TRIES:  # the block so far, then a random new design
                    pieces.append(self._bred[taken])
                    row = self.memo.random_new_row(self.rng)
                    proposed.add(row.tobytes())
                    pieces.append(row[None, :])
                    taken, got, misses = [], got + 1, 0
            self._next = i
            pieces.append(self._bred[taken])
        return np.concatenate(pieces)

    # ---- ask / tell (index rows are the native form; configs wrap them)
    def ask_rows(self, n: int) -> np.ndarray:
        """``n`` new designs as index rows (``n <= batch_limit()`` for what one-at-a-time
        would propose)."""
        n = max(1, n)
        if len(self.fit) and not self.space.constraints:
            return self._children(n)
        return np.array([self.memo.fresh_row(self._draw, self.rng) for _ in range(n)])

    def ask(self) -> dict[str, Any]:
        return self.space.from_index(self.ask_rows(1)[0])

    def batch_limit(self) -> int:
        """The rest of the generation: its children are bred from the current population,
        which changes only once all of them are told."""
        size = self.hparams["population_size"]
        if len(self.fit):
            size -= self.hparams["elite"]
        return max(1, size - self._told)

    def tell(self, config: Mapping[str, Any], metrics: Mapping[str, float] | None,
             reward: float) -> None:
        try:
            row = self.space.to_index(config)
        except (KeyError, ValueError, TypeError):
            return  # not a design of the space: nothing to breed from
        self.memo.tell_rows(row[None, :])
        self._offspring_told(row[None, :], np.array([fitness(metrics, reward)]))

    def tell_rows(self, rows: np.ndarray, rewards: np.ndarray, valid: np.ndarray) -> None:
        """Results of :meth:`ask_rows` designs, in order (``valid=False``: not evaluated)."""
        rows = np.asarray(rows, dtype=np.int64)
        self.memo.tell_rows(rows)
        rewards = np.asarray(rewards, dtype=np.float64)
        fit = np.where(np.asarray(valid, dtype=bool) & np.isfinite(rewards), rewards, -np.inf)
        self._offspring_told(rows, fit)

    def _offspring_told(self, genes: np.ndarray, fit: np.ndarray) -> None:
        """Add told children (index rows and fitness) in order; each time a generation is
        complete, the next one is formed (the first from all of them, later ones from the
        ``elite`` best, ties in population order, and the offspring) and the children bred
        from the old one are discarded."""
        size, elite = self.hparams["population_size"], self.hparams["elite"]
        while len(genes):
            full = size - elite if len(self.fit) else size
            take = full - self._told
            self._offspring.append((genes[:take], fit[:take]))
            self._told += min(take, len(genes))
            genes, fit = genes[take:], fit[take:]
            if self._told < full:
                return
            kids = (np.concatenate([g for g, _ in self._offspring]),
                    np.concatenate([f for _, f in self._offspring]))
            if len(self.fit):
                keep = np.argsort(-self.fit, kind="stable")[:elite]
                kids = (np.concatenate((self.genes[keep], kids[0])),
                        np.concatenate((self.fit[keep], kids[1])))
                self.generation += 1
            self.genes, self.fit = kids
            self._offspring, self._told, self._next = [], 0, len(self._bred)
