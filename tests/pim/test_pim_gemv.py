"""GEMV on the PIM simulator: hand-counted commands and times, timing relations checked by an
independent checker, exact event skipping, 1/N speed-up, bank scaling, energy conservation,
determinism."""

from __future__ import annotations

import math

import pytest

from simulators.pim import PimConfig, PimInputError, simulate_gemv
from simulators.pim.energy import command_energy
from simulators.pim.engine import ChannelEngine
from simulators.pim.gemv import _simulate_channel, pim_timing
from simulators.pim.host import HOSTS
from simulators.pim.mapping import build_program, map_gemv

# 1 channel of 2 GDDR6 banks (tCK 0.5 ns): tRCD = tRP = 16 ns, tRAS 36, tRTP 2, tCCD_L 1,
# WL 11 + burst 1 + tWR 11 -> WR->PRE 23 ns, WL + burst + tWTR 5 -> WR->RD 17 ns,
# RL + burst - WL + tRTRS = 6.5 ns, one 32-byte burst per ns.
TINY = PimConfig(name="tiny", channels=1, banks_per_channel=2, tile_order=1)


def test_tiny_gemv_counts_and_time_by_hand():
    # 32 x 32 bf16 matrix: 16-row tiles (one per SIMD lane), 2 row blocks on 2 banks, 32 words
    # of 256 bits per bank in one 2 KB row; the 32-element vector fills 2 registers.
    r = simulate_gemv(32, 32, 1, TINY)
    assert r.mapping["tile_rows"] == 16 and r.mapping["row_blocks"] == 1
    assert r.commands == {"act": 2, "pre": 2, "mac": 32, "alu": 0, "wr_vector": 2,
                          "wr_output": 2, "rd_output": 4, "ref": 0}
    # WRV 0, 1; ACT 1; MAC 18..49 (WR->RD 17 after the last write); PRE 51 (RD->PRE 2);
    # ACT (output row) 67; WRO 83, 84; RDO 101..104 (WR->RD 17); PRE 107 (WR->PRE 23);
    # channel precharged at 107 + 16 = 123 ns.
    assert r.pim_time_ns == 123.0
    assert r.breakdown_ns == {"row_open": 51.0, "mac": 32.0, "pim_alu": 0.0, "vector_write": 1.0,
                              "write_back": 2.0, "read_back": 4.0, "turnaround": 33.0,
                              "refresh": 0.0}
    # outputs: 2 banks x 16 rows x 4 bytes read back in 32-byte bursts
    assert r.bank_operations["word_reads"] == 64 and r.bank_operations["macs"] == 32 * 32


def test_hand_count_grows_with_rows_and_chunks():
    # K = 4096 on one bank pair: 16 x 4096 / 16 = 4096 words per bank = 64 rows; the vector
    # (256 registers) needs 4 chunks of 64 registers.
    r = simulate_gemv(32, 4096, 1, TINY)
    assert r.mapping["rows_per_bank"] == 64 and r.mapping["chunks"] == 4
    assert r.commands["mac"] == 4096 and r.commands["wr_vector"] == 256
    assert r.commands["act"] == 64 + 1 and r.commands["pre"] == 64 + 1  # + the output row
    t = pim_timing(TINY)
    assert r.commands["ref"] == math.floor(r.pim_time_ns * 1000 / t.refi)


