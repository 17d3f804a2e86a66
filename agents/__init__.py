"""Searchers on one ask/tell interface: ``agents.make(name, space, seed=..., **hparams)``;
``agents.for_env(name, env, ...)`` pairs any searcher or env-shipped policy with an env."""

from agents.base import Searcher
from agents.registry import (
    applies,
    available,
    decision_class,
    for_env,
    kinds,
    make,
    policies,
    register,
    searcher_class,
)

__all__ = ["Searcher", "applies", "available", "decision_class", "for_env", "kinds", "make",
           "policies", "register", "searcher_class"]
