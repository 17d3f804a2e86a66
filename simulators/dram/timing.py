"""JEDEC command timing state shared by both controller engines (numba-compiled).

The state is a table ``nxt[bank, cmd]`` of the earliest cycle at which ACT, PRE, RD or WR may
go to each bank, updated for every bank whenever a command is issued (the same "earliest
cycle per command" formulation DRAMsim3 uses), plus a per-rank four-activate window and a
per-rank earliest REF. Constraints (all in memory-clock cycles):

- same bank: ACT->RD/WR tRCD, ACT->PRE tRAS, ACT->ACT tRC, RD->PRE AL + tRTP,
  WR->PRE WL + burst + tWR, PRE->ACT tRP; a read / write with auto-precharge (RDA / WRA)
  closes the bank at the cycle an explicit PRE would first be legal (so tRAS, tRTP, tWR
  hold), and ACT follows tRP later; after a RDA also no sooner than AL + burst + tRTP + tRP
  (DRAMsim3's relation, one burst more than JEDEC's);
- same rank (``_L`` same bank group, ``_S`` another one): ACT->ACT tRRD, RD->RD and WR->WR
  tCCD (WR->WR in one bank group: DDR5's tCCD_L_WR where longer), WR->RD WL + burst +
  tWTR, RD->WR (below), at most four ACT per tFAW, PRE->PRE tPPD (LPDDR4);
- read/write turnarounds, two rule sets (``timing_vector(d, rules)``):

  ========  ============================  ===============================================
  rules     RD->WR same rank              another rank: RD->RD, RD->WR, WR->RD, WR->WR
  ========  ============================  ===============================================
  dramsim3  RL + burst - WL + tRTRS       burst + tRTRS, RL + burst + tRTRS - WL,
                                          WL + burst + tRTRS - RL, burst
  jedec     RL + burst - WL + 1 + tWPRE   burst + tRTRS, RL + burst + tRTRS - WL + tWPRE,
                                          WL + burst + tRTRS - RL + tRPRE, burst + tRTRS
  ========  ============================  ===============================================

  ``dramsim3`` is DRAMsim3's (used by ``dramsim3_like`` to match it); ``jedec`` is
  JESD79-4's minimum read-to-write spacing (CL - CWL + BL/2 + 1 tCK + tWPRE, one cycle more
  than DRAMsim3's) and, between ranks (vendor-specified in JEDEC), DRAMSys v5.1's
  ``CheckerDDR4`` relations that add the DQS preambles;
- refresh: every bank precharged before REF (PRE->REF tRP, ACT->REF tRC), REF->ACT tRFC;
  same-bank refresh (DDR5 REFsb: bank index k in every bank group): those banks precharged
  (tRP), REFsb->ACT/REFsb of those banks tRFCsb, REFsb->REF tRFCsb, REF->REFsb tRFC.

Sources: JEDEC JESD79-4 (DDR4); DRAMsim3 (Li et al., IEEE CAL 2020) for the rank-switch
relations.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simulators.dram.commands import ACT, NAMES, PRE, PREA, RD, RDA, REF, REFSB, WR, WRA
from simulators.dram.device import DeviceSpec

# indices into the integer parameter vector built by timing_vector()
(P_RL, P_WL, P_BURST, P_tRCD, P_tRP, P_tRAS, P_tRC, P_tRTP, P_tWR, P_tWTR_S, P_tWTR_L,
 P_tCCD_S, P_tCCD_L, P_tRRD_S, P_tRRD_L, P_tFAW, P_tRTRS, P_tRFC, P_tREFI, P_RANKS, P_BG,
 P_BPG, P_AL, P_tRFCsb, P_tREFIsb, P_tPPD, P_tCCD_L_WR, P_RDWR, P_RDRD_R, P_RDWR_R, P_WRRD_R,
 P_WRWR_R) = range(32)
RULES = ("dramsim3", "jedec")

NCMD = len(NAMES)
INF = np.int64(1) << np.int64(62)
NEG = -(np.int64(1) << np.int64(40))

# counters
K_ACT, K_PRE, K_RD, K_WR, K_REF, K_PREA, K_HIT, K_PREA_BANKS, K_REFSB = range(9)
NCOUNT = 9
LOG_COLS = 8  # cycle, cmd, rank, bankgroup, bank, row, col, req


def timing_vector(d: DeviceSpec, rules: str = "dramsim3") -> np.ndarray:
    """Pack a DeviceSpec into the int64 vector the compiled engines read, with the
    read/write turnaround ``rules`` (``"dramsim3"`` or ``"jedec"``, see the module notes)."""
    rl, wl, bu, rtrs = d.RL, d.WL, d.burst_cycles, d.tRTRS
    if rules == "dramsim3":
        turn = (rl + bu - wl + rtrs, bu + rtrs, rl + bu + rtrs - wl, wl + bu + rtrs - rl, bu)
    elif rules == "jedec":
        turn = (rl + bu - wl + 1 + d.tWPRE, bu + rtrs, rl + bu + rtrs - wl + d.tWPRE,
                wl + bu + rtrs - rl + d.tRPRE, bu + rtrs)
    else:
        raise ValueError(f"timing rules {rules!r}: allowed {', '.join(RULES)}")
    return np.array([
        rl, wl, bu, d.tRCD, d.tRP, d.tRAS, d.tRC, d.tRTP, d.tWR, d.tWTR_S,
        d.tWTR_L, d.tCCD_S, d.tCCD_L, d.tRRD_S, d.tRRD_L, d.tFAW, rtrs, d.tRFC, d.tREFI,
        d.ranks, d.bankgroups, d.banks_per_group, d.AL, d.tRFCsb, d.tREFIsb, d.tPPD,
        d.tCCD_L_WR_eff, *turn,
    ], dtype=np.int64)


@njit(cache=True)
def new_state(P):
    """Fresh timing/bank state: (nxt, open_row, hits, faw, faw_i, ref_ready, open_cnt,
    last_chg, stby, cnt)."""
    ranks = P[P_RANKS]
    nb = ranks * P[P_BG] * P[P_BPG]
    nxt = np.zeros((nb, NCMD), dtype=np.int64)  # indexed by command code
    open_row = np.full(nb, -1, dtype=np.int64)
    hits = np.zeros(nb, dtype=np.int64)
    faw = np.full((ranks, 4), NEG, dtype=np.int64)
    faw_i = np.zeros(ranks, dtype=np.int64)
    ref_ready = np.zeros(ranks, dtype=np.int64)
    open_cnt = np.zeros(ranks, dtype=np.int64)
    last_chg = np.zeros(ranks, dtype=np.int64)
    stby = np.zeros((ranks, 2), dtype=np.int64)  # [precharged cycles, active cycles]
    cnt = np.zeros(NCOUNT, dtype=np.int64)
    return nxt, open_row, hits, faw, faw_i, ref_ready, open_cnt, last_chg, stby, cnt


@njit(cache=True)
def ready_at(c, b, P, nxt, faw, faw_i):
    """Earliest cycle at which bank-level command ``c`` (ACT/PRE/RD/WR) may go to bank ``b``."""
    t = nxt[b, c]
    if c == ACT:
        r = b // (P[P_BG] * P[P_BPG])
        f = faw[r, faw_i[r]] + P[P_tFAW]
        if f > t:
            t = f
    return t


@njit(cache=True)
def prea_ready_at(r, P, nxt, open_row):
    """Earliest cycle at which every open bank of rank ``r`` may be precharged."""
    nbr = P[P_BG] * P[P_BPG]
    t = np.int64(0)
    for b in range(r * nbr, (r + 1) * nbr):
        if open_row[b] >= 0 and nxt[b, PRE] > t:
            t = nxt[b, PRE]
    return t


@njit(cache=True)
def _mx(a, i, j, v):
    if a[i, j] < v:
        a[i, j] = v


@njit(cache=True)
def close_standby(r, now, open_cnt, last_chg, stby):
    """A bank of rank ``r`` closes at ``now``; the rank turns precharged with its last one."""
    open_cnt[r] -= 1
    if open_cnt[r] == 0:
        stby[r, 1] += now - last_chg[r]
        last_chg[r] = now


@njit(cache=True)
def issue(c, b, r, now, row, P, nxt, open_row, hits, faw, faw_i, ref_ready, open_cnt,
          last_chg, stby, cnt):
    """Apply command ``c`` at cycle ``now`` to the timing state (``b`` unused for REF/PREA)."""
    nbr = P[P_BG] * P[P_BPG]
    bpg = P[P_BPG]
    WL = P[P_WL]
    BU = P[P_BURST]
    if c == ACT:
        g = (b % nbr) // bpg
        _mx(nxt, b, RD, now + P[P_tRCD])
        _mx(nxt, b, WR, now + P[P_tRCD])
        _mx(nxt, b, PRE, now + P[P_tRAS])
        _mx(nxt, b, ACT, now + P[P_tRC])
        t_l = now + P[P_tRRD_L]
        t_s = now + P[P_tRRD_S]
        bb = r * nbr
        for gg in range(P[P_BG]):
            t = t_l if gg == g else t_s
            for _ in range(bpg):
                if bb != b and nxt[bb, ACT] < t:
                    nxt[bb, ACT] = t
                bb += 1
        faw[r, faw_i[r]] = now
        faw_i[r] = (faw_i[r] + 1) % 4
        open_row[b] = row
        hits[b] = 0
        if ref_ready[r] < now + P[P_tRC]:
            ref_ready[r] = now + P[P_tRC]
        if open_cnt[r] == 0:
            stby[r, 0] += now - last_chg[r]
            last_chg[r] = now
        open_cnt[r] += 1
        cnt[K_ACT] += 1
    elif c == PRE:
        _mx(nxt, b, ACT, now + P[P_tRP])
        _mx(nxt, b, REFSB, now + P[P_tRP])
        if P[P_tPPD]:
            for bb in range(r * nbr, (r + 1) * nbr):
                if bb != b:
                    _mx(nxt, bb, PRE, now + P[P_tPPD])
        if ref_ready[r] < now + P[P_tRP]:
            ref_ready[r] = now + P[P_tRP]
        open_row[b] = -1
        close_standby(r, now, open_cnt, last_chg, stby)
        cnt[K_PRE] += 1
    elif (c == RD) | (c == WR) | (c == RDA) | (c == WRA):
        rd = (c == RD) | (c == RDA)
        g = (b % nbr) // bpg
        # (same-kind, other-kind) earliest cycles: same bank group, other group, other rank
        if rd:
            same, other = RD, WR
            s_l = now + P[P_tCCD_L]
            s_s = now + P[P_tCCD_S]
            o_l = o_s = now + P[P_RDWR]
            s_r = now + P[P_RDRD_R]
            o_r = now + P[P_RDWR_R]
        else:
            same, other = WR, RD
            s_l = now + P[P_tCCD_L_WR]
            s_s = now + P[P_tCCD_S]
            o_l = now + WL + BU + P[P_tWTR_L]
            o_s = now + WL + BU + P[P_tWTR_S]
            s_r = now + P[P_WRWR_R]
            o_r = now + P[P_WRRD_R]
        bb = 0
        for rr in range(P[P_RANKS]):
            for gg in range(P[P_BG]):
                if rr != r:
                    ts, to = s_r, o_r
                elif gg == g:
                    ts, to = s_l, o_l
                else:
                    ts, to = s_s, o_s
                for _ in range(bpg):
                    if nxt[bb, same] < ts:
                        nxt[bb, same] = ts
                    if nxt[bb, other] < to:
                        nxt[bb, other] = to
                    bb += 1
        if rd:
            _mx(nxt, b, PRE, now + P[P_AL] + P[P_tRTP])
            cnt[K_RD] += 1
        else:
            _mx(nxt, b, PRE, now + WL + BU + P[P_tWR])
            cnt[K_WR] += 1
        if hits[b] > 0:
            cnt[K_HIT] += 1
        hits[b] += 1
        if (c == RDA) | (c == WRA):  # auto-precharge: the bank closes
            done = nxt[b, PRE] + P[P_tRP]
            _mx(nxt, b, ACT, done)
            _mx(nxt, b, REFSB, done)
            if c == RDA:
                _mx(nxt, b, ACT, now + P[P_AL] + BU + P[P_tRTP] + P[P_tRP])
            if ref_ready[r] < done:
                ref_ready[r] = done
            open_row[b] = -1
            hits[b] = 0
            close_standby(r, now, open_cnt, last_chg, stby)
    elif c == PREA:
        for bb in range(r * nbr, (r + 1) * nbr):
            if open_row[bb] >= 0:
                open_row[bb] = -1
                close_standby(r, now, open_cnt, last_chg, stby)
                cnt[K_PREA_BANKS] += 1
            _mx(nxt, bb, ACT, now + P[P_tRP])
            _mx(nxt, bb, REFSB, now + P[P_tRP])
        if ref_ready[r] < now + P[P_tRP]:
            ref_ready[r] = now + P[P_tRP]
        cnt[K_PREA] += 1
    elif c == REF:
        for bb in range(r * nbr, (r + 1) * nbr):
            _mx(nxt, bb, ACT, now + P[P_tRFC])
            _mx(nxt, bb, REFSB, now + P[P_tRFC])
        ref_ready[r] = now + P[P_tRFC]
        cnt[K_REF] += 1
    elif c == REFSB:  # bank index b % BPG in every bank group of rank r
        for g in range(P[P_BG]):
            bb = r * nbr + g * bpg + b % bpg
            _mx(nxt, bb, ACT, now + P[P_tRFCsb])
            _mx(nxt, bb, REFSB, now + P[P_tRFCsb])
        if ref_ready[r] < now + P[P_tRFCsb]:
            ref_ready[r] = now + P[P_tRFCsb]
        cnt[K_REFSB] += 1


@njit(cache=True)
def log_cmd(lg, nlog, now, c, b, r, row, col, req, P):
    """Append one command to the log (growing it when full); returns the log array."""
    if nlog >= lg.shape[0]:
        new = np.empty((lg.shape[0] * 2 + 64, lg.shape[1]), dtype=np.int64)
        new[:nlog] = lg[:nlog]
        lg = new
    nbr = P[P_BG] * P[P_BPG]
    lg[nlog, 0] = now
    lg[nlog, 1] = c
    lg[nlog, 2] = r
    if (c == REF) | (c == PREA):
        lg[nlog, 3] = -1
        lg[nlog, 4] = -1
    elif c == REFSB:  # bank index b % BPG in every bank group
        lg[nlog, 3] = -1
        lg[nlog, 4] = b % P[P_BPG]
    else:
        lg[nlog, 3] = (b % nbr) // P[P_BPG]
        lg[nlog, 4] = b % P[P_BPG]
    lg[nlog, 5] = row
    lg[nlog, 6] = col
    lg[nlog, 7] = req
    return lg


@njit(cache=True)
def finish_standby(end, open_cnt, last_chg, stby):
    """Close the standby accounting at cycle ``end``."""
    for r in range(open_cnt.size):
        if end > last_chg[r]:
            if open_cnt[r] > 0:
                stby[r, 1] += end - last_chg[r]
            else:
                stby[r, 0] += end - last_chg[r]
            last_chg[r] = end
