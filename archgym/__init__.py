"""ArchGym: Gymnasium environments, design spaces, objectives and datasets for hardware DSE.

``import archgym`` registers every environment, so ``gymnasium.make("archgym/DRAM-v0")``
works after it.
"""

from archgym import envs as _envs  # noqa: F401  (registers the environments)
from archgym.env import DesignEnv
from archgym.errors import ArchGymError
from archgym.evaluator import Evaluator, Metrics, MetricSpec
from archgym.registry import make
from archgym.space import (
    Categorical,
    Constraint,
    DesignSpace,
    Integer,
    InvalidDesignError,
    Ordinal,
    Real,
)

__version__ = "0.1.0"
__all__ = ["ArchGymError", "Categorical", "Constraint", "DesignEnv", "DesignSpace",
           "Evaluator", "Integer", "InvalidDesignError", "MetricSpec", "Metrics", "Ordinal",
           "Real", "make"]
