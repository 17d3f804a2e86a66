"""DesignEnv conforms to Gymnasium and SB3, resets to a real design, truncates, and its
action views agree with the index encoding."""

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import archgym  # noqa: F401
from archgym.env import BoxAction, DesignEnv, DictAction, DiscreteAction, OneHotAction
from archgym.objectives import Optimize
from archgym.space import InvalidDesignError
from tests.toy import SPACE, ToyEvaluator


def make(**kw):
    return gymnasium.make("archgym/Toy-v0", **kw)


def test_gymnasium_and_sb3_checkers():
    check_env(make().unwrapped, skip_render_check=True)
    sb3_check_env(make(), warn=True)
    for view in (BoxAction, DiscreteAction, OneHotAction):  # SB3 has no Dict actions
        sb3_check_env(view(make()), warn=True)


def test_reset_returns_the_default_designs_real_observation():
    env = make()
    obs, info = env.reset(seed=123)
    assert info["config"] == SPACE.default()
    expected = ToyEvaluator().evaluate(SPACE.default())
    assert info["metrics"] == expected
    assert np.allclose(obs, [expected["latency"] / (expected["latency"] + 10.0),
                             expected["energy"] / (expected["energy"] + 5.0)])
    obs2, _ = env.reset(seed=999)
    assert np.array_equal(obs, obs2)  # the seed does not pick a random design


def test_step_info_and_truncation():
    env = make(max_steps=3)
    env.reset(seed=0)
    action = SPACE.to_index({"size_kb": 16, "assoc": 2, "policy": "FIFO", "ports": 2})
    truncs = []
    for _ in range(3):
        obs, reward, term, trunc, info = env.step(action)
        truncs.append(trunc)
        assert not term
    assert truncs == [False, False, True]
    assert info["config"] == {"size_kb": 16, "assoc": 2, "policy": "FIFO", "ports": 2}
    assert reward == pytest.approx(-info["metrics"]["latency"] / 10.0)
    assert info["valid"] and info["feasible"]
    assert env.observation_space.contains(obs)


def test_constraint_breaking_design_is_not_evaluated():
    env = make()
    env.reset(seed=0)
    evaluator = env.unwrapped.evaluator
    calls = evaluator.calls
    _, reward, _, _, info = env.step(SPACE.to_index(
        {"size_kb": 1, "assoc": 8, "policy": "LRU", "ports": 1}))
    assert not info["valid"] and info["metrics"] is None and reward == -1.0
    assert evaluator.calls == calls


def test_views_map_to_the_same_design():
    config = {"size_kb": 32, "assoc": 4, "policy": "Random", "ports": 3}
    index = SPACE.to_index(config)
    assert np.array_equal(DictAction(make()).action(
        {n: int(i) for n, i in zip(SPACE.names, index, strict=True)}), index)
    assert np.array_equal(BoxAction(make()).action(SPACE.to_unit(config) * 2 - 1), index)
    flat = int(np.ravel_multi_index(tuple(index), tuple(SPACE.nvec)))
    assert np.array_equal(DiscreteAction(make()).action(flat), index)
    assert np.array_equal(OneHotAction(make()).action(SPACE.to_onehot(config)), index)


def test_cache_answers_repeated_designs():
    ev = ToyEvaluator()
    ev.evaluate(SPACE.default())
    ev.evaluate(SPACE.default())
    assert ev.calls == 1
    assert ev.evaluate_batch([SPACE.default()] * 3) == [ev.evaluate(SPACE.default())] * 3


def test_unknown_env_parameter_is_refused():
    with pytest.raises(archgym.ArchGymError, match="no parameter 'bogus'"):
        archgym.make("archgym/Toy-v0", bogus=1)
    with pytest.raises(archgym.ArchGymError, match="unknown environment"):
        archgym.make("archgym/Nope-v0")


class RefusingEvaluator(ToyEvaluator):
    """The toy, except that four ports are infeasible in a way the space cannot express."""

    def _evaluate(self, c):
        if c["ports"] == 4:
            raise InvalidDesignError(f"toy: {c['ports']} ports do not fit")
        return super()._evaluate(c)


def test_a_design_the_evaluator_refuses_is_an_invalid_step():
    evaluator = RefusingEvaluator()
    env = DesignEnv(evaluator, Optimize(evaluator.metric_specs[0]))
    seen = []
    env.subscribe(seen.append)
    obs, _ = env.reset(seed=0)
    refused = {"size_kb": 16, "assoc": 2, "policy": "FIFO", "ports": 4}
    fine = {**refused, "ports": 2}
    broken = {**refused, "size_kb": 1, "assoc": 8}  # breaks the space's constraint
    results = env.step_batch([refused, fine, broken])
    (o1, r1, _, _, i1), (o2, r2, _, _, i2), (_, r3, _, _, i3) = results
    assert not i1["valid"] and i1["metrics"] is None and r1 == env.invalid_reward
    assert i1["invalid_reason"] == "toy: 4 ports do not fit" and np.array_equal(o1, obs)
    assert i2["valid"] and i2["invalid_reason"] == "" and i2["metrics"] == ToyEvaluator(
        ).evaluate(fine) and r2 == pytest.approx(-i2["metrics"]["latency"] / 10.0)
    assert not i3["valid"] and "assoc_fits" in i3["invalid_reason"]
    assert [(e.valid, e.feasible) for e in seen] == [(False, False), (True, True),
                                                     (False, False)]
    assert evaluator.calls == 2  # the default design and the feasible one, once each
    _, _, _, _, info = env.step_config(refused)  # alone, too
    assert not info["valid"] and evaluator.calls == 2
