"""Hand-calculated folds, the run API, USER-mode stalls, energy and area."""

import json

import pytest

from simulators.accel import (
    REPORT_FIELDS,
    AccelConfig,
    AccelInputError,
    Layer,
    evaluate_design,
    simulate,
    simulate_files,
    simulate_layer,
    write_config,
)
from simulators.accel.dram import ifmap_dram_reads
from simulators.accel.energy import (
    DRAM_PJ_PER_BYTE,
    MAC_PJ,
    PE_AREA_UM2,
    REGISTER_PJ_PER_MAC,
    area_mm2,
    sram_pj_per_byte,
)
from simulators.accel.model import _figures
from simulators.accel.systolic import fold_counts
from tests.accel import literal
from workloads.accel import load, topology_path


@pytest.mark.parametrize(("df", "cycles", "util", "sram"), [
    # 4x4x4 GEMM on a 2x2 array: 2 x 2 folds. os: fold = T + R + C - 2 = 6 cycles;
    # ws/is: fold = 2R + C + T - 2 = 8, SCALE-Sim's utilisation denominator 2R + 2C + T - 3 = 9.
    ("os", 4 * 6 - 1, 16 * 4 / (4 * 4 * 6), (32, 32, 16 + 4 * (2 + 2))),
    ("ws", 4 * 8 - 1, 16 * 4 / (4 * 4 * 9), (32, 16, 32)),
    ("is", 4 * 8 - 1, 16 * 4 / (4 * 4 * 9), (16, 32, 32)),
])
def test_hand_calculated_folds(df, cycles, util, sram):
    fc = fold_counts(4, 4, 4, 2, 2, df)
    assert (fc.folds, fc.compute_cycles) == (4, cycles)
    assert fc.mapping_efficiency_pct == 100.0
    assert fc.compute_util_pct == pytest.approx(100 * util)
    assert (fc.sram_ifmap_reads, fc.sram_filter_reads, fc.sram_ofmap_writes) == sram
    layer = Layer.gemm("g", 4, 4, 4)
    assert literal.run(4, 4, 1, 4, 1, 4, 1, 2, 2, df, (1, 1, 1))[0] == cycles
    res = simulate_layer(layer, AccelConfig(2, 2, 1, 1, 1, df))
    assert res.overall_util_pct == pytest.approx(64 * 100 / (cycles * 4))


def test_partial_folds_lower_mapping_efficiency():
    fc = fold_counts(5, 3, 2, 2, 2, "os")  # 3 row folds (2, 2, 1 pixels) x 2 col folds (2, 1)
    assert (fc.folds_row, fc.folds_col, fc.compute_cycles) == (3, 2, 6 * 4 - 1)
    assert fc.mapping_efficiency_pct == pytest.approx(100 * 15 / 24)


def test_result_fields_totals_and_determinism():
    layers = load("resnet18")[:4]
    cfg = AccelConfig(16, 16, 32, 32, 16, "os")
    a = simulate(layers, cfg).to_dict()
    _figures.cache_clear()
    ifmap_dram_reads.cache_clear()
    b = simulate(layers, cfg).to_dict()
    assert json.dumps(a) == json.dumps(b)
    assert list(a["layers"][0])[:len(REPORT_FIELDS)] == list(REPORT_FIELDS)
    for f in ("compute_cycles", "total_cycles", "dram_ifmap_reads", "sram_ofmap_writes"):
        assert a["total"][f] == sum(row[f] for row in a["layers"])
    assert a["total"]["energy_pj"] == pytest.approx(sum(r["energy_pj"] for r in a["layers"]))
    for row in a["layers"]:
        assert row["energy_pj"] == pytest.approx(row["energy_breakdown_pj"]["total_pj"])
        assert row["total_cycles"] == row["compute_cycles"] + row["stall_cycles"]
        assert row["stall_cycles"] == 0  # CALC mode is stall-free


def test_per_layer_dataflow_override():
    layers = load("resnet18")[:3]
    cfg = AccelConfig(8, 8, 16, 16, 16, "os")
    mixed = simulate(layers, cfg, ["ws", "os", "is"])
    for layer, df, row in zip(layers, ["ws", "os", "is"], mixed.layers, strict=True):
        assert row == simulate(
            [layer], AccelConfig(8, 8, 16, 16, 16, df)).layers[0]
    with pytest.raises(AccelInputError, match="one per layer"):
        simulate(layers, cfg, ["ws"])
    with pytest.raises(AccelInputError, match="dataflow must be one of"):
        simulate(layers[:1], cfg, ["xs"])
    with pytest.raises(AccelInputError, match="no layers"):
        simulate([], cfg)


