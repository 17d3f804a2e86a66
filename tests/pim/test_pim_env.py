"""PIM-v0: the knob space and its design rules (sound and nearly complete against the
simulator), refused designs as invalid steps, the simulator's numbers in ``info``, physical
default targets, objectives and parameter errors."""

from __future__ import annotations

import math

import gymnasium
import numpy as np
import pytest

import archgym  # noqa: F401
from archgym.contract import Evaluation
from archgym.errors import ArchGymError
from simulators.pim import DESIGN_KNOBS, PimInputError, design_rules, evaluate_design, read_config
from simulators.pim.gpt import bank_bytes, memory_need_bytes

WORKLOAD = ("gpt2", 16, 16)  # the env's default workload
#: a design that obeys every rule but that the simulator refuses for WORKLOAD: the adaptive
#: tile shape picks 128-row tiles for the QKV GEMV, whose outputs need 3 x 2 registers
REFUSED = {"channels": 2, "banks_per_channel": 8, "banks_per_pim_unit": 2,
           "simd_width_bits": 512, "orf_registers": 8, "irf_registers": 128,
           "pim_compute_rate": 2.0, "tile_rows": -1, "tile_order": 4, "split_k": 2,
           "asic_lanes": 128}


@pytest.fixture(scope="module")
def env():
    return gymnasium.make("archgym/PIM-v0").unwrapped


def simulate(config, workload=WORKLOAD, base=None):
    """The simulator's metrics, or None when it refuses the design."""
    try:
        return evaluate_design(config, *workload, base)
    except PimInputError:
        return None


def test_space_is_the_knobs_with_the_pim_gpt_design_as_default(env):
    space = env.space
    assert space.names == tuple(DESIGN_KNOBS)
    assert space.size == math.prod(len(v) for v in DESIGN_KNOBS.values()) == 5_400_000
    base = read_config("pim-gpt")
    assert space.default() == {k: getattr(base, k) for k in DESIGN_KNOBS}
    assert {c.name: c.rule for c in space.constraints} == design_rules(DESIGN_KNOBS, *WORKLOAD)
    assert sorted(n for g in space.agent_groups().values() for n in g) == sorted(DESIGN_KNOBS)


def test_step_reports_the_simulators_numbers(env):
    obs, info = env.reset(seed=0)
    assert np.allclose(obs, 0.5)  # scales are the default design's own figures
    config = {**env.space.default(), "channels": 16, "split_k": -1, "asic_lanes": 64}
    obs, reward, terminated, truncated, info = env.step(env.space.to_index(config))
    expect = evaluate_design(config, *WORKLOAD)
    assert info["valid"] and info["invalid_reason"] == ""
    assert info["metrics"] == {k: expect[k] for k in info["metrics"]}
    scale = env.evaluator.default_metrics["tokens_per_s"]
    assert reward == pytest.approx(expect["tokens_per_s"] / scale, rel=1e-12)
    assert reward > 1.0  # twice the channels and split-K decode faster than the default
    specs = {s.name: s.scale for s in env.metric_specs}
    names = ("tokens_per_s", "energy_per_token_uj", "area_mm2")
    assert np.allclose(obs, [expect[n] / (expect[n] + specs[n]) for n in names], rtol=1e-6)
    assert not terminated and not truncated


@pytest.fixture(scope="module")
def sampled(env):
    """80 designs uniform over the knob product, ignoring the rules (so that some break
    them): (design, whether the rules accept it, the simulator's metrics or None)."""
    rng = np.random.default_rng(7)
    designs = [{k: v[int(rng.integers(len(v)))] for k, v in DESIGN_KNOBS.items()}
               for _ in range(80)]
    return [(d, env.space.is_valid(d), simulate(d)) for d in designs]


def test_design_rules_are_sound_and_leave_only_the_adaptive_shape_to_the_simulator(sampled):
    """Every design a rule rejects is refused by the simulator, or maps every GEMV exactly
    as its twin with tile order -1 does (a tile order above every row-block count); every
    design the simulator refuses breaks a rule, or is the documented exception (adaptive
    tile shape with an explicit tile order)."""
    for config, accepted, metrics in sampled:
        if not accepted:
            assert metrics is None or metrics == simulate({**config, "tile_order": -1}), config
        elif metrics is None:
            assert config["tile_rows"] == -1 and config["tile_order"] >= 1, config
    rejected = sum(not accepted for _, accepted, _ in sampled)
    refused = sum(accepted and m is None for _, accepted, m in sampled)
    assert rejected >= 15  # the rules matter: about a third of the knob product breaks one
    assert refused <= 4


def test_design_rules_of_another_system_are_sound():
    """The int8 client system (LPDDR5X, 4 output registers, 16-row tiles): its wider
    one-row-per-lane tiles need 2 or 4 output registers, and the rules say so."""
    from archgym.space import Constraint

    workload, base = ("gpt2", 4, 4), read_config("client-lpddr5x")
    rules = design_rules(DESIGN_KNOBS, *workload, base)
    assert {"orf_tile_order_2", "orf_tile_order_4"} <= set(rules)
    checks = [Constraint(n, e) for n, e in rules.items()]
    rng = np.random.default_rng(3)
    rejected = 0
    for _ in range(40):
        config = {k: v[int(rng.integers(len(v)))] for k, v in DESIGN_KNOBS.items()}
        metrics = simulate(config, workload, base)
        if not all(c.holds(config) for c in checks):
            rejected += 1
            assert metrics is None or metrics == simulate({**config, "tile_order": -1},
                                                          workload, base), config
        elif metrics is None:
            assert config["tile_rows"] == -1 and config["tile_order"] >= 1, config
    assert rejected >= 5  # the rules matter here too


