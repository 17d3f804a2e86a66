"""Event-driven engine of the DRAMSys-style configurable controller (numba-compiled, resumable).

It follows DRAMSys v5.1 (Steiner et al., "DRAMSys4.0", SAMOS 2020 / IJPP 2022; source
``src/libdramsys/DRAMSys/{controller,simulation}``) for one trace player on one channel:

- **Front end.** The trace player sends one request at a time: request *i* is offered at
  ``max(arrival_i, END_REQ of i-1)``. ``Simple`` arbiter: it reaches the controller at once.
  ``Fifo`` / ``Reorder`` arbiter: it is accepted while fewer than MaxActiveTransactions are
  outstanding (a slot frees one cycle after the player received a response) and reaches the
  controller one cycle after the previous request's END_REQ. The controller takes a request
  one cycle after it arrived (DRAMSys's ThinkDelayFw) when the scheduler buffer has room
  (``Bankwise``: room in the bank of the *previously stored* request, DRAMSys's buffer
  counter; ``ReadWrite``: room in both the read and the write buffer; ``Shared``: in total),
  else right after a RD/WR frees room, with END_REQ one cycle later.
- **Scheduler and bank machines.** Per-bank request lists in arrival order. ``Fifo`` serves
  each bank's oldest request; ``FrFcfs`` the first row hit, else the oldest; ``FrFcfsGrp``
  prefers a hit of the same direction as the last RD/WR (skipping one that would overtake an
  earlier hit to the same address). A bank machine issues ACT, PRE on a row miss, RD / WR
  on a hit, and RDA / WRA (auto-precharge) where the page policy says so (``Closed``:
  always; ``ClosedAdaptive``: unless another queued request hits the row; ``OpenAdaptive``:
  when other requests for the bank are queued and none hits the row; for ``Fifo`` "queued
  hit" means the next request in the bank's FIFO).
- **Command multiplexer** (DRAMSys ``Oldest``): one command per cycle; refresh first, then
  the ready command of the oldest request.
- **Refresh** (all-bank, ranks staggered in bit-reversed order, rank 0 at tREFI): DRAMSys's
  flexible refresh. At a due refresh, a rank with queued requests postpones it (up to
  RefreshMaxPostponed; the next one is then forced: its banks stop, PREA, REF). An idle rank
  refreshes, then keeps refreshing while idle to repay postponed ones and to pull in up to
  RefreshMaxPulledin in advance; a pulled-in credit is spent when a later due refresh finds
  the rank busy.
- **Responses.** Data is done at RD + RL + BL/2 or WR + WL + BL/2. ``RespQueue Fifo`` returns
  responses in RD/WR issue order, ``Reorder`` in request order. With the ``Simple`` arbiter
  the controller sends one response per cycle (it waits for END_RESP); with ``Fifo`` /
  ``Reorder`` it sends any number per cycle and the arbiter passes one every two cycles to
  the player (``Reorder``: in request order).

Where DRAMSys departs from JEDEC JESD79-4 this engine follows JEDEC: an auto-precharge
starts no earlier than ACT + tRAS (the device's tRAS lock-out; DRAMSys lets the next ACT
follow RDA / WRA after tRTP + tRP or WL + BL/2 + tWR + tRP alone). Timing is ``timing.py``'s.

Returned times: ``present`` (the request reaches the controller: DRAMSys's REQ phase),
``resp`` (the controller's BEGIN_RESP) and ``recv`` (the player receives the response; the
last one ends the simulation, DRAMSys's "Total Time").

Speed: each bank keeps the request its bank machine would serve next, that request's
command and the cycle the command may issue, recomputed only when the bank's list, its open
row or (``FrFcfsGrp``) the preferred direction changes, or when a command moves the timing
(RD/WR: every bank; ACT, REF, PREA: the rank; PRE: the bank), so a cycle costs a look-up
per bank instead of a scan of every buffered request.

Resumable, like ``engine_dramsim3``: requests live in a window of the trace (ids ``base ..
base + len(window)``; the state holds trace-global ids). Without ``final`` the engine returns
at the start of the first cycle that could look at a request beyond the window (the arbiter
may accept one request per free transaction slot, the controller takes at most one a cycle,
and the time jump looks at the next one's arrival), and continues from its state on the next
call, so a trace of any length runs in bounded memory with results identical to one call.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simulators.dram.commands import ACT, PRE, PREA, RD, RDA, REF, WR, WRA
from simulators.dram.timing import (
    INF,
    K_PRE,
    LOG_COLS,
    P_BG,
    P_BPG,
    P_BURST,
    P_RANKS,
    P_RL,
    P_WL,
    P_tPPD,
    P_tREFI,
    P_tRP,
    close_standby,
    finish_standby,
    issue,
    log_cmd,
    new_state,
    prea_ready_at,
    ready_at,
)

# policy codes (kept in the order of controller.KNOBS value tuples)
PAGE_OPEN, PAGE_OPEN_ADAPTIVE, PAGE_CLOSED, PAGE_CLOSED_ADAPTIVE = range(4)
SCHED_FIFO, SCHED_FRFCFS_GRP, SCHED_FRFCFS = range(3)
BUF_BANKWISE, BUF_READWRITE, BUF_SHARED = range(3)
RESP_FIFO, RESP_REORDER = range(2)
ARB_SIMPLE, ARB_FIFO, ARB_REORDER = range(3)


@njit(cache=True)
def _pick(bq, q, m, row, col, isw, orow, sched, last_dir):
    """Position in bank ``q``'s list of the request its bank machine serves next."""
    if sched == SCHED_FIFO or orow < 0:
        return 0
    if sched == SCHED_FRFCFS_GRP:
        for e in range(m):
            j = bq[q, e]
            if row[j] == orow and isw[j] == last_dir:
                hazard = False
                for e2 in range(e):
                    j2 = bq[q, e2]
                    if row[j2] == orow and col[j2] == col[j]:
                        hazard = True
                        break
                if not hazard:
                    return e
    for e in range(m):
        if row[bq[q, e]] == orow:
            return e
    return 0


