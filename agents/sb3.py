"""Stable-Baselines3 PPO, A2C, DQN, SAC and TD3 (design-point envs) and sb3-contrib's
MaskablePPO (sequential envs with action masks) as searchers that train through the env.

Each algorithm sees the design space through the action view it needs:
``MultiDiscrete`` (the env's own index vector) for PPO and A2C, one flat ``Discrete`` index
(:class:`archgym.env.DiscreteAction`) for DQN, and ``[-1, 1]^d`` (:class:`archgym.env.BoxAction`,
the space's unit-cube encoding) for SAC and TD3.

Budget accounting is the runner's: one env step is one evaluation. SB3's ``learn`` works in
whole rollouts (PPO/A2C collect ``n_steps`` before updating), so ``total_timesteps`` alone
could overshoot; a callback stops training after exactly ``budget`` evaluations of the base
env, so the dataset has exactly ``budget`` rows whatever ``n_steps`` is. A rollout cut short
at the end of the budget is simply not trained on.

Defaults are chosen for design-space exploration, not for control benchmarks:

- ``gamma=0.0``: a design's reward depends only on the design proposed, never on earlier
  steps, so discounting future rewards adds variance and no signal (a contextual bandit).
  Raise it to study the sequential formulation.
- small rollouts / warm-ups (``n_steps``, ``learning_starts``) so learning starts within a
  budget of a few hundred evaluations, and small ``[64, 64]`` networks.
- ``ent_coef=0.01`` for PPO/A2C to keep exploring a combinatorial space.

PPO and A2C take ``n_envs`` (default 1): with more, they step ``n_envs`` design slots of the
run's env together (:class:`agents.sb3_vec.DesignBatchVecEnv`), each vector step one
``step_batch``, so a proxy predicts the slots' designs in one call and every evaluation
still reaches the run's observers (dataset, tracker), which live with the runner's env.
Design envs themselves are side-effect free and work in
``gymnasium.vector.SyncVectorEnv``/``AsyncVectorEnv`` and SB3's ``SubprocVecEnv`` (each
process builds its own env; no files or state are shared) for users training their own
models; for parallel searches run seeds or settings as separate jobs (``archgym sweep``).

SB3 writes nothing to disk: each model gets a logger without outputs (SB3's default makes an
empty ``SB3-<timestamp>`` folder in the system temp directory on every ``learn``).

Every hyper-parameter can be set with ``--agent-param name=value``; ``archgym agents`` lists
them with their defaults. Training runs on the CPU and is seeded through SB3's ``seed=``
(which seeds Python, NumPy and torch), so the same seed gives the same designs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import gymnasium
import numpy as np

from agents.base import Searcher
from archgym.env import BoxAction, DiscreteAction
from archgym.errors import ArchGymError
from archgym.threads import one_thread

_NET: list[int] = [64, 64]
_MAX_FLAT = 10_000_000  # DQN's flat action view: one Q-value per design


def _budget_callback(base: Any, budget: int):
    """An SB3 callback that stops training once ``base`` has made ``budget`` more evaluations."""
    from stable_baselines3.common.callbacks import BaseCallback

    class StopAtBudget(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.start = base.evaluations

        def _on_step(self) -> bool:
            return base.evaluations - self.start < budget

    return StopAtBudget()


class EnvTrainedSearcher(Searcher):
    """A searcher that trains through the env (``learn(env, budget)``): no ask/tell."""

    def ask(self) -> dict[str, Any]:
        raise ArchGymError(f"searcher {self.name!r} trains through the env: call "
                           f"learn(env, budget) (archgym.runner.run does), not ask()/tell()")

    def tell(self, config: Mapping[str, Any], metrics: Mapping[str, float] | None,
             reward: float) -> None:
        self.ask()

    def learn(self, env: gymnasium.Env, budget: int) -> None:
        raise NotImplementedError


class SB3Searcher(EnvTrainedSearcher):
    """Base class: subclasses set ``algorithm`` (SB3 class name), ``view`` and ``defaults``."""

    algorithm: ClassVar[str] = ""
    kinds: ClassVar[tuple[str, ...]] = ("design",)
    #: action view: "multidiscrete", "discrete" or "box"
    view: ClassVar[str] = "multidiscrete"
    #: hyper-parameters that are ours, not SB3 constructor keywords
    _own: ClassVar[tuple[str, ...]] = ("net_arch", "n_envs")

    def __init__(self, space, seed: int = 0, **hparams: Any) -> None:
        super().__init__(space, seed=seed, **hparams)
        self.model = None  # the trained SB3 model after learn()

    # ---- training
    def wrap(self, env: gymnasium.Env) -> gymnasium.Env:
        """The env seen through this algorithm's action view."""
        if self.view == "discrete":
            space = env.unwrapped.space
            if not space.finite or space.size > _MAX_FLAT:
                raise ArchGymError(f"searcher {self.name!r} needs a flat Discrete view of at "
                                   f"most {_MAX_FLAT:,} designs; this space has "
                                   f"{space.size if space.finite else 'infinitely many'} "
                                   f"(use ppo, a2c, sac or td3)")
            return DiscreteAction(env, max_size=_MAX_FLAT)
        if self.view == "box":
            return BoxAction(env)
        return env

    def model_kwargs(self, env: gymnasium.Env) -> dict[str, Any]:
        """SB3 constructor keywords from the hyper-parameters (subclasses add to them)."""
        kw = {k: v for k, v in self.hparams.items() if k not in self._own}
        kw["policy_kwargs"] = {"net_arch": list(self.hparams["net_arch"])}
        return kw

    def algorithm_class(self) -> type:
        import stable_baselines3 as sb3

        return getattr(sb3, self.algorithm)

    def learn(self, env: gymnasium.Env, budget: int) -> None:
        """Train on ``env`` for exactly ``budget`` evaluations."""
        from stable_baselines3.common.logger import Logger

        if budget < 1:
            raise ArchGymError("budget must be >= 1")
        base = env.unwrapped
        if base.kind not in self.kinds:
            raise ArchGymError(f"searcher {self.name!r} drives {' or '.join(self.kinds)} "
                               f"envs; {base.env_id()} is {base.kind}")
        view = self.wrap(env)
        policy = ("MultiInputPolicy" if isinstance(view.observation_space,
                                                   gymnasium.spaces.Dict) else "MlpPolicy")
        n_envs = int(self.hparams.get("n_envs", 1))
        if n_envs < 1:
            raise ArchGymError(f"searcher {self.name!r}: n_envs must be >= 1, got {n_envs}")
        if n_envs > 1:  # one env call evaluates all slots' designs (agents.sb3_vec)
            from agents.sb3_vec import DesignBatchVecEnv

            start = base.evaluations
            view = DesignBatchVecEnv(view, n_envs,
                                     lambda: budget - (base.evaluations - start))
        with one_thread():
            self.model = self.algorithm_class()(policy, view, seed=self.seed, device="cpu",
                                                verbose=0, **self.model_kwargs(view))
            self.model.set_logger(Logger(folder=None, output_formats=[]))
            # PPO/A2C would finish their last rollout past `budget`: the callback stops them
            # (on a sequential env an evaluation is an episode of many steps)
            steps = budget if base.kind == "design" else 10**12
            self.model.learn(total_timesteps=steps, callback=_budget_callback(base, budget),
                             progress_bar=False)