def test_user_mode_double_buffer_stalls():
    layer = load("resnet18")[5]
    calc = simulate_layer(layer, AccelConfig(16, 16, 32, 32, 16, "ws"))
    stalls = []
    for bw in (0.5, 1, 2, 8, 64, 1e9):
        user = simulate_layer(layer, AccelConfig(16, 16, 32, 32, 16, "ws", "USER", bw))
        assert user.compute_cycles == calc.compute_cycles
        assert user.dram_ifmap_reads == calc.dram_ifmap_reads  # same buffers, same traffic
        stalls.append(user.stall_cycles)
    assert stalls == sorted(stalls, reverse=True) and stalls[0] > 0
    assert stalls[-1] <= 2  # unlimited bandwidth: only the first fetch and last write
    # traffic-bound: DRAM words / bandwidth dominate the layer
    words = calc.dram_ifmap_reads + calc.dram_filter_reads + calc.dram_ofmap_writes
    assert stalls[0] + calc.compute_cycles >= words / 0.5
    # just above the stall-free bandwidth only the first fetch and last write stall
    bw = calc.dram_bw_stall_free * 1.001
    user = simulate_layer(layer, AccelConfig(16, 16, 32, 32, 16, "ws", "USER", bw))
    assert user.stall_cycles <= words / calc.folds / bw + 2


def test_energy_table_and_breakdown():
    assert sram_pj_per_byte(8) == pytest.approx(10 / 8)  # Horowitz ISSCC 2014 points
    assert sram_pj_per_byte(32) == pytest.approx(20 / 8)
    assert sram_pj_per_byte(1024) == pytest.approx(100 / 8)
    sizes = [1, 4, 8, 16, 64, 256, 1024, 4096]
    energies = [sram_pj_per_byte(kb) for kb in sizes]
    assert energies == sorted(energies) and len(set(energies)) == len(sizes)
    layer = Layer.gemm("g", 4, 4, 4)
    r = simulate_layer(layer, AccelConfig(2, 2, 8, 32, 1024, "ws"))
    e = r.energy
    assert e.mac_pj == pytest.approx(64 * MAC_PJ)
    assert e.register_pj == pytest.approx(64 * REGISTER_PJ_PER_MAC)
    assert e.sram_ifmap_pj == pytest.approx((32 + r.dram_ifmap_reads) * 10 / 8)
    assert e.sram_filter_pj == pytest.approx((16 + r.dram_filter_reads) * 20 / 8)
    # ws writes 2 row folds of partial sums and reads the first back to accumulate
    assert e.sram_ofmap_pj == pytest.approx((32 + 16 + r.dram_ofmap_writes) * 100 / 8)
    words = r.dram_ifmap_reads + r.dram_filter_reads + r.dram_ofmap_writes
    # SCALE-Sim writes every partial sum of every row fold out to DRAM
    assert (r.dram_ifmap_reads, r.dram_filter_reads, r.dram_ofmap_writes) == (16, 16, 32)
    assert e.dram_pj == pytest.approx(words * DRAM_PJ_PER_BYTE)
    assert r.energy_pj == pytest.approx(e.mac_pj + e.register_pj + e.sram_ifmap_pj
                                        + e.sram_filter_pj + e.sram_ofmap_pj + e.dram_pj)


def test_area_adds_up():
    a = area_mm2(32, 32, (64, 64, 32))
    assert a["pe_array_mm2"] == pytest.approx(1024 * PE_AREA_UM2 * 1e-6)
    assert a["sram_ifmap_mm2"] == pytest.approx(64 * 1024 * 8 * 1.215e-6)
    assert a["sram_ofmap_mm2"] == pytest.approx(a["sram_ifmap_mm2"] / 2)
    assert a["total_mm2"] == pytest.approx(sum(v for k, v in a.items() if k != "total_mm2"))


def test_evaluate_design_and_files(tmp_path):
    layers = load("resnet18")
    kw = dict(array_rows=32, array_cols=32, dataflow="ws", ifmap_sram_kb=64,
              filter_sram_kb=64, ofmap_sram_kb=64)
    free = evaluate_design(layers, dram_bandwidth=None, **kw)
    slow = evaluate_design(layers, dram_bandwidth=4, **kw)
    cfg = AccelConfig(32, 32, 64, 64, 64, "ws")
    res = simulate(layers, cfg)
    assert free["latency_cycles"] == res.total_cycles and free["stall_cycles"] == 0
    assert free["latency_ms"] == pytest.approx(res.total_cycles / 1e6)
    assert free["energy_mj"] == pytest.approx(res.energy_pj * 1e-9)
    assert free["edp_mj_ms"] == pytest.approx(free["energy_mj"] * free["latency_ms"])
    assert free["area_mm2"] == pytest.approx(res.area["total_mm2"])
    assert slow["latency_cycles"] > free["latency_cycles"] and slow["stall_cycles"] > 0
    assert slow["energy_mj"] == free["energy_mj"]
    write_config(tmp_path / "a.cfg", cfg)
    assert simulate_files(topology_path("resnet18"), tmp_path / "a.cfg") == res
    with pytest.raises(AccelInputError, match="clock_ghz"):
        evaluate_design(layers, dram_bandwidth=None, clock_ghz=0, **kw)
