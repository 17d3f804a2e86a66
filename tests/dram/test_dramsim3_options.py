"""The ``dramsim3_like`` controller's options, each doing what DRAMsim3's option does (its
exact figures against DRAMsim3 are in ``test_fidelity.py``), and DDR5's same-bank refresh."""

from __future__ import annotations

import numpy as np
import pytest

from simulators.dram import (
    PRESETS,
    AddressMapping,
    ControllerOptionError,
    Dramsim3Like,
    simulate,
)
from simulators.dram.checker import check, refresh_policy
from simulators.dram.commands import ACT, PRE, RD, RDA, REF, REFSB, WRA
from simulators.dram.trace import Trace

DEV = PRESETS["DDR4_8Gb_x8_2400"]
DDR5 = PRESETS["DDR5_16Gb_x8_4800"]
MAP = AddressMapping("rochrababgco", DEV)


def rand(n, seed=0, interval=3, write_frac=0.3, dev=DEV) -> Trace:
    rng = np.random.default_rng(seed)
    lines = dev.rows * dev.columns * dev.banks_per_rank * dev.ranks * dev.channels \
        * dev.bus_width // 8 // dev.bytes_per_burst
    addr = rng.integers(0, lines, n, dtype=np.uint64) * np.uint64(dev.bytes_per_burst)
    return Trace(addr, rng.random(n) < write_frac, np.cumsum(rng.integers(0, 2 * interval, n)))


def clean(res, tr, ctrl, dev=DEV) -> bool:
    return not check(res.commands, tr, dev, "rochrababgco", controller=ctrl,
                     served_by=res.served_by)


def test_options_by_dramsim3_names_and_dramgym_aliases():
    c = Dramsim3Like().with_options({"row_buf_policy": "CLOSE_PAGE", "cmd_queue_size": "4",
                                     "unified_queue": "true", "write_buf_size": "none"})
    assert (c.row_buf_policy, c.cmd_queue_size, c.unified_queue, c.write_buf_size) == (
        "CLOSE_PAGE", 4, True, None)
    assert Dramsim3Like().with_options({"PagePolicy": "Closed"}).row_buf_policy == "CLOSE_PAGE"
    assert not Dramsim3Like().with_options({"RefreshPolicy": "NoRefresh"}).refresh
    with pytest.raises(ControllerOptionError, match=r"PagePolicy='OpenAdaptive' has no "
                                                    r"dramsim3_like equivalent.*Open, Closed"):
        Dramsim3Like().with_options({"PagePolicy": "OpenAdaptive"})
    with pytest.raises(ControllerOptionError, match=r"unknown dramsim3_like option 'row_policy'"
                                                    r".*row_buf_policy"):
        Dramsim3Like().with_options({"row_policy": "OPEN_PAGE"})
    with pytest.raises(ControllerOptionError, match=r"refresh_policy='PER_BANK'.*"
                                                    r"RANK_LEVEL_STAGGERED"):
        Dramsim3Like(refresh_policy="PER_BANK")
    with pytest.raises(ControllerOptionError, match="cmd_queue_size='x' must be a positive"):
        Dramsim3Like().with_options({"cmd_queue_size": "x"})
    with pytest.raises(ControllerOptionError, match="trans_queue_size=0"):
        Dramsim3Like(trans_queue_size=0)
    res = simulate(rand(200), options={"row_buf_policy": "CLOSE_PAGE"})
    assert res.controller["dramsim3_like"]["row_buf_policy"] == "CLOSE_PAGE"


def test_close_page_auto_precharges_every_access():
    tr = Trace((np.arange(2000) * 64).astype(np.uint64), np.arange(2000) % 4 == 0,
               np.arange(2000) * 6)  # a stream: open page would hit 127 times in 128
    ctrl = Dramsim3Like(row_buf_policy="CLOSE_PAGE")
    res = simulate(tr, controller=ctrl, record_commands=True)
    cmds = res.commands["cmd"]
    assert res.row_hit_rate == 0 and not np.isin(cmds, (RD, 3)).any()
    assert np.isin(cmds, (RDA, WRA)).sum() == 2000
    # only a refresh closes a bank explicitly, one opened for an access still to come
    assert (cmds == ACT).sum() == 2000 + (cmds == PRE).sum() == 2000 + res.num_pre
    assert clean(res, tr, ctrl)
    assert simulate(tr).row_hit_rate > 0.95


