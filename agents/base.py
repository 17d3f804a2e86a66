"""The ask/tell interface every searcher implements.

A searcher sees only a :class:`~archgym.space.DesignSpace` and numbers: ``ask()`` proposes a
config, ``tell(config, metrics, reward)`` reports its evaluation (``metrics`` is ``None`` for a
design the space rejected). Searchers that propose populations or batches also answer
:meth:`Searcher.batch_limit`: how many proposals they can hand out before the next result
changes what they do; the runner then asks for that many at once (:meth:`ask_batch`), has
the env evaluate them in one call and tells them back together (:meth:`tell_batch`). A
batch gives exactly the proposals, in the same order, that one-at-a-time ask/tell would
have given. Hyper-parameters are declared in ``defaults`` (name -> default
value); anything else passed to the constructor is refused with the allowed names, so a
typo never silently runs the default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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

    # ---- batches
    #: proposals a searcher without :meth:`batch_limit` override can batch: its asks do
    #: not depend on what it was told (pure samplers), so any number
    UNLIMITED = 1 << 30

    def batch_limit(self) -> int:
        """How many proposals :meth:`ask_batch` may hand out now (with nothing pending)
        that one-at-a-time ask/tell would also have proposed. Default 1: the next
        proposal may depend on every result. Searchers whose :meth:`tell` is the base's
        (nothing learnt) return :data:`UNLIMITED`."""
        return self.UNLIMITED if type(self).tell is Searcher.tell else 1

    def ask_batch(self, n: int) -> list[dict[str, Any]]:
        """Up to ``n`` (at least one) proposals, ``n <= batch_limit()``."""
        return [self.ask() for _ in range(max(1, n))]

    def tell_batch(self, configs: Sequence[Mapping[str, Any]],
                   metrics: Sequence[Mapping[str, float] | None],
                   rewards: Sequence[float]) -> None:
        """Results of a batch, in the order it was proposed."""
        for c, m, r in zip(configs, metrics, rewards, strict=True):
            self.tell(c, m, r)
