"""Hyper-parameter checking shared by searchers (``agents``) and env-shipped policies.

A decision-maker declares ``defaults`` (name -> default value); anything else passed to its
constructor is refused with the allowed names, so a typo never silently runs the default,
and a value of the wrong type is refused naming the expected type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archgym.errors import ArchGymError


def resolve_hparams(owner: str, defaults: Mapping[str, Any], given: Mapping[str, Any]
                    ) -> dict[str, Any]:
    """``defaults`` overridden by ``given``; unknown names and wrong types are refused."""
    out = dict(defaults)
    for key, value in given.items():
        if key not in defaults:
            allowed = ", ".join(defaults) or "(none)"
            raise ArchGymError(f"{owner} has no hyper-parameter {key!r}; allowed: {allowed}")
        default = defaults[key]
        if default is not None and not isinstance(value, type(default)):
            if isinstance(default, float) and isinstance(value, int) \
                    and not isinstance(value, bool):
                value = float(value)
            else:
                raise ArchGymError(f"{owner}: hyper-parameter {key!r} must be "
                                   f"{type(default).__name__}, got {value!r}")
        out[key] = value
    return out
