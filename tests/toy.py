"""A small analytic design problem for testing the spine without a real simulator.

A direct-mapped/associative cache whose latency and energy follow closed-form expressions:
nothing here claims to model real hardware; it only has to be cheap, deterministic and
non-trivial (an interior optimum, a constraint, categorical and ordinal parameters).
"""

from __future__ import annotations

import time

from archgym.env import DesignEnv
from archgym.evaluator import Evaluator, MetricSpec
from archgym.objectives import Optimize, Target
from archgym.registry import register
from archgym.space import Categorical, Constraint, DesignSpace, Integer, Ordinal

SPACE = DesignSpace(
    [
        Ordinal("size_kb", (1, 2, 4, 8, 16, 32, 64), default=8),
        Ordinal("assoc", (1, 2, 4, 8)),
        Categorical("policy", ("LRU", "FIFO", "Random")),
        Integer("ports", 1, 4),
    ],
    constraints=[Constraint("assoc_fits", "assoc <= size_kb * 4")],
    groups={"geometry": ["size_kb", "assoc"], "control": ["policy", "ports"]},
)

POLICY_MISS = {"LRU": 1.0, "FIFO": 1.1, "Random": 1.2}


class ToyEvaluator(Evaluator):
    space = SPACE
    metric_specs = (
        MetricSpec("latency", "ns", "minimize", scale=10.0),
        MetricSpec("energy", "nJ", "minimize", scale=5.0),
    )
    workload = "toy"

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay

    def _evaluate(self, c):
        if self.delay:
            time.sleep(self.delay)
        miss = POLICY_MISS[c["policy"]] * 0.5 / (c["size_kb"] ** 0.5) / (1 + 0.1 * c["assoc"])
        hit = 1.0 + 0.05 * c["size_kb"] ** 0.5 + 0.1 * c["assoc"]
        latency = hit + miss * 100.0 / c["ports"]
        energy = 0.2 * c["size_kb"] ** 0.7 + 0.3 * c["assoc"] + 0.5 * c["ports"] + miss * 20
        return {"latency": latency, "energy": energy}


class ToyEnv(DesignEnv):
    def __init__(self, objective: str = "latency", max_steps: int = 100,
                 delay: float = 0.0) -> None:
        evaluator = ToyEvaluator(delay)
        specs = {s.name: s for s in evaluator.metric_specs}
        obj = (Target({"latency": 5.0, "energy": 6.0}) if objective == "target"
               else Optimize(specs[objective]))
        super().__init__(evaluator, obj, max_steps=max_steps)


TOY_ID = register("Toy", "tests.toy:ToyEnv", "analytic cache toy (tests only)")
