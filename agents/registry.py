"""Searcher names -> classes, imported lazily so heavy libraries load only when used; and the
one place that pairs a decision-maker with an env (:func:`for_env`).

A new searcher is one module and one :func:`register` call (or one line in ``_SEARCHERS``).
A separate pip package adds searchers through the entry-point group ``archgym.agents``:
each entry point's name is the searcher's name and its value ``"module:Class"`` (imported
only when used). Policies that environments ship (HEFT, greedy placement) are registered by
the environments (:func:`archgym.registry.register_policy`) and listed here too.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from agents.base import Searcher
from archgym import registry as env_registry
from archgym.contract import design_env
from archgym.errors import ArchGymError
from archgym.space import DesignSpace

GROUP = "archgym.agents"

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
    "maskable-ppo": "agents.sb3:MaskablePPO",
    "marl-ppo": "agents.marl:MarlPPO",
}
_PLUGINS_LOADED = False


def register(name: str, entry_point: str) -> None:
    """Make ``agents.make(name, ...)`` build ``"module:Class"`` (imported on first use)."""
    if ":" not in entry_point:
        raise ArchGymError(f"searcher {name!r}: entry point must look like 'module:Class', "
                           f"got {entry_point!r}")
    _SEARCHERS[name] = entry_point


def _load_plugins() -> None:
    global _PLUGINS_LOADED
    if not _PLUGINS_LOADED:
        _PLUGINS_LOADED = True
        for ep in entry_points(group=GROUP):
            _SEARCHERS.setdefault(ep.name, ep.value)


def available() -> list[str]:
    """Searcher names (policies not included; see :func:`policies`)."""
    _load_plugins()
    return sorted(_SEARCHERS)


def policies(env_id: str | None = None) -> list[str]:
    """Policies environments ship (for ``env_id`` only, if given)."""
    return env_registry.policy_names(env_id)


def searcher_class(name: str) -> type[Searcher]:
    _load_plugins()
    if name not in _SEARCHERS:
        extra = f"; policies: {', '.join(policies())}" if policies() else ""
        raise ArchGymError(f"unknown searcher {name!r}; available: {', '.join(available())}"
                           f"{extra}")
    module, _, attr = _SEARCHERS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def make(name: str, space: DesignSpace, seed: int = 0, **hparams: Any) -> Searcher:
    """A seeded searcher over ``space``; unknown names or hyper-parameters raise
    :class:`~archgym.errors.ArchGymError` naming what is allowed."""
    return searcher_class(name)(space, seed=seed, **hparams)


def decision_class(name: str) -> type:
    """The class of a searcher or an env-shipped policy (both declare ``defaults`` and
    ``resolve_hparams``)."""
    if name in policies():
        return env_registry.policy_class(name)
    return searcher_class(name)


def applies(name: str, env: Any) -> bool:
    """Whether :func:`for_env` can pair ``name`` with ``env`` (``env.unwrapped``)."""
    base = env.unwrapped
    if name in policies():
        return base.env_id() in env_registry.policy_envs(name)
    drives = kinds(name)
    return base.kind in drives or ("design" in drives and base.design_point_view() is not None)


def kinds(name: str) -> tuple[str, ...]:
    """The env kinds a searcher drives directly (others run on a design-point view)."""
    return tuple(getattr(searcher_class(name), "kinds", ("design",)))


def for_env(name: str, env: Any, seed: int = 0, **hparams: Any) -> tuple[Any, Any]:
    """``(decision-maker, env to run it on)`` for a searcher or policy name and an env.

    - a policy runs on the env it was registered for;
    - a searcher that drives sequential envs (``kinds``) runs on the env itself;
    - any other searcher runs on the env's design-point view (a design-point env is its own;
      a sequential env without one is refused with what would work instead).

    Metric names in an ``objectives`` hyper-parameter take their direction from the env's
    metric specs unless written ``name:min`` / ``name:max``.
    """
    base = env.unwrapped
    env_id = base.env_id()
    if name in policies():
        if env_id not in env_registry.policy_envs(name):
            envs = ", ".join(env_registry.policy_envs(name))
            raise ArchGymError(f"policy {name!r} is for {envs}, not {env_id}")
        return env_registry.policy_class(name)(env, seed=seed, **hparams), env
    cls = searcher_class(name)
    target = env if base.kind in kinds(name) else design_env(base)
    if hparams.get("objectives") is not None:
        from archgym.objectives import metric_directions

        names, signs = metric_directions(hparams["objectives"], target.unwrapped.metric_specs,
                                         owner=f"searcher {name!r} objectives")
        hparams["objectives"] = [f"{n}:{'min' if s > 0 else 'max'}"
                                 for n, s in zip(names, signs, strict=True)]
    return cls(target.unwrapped.space, seed=seed, **hparams), target
