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
    "grid": "agents.grid:GridSearch",
    "lhs": "agents.qmc:LatinHypercube",
    "sobol": "agents.qmc:Sobol",
    "ga": "agents.ga:GeneticAlgorithm",
    "aco": "agents.aco:AntColony",
    "bo": "agents.bo:BayesOpt",
    "tpe": "agents.optuna_search:TPESearcher",
    "nsga2": "agents.optuna_search:NSGA2Searcher",
    "cmaes": "agents.optuna_search:CmaEsSearcher",
    "gp-optuna": "agents.optuna_search:GPOptunaSearcher",
    "qmc-optuna": "agents.optuna_search:QMCOptunaSearcher",
    "ppo": "agents.sb3:PPO",
    "a2c": "agents.sb3:A2C",
    "dqn": "agents.sb3:DQN",
    "sac": "agents.sb3:SAC",
    "td3": "agents.sb3:TD3",
    "marl-ppo": "agents.marl:MarlPPO",
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
