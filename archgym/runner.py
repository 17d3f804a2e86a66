"""The one loop that runs any searcher or policy on any env with a budget, a seed and a
logger, through the environment contract (:mod:`archgym.contract`) only.

Budget accounting is the same for everything: one evaluation is one design-point step or
one finished sequential episode. Three kinds of decision-makers are driven:

- ask/tell searchers (``ask()`` / ``tell(config, metrics, reward)``) on a design-point env
  (a sequential env's design-point view; ``agents.for_env`` picks it);
- learners that train through the env themselves (RL: ``learn(env, budget)``);
- policies (``act(observation, info)``) stepping a sequential env episode by episode.

Every evaluation reaches the env's observers (the dataset recorder and the run's tracker).
The run's own tracker takes each env call's records whole (:class:`History`), so a record
nobody reads is never built.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium
import numpy as np

from archgym.contract import Evaluation, Records
from archgym.dataset import DatasetRecorder, DatasetWriter
from archgym.errors import ArchGymError


class History(Sequence[Evaluation]):
    """Every evaluation of a run in order, kept as the env calls' :class:`Records` (a record
    is built when it is read); compares equal to the list of its records and pickles as
    one."""

    def __init__(self) -> None:
        self._calls: list[Records] = []
        self._ends: list[int] = []

    def add(self, records: Records) -> None:
        if len(records):
            self._calls.append(records)
            self._ends.append(len(self) + len(records))

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("history index out of range")
        c = bisect.bisect_right(self._ends, i)
        return self._calls[c][i - (self._ends[c - 1] if c else 0)]

    def __iter__(self):
        return itertools.chain.from_iterable(self._calls)

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    def __reduce__(self) -> tuple[Any, ...]:
        return list, (list(self),)

    def best(self) -> Evaluation | None:
        """The valid evaluation with the highest finite reward (the first of ties)."""
        if not self._calls:
            return None
        joined = Records(np.concatenate([r.reward for r in self._calls]),
                         np.concatenate([r.valid for r in self._calls]), self.__getitem__)
        i = joined.best()
        return None if i is None else self[i]


@dataclass
class RunResult:
    """What a run found; ``history`` holds every evaluation in order."""

    run_id: str
    evaluations: int
    best: Evaluation | None
    history: Sequence[Evaluation] = field(default_factory=list)

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


#: most designs one batch of an ask/tell searcher holds (bounds memory, not results)
MAX_BATCH = 4096


def _ask_tell(env: gymnasium.Env, base: Any, searcher: Any, budget: int, batch: bool) -> None:
    """Ask/tell for ``budget`` evaluations. With ``batch``, each round takes as many
    proposals as the searcher's ``batch_limit()`` allows (capped by the budget left and by
    the episode's steps left, so truncation and resets fall where one-at-a-time puts
    them), evaluates them in one ``step_batch`` and tells them back together. Searchers
    that propose index rows (``ask_rows``/``tell_rows``) hand them to ``step_rows``
    directly; that is the same run, without a config per design on the searcher's side."""
    limit = getattr(searcher, "batch_limit", None) if batch else None
    if not hasattr(base, "steps_left"):
        limit = None
    rows = limit is not None and hasattr(searcher, "ask_rows") and hasattr(base, "step_rows")
    done = 0
    while done < budget:
        n = 1
        if limit is not None:
            n = max(1, min(limit(), budget - done, base.steps_left(), MAX_BATCH))
        if rows:  # designs stay index rows from the searcher to the evaluator and back
            proposed = searcher.ask_rows(n)
            _, rewards, _, truncated, info = base.step_rows(proposed)
            searcher.tell_rows(proposed, rewards, info["valid"])
            done += len(rewards)
            if truncated[-1]:
                env.reset()
            continue
        configs = [searcher.ask()] if n == 1 else searcher.ask_batch(n)
        results = base.step_batch(configs)
        infos = [r[4] for r in results]
        if len(results) == 1 or not hasattr(searcher, "tell_batch"):
            for info, r in zip(infos, results, strict=True):
                searcher.tell(info["config"], info["metrics"], r[1])
        else:
            searcher.tell_batch([i["config"] for i in infos], [i["metrics"] for i in infos],
                                [r[1] for r in results])
        done += len(results)
        if results[-1][2] or results[-1][3]:
            env.reset()


def run(env: gymnasium.Env, searcher: Any, budget: int, seed: int = 0,
        logger: DatasetWriter | None = None,
        progress: Callable[[int], None] | None = None, batch: bool = True) -> RunResult:
    """Run ``searcher`` on ``env`` for ``budget`` evaluations.

    Parameters
    ----------
    env : any archgym env (possibly wrapped).
    searcher : an ask/tell :class:`agents.Searcher`, an object with ``learn(env, budget)``,
        or a policy with ``act(observation, info)``.
    budget : number of evaluations (design-point steps or finished episodes).
    seed : seeds ``env.reset``; the searcher carries its own seed.
    logger : where each evaluation is written as a dataset row (optional).
    progress : called with the number of evaluations done after each env call (one
        design, or a batch).
    batch : let ask/tell searchers that propose populations (``batch_limit() > 1``) hand
        out a whole batch, evaluated in one env call (identical results; ``False``
        forces one design per call).
    """
    if budget < 1:
        raise ValueError("budget must be >= 1")
    base = env.unwrapped
    history = History()

    def track(records: Records) -> None:
        history.add(records)
        if progress is not None:
            progress(len(history))

    recorder = None
    if logger is not None:
        recorder = DatasetRecorder(base, logger, getattr(searcher, "name", type(searcher).__name__),
                                   getattr(searcher, "hparams", {}), seed)
    untrack = base.subscribe(track, batches=True)
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
            _ask_tell(env, base, searcher, budget, batch)
        else:
            raise ArchGymError(f"{type(searcher).__name__} cannot drive a {base.kind} env: "
                               "run it on the env's design-point view (agents.for_env)")
    finally:
        untrack()
        if recorder is not None:
            recorder.detach()
    run_id = logger.run_id if logger is not None else ""
    return RunResult(run_id, len(history), history.best(), history)
