"""``DesignEnv``: the design-point kind of environment: one step evaluates one whole design.

It implements the environment contract of :mod:`archgym.contract` (``kind == "design"``).

- **Action**: the design's index vector (``MultiDiscrete(space.nvec)``). Wrappers give other
  views of the same space: :class:`DictAction`, :class:`BoxAction` (continuous, for SAC/TD3),
  :class:`DiscreteAction` (one flat index, for DQN) and :class:`OneHotAction`.
- **Observation**: one entry per observed metric (``observation_metrics``, default all),
  ``v / (v + scale)`` with ``scale`` the metric's typical value (its ``MetricSpec``):
  monotone in the metric, bounded in ``[0, 1)``, 0.5 at the typical value; negatives clip to 0.
- **Reset** evaluates the space's default design (or ``options={"config": {...}}``) and
  returns its real observation; it never samples a random design.
- **Episodes** are truncated after ``max_steps`` steps and never terminate on their own.
- ``info`` holds ``config``, raw ``metrics``, ``reward``, ``feasible``, ``target_met``,
  ``valid`` and ``invalid_reason`` ("" when valid); wall time goes to observers only, so
  ``info`` is deterministic.
- :meth:`step_config` steps with an exact config (what ask/tell searchers use) and
  :meth:`step_batch` evaluates several designs in one call.

A design that breaks the space's constraints is not evaluated: it gets ``invalid_reward``,
``valid=False``, ``feasible=False`` and the previous observation. So does a design the
evaluator refuses by raising :class:`~archgym.space.InvalidDesignError` (an infeasibility
that depends on the workload and cannot be written as a constraint of the space). ``info``
of an invalid step says why in ``invalid_reason``.

**Cost models.** Every design-point env takes ``cost_model`` (``"simulator"``, ``"proxy"``
or ``"multi-fidelity"``), ``proxy`` (a saved proxy's path) and ``proxy_threshold`` on top of
its own parameters; the base class swaps the evaluator once, here, for every env.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import gymnasium
import numpy as np

from archgym.contract import EnvBase, Evaluation
from archgym.evaluator import Evaluator, Metrics
from archgym.objectives import Objective
from archgym.space import InvalidDesignError

COST_MODELS = ("simulator", "proxy", "multi-fidelity")


class DesignEnv(EnvBase, gymnasium.Env):
    """One design point per step over an :class:`~archgym.evaluator.Evaluator`."""

    kind = "design"
    metadata = {"render_modes": []}
    EXTRA_PARAMETERS: ClassVar[dict[str, tuple[Any, Any]]] = {
        "cost_model": ("simulator", Literal["simulator", "proxy", "multi-fidelity"]),
        "proxy": (None, str | None),
        "proxy_threshold": (0.05, float),
    }

    def __init__(self, evaluator: Evaluator, objective: Objective, max_steps: int = 100,
                 invalid_reward: float = -1.0,
                 observation_metrics: Sequence[str] | None = None) -> None:
        if max_steps < 1:
            raise ValueError("max_steps must be >= 1")
        objective.check(evaluator.metric_specs)
        self.workload, self.workload_hash = evaluator.workload, evaluator.workload_hash
        cost = self.__dict__.get("_base_kwargs", {})
        if cost.get("cost_model", "simulator") != "simulator":
            from archgym.proxy import wrap_evaluator

            evaluator = wrap_evaluator(evaluator, cost["cost_model"], cost.get("proxy"),
                                       threshold=cost.get("proxy_threshold", 0.05), env=self)
        self.evaluator, self.objective = evaluator, objective
        self.space = evaluator.space
        self.metric_specs = tuple(evaluator.metric_specs)
        self.max_steps, self.invalid_reward = int(max_steps), float(invalid_reward)
        specs = {s.name: s for s in evaluator.metric_specs}
        names = list(observation_metrics or specs)
        unknown = [n for n in names if n not in specs]
        if unknown:
            raise ValueError(f"observation metric {unknown[0]!r} is not one of {list(specs)}")
        self.observation_specs = tuple(specs[n] for n in names)
        self.action_space = self.space.multidiscrete()
        self.observation_space = gymnasium.spaces.Box(
            0.0, 1.0, shape=(len(self.observation_specs),), dtype=np.float32)
        self.evaluations = 0  # steps taken over the env's life (the budget's unit)
        self._steps = 0
        self._obs = np.zeros(self.observation_space.shape, dtype=np.float32)

    # ---- the contract
    def cost_model_name(self) -> str:
        return self.evaluator.cost_model

    def evaluate(self, config: Mapping[str, Any]) -> Metrics:
        """A design's metrics, without stepping or notifying observers."""
        return self.evaluator.evaluate(config)

    # ---- helpers
    def observe(self, metrics: Metrics) -> np.ndarray:
        values = [max(metrics[s.name], 0.0) for s in self.observation_specs]
        obs = [v / (v + s.scale) if math.isfinite(v) else 1.0
               for v, s in zip(values, self.observation_specs, strict=True)]
        return np.clip(np.asarray(obs, dtype=np.float32), 0.0, np.float32(1.0))

    # ---- gymnasium API
    def reset(self, *, seed: int | None = None, options: Mapping[str, Any] | None = None):
        super().reset(seed=seed)
        config = self.space.complete((options or {}).get("config", {}))
        metrics = self.evaluator.evaluate(config)
        self._steps = 0
        self._obs = self.observe(metrics)
        return self._obs.copy(), {"config": config, "metrics": metrics}

    def step(self, action):
        return self.step_config(self.space.from_index(np.asarray(action, dtype=np.int64)))

    def step_config(self, config: Mapping[str, Any]):
        """Evaluate ``config`` as one step (searchers with exact, off-grid configs use this)."""
        return self.step_batch([config])[0]

    def step_batch(self, configs: Sequence[Mapping[str, Any]]) -> list[tuple]:
        """Evaluate several designs in one call (one evaluator batch: a proxy predicts them
        together); each counts as one step and reaches observers in order. Returns the
        ``(obs, reward, terminated, truncated, info)`` of each."""
        start = time.perf_counter()
        checked, reasons = [], []
        for c in configs:
            try:
                checked.append(self.space.validate(c))
                reasons.append("")
            except InvalidDesignError as e:
                checked.append(dict(c))
                reasons.append(str(e))
        answers = iter(self._evaluate_valid([c for c, r in zip(checked, reasons, strict=True)
                                             if not r]))
        share = (time.perf_counter() - start) / max(len(configs), 1)
        fidelity = getattr(self.evaluator, "fidelity_of", None)
        results = []
        for config, reason in zip(checked, reasons, strict=True):
            self._steps += 1
            self.evaluations += 1
            extra: dict[str, Any] = {}
            metrics: Metrics | None = None
            if not reason:
                metrics, reason = next(answers)
            ok = not reason
            if ok:
                assert metrics is not None
                reward = float(self.objective.reward(metrics))
                feasible = bool(self.objective.feasible(metrics))
                met = bool(self.objective.target_met(metrics))
                self._obs = self.observe(metrics)
            else:
                metrics, reward, feasible, met = None, self.invalid_reward, False, False
            if fidelity is not None:  # multi-fidelity: which cost model answered
                extra["fidelity"] = fidelity(config) if ok else ""
            self.notify(Evaluation(self.evaluations, config, metrics, reward, feasible, met,
                                   ok, share, extra))
            info = {"config": config, "metrics": metrics, "reward": reward,
                    "feasible": feasible, "target_met": met, "valid": ok,
                    "invalid_reason": reason}
            truncated = self._steps >= self.max_steps
            results.append((self._obs.copy(), reward, False, truncated, info))
        return results

    def _evaluate_valid(self, configs: list[dict[str, Any]]) -> list[tuple[Metrics | None, str]]:
        """``(metrics, "")`` per design, or ``(None, why)`` for one the evaluator refuses
        (:class:`InvalidDesignError`): one batch call, then one call per design only when
        the batch held a refused design."""
        try:
            return [(m, "") for m in self.evaluator.evaluate_batch(configs)]
        except InvalidDesignError:
            pass
        out: list[tuple[Metrics | None, str]] = []
        for config in configs:
            try:
                out.append((self.evaluator.evaluate(config), ""))
            except InvalidDesignError as e:
                out.append((None, str(e)))
        return out

    def steps_left(self) -> int:
        """Steps until this episode is truncated (at least 1)."""
        return max(1, self.max_steps - self._steps)

    def design_point_view(self) -> DesignEnv:
        """A design-point env is its own design-point view."""
        return self


