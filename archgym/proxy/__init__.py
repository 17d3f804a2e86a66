"""Proxy cost models: learn an env's metrics from the logged dataset, plug them back in.

- features: the space's mixed one-hot encoding (:mod:`archgym.encoding`).
- :mod:`archgym.proxy.models`: ``rf``, ``gbt``, ``mlp``, ``gp``.
- :mod:`archgym.proxy.core`: :func:`train`, :func:`evaluate`, :func:`fit_and_score`,
  :class:`Proxy` (``predict``, ``save``, ``check``), :func:`load`.
- :mod:`archgym.proxy.evaluator`: :class:`ProxyEvaluator`, :class:`MultiFidelityEvaluator`
  and :func:`wrap_evaluator` (what an env's ``cost_model=`` calls).
"""

from archgym.encoding import FeatureEncoder
from archgym.proxy.core import (
    EnvInfo,
    Proxy,
    evaluate,
    fit_and_score,
    load,
    scores,
    split,
    train,
    training_frame,
)
from archgym.proxy.evaluator import (
    COST_MODELS,
    DEFAULT_THRESHOLD,
    MultiFidelityEvaluator,
    ProxyEvaluator,
    wrap_evaluator,
)
from archgym.proxy.models import MODELS

__all__ = ["COST_MODELS", "DEFAULT_THRESHOLD", "MODELS", "EnvInfo", "FeatureEncoder",
           "MultiFidelityEvaluator", "Proxy", "ProxyEvaluator", "evaluate", "fit_and_score",
           "load", "scores", "split", "train", "training_frame", "wrap_evaluator"]
