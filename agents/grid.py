"""Grid search: every design of a finite space exactly once, in plain or seeded random order.

Hyper-parameters
----------------
shuffle : bool, default True
    Visit the grid in a seeded random order. With ``False`` the order is
    :meth:`DesignSpace.enumerate`'s (last parameter fastest), which under a budget smaller
    than the grid only ever sees one corner of the space; the shuffled order makes a
    truncated grid a sample without replacement.
points_per_dim : int, default 5
    Grid points for each ``Real`` parameter (evenly spaced, in log scale if the parameter is,
    ends included) and each log-scaled ``Integer`` (``low`` to ``high`` log-spaced and
    rounded, duplicates dropped). Other parameters contribute all their values.

Designs that break a constraint are skipped. When the grid is exhausted a new pass starts
(re-shuffled), so a budget larger than the grid repeats designs rather than failing.
The grid is never materialised: a position is decoded to a design on demand, so huge grids
cost nothing up front.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from agents.base import Searcher
from archgym.errors import ArchGymError
from archgym.space import DesignSpace, Integer, Real

#: grids up to this size are shuffled by an explicit permutation; larger ones by a seeded
#: affine bijection ``t -> (a t + b) mod N`` (cheap, still a full cycle, less random).
_PERMUTE_MAX = 1 << 22


def grid_axes(space: DesignSpace, points_per_dim: int) -> list[tuple[Any, ...]]:
    """The values each parameter takes on the grid."""
    axes = []
    for p in space:
        units = np.linspace(0.0, 1.0, points_per_dim) if points_per_dim > 1 else [0.5]
        if isinstance(p, Real):
            axes.append(tuple(p.from_unit(float(u)) for u in units))
        elif isinstance(p, Integer) and p.log:
            logs = math.log(p.low) + units * (math.log(p.high) - math.log(p.low))
            axes.append(tuple(dict.fromkeys(int(round(math.exp(x))) for x in logs)))
        elif isinstance(p, Integer):
            axes.append(tuple(range(p.low, p.high + 1)))
        else:
            axes.append(tuple(p.values))
    return axes


class GridSearch(Searcher):
    name = "grid"
    defaults: dict[str, Any] = {"shuffle": True, "points_per_dim": 5}

    def __init__(self, space: DesignSpace, seed: int = 0, **hparams: Any) -> None:
        super().__init__(space, seed=seed, **hparams)
        if self.hparams["points_per_dim"] < 1:
            raise ArchGymError("grid: points_per_dim must be >= 1")
        self.axes = grid_axes(space, self.hparams["points_per_dim"])
        self.size = math.prod(len(a) for a in self.axes)
        self._pos = 0  # position within the current pass
        self._valid_in_pass = 0
        self._order: np.ndarray | tuple[int, int] | None = None
        self._new_pass()

    def _new_pass(self) -> None:
        self._pos, self._valid_in_pass = 0, 0
        if not self.hparams["shuffle"]:
            self._order = None
        elif self.size <= _PERMUTE_MAX:
            self._order = self.rng.permutation(self.size)
        else:
            while True:
                a = int(self.rng.integers(1, self.size))
                if math.gcd(a, self.size) == 1:
                    break
            self._order = (a, int(self.rng.integers(self.size)))

    def _position(self, t: int) -> int:
        if self._order is None:
            return t
        if isinstance(self._order, tuple):
            a, b = self._order
            return (a * t + b) % self.size
        return int(self._order[t])

    def design_at(self, position: int) -> dict[str, Any]:
        """The grid design at ``position`` (mixed radix, last parameter fastest)."""
        values = []
        for axis in reversed(self.axes):
            position, i = divmod(position, len(axis))
            values.append(axis[i])
        return dict(zip(self.space.names, reversed(values), strict=True))

    def ask(self) -> dict[str, Any]:
        while True:
            if self._pos >= self.size:
                if self._valid_in_pass == 0:
                    raise ArchGymError("grid: no grid point satisfies the constraints "
                                       f"{[c.name for c in self.space.constraints]}")
                self._new_pass()
            config = self.design_at(self._position(self._pos))
            self._pos += 1
            if all(c.holds(config) for c in self.space.constraints):
                self._valid_in_pass += 1
                return config
