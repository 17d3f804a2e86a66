"""ArchGym: Gymnasium environments, design spaces, objectives and datasets for hardware DSE.

``import archgym`` registers every environment (by name only: no simulator is imported until
an env is made), so ``gymnasium.make("archgym/DRAM-v0")`` works after it. The environment
contract every env follows is :mod:`archgym.contract`.
"""

from archgym import envs as _envs  # noqa: F401  (registers the environments)
from archgym.contract import ArchEnv, Evaluation
from archgym.env import DesignEnv
from archgym.errors import ArchGymError
from archgym.evaluator import Evaluator, Metrics, MetricSpec
from archgym.registry import make
from archgym.sequential import SequentialEnv
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
__all__ = ["ArchEnv", "ArchGymError", "Categorical", "Constraint", "DesignEnv", "DesignSpace",
           "Evaluation", "Evaluator", "Integer", "InvalidDesignError", "MetricSpec", "Metrics",
           "Ordinal", "Real", "SequentialEnv", "make"]
