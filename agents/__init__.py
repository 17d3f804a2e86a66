"""Searchers on one ask/tell interface: ``agents.make(name, space, seed=..., **hparams)``."""

from agents.base import Searcher
from agents.registry import available, make, searcher_class

__all__ = ["Searcher", "available", "make", "searcher_class"]
