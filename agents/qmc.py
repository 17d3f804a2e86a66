"""Quasi-random sampling: Latin hypercube ("lhs") and scrambled Sobol ("sobol") designs.

Both draw points of the unit cube ``[0, 1]^d`` with :mod:`scipy.stats.qmc` and map them to
designs with :meth:`DesignSpace.from_unit` (finite parameters: equal-width bins per value, so
stratification in the cube is stratification over each parameter's values). Compared with
uniform random search the points cover every parameter's range evenly from the first few
samples (McKay et al. 1979 for Latin hypercubes; Sobol 1967, Owen 1998 for scrambling).

Hyper-parameters
----------------
batch_size : int, default 64
    Points drawn at once. A Latin hypercube is stratified within each batch of this many
    points; Sobol points keep their balance properties for power-of-two batches (the default).
scramble : bool, default True
    Randomise the design (Owen scrambling for Sobol, random placement inside the strata for
    LHS), seeded from the searcher's seed. Unscrambled Sobol starts at the cube's corner.
unique : bool, default True
    Skip points that map to a design already proposed (finite spaces map many points to one
    design, and a repeat teaches a deterministic evaluator nothing). Once almost every design
    has been proposed, uniform random ones fill in; see :class:`agents.memo.Memo`.

Points whose design breaks a constraint are skipped.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.stats import qmc

from agents.base import Searcher
from agents.memo import Memo
from archgym.errors import ArchGymError
from archgym.space import DesignSpace


class QMCSearch(Searcher):
    """Base of the quasi-random samplers; subclasses name the scipy engine."""

    defaults: ClassVar[dict[str, Any]] = {"batch_size": 64, "scramble": True, "unique": True}

    def __init__(self, space: DesignSpace, seed: int = 0, **hparams: Any) -> None:
        super().__init__(space, seed=seed, **hparams)
        if self.hparams["batch_size"] < 1:
            raise ArchGymError(f"{self.name}: batch_size must be >= 1")
        self.engine = self.make_engine(len(space), np.random.default_rng(self.seed))
        self.memo = Memo(space)
        self._batch: list[np.ndarray] = []

    def make_engine(self, d: int, rng: np.random.Generator) -> qmc.QMCEngine:
        raise NotImplementedError

    def _batch_size(self) -> int:
        return self.hparams["batch_size"]

    def _next_point(self) -> dict[str, Any]:
        if not self._batch:
            self._batch = list(self.engine.random(self._batch_size()))
        return self.space.from_unit(self._batch.pop(0))

    def ask(self) -> dict[str, Any]:
        if not self.hparams["unique"]:
            for _ in range(10_000):
                config = self._next_point()
                if self.space.is_valid(config):
                    return config
            return self.space.sample(self.rng)
        return self.memo.fresh(self._next_point, self.rng)


class LatinHypercube(QMCSearch):
    name = "lhs"

    def make_engine(self, d: int, rng: np.random.Generator) -> qmc.QMCEngine:
        return qmc.LatinHypercube(d, scramble=self.hparams["scramble"], rng=rng)


class Sobol(QMCSearch):
    name = "sobol"

    def __init__(self, space: DesignSpace, seed: int = 0, **hparams: Any) -> None:
        super().__init__(space, seed=seed, **hparams)
        n = self.hparams["batch_size"]
        if n & (n - 1):
            raise ArchGymError(f"sobol: batch_size must be a power of two, got {n}")

    def _batch_size(self) -> int:
        # Batches of 64, 64, 128, 256, ...: the points drawn so far always number a power
        # of two, which keeps Sobol's balance (and scipy's warning quiet).
        return max(self.hparams["batch_size"], self.engine.num_generated)

    def make_engine(self, d: int, rng: np.random.Generator) -> qmc.QMCEngine:
        return qmc.Sobol(d, scramble=self.hparams["scramble"], rng=rng)