class PPO(SB3Searcher):
    """Proximal Policy Optimisation over the ``MultiDiscrete`` index vector."""

    name = "ppo"
    algorithm = "PPO"
    view = "multidiscrete"
    defaults: ClassVar[dict[str, Any]] = {
        "learning_rate": 3e-4, "n_steps": 64, "batch_size": 64, "n_epochs": 10,
        "gamma": 0.0, "gae_lambda": 0.95, "clip_range": 0.2, "ent_coef": 0.01,
        "vf_coef": 0.5, "max_grad_norm": 0.5, "net_arch": _NET,
        "n_envs": 1,
    }


class A2C(SB3Searcher):
    """Advantage Actor-Critic over the ``MultiDiscrete`` index vector."""

    name = "a2c"
    algorithm = "A2C"
    view = "multidiscrete"
    defaults: ClassVar[dict[str, Any]] = {
        "learning_rate": 7e-4, "n_steps": 8, "gamma": 0.0, "gae_lambda": 1.0,
        "ent_coef": 0.01, "vf_coef": 0.5, "max_grad_norm": 0.5, "net_arch": _NET,
        "n_envs": 1,
    }


class DQN(SB3Searcher):
    """Deep Q-learning over one flat ``Discrete`` index of the whole grid (finite spaces of
    up to ten million designs)."""

    name = "dqn"
    algorithm = "DQN"
    view = "discrete"
    defaults: ClassVar[dict[str, Any]] = {
        "learning_rate": 1e-3, "buffer_size": 10_000, "learning_starts": 64,
        "batch_size": 32, "gamma": 0.0, "train_freq": 1, "gradient_steps": 1,
        "target_update_interval": 100, "exploration_fraction": 0.5,
        "exploration_initial_eps": 1.0, "exploration_final_eps": 0.05, "net_arch": _NET,
    }