def test_queue_structures_and_sizes_are_clean_and_matter():
    tr = rand(6000, interval=2)
    runs = {}
    for opts in ({}, {"queue_structure": "PER_RANK"}, {"unified_queue": True},
                 {"cmd_queue_size": 1, "trans_queue_size": 2}):
        ctrl = Dramsim3Like(**opts)
        res = simulate(tr, controller=ctrl, record_commands=True)
        assert clean(res, tr, ctrl)
        runs[str(opts)] = res
    base = runs["{}"]
    tiny = runs[str({"cmd_queue_size": 1, "trans_queue_size": 2})]
    assert tiny.bandwidth_gbps < base.bandwidth_gbps * 0.8  # little to schedule from
    assert tiny.avg_read_total_latency_ns > base.avg_read_total_latency_ns


def test_a_lone_write_waits_for_a_drain_unless_the_queue_is_unified():
    # one write, then 200 reads to other banks: DRAMsim3 holds the write in its write buffer
    # (a drain needs more than 8 writes, or a full buffer); a unified queue serves it in turn
    a = np.concatenate([MAP.encode(row=1, bank=0, column=0)[None],
                        MAP.encode(row=2, bank=1, column=np.arange(200) % 128)])
    w = np.zeros(201, bool)
    w[0] = True
    tr = Trace(a, w, np.arange(201) * 4)
    for unified, first in ((False, False), (True, True)):
        res = simulate(tr, controller=Dramsim3Like(unified_queue=unified, refresh=False),
                       record_commands=True)
        col = res.commands[np.isin(res.commands["cmd"], (RD, 3))]
        assert (col["req"][0] == 0) == first and (col["req"][-1] == 0) != first


def test_a_full_write_buffer_starts_a_drain():
    # two writes, then reads to another bank: a 2-entry write buffer is full at once and
    # drains; DRAMsim3's default (trans_queue_size entries) holds them to the end
    a = np.concatenate([MAP.encode(row=1, bank=0, column=np.arange(2)),
                        MAP.encode(row=2, bank=1, column=np.arange(200) % 128)])
    w = np.zeros(202, bool)
    w[:2] = True
    tr = Trace(a, w, np.arange(202) * 4)
    for size, early in ((None, False), (2, True)):
        res = simulate(tr, controller=Dramsim3Like(write_buf_size=size, refresh=False),
                       record_commands=True)
        col = res.commands[np.isin(res.commands["cmd"], (RD, 3))]
        pos = np.flatnonzero(col["cmd"] == 3)
        assert (pos.max() < 10) == early and (pos.min() > 190) != early


def test_aggressive_precharging_closes_idle_rows():
    a = MAP.encode(row=np.array([5, 6]), column=np.array([0, 0]))
    tr = Trace(a, np.zeros(2, bool), np.array([0, 2000]))  # same bank, another row later
    plain = Dramsim3Like(refresh=False)
    eager = Dramsim3Like(refresh=False, aggressive_precharging_enabled=True)
    lat = {c: simulate(tr, controller=c).read_latency_cycles.tolist() for c in (plain, eager)}
    closed = DEV.tRCD + DEV.CL + DEV.burst_cycles + 1
    assert lat[plain] == [closed, closed + DEV.tRP]  # the second read finds row 5 open
    assert lat[eager] == [closed, closed]  # it was closed while the bank idled
    res = simulate(rand(3000), controller=eager, record_commands=True)
    assert clean(res, rand(3000), eager)


@pytest.mark.parametrize("policy", ["RANK_LEVEL_STAGGERED", "RANK_LEVEL_SIMULTANEOUS"])
def test_rank_refresh_policies(policy):
    tr = rand(4000, interval=12)
    ctrl = Dramsim3Like(refresh_policy=policy)
    res = simulate(tr, controller=ctrl, record_commands=True)
    assert clean(res, tr, ctrl)
    refs = res.commands[res.commands["cmd"] == REF]
    for r in range(DEV.ranks):  # every rank, every tREFI (DRAMsim3 forgets rank 1 here)
        t = refs["cycle"][refs["rank"] == r]
        assert abs(t.size - res.sim_cycles / DEV.tREFI) <= 1
    first = [int(refs["cycle"][refs["rank"] == r][0]) for r in range(DEV.ranks)]
    if policy == "RANK_LEVEL_STAGGERED":
        assert first[1] - first[0] >= DEV.tREFI // 2 - DEV.tRFC
    else:
        assert first[1] - first[0] <= DEV.tRFC + DEV.tRC  # back to back


