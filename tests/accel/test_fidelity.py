"""Agreement with SCALE-Sim v3 on the reference cases in scalesim_reference.json (generated
by ``python -m experiments.accel_scalesim``; see its "provenance").

Required (issue 12): compute cycles, SRAM reads/writes per operand, utilisation and mapping
efficiency equal; DRAM OFMAP writes within one array-width line; DRAM IFMAP/filter reads
within 10 % in CALC mode. Percentages are compared to 1e-9 relative: SCALE-Sim sums per-fold
floats, so its last printed digits depend on the summation order.
"""

import json
from pathlib import Path

import pytest

from experiments.accel_scalesim import cases
from simulators.accel import AccelConfig, Layer, simulate_layer

REFERENCE = json.loads((Path(__file__).parent / "scalesim_reference.json").read_text())
CALC = [c for c in REFERENCE["cases"] if c["config"]["interface_bandwidth"] == "CALC"]
USER = [c for c in REFERENCE["cases"] if c["config"]["interface_bandwidth"] == "USER"]


def _ours(case):
    return simulate_layer(Layer(**case["layer"]), AccelConfig(**case["config"]))


def test_reference_covers_the_required_spread():
    prov = REFERENCE["provenance"]
    assert prov["scalesim_version"] and prov["command"] and prov["machine"]["cpu"]
    assert all(c["scalesim"]["seconds"] > 0 for c in REFERENCE["cases"])
    cfgs = [c["config"] for c in CALC]
    assert {c["dataflow"] for c in cfgs} == {"os", "ws", "is"}
    assert any(c["array_rows"] != c["array_cols"] for c in cfgs)
    assert len({(c["ifmap_sram_kb"], c["filter_sram_kb"], c["ofmap_sram_kb"]) for c in cfgs}) > 5
    assert {c["format"] for c in CALC} == {"conv", "gemm"}
    assert sum(c["layer"]["name"].startswith("resnet18") for c in CALC) >= 10
    assert USER
    assert [c["id"] for c in REFERENCE["cases"]] == [c["id"] for c in cases()]
    for c in REFERENCE["cases"]:  # the recorded inputs are the runner's
        assert {k: c[k] for k in ("layer", "format", "config")} == \
            {k: v for k, v in next(x for x in cases() if x["id"] == c["id"]).items()
             if k != "id"}


@pytest.mark.parametrize("case", CALC, ids=[c["id"] for c in CALC])
def test_calc_mode_agreement(case):
    ours = _ours(case)
    comp = case["scalesim"]["compute_report"]
    det = case["scalesim"]["detailed_access_report"]
    assert ours.total_cycles == comp["Total Cycles"]
    assert ours.stall_cycles == comp["Stall Cycles"]
    assert ours.compute_cycles == comp["Total Cycles"] - comp["Stall Cycles"]
    assert ours.overall_util_pct == pytest.approx(comp["Overall Util %"], rel=1e-9)
    assert ours.mapping_efficiency_pct == pytest.approx(comp["Mapping Efficiency %"], rel=1e-9)
    assert ours.compute_util_pct == pytest.approx(comp["Compute Util %"], rel=1e-9)
    assert ours.sram_ifmap_reads == det["SRAM IFMAP Reads"]
    assert ours.sram_filter_reads == det["SRAM Filter Reads"]
    assert ours.sram_ofmap_writes == det["SRAM OFMAP Writes"]
    assert abs(ours.dram_ofmap_writes - det["DRAM OFMAP Writes"]) <= case["config"]["array_cols"]
    assert ours.dram_ifmap_reads == pytest.approx(det["DRAM IFMAP Reads"], rel=0.10)
    assert ours.dram_filter_reads == pytest.approx(det["DRAM Filter Reads"], rel=0.10)


@pytest.mark.parametrize("case", USER, ids=[c["id"] for c in USER])
def test_user_mode_differs_as_documented(case):
    """Same compute; SCALE-Sim's USER mode re-fetches its prefetch ring, our double-buffered
    model keeps the CALC-mode reuse, so it reads no more from DRAM (docs/accel.md)."""
    ours = _ours(case)
    comp = case["scalesim"]["compute_report"]
    det = case["scalesim"]["detailed_access_report"]
    assert ours.compute_cycles == comp["Total Cycles"] - comp["Stall Cycles"]
    assert ours.sram_ifmap_reads == det["SRAM IFMAP Reads"]
    assert ours.dram_ifmap_reads <= det["DRAM IFMAP Reads"]
    assert ours.dram_filter_reads <= det["DRAM Filter Reads"]
