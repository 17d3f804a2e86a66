"""Batched ask/tell gives exactly the run one-at-a-time ask/tell gives."""

from __future__ import annotations

import gymnasium
import pandas as pd
import pytest

import agents
from archgym import dataset
from archgym.dataset import DatasetWriter
from archgym.env import DesignEnv
from archgym.objectives import Optimize
from archgym.registry import register
from archgym.runner import run
from archgym.space import DesignSpace
from tests.toy import SPACE, ToyEvaluator

FREE = DesignSpace(list(SPACE.parameters))  # the toy without its constraint


class FreeToy(ToyEvaluator):
    space = FREE


class FreeToyEnv(DesignEnv):
    def __init__(self, max_steps: int = 7) -> None:
        ev = FreeToy()
        super().__init__(ev, Optimize(ev.metric_specs[0]), max_steps=max_steps)


FREE_ID = register("FreeToy", "tests.test_batch_loop:FreeToyEnv", "toy without constraint")


def free_env():
    return gymnasium.make(FREE_ID, max_steps=7)  # batches end at truncations


CASES = [("random", {}, 40), ("sobol", {}, 40), ("lhs", {"batch_size": 16}, 40),
         ("grid", {}, 40), ("random-walk", {}, 30),
         ("ga", {"population_size": 8, "elite": 2}, 45),
         ("nsga2", {"population_size": 6}, 30),
         ("bo", {"batch_size": 4, "n_init": 5, "fit_maxiter": 20}, 13)]


def _run(make_env, name, hparams, budget, batch, out):
    env = make_env()
    base = env.unwrapped
    sizes: list[int] = []
    step_batch = base.step_batch

    def spy(configs):
        sizes.append(len(configs))
        return step_batch(configs)

    base.step_batch = spy
    searcher = agents.make(name, base.space, seed=5, **hparams)
    result = run(env, searcher, budget, seed=5, batch=batch,
                 logger=DatasetWriter(out, run_id="r"))
    rows = dataset.load(out).drop(columns="wall_seconds")
    return result, rows, sizes


def _same(a, b) -> None:
    (ra, rows_a, _), (rb, rows_b, _) = a, b
    pd.testing.assert_frame_equal(rows_a, rows_b)
    assert ra.evaluations == rb.evaluations
    assert [(h.step, h.config, h.metrics, h.reward, h.valid) for h in ra.history] == \
        [(h.step, h.config, h.metrics, h.reward, h.valid) for h in rb.history]
    assert ra.summary() == rb.summary()


@pytest.mark.parametrize(("name", "hparams", "budget"), CASES, ids=[c[0] for c in CASES])
def test_batch_and_one_at_a_time_runs_are_identical(tmp_path, name, hparams, budget):
    one = _run(free_env, name, hparams, budget, False, tmp_path / "one")
    many = _run(free_env, name, hparams, budget, True, tmp_path / "many")
    _same(one, many)
    assert set(one[2]) == {1}
    assert max(many[2]) > 1  # the batch path really ran
    assert len(one[1]) == budget


@pytest.mark.parametrize("name", ["ga", "sobol"])
def test_batches_on_a_constrained_space_are_identical(tmp_path, name):
    def make():
        return gymnasium.make("archgym/Toy-v0", max_steps=9)

    one = _run(make, name, {}, 50, False, tmp_path / "one")
    many = _run(make, name, {}, 50, True, tmp_path / "many")
    _same(one, many)
    assert max(many[2]) > 1


def test_batch_limits_follow_the_generation():
    ga = agents.make("ga", FREE, seed=0, population_size=6, elite=2)
    assert ga.batch_limit() == 6
    configs = ga.ask_batch(6)
    ga.tell_batch(configs, [{"latency": 1.0, "energy": 1.0}] * 6, [float(i) for i in range(6)])
    assert ga.generation == 0 and ga.batch_limit() == 4  # elite survive, 4 children to breed
    assert agents.make("tpe", FREE, seed=0).batch_limit() == 1  # learns from every result
    assert agents.make("nsga2", SPACE, seed=0).batch_limit() == 1  # constrained space


@pytest.mark.parametrize("name", ["ga", "nsga2"])
def test_a_batch_past_the_generation_changes_the_run(tmp_path, monkeypatch, name):
    """Negative control: the identity above is not automatic. A searcher that claimed a
    whole population per batch even after the elite (GA) or mid-generation (NSGA-II)
    proposes other designs."""
    hp = {"ga": {"population_size": 8, "elite": 2}, "nsga2": {"population_size": 6}}[name]
    one = _run(free_env, name, hp, 45, False, tmp_path / "one")
    cls = type(agents.make(name, FREE, seed=0, **hp))
    monkeypatch.setattr(cls, "batch_limit", lambda self: hp["population_size"] + 1)
    many = _run(free_env, name, hp, 45, True, tmp_path / "many")
    assert one[1]["config_key"].tolist() != many[1]["config_key"].tolist()


@pytest.mark.parametrize("name", ["ppo", "a2c"])
def test_vectorised_rl_evaluates_its_slots_in_one_call(tmp_path, name):
    """``n_envs`` slots: one ``step_batch`` per vector step, the budget exactly, and the same
    rows for the same seed."""
    def make():
        return gymnasium.make("archgym/Toy-v0", max_steps=10)

    runs = [_run(make, name, {"n_envs": 4}, 50, True, tmp_path / str(i)) for i in range(2)]
    (result, rows, sizes), again = runs
    assert result.evaluations == len(rows) == 50
    assert sizes[:-1] == [4] * 12 and sizes[-1] == 2  # 12 batches of 4, then the budget's 2
    pd.testing.assert_frame_equal(rows, again[1])
    one = _run(make, name, {}, 20, True, tmp_path / "one")
    assert set(one[2]) == {1}  # n_envs=1: SB3's own single-env path