def test_messages_and_mutual_exclusions():
    with pytest.raises(ValueError, match=r"BANK_LEVEL_STAGGERED needs a device with a "
                                         r"same-bank refresh.*DDR5_16Gb_x8_4800"):
        simulate(rand(100), controller=Dramsim3Like(refresh_policy="BANK_LEVEL_STAGGERED"))


def test_merged_requests_as_dramsim3():
    a = np.array([0x1000, 0x1000, 0x2000, 0x1000, 0x2000], dtype=np.uint64)
    w = np.array([False, False, True, False, False])
    tr = Trace(a, w, np.array([0, 1, 2, 3, 4]))
    res = simulate(tr, controller=Dramsim3Like(refresh=False), record_commands=True)
    # read 1 joins read 0's RD, read 4 is answered by the pending write 2 at once
    pairs = {tuple(p) for p in res.served_by.tolist()}
    assert (1, 0) in pairs and (4, 2) in pairs
    assert res.num_rd + res.num_wr + len(pairs) == 5
    assert 1 in res.read_latency_cycles.tolist()  # answered one cycle after acceptance
    assert clean(res, tr, Dramsim3Like(refresh=False))
    bogus = res.served_by.copy()
    bogus[0, 1] = 2  # a read "served" by a write of another address
    assert any(v.rule == "request_merge" for v in check(
        res.commands, tr, DEV, "rochrababgco", served_by=bogus))
    assert any(v.rule == "request_missing" for v in check(res.commands, tr, DEV,
                                                          "rochrababgco"))


# ---------------------------------------------------------------- DDR5
def test_ddr5_same_bank_refresh_is_clean_and_keeps_other_banks_busy():
    tr = rand(8000, interval=4, dev=DDR5)
    sb = Dramsim3Like(refresh_policy="BANK_LEVEL_STAGGERED")
    res = simulate(tr, device=DDR5, controller=sb, record_commands=True)
    assert res.num_refsb > 0 and res.num_ref == 0
    assert clean(res, tr, sb, DDR5)
    refsb = res.commands[res.commands["cmd"] == REFSB]
    assert set(refsb["bank"].tolist()) == set(range(DDR5.banks_per_group))
    assert set(refsb["channel"].tolist()) == {0, 1}  # each sub-channel refreshes itself
    # a same-bank refresh blocks one bank per group for tRFCsb, not the rank: other banks of
    # that rank and sub-channel keep working meanwhile
    c = res.commands
    busy = 0
    for x in refsb:
        near = c[(c["cycle"] > x["cycle"]) & (c["cycle"] < x["cycle"] + DDR5.tRFCsb)
                 & (c["rank"] == x["rank"]) & (c["channel"] == x["channel"])]
        busy += int(((near["bank"] != x["bank"]) & np.isin(near["cmd"], (ACT, RD, 3))).sum())
        assert not ((near["bank"] == x["bank"]) & (near["cmd"] == ACT)).any()
    assert busy > 0
    assert refresh_policy(sb) == (0, 0)
    e = res.energy_breakdown_pj["refresh_pj"]
    assert e > 0  # DRAMPower's DDR5 REFsb term is positive for these currents


def test_ddr5_rules_are_enforced_by_the_engines():
    """A DDR5 log obeys tCCD_L_WR (longer than tCCD_L) and its sub-channels run apart."""
    n = 3000
    tr = Trace((np.arange(n) * 64).astype(np.uint64), np.ones(n, bool), np.arange(n))
    for ctrl in ("dramsim3_like", {"PagePolicy": "Closed"}):
        res = simulate(tr, device=DDR5, controller=ctrl, record_commands=True)
        assert not check(res.commands, tr, DDR5, "rochrababgco", served_by=res.served_by)
        wr = res.commands[np.isin(res.commands["cmd"], (3, WRA))]
        same_bg = (np.diff(wr["bankgroup"]) == 0) & (np.diff(wr["rank"]) == 0) & (
            np.diff(wr["channel"]) == 0)
        assert np.diff(wr["cycle"])[same_bg].min() >= DDR5.tCCD_L_WR > DDR5.tCCD_L