OCC_TOTAL, OCC_READS, OCC_WRITES, OCC_LAST_BANK = range(4)


@njit(cache=True)
def _take(i, buf, bufsize, fb, isw, bq, bq_n, occ, rank_pend, nbr):
    """The controller takes request ``i`` into the scheduler buffer if DRAMSys's buffer
    counter has room (``Bankwise`` looks at the last stored request's bank); returns whether
    it did."""
    if buf == BUF_BANKWISE:
        room = bq_n[occ[OCC_LAST_BANK]] < bufsize
    elif buf == BUF_READWRITE:
        room = occ[OCC_READS] < bufsize and occ[OCC_WRITES] < bufsize
    else:
        room = occ[OCC_TOTAL] < bufsize
    if not room:
        return False
    q = fb[i]
    bq[q, bq_n[q]] = i
    bq_n[q] += 1
    occ[OCC_TOTAL] += 1
    occ[OCC_WRITES if isw[i] else OCC_READS] += 1
    occ[OCC_LAST_BANK] = q
    rank_pend[q // nbr] += 1
    return True


@njit(cache=True)
def _auto_precharge(page, sched, bq, q, m, row, orow):
    """Whether the page policy closes the row with this RD/WR (``m`` requests left)."""
    if page == PAGE_OPEN:
        return False
    if page == PAGE_CLOSED:
        return True
    hit = False
    if sched == SCHED_FIFO:
        hit = m > 0 and row[bq[q, 0]] == orow
    else:
        for e in range(m):
            if row[bq[q, e]] == orow:
                hit = True
                break
    if page == PAGE_CLOSED_ADAPTIVE:
        return not hit
    return m > 0 and not hit  # OpenAdaptive


@njit(cache=True)
def _deliver(i, y, recv, slot_t, slot_of, queued_arb, end):
    """The player receives response ``i`` at ``y``; its transaction slot frees at ``y + 1``.
    Returns the new end of the simulation."""
    recv[i] = y
    if queued_arb:
        slot_t[slot_of[i]] = y + 1
    return y if y > end else end


@njit(cache=True)
def _flush_closes(r, t, nbr, close_at, open_cnt, last_chg, stby):
    """Apply, in time order, the internal precharges of rank ``r`` due by cycle ``t``."""
    while True:
        b = -1
        tb = INF
        for k in range(r * nbr, (r + 1) * nbr):
            if 0 <= close_at[k] <= t and close_at[k] < tb:
                tb = close_at[k]
                b = k
        if b < 0:
            return
        close_at[b] = -1
        close_standby(r, tb, open_cnt, last_chg, stby)


# option vector (ControllerConfig.codes(): the knobs in the order of controller.KNOBS)
(O_PAGE, O_SCHED, O_BUF, O_BUFSIZE, O_RESP, O_REFRESH, O_POST, O_PULL, O_ARB,
 O_ACTIVE) = range(10)
# scalar state; request ids in it (and in the scheduler buffer) are trace-global
(S_NOW, S_END, S_ADM, S_NACQ, S_ELAST, S_NSERVED, S_PA, S_PB, S_LASTR, S_LASTY, S_LASTDIR,
 S_NLOG) = range(12)
NSCALAR = 12
STATE_LOG = 1  # position of the command log in the state tuple


@njit(cache=True)
def new_engine(P, O, record):
    """Fresh engine state for device vector ``P`` and option vector ``O``: (scalars, command
    log, scheduler buffer, per-bank caches, arbiter slots, refresh managers) + timing state."""
    ranks = P[P_RANKS]
    nb = ranks * P[P_BG] * P[P_BPG]
    tREFI = P[P_tREFI]
    bufsize = O[O_BUFSIZE]
    S = np.zeros(NSCALAR, dtype=np.int64)
    S[S_ELAST] = -1  # END_REQ of the last request taken (-1: none yet)
    S[S_LASTR] = -(np.int64(1) << np.int64(40))
    S[S_LASTY] = -(np.int64(1) << np.int64(40))
    lg = np.empty((1024 if record else 1, LOG_COLS), dtype=np.int64)
    # scheduler buffer (Bankwise can exceed its depth by one: DRAMSys checks the last bank)
    bcap = 2 * bufsize if O[O_BUF] == BUF_READWRITE else bufsize + 1
    bq = np.empty((nb, bcap), dtype=np.int64)
    bq_n = np.zeros(nb, dtype=np.int64)
    # each bank's next request and command, kept until its list, row or direction changes
    pk_e = np.zeros(nb, dtype=np.int64)
    pk_c = np.zeros(nb, dtype=np.int64)
    pk_ok = np.zeros(nb, dtype=np.bool_)
    pk_t = np.zeros(nb, dtype=np.int64)  # ... and the cycle its command may issue
    tk_ok = np.zeros(nb, dtype=np.bool_)
    occ = np.zeros(4, dtype=np.int64)  # buffer occupancy: total, reads, writes, last bank
    rank_pend = np.zeros(ranks, dtype=np.int64)
    slots = O[O_ACTIVE] if O[O_ARB] != ARB_SIMPLE else 1
    slot_t = np.full(slots, -1, dtype=np.int64)  # -1 free, else free from (INF: unknown)
    # refresh managers: due time, flexibility counter, pulled-in state, forced (banks blocked)
    due = np.full(ranks, INF, dtype=np.int64)
    if O[O_REFRESH]:
        rbits = 0
        while (1 << rbits) < ranks:
            rbits += 1
        for r in range(ranks):
            rev = 0
            for k in range(rbits):
                if (r >> k) & 1:
                    rev |= 1 << (rbits - 1 - k)
            due[r] = (tREFI * ranks - rev * tREFI + ranks - 1) // ranks
    flex = np.zeros(ranks, dtype=np.int64)
    pulled_in = np.zeros(ranks, dtype=np.bool_)
    blocked = np.zeros(ranks, dtype=np.bool_)
    close_at = np.full(nb, -1, dtype=np.int64)  # pending internal precharge (standby only)
    return (S, lg, bq, bq_n, pk_e, pk_c, pk_ok, pk_t, tk_ok, occ, rank_pend, slot_t, due, flex,
            pulled_in, blocked, close_at) + new_state(P)


@njit(cache=True)
def run(S, lg, bq, bq_n, pk_e, pk_c, pk_ok, pk_t, tk_ok, occ, rank_pend, slot_t, due, flex,
        pulled_in, blocked, close_at, nxt, open_row, hits, faw, faw_i, ref_ready, open_cnt,
        last_chg, stby, cnt, P, O, arr, isw, fb, row, col, present, x_acc, strobe, resp, recv,
        slot_of, base, final, record):
    """Advance the engine over the window ``[base, base + arr.size)`` of the trace.

    Returns the (possibly reallocated) command log; state arrays are updated in place and
    each request's ``present`` (REQ at the controller), ``x_acc`` (acceptance by a Fifo /
    Reorder arbiter), ``strobe`` (data done), ``resp`` (BEGIN_RESP), ``recv`` (the player has
    the response) and ``slot_of`` (its arbiter slot) are written into the window. Without
    ``final`` the engine stops at the start of the first cycle that could look at a request
    beyond the window, so the next call resumes exactly where one pass would be.
    """
    n = arr.size
    n_all = base + n
    page = O[O_PAGE]
    sched = O[O_SCHED]
    buf = O[O_BUF]
    bufsize = O[O_BUFSIZE]
    resp_code = O[O_RESP]
    max_post = O[O_POST]
    max_pull = O[O_PULL]
    arb = O[O_ARB]
    ranks = P[P_RANKS]
    nbr = P[P_BG] * P[P_BPG]
    nb = ranks * nbr
    rd_delay = P[P_RL] + P[P_BURST]
    wr_delay = P[P_WL] + P[P_BURST]
    tREFI = P[P_tREFI]
    tRP = P[P_tRP]
    queued_arb = arb != ARB_SIMPLE
    slots = slot_t.size
    want = np.zeros(ranks, dtype=np.bool_)

    # request ids in the window from here on (back to trace-global ones on return)
    for q in range(nb):
        for e in range(bq_n[q]):
            bq[q, e] -= base
    now = S[S_NOW]
    end = S[S_END]
    adm = S[S_ADM] - base  # requests accepted by the arbiter (Fifo/Reorder)
    nacq = S[S_NACQ] - base  # requests taken by the controller (in order)
    e_last = S[S_ELAST]  # END_REQ of the last request taken (-1: none yet)
    nserved = S[S_NSERVED]  # (trace-global count)
    pa = S[S_PA] - base  # response pointers (request order): RespQueue / Arbiter Reorder
    pb = S[S_PB] - base
    last_r = S[S_LASTR]
    last_y = S[S_LASTY]
    last_dir = S[S_LASTDIR] != 0
    nlog = S[S_NLOG]
    a_delta = 0 if queued_arb else 1
    while True:
        if final:
            if nserved >= n_all and now >= end:
                break
        # a cycle looks at requests up to the last one the arbiter could accept (Fifo /
        # Reorder: one per free slot, and the next one's arrival) or, with Simple, at the
        # one the controller takes (at most one a cycle) and the next one's arrival
        elif (adm + slots if queued_arb else nacq + 1) >= n:
            break
        # 1. the arbiter accepts requests (Fifo/Reorder: while a transaction slot is free)
        if queued_arb:
            while adm < n and arr[adm] <= now:
                s = -1
                for k in range(slots):
                    if slot_t[k] <= now:
                        s = k
                        break
                if s < 0:
                    break
                slot_t[s] = INF
                slot_of[adm] = s
                x_acc[adm] = now
                adm += 1
        # 2. the request at the controller's door and its acquisition (start of cycle)
        if nacq < n and present[nacq] < 0:
            if queued_arb:
                if nacq < adm:
                    present[nacq] = max(x_acc[nacq], e_last + 1)
            else:
                present[nacq] = max(arr[nacq], e_last)
        if nacq < n and 0 <= present[nacq] < now and \
                _take(nacq, buf, bufsize, fb, isw, bq, bq_n, occ, rank_pend, nbr):
            pk_ok[fb[nacq]] = False
            e_last = now
            nacq += 1
        # 3. refresh managers (DRAMSys RefreshManagerAllBank)
        for r in range(ranks):
            want[r] = False
            if now < due[r]:
                continue
            if now >= due[r] + tREFI:
                due[r] += tREFI
                pulled_in[r] = False
            busy = rank_pend[r] > 0
            if not pulled_in[r]:
                if flex[r] == max_post:
                    blocked[r] = True
                    want[r] = True
                elif busy:
                    flex[r] += 1
                    due[r] += tREFI
                else:
                    want[r] = True
            elif busy:
                pulled_in[r] = False
                due[r] += tREFI
            else:
                want[r] = True
        # 4. one command: refresh first, then the oldest request's ready command
        issued = False
        tmin = INF
        for r in range(ranks):
            if not want[r]:
                continue
            any_open = False
            for b in range(r * nbr, (r + 1) * nbr):
                if open_row[b] >= 0:
                    any_open = True
                    break
            if any_open:
                t = prea_ready_at(r, P, nxt, open_row)
                c = PREA
            else:
                t = ref_ready[r]
                c = REF
            if t > now:
                if t < tmin:
                    tmin = t
                continue
            _flush_closes(r, now, nbr, close_at, open_cnt, last_chg, stby)
            issue(c, 0, r, now, -1, P, nxt, open_row, hits, faw, faw_i, ref_ready,
                  open_cnt, last_chg, stby, cnt)
            pk_ok[r * nbr:(r + 1) * nbr] = False
            tk_ok[:] = False
            if record:
                lg = log_cmd(lg, nlog, now, c, 0, r, -1, -1, -1, P)
                nlog += 1
            if c == REF:
                blocked[r] = False
                if pulled_in[r]:
                    flex[r] -= 1
                else:
                    pulled_in[r] = True
                if flex[r] == -max_pull:
                    pulled_in[r] = False
                    due[r] += tREFI
            issued = True
            break
        if not issued:
            best_q = -1
            best_i = INF
            best_c = 0
            best_e = 0
            for q in range(nb):
                m = bq_n[q]
                if m == 0 or blocked[q // nbr]:
                    continue
                if not pk_ok[q]:
                    orow = open_row[q]
                    e = _pick(bq, q, m, row, col, isw, orow, sched, last_dir)
                    i = bq[q, e]
                    if orow < 0:
                        c = ACT
                    elif orow == row[i]:
                        c = WR if isw[i] else RD
                    else:
                        c = PRE
                    pk_e[q] = e
                    pk_c[q] = c
                    pk_ok[q] = True
                    tk_ok[q] = False
                e = pk_e[q]
                c = pk_c[q]
                i = bq[q, e]
                if not tk_ok[q]:
                    pk_t[q] = ready_at(c, q, P, nxt, faw, faw_i)
                    tk_ok[q] = True
                t = pk_t[q]
                if t > now:
                    if t < tmin:
                        tmin = t
                    continue
                if i < best_i:
                    best_i = i
                    best_q = q
                    best_c = c
                    best_e = e
            if best_q >= 0:
                q = best_q
                c = best_c
                i = best_i
                r = q // nbr
                orow = open_row[q]
                rw = row[i] if c != PRE else orow
                if c not in (RD, WR):
                    _flush_closes(r, now, nbr, close_at, open_cnt, last_chg, stby)
                issue(c, q, r, now, rw, P, nxt, open_row, hits, faw, faw_i, ref_ready,
                      open_cnt, last_chg, stby, cnt)
                pk_ok[q] = False
                if sched == SCHED_FRFCFS_GRP and c in (RD, WR) and isw[i] != last_dir:
                    pk_ok[:] = False  # the preferred direction changes for every bank
                if c == ACT or (c == PRE and P[P_tPPD]):  # tRRD, tFAW, tPPD: the rank
                    tk_ok[r * nbr:(r + 1) * nbr] = False
                elif c != PRE:  # RD/WR: every bank
                    tk_ok[:] = False
                issued = True
                logc = c
                if c in (RD, WR):
                    m = bq_n[q]
                    for e2 in range(best_e, m - 1):
                        bq[q, e2] = bq[q, e2 + 1]
                    bq_n[q] -= 1
                    m -= 1
                    occ[OCC_TOTAL] -= 1
                    occ[OCC_WRITES if isw[i] else OCC_READS] -= 1
                    rank_pend[r] -= 1
                    last_dir = isw[i]
                    nserved += 1
                    if _auto_precharge(page, sched, bq, q, m, row, orow):
                        # internal precharge at max(CAS + tRTP | write recovery, ACT + tRAS)
                        tp = nxt[q, PRE]
                        if nxt[q, ACT] < tp + tRP:
                            nxt[q, ACT] = tp + tRP
                        if ref_ready[r] < tp + tRP:
                            ref_ready[r] = tp + tRP
                        open_row[q] = -1
                        close_at[q] = tp
                        cnt[K_PRE] += 1
                        logc = WRA if c == WR else RDA
                    strobe[i] = now + (wr_delay if c == WR else rd_delay)
                    # controller responses (RespQueue order), then the player's receipt
                    if resp_code == RESP_FIFO:
                        last_r = max(strobe[i], last_r + a_delta)
                        resp[i] = last_r
                        if arb != ARB_REORDER:
                            last_y = max(last_r, last_y + 2) if queued_arb else last_r
                            end = _deliver(i, last_y, recv, slot_t, slot_of, queued_arb, end)
                    else:
                        while pa < n and strobe[pa] >= 0:
                            last_r = max(strobe[pa], last_r + a_delta)
                            resp[pa] = last_r
                            if arb != ARB_REORDER:
                                last_y = max(last_r, last_y + 2) if queued_arb else last_r
                                end = _deliver(pa, last_y, recv, slot_t, slot_of, queued_arb,
                                               end)
                            pa += 1
                    if arb == ARB_REORDER:
                        while pb < n and resp[pb] >= 0:
                            last_y = max(resp[pb], last_y + 2)
                            end = _deliver(pb, last_y, recv, slot_t, slot_of, queued_arb, end)
                            pb += 1
                if record:
                    lg = log_cmd(lg, nlog, now, logc, q, r, rw, col[i] if c >= RD else -1,
                                 i + base if c >= RD else -1, P)
                    nlog += 1
                # a RD/WR freed room: the waiting request is taken now, END_REQ next cycle
                if c in (RD, WR) and nacq < n and 0 <= present[nacq] < now and \
                        _take(nacq, buf, bufsize, fb, isw, bq, bq_n, occ, rank_pend, nbr):
                    pk_ok[fb[nacq]] = False
                    e_last = now + 1
                    nacq += 1
        # 5. next cycle at which anything can happen
        if issued:
            now += 1
            continue
        t = tmin
        for r in range(ranks):
            if now < due[r] < t:
                t = due[r]
        if nacq < n:
            if present[nacq] >= 0:
                if now < present[nacq] + 1 < t:
                    t = present[nacq] + 1
            elif not queued_arb:
                a = max(arr[nacq], e_last) + 1
                if now < a < t:
                    t = a
            elif nacq < adm:
                a = max(x_acc[nacq], e_last + 1) + 1
                if now < a < t:
                    t = a
        if queued_arb and adm < n:
            free_at = INF
            for k in range(slots):
                v = slot_t[k]
                if v <= now:
                    free_at = now
                    break
                if v < free_at:
                    free_at = v
            a = arr[adm] if arr[adm] > free_at else free_at
            if now < a < t:
                t = a
        if nserved == n_all and t >= end:
            break
        if t >= INF:
            raise RuntimeError("DRAM engine deadlock: no event can happen")
        now = t if t > now else now + 1
    S[S_NOW] = now
    S[S_END] = end
    S[S_ADM] = adm + base
    S[S_NACQ] = nacq + base
    S[S_ELAST] = e_last
    S[S_NSERVED] = nserved
    S[S_PA] = pa + base
    S[S_PB] = pb + base
    S[S_LASTR] = last_r
    S[S_LASTY] = last_y
    S[S_LASTDIR] = 1 if last_dir else 0
    S[S_NLOG] = nlog
    for q in range(nb):
        for e in range(bq_n[q]):
            bq[q, e] += base
    if final:
        for b in range(nb):
            if close_at[b] > end:
                close_at[b] = end
        for r in range(ranks):
            _flush_closes(r, end, nbr, close_at, open_cnt, last_chg, stby)
        finish_standby(end, open_cnt, last_chg, stby)
    return lg
