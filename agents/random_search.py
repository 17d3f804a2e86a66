"""Uniform random search: the baseline every other searcher must beat."""

from __future__ import annotations

from typing import Any

from agents.base import Searcher


class RandomSearch(Searcher):
    """Each proposal is an independent uniform sample of the valid designs."""

    name = "random"
    defaults: dict[str, Any] = {}

    def ask(self) -> dict[str, Any]:
        return self.space.sample(self.rng)
