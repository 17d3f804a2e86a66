"""Optuna's samplers behind ArchGym's ask/tell interface.

Registered names, one per sampler (each a small subclass of :class:`OptunaSearcher`):

========== =========================================== ======================================
name       Optuna sampler                              sampler hyper-parameters (defaults)
========== =========================================== ======================================
tpe        ``TPESampler``                              n_startup_trials=10, multivariate=False
nsga2      ``NSGAIISampler``                           population_size=20, crossover_prob=0.9,
                                                       mutation_prob=None (Optuna's 1/d)
cmaes      ``CmaEsSampler`` (needs the ``cmaes``       n_startup_trials=1, sigma0=None,
           package)                                    popsize=None, with_margin=True
gp-optuna  ``GPSampler`` (Optuna's own GP BO)          n_startup_trials=10,
                                                       deterministic_objective=True
qmc-optuna ``QMCSampler`` (Sobol or Halton)            qmc_type="sobol", scramble=True
========== =========================================== ======================================

Hyper-parameters common to all of them:

objectives : list of str or None, default None
    ``None``: maximise the env's reward. A list of metric names (``["latency_ns",
    "power_mw"]``; ``"name:max"`` maximises that metric) makes the study multi-objective on
    those metrics; ``pareto_front()`` then returns the non-dominated ``(config, metrics)``.
    NSGA-II, TPE and gp-optuna support several objectives; CMA-ES does not.
storage : str or None, default None
    ``None`` keeps the study in memory. An Optuna storage URL (``"sqlite:///runs/tpe.db"``,
    or any SQLAlchemy RDB URL such as ``"postgresql://user@host/db"``) persists every trial,
    so ``optuna-dashboard sqlite:///runs/tpe.db`` can watch a run live and
    ``optuna.load_study(study_name=..., storage=...)`` can read it afterwards.
study_name : str or None, default None
    Study name inside ``storage``; default ``"archgym-<searcher>-seed<seed>"``. An existing
    study of that name is resumed (its trials inform the sampler), so a restarted run goes
    on where it stopped; the sampler's own random state is not stored, so a resumed run is
    reproducible but not identical to an uninterrupted one.
ordinal : "index" or "categorical", default "index"
    How ``Ordinal`` parameters reach Optuna: as an integer index over their values (keeps
    the order, which TPE, CMA-ES and the GP exploit) or as an unordered categorical.

Parameter mapping: ``Categorical`` -> ``CategoricalDistribution``; ``Ordinal`` -> see
``ordinal``; ``Integer`` -> ``IntDistribution(low, high, log)``; ``Real`` ->
``FloatDistribution(low, high, log)``. CMA-ES has no categorical model: Optuna samples
categorical parameters for it at random (the sampler warning about this is silenced).

Proposals that break the space's constraints are never returned: they are told back to
Optuna at once with the worst value seen so far (or as failed trials before any value is
known) and the sampler is asked again, so the budget is spent on valid designs only, as
for every other searcher. Trials carry the config as the user attribute ``config``.
Optuna's INFO logging (one line per trial) is turned down to warnings.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState

from agents.base import Searcher
from agents.pareto import ParetoArchive, parse_objectives
from archgym.errors import ArchGymError
from archgym.space import Categorical, DesignSpace, Integer, Ordinal, Real
from archgym.threads import one_thread

optuna.logging.set_verbosity(optuna.logging.WARNING)

_COMMON: dict[str, Any] = {"objectives": None, "storage": None, "study_name": None,
                           "ordinal": "index"}
#: proposals in a row that break constraints before falling back to a random valid design
_MAX_INVALID = 100


class OptunaSearcher(Searcher):
    """Base of the Optuna searchers; subclasses set ``name``, ``defaults`` and
    :meth:`make_sampler`."""

    name = "optuna"
    defaults: dict[str, Any] = dict(_COMMON)
    multi_objective = True
    #: run the sampler on one torch/BLAS thread (GP samplers)
    single_thread = False

    def __init__(self, space: DesignSpace, seed: int = 0, **hparams: Any) -> None:
        super().__init__(space, seed=seed, **hparams)
        h = self.hparams
        if h["ordinal"] not in ("index", "categorical"):
            raise ArchGymError(f"searcher {self.name!r}: ordinal must be 'index' or "
                               f"'categorical', got {h['ordinal']!r}")
        for key in ("storage", "study_name"):
            if h[key] is not None and not isinstance(h[key], str):
                raise ArchGymError(f"searcher {self.name!r}: {key} must be a string, "
                                   f"got {h[key]!r}")
        parsed = parse_objectives(self.name, h["objectives"])
        if parsed is not None and not self.multi_objective:
            raise ArchGymError(f"searcher {self.name!r} is single-objective; use nsga2, tpe "
                               "or gp-optuna for several objectives")
        self.archive = ParetoArchive(self.name, *parsed) if parsed else None
        self.distributions = {p.name: self._distribution(p) for p in space}
        study_name = h["study_name"]
        if study_name is None and h["storage"] is not None:
            study_name = f"archgym-{self.name}-seed{self.seed}"
        directions = (["minimize"] * len(self.archive.names) if self.archive
                      else ["maximize"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = self.make_sampler(self.seed, parsed is not None)
        try:
            self.study = optuna.create_study(storage=h["storage"], sampler=sampler,
                                             study_name=study_name, directions=directions,
                                             load_if_exists=True)
        except Exception as e:  # SQLAlchemy, driver and Optuna errors alike: name the URL
            raise ArchGymError(f"searcher {self.name!r}: cannot open Optuna storage "
                               f"{h['storage']!r} (study {study_name!r}): {e}") from e
        self.study_name = self.study.study_name
        self._pending: dict[str, list[optuna.Trial]] = defaultdict(list)
        self._worst: np.ndarray | None = None  # worst told value(s), in Optuna's direction
        self._best: tuple[float, dict[str, Any], dict[str, float]] | None = None

    # ---- subclass hook
    def make_sampler(self, seed: int, multi: bool) -> optuna.samplers.BaseSampler:
        raise NotImplementedError

    # ---- encoding
    def _distribution(self, p) -> BaseDistribution:
        if isinstance(p, Categorical):
            return CategoricalDistribution(p.values)
        if isinstance(p, Ordinal):
            if self.hparams["ordinal"] == "index":
                return IntDistribution(0, p.cardinality - 1)
            return CategoricalDistribution(p.values)
        if isinstance(p, Integer):
            return IntDistribution(p.low, p.high, log=p.log)
        if isinstance(p, Real):
            return FloatDistribution(p.low, p.high, log=p.log)
        raise ArchGymError(f"searcher {self.name!r}: parameter {p.name!r} of kind "
                           f"{p.kind!r} has no Optuna distribution")

    def _decode(self, params: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for p in self.space:
            v = params[p.name]
            if isinstance(p, Ordinal) and self.hparams["ordinal"] == "index":
                v = p.value_at(int(v))
            out[p.name] = v
        return out

    def _encode(self, config: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for p in self.space:
            v = config[p.name]
            if isinstance(p, Ordinal) and self.hparams["ordinal"] == "index":
                v = p.index_of(v)
            out[p.name] = v
        return out

    # ---- ask / tell
    def ask(self) -> dict[str, Any]:
        if not self.single_thread:
            return self._ask()
        with one_thread():  # a small GP per trial: one thread is fastest
            return self._ask()

    def _ask(self) -> dict[str, Any]:
        for _ in range(_MAX_INVALID):
            trial = self.study.ask(self.distributions)
            config = self._decode(trial.params)
            if self.space.is_valid(config):
                return self._hand_out(trial, self.space.validate(config))
            self._tell(trial, None)
        # The sampler keeps proposing invalid designs: hand it a random valid one instead.
        config = self.space.sample(self.rng)
        self.study.enqueue_trial(self._encode(config))
        return self._hand_out(self.study.ask(self.distributions), config)

    def _hand_out(self, trial: optuna.Trial, config: dict[str, Any]) -> dict[str, Any]:
        trial.set_user_attr("config", config)
        self._pending[self.space.key(config)].append(trial)
        return dict(config)

    def tell(self, config: Mapping[str, Any], metrics: Mapping[str, float] | None,
             reward: float) -> None:
        value = None
        if metrics is not None:
            if self.archive is not None:
                cost = self.archive.add(config, metrics)
                value = [float(c) for c in cost] if np.all(np.isfinite(cost)) else None
            elif math.isfinite(reward):
                value = [float(reward)]
                if self._best is None or reward > self._best[0]:
                    self._best = (float(reward), dict(config), dict(metrics))
        key = self.space.key(config)
        if self._pending.get(key):
            self._tell(self._pending[key].pop(0), value)
        elif value is not None and self.space.is_valid(config):
            # told about a design this searcher did not propose (a warm start): record it
            self.study.add_trial(optuna.trial.create_trial(
                params=self._encode(config), distributions=self.distributions,
                values=value, user_attrs={"config": dict(config)}))

    def _tell(self, trial: optuna.Trial, value: list[float] | None) -> None:
        """Tell ``value``; ``None`` (invalid design, no metrics) gets the worst value seen,
        so the sampler learns to avoid the region, or FAIL before any value is known."""
        if value is not None:
            v = np.array(value)
            if self._worst is None:
                self._worst = v
            else:
                worse = np.maximum if self.archive is not None else np.minimum
                self._worst = worse(self._worst, v)
            self.study.tell(trial, value)
        elif self._worst is not None:
            self.study.tell(trial, [float(w) for w in self._worst])
        else:
            self.study.tell(trial, state=TrialState.FAIL)

    # ---- results
    def pareto_front(self) -> list[tuple[dict[str, Any], dict[str, float]]]:
        """Non-dominated ``(config, metrics)`` on ``objectives``; single-objective: the best
        design by reward (a one-point front)."""
        if self.archive is not None:
            return self.archive.front()
        return [] if self._best is None else [(self._best[1], self._best[2])]


class TPESearcher(OptunaSearcher):
    """Tree-structured Parzen estimator (Bergstra et al., NeurIPS 2011)."""

    name = "tpe"
    defaults = {**_COMMON, "n_startup_trials": 10, "multivariate": False}

    def make_sampler(self, seed, multi):
        h = self.hparams
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=h["n_startup_trials"],
                                          multivariate=h["multivariate"])


class NSGA2Searcher(OptunaSearcher):
    """NSGA-II (Deb et al., IEEE TEC 2002); single-objective it is a plain elitist GA."""

    name = "nsga2"
    defaults = {**_COMMON, "population_size": 20, "crossover_prob": 0.9,
                "mutation_prob": None}

    def __init__(self, space: DesignSpace, seed: int = 0, **hparams: Any) -> None:
        super().__init__(space, seed=seed, **hparams)
        self._generation: dict[int, int] = {}  # trial number -> its generation
        self._counts: dict[int, int] = defaultdict(int)  # generation -> trials, not failed

    def batch_limit(self) -> int:
        """The rest of the generation: Optuna breeds a generation from the complete trials
        of the ones before it and moves on once ``population_size`` trials of the newest
        generation are complete. Not on constrained spaces (an invalid proposal is told at
        once and would count inside the batch) or shared storage (other workers' trials)."""
        if self.space.constraints or self.hparams["storage"] is not None:
            return 1
        pop = self.hparams["population_size"]
        newest = max(self._counts, default=0)
        left = pop - self._counts.get(newest, 0)
        return left if left > 0 else pop

    def _hand_out(self, trial: optuna.Trial, config: dict[str, Any]) -> dict[str, Any]:
        key = self.study.sampler._get_generation_key()
        gen = self.study._storage.get_trial_system_attrs(trial._trial_id).get(key, 0)
        self._generation[trial.number] = gen
        self._counts[gen] += 1
        return super()._hand_out(trial, config)

    def _tell(self, trial: optuna.Trial, value: list[float] | None) -> None:
        super()._tell(trial, value)
        gen = self._generation.pop(trial.number, None)
        if gen is not None and value is None and self._worst is None:  # told as FAIL
            self._counts[gen] -= 1

    def make_sampler(self, seed, multi):
        h = self.hparams
        if h["population_size"] < 2:
            raise ArchGymError("searcher 'nsga2': population_size must be >= 2")
        mp = h["mutation_prob"]
        if mp is not None and not (isinstance(mp, int | float) and 0.0 <= mp <= 1.0):
            raise ArchGymError(f"searcher 'nsga2': mutation_prob must be in [0, 1], got {mp!r}")
        return optuna.samplers.NSGAIISampler(
            seed=seed, population_size=h["population_size"],
            crossover_prob=h["crossover_prob"],
            mutation_prob=None if mp is None else float(mp))


class CmaEsSearcher(OptunaSearcher):
    """CMA-ES (Hansen); ``with_margin`` keeps discrete parameters from freezing
    (Hamano et al., GECCO 2022)."""

    name = "cmaes"
    multi_objective = False
    defaults = {**_COMMON, "n_startup_trials": 1, "sigma0": None, "popsize": None,
                "with_margin": True}

    def make_sampler(self, seed, multi):
        h = self.hparams
        sigma0, popsize = h["sigma0"], h["popsize"]
        if sigma0 is not None and not (isinstance(sigma0, int | float) and sigma0 > 0):
            raise ArchGymError(f"searcher 'cmaes': sigma0 must be > 0, got {sigma0!r}")
        if popsize is not None and not (isinstance(popsize, int) and popsize >= 2):
            raise ArchGymError(f"searcher 'cmaes': popsize must be an int >= 2, got {popsize!r}")
        try:
            import cmaes  # noqa: F401
        except ImportError as e:
            raise ArchGymError("searcher 'cmaes' needs the 'cmaes' package "
                               "(pip install cmaes)") from e
        return optuna.samplers.CmaEsSampler(
            seed=seed, n_startup_trials=h["n_startup_trials"],
            sigma0=None if sigma0 is None else float(sigma0), popsize=popsize,
            with_margin=h["with_margin"], warn_independent_sampling=False,
            independent_sampler=optuna.samplers.RandomSampler(seed=seed))


class GPOptunaSearcher(OptunaSearcher):
    """Optuna's Gaussian-process sampler (log-EI; log-EHVI for several objectives)."""

    name = "gp-optuna"
    single_thread = True
    defaults = {**_COMMON, "n_startup_trials": 10, "deterministic_objective": True}

    def make_sampler(self, seed, multi):
        h = self.hparams
        return optuna.samplers.GPSampler(
            seed=seed, n_startup_trials=h["n_startup_trials"],
            deterministic_objective=h["deterministic_objective"])


class QMCOptunaSearcher(OptunaSearcher):
    """Quasi-Monte-Carlo sampling (Sobol or Halton): space-filling, does not learn."""

    name = "qmc-optuna"
    defaults = {**_COMMON, "qmc_type": "sobol", "scramble": True}

    def make_sampler(self, seed, multi):
        h = self.hparams
        if h["qmc_type"] not in ("sobol", "halton"):
            raise ArchGymError(f"searcher 'qmc-optuna': qmc_type must be 'sobol' or 'halton', "
                               f"got {h['qmc_type']!r}")
        return optuna.samplers.QMCSampler(qmc_type=h["qmc_type"], scramble=h["scramble"],
                                          seed=seed, warn_independent_sampling=False,
                                          warn_asynchronous_seeding=False)
