"""Bayesian optimisation with BoTorch over ArchGym's mixed discrete spaces.

The surrogate is a Gaussian process (``SingleTaskGP``, BoTorch's default Matern-5/2 kernel
with dimension-scaled length-scale priors, Hvarfner et al., ICML 2024) on the space's mixed
one-hot encoding (:mod:`archgym.encoding`, shared with the proxies): one one-hot block per
``Categorical`` parameter (so no order is invented) and one scaled coordinate per
``Ordinal``/``Integer``/``Real`` parameter (so neighbours stay neighbours).
Outcomes are warped (``warp``) and standardised before fitting; the GP is refitted from
scratch for every batch of proposals, on at most ``max_train`` observations.

The acquisition function is maximised over a *discrete candidate set*, never over the
relaxed cube, so every proposal is a valid grid design that was not evaluated before:
finite spaces of at most ``max_enumerate`` valid designs are enumerated whole; larger ones
(DRAM-v0 has 442,368) get ``n_candidates`` uniform random designs plus as many local
perturbations (one or two parameters changed) of the best designs seen so far.

Single objective (maximise the env's reward): log expected improvement (Ament et al.,
NeurIPS 2023) for ``batch_size=1``; for ``batch_size > 1`` q-log noisy expected improvement,
its batch is chosen by sequential greedy conditioning on the points already picked.
Several objectives (``objectives=["latency_ns", "power_mw"]``, each in its metric's
direction, or ``"name:max"`` / ``"name:min"``): q-log noisy expected hypervolume
improvement (qNEHVI; Daulton et al., NeurIPS 2021) with the reference point just beyond
the worst observed value of each objective; ``pareto_front()`` returns the non-dominated
``(config, metrics)``.

Hyper-parameters
----------------
n_init : int, default 10
    Initial designs from a scrambled Sobol sequence, before the first GP.
batch_size : int, default 1
    Designs proposed per GP fit; ``ask()`` serves them one by one from a queue.
max_train : int, default 256
    Most observations the GP is fitted on (the best half by outcome, or the Pareto set,
    plus the most recent); bounds per-proposal cost on long runs.
max_enumerate : int, default 20000
    Largest finite space whose valid designs are all candidates.
n_candidates : int, default 4096
    Random candidates per proposal for larger spaces (plus as many local perturbations).
max_acq_candidates : int, default 1024
    Candidates the Monte-Carlo batch / multi-objective acquisition scores; larger sets are
    pre-screened by analytic log-EI (one objective), or (several) to those whose optimistic
    outcome is not dominated by the observed front, then sub-sampled at random.
mc_samples : int, default 128
    Quasi-Monte-Carlo samples of the batch and multi-objective acquisition functions.
warp : "copula", "log" or "none", default "copula"
    Outcome transform before standardising. ``copula`` maps values to normal quantiles of
    their ranks, robust to the heavy-tailed rewards of ArchGym's target objective (and
    monotone, so it keeps the Pareto order); ``log`` takes logs of outcome magnitudes (they
    must all have one sign, e.g. positive metrics); ``none`` only standardises.
objectives : list of str or None, default None
    Metric names for multi-objective search (see above); ``None`` maximises the reward.
fit_maxiter : int, default 30
    L-BFGS iterations per GP hyper-parameter fit. Fits are warm-started from the previous
    one, so a few dozen suffice; this bounds the per-proposal overhead.

Seeded and deterministic: numpy draws come from the searcher's generator, BoTorch's
quasi-random samplers are seeded from the seed and the number of observations, and any
torch randomness (fit restarts) runs under ``torch.random.fork_rng`` with a derived seed.
Everything is float64 on the CPU.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from scipy.special import ndtri
from scipy.stats import qmc, rankdata

from agents.base import Searcher
from agents.pareto import ParetoArchive, parse_objectives
from archgym.errors import ArchGymError
from archgym.objectives import pareto_front
from archgym.space import Categorical, DesignSpace
from archgym.threads import one_thread

_DTYPE = torch.float64


class BayesOpt(Searcher):
    """GP Bayesian optimisation over a discrete candidate set (see the module docstring)."""

    name = "bo"
    defaults: dict[str, Any] = {
        "n_init": 10, "batch_size": 1, "max_train": 256, "max_enumerate": 20000,
        "n_candidates": 4096, "max_acq_candidates": 1024, "mc_samples": 128,
        "warp": "copula", "objectives": None, "fit_maxiter": 30,
    }

    def __init__(self, space: DesignSpace, seed: int = 0, **hparams: Any) -> None:
        super().__init__(space, seed=seed, **hparams)
        h = self.hparams
        for key, low in (("n_init", 1), ("batch_size", 1), ("max_train", 4),
                         ("max_enumerate", 0), ("n_candidates", 1),
                         ("max_acq_candidates", 1), ("mc_samples", 1),
                         ("fit_maxiter", 1)):
            if h[key] < low:
                raise ArchGymError(f"searcher 'bo': {key} must be >= {low}, got {h[key]}")
        if h["warp"] not in ("copula", "log", "none"):
            raise ArchGymError(f"searcher 'bo': warp must be 'copula', 'log' or 'none', "
                               f"got {h['warp']!r}")
        parsed = parse_objectives(self.name, h["objectives"])
        self.archive = ParetoArchive(self.name, *parsed) if parsed else None
        # z-encoding: one float per parameter, the grid index of finite ones, the unit-cube
        # coordinate of Real ones; features are the space's mixed one-hot encoding of z
        self._encoding = space.encoding()
        self._all: np.ndarray | None = None
        if space.finite and space.size <= h["max_enumerate"]:
            self._all = np.array([self._z(c) for c in space.enumerate()], dtype=np.float64)
            if len(self._all) == 0:
                raise ArchGymError("searcher 'bo': the space has no valid design")
        self._queue: list[dict[str, Any]] = []
        self._seen: set[bytes] = set()  # z rows proposed or told
        self._Z: list[np.ndarray] = []  # training inputs (valid, finite outcome)
        self._Y: list[np.ndarray] = []  # training outcomes, maximised
        self._best: tuple[float, dict[str, Any], dict[str, float]] | None = None
        self._hyper: dict[str, torch.Tensor] | None = None
        self._init = self._initial_design()

    # ---- encodings
    def _z(self, config: Mapping[str, Any]) -> np.ndarray:
        return np.array([p.index_of(config[p.name]) if p.finite else p.to_unit(config[p.name])
                         for p in self.space], dtype=np.float64)

    def _config(self, z: np.ndarray) -> dict[str, Any]:
        return {p.name: p.value_at(int(v)) if p.finite else p.from_unit(float(v))
                for p, v in zip(self.space, z, strict=True)}

    def _features(self, Z: np.ndarray) -> np.ndarray:
        return self._encoding.encode_index(Z)

    @staticmethod
    def _row_key(z: np.ndarray) -> bytes:
        return np.round(z, 12).tobytes()

    def _valid_rows(self, Z: np.ndarray) -> np.ndarray:
        if not self.space.constraints:
            return Z
        ok = [all(c.holds(self._config(z)) for c in self.space.constraints) for z in Z]
        return Z[np.array(ok, dtype=bool)]

    # ---- proposals
    def _initial_design(self) -> list[dict[str, Any]]:
        n = self.hparams["n_init"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Sobol balance warning for n not a power of 2
            U = qmc.Sobol(len(self.space), scramble=True, seed=self.rng).random(n)
        out, keys = [], set()
        for u in U:
            config = self.space.from_unit(u)
            if self.space.is_valid(config) and self.space.key(config) not in keys:
                keys.add(self.space.key(config))
                out.append(config)
        for _ in range(50 * n):
            if len(out) >= n:
                break
            config = self.space.sample(self.rng)
            if self.space.key(config) not in keys:
                keys.add(self.space.key(config))
                out.append(config)
        return out

    def ask(self) -> dict[str, Any]:
        while self._init:
            config = self._init.pop(0)
            if self._row_key(self._z(config)) not in self._seen:
                self._seen.add(self._row_key(self._z(config)))
                return config
        if not self._queue:
            self._queue = self._propose(self.hparams["batch_size"])
        config = self._queue.pop(0)
        self._seen.add(self._row_key(self._z(config)))
        return config

    # ---- batches: the initial design, then each q-batch of proposals
    def _unseen_init(self) -> int:
        return sum(self._row_key(self._z(c)) not in self._seen for c in self._init)

    def batch_limit(self) -> int:
        """The unproposed part of the initial design; then the rest of the current
        q-batch (``batch_size``), which is proposed from the results told so far."""
        return self._unseen_init() or len(self._queue) or self.hparams["batch_size"]

    def ask_batch(self, n: int) -> list[dict[str, Any]]:
        from_init = self._unseen_init() > 0
        out = [self.ask()]
        while len(out) < n and (self._unseen_init() > 0 if from_init else self._queue):
            out.append(self.ask())
        return out

    def _candidates(self) -> np.ndarray:
        if self._all is not None:
            Z = self._all
        else:
            n = self.hparams["n_candidates"]
            Z = np.empty((n, len(self.space)))
            for j, p in enumerate(self.space):
                Z[:, j] = (self.rng.integers(p.cardinality, size=n) if p.finite
                           else self.rng.random(n))
            Z = np.concatenate([self._valid_rows(Z), self._valid_rows(self._local(n))])
        fresh = [self._row_key(z) not in self._seen for z in Z]
        Z = Z[np.array(fresh, dtype=bool)]
        _, first = np.unique(Z, axis=0, return_index=True)
        return Z[np.sort(first)]

    def _incumbents(self, k: int = 8) -> np.ndarray:
        Z, Y = np.array(self._Z), np.array(self._Y)
        if Y.shape[1] == 1:
            return Z[np.argsort(-Y[:, 0], kind="stable")[:k]]
        front = pareto_front(-Y)
        return Z[front[self.rng.permutation(len(front))[:k]]]

    def _local(self, n: int) -> np.ndarray:
        """``n`` neighbours of the incumbents: one or two parameters moved (ordered ones by
        one or two grid steps, categorical ones to any other choice, reals by N(0, 0.1))."""
        if not self._Z:
            return np.empty((0, len(self.space)))
        inc = self._incumbents()
        Z = inc[self.rng.integers(len(inc), size=n)].copy()
        d, nvec = len(self.space), self.space.nvec
        # each row moves one parameter, and half the rows a second, different one
        first = self.rng.integers(d, size=n)
        second = (first + self.rng.integers(1, max(d, 2), size=n)) % d
        moved = np.zeros((n, d), dtype=bool)
        moved[np.arange(n), first] = True
        moved[np.arange(n), second] |= (self.rng.random(n) < 0.5) & (d > 1)
        for j, p in enumerate(self.space):
            rows = np.flatnonzero(moved[:, j])
            if not p.finite:
                noise = 0.1 * self.rng.standard_normal(len(rows))
                Z[rows, j] = np.clip(Z[rows, j] + noise, 0.0, 1.0)
            elif nvec[j] > 1 and isinstance(p, Categorical):
                Z[rows, j] = (Z[rows, j] + self.rng.integers(1, nvec[j], size=len(rows))) \
                    % nvec[j]
            elif nvec[j] > 1:
                steps = self.rng.choice([-2, -1, 1, 2], size=len(rows))
                Z[rows, j] = np.clip(Z[rows, j] + steps, 0, nvec[j] - 1)
        return Z

    def _training_set(self) -> tuple[np.ndarray, np.ndarray]:
        Z, Y = np.array(self._Z), np.array(self._Y)
        cap = self.hparams["max_train"]
        if len(Z) <= cap:
            return Z, Y
        if Y.shape[1] == 1:
            keep = list(np.argsort(-Y[:, 0], kind="stable")[: cap // 2])
        else:
            keep = list(pareto_front(-Y)[: cap // 2])
        chosen = set(keep)
        for i in range(len(Z) - 1, -1, -1):
            if len(keep) >= cap:
                break
            if i not in chosen:
                keep.append(i)
        keep = np.sort(np.array(keep))
        return Z[keep], Y[keep]

    def _warp(self, Y: np.ndarray) -> np.ndarray:
        warp = self.hparams["warp"]
        if warp == "copula":
            n = len(Y)
            return np.column_stack([ndtri((rankdata(col) - 0.5) / n) for col in Y.T])
        if warp == "log":
            # outcomes are maximised: -cost for metrics, reward for one objective
            if np.all(Y < 0):
                return -np.log(-Y)
            if np.all(Y > 0):
                return np.log(Y)
            raise ArchGymError("searcher 'bo': warp='log' needs outcomes of one sign; "
                               "use warp='copula'")
        return Y

    def _propose(self, q: int) -> list[dict[str, Any]]:
        cand = self._candidates()
        if len(cand) == 0:  # everything evaluated (tiny finite space): repeat at random
            return [self.space.sample(self.rng) for _ in range(q)]
        if len(self._Y) < 2:
            pick = self.rng.choice(len(cand), size=min(q, len(cand)), replace=False)
            return [self._config(cand[i]) for i in pick]
        Z, Y = self._training_set()
        # small GPs: one thread (torch and BLAS) is fastest, and immune to busy machines
        with one_thread(), torch.random.fork_rng(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # jitter and fit warnings: handled, not news
            torch.manual_seed(self.seed * 1_000_003 + len(self._Y))
            picks = self._optimise(Z, self._warp(Y), cand, q)
        return [self._config(cand[i]) for i in picks]

    def _optimise(self, Z: np.ndarray, Y: np.ndarray, cand: np.ndarray,
                  q: int) -> list[int]:
        from botorch.acquisition import LogExpectedImprovement, qLogNoisyExpectedImprovement
        from botorch.acquisition.multi_objective import (
            qLogNoisyExpectedHypervolumeImprovement,
        )
        from botorch.sampling import SobolQMCNormalSampler

        X = torch.tensor(self._features(Z), dtype=_DTYPE)
        Yt = torch.tensor(Y, dtype=_DTYPE)
        model = self._fit(X, Yt)
        Xc = torch.tensor(self._features(cand), dtype=_DTYPE)
        multi = Y.shape[1] > 1
        index = np.arange(len(cand))
        limit = self.hparams["max_acq_candidates"]
        sampler = SobolQMCNormalSampler(torch.Size([self.hparams["mc_samples"]]),
                                        seed=self.seed + len(self._Y))
        if not multi:
            logei = LogExpectedImprovement(model, best_f=Yt.max())
            scores = self._score(logei, Xc)
            if q == 1:
                return [int(np.argmax(scores))]
            if len(cand) > limit:  # pre-screen for the Monte-Carlo batch criterion
                index = np.sort(np.argsort(-scores, kind="stable")[:limit])
            acq = qLogNoisyExpectedImprovement(model, X_baseline=X, sampler=sampler,
                                               prune_baseline=True)
        else:
            if len(cand) > limit:
                index = self._screen_pareto(model, Xc, Yt, limit)
            lo, hi = Yt.min(0).values, Yt.max(0).values
            ref = lo - 0.1 * (hi - lo).clamp_min(1e-6)
            acq = qLogNoisyExpectedHypervolumeImprovement(
                model, ref_point=ref.tolist(), X_baseline=X, sampler=sampler,
                prune_baseline=True)
        return self._greedy(acq, Xc[index], index, q)

    def _screen_pareto(self, model, Xc: torch.Tensor, Y: torch.Tensor,
                       limit: int) -> np.ndarray:
        """At most ``limit`` candidates for qNEHVI: those whose optimistic outcome (mean
        + 2 sd) is not dominated by the observed front (the others can hardly improve the
        hypervolume), sub-sampled at random if still too many."""
        with torch.no_grad():
            ucb = []
            for i in range(0, len(Xc), 2048):
                post = model.posterior(Xc[i:i + 2048])
                ucb.append(post.mean + 2.0 * post.variance.clamp_min(0).sqrt())
            ucb = torch.cat(ucb).numpy()
        y = Y.numpy()
        front = y[pareto_front(-y)]
        dominated = np.zeros(len(ucb), dtype=bool)
        for f in front:
            dominated |= np.all(f >= ucb, axis=1) & np.any(f > ucb, axis=1)
        keep = np.flatnonzero(~dominated)
        if len(keep) == 0:
            keep = np.arange(len(ucb))
        if len(keep) > limit:
            keep = self.rng.choice(keep, size=limit, replace=False)
        return np.sort(keep)

    def _fit(self, X: torch.Tensor, Y: torch.Tensor):
        from botorch.exceptions import ModelFittingError
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP
        from botorch.models.transforms.outcome import Standardize
        from gpytorch.mlls import ExactMarginalLogLikelihood

        model = SingleTaskGP(X, Y, outcome_transform=Standardize(m=Y.shape[1]))
        if self._hyper is not None:  # warm start: the last fit's hyper-parameters
            model.load_state_dict(self._hyper, strict=False)
        mll = ExactMarginalLogLikelihood(model.likelihood, model)
        options = {"options": {"maxiter": self.hparams["fit_maxiter"]}}
        # on failure keep the initial hyper-parameters: still a usable model
        with contextlib.suppress(ModelFittingError):
            fit_gpytorch_mll(mll, optimizer_kwargs=options)
        self._hyper = {k: v.detach().clone() for k, v in model.named_parameters()}
        model.eval()
        return model

    @staticmethod
    def _score(acq, Xc: torch.Tensor, chunk: int = 2048) -> np.ndarray:
        with torch.no_grad():
            parts = [acq(Xc[i:i + chunk].unsqueeze(1)) for i in range(0, len(Xc), chunk)]
        return torch.cat(parts).numpy()

    def _greedy(self, acq, Xc: torch.Tensor, index: np.ndarray, q: int) -> list[int]:
        """Sequential greedy batch: each pick conditions the next on the ones before."""
        picks: list[int] = []
        available = np.ones(len(index), dtype=bool)
        for _ in range(min(q, len(index))):
            scores = self._score(acq, Xc)
            scores[~available] = -np.inf
            best = int(np.argmax(scores))
            available[best] = False
            picks.append(best)
            acq.set_X_pending(Xc[picks])
        return [int(index[i]) for i in picks]

    # ---- tell / results
    def tell(self, config: Mapping[str, Any], metrics: Mapping[str, float] | None,
             reward: float) -> None:
        if metrics is None or not self.space.is_valid(config):
            return
        z = self._z(config)
        self._seen.add(self._row_key(z))
        if self.archive is not None:
            y = -self.archive.add(config, metrics)
        else:
            y = np.array([float(reward)])
            if math.isfinite(reward) and (self._best is None or reward > self._best[0]):
                self._best = (float(reward), dict(config), dict(metrics))
        if np.all(np.isfinite(y)):
            self._Z.append(z)
            self._Y.append(y)

    def pareto_front(self) -> list[tuple[dict[str, Any], dict[str, float]]]:
        """Non-dominated ``(config, metrics)`` on ``objectives``; single-objective: the best
        design by reward (a one-point front)."""
        if self.archive is not None:
            return self.archive.front()
        return [] if self._best is None else [(self._best[1], self._best[2])]
