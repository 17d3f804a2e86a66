"""Random walk (ArchGym's baseline): each proposal changes a few parameters of the last one.

Hyper-parameters
----------------
num_changes : int, default 1
    Parameters changed per step.
start : str, default "default"
    ``"default"`` starts from the space's default design, ``"random"`` from a random one.
restart_prob : float, default 0.0
    Probability of jumping to a uniform random design instead of stepping.

Ordered parameters (ordinal, integer, real) step to a neighbour on their grid; categorical
ones jump to any other choice. Steps that break a constraint are re-drawn.
"""

from __future__ import annotations

from typing import Any

from agents.base import Searcher
from archgym.errors import ArchGymError
from archgym.space import Categorical


class RandomWalk(Searcher):
    name = "random-walk"
    defaults: dict[str, Any] = {"num_changes": 1, "start": "default", "restart_prob": 0.0}

    def __init__(self, space, seed: int = 0, **hparams: Any) -> None:
        super().__init__(space, seed=seed, **hparams)
        h = self.hparams
        if not 1 <= h["num_changes"] <= len(space):
            raise ArchGymError(f"random-walk: num_changes must be in 1..{len(space)}")
        if h["start"] not in ("default", "random"):
            raise ArchGymError("random-walk: start must be 'default' or 'random'")
        if not 0.0 <= h["restart_prob"] <= 1.0:
            raise ArchGymError("random-walk: restart_prob must be in [0, 1]")
        self.current: dict[str, Any] | None = None

    def _step(self, config: dict[str, Any]) -> dict[str, Any]:
        index = self.space.to_index(config)
        names = self.rng.choice(len(self.space), size=self.hparams["num_changes"],
                                replace=False)
        for i in names:
            p = self.space.parameters[i]
            n = p.cardinality
            if n == 1:
                continue
            if isinstance(p, Categorical):
                index[i] = (index[i] + self.rng.integers(1, n)) % n
            else:
                moves = [m for m in (index[i] - 1, index[i] + 1) if 0 <= m < n]
                index[i] = moves[self.rng.integers(len(moves))]
        return self.space.from_index(index)

    def ask(self) -> dict[str, Any]:
        if self.current is None:
            self.current = (self.space.default() if self.hparams["start"] == "default"
                            else self.space.sample(self.rng))
            return dict(self.current)
        if self.rng.random() < self.hparams["restart_prob"]:
            self.current = self.space.sample(self.rng)
            return dict(self.current)
        for _ in range(1000):
            proposal = self._step(self.current)
            if self.space.is_valid(proposal):
                self.current = proposal
                return dict(proposal)
        self.current = self.space.sample(self.rng)
        return dict(self.current)
