"""MemoryHierarchy-v0: the default design is the program's own hierarchy, every mapped
placement passes the independent checker, the optimal mapper's time never grows with
capacity or bandwidth, area is the documented SRAM area, prefetch mode adds copy engines
and never beats the base game, objectives take limits."""

from __future__ import annotations

import numpy as np
import pytest

from archgym import registry
from archgym.errors import ArchGymError
from simulators.memmap import (
    Hierarchy,
    check,
    evaluate,
    greedy,
    hardware_cost,
    simulate,
    sram_area_mm2,
    sram_pj_per_byte,
)
from workloads import memmap as workloads

ENV = "archgym/MemoryHierarchy-v0"


def test_default_design_is_the_programs_own_hierarchy():
    env = registry.make(ENV, program="small_attention").unwrapped
    p = workloads.load("small_attention")
    assert env.space.default() == {
        "fast_capacity_bytes": p.hierarchy.capacity_bytes,
        "fast_bandwidth_bytes_per_s": p.hierarchy.fast_bandwidth,
        "slow_bandwidth_bytes_per_s": p.hierarchy.slow_bandwidth,
        "alignment_bytes": p.hierarchy.alignment_bytes}
    _, info = env.reset(seed=0)
    r = simulate(p, "greedy")
    m = info["metrics"]
    assert m["time_s"] == r.total_time_s and m["time_saved_s"] == r.time_saved_s
    assert m["peak_fast_bytes"] == r.peak_fast_bytes
    assert m["area_mm2"] == sram_area_mm2(p.hierarchy.capacity_bytes)
    assert m["energy_j"] == hardware_cost(p, r)["energy_j"]
    assert env.objective.feasible(m)  # iso-area: the default is on the limit


@pytest.mark.parametrize("mapper", ["greedy", "optimal"])
def test_every_mapped_placement_passes_the_checker(mapper):
    env = registry.make(ENV, program="small_mlp", mapper=mapper).unwrapped
    rng = np.random.default_rng(0)
    for _ in range(8):
        config = env.space.sample(rng)
        p, placement = env.placement(config)
        assert p.hierarchy.capacity_bytes == config["fast_capacity_bytes"]
        assert p.hierarchy.alignment_bytes == config["alignment_bytes"]
        assert check(p, placement) == []
        _, _, _, _, info = env.step_config(config)
        assert info["metrics"]["time_s"] == evaluate(p, placement).total_time_s
        if mapper == "greedy":
            assert placement == greedy(p)


def test_optimal_time_never_grows_with_capacity_or_bandwidth_and_area_is_per_mib():
    env = registry.make(ENV, program="small_attention", mapper="optimal").unwrapped
    base = env.space.default()
    caps = env.space["fast_capacity_bytes"].values
    times, areas = [], []
    for cap in caps[:6]:
        m = env.evaluate({**base, "fast_capacity_bytes": cap})
        times.append(m["time_s"])
        areas.append(m["area_mm2"])
        assert m["area_mm2"] == pytest.approx(4.146 * cap / 2**20, rel=1e-3)
    assert all(a >= b for a, b in zip(times, times[1:], strict=False))
    assert times[-1] < times[0]
    assert all(a < b for a, b in zip(areas, areas[1:], strict=False))
    for name in ("fast_bandwidth_bytes_per_s", "slow_bandwidth_bytes_per_s"):
        ts = [env.evaluate({**base, name: v})["time_s"] for v in env.space[name].values]
        assert all(a >= b for a, b in zip(ts, ts[1:], strict=False)) and ts[-1] < ts[0]


def test_prefetch_mode_has_copy_engines_and_never_beats_the_base_game():
    base_env = registry.make(ENV, program="resnet18").unwrapped
    env = registry.make(ENV, program="resnet18", prefetch=True).unwrapped
    assert "copy_engines" in env.space.names and "copy_engines" not in base_env.space.names
    rng = np.random.default_rng(1)
    copied = 0
    for _ in range(4):
        config = env.space.sample(rng)
        p, placement, pre = env.mapping.design(config)
        assert check(p, placement) == [] and pre.valid
        m = env.evaluate(config)
        base = evaluate(p, placement)
        # copies and stalls only add time and energy to the base game of the placement
        assert m["time_s"] == pre.total_time_s >= base.total_time_s
        # each copied byte: one HBM access (3.9 pJ/bit) and one SRAM access
        per_byte = (31.2 + sram_pj_per_byte(p.hierarchy.capacity_bytes)) * 1e-12
        copies = pre.copy_in_bytes + pre.writeback_bytes
        assert m["energy_j"] == pytest.approx(hardware_cost(p, base)["energy_j"]
                                              + copies * per_byte, rel=1e-12)
        copied += pre.copy_in_bytes
    assert copied > 0


def test_objectives_constrain_area_and_fixed_parameters_leave_the_space():
    env = registry.make(ENV, program="small_mlp").unwrapped
    cap = env.space.default()["fast_capacity_bytes"]
    values = env.space["fast_capacity_bytes"].values
    bigger = {**env.space.default(), "fast_capacity_bytes": values[values.index(cap) + 1]}
    smaller = {**env.space.default(), "fast_capacity_bytes": values[values.index(cap) - 1]}
    assert not env.objective.feasible(env.evaluate(bigger))
    assert env.objective.feasible(env.evaluate(smaller))
    e2 = registry.make(ENV, program="small_mlp", objective="time_s; energy_j<=1e-9").unwrapped
    assert not e2.objective.feasible(e2.evaluate(e2.space.default()))
    assert set(env.objective_aliases) >= {"iso-area", "time", "area", "energy", "time-area"}
    fixed = registry.make(ENV, program="small_mlp",
                          fixed={"slow_bandwidth_bytes_per_s": 3276.8e9}).unwrapped
    assert "slow_bandwidth_bytes_per_s" not in fixed.space.names
    p, _ = fixed.placement(fixed.space.default())
    assert p.hierarchy.slow_bandwidth == 3276.8e9
    h = workloads.load("small_mlp").hierarchy
    q = workloads.load("small_mlp").with_hierarchy(Hierarchy(
        h.capacity_bytes, h.fast_bandwidth, h.alignment_bytes, 3276.8e9, h.peak_flops))
    assert fixed.evaluate(fixed.space.default())["time_s"] == simulate(q, "greedy").total_time_s


def test_bad_parameters_name_what_is_allowed():
    with pytest.raises(ArchGymError, match="unknown parameter 'banks'.*fast_capacity_bytes"):
        registry.make(ENV, program="small_mlp", fixed={"banks": 4})
    with pytest.raises(ArchGymError, match="alignment_bytes=1.5: must be an integer > 0"):
        registry.make(ENV, program="small_mlp", fixed={"alignment_bytes": 1.5})
    with pytest.raises(ArchGymError, match="mapper.*'greedy', 'optimal'"):
        registry.make(ENV, program="small_mlp", mapper="random")
    with pytest.raises(ArchGymError, match="shipped"):
        registry.make(ENV, program="nope")
