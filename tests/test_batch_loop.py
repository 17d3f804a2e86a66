"""Batched ask/tell gives exactly the run one-at-a-time ask/tell gives."""

from __future__ import annotations

import gymnasium
import numpy as np
import pandas as pd
import pytest

import agents
from archgym import dataset
from archgym.dataset import DatasetWriter
from archgym.env import DesignEnv
from archgym.objectives import Optimize
from archgym.registry import register
from archgym.runner import run
from archgym.space import DesignSpace, InvalidDesignError
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


def _spy(obj, method, record) -> None:
    """Call ``record(argument, method)`` before each call of ``obj.method``."""
    inner = getattr(obj, method)

    def spy(designs):
        record(designs, method)
        return inner(designs)

    setattr(obj, method, spy)


def _run(make_env, name, hparams, budget, batch, out):
    env = make_env()
    base = env.unwrapped
    sizes: list[int] = []  # how many designs each env call took
    for method in ("step_batch", "step_rows"):
        _spy(base, method, lambda designs, _: sizes.append(len(designs)))
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


# ------------------------------------------------------------------ designs as index rows


def _records(env):
    seen = []
    env.unwrapped.subscribe(seen.append)
    return seen


def test_step_rows_is_step_batch_on_the_rows_configs():
    """Index rows give the steps, results and observer records their configs give through
    ``step_batch``: on the constrained toy (rows breaking the constraint are invalid steps
    that keep the previous observation), across a truncation."""
    rng = np.random.default_rng(3)
    rows = rng.integers(0, SPACE.nvec, size=(12, len(SPACE)))
    rows[[2, 3]] = SPACE.to_index({"size_kb": 1, "assoc": 8, "policy": "LRU", "ports": 1})
    assert not all(SPACE.is_valid(SPACE.from_index(r)) for r in rows)
    envs = [gymnasium.make("archgym/Toy-v0", max_steps=9) for _ in range(2)]
    seen = [_records(e) for e in envs]
    for e in envs:
        e.reset(seed=0)
    by_configs = envs[0].unwrapped.step_batch([SPACE.from_index(r) for r in rows])
    obs, reward, terminated, truncated, info = envs[1].unwrapped.step_rows(rows)
    assert obs.dtype == np.float32 and obs.shape == (12, 2)
    for i, (o, r, term, trunc, inf) in enumerate(by_configs):
        assert np.array_equal(o, obs[i]) and r == reward[i]
        assert (term, trunc) == (terminated[i], truncated[i])
        assert {k: info[k][i] for k in inf if k != "reward"} == \
            {k: v for k, v in inf.items() if k != "reward"}
    assert truncated.tolist() == [False] * 8 + [True] * 4
    assert not info["valid"][2] and not info["valid"][3]
    assert np.array_equal(obs[2], obs[1]) and np.array_equal(obs[3], obs[1])
    strip = [[(e.step, e.config, e.metrics, e.reward, e.feasible, e.target_met, e.valid,
               e.extra) for e in s] for s in seen]
    assert strip[0] == strip[1]
    assert envs[0].unwrapped.evaluations == envs[1].unwrapped.evaluations == 12


def test_step_rows_records_build_their_dicts_only_when_read():
    """Observers get every record at once, but a config is built from the rows (one
    ``from_rows`` per batch) and a metrics dict from the values only when someone reads
    them; a record then equals, and pickles as, the plain ``Evaluation`` ``step_batch``
    gives for the same design."""
    import pickle

    from archgym.contract import Evaluation

    envs = [free_env() for _ in range(2)]
    seen = [_records(e) for e in envs]
    for e in envs:
        e.reset(seed=0)
    builds = []
    inner = FREE.from_rows
    rows = np.random.default_rng(4).integers(0, FREE.nvec, size=(5, len(FREE)))
    base = envs[1].unwrapped
    base.space = type("Spy", (), {"from_rows": lambda self, r: builds.append(1) or inner(r),
                                  "check_rows": lambda self, r: FREE.check_rows(r),
                                  "constraints": ()})()
    _, reward, _, _, info = base.step_rows(rows)
    assert len(seen[1]) == 5 and builds == []
    assert [e.reward for e in seen[1]] == reward.tolist()
    assert all(e._metrics is e._UNSET for e in seen[1])
    plain = envs[0].unwrapped.step_batch([FREE.from_index(r) for r in rows])
    for e in seen[0]:
        e.wall_seconds = 0.0
    for e in seen[1]:
        e.wall_seconds = 0.0
    assert seen[1] == seen[0] and builds == [1]  # read now: one build for the batch
    assert info["config"][2] == plain[2][4]["config"] and len(info["metrics"]) == 5
    again = pickle.loads(pickle.dumps(seen[1][3]))
    assert type(again) is Evaluation and again == seen[0][3]


def test_step_rows_refuses_rows_off_the_grid_before_any_step():
    env = gymnasium.make("archgym/Toy-v0")
    env.reset(seed=0)
    seen = _records(env)
    rows = np.zeros((3, len(SPACE)), dtype=np.int64)
    rows[1, 2] = 3  # policy has 3 choices: index 3 is off the grid
    with pytest.raises(InvalidDesignError, match="parameter 'policy': index 3"):
        env.unwrapped.step_rows(rows)
    with pytest.raises(InvalidDesignError, match=r"shape \(n, 4\)"):
        env.unwrapped.step_rows(rows[:, :3])
    assert seen == [] and env.unwrapped.evaluations == 0


