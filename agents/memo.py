"""What a searcher has already proposed, so it spends no budget twice on one design.

Population searchers (GA, ACO) and quasi-random samplers over small discrete spaces draw the
same design again and again once they converge; every repeat costs an evaluation of the
budget and teaches nothing (evaluations are deterministic). :class:`Memo` remembers every
design proposed or told so far, and :meth:`Memo.fresh` redraws until a proposal is new.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import numpy as np

from archgym.space import DesignSpace

#: finite spaces up to this many designs are enumerated to find an unproposed one exactly
ENUMERATE_MAX = 100_000


def fitness(metrics: Mapping[str, float] | None, reward: float) -> float:
    """The reward as a number to maximise: invalid designs (``metrics is None``) and
    non-finite rewards rank below everything else."""
    if metrics is None or reward is None or not math.isfinite(float(reward)):
        return -math.inf
    return float(reward)


def row_keys(rows: np.ndarray) -> list[bytes]:
    """Each ``int64`` index row's :meth:`Memo.key` (its bytes), in one pass."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    return rows.view(np.dtype((np.void, rows.itemsize * rows.shape[1]))).ravel().tolist()


class Memo:
    """Keys of the designs proposed or told so far: by :meth:`DesignSpace.point`, or with
    ``rows=True`` by index row (for searchers whose designs are grid points, such as the
    GA; :meth:`fresh_row` hands out rows, which then never become configs)."""

    #: draws :meth:`fresh` tries before it picks a new design at random
    TRIES = 64

    def __init__(self, space: DesignSpace, rows: bool = False) -> None:
        self.space, self.rows = space, rows
        self.proposed: set[Hashable] = set()
        self._all: list[tuple[Hashable, dict[str, Any]]] | None = None

    def key(self, config: Mapping[str, Any]) -> Hashable:
        return self.space.to_index(config).tobytes() if self.rows else self.space.point(config)

    def tell(self, config: Mapping[str, Any], metrics: Mapping[str, float] | None,
             reward: float) -> tuple[float, np.ndarray | None]:
        """Record a result; returns its :func:`fitness` and index vector (``None``, and
        nothing recorded, for a config from outside the space)."""
        f = fitness(metrics, reward)
        try:
            index = self.space.to_index(config)
        except (KeyError, ValueError, TypeError):
            return f, None
        self.proposed.add(self.key(config))
        return f, index

    def tell_rows(self, rows: np.ndarray) -> None:
        """Record designs told as index rows (``rows=True``)."""
        self.proposed.update(row_keys(rows))

    def fresh_row(self, draw: Callable[[], np.ndarray], rng: np.random.Generator,
                  tries: int = TRIES) -> np.ndarray:
        """:meth:`fresh` for a ``draw()`` of ``int64`` index rows (``rows=True``): the same
        decisions, keyed by the row, with a config built only to check constraints."""
        space = self.space
        for _ in range(tries):
            row = draw()
            key = row.tobytes()
            if key not in self.proposed and (not space.constraints
                                              or space.satisfies(space.from_index(row))):
                break
        else:
            row = self.random_new_row(rng, tries)
            key = row.tobytes()
        self.proposed.add(key)
        return row

    def random_new_row(self, rng: np.random.Generator, tries: int = TRIES) -> np.ndarray:
        """What :meth:`fresh_row` hands out after ``tries`` draws that were all taken."""
        return self.space.to_index(self._random_new(rng, tries))

    def fresh(self, draw: Callable[[], dict[str, Any]], rng: np.random.Generator,
              tries: int = TRIES) -> dict[str, Any]:
        """``draw()`` until it gives a valid design not proposed before, at most ``tries``
        times; then a new design chosen uniformly at random (exactly, from the designs not
        yet proposed, in a finite space of at most ``ENUMERATE_MAX`` designs; otherwise from
        ``tries`` random samples), so a converged search keeps exploring instead of
        repeating itself. Only an exhausted space yields a repeat. The result is marked as
        proposed. ``draw()`` gives designs in the parameters' domains (as
        :meth:`DesignSpace.from_index`, ``from_unit`` and ``sample`` do), so only the
        constraints are checked here."""
        for _ in range(tries):
            config = draw()
            key = self.key(config)
            if key not in self.proposed and self.space.satisfies(config):
                break
        else:
            config = self._random_new(rng, tries)
            key = self.key(config)
        self.proposed.add(key)
        return config

    def _random_new(self, rng: np.random.Generator, tries: int) -> dict[str, Any]:
        if self.space.finite and self.space.size <= ENUMERATE_MAX:
            if self._all is None:
                self._all = [(self.key(c), c) for c in self.space.enumerate()]
            new = [c for k, c in self._all if k not in self.proposed]
            if new:
                return dict(new[int(rng.integers(len(new)))])
            return self.space.sample(rng)
        config = self.space.sample(rng)
        for _ in range(tries):
            if self.key(config) not in self.proposed:
                break
            config = self.space.sample(rng)
        return config
