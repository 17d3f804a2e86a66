"""Policies: the heuristics a sequential environment ships (HEFT for scheduling, greedy
placement for memory mapping), run by ``archgym run`` like searchers.

A policy is registered with :func:`archgym.registry.register_policy` for the env ids it
understands, so ``archgym agents`` lists it and ``agents.for_env`` builds it. It sees the
env (it may read the problem instance, as a compiler heuristic reads the program) and
answers one action per step; the budget counts finished designs, as for searchers.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from archgym.hparams import resolve_hparams


class Policy:
    """Base class: subclasses set ``name`` and ``defaults`` and implement :meth:`act`."""

    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, env: Any, seed: int = 0, **hparams: Any) -> None:
        self.env = env.unwrapped
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        self.hparams = self.resolve_hparams(hparams)

    @classmethod
    def resolve_hparams(cls, given: dict[str, Any]) -> dict[str, Any]:
        """Defaults overridden by ``given``; unknown names and wrong types are refused."""
        return resolve_hparams(f"policy {cls.name!r}", cls.defaults, given)

    def act(self, observation: Any, info: dict[str, Any]) -> int:
        """The next action, given the step's observation and ``info`` (with its mask)."""
        raise NotImplementedError