def test_ga_batches_travel_as_index_rows(tmp_path):
    """The GA's batched run goes through ``step_rows`` only (and is the one-at-a-time run:
    ``test_batch_and_one_at_a_time_runs_are_identical``)."""
    env = free_env()
    calls = {"step_batch": 0, "step_rows": 0}
    for method in calls:
        _spy(env.unwrapped, method, lambda _, m: calls.__setitem__(m, calls[m] + 1))
    run(env, agents.make("ga", FREE, seed=1), 40, seed=1)
    assert calls["step_batch"] == 0 and calls["step_rows"] > 0


# ------------------------------------------------------------ batch observers and history


def test_records_build_each_record_once_when_read_and_know_the_best():
    """``Records`` builds record ``i`` on its first read only; ``best()`` is the first
    valid finite maximum (hand-made rewards: NaN, +inf, an invalid higher one, a tie)."""
    from archgym.contract import Records

    made = []
    reward = np.array([1.0, 5.0, np.nan, 5.0, 9.0, np.inf, -2.0])
    valid = np.array([True, True, True, True, False, True, True])
    records = Records(reward, valid, lambda i: made.append(i) or ("record", i))
    assert len(records) == 7 and made == []
    assert records[3] == ("record", 3) and records[-1] == ("record", 6) and made == [3, 6]
    assert records[3] is records[3] and made == [3, 6]
    assert records.best() == 1
    assert Records(reward, np.zeros(7, bool), made.append).best() is None
    assert list(records[1:3]) == [("record", 1), ("record", 2)] and made == [3, 6, 1, 2]
    import pickle

    assert pickle.loads(pickle.dumps(records)) == [("record", i) for i in range(7)]


def test_batch_observers_get_each_env_call_whole_after_the_per_record_ones():
    """A batch observer gets one ``Records`` per env call (a batch of index rows with
    invalid rows, then a single step) holding the very records per-record observers saw,
    with the call's rewards and validity as arrays; it runs after them."""
    env = gymnasium.make("archgym/Toy-v0", max_steps=20)
    env.reset(seed=0)
    order, seen, calls = [], [], []
    base = env.unwrapped
    base.subscribe(lambda e: (order.append("one"), seen.append(e)))
    untrack = base.subscribe(lambda r: (order.append("batch"), calls.append(r)), batches=True)
    rows = np.random.default_rng(3).integers(0, SPACE.nvec, size=(6, len(SPACE)))
    rows[2] = SPACE.to_index({"size_kb": 1, "assoc": 8, "policy": "LRU", "ports": 1})
    _, reward, _, _, info = base.step_rows(rows)
    base.step_config(SPACE.from_index(rows[0]))
    assert [len(c) for c in calls] == [6, 1] and order == ["one"] * 6 + ["batch", "one", "batch"]
    assert all(a is b for a, b in zip([r for c in calls for r in c], seen, strict=True))
    assert calls[0].reward.tolist() == reward.tolist()
    assert calls[0].valid.tolist() == info["valid"].tolist() and not calls[0].valid[2]
    untrack()
    base.step_config(SPACE.from_index(rows[1]))
    assert len(calls) == 2 and len(seen) == 8


def test_run_history_is_every_record_built_only_when_read(monkeypatch):
    """The run's history equals the records an observer saw (indexing, slices, pickling)
    and its best is the first valid maximum; with nobody else reading, a GA run builds
    only the best design's record."""
    import pickle

    from archgym import env as env_module

    built = []

    class Counted(env_module.RowEvaluation):
        __slots__ = ()

        def __init__(self, *args):
            built.append(args[0])
            super().__init__(*args)

    monkeypatch.setattr(env_module, "RowEvaluation", Counted)
    env = gymnasium.make("archgym/Toy-v0", max_steps=9)
    result = run(env, agents.make("ga", SPACE, seed=2, population_size=6), 40, seed=2)
    assert len(result.history) == 40 and built == [result.best.step]
    assert [e.step for e in result.history[5:8]] == [6, 7, 8] and len(built) == 4
    env = gymnasium.make("archgym/Toy-v0", max_steps=9)
    seen = _records(env)
    result = run(env, agents.make("ga", SPACE, seed=2, population_size=6), 40, seed=2)
    assert result.history == seen and result.history[-1] is seen[-1]
    assert result.best is max(seen, key=lambda e: e.reward)
    assert pickle.loads(pickle.dumps(result.history)) == seen


def test_history_best_is_the_first_valid_maximum_over_calls():
    from archgym.contract import Records
    from archgym.runner import History

    history = History()
    assert history.best() is None and len(history) == 0
    for reward, valid in (([3.0, 7.0], [True, True]), ([], []),
                          ([9.0, 7.0, np.nan], [False, True, True])):
        history.add(Records(np.array(reward), np.array(valid, bool),
                            lambda i, r=reward: ("record", r, i)))
    assert len(history) == 5 and history.best() == ("record", [3.0, 7.0], 1)
    assert history[-2] == ("record", [9.0, 7.0, np.nan], 1) and history[2][2] == 0
    with pytest.raises(IndexError):
        history[5]
