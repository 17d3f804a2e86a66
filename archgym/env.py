"""``DesignEnv``: the design-point kind of environment: one step evaluates one whole design.

It implements the environment contract of :mod:`archgym.contract` (``kind == "design"``).

- **Action**: the design's index vector (``MultiDiscrete(space.nvec)``). Wrappers give other
  views of the same space: :class:`DictAction`, :class:`BoxAction` (continuous, for SAC/TD3),
  :class:`DiscreteAction` (one flat index, for DQN) and :class:`OneHotAction`.
- **Observation**: one entry per observed metric (``observation_metrics``, default all),
  ``v / (v + scale)`` with ``scale`` the metric's typical value (its ``MetricSpec``):
  monotone in the metric, bounded in ``[0, 1)``, 0.5 at the typical value; negatives clip to 0.
- **Reset** evaluates the space's default design (or ``options={"config": {...}}``) and
  returns its real observation; it never samples a random design.
- **Episodes** are truncated after ``max_steps`` steps and never terminate on their own.
- ``info`` holds ``config``, raw ``metrics``, ``reward``, ``feasible``, ``target_met``,
  ``valid`` and ``invalid_reason`` ("" when valid); wall time goes to observers only, so
  ``info`` is deterministic.
- :meth:`step_config` steps with an exact config (what ask/tell searchers use) and
  :meth:`step_batch` evaluates several designs in one call.

A design that breaks the space's constraints is not evaluated: it gets ``invalid_reward``,
``valid=False``, ``feasible=False`` and the previous observation. So does a design the
evaluator refuses by raising :class:`~archgym.space.InvalidDesignError` (an infeasibility
that depends on the workload and cannot be written as a constraint of the space). ``info``
of an invalid step says why in ``invalid_reason``.

**Cost models.** Every design-point env takes ``cost_model`` (``"simulator"``, ``"proxy"``
or ``"multi-fidelity"``), ``proxy`` (a saved proxy's path) and ``proxy_threshold`` on top of
its own parameters; the base class swaps the evaluator once, here, for every env.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal

import gymnasium
import numpy as np

from archgym.contract import EnvBase, Evaluation, Records, RowEvaluation
from archgym.evaluator import Evaluator, Metrics
from archgym.objectives import Objective
from archgym.space import InvalidDesignError

COST_MODELS = ("simulator", "proxy", "multi-fidelity")


class DesignEnv(EnvBase, gymnasium.Env):
    """One design point per step over an :class:`~archgym.evaluator.Evaluator`."""

    kind = "design"
    metadata = {"render_modes": []}
    EXTRA_PARAMETERS: ClassVar[dict[str, tuple[Any, Any]]] = {
        "cost_model": ("simulator", Literal["simulator", "proxy", "multi-fidelity"]),
        "proxy": (None, str | None),
        "proxy_threshold": (0.05, float),
    }

    def __init__(self, evaluator: Evaluator, objective: Objective, max_steps: int = 100,
                 invalid_reward: float = -1.0,
                 observation_metrics: Sequence[str] | None = None) -> None:
        if max_steps < 1:
            raise ValueError("max_steps must be >= 1")
        objective.check(evaluator.metric_specs)
        self.workload, self.workload_hash = evaluator.workload, evaluator.workload_hash
        cost = self.__dict__.get("_base_kwargs", {})
        if cost.get("cost_model", "simulator") != "simulator":
            from archgym.proxy import wrap_evaluator

            evaluator = wrap_evaluator(evaluator, cost["cost_model"], cost.get("proxy"),
                                       threshold=cost.get("proxy_threshold", 0.05), env=self)
        self.evaluator, self.objective = evaluator, objective
        self.space = evaluator.space
        self.metric_specs = tuple(evaluator.metric_specs)
        self._metric_names = evaluator.metric_names
        self.max_steps, self.invalid_reward = int(max_steps), float(invalid_reward)
        specs = {s.name: s for s in evaluator.metric_specs}
        names = list(observation_metrics or specs)
        unknown = [n for n in names if n not in specs]
        if unknown:
            raise ValueError(f"observation metric {unknown[0]!r} is not one of {list(specs)}")
        self.observation_specs = tuple(specs[n] for n in names)
        self.action_space = self.space.multidiscrete()
        self.observation_space = gymnasium.spaces.Box(
            0.0, 1.0, shape=(len(self.observation_specs),), dtype=np.float32)
        self.evaluations = 0  # steps taken over the env's life (the budget's unit)
        self._steps = 0
        self._obs = np.zeros(self.observation_space.shape, dtype=np.float32)
        self._scales: np.ndarray | None = None
        self._observed_columns: list[int] | None = None

    # ---- the contract
    def cost_model_name(self) -> str:
        return self.evaluator.cost_model

    def evaluate(self, config: Mapping[str, Any]) -> Metrics:
        """A design's metrics, without stepping or notifying observers."""
        return self.evaluator.evaluate(config)

    # ---- helpers
    def observe(self, metrics: Metrics) -> np.ndarray:
        return self._observe_rows(np.array([[metrics[s.name] for s in self.observation_specs]],
                                           dtype=np.float64))[0]

    def _observe_rows(self, values: np.ndarray) -> np.ndarray:
        """Observations of ``(n, observed metrics)`` raw values, one row per design."""
        if self._scales is None:
            self._scales = np.array([s.scale for s in self.observation_specs])
        finite = np.isfinite(values)
        if finite.all():  # the usual case, the same numbers in fewer passes
            v = np.maximum(values, 0.0)
            return (v / (v + self._scales)).astype(np.float32)
        v = np.where(finite, np.maximum(values, 0.0), 0.0)
        return np.where(finite, v / (v + self._scales), 1.0).astype(np.float32)

    # ---- gymnasium API
    def reset(self, *, seed: int | None = None, options: Mapping[str, Any] | None = None):
        super().reset(seed=seed)
        config = self.space.complete((options or {}).get("config", {}))
        metrics = self.evaluator.evaluate(config)
        self._steps = 0
        self._obs = self.observe(metrics)
        return self._obs.copy(), {"config": config, "metrics": metrics}

    def step(self, action):
        return self.step_config(self.space.from_index(np.asarray(action, dtype=np.int64)))

    def step_config(self, config: Mapping[str, Any]):
        """Evaluate ``config`` as one step (searchers with exact, off-grid configs use this)."""
        return self.step_batch([config])[0]

    def step_batch(self, configs: Sequence[Mapping[str, Any]]) -> list[tuple]:
        """Evaluate several designs in one call (one evaluator batch: a proxy predicts them
        together); each counts as one step and reaches observers in order. Returns the
        ``(obs, reward, terminated, truncated, info)`` of each."""
        start = time.perf_counter()
        checked, reasons = [], []
        for c in configs:
            try:
                checked.append(self.space.validate(c))
                reasons.append("")
            except InvalidDesignError as e:
                checked.append(dict(c))
                reasons.append(str(e))
        answers = self._evaluate_valid([c for c, r in zip(checked, reasons, strict=True)
                                        if not r])
        outcomes = _outcomes(reasons, answers)
        reasons = [r for _, r in outcomes]
        metrics = [m for m, _ in outcomes]
        good = [m for m, r in outcomes if not r]
        observed = np.array([[m[s.name] for s in self.observation_specs] for m in good],
                            dtype=np.float64).reshape(len(good), len(self.observation_specs))
        records, obs, truncated, _ = self._settle(
            reasons, observed, self.objective.score(good), start, checked.__getitem__,
            lambda i, step, *rest: Evaluation(step, checked[i], metrics[i], *rest))
        return [(o, e.reward, False, t, {
                    "config": e.config, "metrics": e.metrics, "reward": e.reward,
                    "feasible": e.feasible, "target_met": e.target_met, "valid": e.valid,
                    "invalid_reason": r})
                for e, r, o, t in zip(records, reasons, obs, truncated.tolist(), strict=True)]

    def step_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                   np.ndarray, dict[str, Any]]:
        """Evaluate designs given as index rows (``(n, len(space))``, the ``MultiDiscrete``
        action form), in the vector form of Gymnasium's ``VectorEnv.step``: arrays of
        ``obs``, ``reward``, ``terminated`` and ``truncated`` and an ``info`` dict of
        arrays (``valid``, ``feasible``, ``target_met``) and sequences (``config``,
        ``metrics``, ``invalid_reason``). The steps and observer records are those of
        :meth:`step_batch` on the rows' configs (tested); this is the fast path: a row
        is on the grid by construction (an index off it raises
        :class:`InvalidDesignError` before any step is taken), only constraints are
        checked, a proxy predicts straight from the rows
        (:meth:`~archgym.evaluator.Evaluator.evaluate_rows`), rewards come from the
        objective in one array expression, and the records are
        :class:`~archgym.contract.RowEvaluation`: a config or metrics dict is built only
        when someone reads it."""
        start = time.perf_counter()
        rows = self.space.check_rows(rows)
        batch = _RowsBatch(self.space, rows, self._metric_names)
        reasons = [""] * len(rows)
        if self.space.constraints:
            reasons = ["" if self.space.satisfies(c) else self._violation(c)
                       for c in batch.configs()]
        ok = np.array([not r for r in reasons], dtype=bool)
        try:
            batch.values = self.evaluator.evaluate_rows(rows[ok].astype(np.int64))
        except InvalidDesignError:  # one refused design: each on its own, as step_batch
            outcomes = _outcomes(reasons, self._evaluate_valid([batch.config(i) for i in
                                                                np.flatnonzero(ok)]))
            reasons = [r for _, r in outcomes]
            batch.answers = [m for m, _ in outcomes]
            batch.values = np.array([[m[k] for k in batch.names] for m, r in outcomes if not r],
                                    dtype=np.float64).reshape(-1, len(batch.names))
            ok = np.array([not r for r in reasons], dtype=bool)
        batch.at = range(len(rows)) if ok.all() else np.where(ok, np.cumsum(ok) - 1, -1).tolist()
        if self._observed_columns is None:
            self._observed_columns = [batch.names.index(s.name) for s in self.observation_specs]
        records, obs, truncated, (reward, feasible, target_met, valid) = self._settle(
            reasons, batch.values[:, self._observed_columns],
            self.objective.score_rows(batch.values, batch.names), start, batch.config,
            lambda i, *rest: RowEvaluation(*rest, batch, i))
        info = {"config": _Field(records, "config"), "metrics": _Field(records, "metrics"),
                "valid": valid, "feasible": feasible, "target_met": target_met,
                "invalid_reason": reasons}
        return obs, reward, np.zeros(len(records), bool), truncated, info

    def _violation(self, config: dict[str, Any]) -> str:
        try:
            self.space.validate(config)
        except InvalidDesignError as e:
            return str(e)
        return ""

    def _settle(self, reasons: list[str], observed: np.ndarray,
                scores: tuple[np.ndarray, np.ndarray, np.ndarray], start: float,
                config_of: Callable[[int], dict[str, Any]],
                record: Callable[..., Evaluation]
                ) -> tuple[Records, np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
        """Take the steps of a batch and notify observers (``evaluations`` already counts
        the whole batch when they run; each record carries its own ``step`` and is built
        when first read, see :class:`~archgym.contract.Records`).
        ``reasons``: why each design is invalid ("" if valid); ``observed`` and ``scores``
        (reward, feasible, target_met): of the valid designs, in order; ``record(i, step,
        reward, feasible, target_met, valid, wall_seconds, extra)``: design ``i``'s record.
        Returns the records, the observations (an invalid design's is the one before it),
        truncation flags and the arrays of reward, feasible, target_met and valid."""
        n = len(reasons)
        share = (time.perf_counter() - start) / max(n, 1)
        obs = self._observe_rows(observed)
        if len(obs) == n:
            valid = np.ones(n, dtype=bool)
            reward, feasible, target_met = scores
        else:  # an invalid design's observation: the latest valid one's so far
            valid = np.array([not r for r in reasons], dtype=bool)
            latest = np.maximum.accumulate(np.where(valid, np.cumsum(valid), 0))
            obs = np.concatenate((self._obs[None, :], obs))[latest]
            reward = np.full(n, self.invalid_reward)
            feasible, target_met = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
            reward[valid], feasible[valid], target_met[valid] = scores
        self._obs = obs[-1].copy() if n else self._obs
        first, self.evaluations = self.evaluations + 1, self.evaluations + n
        r, f, t, ok = reward.tolist(), feasible.tolist(), target_met.tolist(), valid.tolist()
        fidelity = getattr(self.evaluator, "fidelity_of", None)  # multi-fidelity: who answered
        extra = None if fidelity is None else [
            {"fidelity": fidelity(config_of(i)) if ok[i] else ""} for i in range(n)]
        records = Records(reward.copy(), valid.copy(), lambda i: record(
            i, first + i, r[i], f[i], t[i], ok[i], share, {} if extra is None else extra[i]))
        self.notify_each(records)
        steps = self._steps + np.arange(1, n + 1)
        self._steps += n
        return records, obs, steps >= self.max_steps, (reward, feasible, target_met, valid)

    def _evaluate_valid(self, configs: list[dict[str, Any]]) -> list[tuple[Metrics | None, str]]:
        """``(metrics, "")`` per design, or ``(None, why)`` for one the evaluator refuses
        (:class:`InvalidDesignError`): one batch call, then one call per design only when
        the batch held a refused design."""
        try:
            return [(m, "") for m in self.evaluator.evaluate_batch(configs)]
        except InvalidDesignError:
            pass
        out: list[tuple[Metrics | None, str]] = []
        for config in configs:
            try:
                out.append((self.evaluator.evaluate(config), ""))
            except InvalidDesignError as e:
                out.append((None, str(e)))
        return out

    def steps_left(self) -> int:
        """Steps until this episode is truncated (at least 1)."""
        return max(1, self.max_steps - self._steps)

    def design_point_view(self) -> DesignEnv:
        """A design-point env is its own design-point view."""
        return self


def _outcomes(reasons: list[str], answers: list[tuple[Metrics | None, str]]
              ) -> list[tuple[Metrics | None, str]]:
    """``(metrics, why invalid)`` per design: ``(None, reason)`` where ``reasons`` has one,
    otherwise the evaluator's next answer (its metrics, or ``None`` and its refusal)."""
    answered = iter(answers)
    return [next(answered) if not r else (None, r) for r in reasons]


class _RowsBatch:
    """One :meth:`DesignEnv.step_rows` batch, the source of its records' dicts: configs
    from the rows (all at once, on first need), metrics from the evaluated ``values``
    (row ``at[i]`` of design ``i``; ``-1``: not evaluated) or from the evaluator's own
    ``answers`` when it refused a design and each was evaluated alone."""

    def __init__(self, space: Any, rows: np.ndarray, names: Sequence[str]) -> None:
        self.space, self.rows, self.names = space, rows, names
        self.values = np.empty((0, len(names)))
        self.at: Sequence[int] = ()
        self.answers: list[Metrics | None] | None = None
        self._configs: list[dict[str, Any]] | None = None

    def configs(self) -> list[dict[str, Any]]:
        if self._configs is None:
            self._configs = self.space.from_rows(self.rows)
        return self._configs

    def config(self, i: int) -> dict[str, Any]:
        return self.configs()[i]

    def metrics(self, i: int) -> Metrics | None:
        if self.answers is not None:
            return self.answers[i]
        j = self.at[i]
        return None if j < 0 else dict(zip(self.names, self.values[j].tolist(), strict=True))


class _Field(Sequence):
    """One attribute of each record, read when asked (``step_rows``'s ``info`` lists)."""

    def __init__(self, records: Sequence[Evaluation], name: str) -> None:
        self.records, self.name = records, name

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [getattr(r, self.name) for r in self.records[i]]
        return getattr(self.records[i], self.name)

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented


# --------------------------------------------------------------------------- action views


class DictAction(gymnasium.ActionWrapper):
    """Action as ``{parameter: index}`` (a ``Dict`` of ``Discrete``)."""

    def __init__(self, env: gymnasium.Env) -> None:
        super().__init__(env)
        self.space = env.unwrapped.space
        self.action_space = gymnasium.spaces.Dict(
            {p.name: gymnasium.spaces.Discrete(p.cardinality) for p in self.space})

    def action(self, action):
        return np.array([int(action[n]) for n in self.space.names], dtype=np.int64)


class BoxAction(gymnasium.ActionWrapper):
    """Continuous action in ``[-1, 1]^d`` (SAC/TD3 convention), mapped through the space's
    unit-cube encoding: ``u = (a + 1) / 2``."""

    def __init__(self, env: gymnasium.Env) -> None:
        super().__init__(env)
        self.space = env.unwrapped.space
        self.action_space = gymnasium.spaces.Box(-1.0, 1.0, shape=(len(self.space),),
                                                 dtype=np.float32)

    def action(self, action):
        config = self.space.from_unit((np.asarray(action, dtype=np.float64) + 1.0) / 2.0)
        return self.space.to_index(config)


class DiscreteAction(gymnasium.ActionWrapper):
    """One flat index over the whole grid (row-major over the index vector), for DQN."""

    def __init__(self, env: gymnasium.Env, max_size: int = 10_000_000) -> None:
        super().__init__(env)
        self.space = env.unwrapped.space
        if self.space.size > max_size:
            raise ValueError(f"space has {self.space.size} designs; a flat Discrete view is "
                             f"limited to {max_size}")
        self.action_space = gymnasium.spaces.Discrete(self.space.size)

    def action(self, action):
        return np.array(np.unravel_index(int(action), tuple(self.space.nvec)), dtype=np.int64)


class OneHotAction(gymnasium.ActionWrapper):
    """Action as a score vector over the one-hot encoding; each block's arg-max wins."""

    def __init__(self, env: gymnasium.Env) -> None:
        super().__init__(env)
        self.space = env.unwrapped.space
        self.action_space = gymnasium.spaces.Box(-1.0, 1.0, shape=(self.space.onehot_size,),
                                                 dtype=np.float32)

    def action(self, action):
        return self.space.to_index(self.space.from_onehot(action))