def test_capacity_rule_is_exact():
    """GPT-2 XL's weights and KV cache fill more than 64 and fewer than 128 banks of 32 MB:
    the rule and the simulator agree on both sides."""
    base = read_config("pim-gpt")
    need = memory_need_bytes("gpt2-xl", 64, 64, base) / bank_bytes(base)
    assert 64 < need <= 128
    rules = design_rules(DESIGN_KNOBS, "gpt2-xl", 64, 64)
    assert rules["capacity"] == f"channels * banks_per_channel >= {math.ceil(need)}"
    with pytest.raises(PimInputError, match="needs .* GiB"):
        evaluate_design({"channels": 4, "banks_per_channel": 16}, "gpt2-xl", 1, 1)
    assert "capacity" not in design_rules(DESIGN_KNOBS, *WORKLOAD)  # GPT-2 fits anywhere


def test_a_refused_design_is_an_invalid_step_not_a_crash(env):
    assert env.space.is_valid(REFUSED) and simulate(REFUSED) is None
    seen: list[Evaluation] = []
    unsubscribe = env.subscribe(seen.append)
    obs, _ = env.reset(seed=0)
    good = {**env.space.default(), "channels": 4}
    results = env.step_batch([REFUSED, good, REFUSED])
    unsubscribe()
    (o1, r1, _, _, i1), (_, r2, _, _, i2), (o3, r3, _, _, i3) = results
    assert not i1["valid"] and i1["metrics"] is None and r1 == env.invalid_reward
    assert "tile order 4 needs 6 ORF registers" in i1["invalid_reason"]
    assert "gpt2[16+16]" in i1["invalid_reason"]
    assert np.array_equal(o1, obs)  # an invalid step keeps the previous observation
    assert i2["valid"] and i2["metrics"]["tokens_per_s"] < env.evaluator.default_metrics[
        "tokens_per_s"]
    assert not i3["valid"] and not np.array_equal(o3, obs)
    assert [e.valid for e in seen] == [False, True, False]
    assert seen[0].metrics is None and not seen[0].feasible


def test_default_targets_are_limits_no_design_passes(env, sampled):
    t = env.targets
    for _, _, m in sampled:
        if m is None:
            continue
        assert m["tokens_per_s"] < t["tokens_per_s"]
        assert m["energy_per_token_uj"] > t["energy_per_token_uj"]
        assert m["area_mm2"] >= t["area_mm2"]
    smallest = {"channels": 2, "banks_per_channel": 4, "banks_per_pim_unit": 4,
                "simd_width_bits": 128, "orf_registers": 4, "irf_registers": 8,
                "asic_lanes": 8}
    assert evaluate_design(smallest, *WORKLOAD)["area_mm2"] == pytest.approx(t["area_mm2"])


def test_objectives_aliases_and_targets():
    env = gymnasium.make("archgym/PIM-v0", objective="targets",
                         target_area_mm2=10.0).unwrapped
    assert env.objective.targets["area_mm2"] == 10.0
    assert env.objective.targets["tokens_per_s"] == env.targets["tokens_per_s"]
    m = env.evaluator.default_metrics
    assert env.objective.reward(m) == pytest.approx(
        math.prod(1 / (abs(m[k] - t) / t + 1e-3) for k, t in env.objective.targets.items()))
    limited = gymnasium.make("archgym/PIM-v0", objective="throughput; area_mm2<=20").unwrapped
    assert not limited.objective.feasible(m)  # the default design has 24 mm^2 of PIM logic
    energy = gymnasium.make("archgym/PIM-v0", objective="energy").unwrapped
    assert energy.objective.reward(m) == pytest.approx(-1.0)
    with pytest.raises(ArchGymError, match="unknown objective"):
        gymnasium.make("archgym/PIM-v0", objective="speed")


def test_workload_and_config_decide_the_hash():
    a = gymnasium.make("archgym/PIM-v0").unwrapped
    b = gymnasium.make("archgym/PIM-v0", config="client-lpddr5x").unwrapped
    c = gymnasium.make("archgym/PIM-v0", tokens=8).unwrapped
    assert a.workload == "gpt2[16+16]" and b.workload == "gpt2[16+16]@client-lpddr5x"
    assert len({a.workload_hash, b.workload_hash, c.workload_hash}) == 3
    assert b.space.default()["tile_rows"] == 16  # the client config's own knob values


def test_narrowed_values():
    env = gymnasium.make("archgym/PIM-v0",
                         values={"channels": [4, 8], "tile_rows": [0, 16]}).unwrapped
    assert env.space["channels"].values == (4, 8) and env.space.size == 5_400_000 * 4 // 25
    assert "irf_tile_8" not in {c.name for c in env.space.constraints}  # no adaptive tiles


@pytest.mark.parametrize("kwargs, message", [
    ({"model": "gpt5"}, "shipped: gpt2"),
    ({"config": "nosuch"}, "shipped: client-lpddr5x, pim-gpt"),
    ({"prompt": 1000, "tokens": 100}, "exceeds the context of gpt2"),
    ({"tokens": 0}, "tokens must be >= 1"),
    ({"values": {"lanes": [4]}}, "unknown PIM knob 'lanes'"),
    ({"values": {"channels": [3]}}, "allowed: 2, 4, 8, 16, 32"),
    ({"values": {"channels": [2], "split_k": [4]}}, "default design .* infeasible"),
])
def test_bad_parameters_name_what_is_allowed(kwargs, message):
    with pytest.raises(ArchGymError, match=message):
        gymnasium.make("archgym/PIM-v0", **kwargs)


def test_importing_the_pim_simulator_compiles_no_dram_engine():
    """PIM reuses the DRAM device presets only: importing it must not load numba."""
    import subprocess
    import sys

    code = "import sys, simulators.pim; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
