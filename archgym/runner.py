"""The one loop that runs any searcher on any design env with a budget, a seed and a logger.

Budget accounting is the same for every searcher: one env step is one evaluation.
Ask/tell searchers are driven here; searchers that train through the env themselves (RL)
implement ``learn(env, budget)`` and are handed the env instead. Either way every
evaluation reaches the env's observers (the dataset recorder and the run's tracker).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium

from archgym.dataset import DatasetRecorder, DatasetWriter
from archgym.env import DesignEnv, EvaluationRecord


@dataclass
class RunResult:
    """What a run found; ``history`` holds every evaluation in order."""

    run_id: str
    evaluations: int
    best: EvaluationRecord | None
    history: list[EvaluationRecord] = field(default_factory=list)

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
    env : a :class:`DesignEnv` (possibly wrapped).
    searcher : an ask/tell :class:`agents.Searcher`, or any object with ``learn(env, budget)``.
    budget : number of evaluations (env steps).
    seed : seeds ``env.reset``; the searcher carries its own seed.
    logger : where each evaluation is written as a dataset row (optional).
    progress : called with the number of evaluations done after each one.
    """
    if budget < 1:
        raise ValueError("budget must be >= 1")
    base: DesignEnv = env.unwrapped
    history: list[EvaluationRecord] = []

    def track(record: EvaluationRecord) -> None:
        history.append(record)
        if progress is not None:
            progress(len(history))

    recorder = None
    if logger is not None:
        recorder = DatasetRecorder(base, logger, getattr(searcher, "name", type(searcher).__name__),
                                   getattr(searcher, "hparams", {}), seed)
    base.observers.append(track)
    try:
        env.reset(seed=seed)
        if hasattr(searcher, "learn"):
            searcher.learn(env, budget)
        else:
            for _ in range(budget):
                config = searcher.ask()
                _, reward, terminated, truncated, info = base.step_config(config)
                searcher.tell(info["config"], info["metrics"], reward)
                if terminated or truncated:
                    env.reset()
    finally:
        base.observers.remove(track)
        if recorder is not None:
            recorder.detach()
    valid = [r for r in history if r.valid and math.isfinite(r.reward)]
    best = max(valid, key=lambda r: r.reward) if valid else None
    run_id = logger.run_id if logger is not None else ""
    return RunResult(run_id, len(history), best, history)
