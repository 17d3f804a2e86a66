"""Stable-Baselines3 searchers: action views, exact budgets, determinism, vector envs."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import agents
from archgym.dataset import DatasetWriter, load
from archgym.env import BoxAction, DiscreteAction
from archgym.errors import ArchGymError
from archgym.registry import make
from archgym.runner import run
from tests.toy import SPACE, TOY_ID

RL = ["ppo", "a2c", "dqn", "sac", "td3"]
#: small warm-ups / rollouts so every algorithm trains inside a short test budget; n_steps=16
#: does not divide the budget, so an SB3 rollout would overshoot without the budget callback
FAST = {"ppo": {"n_steps": 16, "batch_size": 16, "n_epochs": 2},
        "a2c": {"n_steps": 4},
        "dqn": {"learning_starts": 10, "batch_size": 8},
        "sac": {"learning_starts": 10, "batch_size": 8},
        "td3": {"learning_starts": 10, "batch_size": 8}}
BUDGET = 37


def toy(max_steps: int = 10) -> gymnasium.Env:
    return make(TOY_ID, max_steps=max_steps)


def run_agent(name: str, seed: int, budget: int = BUDGET, logger=None):
    env = toy()
    searcher = agents.make(name, env.unwrapped.space, seed=seed, **FAST[name])
    return run(env, searcher, budget, seed=seed, logger=logger)


@pytest.mark.parametrize("view", [None, DiscreteAction, BoxAction])
def test_sb3_check_env_accepts_every_action_view(view):
    from stable_baselines3.common.env_checker import check_env

    env = toy()
    check_env(view(env) if view else env, warn=False)


@pytest.mark.parametrize("name", RL)
def test_rl_agent_logs_exactly_budget_rows(name, tmp_path):
    result = run_agent(name, seed=1, logger=DatasetWriter(tmp_path, run_id=name))
    df = load(tmp_path)
    assert result.evaluations == BUDGET
    assert len(df) == BUDGET
    assert df["step"].tolist() == list(range(1, BUDGET + 1))
    assert set(df["searcher"]) == {name}


@pytest.mark.parametrize("name", RL)
def test_rl_agent_is_deterministic_for_a_seed(name):
    configs = [[r.config for r in run_agent(name, seed=s).history] for s in (4, 4, 5)]
    assert configs[0] == configs[1]
    assert configs[0] != configs[2]


@pytest.mark.parametrize("name", RL)
def test_rl_agents_refuse_ask_tell_and_list_hparams(name):
    cls = agents.searcher_class(name)
    assert {"learning_rate", "gamma", "net_arch"} <= set(cls.defaults)
    s = agents.make(name, SPACE, seed=0)
    with pytest.raises(ArchGymError, match="trains through the env"):
        s.ask()
    with pytest.raises(ArchGymError, match="no hyper-parameter 'lr'"):
        agents.make(name, SPACE, lr=0.1)


def test_ppo_learns_better_than_median_random_design_on_toy():
    """After 300 steps PPO's proposals (not just its best) beat the median design."""
    env = toy(max_steps=20)
    base = env.unwrapped
    everything = [base.objective.reward(base.evaluator.evaluate(c))
                  for c in SPACE.enumerate() if SPACE.is_valid(c)]
    median = float(np.median(everything))
    searcher = agents.make("ppo", SPACE, seed=0, n_steps=32, batch_size=32,
                           learning_rate=3e-3)
    result = run(env, searcher, 300, seed=0)
    rewards = np.array([r.reward for r in result.history])
    assert result.best.reward > median
    assert np.median(rewards[-60:]) > median
    assert rewards[-60:].mean() > rewards[:60].mean()


# --------------------------------------------------------------------------- vector envs


def _toy_env():
    """Top-level (picklable) env factory; importing tests.toy registers the id in a child."""
    import tests.toy  # noqa: F401

    return make(TOY_ID, max_steps=5)


ACTIONS = [np.array([[0, 0, 0, 0], [6, 3, 2, 3]]), np.array([[2, 1, 1, 1], [3, 0, 0, 2]]),
           np.array([[5, 2, 0, 3], [1, 1, 2, 0]])]


def _serial_rewards(actions_per_env: list[np.ndarray]) -> list[float]:
    env = _toy_env()
    env.reset(seed=0)
    return [float(env.step(a)[1]) for a in actions_per_env]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_gymnasium_vector_envs_are_independent(kind, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cls = gymnasium.vector.SyncVectorEnv if kind == "sync" else gymnasium.vector.AsyncVectorEnv
    venv = cls([_toy_env, _toy_env])
    try:
        venv.reset(seed=[0, 1])
        got = np.array([venv.step(a)[1] for a in ACTIONS])
        counts = venv.get_attr("evaluations") if kind == "sync" else \
            venv.call("get_wrapper_attr", "evaluations")
    finally:
        venv.close()
    for i in range(2):
        assert got[:, i].tolist() == _serial_rewards([a[i] for a in ACTIONS])
    assert list(counts) == [len(ACTIONS), len(ACTIONS)]
    assert list(tmp_path.iterdir()) == []  # no files written, nothing shared


def test_sb3_subproc_vec_env_two_processes(tmp_path, monkeypatch):
    from stable_baselines3.common.vec_env import SubprocVecEnv

    monkeypatch.chdir(tmp_path)
    venv = SubprocVecEnv([_toy_env, _toy_env])
    try:
        venv.seed(0)
        venv.reset()
        got = np.array([venv.step(a)[1] for a in ACTIONS])
        pids = venv.env_method("get_wrapper_attr", "evaluations")
    finally:
        venv.close()
    for i in range(2):
        assert got[:, i].tolist() == _serial_rewards([a[i] for a in ACTIONS])
    assert pids == [len(ACTIONS), len(ACTIONS)]
    assert list(tmp_path.iterdir()) == []


def test_dqn_refuses_a_space_too_large_to_flatten(monkeypatch):
    import agents.sb3

    monkeypatch.setattr(agents.sb3, "_MAX_FLAT", 100)
    with pytest.raises(ArchGymError, match="at most 100 designs; this space has 336"):
        run(toy(), agents.make("dqn", SPACE), 5)
