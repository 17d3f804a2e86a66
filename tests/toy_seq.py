"""A small sequential problem for testing the environment contract without a simulator.

Jobs of fixed durations are assigned one after another to machines of limited capacity
(a bin-packing flavour of makespan scheduling): the mask forbids a machine the next job would
overflow. Nothing here claims to model hardware; it only has to be cheap, deterministic and
non-trivial (masks that bite, a heuristic that beats random, a design-point view).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

from archgym.evaluator import Evaluator, MetricSpec
from archgym.policy import Policy
from archgym.registry import register, register_policy
from archgym.sequential import DesignPointView, SequentialEnv
from archgym.space import Categorical, DesignSpace


def assign(durations: np.ndarray, capacity: int, machines: int, prefer: list[int]
           ) -> tuple[list[int], np.ndarray]:
    """Each job to its preferred machine if it fits, else to the least-loaded one that
    fits (the view's decoder, and the least-loaded policy with ``prefer`` = -1)."""
    loads = np.zeros(machines, dtype=np.int64)
    actions = []
    for d, p in zip(durations, prefer, strict=True):
        fits = loads + d <= capacity
        m = p if 0 <= p < machines and fits[p] else int(np.argmin(np.where(fits, loads,
                                                                          np.iinfo(np.int64).max)))
        loads[m] += d
        actions.append(m)
    return actions, loads


class ToyScheduleEnv(SequentialEnv):
    """Assign ``n_jobs`` jobs to ``machines`` machines; minimise the makespan."""

    objective_aliases = {"balance": "min:imbalance"}

    def __init__(self, n_jobs: int = 8, machines: int = 3, instance_seed: int = 0,
                 objective: str = "makespan") -> None:
        if n_jobs < 1 or machines < 1:
            raise ValueError("n_jobs and machines must be >= 1")
        rng = np.random.default_rng(instance_seed)
        self.durations = rng.integers(1, 10, size=n_jobs)
        self.machines = machines
        # room for a balanced schedule plus one longest job: masks bite, none is forced empty
        self.capacity = int(np.ceil(self.durations.sum() / machines) + self.durations.max())
        self.metric_specs = (MetricSpec("makespan", "t", "minimize",
                                        scale=float(self.durations.sum() / machines)),
                             MetricSpec("imbalance", "t", "minimize", scale=1.0))
        self.objective = self.parse_objective(objective)
        self.workload = f"toy-jobs-{n_jobs}x{machines}@{instance_seed}"
        self.action_space = gymnasium.spaces.Discrete(machines)
        self.observation_space = gymnasium.spaces.Box(0.0, 1.0, shape=(machines + 2,),
                                                      dtype=np.float32)

    def _begin(self, rng: np.random.Generator) -> None:
        self.loads = np.zeros(self.machines, dtype=np.int64)
        self.next = 0

    def _observe(self) -> np.ndarray:
        d = self.durations[self.next] if self.next < len(self.durations) else 0
        obs = [*(self.loads / self.capacity), d / 10.0, self.next / len(self.durations)]
        return np.asarray(obs, dtype=np.float32)

    def _legal(self) -> np.ndarray:
        if self.next >= len(self.durations):
            return np.zeros(self.machines, dtype=bool)
        return self.loads + self.durations[self.next] <= self.capacity

    def _apply(self, action: int) -> float:
        self.loads[action] += self.durations[self.next]
        self.next += 1
        return 0.0

    def _complete(self) -> bool:
        return self.next == len(self.durations)

    def _result(self) -> tuple[dict[str, float], dict[str, Any]]:
        metrics = {"makespan": float(self.loads.max()),
                   "imbalance": float(self.loads.max() - self.loads.min())}
        return metrics, {"loads": self.loads.tolist()}

    def design_point_view(self) -> DesignPointView:
        return DesignPointView(self, PreferenceEvaluator(self))


class PreferenceEvaluator(Evaluator):
    """A preferred machine per job, decoded by :func:`assign` into a legal schedule."""

    def __init__(self, env: ToyScheduleEnv) -> None:
        super().__init__()
        self.env = env
        self.space = DesignSpace([Categorical(f"job{i}", tuple(range(env.machines)))
                                  for i in range(len(env.durations))])
        self.metric_specs = env.metric_specs
        self.workload = env.workload

    def _evaluate(self, config):
        prefer = [config[f"job{i}"] for i in range(len(self.env.durations))]
        _, loads = assign(self.env.durations, self.env.capacity, self.env.machines, prefer)
        return {"makespan": float(loads.max()), "imbalance": float(loads.max() - loads.min())}


class LeastLoaded(Policy):
    """The next job to the least-loaded machine it fits on (LPT without the sorting)."""

    name = "toy-least-loaded"

    def act(self, observation, info) -> int:
        env = self.env
        fits = info["action_mask"]
        return int(np.argmin(np.where(fits, env.loads, np.iinfo(np.int64).max)))


TOY_SEQ_ID = register("ToySchedule", "tests.toy_seq:ToyScheduleEnv",
                      "toy job-to-machine assignment, sequential (tests only)")
register_policy("toy-least-loaded", "tests.toy_seq:LeastLoaded", [TOY_SEQ_ID],
                "the next job to the least-loaded machine it fits on")
