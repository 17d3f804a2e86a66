"""A MaskablePPO policy network for SoCScheduling-v0 that scores every (ready task, PE) pair
with one shared small network, as DeepSoCS (Sung et al. 2020) and Decima (Mao et al.,
SIGCOMM 2019) score graph nodes with shared weights, instead of one output unit per action.

The flat observation (``observation="flat"``) is the env's ``tasks`` ``(K, Ft)``, ``pes``
``(P, Fp)`` and ``pairs`` ``(K, P, Fq)`` arrays concatenated; the actor reads pair ``(k, p)``
as ``[tasks[k], pes[p], pairs[k, p]]`` and outputs its logit (the action ``k * P + p`` of
the env); the critic is an MLP over the whole observation. Masked pairs are removed by
sb3-contrib's masked distribution as usual.
"""

from __future__ import annotations

from typing import Any

import torch
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from torch import nn


class PairScorer(nn.Module):
    """Actor: one logit per pair from a shared MLP; critic: an MLP over the observation."""

    def __init__(self, k: int, p: int, ft: int, fp: int, fq: int, hidden: int = 32,
                 value_hidden: int = 64) -> None:
        super().__init__()
        self.k, self.p, self.ft, self.fp, self.fq = k, p, ft, fp, fq
        self.latent_dim_pi = k * p
        self.latent_dim_vf = value_hidden
        self.score = nn.Sequential(nn.Linear(ft + fp + fq, hidden), nn.Tanh(),
                                   nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))
        self.value = nn.Sequential(nn.Linear(k * ft + p * fp + k * p * fq, value_hidden),
                                   nn.Tanh(), nn.Linear(value_hidden, value_hidden), nn.Tanh())

    def forward_actor(self, x: torch.Tensor) -> torch.Tensor:
        b, k, p, ft, fp = x.shape[0], self.k, self.p, self.ft, self.fp
        tasks = x[:, :k * ft].reshape(b, k, 1, ft).expand(b, k, p, ft)
        pes = x[:, k * ft:k * ft + p * fp].reshape(b, 1, p, fp).expand(b, k, p, fp)
        pairs = x[:, k * ft + p * fp:].reshape(b, k, p, self.fq)
        return self.score(torch.cat([tasks, pes, pairs], dim=-1)).reshape(b, k * p)

    def forward_critic(self, x: torch.Tensor) -> torch.Tensor:
        return self.value(x)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_actor(x), self.forward_critic(x)


class PairPolicy(MaskableActorCriticPolicy):
    """``MaskablePPO(PairPolicy, env, policy_kwargs={"layout": (K, P, Ft, Fp, Fq)})``."""

    def __init__(self, *args: Any, layout: tuple[int, int, int, int, int], hidden: int = 32,
                 **kwargs: Any) -> None:
        self.layout, self.hidden = tuple(layout), hidden
        super().__init__(*args, **kwargs)

    def _build_mlp_extractor(self) -> None:
        self.mlp_extractor = PairScorer(*self.layout, hidden=self.hidden)

    def _build(self, lr_schedule) -> None:
        super()._build(lr_schedule)
        self.action_net = nn.Identity()  # the scorer's outputs are the logits
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1),
                                              **self.optimizer_kwargs)


def layout_of(env: Any) -> tuple[int, int, int, int, int]:
    """The pair layout of a SoCScheduling env (flat observation)."""
    from archgym.envs.soc_scheduling import PAIR_FEATURES, PE_FEATURES, TASK_FEATURES

    base = env.unwrapped
    return (base.max_ready, base.num_pes, len(TASK_FEATURES), len(PE_FEATURES),
            len(PAIR_FEATURES))
