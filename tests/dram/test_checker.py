"""The independent timing checker: clean on every controller, and it catches each broken rule.

Three kinds of evidence: (1) simulated logs over many random DRAMGym knob settings and the
dramsim3_like controller, on random / stream / mixed traces, have zero violations; (2) the
same engines run on a device whose timing field is cut in half produce logs the checker
rejects for exactly that rule (a model that breaks a constraint fails this test); (3) single
mutations of a valid log (a command one cycle early, a dropped PRE, a duplicated RD...) are
reported as the specific violation.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulators.dram import (
    KNOBS,
    PRESETS,
    AddressMapping,
    ControllerConfig,
    Dramsim3Like,
    simulate,
)
from simulators.dram.checker import TimingViolationError, assert_valid, check, refresh_policy
from simulators.dram.commands import ACT, PRE, PREA, RD, RDA, REF, WR
from simulators.dram.trace import Trace

DEV = PRESETS["DDR4_8Gb_x8_2400"]
MAP = AddressMapping("rochrababgco", DEV)
BU = DEV.burst_cycles
RL, WL = DEV.CL + DEV.AL, DEV.CWL + DEV.AL


def mixed_trace(rng, n, interval=3, write_frac=0.3, rows=None, unique=False) -> Trace:
    """Random lines; with ``rows`` the requests fall on that many rows per bank (hits and
    conflicts; with ``unique`` no address twice, so every request gets its own command);
    ``interval`` is the mean gap in cycles."""
    if rows is None:
        addr = rng.integers(0, (4 << 30) // 64, n, dtype=np.uint64) * np.uint64(64)
    else:
        shape = (rows, DEV.ranks, DEV.bankgroups, DEV.banks_per_group, DEV.columns_per_row)
        pick = (rng.choice(int(np.prod(shape)), n, replace=False) if unique
                else rng.integers(0, int(np.prod(shape)), n))
        row, rank, bg, bank, column = np.unravel_index(pick, shape)
        addr = MAP.encode(row=row, rank=rank, bankgroup=bg, bank=bank, column=column)
    gaps = rng.integers(0, 2 * interval + 1, n)
    return Trace(addr, rng.random(n) < write_frac, np.cumsum(gaps))


def stream_trace(n, interval=2, write_every=0) -> Trace:
    i = np.arange(n)
    w = (i % write_every == write_every - 1) if write_every else np.zeros(n, bool)
    return Trace((i * 64).astype(np.uint64), w, i * interval)


def random_config(rng) -> ControllerConfig:
    return ControllerConfig.from_dict({k: v[rng.integers(len(v))] for k, v in KNOBS.items()})


def rules(viol) -> set[str]:
    return {v.rule for v in viol}


# ------------------------------------------------------------------ (1) clean on every model
def test_random_controllers_and_traces_have_no_violation():
    rng = np.random.default_rng(2026)
    for k in range(36):
        kind = k % 4
        n = int(rng.integers(800, 2500))
        if kind == 0:
            tr = mixed_trace(rng, n, interval=int(rng.integers(1, 8)))
        elif kind == 1:
            tr = stream_trace(n, interval=int(rng.integers(1, 6)),
                              write_every=int(rng.integers(0, 4)))
        else:
            tr = mixed_trace(rng, n, interval=int(rng.integers(1, 6)),
                             write_frac=float(rng.random()), rows=int(rng.integers(1, 8)))
        ctrl = "dramsim3_like" if k % 6 == 0 else random_config(rng)
        res = simulate(tr, controller=ctrl, record_commands=True)
        viol = check(res.commands, tr, DEV, "rochrababgco", controller=ctrl,
                         served_by=res.served_by)
        assert not viol, (k, ctrl, [str(v) for v in viol[:5]])


@pytest.mark.parametrize("ctrl", [
    "dramsim3_like",
    ControllerConfig(RefreshMaxPostponed=8, RefreshMaxPulledin=8),
    ControllerConfig(RefreshMaxPostponed=1, RefreshMaxPulledin=1, PagePolicy="Closed"),
    ControllerConfig(RefreshPolicy="NoRefresh"),
])
def test_long_runs_keep_the_refresh_budget(ctrl):
    rng = np.random.default_rng(7)
    # busy first half (refresh postponed), idle second half (refresh pulled in)
    busy = mixed_trace(rng, 6000, interval=1, rows=16)
    idle_start = int(busy.cycle[-1]) + 1
    tr = Trace(np.concatenate([busy.addr, busy.addr[:300]]),
               np.concatenate([busy.is_write, busy.is_write[:300]]),
               np.concatenate([busy.cycle, idle_start + np.arange(300) * 200]))
    res = simulate(tr, controller=ctrl, record_commands=True)
    assert res.sim_cycles > 6 * DEV.tREFI
    assert (res.num_ref > 0) == (refresh_policy(ctrl) is not False)
    assert not check(res.commands, tr, DEV, "rochrababgco", controller=ctrl,
                     served_by=res.served_by)


def test_shifted_log_is_still_valid_and_assert_valid():
    rng = np.random.default_rng(3)
    tr = mixed_trace(rng, 500, rows=3)
    res = simulate(tr, controller=ControllerConfig(RefreshPolicy="NoRefresh"),
                   record_commands=True)
    cmds = res.commands.copy()
    cmds["cycle"] += 1000
    later = Trace(tr.addr, tr.is_write, tr.cycle + 1000)
    assert_valid(cmds, later, DEV, "rochrababgco")
    cmds["cycle"][-1] = cmds["cycle"][-2]
    with pytest.raises(TimingViolationError, match=r"\[bus\]"):
        assert_valid(cmds, later, DEV, "rochrababgco")


# ------------------------------------------------------------------ (2) a broken model fails
BROKEN = {  # field cut in half -> the rule the checker must report
    "tRCD": "tRCD", "tRP": "tRP", "tRAS": "tRAS", "tRTP": "tRTP", "tWR": "tWR",
    "tWTR_S": "tWTR_S", "tWTR_L": "tWTR_L", "tCCD_S": "tCCD_S", "tCCD_L": "tCCD_L",
    "tRRD_S": "tRRD_S", "tRRD_L": "tRRD_L", "tFAW": "tFAW", "tRFC": "tRFC", "tRTRS": "tRTRS",
}


@pytest.mark.parametrize("field", sorted(BROKEN))
def test_engine_with_a_shortened_timing_is_caught(field):
    rng = np.random.default_rng(5)
    traces = (mixed_trace(rng, 3000, interval=1, rows=4), mixed_trace(rng, 3000, interval=1))
    v = getattr(DEV, field)
    broken = DEV.replace(**{field: v - max(1, v // 2)})
    found: set[str] = set()
    for ctrl in ("dramsim3_like", ControllerConfig(PagePolicy="ClosedAdaptive")):
        for tr in traces:
            res = simulate(tr, device=broken, controller=ctrl, record_commands=True)
            # self-consistent, except that the engines take tCCD >= BL/2 for granted (true of
            # every real device), so a halved tCCD also overlaps data bursts
            own = rules(check(res.commands, tr, broken, "rochrababgco", served_by=res.served_by))
            assert own <= ({"data_bus"} if field.startswith("tCCD") else set()), own
            found |= rules(check(res.commands, tr, DEV, "rochrababgco", served_by=res.served_by))
    assert BROKEN[field] in found


# ------------------------------------------------------------------ (3) mutations of a log
@pytest.fixture(scope="module")
def logs():
    """Valid logs of busy mixed traces, with their traces."""
    rng = np.random.default_rng(11)
    out = []
    for ctrl, tr in (
        ("dramsim3_like", mixed_trace(rng, 3000, interval=1, rows=4, write_frac=0.4,
                                      unique=True)),
        (ControllerConfig(PagePolicy="ClosedAdaptive"), mixed_trace(rng, 3000, interval=1)),
        (ControllerConfig(), mixed_trace(rng, 3000, interval=2, rows=2, write_frac=0.5,
                                         unique=True)),
        ("dramsim3_like", stream_trace(3000, interval=1, write_every=3)),
    ):
        res = simulate(tr, controller=ctrl, record_commands=True)
        assert res.served_by.size == 0  # no repeated address: every request has a command
        assert not check(res.commands, tr, DEV, "rochrababgco")
        out.append((res.commands, tr))
    return out


def _scope_match(c, i, j, scope):
    same_rank = c["rank"][i] == c["rank"][j]
    same_bg = same_rank and c["bankgroup"][i] == c["bankgroup"][j]
    same_bank = same_bg and c["bank"][i] == c["bank"][j]
    return {"bank": same_bank, "bg": same_bg and not same_bank, "other_bg": same_rank
            and not same_bg, "rank": same_rank, "other_rank": not same_rank}[scope]


def _tight(cmds, first, second, scope, dist):
    """Index j of a ``second`` command exactly ``dist`` cycles after the latest ``first``
    command in ``scope`` (that latest one being the binding predecessor), or None."""
    c = cmds
    for j in np.flatnonzero(np.isin(c["cmd"], second)).tolist():
        for i in range(j - 1, -1, -1):
            if c["cycle"][j] - c["cycle"][i] > dist:
                break
            if c["cmd"][i] in first and _scope_match(c, i, j, scope):
                if c["cycle"][j] - c["cycle"][i] == dist:
                    return j
                break
    return None


TIGHT = [  # rule, first kinds, second kinds, scope, binding distance
    ("tRCD", (ACT,), (RD, WR), "bank", DEV.tRCD),
    ("tRAS", (ACT,), (PRE,), "bank", DEV.tRAS),
    ("tRP", (PRE,), (ACT,), "bank", DEV.tRP),
    ("tRTP", (RD,), (PRE,), "bank", DEV.tRTP),
    ("tWR", (WR,), (PRE,), "bank", WL + BU + DEV.tWR),
    ("tRRD_L", (ACT,), (ACT,), "bg", DEV.tRRD_L),
    ("tRRD_S", (ACT,), (ACT,), "other_bg", DEV.tRRD_S),
    ("tCCD_L", (RD,), (RD,), "bg", DEV.tCCD_L),
    ("tCCD_S", (RD,), (RD,), "other_bg", DEV.tCCD_S),
    ("tWTR_L", (WR,), (RD,), "bg", WL + BU + DEV.tWTR_L),
    ("tWTR_S", (WR,), (RD,), "other_bg", WL + BU + DEV.tWTR_S),
    ("tRTRS", (RD,), (RD,), "other_rank", BU + DEV.tRTRS),
    ("turnaround", (RD,), (WR,), "rank", RL + BU - WL + DEV.tRTRS),
]


@pytest.mark.parametrize("rule, first, second, scope, dist", TIGHT, ids=[t[0] for t in TIGHT])
def test_command_one_cycle_early_is_caught(logs, rule, first, second, scope, dist):
    for cmds, tr in logs:
        j = _tight(cmds, first, second, scope, dist)
        if j is None:
            continue
        bad = cmds.copy()
        bad["cycle"][j] -= 1
        viol = check(bad, tr, DEV, "rochrababgco")
        assert rule in rules(viol), [str(v) for v in viol]
        assert any(v.rule == rule and v.index == j for v in viol)
        return
    pytest.fail(f"no log has a {rule}-bound command to move")


def test_fifth_act_inside_faw_is_caught(logs):
    for cmds, tr in logs:
        for r in range(DEV.ranks):
            acts = np.flatnonzero((cmds["cmd"] == ACT) & (cmds["rank"] == r))
            t = cmds["cycle"][acts]
            hit = np.flatnonzero(t[4:] - t[:-4] == DEV.tFAW)
            if hit.size:
                bad = cmds.copy()
                bad["cycle"][acts[hit[0] + 4]] -= 1
                assert "tFAW" in rules(check(bad, tr, DEV, "rochrababgco"))
                return
    pytest.fail("no log has a tFAW-bound ACT")


def test_dropped_pre_duplicated_and_dropped_rd(logs):
    cmds, tr = logs[0]
    pre = int(np.flatnonzero(cmds["cmd"] == PRE)[0])
    viol = check(np.delete(cmds, pre), tr, DEV, "rochrababgco")
    assert "act_open_bank" in rules(viol)
    rd = int(np.flatnonzero(cmds["cmd"] == RD)[-1])
    dup = np.concatenate([cmds, cmds[rd:rd + 1]])
    dup["cycle"][-1] = cmds["cycle"].max() + 1000
    viol = check(dup, tr, DEV, "rochrababgco")
    assert "request_duplicate" in rules(viol)
    assert any(f"request {cmds['req'][rd]} was served 2 times" in v.message for v in viol)
    viol = check(np.delete(cmds, rd), tr, DEV, "rochrababgco")
    assert rules(viol) == {"request_missing"}


def test_wrong_row_column_and_kind_are_caught(logs):
    cmds, tr = logs[0]
    rd = int(np.flatnonzero(cmds["cmd"] == RD)[5])
    bad = cmds.copy()
    bad["row"][rd] += 1
    assert {"row_mismatch", "request_address"} <= rules(check(bad, tr, DEV, "rochrababgco"))
    bad = cmds.copy()
    bad["col"][rd] = (bad["col"][rd] + 1) % DEV.columns_per_row
    assert rules(check(bad, tr, DEV, "rochrababgco")) == {"request_address"}
    bad = cmds.copy()
    bad["cmd"][rd] = WR
    assert "request_kind" in rules(check(bad, tr, DEV, "rochrababgco"))
    bad = cmds.copy()
    bad["cycle"][rd] = bad["cycle"][rd - 1]
    assert "bus" in rules(check(bad, tr, DEV, "rochrababgco"))


def test_request_served_before_arrival():
    tr = Trace(np.array([0x12340], np.uint64), np.zeros(1, bool), np.array([1000]))
    res = simulate(tr, controller=ControllerConfig(RefreshPolicy="NoRefresh"),
                   record_commands=True)
    assert not check(res.commands, tr, DEV, "rochrababgco", served_by=res.served_by)
    early = res.commands.copy()
    early["cycle"] -= 500
    assert rules(check(early, tr, DEV, "rochrababgco")) == {"request_early"}


@pytest.fixture(scope="module")
def refresh_log():
    rng = np.random.default_rng(12)
    tr = mixed_trace(rng, 12000, interval=3, rows=8)
    ctrl = ControllerConfig(RefreshMaxPostponed=1, RefreshMaxPulledin=1)
    res = simulate(tr, controller=ctrl, record_commands=True)
    assert res.num_ref >= 6
    assert not check(res.commands, tr, DEV, "rochrababgco", controller=ctrl,
                     served_by=res.served_by)
    return res.commands, tr, ctrl


def test_refresh_rules(refresh_log):
    cmds, tr, ctrl = refresh_log
    refs = np.flatnonzero(cmds["cmd"] == REF)
    # REF too soon after the PREA/PRE that closed the rank, or with a bank still open
    prea = []  # (REF, the PREA that closed its rank just tRP before)
    for j in refs.tolist():
        mine = np.flatnonzero((cmds["rank"][:j] == cmds["rank"][j]) & (cmds["cmd"][:j] == PREA))
        if mine.size and cmds["cycle"][j] - cmds["cycle"][mine[-1]] == DEV.tRP:
            prea.append((j, int(mine[-1])))
    assert prea, "no REF right after its PREA"
    bad = cmds.copy()
    bad["cycle"][prea[0][0]] -= 1
    assert "tRP" in rules(check(bad, tr, DEV, "rochrababgco"))
    viol = check(np.delete(cmds, prea[0][1]), tr, DEV, "rochrababgco")
    assert "ref_open_bank" in rules(viol)
    # a command of the rank inside tRFC after its REF
    j = int(refs[0])
    r = cmds["rank"][j]
    nxt = j + 1 + int(np.flatnonzero(cmds["rank"][j + 1:] == r)[0])
    bad = cmds.copy()
    bad["cycle"][nxt] = cmds["cycle"][j] + DEV.tRFC - 1
    bad = bad[np.argsort(bad["cycle"], kind="stable")]
    assert "tRFC" in rules(check(bad, tr, DEV, "rochrababgco"))
    # refresh budget: dropping every REF of rank 0 postpones too many; NoRefresh forbids any
    keep = ~((cmds["cmd"] == REF) & (cmds["rank"] == 0))
    assert "tREFI" in rules(check(cmds[keep], tr, DEV, "rochrababgco", controller=ctrl))
    assert "tREFI" not in rules(check(cmds[keep], tr, DEV, "rochrababgco"))
    noref = ControllerConfig(RefreshPolicy="NoRefresh")
    assert "refresh_forbidden" in rules(check(cmds, tr, DEV, "rochrababgco", controller=noref))
    # pulling in more than allowed: ten REFs of rank 1, tRFC apart, before the log starts
    shift = 12 * DEV.tRFC
    extra = np.zeros(10, dtype=cmds.dtype)
    extra["cmd"] = REF
    extra["rank"] = 1
    extra["bankgroup"] = extra["bank"] = extra["row"] = extra["col"] = extra["req"] = -1
    extra["cycle"] = np.arange(10) * DEV.tRFC
    shifted = cmds.copy()
    shifted["cycle"] += shift
    later = Trace(tr.addr, tr.is_write, tr.cycle + shift)
    assert not check(shifted, later, DEV, "rochrababgco")
    viol = check(np.concatenate([extra, shifted]), later, DEV, "rochrababgco", controller=ctrl)
    assert any(v.rule == "tREFI" and "pulled in" in v.message for v in viol)


def test_refresh_policy_of_each_controller():
    assert refresh_policy("dramsim3_like") == (0, 0)
    assert refresh_policy(ControllerConfig(RefreshMaxPostponed=4, RefreshMaxPulledin=2)) \
        == (4, 2)
    assert refresh_policy({"RefreshPolicy": "NoRefresh"}) is False
    assert refresh_policy(None) is None


# ------------------------------------------------------------------ own decoding, new rules
def test_checker_decodes_addresses_on_its_own():
    """The checker's bit-by-bit decoder and the engines' shift-and-mask one agree."""
    from simulators.dram.checker import decode

    rng = np.random.default_rng(21)
    for dev in PRESETS.values():
        addr = rng.integers(0, 1 << 40, 2000, dtype=np.uint64)
        for spec in ("rochrababgco", "chrobabgraco", "cobgbarachro"):
            ours, theirs = decode(addr, spec, dev), AddressMapping(spec, dev).decode(addr)
            for field in theirs:
                assert np.array_equal(ours[field], theirs[field]), (dev.name, spec, field)
    with pytest.raises(ValueError, match="each of"):
        decode(addr, "rorochrababg", DEV)


def _writes_one_group(dev, n=2000) -> Trace:
    """Writes and reads cycling through the banks of one bank group and a few rows."""
    rng = np.random.default_rng(4)
    m = AddressMapping("rochrababgco", dev)
    addr = m.encode(row=rng.integers(0, 3, n), bank=rng.integers(0, dev.banks_per_group, n),
                    column=rng.permutation(n) % dev.columns_per_row)
    return Trace(addr, rng.random(n) < 0.7, np.arange(n))


@pytest.mark.parametrize("field, ctrl", [
    ("tRFCsb", Dramsim3Like(refresh_policy="BANK_LEVEL_STAGGERED")),
    ("tCCD_L_WR", Dramsim3Like()),
])
def test_ddr5_engine_with_a_shortened_timing_is_caught(field, ctrl):
    ddr5 = PRESETS["DDR5_16Gb_x8_4800"]
    v = getattr(ddr5, field)
    broken = ddr5.replace(**{field: v // 2})
    tr = _writes_one_group(ddr5, 6000)
    res = simulate(tr, device=broken, controller=ctrl, record_commands=True)
    assert not check(res.commands, tr, broken, "rochrababgco", served_by=res.served_by)
    found = rules(check(res.commands, tr, ddr5, "rochrababgco", served_by=res.served_by))
    assert field in found, found


def test_lpddr4_precharge_spacing_tppd():
    lp = PRESETS["LPDDR4_8Gb_x16_3200"].replace(tPPD=4)
    tr = mixed_trace(np.random.default_rng(9), 4000, interval=1)
    m = AddressMapping("rochrababgco", lp)
    tr = Trace(np.asarray(tr.addr) % np.uint64(m.encode(row=lp.rows - 1) * 2), tr.is_write,
               tr.cycle)
    res = simulate(tr, device=lp.replace(tPPD=0), record_commands=True)
    assert "tPPD" in rules(check(res.commands, tr, lp, "rochrababgco",
                                 served_by=res.served_by))
    res = simulate(tr, device=lp, record_commands=True)
    assert not check(res.commands, tr, lp, "rochrababgco", served_by=res.served_by)


def test_auto_precharge_rules():
    tr = mixed_trace(np.random.default_rng(10), 3000, interval=1, rows=3, unique=True)
    ctrl = Dramsim3Like(row_buf_policy="CLOSE_PAGE")
    res = simulate(tr, controller=ctrl, record_commands=True)
    cmds = res.commands
    assert not check(cmds, tr, DEV, "rochrababgco")
    # an ACT tight after the auto-precharge of a RDA, one cycle earlier: tRP is broken
    for j in np.flatnonzero(cmds["cmd"] == ACT).tolist():
        prev = np.flatnonzero((cmds["cmd"][:j] == RDA) & (cmds["rank"][:j] == cmds["rank"][j])
                              & (cmds["bankgroup"][:j] == cmds["bankgroup"][j])
                              & (cmds["bank"][:j] == cmds["bank"][j]))
        if prev.size and cmds["cycle"][j] - cmds["cycle"][prev[-1]] == \
                DEV.AL + DEV.burst_cycles + DEV.tRTP + DEV.tRP \
                and cmds["cycle"][j] - 1 > cmds["cycle"][j - 1]:
            bad = cmds.copy()
            bad["cycle"][j] -= DEV.burst_cycles + 1  # inside JEDEC's tRTP + tRP
            assert {"tRP", "tRC"} & rules(check(bad, tr, DEV, "rochrababgco"))
            return
    pytest.fail("no ACT right after an auto-precharge")