# --------------------------------------------------------------------------- action views


class DictAction(gymnasium.ActionWrapper):
    """Action as ``{parameter: index}`` (a ``Dict`` of ``Discrete``)."""

    def __init__(self, env: gymnasium.Env) -> None:
        super().__init__(env)
        self.space = env.unwrapped.space
        self.action_space = gymnasium.spaces.Dict(
            {p.name: gymnasium.spaces.Discrete(p.cardinality) for p in self.space})

    def action(self, action):
        return np.array([int(action[n]) for n in self.space.names], dtype=np.int64)


class BoxAction(gymnasium.ActionWrapper):
    """Continuous action in ``[-1, 1]^d`` (SAC/TD3 convention), mapped through the space's
    unit-cube encoding: ``u = (a + 1) / 2``."""

    def __init__(self, env: gymnasium.Env) -> None:
        super().__init__(env)
        self.space = env.unwrapped.space
        self.action_space = gymnasium.spaces.Box(-1.0, 1.0, shape=(len(self.space),),
                                                 dtype=np.float32)

    def action(self, action):
        config = self.space.from_unit((np.asarray(action, dtype=np.float64) + 1.0) / 2.0)
        return self.space.to_index(config)


class DiscreteAction(gymnasium.ActionWrapper):
    """One flat index over the whole grid (row-major over the index vector), for DQN."""

    def __init__(self, env: gymnasium.Env, max_size: int = 10_000_000) -> None:
        super().__init__(env)
        self.space = env.unwrapped.space
        if self.space.size > max_size:
            raise ValueError(f"space has {self.space.size} designs; a flat Discrete view is "
                             f"limited to {max_size}")
        self.action_space = gymnasium.spaces.Discrete(self.space.size)

    def action(self, action):
        return np.array(np.unravel_index(int(action), tuple(self.space.nvec)), dtype=np.int64)


class OneHotAction(gymnasium.ActionWrapper):
    """Action as a score vector over the one-hot encoding; each block's arg-max wins."""

    def __init__(self, env: gymnasium.Env) -> None:
        super().__init__(env)
        self.space = env.unwrapped.space
        self.action_space = gymnasium.spaces.Box(-1.0, 1.0, shape=(self.space.onehot_size,),
                                                 dtype=np.float32)

    def action(self, action):
        return self.space.to_index(self.space.from_onehot(action))
