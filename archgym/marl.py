"""The multi-agent formulation of design-space exploration as a PettingZoo ``ParallelEnv``.

Several agents design one system together: each agent owns some parameters (by default one
parameter each, as in the MARL DSE study of DRAM controllers; or the space's named
``groups``, e.g. one agent per sub-system; or any explicit partition), every step all agents
choose their parameters at once, the joint choice is one design, and that design is
evaluated once. All agents receive the same team reward and the same observation (the
base env's normalised metric vector), and are truncated together after ``max_steps``.

The design is evaluated through the base :meth:`DesignEnv.step_config`, so observers (the
dataset recorder, the runner's tracker) see every evaluation exactly as they would for a
single-agent searcher, and one joint step costs one evaluation of the budget.

>>> env = parallel_env("archgym/DRAM-v0", workload="stream")    # doctest: +SKIP
>>> obs, infos = env.reset(seed=0)                                # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium
import numpy as np
from pettingzoo import ParallelEnv

from archgym.env import DesignEnv
from archgym.errors import ArchGymError


def resolve_groups(space, groups: str | Mapping[str, Sequence[str]] | None
                   ) -> dict[str, tuple[str, ...]]:
    """Agent name -> the parameters it chooses.

    ``None`` or ``"parameter"``: one agent per parameter (named after it); ``"space"``: the
    space's named groups; a mapping: that partition, which must list every parameter once.
    """
    if groups is None or groups == "parameter":
        return {n: (n,) for n in space.names}
    if groups == "space":
        if space.groups is None:
            raise ArchGymError("groups='space' but this design space has no named groups; "
                               "use groups=None (one agent per parameter) or a mapping")
        return dict(space.groups)
    if isinstance(groups, str) or not isinstance(groups, Mapping):
        raise ArchGymError(f"groups must be None, 'parameter', 'space' or a mapping "
                           f"{{agent: [parameters]}}, got {groups!r}")
    out = {str(a): tuple(members) for a, members in groups.items()}
    listed = [n for members in out.values() for n in members]
    unknown = [n for n in listed if n not in space.names]
    if unknown:
        raise ArchGymError(f"groups name unknown parameter {unknown[0]!r}; parameters: "
                           f"{', '.join(space.names)}")
    if sorted(listed) != sorted(space.names):
        missing = [n for n in space.names if n not in listed]
        twice = sorted({n for n in listed if listed.count(n) > 1})
        raise ArchGymError(f"groups must list every parameter exactly once; missing: "
                           f"{missing or 'none'}, repeated: {twice or 'none'}")
    empty = [a for a, members in out.items() if not members]
    if empty:
        raise ArchGymError(f"agent {empty[0]!r} has no parameters")
    return out


class DesignParallelEnv(ParallelEnv):
    """A :class:`DesignEnv` split among agents; see the module docstring."""

    metadata = {"name": "archgym_design_parallel_v0", "render_modes": [],
                "is_parallelizable": True}

    def __init__(self, env: gymnasium.Env,
                 groups: str | Mapping[str, Sequence[str]] | None = None) -> None:
        base = env.unwrapped
        if not isinstance(base, DesignEnv):
            raise ArchGymError(f"parallel_env needs a DesignEnv, got {type(base).__name__}")
        if not base.space.finite:
            raise ArchGymError("parallel_env needs a finite design space (every agent picks "
                               "indices); this one has continuous parameters")
        self.env, self.base, self.space = env, base, base.space
        self.groups = resolve_groups(self.space, groups)
        self.possible_agents = list(self.groups)
        self.agents: list[str] = []
        position = {n: i for i, n in enumerate(self.space.names)}
        #: agent -> positions of its parameters in the space's index vector
        self.slots = {a: np.array([position[n] for n in members], dtype=np.int64)
                      for a, members in self.groups.items()}
        nvec = self.space.nvec
        self._action_spaces = {
            a: (gymnasium.spaces.Discrete(int(nvec[s[0]])) if len(s) == 1
                else gymnasium.spaces.MultiDiscrete(nvec[s]))
            for a, s in self.slots.items()}
        self._observation_spaces = {a: base.observation_space for a in self.possible_agents}
        self.state_space = base.observation_space
        self.max_steps = base.max_steps

    def observation_space(self, agent: str) -> gymnasium.spaces.Space:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> gymnasium.spaces.Space:
        return self._action_spaces[agent]

    def reset(self, seed: int | None = None, options: Mapping[str, Any] | None = None):
        if seed is not None:
            for i, a in enumerate(self.possible_agents):
                self._action_spaces[a].seed(seed + i)
        obs, info = self.base.reset(seed=seed, options=options)
        self.agents = list(self.possible_agents)
        return {a: obs.copy() for a in self.agents}, {a: dict(info) for a in self.agents}

    def joint_index(self, actions: Mapping[str, Any]) -> np.ndarray:
        """The design's index vector from every live agent's action."""
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ArchGymError(f"no action for agent(s) {missing}; every agent acts each step")
        index = np.zeros(len(self.space), dtype=np.int64)
        for a in self.agents:
            index[self.slots[a]] = np.atleast_1d(np.asarray(actions[a], dtype=np.int64))
        return index

    def step(self, actions: Mapping[str, Any]):
        if not self.agents:
            raise ArchGymError("step() after the episode ended; call reset()")
        index = self.joint_index(actions)
        config = self.space.from_index(index)
        obs, reward, terminated, truncated, info = self.base.step_config(config)
        agents = self.agents
        out = ({a: obs.copy() for a in agents}, {a: float(reward) for a in agents},
               {a: bool(terminated) for a in agents}, {a: bool(truncated) for a in agents},
               {a: dict(info) for a in agents})
        if terminated or truncated:
            self.agents = []
        return out

    def state(self) -> np.ndarray:
        """The shared observation (every agent sees the whole system's metrics)."""
        return self.base._obs.copy()

    def close(self) -> None:
        self.env.close()


def parallel_env(env_id_or_env: str | gymnasium.Env,
                 groups: str | Mapping[str, Sequence[str]] | None = None,
                 **env_kwargs: Any) -> DesignParallelEnv:
    """A PettingZoo ``ParallelEnv`` over a design env.

    Parameters
    ----------
    env_id_or_env : an id such as ``"archgym/DRAM-v0"`` (made with ``env_kwargs``) or an
        existing design env (then ``env_kwargs`` must be empty).
    groups : ``None``/``"parameter"`` (one agent per parameter), ``"space"`` (the space's
        named groups) or ``{agent: [parameter names]}``.
    """
    if isinstance(env_id_or_env, str):
        from archgym.registry import make

        env = make(env_id_or_env, **env_kwargs)
    else:
        if env_kwargs:
            raise ArchGymError(f"env keyword arguments {sorted(env_kwargs)} need an env id, "
                               f"not an env instance")
        env = env_id_or_env
    return DesignParallelEnv(env, groups)
