"""Environment ids: ``gymnasium.make("archgym/<Name>-v<N>")`` once a problem registers.

Each problem module under ``archgym/envs/`` calls :func:`register` at import; importing
``archgym`` imports them all. The registry also remembers a one-line description per id for
``archgym envs``.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import gymnasium

from archgym.errors import ArchGymError

NAMESPACE = "archgym"
_DESCRIPTIONS: dict[str, str] = {}


def register(name: str, entry_point: str, description: str, version: int = 0,
             **kwargs: Any) -> str:
    """Register ``archgym/<name>-v<version>`` with Gymnasium; returns the id."""
    env_id = f"{NAMESPACE}/{name}-v{version}"
    if env_id not in gymnasium.registry:
        gymnasium.register(id=env_id, entry_point=entry_point, kwargs=kwargs)
    _DESCRIPTIONS[env_id] = description
    return env_id


def env_ids() -> list[str]:
    return sorted(_DESCRIPTIONS)


def description(env_id: str) -> str:
    return _DESCRIPTIONS[env_id]


def env_class(env_id: str) -> type:
    """The class behind an id (``ArchGymError`` naming the registered ids if unknown)."""
    if env_id not in gymnasium.registry or env_id not in _DESCRIPTIONS:
        raise ArchGymError(f"unknown environment {env_id!r}; registered: "
                           f"{', '.join(env_ids()) or '(none)'}")
    entry = gymnasium.registry[env_id].entry_point
    if not isinstance(entry, str):
        return entry
    module, _, attr = entry.partition(":")
    return getattr(importlib.import_module(module), attr)


def env_parameters(env_id: str) -> dict[str, Any]:
    """Keyword parameters the env accepts, with their defaults (for help and errors)."""
    sig = inspect.signature(env_class(env_id).__init__)
    return {n: (p.default if p.default is not inspect.Parameter.empty else None)
            for n, p in list(sig.parameters.items())[1:]
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


def make(env_id: str, **kwargs: Any) -> gymnasium.Env:
    """``gymnasium.make`` with a clear error for an unknown id or parameter."""
    allowed = env_parameters(env_id)
    for k in kwargs:
        if k not in allowed:
            raise ArchGymError(f"{env_id} has no parameter {k!r}; parameters: "
                               f"{', '.join(allowed) or '(none)'}")
    return gymnasium.make(env_id, **kwargs)
