"""Controller tests: hand-calculated latencies, invariants, knob effects, power, mapping."""

from __future__ import annotations

import json

import numpy as np
import pytest

from simulators.dram import (
    KNOBS,
    NUM_CONFIGS,
    PRESETS,
    AddressMapping,
    ControllerConfig,
    increments,
    simulate,
)
from simulators.dram.commands import ACT, PREA, RD, RDA, REF, WR, WRA

try:
    from simulators.dram.trace import Trace
except ImportError:  # pragma: no cover - stand-in until trace.py lands
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Trace:  # type: ignore[no-redef]
        addr: np.ndarray
        is_write: np.ndarray
        cycle: np.ndarray
        name: str = ""

DEV = PRESETS["DDR4_8Gb_x8_2400"]
MAP = AddressMapping("rochrababgco", DEV)
NOREF = ControllerConfig(RefreshPolicy="NoRefresh")


def make_trace(addr, is_write=None, cycle=None) -> Trace:
    addr = np.asarray(addr, dtype=np.uint64)
    n = addr.size
    w = np.zeros(n, bool) if is_write is None else np.asarray(is_write, bool)
    c = np.arange(n, dtype=np.int64) * 1000 if cycle is None else np.asarray(cycle, np.int64)
    return Trace(addr=addr, is_write=w, cycle=c)


