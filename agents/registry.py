"""Searcher names -> classes, imported lazily so heavy libraries load only when used.

A new searcher is one module and one line in ``_SEARCHERS``.
"""

from __future__ import annotations

import importlib
from typing import Any

from agents.base import Searcher
from archgym.errors import ArchGymError
from archgym.space import DesignSpace

_SEARCHERS: dict[str, str] = {
    "random": "agents.random_search:RandomSearch",
    "random-walk": "agents.random_walk:RandomWalk",
}


def available() -> list[str]:
    return sorted(_SEARCHERS)


def searcher_class(name: str) -> type[Searcher]:
    if name not in _SEARCHERS:
        raise ArchGymError(f"unknown searcher {name!r}; available: {', '.join(available())}")
    module, _, attr = _SEARCHERS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def make(name: str, space: DesignSpace, seed: int = 0, **hparams: Any) -> Searcher:
    """A seeded searcher over ``space``; unknown names or hyper-parameters raise
    :class:`~archgym.errors.ArchGymError` naming what is allowed."""
    return searcher_class(name)(space, seed=seed, **hparams)
