"""Device presets: each simulates stream and random traces with zero checker violations and
figures that agree with hand calculations from its datasheet numbers, and its tables agree
with the JEDEC / data-sheet figures and DRAMsim3 configs in ``device_tables.json``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from simulators.dram import PRESETS, ControllerConfig, simulate
from simulators.dram.checker import check
from simulators.dram.trace import Trace

NEW = ("DDR3_4Gb_x8_1600", "LPDDR4_8Gb_x16_3200", "HBM2_PC_2000", "GDDR6_8Gb_x16_16000",
       "LPDDR5X_16Gb_x16_7500", "DDR5_16Gb_x8_4800")

# hand-computed: data rate (MT/s) x bus width (bytes)
PEAK_GBPS = {
    "DDR4_8Gb_x8_2400": 2 / 0.83 * 8,  # tCK 0.83 ns -> 2409.6 MT/s, 64-bit bus
    "DDR3_4Gb_x8_1600": 1.6 * 8,  # 1600 MT/s, 64-bit bus: 12.8 GB/s
    "LPDDR4_8Gb_x16_3200": 3.2 * 2,  # 3200 MT/s, 16-bit channel: 6.4 GB/s
    "HBM2_PC_2000": 2.0 * 8,  # 2 Gb/s per pin, 64-bit pseudo channel: 16 GB/s
    "GDDR6_8Gb_x16_16000": 16.0 * 2,  # 16 Gb/s per pin, x16 channel: 32 GB/s
    "LPDDR5X_16Gb_x16_7500": 7.5 * 2,  # 7500 MT/s, x16 channel: 15 GB/s
    "DDR5_16Gb_x8_4800": 2 / 0.416 * 4 * 2,  # two 32-bit sub-channels: 2 x 19.2 GB/s
}
# hand-computed: an isolated read to a precharged bank, 1 + tRCD + CL + BL/2 cycles, in ns
# (the DRAMSys controller takes a request one cycle after it arrives: ThinkDelayFw)
CLOSED_READ_NS = {
    "DDR4_8Gb_x8_2400": (1 + 17 + 17 + 4) * 0.83,
    "DDR3_4Gb_x8_1600": (1 + 11 + 11 + 4) * 1.25,
    "LPDDR4_8Gb_x16_3200": (1 + 29 + 28 + 8) * 0.625,
    "HBM2_PC_2000": (1 + 14 + 14 + 2) * 1.0,
    "GDDR6_8Gb_x16_16000": (1 + 32 + 32 + 2) * 0.5,  # BL16 at 8 transfers per tCK: 2 cycles
    "LPDDR5X_16Gb_x16_7500": (1 + 17 + 20 + 2) / 0.9375,
    "DDR5_16Gb_x8_4800": (1 + 39 + 40 + 8) * 0.416,
}
# hand-computed: precharge standby power of all ranks, VDD x IDD2N x devices x ranks, mW
IDLE_MW = {
    "DDR4_8Gb_x8_2400": 1.2 * 34 * 8 * 2,
    "DDR3_4Gb_x8_1600": 1.5 * 32 * 8 * 2,
    "LPDDR4_8Gb_x16_3200": 1.1 * 27 * 1 * 1,
    "HBM2_PC_2000": 1.2 * 20 * 1 * 1,
    "GDDR6_8Gb_x16_16000": 1.35 * 60 * 1 * 1,
    "LPDDR5X_16Gb_x16_7500": 1.2 * 33.75 * 1 * 1,
    "DDR5_16Gb_x8_4800": 1.1 * 92 * 4 * 2 * 2,  # 4 devices x 2 ranks x 2 sub-channels
}
CONTROLLERS = ("dramsim3_like", ControllerConfig(), ControllerConfig(
    PagePolicy="ClosedAdaptive", Scheduler="FrFcfsGrp", SchedulerBuffer="Shared",
    RequestBufferSize=32, RefreshMaxPostponed=2, RefreshMaxPulledin=2))


def _capacity(d) -> int:
    return d.rows * d.columns * d.banks_per_rank * d.ranks * d.channels * d.bus_width // 8


def _stream(d, n=3000) -> Trace:
    i = np.arange(n)
    return Trace((i * d.bytes_per_burst).astype(np.uint64), np.zeros(n, bool), i)


def _random(d, n=3000, seed=0) -> Trace:
    rng = np.random.default_rng(seed)
    lines = _capacity(d) // d.bytes_per_burst
    addr = rng.integers(0, lines, n, dtype=np.uint64) * np.uint64(d.bytes_per_burst)
    return Trace(addr, rng.random(n) < 1 / 3, np.cumsum(rng.integers(0, 4, n)))


def test_presets_registered_with_sources():
    assert set(NEW) <= set(PRESETS)
    for name, d in PRESETS.items():
        assert d.name == name and d.source
        assert d.peak_bandwidth_gbps == pytest.approx(PEAK_GBPS[name])
        assert d.tCCD_S >= d.burst_cycles  # the engines rely on it (no overlapping bursts)
    ddr3 = PRESETS["DDR3_4Gb_x8_1600"]
    assert ddr3.bankgroups == 1 and ddr3.tCCD_L == ddr3.tCCD_S and ddr3.tRRD_L == ddr3.tRRD_S
    # capacities: 2 ranks x 8 x 4 Gb = 8 GB; one 8 Gb LPDDR4 channel; an HBM2 pseudo
    # channel is half of an 8 Gb channel
    assert _capacity(ddr3) == 8 << 30
    assert _capacity(PRESETS["LPDDR4_8Gb_x16_3200"]) == 1 << 30
    assert _capacity(PRESETS["HBM2_PC_2000"]) == 512 << 20
    ddr5 = PRESETS["DDR5_16Gb_x8_4800"]  # a 2Rx8 DIMM: 2 ranks x 2 x 4 devices x 16 Gb
    assert _capacity(ddr5) == 32 << 30 and ddr5.bytes_per_burst == 64
    assert ddr5.bankgroups * ddr5.banks_per_group == 32 and ddr5.BL == 16


@pytest.mark.parametrize("name", NEW)
def test_stream_and_random_are_clean_and_plausible(name):
    d = PRESETS[name]
    for ctrl in CONTROLLERS:
        st = _stream(d)
        res = simulate(st, device=d, controller=ctrl, record_commands=True)
        assert not check(res.commands, st, d, "rochrababgco", controller=ctrl,
                         served_by=res.served_by)
        assert res.row_hit_rate > 0.9
        assert res.bandwidth_gbps <= PEAK_GBPS[name] * 1.0001
        if ctrl == "dramsim3_like":  # tCCD = BL/2 on these: a stream nearly fills the bus
            # (of one channel: the channel bit sits above the rank bit in rochrababgco)
            assert res.bandwidth_gbps > 0.85 * PEAK_GBPS[name] / d.channels
        rd = _random(d)
        res = simulate(rd, device=d, controller=ctrl, record_commands=True)
        assert not check(res.commands, rd, d, "rochrababgco", controller=ctrl,
                         served_by=res.served_by)
        # every miss needs an ACT and a rank takes at most four ACT per tFAW
        faw_gbps = d.channels * d.ranks * 4 * d.bytes_per_burst / (d.tFAW * d.tCK_ns)
        bound = min(PEAK_GBPS[name], faw_gbps / max(1e-9, 1 - res.row_hit_rate))
        assert 0 < res.bandwidth_gbps <= bound * 1.0001
        assert res.num_act >= (1 - res.row_hit_rate) * 3000 - 1


@pytest.mark.parametrize("name", sorted(PEAK_GBPS))
def test_closed_bank_read_latency_and_idle_power(name):
    d = PRESETS[name]
    one = Trace(np.array([d.bytes_per_burst * 3], np.uint64), np.zeros(1, bool), np.zeros(1))
    res = simulate(one, device=d, controller=ControllerConfig(RefreshPolicy="NoRefresh"))
    assert res.avg_read_latency_ns == pytest.approx(CLOSED_READ_NS[name])
    # two reads far apart with a closed-page policy: almost all the time is precharge standby
    two = Trace(np.array([0, d.bytes_per_burst], np.uint64), np.zeros(2, bool),
                np.array([0, 200_000]))
    res = simulate(two, device=d, controller=ControllerConfig(
        PagePolicy="Closed", RefreshPolicy="NoRefresh"))
    assert res.avg_power_mw == pytest.approx(IDLE_MW[name], rel=0.01)


TABLES = json.loads(Path(__file__).with_name("device_tables.json").read_text())["presets"]


@pytest.mark.parametrize("name", sorted(TABLES))
def test_device_tables_match_their_sources(name):
    """Every timing of a preset is its source's nanosecond figure rounded to clocks the JEDEC
    way (or a clock count the source gives), and every value a DRAMsim3 config also holds
    agrees with it, except the documented departures."""
    d, src = PRESETS[name], TABLES[name]
    tck = src["tCK_jedec_ns"]
    assert d.tCK_ns == pytest.approx(tck, abs=0.004)
    extra = {k: v[0] for k, v in src.get("extra_nck", {}).items()}
    for field, (ns, min_nck) in src["ns"].items():
        if field in src.get("floor", []):
            want = math.floor(ns / tck + 0.01)
        else:
            want = max(min_nck, math.ceil(ns / tck - 0.025))
        got = d.tCCD_L_WR_eff if field == "tCCD_L_WR" else getattr(d, field)
        assert got == want + extra.get(field, 0), (field, ns, got, want)
    for field, nck in src["nck"].items():
        assert getattr(d, field) == nck, field
    assert {k: getattr(d, k) for k in src["idd_mA"]} == src["idd_mA"]
    assert src["VDD"] == d.VDD
    covered = set(src["ns"]) | set(src["nck"]) | {"tRTRS", "AL"}
    assert {"CL", "tRCD", "tRP", "tRAS", "tWR", "tRTP", "tFAW", "tRFC", "tREFI"} <= covered
    if "dramsim3" in src:
        ds, exc = src["dramsim3"]["values"], src["dramsim3"]["exceptions"]
        for field, value in ds.items():
            got = getattr(d, field)
            if field in exc:
                assert got != value, f"{field} now agrees with DRAMsim3: drop the exception"
            else:
                assert got == pytest.approx(value), field