def _check(trace: list, t, slot: int, per_row: int) -> list[str]:
    """Independent check of a trace of (time, command, count, spacing) runs."""
    bad: list[str] = []
    last = {k: -10**18 for k in ("act", "pre", "mac", "alu", "wr_vector", "wr_output",
                                 "rd_output", "ref")}
    open_row, in_row = False, 0
    for t0, cmd, n, gap in trace:
        tl = t0 + (n - 1) * gap

        def need(cond: bool, what: str, cmd: str = cmd, t0: int = t0) -> None:
            if not cond:
                bad.append(f"{cmd}@{t0}: {what}")

        need(t0 >= last["ref"] + t.rfc or cmd == "ref", "tRFC")
        if cmd == "act":
            need(not open_row and t0 >= last["pre"] + t.rp, "ACT needs a precharged bank + tRP")
            open_row, in_row = True, 0
        elif cmd == "pre":
            need(open_row and t0 >= last["act"] + t.ras, "tRAS")
            need(t0 >= last["mac"] + t.rtp and t0 >= last["rd_output"] + t.rtp, "tRTP")
            need(t0 >= last["wr_output"] + t.wr_to_pre, "WR->PRE")
            open_row = False
        elif cmd == "mac":
            need(open_row and t0 >= last["act"] + t.rcd, "tRCD")
            need(t0 >= max(last["mac"] + slot, last["alu"] + t.ccd), "PIM slot")
            need(t0 >= last["wr_vector"] + t.wr_to_rd, "WR->RD turnaround")
            in_row += n
            need(in_row <= per_row and gap >= slot, "row overflow / MAC spacing")
        elif cmd == "alu":
            need(t0 >= max(last["mac"] + slot, last["alu"] + t.ccd) and gap >= t.ccd, "slot")
        elif cmd == "wr_vector":
            need(t0 >= max(last["mac"], last["alu"], last["rd_output"]) + t.rd_to_wr,
                 "RD->WR turnaround")
            need(gap >= t.wr_gap, "write burst spacing")
        elif cmd == "wr_output":
            need(open_row and t0 >= last["act"] + t.rcd, "tRCD (write)")
            need(t0 >= max(last["mac"], last["alu"]) + t.rd_to_wr, "RD->WR turnaround")
        elif cmd == "rd_output":
            need(open_row and t0 >= last["wr_output"] + t.wr_to_rd and gap >= t.rd_gap,
                 "WR->RD / read spacing")
        elif cmd == "ref":
            need(not open_row and t0 >= last["pre"] + t.rp, "REF needs precharged banks")
        last[cmd] = tl
    return bad


CASES = [
    (TINY, 32, 4096, 1),
    (PimConfig(channels=2, banks_per_channel=4, tile_order=4), 1000, 3000, 2),
    (PimConfig(channels=1, banks_per_channel=4, orf_registers=16, tile_order=0,
               vector_registers=8, irf_registers=8), 512, 2048, 1),
    (PimConfig(channels=1, banks_per_channel=8, banks_per_pim_unit=2, irf_registers=64,
               vector_registers=32, pim_compute_rate=0.5, free_cross_simd_reduction=False,
               acc_spill_commands=1), 640, 1600, 3),
    (PimConfig(device="LPDDR5X_16Gb_x16_7500", channels=1, banks_per_channel=16,
               matrix_bits=8, vector_bits=8, pim_compute_rate=2.0, split_k=1), 4096, 2048, 3),
    (PimConfig(timing_ns=(("tRP", 21), ("tRCD", 18), ("tCCD", 4.266667), ("tRAS", 42),
                          ("tRTW", 18.13333333), ("tWTR", 12)), refresh=False, readback=False,
               blocking_controller=True, channels=2, matrix_bits=8, vector_bits=8,
               irf_registers=8, vector_registers=8, tile_rows=16, tile_order=4), 3000, 1000, 2),
]


@pytest.mark.parametrize("cfg,M,K,N", CASES)
def test_schedule_obeys_every_timing_relation_and_skipping_is_exact(cfg, M, K, N):
    t = pim_timing(cfg)
    mp = map_gemv(M, K, N, cfg)
    prog = build_program(mp, cfg, t)
    per_row = cfg.words_per_row * cfg.banks_per_pim_unit
    trace: list = []
    full = ChannelEngine(t, per_row, skip=False, trace=trace).run(prog)
    assert _check(trace, t, mp.slot_multiple * t.ccd, per_row) == []
    fast = ChannelEngine(t, per_row, skip=True).run(prog)
    assert (fast.time_ps, fast.counts, fast.breakdown_ps) == \
        (full.time_ps, full.counts, full.breakdown_ps)
    assert sum(full.breakdown_ps.values()) == full.time_ps
    assert fast.events < full.events


def test_refresh_is_periodic_and_costs_trfc():
    cfg = PimConfig(channels=1, banks_per_channel=4)
    on = simulate_gemv(4096, 4096, 1, cfg)
    off = simulate_gemv(4096, 4096, 1, cfg.replace(refresh=False))
    t = pim_timing(cfg)
    assert on.commands["ref"] == on.pim_time_ns * 1000 // t.refi
    assert off.commands["ref"] == 0
    # each refresh blocks the channel for tRFC and may force one extra row cycle; issued at
    # a row or op boundary, part of it overlaps a row switch or turnaround that was due anyway
    extra = on.pim_time_ns - off.pim_time_ns
    per_ref = extra * 1000 / on.commands["ref"]
    assert 0.9 * t.rfc <= per_ref <= t.rfc + t.rp + t.rcd + t.ras
    assert on.commands["act"] - off.commands["act"] <= on.commands["ref"]


