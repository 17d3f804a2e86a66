"""``SequentialEnv``: the sequential kind of environment: an episode builds one design
decision by decision (place the next task, the next tensor).

It implements the environment contract of :mod:`archgym.contract` (``kind ==
"sequential"``):

- **Action**: ``Discrete(n)``; ``info["action_mask"]`` and :meth:`action_masks` (the method
  sb3-contrib's ``MaskablePPO`` calls) mark the legal ones. An illegal action ends the episode
  as an invalid design (``invalid_reward``, ``valid=False``) rather than raising, so generic
  Gymnasium code that samples the action space still runs.
- **Reward**: 0 per step unless the env shapes it (:meth:`_apply` returns the step's share);
  when the design is complete the step that completes it adds the objective's reward of the
  finished design.
- **Evaluation**: when an episode ends, the finished design and its metrics are one
  :class:`~archgym.contract.Evaluation`, exactly like one design-point step. Its ``config`` is
  ``{"actions": [...], "episode_seed": s}``: every episode draws its own seed (from the
  ``reset`` seed), so the pair re-creates the design (:meth:`evaluate`), and ``extra["design"]``
  holds the finished design in the env's own terms (JSON).
- **Design-point view**: an env whose designs can also be written as one vector (for example a
  priority per task that a list scheduler turns into a schedule) returns a
  :class:`~archgym.env.DesignEnv` from :meth:`design_point_view`, which black-box searchers
  run on; the others return ``None`` and black-box searchers refuse them.

Subclasses implement :meth:`_begin`, :meth:`_observe`, :meth:`_legal`, :meth:`_apply`,
:meth:`_complete` and :meth:`_result`, and set ``action_space``, ``observation_space``,
``metric_specs`` and ``objective``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import gymnasium
import numpy as np

from archgym.contract import EnvBase, Evaluation
from archgym.env import DesignEnv
from archgym.errors import ArchGymError
from archgym.evaluator import Evaluator, Metrics, MetricSpec
from archgym.objectives import Objective

SEED_RANGE = 2**31


class SequentialEnv(EnvBase, gymnasium.Env):
    """Base class of environments whose episode constructs one design (see module docs)."""

    kind = "sequential"
    metadata = {"render_modes": []}
    metric_specs: tuple[MetricSpec, ...]
    objective: Objective
    space = None  # the design-point view's space, where there is one
    invalid_reward: float = -1.0
    evaluations: int = 0  # finished episodes over the env's life (the budget's unit)

    # ---- what subclasses implement
    def _begin(self, rng: np.random.Generator) -> None:
        """Start an episode; ``rng`` is its only source of randomness."""
        raise NotImplementedError

    def _observe(self) -> Any:
        raise NotImplementedError

    def _legal(self) -> np.ndarray:
        """Boolean mask over ``action_space.n``: the legal actions now."""
        raise NotImplementedError

    def _apply(self, action: int) -> float:
        """Apply a legal action; return the shaped reward of the step (0 if unshaped)."""
        raise NotImplementedError

    def _complete(self) -> bool:
        """Whether the design is finished."""
        raise NotImplementedError

    def _result(self) -> tuple[Metrics, dict[str, Any]]:
        """The finished design's metrics and the design itself (JSON-able)."""
        raise NotImplementedError

    def design_point_view(self):
        """A :class:`~archgym.env.DesignEnv` over whole designs, or ``None``."""
        return None

    # ---- gymnasium API
    def reset(self, *, seed: int | None = None, options: Mapping[str, Any] | None = None):
        super().reset(seed=seed)
        options = options or {}
        episode_seed = options.get("episode_seed")
        if episode_seed is None:
            episode_seed = int(self.np_random.integers(SEED_RANGE))
        self._episode_seed = int(episode_seed)
        self._actions: list[int] = []
        self._start = time.perf_counter()
        self._begin(np.random.default_rng(self._episode_seed))
        self._mask = self._legal()
        return self._observe(), self._info()

    def action_masks(self) -> np.ndarray:
        """The legal actions now (sb3-contrib's ``MaskablePPO`` calls this)."""
        return self._mask.copy()

    def _info(self, **more: Any) -> dict[str, Any]:
        return {"action_mask": self._mask.copy(), **more}

    def step(self, action):
        if not hasattr(self, "_mask"):
            raise ArchGymError("call reset() before step()")
        a = int(np.asarray(action).item())
        self._actions.append(a)
        if not (0 <= a < len(self._mask) and self._mask[a]):
            self._mask = np.zeros_like(self._mask)
            self._emit(None, {}, valid=False)
            return self._observe(), self.invalid_reward, True, False, self._info(valid=False)
        reward = float(self._apply(a))
        self._mask = self._legal()
        if not self._complete():
            if not self._mask.any():
                raise RuntimeError(f"{type(self).__name__}: no legal action in an unfinished "
                                   "design")
            return self._observe(), reward, False, False, self._info()
        metrics, design = self._result()
        final = float(self.objective.reward(metrics))
        self._emit(metrics, design, valid=True, reward=final)
        self._mask = np.zeros_like(self._mask)
        info = self._info(valid=True, metrics=metrics, design=design, reward=final)
        return self._observe(), reward + final, True, False, info

    def _emit(self, metrics: Metrics | None, design: dict[str, Any], valid: bool,
              reward: float | None = None) -> None:
        self.evaluations += 1
        config = {"actions": list(self._actions), "episode_seed": self._episode_seed}
        if metrics is None:
            ev = Evaluation(self.evaluations, config, None, self.invalid_reward, False, False,
                            False, time.perf_counter() - self._start, {"design": ""})
        else:
            ev = Evaluation(self.evaluations, config, metrics, float(reward),
                            bool(self.objective.feasible(metrics)),
                            bool(self.objective.target_met(metrics)), valid,
                            time.perf_counter() - self._start,
                            {"design": json.dumps(design, sort_keys=True)})
        self.notify(ev)

    # ---- the contract
    def evaluate(self, config: Mapping[str, Any]) -> Metrics:
        """Re-play a logged design (``actions`` and ``episode_seed``; ``actions`` may be the
        dataset's JSON text) without notifying anyone; ends the current episode."""
        actions = config["actions"]
        if isinstance(actions, str):
            actions = json.loads(actions)
        observers = self.__dict__.pop("_observers", [])
        try:
            self.reset(options={"episode_seed": int(config["episode_seed"])})
            info: dict[str, Any] = {}
            for a in actions:
                _, _, terminated, _, info = self.step(int(a))
                if terminated:
                    break
            if not info.get("valid"):
                raise ArchGymError(f"the logged actions do not make a valid design of "
                                   f"{self.env_id()}")
            return dict(info["metrics"])
        finally:
            self.__dict__["_observers"] = observers


class DesignPointView(DesignEnv):
    """A sequential env's designs as whole design points, for black-box searchers.

    ``evaluator`` turns one vector of the view's space into a finished design of ``parent``
    (for example priorities that a list scheduler follows) and its metrics; the reward is the
    parent's objective. Its spec is the parent's with ``"view": "design"``, so a logged row
    re-creates the view (``registry.make_from_spec``).
    """

    def __init__(self, parent: SequentialEnv, evaluator: Evaluator, max_steps: int = 100
                 ) -> None:
        self.parent = parent
        super().__init__(evaluator, parent.objective, max_steps=max_steps)

    def env_id(self) -> str:
        return self.parent.env_id()

    def env_spec(self) -> dict[str, Any]:
        return {**self.parent.env_spec(), "kind": "design", "view": "design",
                "cost_model": self.cost_model_name()}

    def metric_spec_key(self) -> dict[str, Any]:
        return {**self.parent.metric_spec_key(), "view": "design"}

    def best_known(self):
        """The parent's: the view searches the same problem's designs."""
        return self.parent.best_known()
