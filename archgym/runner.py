"""The one loop that runs any searcher or policy on any env with a budget, a seed and a
logger, through the environment contract (:mod:`archgym.contract`) only.

Budget accounting is the same for everything: one evaluation is one design-point step or
one finished sequential episode. Three kinds of decision-makers are driven:

- ask/tell searchers (``ask()`` / ``tell(config, metrics, reward)``) on a design-point env
  (a sequential env's design-point view; ``agents.for_env`` picks it);
- learners that train through the env themselves (RL: ``learn(env, budget)``);
- policies (``act(observation, info)``) stepping a sequential env episode by episode.

Every evaluation reaches the env's observers (the dataset recorder and the run's tracker).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium

from archgym.contract import Evaluation
from archgym.dataset import DatasetRecorder, DatasetWriter
from archgym.errors import ArchGymError


@dataclass
class RunResult:
    """What a run found; ``history`` holds every evaluation in order."""

    run_id: str
    evaluations: int
    best: Evaluation | None
    history: list[Evaluation] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        best = self.best
        return {
            "run_id": self.run_id, "evaluations": self.evaluations,
            "best_config": best.config if best else None,
            "best_metrics": best.metrics if best else None,
            "best_reward": best.reward if best else None,
            "best_step": best.step if best else None,
            "target_met": best.target_met if best else False,
        }


def run_id_for(env_id: str, env_kwargs: Mapping[str, Any], searcher: str,
               hparams: Mapping[str, Any], seed: int, budget: int) -> str:
    """A run id determined by what the run is, so a repeated run writes identical rows and
    a resumed sweep can tell which runs exist."""
    key = json.dumps([env_id, dict(env_kwargs), searcher, dict(hparams), seed, budget],
                     sort_keys=True, default=str)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def run(env: gymnasium.Env, searcher: Any, budget: int, seed: int = 0,
        logger: DatasetWriter | None = None,
        progress: Callable[[int], None] | None = None) -> RunResult:
    """Run ``searcher`` on ``env`` for ``budget`` evaluations.

    Parameters
    ----------
    env : any archgym env (possibly wrapped).
    searcher : an ask/tell :class:`agents.Searcher`, an object with ``learn(env, budget)``,
        or a policy with ``act(observation, info)``.
    budget : number of evaluations (design-point steps or finished episodes).
    seed : seeds ``env.reset``; the searcher carries its own seed.
    logger : where each evaluation is written as a dataset row (optional).
    progress : called with the number of evaluations done after each one.
    """
    if budget < 1:
        raise ValueError("budget must be >= 1")
    base = env.unwrapped
    history: list[Evaluation] = []

    def track(record: Evaluation) -> None:
        history.append(record)
        if progress is not None:
            progress(len(history))

    recorder = None
    if logger is not None:
        recorder = DatasetRecorder(base, logger, getattr(searcher, "name", type(searcher).__name__),
                                   getattr(searcher, "hparams", {}), seed)
    untrack = base.subscribe(track)
    try:
        obs, info = env.reset(seed=seed)
        if hasattr(searcher, "learn"):
            searcher.learn(env, budget)
        elif hasattr(searcher, "act"):
            while len(history) < budget:
                obs, _, terminated, truncated, info = env.step(searcher.act(obs, info))
                if terminated or truncated:
                    obs, info = env.reset()
        elif base.kind == "design":
            for _ in range(budget):
                config = searcher.ask()
                _, reward, terminated, truncated, info = base.step_config(config)
                searcher.tell(info["config"], info["metrics"], reward)
                if terminated or truncated:
                    env.reset()
        else:
            raise ArchGymError(f"{type(searcher).__name__} cannot drive a {base.kind} env: "
                               "run it on the env's design-point view (agents.for_env)")
    finally:
        untrack()
        if recorder is not None:
            recorder.detach()
    valid = [r for r in history if r.valid and math.isfinite(r.reward)]
    best = max(valid, key=lambda r: r.reward) if valid else None
    run_id = logger.run_id if logger is not None else ""
    return RunResult(run_id, len(history), best, history)
