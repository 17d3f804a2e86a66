"""``marl-ppo``: multi-agent PPO on :func:`archgym.marl.parallel_env` (team reward).

By default every parameter is an agent (``groups="parameter"``, as in the MARL DSE study);
``groups="space"`` uses the space's named groups. Each agent is an independent PPO learner
(its own actor and critic, trained on the shared observation and the team reward). With
``share_parameters=True`` all agents share one actor-critic whose input is the observation
with the agent's one-hot id appended, so it can still act differently per agent.

Why our own short PPO rather than one SB3 PPO per agent: SB3 models each want to drive
``env.step`` themselves, whereas here all agents must act in lock-step on one joint
evaluation; synchronising several SB3 learners needs threads or SB3's private rollout
internals, both more fragile than the ~100 lines below. The update is the standard clipped
PPO objective with GAE, value loss and an entropy bonus (Schulman et al., 2017), with the
same hyper-parameter names and defaults as the single-agent ``ppo`` searcher so the two can
be compared on equal terms.

Action layout: an agent choosing ``k`` parameters has ``k`` categorical heads. To let one
shared network serve agents of different shapes, every network outputs a
``(k_max, c_max)`` logit grid; each agent masks it to its own parameters' cardinalities
(padding rows allow only index 0, adding nothing to log-probabilities or entropy).

Budget: exactly ``budget`` joint steps, i.e. ``budget`` evaluations, each logged through the
base env's observers like any other searcher. A rollout cut short by the budget is not
trained on. Training is on the CPU, seeded from the searcher's seed (torch's global RNG is
saved and restored around training).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import gymnasium
import numpy as np

from agents.sb3 import EnvTrainedSearcher
from archgym.errors import ArchGymError
from archgym.threads import one_thread

_NEG = -1e9  # masked logit: probability exactly 0 in float32, no NaN in the entropy


def _mlp(sizes: list[int]):
    import torch.nn as nn

    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


class _Learner:
    """One actor-critic and its optimiser, serving one agent or (shared) all of them."""

    def __init__(self, in_dim: int, k_max: int, c_max: int, hp: Mapping[str, Any]) -> None:
        import torch

        hidden = [int(h) for h in hp["net_arch"]]
        self.k_max, self.c_max = k_max, c_max
        self.actor = _mlp([in_dim, *hidden, k_max * c_max])
        self.critic = _mlp([in_dim, *hidden, 1])
        self.params = [*self.actor.parameters(), *self.critic.parameters()]
        self.opt = torch.optim.Adam(self.params, lr=float(hp["learning_rate"]), eps=1e-5)

    def dist(self, x, mask):
        import torch

        logits = self.actor(x).view(-1, self.k_max, self.c_max)
        return torch.distributions.Categorical(logits=torch.where(mask, logits, _NEG),
                                               validate_args=False)

    def value(self, x):
        return self.critic(x).squeeze(-1)


class MarlPPO(EnvTrainedSearcher):
    """Independent (or parameter-sharing) PPO agents, one per parameter or group."""

    name = "marl-ppo"
    defaults: ClassVar[dict[str, Any]] = {
        "learning_rate": 3e-4, "n_steps": 64, "batch_size": 64, "n_epochs": 10,
        "gamma": 0.0, "gae_lambda": 0.95, "clip_range": 0.2, "ent_coef": 0.01,
        "vf_coef": 0.5, "max_grad_norm": 0.5, "net_arch": [64, 64],
        "share_parameters": False, "groups": "parameter",
    }

    def __init__(self, space, seed: int = 0, **hparams: Any) -> None:
        super().__init__(space, seed=seed, **hparams)
        if self.hparams["groups"] not in ("parameter", "space"):
            raise ArchGymError(f"searcher 'marl-ppo': groups must be 'parameter' or 'space', "
                               f"got {self.hparams['groups']!r}")
        if self.hparams["n_steps"] < 2 or self.hparams["batch_size"] < 2:
            raise ArchGymError("searcher 'marl-ppo': n_steps and batch_size must be >= 2")

    def learn(self, env: gymnasium.Env, budget: int) -> None:
        """Train on a :class:`DesignParallelEnv` over ``env`` for exactly ``budget`` steps."""
        import torch

        from archgym.marl import DesignParallelEnv

        if budget < 1:
            raise ArchGymError("budget must be >= 1")
        with torch.random.fork_rng(devices=[]), one_thread():
            torch.manual_seed(self.seed)
            self._learn(DesignParallelEnv(env, self.hparams["groups"]), budget)

    # ------------------------------------------------------------------ internals
    def _learn(self, penv, budget: int) -> None:
        import torch

        hp = self.hparams
        agents = penv.possible_agents
        n_agents = len(agents)
        nvec = self.space.nvec
        k_max = max(len(s) for s in penv.slots.values())
        c_max = int(max(nvec))
        masks = {}
        for a, slots in penv.slots.items():
            m = torch.zeros(k_max, c_max, dtype=torch.bool)
            for row, pos in enumerate(slots):
                m[row, : int(nvec[pos])] = True
            m[len(slots):, 0] = True  # padding rows: only index 0, log-prob 0
            masks[a] = m
        obs_dim = penv.base.observation_space.shape[0]
        shared = bool(hp["share_parameters"])
        if shared:
            one = _Learner(obs_dim + n_agents, k_max, c_max, hp)
            learners = dict.fromkeys(agents, one)
        else:
            learners = {a: _Learner(obs_dim, k_max, c_max, hp) for a in agents}
        eye = np.eye(n_agents, dtype=np.float32)

        def inputs(obs: np.ndarray) -> dict[str, torch.Tensor]:
            if not shared:
                x = torch.as_tensor(obs, dtype=torch.float32)
                return dict.fromkeys(agents, x)
            return {a: torch.as_tensor(np.concatenate([obs, eye[i]]))
                    for i, a in enumerate(agents)}

        obs_d, _ = penv.reset(seed=self.seed)
        obs = obs_d[agents[0]]
        buf: dict[str, list[list]] = {a: [] for a in agents}
        for _ in range(budget):
            x = inputs(obs)
            actions = {}
            with torch.no_grad():
                for a in agents:
                    learner = learners[a]
                    d = learner.dist(x[a], masks[a])
                    act = d.sample()[0]                       # (k_max,)
                    logp = float(d.log_prob(act[None]).sum())
                    n = len(penv.slots[a])
                    actions[a] = int(act[0]) if n == 1 else act[:n].numpy()
                    # the last slot is V(next obs), filled only where the next step's value
                    # is not it (episode ends, rollout ends)
                    buf[a].append([x[a], act, logp, float(learner.value(x[a])), 0.0, None, False])
            next_d, rew, term, trunc, _ = penv.step(actions)
            next_obs = next_d[agents[0]]
            done = trunc[agents[0]] or term[agents[0]]
            full = len(buf[agents[0]]) == hp["n_steps"]
            nx = inputs(next_obs) if (done or full) and hp["gamma"] > 0 else None
            for a in agents:
                row = buf[a][-1]
                row[4], row[6] = rew[a], done
                if done or full:
                    # bootstrap from the final obs on truncation (a time limit, not a terminal)
                    with torch.no_grad():
                        row[5] = 0.0 if nx is None or term[a] else float(
                            learners[a].value(nx[a]))
            obs = next_obs
            if done:
                obs_d, _ = penv.reset()
                obs = obs_d[agents[0]]
            if full:
                self._update(learners, masks, buf, shared)
                buf = {a: [] for a in agents}

    def _update(self, learners, masks, buf, shared: bool) -> None:
        import torch

        hp = self.hparams
        gamma, lam = float(hp["gamma"]), float(hp["gae_lambda"])
        batches: dict[int, list] = {}
        for a, rows in buf.items():
            x, act, logp, v, r, boot, done = zip(*rows, strict=True)
            v, r = np.array(v), np.array(r, dtype=np.float64)
            # V(s_{t+1}): the next row's value within an episode, else the stored bootstrap
            nv = np.array([boot[t] if boot[t] is not None else v[t + 1]
                           for t in range(len(rows))])
            adv = np.zeros(len(rows))
            last = 0.0
            for t in reversed(range(len(rows))):
                delta = r[t] + gamma * nv[t] - v[t]
                last = delta + gamma * lam * (0.0 if done[t] else 1.0) * last
                adv[t] = last
            batch = (torch.stack(x), torch.stack(act), torch.tensor(logp),
                     torch.as_tensor(adv, dtype=torch.float32),
                     torch.as_tensor(adv + v, dtype=torch.float32),
                     masks[a].expand(len(rows), *masks[a].shape))
            batches.setdefault(id(learners[a]), []).append((learners[a], batch))
        for parts in batches.values():
            learner = parts[0][0]
            data = [torch.cat(cols) for cols in zip(*(b for _, b in parts), strict=True)]
            self._ppo(learner, *data)

    def _ppo(self, learner: _Learner, x, act, old_logp, adv, ret, mask) -> None:
        import torch

        hp = self.hparams
        n = len(x)
        bs = min(int(hp["batch_size"]), n)
        clip = float(hp["clip_range"])
        for _ in range(int(hp["n_epochs"])):
            order = self.rng.permutation(n)
            for start in range(0, n - bs + 1, bs):
                idx = torch.as_tensor(order[start:start + bs])
                a = adv[idx]
                a = (a - a.mean()) / (a.std() + 1e-8)
                d = learner.dist(x[idx], mask[idx])
                logp = d.log_prob(act[idx]).sum(-1)
                ratio = torch.exp(logp - old_logp[idx])
                pg = -torch.min(ratio * a, ratio.clamp(1 - clip, 1 + clip) * a).mean()
                vf = ((learner.value(x[idx]) - ret[idx]) ** 2).mean()
                ent = d.entropy().sum(-1).mean()
                loss = pg + float(hp["vf_coef"]) * vf - float(hp["ent_coef"]) * ent
                learner.opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(learner.params, float(hp["max_grad_norm"]))
                learner.opt.step()