@pytest.mark.parametrize("M,K", [(4096, 4096), (2304, 768), (1000, 3000)])
def test_speedup_scales_as_one_over_n_for_a_bandwidth_bound_host(M, K):
    cfg = PimConfig(host_reads_vector=False, host_writes_output=False)
    base = simulate_gemv(M, K, 1, cfg)
    for N in range(2, 9):
        r = simulate_gemv(M, K, N, cfg)
        assert r.host_time_ns == base.host_time_ns  # the matrix read bounds the host
        assert r.speedup * N == pytest.approx(base.speedup, rel=0.03)
    # a MAC that serves two vectors per word halves the matrix re-reads
    two = cfg.replace(pim_compute_rate=2.0)
    assert simulate_gemv(M, K, 2, two).pim_time_ns < 0.6 * simulate_gemv(M, K, 2, cfg).pim_time_ns


@pytest.mark.parametrize("M,K", [(2048, 512), (4096, 1000), (8192, 4096), (6144, 2048)])
def test_more_banks_never_slow_a_gemv_without_padding(M, K):
    times = []
    for banks in (2, 4, 8, 16, 32):
        cfg = PimConfig(channels=2, banks_per_channel=banks)
        r = simulate_gemv(M, K, 1, cfg)
        assert r.mapping["padded_rows"] == M
        times.append(r.pim_time_ns)
    assert all(b <= a for a, b in zip(times, times[1:], strict=False)), times


def test_padding_wastes_banks():
    cfg = PimConfig(channels=1, banks_per_channel=16)
    fit = simulate_gemv(16 * 16, 2048, 1, cfg)  # one row block per bank
    pad = simulate_gemv(16 * 16 + 1, 2048, 1, cfg)  # one more row: a second round, 15 idle
    assert pad.mapping["padded_rows"] == 2 * 16 * 16
    assert pad.commands["mac"] == 2 * fit.commands["mac"]
    assert pad.pim_time_ns > 1.8 * fit.pim_time_ns


def test_energy_adds_up_and_matches_per_command_energies():
    cfg = PimConfig()
    r = simulate_gemv(3000, 2000, 2, cfg)
    assert sum(r.energy_breakdown_pj.values()) == pytest.approx(r.pim_energy_pj, rel=1e-12)
    assert sum(r.breakdown_ns.values()) == pytest.approx(r.pim_time_ns, abs=1e-9)
    e = command_energy(cfg, r.mapping["concurrent_vectors"])
    c = r.commands
    assert r.energy_breakdown_pj["activate"] == pytest.approx(c["act"] * e.act)
    assert r.energy_breakdown_pj["mac_array"] + r.energy_breakdown_pj["mac_alu"] == \
        pytest.approx(c["mac"] * e.mac)
    assert r.energy_breakdown_pj["background"] == pytest.approx(
        e.background_mw * r.pim_time_ns * cfg.total_channels)
    # a MAC: 16 banks read 256 bits and 16 x 16 bf16 MACs (Horowitz: 1.1 + 0.9 pJ each)
    assert e.mac - e.mac_array == pytest.approx(16 * 16 * 2.0)
    assert r.host_energy_pj == pytest.approx(HOSTS["T4"].power_w * r.host_time_ns * 1000)
    assert r.energy_ratio == pytest.approx(r.host_energy_pj / r.pim_energy_pj)


def test_deterministic_bit_for_bit():
    cfg = PimConfig(channels=4)
    a = simulate_gemv(5000, 1234, 3, cfg).to_dict()
    _simulate_channel.cache_clear()
    b = simulate_gemv(5000, 1234, 3, cfg).to_dict()
    assert a == b


def test_bad_gemv_shapes_and_register_overflow_are_refused():
    with pytest.raises(PimInputError, match="GEMV M=0"):
        simulate_gemv(0, 10, 1)
    with pytest.raises(PimInputError, match="ORF registers"):
        simulate_gemv(8192, 1024, 1, PimConfig(orf_registers=1, tile_order=4))
