"""A Stable-Baselines3 ``VecEnv`` of ``n_envs`` design slots over one design-point env:
each vector step is one ``DesignEnv.step_batch`` call, i.e. one evaluator batch (a proxy
predicts the whole batch at once).

The slots share the env (and so its observers: every evaluation reaches the dataset and
the run's tracker, which is why SB3's ``SubprocVecEnv`` is not used here) but keep their own
episode: each slot counts its steps, is truncated at the env's ``max_steps`` and restarts
from the reset observation (the default design's, computed once). An invalid design keeps
the slot's previous observation, as the env does for a single episode.

``budget_left()`` caps each batch, so a run makes exactly its budget of evaluations: slots
past the budget get no evaluation (reward 0, observation unchanged) in the last step,
which the budget callback stops before training on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium
import numpy as np
from stable_baselines3.common.vec_env import VecEnv


class DesignBatchVecEnv(VecEnv):
    def __init__(self, view: gymnasium.Env, n_envs: int,
                 budget_left: Callable[[], int]) -> None:
        self.view, self.base = view, view.unwrapped
        super().__init__(n_envs, view.observation_space, view.action_space)
        self.budget_left = budget_left
        self._steps = np.zeros(n_envs, dtype=np.int64)
        self._obs = np.zeros((n_envs, *view.observation_space.shape), dtype=np.float32)
        self._start: np.ndarray | None = None
        self._actions: np.ndarray | None = None

    def _config(self, action: Any) -> dict[str, Any]:
        index = self.view.action(action) if isinstance(self.view, gymnasium.ActionWrapper) \
            else np.asarray(action, dtype=np.int64)
        return self.base.space.from_index(index)

    # ---- VecEnv
    def reset(self) -> np.ndarray:
        if self._start is None:
            obs, _ = self.view.reset(seed=self._seeds[0] if self._seeds else None)
            self._start = np.asarray(obs, dtype=np.float32)
        self._obs[:] = self._start
        self._steps[:] = 0
        self._reset_seeds()
        return self._obs.copy()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self):
        n = min(self.num_envs, max(1, self.budget_left()))
        results = self.base.step_batch([self._config(a) for a in self._actions[:n]])
        rewards = np.zeros(self.num_envs, dtype=np.float32)
        dones = np.zeros(self.num_envs, dtype=bool)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for j, (obs, reward, _, _, info) in enumerate(results):
            if info["valid"]:
                self._obs[j] = obs
            rewards[j] = reward
            infos[j] = dict(info)
        self._steps[:n] += 1
        for j in range(n):
            if self._steps[j] >= self.base.max_steps:
                dones[j] = True
                infos[j]["TimeLimit.truncated"] = True
                infos[j]["terminal_observation"] = self._obs[j].copy()
                self._obs[j] = self._start
                self._steps[j] = 0
        return self._obs.copy(), rewards, dones, infos

    def close(self) -> None:
        """The env belongs to the run; the runner closes it."""

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        return [getattr(self.view, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        setattr(self.view, attr_name, value)

    def env_method(self, method_name: str, *args: Any, indices: Any = None,
                   **kwargs: Any) -> list[Any]:
        return [getattr(self.view, method_name)(*args, **kwargs)
                for _ in self._indices(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        env, found = self.view, False
        while isinstance(env, gymnasium.Wrapper):
            found = found or isinstance(env, wrapper_class)
            env = env.env
        return [found] * len(self._indices(indices))

    def _indices(self, indices: Any) -> Sequence[int]:
        if indices is None:
            return range(self.num_envs)
        return [indices] if isinstance(indices, int) else list(indices)
