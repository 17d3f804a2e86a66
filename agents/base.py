"""The ask/tell interface every searcher implements.

A searcher sees only a :class:`~archgym.space.DesignSpace` and numbers: ``ask()`` proposes a
config, ``tell(config, metrics, reward)`` reports its evaluation (``metrics`` is ``None`` for a
design the space rejected). Hyper-parameters are declared in ``defaults`` (name -> default
value); anything else passed to the constructor is refused with the allowed names, so a
typo never silently runs the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from archgym.hparams import resolve_hparams
from archgym.space import DesignSpace


class Searcher:
    """Base class of ask/tell searchers. Subclasses set ``name`` and ``defaults``."""

    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, space: DesignSpace, seed: int = 0, **hparams: Any) -> None:
        self.space = space
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        self.hparams = self.resolve_hparams(hparams)

    @classmethod
    def resolve_hparams(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overridden by ``given``; unknown names and wrong types are refused."""
        return resolve_hparams(f"searcher {cls.name!r}", cls.defaults, given)

    def ask(self) -> dict[str, Any]:
        raise NotImplementedError

    def tell(self, config: Mapping[str, Any], metrics: Mapping[str, float] | None,
             reward: float) -> None:
        """Default: nothing to learn (pure samplers)."""
