"""The environment contract, checked on every registered environment.

Parametrised over ``archgym.registry.env_ids()``: an env passes with no test code of its own.
Each env is made with its default parameters, so defaults must be cheap enough to run a few
evaluations in seconds.
"""

from __future__ import annotations

import functools
import json
import pickle
import typing

import numpy as np
import pandas as pd
import pytest
from gymnasium.spaces.utils import flatten
from gymnasium.utils.env_checker import check_env

import agents
from archgym import dataset, registry
from archgym.contract import Evaluation, _hints
from archgym.dataset import DatasetWriter
from archgym.errors import ArchGymError
from archgym.policy import Policy
from archgym.replay import replay
from archgym.runner import run

ENV_IDS = registry.env_ids()
BUDGET = 4


class MaskedRandom(Policy):
    """A uniformly random legal action (seeded): the generic policy of a sequential env."""

    name = "masked-random"

    def act(self, observation, info) -> int:
        return int(self.rng.choice(np.flatnonzero(info["action_mask"])))


def decision_maker(env, seed, view=False):
    """Random legal actions on a sequential env (or random designs on its design-point view
    with ``view``); random designs on a design-point env."""
    if env.unwrapped.kind == "sequential" and not view:
        return MaskedRandom(env, seed=seed), env
    return agents.for_env("random", env, seed=seed)


def logged_run(env_id, out, seed=0, view=False):
    env = registry.make(env_id)
    searcher, target = decision_maker(env, seed, view)
    writer = DatasetWriter(out, run_id=f"r{seed}")
    result = run(target, searcher, BUDGET, seed=seed, logger=writer)
    env.close()
    return result, dataset.load(out)


@pytest.fixture(scope="module", params=ENV_IDS)
def env_id(request):
    return request.param


def test_gymnasium_check_env(env_id):
    env = registry.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


def test_same_seed_same_rows(env_id, tmp_path):
    _, a = logged_run(env_id, tmp_path / "a", seed=3)
    _, b = logged_run(env_id, tmp_path / "b", seed=3)
    assert len(a) == BUDGET
    cols = [c for c in a.columns if c != "wall_seconds"]
    pd.testing.assert_frame_equal(a[cols], b[cols])


def test_every_row_carries_its_full_spec(env_id, tmp_path):
    _, df = logged_run(env_id, tmp_path / "d")
    spec = json.loads(df["env_spec"].iloc[0])
    assert spec["id"] == env_id
    assert set(spec["kwargs"]) == set(registry.env_parameters(env_id))
    assert spec["workload"] == df["workload"].iloc[0]


def test_pickle_round_trip_steps_alike(env_id):
    env = registry.make(env_id).unwrapped
    obs, info = env.reset(seed=1)
    clone = pickle.loads(pickle.dumps(env))
    action = (int(np.flatnonzero(info["action_mask"])[0]) if env.kind == "sequential"
              else env.action_space.sample())
    a, b = env.step(action), clone.step(action)
    flat = functools.partial(flatten, env.observation_space)  # Dict observations too
    np.testing.assert_array_equal(flat(a[0]), flat(b[0]))
    assert a[1] == b[1] and a[2:4] == b[2:4]


def test_replay_reproduces_logged_rows_and_catches_a_changed_one(env_id, tmp_path):
    _, df = logged_run(env_id, tmp_path / "r")
    report = replay(tmp_path / "r")
    assert report.rows == int(df["valid"].sum()) > 0 and report.mismatches == 0, report.details
    metric = dataset.metric_columns(df)[0]
    tampered = df.copy()
    tampered.loc[tampered.index[0], metric] = tampered[metric].iloc[0] * 1.001 + 1e-9
    assert replay(tampered).mismatches == 1


def test_design_point_view_rows_replay(env_id, tmp_path):
    env = registry.make(env_id).unwrapped
    if env.kind != "sequential" or env.design_point_view() is None:
        pytest.skip("only sequential envs with a design-point view")
    _, df = logged_run(env_id, tmp_path / "v", view=True)
    assert json.loads(df["env_spec"].iloc[0])["view"] == "design"
    report = replay(tmp_path / "v")
    assert report.rows == BUDGET and report.mismatches == 0, report.details


def test_subscribers_see_each_evaluation_once(env_id):
    env = registry.make(env_id)
    searcher, target = decision_maker(env, 0)
    seen: list[Evaluation] = []
    unsubscribe = target.unwrapped.subscribe(seen.append)
    result = run(target, searcher, BUDGET, seed=0)
    unsubscribe()
    assert [e.step for e in seen] == [e.step for e in result.history]
    assert len(seen) == BUDGET


def test_parallel_api_of_design_point_envs(env_id):
    if registry.make(env_id).unwrapped.kind != "design":
        pytest.skip("the PettingZoo view is for design-point envs")
    from pettingzoo.test import parallel_api_test

    from archgym import marl

    parallel_api_test(marl.parallel_env(env_id, max_steps=3), num_cycles=3)


def test_action_masks_are_honoured(env_id):
    env = registry.make(env_id).unwrapped
    if env.kind != "sequential":
        pytest.skip("action masks belong to sequential envs")
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=0)
    done = False
    while not done:
        mask = info["action_mask"]
        np.testing.assert_array_equal(mask, env.action_masks())
        assert mask.any()
        obs, _, done, _, info = env.step(int(rng.choice(np.flatnonzero(mask))))
    assert info["valid"] and info["metrics"] is not None  # legal moves make a valid design
    obs, info = env.reset(seed=0)
    illegal = np.flatnonzero(~info["action_mask"])
    while not len(illegal):  # play legal moves until some action is masked out
        obs, _, done, _, info = env.step(int(np.flatnonzero(info["action_mask"])[0]))
        if done:
            pytest.skip("no state of this instance masks an action")
        illegal = np.flatnonzero(~info["action_mask"])
    _, reward, done, _, info = env.step(int(illegal[0]))
    assert done and not info["valid"] and reward == env.invalid_reward


def test_bad_parameters_name_what_is_allowed(env_id):
    params = registry.env_parameters(env_id)
    with pytest.raises(ArchGymError, match="no parameter 'bogus'.*" + list(params)[0]):
        registry.make(env_id, bogus=1)
    hints = _hints(registry.env_class(env_id))
    typed = [n for n, h in hints.items()
             if n in params and all(a in (int, float, type(None)) for a in
                                    (typing.get_args(h) or (h,)))]
    if typed:
        with pytest.raises(ArchGymError, match=f"parameter '{typed[0]}' must be"):
            registry.make(env_id, **{typed[0]: "abc"})