class SAC(SB3Searcher):
    """Soft Actor-Critic over the ``[-1, 1]^d`` unit-cube view."""

    name = "sac"
    algorithm = "SAC"
    view = "box"
    defaults: ClassVar[dict[str, Any]] = {
        "learning_rate": 1e-3, "buffer_size": 10_000, "learning_starts": 64,
        "batch_size": 64, "gamma": 0.0, "tau": 0.005, "train_freq": 1, "gradient_steps": 1,
        "ent_coef": "auto", "net_arch": _NET,
    }


class TD3(SB3Searcher):
    """Twin Delayed DDPG over the ``[-1, 1]^d`` unit-cube view, with Gaussian exploration
    noise of standard deviation ``action_noise`` (in action units)."""

    name = "td3"
    algorithm = "TD3"
    view = "box"
    _own = ("net_arch", "action_noise")
    defaults: ClassVar[dict[str, Any]] = {
        "learning_rate": 1e-3, "buffer_size": 10_000, "learning_starts": 64,
        "batch_size": 64, "gamma": 0.0, "tau": 0.005, "train_freq": 1, "gradient_steps": 1,
        "policy_delay": 2, "action_noise": 0.2, "net_arch": _NET,
    }

    def model_kwargs(self, env: gymnasium.Env) -> dict[str, Any]:
        from stable_baselines3.common.noise import NormalActionNoise

        kw = super().model_kwargs(env)
        d = env.action_space.shape[0]
        sigma = float(self.hparams["action_noise"])
        if sigma > 0:
            kw["action_noise"] = NormalActionNoise(np.zeros(d), np.full(d, sigma))
        return kw


class MaskablePPO(SB3Searcher):
    """sb3-contrib's MaskablePPO on a sequential env: one decision per step, illegal
    actions masked (the env's ``action_masks()``); the budget counts finished designs.
    ``gamma=1`` because the reward of a design arrives when it is finished."""

    name = "maskable-ppo"
    algorithm = "MaskablePPO"
    kinds = ("sequential",)
    view = "native"
    defaults: ClassVar[dict[str, Any]] = {
        "learning_rate": 3e-4, "n_steps": 256, "batch_size": 64, "n_epochs": 10,
        "gamma": 1.0, "gae_lambda": 0.95, "clip_range": 0.2, "ent_coef": 0.01,
        "vf_coef": 0.5, "max_grad_norm": 0.5, "net_arch": _NET,
    }

    def algorithm_class(self) -> type:
        from sb3_contrib import MaskablePPO as Maskable

        return Maskable
