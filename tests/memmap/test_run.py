"""The one-call entry (``simulate``), the CLI's JSON (``simulate_json``), and the area and
energy model."""

from __future__ import annotations

import json

import pytest

from simulators.memmap import (
    TECH_45NM,
    TECH_N5_AREA,
    evaluate,
    greedy,
    hardware_cost,
    simulate,
    sram_area_mm2,
    sram_pj_per_byte,
)
from workloads import memmap as workloads
from workloads.memmap import simulate_json


@pytest.mark.parametrize("policy", ["slow", "greedy", "optimal"])
def test_simulate_json_has_issue_fields(policy):
    out = simulate_json("small_random17", policy, time_limit_s=20)
    json.dumps(out)  # serialisable
    for key in ("total_time_s", "time_saved_s", "peak_fast_bytes", "valid", "placement"):
        assert key in out
    assert out["valid"] is True
    assert ("proven_optimal" in out) == (policy == "optimal")
    p = workloads.load("small_random17")
    assert len(out["placement"]) == len(p.tensors)
    for e in out["placement"]:
        assert e == {"tier": "slow"} or (e["tier"] == "fast" and isinstance(e["offset"], int))
    if policy == "optimal":
        assert out["proven_optimal"] is True and out["bound_time_s"] == out["total_time_s"]


def test_policies_ordered_and_file_equals_name(tmp_path):
    f = tmp_path / "p.json"
    f.write_text(workloads.program_path("small_resnet").read_text())
    by_file = {p: simulate_json(str(f), p)["total_time_s"] for p in ("slow", "greedy",
                                                                   "optimal")}
    by_name = {p: simulate_json("small_resnet", p)["total_time_s"] for p in by_file}
    assert by_file == by_name
    assert by_name["optimal"] < by_name["greedy"] < by_name["slow"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="policies: slow, greedy, optimal"):
        simulate_json("small_mlp", "random")
    with pytest.raises(ValueError, match="time-limit"):
        simulate_json("small_mlp", "optimal", time_limit_s=0)
    with pytest.raises(ValueError, match="shipped"):
        simulate_json("nope", "greedy")


def test_simulate_accepts_program_or_path():
    p = workloads.load("small_mlp")
    assert simulate(p, "greedy") == simulate(workloads.program_path("small_mlp"), "greedy")


def test_sram_area_per_mib():
    assert sram_area_mm2(1 << 20) == pytest.approx(8 * 2**20 * 0.346 / 0.70 * 1e-6)
    assert sram_area_mm2(1 << 20) == pytest.approx(4.146, rel=1e-3)
    # N5: 0.021 um^2 cells at 70 % efficiency = the reported 31.8 Mib/mm^2
    assert 8 / sram_area_mm2(1 << 20, TECH_N5_AREA) == pytest.approx(31.8, rel=0.01)
    assert sram_area_mm2(0) == 0.0


def test_sram_energy_follows_horowitz():
    # 64-bit reads: 10 pJ (8 KB), about 20 pJ (32 KB), 100 pJ (1 MB)
    assert 8 * sram_pj_per_byte(8 << 10) == pytest.approx(10.0)
    assert 8 * sram_pj_per_byte(32 << 10) == pytest.approx(20.0, rel=0.05)
    assert 8 * sram_pj_per_byte(1 << 20) == pytest.approx(100.0, rel=1e-3)
    # 16 MiB: a 1 MiB bank plus the wire over half the side of a 66.3 mm^2 macro
    side = (16 * 4.146) ** 0.5
    assert sram_pj_per_byte(16 << 20) == pytest.approx(12.5 + 8 * 0.195 * side / 2, rel=1e-3)
    caps = [1 << k for k in range(10, 30)]
    assert all(a < b for a, b in zip(map(sram_pj_per_byte, caps),
                                     map(sram_pj_per_byte, caps[1:]), strict=False))


def test_energy_adds_up_and_rewards_fast_placement():
    p = workloads.load("resnet18")
    slow = hardware_cost(p, evaluate(p, (None,) * len(p.tensors)))
    fast = hardware_cost(p, evaluate(p, greedy(p)))
    for h in (slow, fast):
        assert h["energy_j"] == pytest.approx(h["fast_access_energy_j"]
                                              + h["slow_access_energy_j"]
                                              + h["compute_energy_j"])
    assert slow["fast_access_energy_j"] == 0
    traffic = evaluate(p, (None,) * len(p.tensors)).slow_traffic_bytes
    assert slow["slow_access_energy_j"] == pytest.approx(traffic * 8 * 3.9e-12)
    assert fast["energy_j"] < slow["energy_j"]
    assert fast["fast_area_mm2"] == pytest.approx(16 * 4.146, rel=1e-3)
    assert TECH_45NM.name == "45nm"
