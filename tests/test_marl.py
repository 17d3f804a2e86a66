"""PettingZoo parallel env over design envs, and the marl-ppo searcher."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test

import agents
from archgym.dataset import DatasetWriter, load
from archgym.errors import ArchGymError
from archgym.marl import parallel_env
from archgym.registry import make
from archgym.runner import run
from tests.toy import SPACE, TOY_ID


@pytest.mark.parametrize("groups", [None, "space", {"a": ["size_kb"], "b": ["assoc", "policy",
                                                                            "ports"]}])
def test_parallel_api_test_passes_without_warnings(groups):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(parallel_env(TOY_ID, groups=groups, max_steps=25), num_cycles=60)


def test_parallel_env_is_deterministic_for_a_seed():
    parallel_seed_test(lambda: parallel_env(TOY_ID, groups="space", max_steps=20), 40)


def test_agents_and_action_spaces_follow_the_groups():
    env = parallel_env(TOY_ID)
    assert env.possible_agents == list(SPACE.names)
    assert env.action_space("policy") == gymnasium.spaces.Discrete(3)
    env = parallel_env(TOY_ID, groups="space")
    assert env.possible_agents == ["geometry", "control"]
    assert env.action_space("geometry") == gymnasium.spaces.MultiDiscrete([7, 4])
    with pytest.raises(ArchGymError, match="missing: \\['ports'\\]"):
        parallel_env(TOY_ID, groups={"x": ["size_kb", "assoc", "policy"]})
    with pytest.raises(ArchGymError, match="unknown parameter 'nope'"):
        parallel_env(TOY_ID, groups={"x": ["nope"]})
    with pytest.raises(ArchGymError, match="need an env id"):
        parallel_env(make(TOY_ID), max_steps=3)


def test_joint_action_is_one_evaluation_with_a_team_reward():
    base = make(TOY_ID, max_steps=2)
    seen = []
    base.unwrapped.subscribe(seen.append)
    env = parallel_env(base, groups="space")
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"geometry", "control"}
    actions = {"geometry": np.array([4, 1]), "control": np.array([2, 3])}
    obs, rew, term, trunc, info = env.step(actions)
    expected = SPACE.from_index([4, 1, 2, 3])
    assert [r.config for r in seen] == [expected]
    assert rew["geometry"] == rew["control"] == seen[0].reward
    np.testing.assert_array_equal(obs["geometry"], obs["control"])
    assert info["control"]["config"] == expected
    assert not any(trunc.values())
    _, _, _, trunc, _ = env.step(actions)
    assert all(trunc.values()) and env.agents == []
    with pytest.raises(ArchGymError, match="reset"):
        env.step(actions)
    env.reset()
    with pytest.raises(ArchGymError, match="no action for agent"):
        env.step({"geometry": np.array([0, 0])})


@pytest.mark.parametrize("hp", [{}, {"share_parameters": True, "groups": "space"}])
def test_marl_ppo_logs_exactly_budget_rows_and_is_deterministic(hp, tmp_path):
    def go(seed, logger=None):
        env = make(TOY_ID, max_steps=10)
        s = agents.make("marl-ppo", SPACE, seed=seed, n_steps=16, batch_size=8, n_epochs=2,
                        **hp)
        return run(env, s, 41, seed=seed, logger=logger)

    first = go(3, DatasetWriter(tmp_path, run_id="m"))
    df = load(tmp_path)
    assert len(df) == first.evaluations == 41
    assert set(df["searcher"]) == {"marl-ppo"}
    configs = [r.config for r in first.history]
    assert configs == [r.config for r in go(3).history]
    assert configs != [r.config for r in go(4).history]


def test_marl_ppo_refuses_ask_and_bad_groups():
    s = agents.make("marl-ppo", SPACE)
    with pytest.raises(ArchGymError, match="trains through the env"):
        s.ask()
    with pytest.raises(ArchGymError, match="groups must be"):
        agents.make("marl-ppo", SPACE, groups="everything")


def test_marl_ppo_learns_on_toy():
    """Proposals late in a 300-step run beat the median design (learning, not luck)."""
    env = make(TOY_ID, max_steps=20)
    base = env.unwrapped
    median = float(np.median([base.objective.reward(base.evaluator.evaluate(c))
                              for c in SPACE.enumerate() if SPACE.is_valid(c)]))
    s = agents.make("marl-ppo", SPACE, seed=0, n_steps=32, batch_size=32, learning_rate=3e-3)
    rewards = np.array([r.reward for r in run(env, s, 300, seed=0).history])
    assert np.median(rewards[-60:]) > median
    assert rewards[-60:].mean() > rewards[:60].mean()