def random_trace(rng, n, interval=3, write_frac=1 / 3, span_rows=None) -> Trace:
    if span_rows is None:
        addr = rng.integers(0, (4 << 30) // 64, size=n, dtype=np.uint64) * np.uint64(64)
    else:  # concentrated on a few rows: plenty of hits and conflicts
        f = dict(row=rng.integers(0, span_rows, n), rank=rng.integers(0, DEV.ranks, n),
                 bankgroup=rng.integers(0, DEV.bankgroups, n),
                 bank=rng.integers(0, DEV.banks_per_group, n),
                 column=rng.integers(0, DEV.columns_per_row, n))
        addr = MAP.encode(**f)
    gaps = rng.integers(0, 2 * interval + 1, n)
    return make_trace(addr, rng.random(n) < write_frac, np.cumsum(gaps))


def stream(n=512, interval=4):
    return make_trace(np.arange(n, dtype=np.uint64) * 64, None, np.arange(n) * interval)


def column_log(res):
    c = res.commands
    return c[np.isin(c["cmd"], [RD, WR, RDA, WRA])]


# ---------------------------------------------------------------- hand-calculated latencies
BURST = DEV.burst_cycles
CLOSED_BANK = DEV.tRCD + DEV.CL + BURST
HIT = DEV.CL + BURST
CONFLICT = DEV.tRP + DEV.tRCD + DEV.CL + BURST


@pytest.mark.parametrize("controller, extra", [(NOREF, 1), ("dramsim3_like", 1)])
def test_single_read_closed_bank(controller, extra):
    # dramsim3_like moves an accepted request to its command queue first, DRAMSys takes a
    # request one cycle after it reached the controller (ThinkDelayFw): one cycle more
    res = simulate(make_trace([0x12340]), controller=controller)
    assert res.read_latency_cycles.tolist() == [CLOSED_BANK + extra]
    assert res.avg_read_latency_ns == pytest.approx((CLOSED_BANK + extra) * DEV.tCK_ns)


@pytest.mark.parametrize("controller, extra", [(NOREF, 1), ("dramsim3_like", 1)])
def test_row_hit_and_conflict(controller, extra):
    same_row = MAP.encode(row=5, column=3), MAP.encode(row=5, column=9)
    other_row = MAP.encode(row=5, column=3), MAP.encode(row=6, column=3)
    hit = simulate(make_trace(np.stack(same_row)), controller=controller)
    assert hit.read_latency_cycles.tolist() == sorted([CLOSED_BANK + extra, HIT + extra])
    assert hit.row_hit_rate == 0.5
    conf = simulate(make_trace(np.stack(other_row)), controller=controller)
    assert conf.read_latency_cycles.tolist() == [CLOSED_BANK + extra, CONFLICT + extra]
    assert conf.num_act == 2 and conf.num_pre == 1


def test_closed_page_auto_precharge_keeps_tras():
    # two reads to one bank, arriving together: ACT, RDA, ACT, RDA. The auto-precharge needs
    # no command slot and starts at max(RDA + tRTP, ACT + tRAS) (JEDEC's tRAS lock-out), so
    # the second ACT comes tRC after the first (DRAMSys v5.1 would allow tRCD + tRTP + tRP)
    tr = make_trace([0, 64], cycle=[0, 0])
    res = simulate(tr, controller=ControllerConfig(
        PagePolicy="Closed", RefreshPolicy="NoRefresh"), record_commands=True)
    assert res.commands["cmd"].tolist() == [ACT, RDA, ACT, RDA]
    gaps = np.diff(res.commands["cycle"]).tolist()
    assert gaps == [DEV.tRCD, DEV.tRC - DEV.tRCD, DEV.tRCD]
    assert DEV.tRC > DEV.tRCD + DEV.tRTP + DEV.tRP  # the test can tell the two rules apart
    assert res.row_hit_rate == 0.0 and res.num_pre == 2


# ---------------------------------------------------------------- invariants
def random_config(rng) -> ControllerConfig:
    return ControllerConfig(**{k: v[rng.integers(len(v))] for k, v in KNOBS.items()})


def test_every_request_completes_exactly_once():
    rng = np.random.default_rng(1)
    for k in range(30):
        tr = random_trace(rng, 300, interval=int(rng.integers(1, 12)),
                          span_rows=None if k % 2 else 4)
        ctrl = "dramsim3_like" if k % 5 == 0 else random_config(rng)
        res = simulate(tr, controller=ctrl, record_commands=True)
        col = column_log(res)
        assert sorted(col["req"].tolist()) == list(range(300))
        assert np.array_equal(np.isin(col["cmd"], [WR, WRA]), tr.is_write[col["req"]])
        assert res.num_reads + res.num_writes == 300
        assert res.num_rd == res.num_reads and res.num_wr == res.num_writes
        assert np.all(np.diff(res.commands["cycle"]) >= 1)  # one command per cycle


# ---------------------------------------------------------------- knob effects
def test_closed_policy_never_hits_where_open_always_does():
    tr = stream()
    open_ = simulate(tr, controller=ControllerConfig(PagePolicy="Open"))
    closed = simulate(tr, controller=ControllerConfig(PagePolicy="Closed"))
    assert open_.row_hit_rate > 0.98
    assert closed.row_hit_rate == 0.0
    assert closed.num_act >= 512  # a refresh may close a row between its ACT and its RD
    closed = simulate(tr, controller=ControllerConfig(PagePolicy="Closed",
                                                      RefreshPolicy="NoRefresh"))
    assert closed.num_act == 512


def test_adaptive_policies_between():
    rng = np.random.default_rng(3)
    tr = random_trace(rng, 2000, interval=4, span_rows=3)
    rates = {p: simulate(tr, controller=ControllerConfig(PagePolicy=p)).row_hit_rate
             for p in KNOBS["PagePolicy"]}
    assert rates["Closed"] == 0.0
    assert rates["ClosedAdaptive"] > 0.0 and rates["OpenAdaptive"] > 0.0
    assert rates["Open"] >= rates["OpenAdaptive"] - 0.02


def test_no_refresh_issues_no_ref():
    tr = stream(3000, interval=10)  # 30,000 cycles > 3 tREFI
    assert simulate(tr, controller=ControllerConfig(RefreshPolicy="NoRefresh")).num_ref == 0
    assert simulate(tr, controller=ControllerConfig(RefreshPolicy="AllBank")).num_ref >= 4
    assert simulate(tr).num_ref >= 4


def test_refresh_postponed_under_load_within_bound():
    rng = np.random.default_rng(4)
    tr = random_trace(rng, 6000, interval=2)
    for mp in KNOBS["RefreshMaxPostponed"]:
        res = simulate(tr, controller=ControllerConfig(RefreshMaxPostponed=mp,
                                                       RefreshMaxPulledin=1),
                       record_commands=True)
        refs = res.commands[res.commands["cmd"] == REF]
        for r in range(DEV.ranks):
            t = refs["cycle"][refs["rank"] == r]
            # DRAMSys staggers ranks in bit-reversed order: rank 0 at tREFI, rank 1 at half
            due = DEV.tREFI - r * DEV.tREFI // DEV.ranks + DEV.tREFI * np.arange(t.size)
            # the k-th refresh of a rank is never later than (max postponed + 1) intervals
            # after it fell due, plus the time to close the banks and meet tRFC
            assert np.all(t <= due + (mp + 1) * DEV.tREFI), (mp, r)


def _reorders_within_a_bank(res) -> bool:
    col = column_log(res)
    bank = col["rank"].astype(int) * 16 + col["bankgroup"] * 4 + col["bank"]
    return any(np.any(np.diff(col["req"][bank == b]) < 0) for b in np.unique(bank))


def test_fifo_never_reorders_within_a_bank():
    # DRAMSys's schedulers act per bank; across banks the oldest ready command goes first
    rng = np.random.default_rng(5)
    for buf in KNOBS["SchedulerBuffer"]:
        tr = random_trace(rng, 800, interval=2, span_rows=4)
        res = simulate(tr, controller=ControllerConfig(Scheduler="Fifo", SchedulerBuffer=buf,
                                                       RequestBufferSize=16),
                       record_commands=True)
        assert not _reorders_within_a_bank(res)
        assert np.any(np.diff(column_log(res)["req"]) < 0)  # but across banks it may
        fr = simulate(tr, controller=ControllerConfig(Scheduler="FrFcfs", SchedulerBuffer=buf,
                                                      RequestBufferSize=16),
                      record_commands=True)
        assert _reorders_within_a_bank(fr)  # the test can tell


def _acts_alternate_with_columns(res) -> bool:
    kinds = res.commands["cmd"][np.isin(res.commands["cmd"], [ACT, RD, WR])]
    is_act = kinds == ACT
    return not np.any(is_act[1:] & is_act[:-1])


def test_request_buffer_one_with_fifo_serialises():
    rng = np.random.default_rng(6)
    tr = random_trace(rng, 500, interval=2)
    # (no refresh: a refresh may close a row between its ACT and its RD, forcing a second ACT)
    ser = simulate(tr, controller=ControllerConfig(Scheduler="Fifo", SchedulerBuffer="Shared",
                                                   RequestBufferSize=1,
                                                   RefreshPolicy="NoRefresh"),
                   record_commands=True)
    assert _acts_alternate_with_columns(ser)  # one request at a time in the controller
    par = simulate(tr, controller=ControllerConfig(Scheduler="Fifo", SchedulerBuffer="Shared",
                                                   RequestBufferSize=32,
                                                   RefreshPolicy="NoRefresh"),
                   record_commands=True)
    assert not _acts_alternate_with_columns(par)
    assert par.bandwidth_gbps > 1.5 * ser.bandwidth_gbps


def test_max_active_one_means_one_in_flight():
    rng = np.random.default_rng(7)
    tr = random_trace(rng, 400, interval=2, span_rows=8)
    res = simulate(tr, controller=ControllerConfig(Arbiter="Fifo", MaxActiveTransactions=1),
                   record_commands=True)
    col = column_log(res)
    assert np.all(np.diff(col["req"]) == 1)
    delay = np.where(np.isin(col["cmd"], [RD, RDA]), DEV.RL, DEV.WL) + BURST
    finish = col["cycle"] + delay
    # every command of request k+1 comes after request k's data is done
    cmds = res.commands
    for k in range(len(col) - 1):
        between = cmds[(cmds["cycle"] > col["cycle"][k]) & (cmds["cycle"] <= col["cycle"][k + 1])]
        work = between[np.isin(between["cmd"], [ACT, RD, WR, RDA, WRA])]
        assert np.all(work["cycle"] >= finish[k])


def test_resp_queue_reorder_delays_responses():
    # Reorder returns responses in request order, Fifo in RD/WR issue order; with the Simple
    # arbiter the response path never feeds back, so the DRAM commands are the same
    rng = np.random.default_rng(8)
    tr = random_trace(rng, 1500, interval=3, span_rows=3)
    fifo = simulate(tr, controller=ControllerConfig(RespQueue="Fifo"), record_commands=True)
    reo = simulate(tr, controller=ControllerConfig(RespQueue="Reorder"), record_commands=True)
    assert reo.avg_latency_ns > fifo.avg_latency_ns
    assert np.array_equal(fifo.commands, reo.commands)


def test_request_buffer_size_helps_bandwidth():
    rng = np.random.default_rng(9)
    tr = random_trace(rng, 3000, interval=1)
    bw = [simulate(tr, controller=ControllerConfig(SchedulerBuffer="Shared",
                                                   RequestBufferSize=s)).bandwidth_gbps
          for s in (1, 8, 64)]
    assert bw[0] < bw[1] < bw[2] * 1.05


# ---------------------------------------------------------------- power
def test_energy_increments_match_dramsim3():
    inc = increments(DEV)
    assert inc["act"] == pytest.approx(4156.8)
    assert inc["read"] == pytest.approx(3532.8)
    assert inc["write"] == pytest.approx(3072.0)
    assert inc["ref"] == pytest.approx(834624.0)
    assert inc["act_standby"] == pytest.approx(412.8)
    assert inc["pre_standby"] == pytest.approx(326.4)


def test_power_adds_up():
    rng = np.random.default_rng(10)
    for ctrl in ("dramsim3_like", ControllerConfig(), random_config(rng)):
        res = simulate(random_trace(rng, 1000), controller=ctrl)
        b = res.energy_breakdown_pj
        parts = [v for k, v in b.items() if k != "total_pj"]
        assert all(v >= 0 for v in parts)
        assert sum(parts) == pytest.approx(res.energy_pj)
        assert b["total_pj"] == pytest.approx(res.energy_pj)
        inc = increments(DEV)
        assert b["act_pj"] == pytest.approx(res.num_act * inc["act"] * DEV.tCK_ns)
        assert b["refresh_pj"] == pytest.approx(res.num_ref * inc["ref"] * DEV.tCK_ns)
        rank_cycles = (b["act_standby_pj"] / inc["act_standby"]
                       + b["pre_standby_pj"] / inc["pre_standby"]) / DEV.tCK_ns
        assert rank_cycles == pytest.approx(res.sim_cycles * DEV.ranks)
        assert res.avg_power_mw == pytest.approx(res.energy_pj / res.sim_time_ns)


# ---------------------------------------------------------------- determinism, results
def test_deterministic_and_json():
    rng = np.random.default_rng(11)
    tr = random_trace(rng, 800)
    cfg = random_config(rng)
    a = simulate(tr, controller=cfg, record_commands=True)
    b = simulate(tr, controller=cfg, record_commands=True)
    assert a.to_dict() == b.to_dict()
    assert np.array_equal(a.commands, b.commands)
    d = json.loads(json.dumps(a.to_dict()))
    assert d["mapping"] == "rochrababgco" and d["controller"] == cfg.to_dict()
    assert "commands" not in d


def test_percentiles_nearest_rank():
    tr = make_trace(np.arange(10, dtype=np.uint64) * MAP.encode(row=1)[()], None,
                    np.arange(10) * 1000)
    res = simulate(tr, controller=NOREF)
    lat = res.read_latency_cycles
    assert res.p50_read_latency_ns == pytest.approx(lat[4] * DEV.tCK_ns)
    assert res.max_read_latency_ns == pytest.approx(lat[-1] * DEV.tCK_ns)


# ---------------------------------------------------------------- mapping and knobs
def test_mapping_round_trip_and_layout():
    rng = np.random.default_rng(12)
    for spec in ("rochrababgco", "chrobabgraco", "cobgbarachro"):
        m = AddressMapping(spec, DEV)
        f = dict(row=rng.integers(0, DEV.rows, 100), rank=rng.integers(0, 2, 100),
                 bankgroup=rng.integers(0, 4, 100), bank=rng.integers(0, 4, 100),
                 column=rng.integers(0, DEV.columns_per_row, 100),
                 channel=np.zeros(100, dtype=np.int64))
        back = m.decode(m.encode(**f))
        for k, v in f.items():
            assert np.array_equal(back[k], v), (spec, k)
    d = MAP.decode(np.array([0x3F, 0x40, 1 << 13, 1 << 15, 1 << 17, 1 << 18], np.uint64))
    assert d["column"].tolist() == [0, 1, 0, 0, 0, 0]
    assert d["bankgroup"].tolist() == [0, 0, 1, 0, 0, 0]
    assert d["bank"].tolist() == [0, 0, 0, 1, 0, 0]
    assert d["rank"].tolist() == [0, 0, 0, 0, 1, 0]
    assert d["row"].tolist() == [0, 0, 0, 0, 0, 1]


@pytest.mark.parametrize("bad", ["rochrababg", "rorochrababg", "xxchrababgco", 5])
def test_bad_mapping_names_allowed(bad):
    with pytest.raises(ValueError, match="ro .row.*co .column"):
        AddressMapping(bad, DEV)


def test_knob_space():
    assert NUM_CONFIGS == 442_368
    assert list(KNOBS) == ["PagePolicy", "Scheduler", "SchedulerBuffer", "RequestBufferSize",
                           "RespQueue", "RefreshPolicy", "RefreshMaxPostponed",
                           "RefreshMaxPulledin", "Arbiter", "MaxActiveTransactions"]
    assert ControllerConfig.from_dict({"PagePolicy": "Closed"}).PagePolicy == "Closed"
    assert ControllerConfig(RequestBufferSize=3, RefreshMaxPostponed=0).RequestBufferSize == 3
    with pytest.raises(ValueError, match=r"RequestBufferSize=0.*1, 2, 4, 8, 16, 32, 64, 128"):
        ControllerConfig.from_dict({"RequestBufferSize": 0})
    with pytest.raises(ValueError, match=r"RefreshMaxPulledin=9.*from 0 to 8"):
        ControllerConfig.from_dict({"RefreshMaxPulledin": 9})
    with pytest.raises(ValueError, match=r"PagePolicy='open'"):
        ControllerConfig.from_dict({"PagePolicy": "open"})
    with pytest.raises(ValueError, match="Bogus"):
        ControllerConfig.from_dict({"Bogus": 1})
    with pytest.raises(ValueError, match="dramsim3_like"):
        simulate(make_trace([0]), controller="nope")


# ---------------------------------------------------------------- independent checker
def test_checker_finds_no_violation():
    checker = pytest.importorskip("simulators.dram.checker",
                                  reason="simulators/dram/checker.py not written yet")
    rng = np.random.default_rng(13)
    for k in range(40):
        tr = random_trace(rng, 250, interval=int(rng.integers(1, 10)),
                          span_rows=None if k % 3 == 0 else int(rng.integers(1, 6)))
        ctrl = "dramsim3_like" if k % 4 == 0 else random_config(rng)
        res = simulate(tr, controller=ctrl, record_commands=True)
        viol = checker.check(res.commands, tr, DEV, "rochrababgco", served_by=res.served_by)
        assert not viol, (k, ctrl, viol[:5])
    # a long run crossing many refresh intervals
    tr = random_trace(rng, 8000, interval=6, span_rows=16)
    for ctrl in ("dramsim3_like", ControllerConfig(RefreshMaxPostponed=2,
                                                   RefreshMaxPulledin=8)):
        res = simulate(tr, controller=ctrl, record_commands=True)
        assert res.num_ref > 0
        assert not checker.check(res.commands, tr, DEV, "rochrababgco", served_by=res.served_by)


def test_prea_and_ref_in_log():
    res = simulate(stream(3000, interval=10), record_commands=True)
    cmds = res.commands
    assert np.sum(cmds["cmd"] == REF) == res.num_ref > 0
    assert np.all(cmds["bank"][np.isin(cmds["cmd"], [REF, PREA])] == -1)
