"""The MARL-at-scale study's own code paths (``experiments/marl_at_scale.py``), not the study.

- Budget handling: the study lets a seed's 20,000-evaluation run stand for its 5,000 run.
  That holds only if a run's first N evaluations do not depend on its budget; checked here
  for every method of the study on DRAM-v0 (short trace), across PPO/MARL rollout updates
  and SAC's warm-up.
- Seed plan and config checks.
- Re-simulation: the design handed over within a budget is the first with the highest logged
  reward; its true distance comes from the simulator, not from the logged (proxy) numbers; a
  run answered by the simulator itself re-simulates to exactly what it logged.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import agents
from archgym.dataset import DatasetWriter, load
from archgym.errors import ArchGymError
from archgym.registry import make
from archgym.runner import run
from experiments.marl_at_scale import (
    CONFIG,
    best_within,
    load_config,
    resimulate,
    seed_plan,
)

DRAM = {"workload": "cloud", "objective": "latency", "target_latency": 300.0,
        "trace_length": 200}


def _designs(method: str, budget: int, seed: int = 3) -> list[str]:
    env = make("archgym/DRAM-v0", **DRAM)
    searcher, target = agents.for_env(method, env, seed=seed)
    result = run(target, searcher, budget, seed=seed)
    return [env.unwrapped.space.key(e.config) for e in result.history]


@pytest.mark.parametrize("method", ["marl-ppo", "ppo", "sac", "random"])
def test_a_longer_budget_starts_with_the_shorter_run(method):
    # 70 steps: past PPO's and marl-ppo's first update (n_steps 64) and SAC's warm-up (64)
    short, long = _designs(method, 70), _designs(method, 140)
    assert len(short) == 70 and len(long) == 140
    assert long[:70] == short
    assert len(set(long[70:])) > 1  # it goes on searching (not a trivial repeat)


def test_seed_plan_gives_each_seed_one_run_at_the_largest_budget_it_is_counted_for():
    plan = seed_plan({20000: 4, 5000: 16})
    assert plan == {20000: [0, 1, 2, 3], 5000: list(range(4, 16))}
    assert seed_plan({300: 2, 100: 2, 50: 5}) == {300: [0, 1], 100: [], 50: [2, 3, 4]}


def test_config_is_checked(tmp_path):
    cfg = load_config(CONFIG)
    assert cfg["budgets"] == [5000, 20000]
    text = CONFIG.read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(re.sub(r"proxy: \{20000: \d+,", "proxy: {20000: 40,", text))
    assert bad.read_text() != text
    with pytest.raises(ArchGymError, match="larger budget cannot have more seeds"):
        load_config(bad)
    bad.write_text(text + "extra: 1\n")
    with pytest.raises(ArchGymError, match="unknown key 'extra'"):
        load_config(bad)


def _rows(rewards, latencies, run_id="r1"):
    n = len(rewards)
    return pd.DataFrame({
        "run_id": run_id, "cost_model": "proxy", "searcher": "ppo", "seed": 7,
        "step": np.arange(1, n + 1), "reward": rewards, "metric_latency_ns": latencies,
        "config_key": [f"d{i}" for i in range(n)], "param_Knob": np.arange(n),
    })


def test_best_within_a_budget_is_the_first_highest_logged_reward():
    rows = _rows([1.0, 5.0, 5.0, 9.0], [4, 3, 3, 2]).sample(frac=1.0, random_state=0)
    assert best_within(rows, 3)["step"] == 2   # ties: the earlier design
    assert best_within(rows, 4)["step"] == 4


def test_resimulation_ranks_by_the_simulator_not_by_the_logged_numbers():
    # logged (proxy) latencies say design 3 is on target; the "simulator" says it is 10 % off
    rows = _rows([1.0, 2.0, 3.0, 0.5, 0.1], [130, 120, 100, 90, 80])
    truth = {0: 150.0, 1: 125.0, 2: 110.0, 3: 95.0, 4: 100.0}
    calls = []

    def evaluate(config):
        calls.append(config)
        assert isinstance(config["Knob"], int)  # plain Python values, as a config is
        return {"latency_ns": truth[config["Knob"]]}

    out = resimulate(rows, [2, 3, 10], evaluate, 100.0, "latency_ns",
                     feasible=lambda m: m["latency_ns"] < 140)
    assert list(out["budget"]) == [2, 3]                # 10 > the run's 5 evaluations
    b2, b3 = out.iloc[0], out.iloc[1]
    assert b2["best_step"] == 2 and b2["true_distance"] == pytest.approx(0.25)
    assert b2["claimed_distance"] == pytest.approx(0.20)
    assert b3["best_step"] == 3 and b3["claimed_distance"] == 0.0
    assert b3["true_distance"] == pytest.approx(0.10)
    assert b3["unique_designs"] == 3 and len(calls) == 2
    # a design the objective refuses never counts as close, whatever it logged
    out = resimulate(rows, [1], evaluate, 100.0, "latency_ns",
                     feasible=lambda m: m["latency_ns"] < 140)
    assert out["true_distance"].iloc[0] == np.inf


def test_a_simulated_run_resimulates_to_what_it_logged(tmp_path):
    env = make("archgym/DRAM-v0", **DRAM)
    searcher, target = agents.for_env("random", env, seed=1)
    run(target, searcher, 12, seed=1, logger=DatasetWriter(tmp_path, run_id="sim"))
    df = load(tmp_path)
    sim = make("archgym/DRAM-v0", **DRAM).unwrapped
    out = resimulate(df, [5, 12], sim.evaluator.evaluate, 300.0, "latency_ns",
                     sim.objective.feasible)
    assert len(out) == 2
    assert np.array_equal(out["true_latency_ns"], out["claimed_latency_ns"])
    assert (out["true_distance"] == out["claimed_distance"]).all()
    assert out["true_distance"].iloc[1] <= out["true_distance"].iloc[0]
