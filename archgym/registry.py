"""Environment ids and env-shipped policies, registered by string so nothing loads early.

``archgym/envs/__init__.py`` registers the project's environments and policies with
``"module:Class"`` strings: ``import archgym`` imports no simulator, and
``gymnasium.make("archgym/<Name>-v<N>")`` imports the env's module (and its simulator) then.

A separate pip package adds environments through the entry-point group ``archgym.envs``: each
entry point names a function that calls :func:`register` (and :func:`register_policy`). They
are called once, the first time the registry is asked anything (``archgym.make``,
``env_ids()``, the command line), not on ``import archgym``, so a plug-in module may import
``archgym`` and ``agents`` freely; ``gymnasium.make`` of a plug-in id works after that. Searchers
have their own group, ``archgym.agents`` (see ``agents.registry``).
"""

from __future__ import annotations

import importlib
import inspect
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import gymnasium

from archgym.errors import ArchGymError

NAMESPACE = "archgym"
ENV_GROUP = "archgym.envs"


@dataclass(frozen=True)
class _Entry:
    entry_point: str
    description: str
    envs: tuple[str, ...] = field(default=())


_ENVS: dict[str, _Entry] = {}
_POLICIES: dict[str, _Entry] = {}


def register(name: str, entry_point: str, description: str, version: int = 0,
             namespace: str = NAMESPACE, **kwargs: Any) -> str:
    """Register ``<namespace>/<name>-v<version>`` with Gymnasium; returns the id."""
    env_id = f"{namespace}/{name}-v{version}"
    if env_id not in gymnasium.registry:
        gymnasium.register(id=env_id, entry_point=entry_point, kwargs=kwargs)
    _ENVS[env_id] = _Entry(entry_point, description)
    return env_id


def register_policy(name: str, entry_point: str, envs: tuple[str, ...] | list[str],
                    description: str) -> None:
    """Register a heuristic policy for the env ids ``envs`` (``archgym agents`` lists it)."""
    _POLICIES[name] = _Entry(entry_point, description, tuple(envs))


_PLUGINS = {"loaded": False}


def load_plugins() -> None:
    """Call every ``archgym.envs`` entry point once (a broken plug-in warns, never breaks)."""
    if _PLUGINS["loaded"]:
        return
    _PLUGINS["loaded"] = True
    for ep in entry_points(group=ENV_GROUP):
        try:
            ep.load()()
        except Exception as e:  # noqa: BLE001 - a third-party package's fault, not the user's
            warnings.warn(f"archgym: plug-in {ep.name!r} ({ep.value}) failed to register: "
                          f"{e}", stacklevel=2)


# ---------------------------------------------------------------------------- queries


def env_ids() -> list[str]:
    load_plugins()
    return sorted(_ENVS)


def description(env_id: str) -> str:
    return _ENVS[env_id].description


def _load(entry_point: str) -> Any:
    module, _, attr = entry_point.partition(":")
    return getattr(importlib.import_module(module), attr)


def env_class(env_id: str) -> type:
    """The class behind an id (``ArchGymError`` naming the registered ids if unknown)."""
    load_plugins()
    if env_id not in _ENVS:
        raise ArchGymError(f"unknown environment {env_id!r}; registered: "
                           f"{', '.join(env_ids()) or '(none)'}")
    return _load(_ENVS[env_id].entry_point)


def id_of(cls: type) -> str | None:
    """The registered id of an env class (the first, if several), or ``None``."""
    entry = f"{cls.__module__}:{cls.__qualname__}"
    return next((i for i, e in sorted(_ENVS.items()) if e.entry_point == entry), None)


def version_of(env_id: str) -> int:
    spec = gymnasium.registry.get(env_id)
    return int(spec.version or 0) if spec is not None else 0


def env_parameters(env_id: str) -> dict[str, Any]:
    """Keyword parameters the env accepts, with their defaults (for help and errors)."""
    from archgym.contract import parameters

    cls = env_class(env_id)
    params = parameters(cls, getattr(cls, "EXTRA_PARAMETERS", {}))
    return {n: (None if d is inspect.Parameter.empty else d) for n, d in params.items()}


def parameter_hints(env_id: str) -> dict[str, str]:
    """Keyword parameter -> what it accepts, in words."""
    from archgym.contract import parameter_hints as hints

    cls = env_class(env_id)
    return hints(cls, getattr(cls, "EXTRA_PARAMETERS", {}))


def make(env_id: str, **kwargs: Any) -> gymnasium.Env:
    """``gymnasium.make`` with a clear error for an unknown id, parameter or value."""
    env_class(env_id)  # unknown ids: an error naming the registered ones
    return gymnasium.make(env_id, **kwargs)


def make_from_spec(spec: Mapping[str, Any]) -> gymnasium.Env:
    """Re-create the env an ``env_spec()`` (a dataset row's ``env_spec``) describes."""
    load_plugins()
    if spec.get("id") not in _ENVS:
        raise ArchGymError(f"the logged env {spec.get('id')!r} is not registered here; "
                           f"registered: {', '.join(env_ids())}")
    env = make(spec["id"], **spec.get("kwargs", {}))
    if spec.get("view") == "design":
        return env.unwrapped.design_point_view()
    return env


# ---------------------------------------------------------------------------- policies


def policy_names(env_id: str | None = None) -> list[str]:
    """Registered policies (for ``env_id`` only, if given)."""
    load_plugins()
    return sorted(n for n, e in _POLICIES.items() if env_id is None or env_id in e.envs)


def policy_envs(name: str) -> tuple[str, ...]:
    return _POLICIES[name].envs


def policy_description(name: str) -> str:
    return _POLICIES[name].description


def policy_class(name: str) -> type:
    if name not in _POLICIES:
        raise ArchGymError(f"unknown policy {name!r}; registered: "
                           f"{', '.join(policy_names()) or '(none)'}")
    return _load(_POLICIES[name].entry_point)
