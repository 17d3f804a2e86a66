"""Event-driven engine of the DRAMSys-style configurable controller (numba-compiled).

Structure follows DRAMSys (Steiner et al., "DRAMSys4.0", SAMOS 2020 / IJPP 2022): an arbiter
in front of the controller, a scheduler holding requests in per-bank lists (the scheduler
*buffer* kind only decides how room is counted), one bank machine per bank that turns the
request the scheduler picks into ACT / PRE / RD / WR according to the page policy, a command
multiplexer that puts the oldest ready command on the bus (one per cycle), a refresh manager
per rank, and a response queue. Policies arrive as the integer codes defined in
``simulators.dram.controller``; their meaning is documented on ``ControllerConfig``.

Model decisions:

- a request is *accepted* when it enters the arbiter, which requires fewer than
  MaxActiveTransactions requests accepted and not yet responded to; otherwise the trace
  stalls (stall time is not latency). Latency runs from acceptance to the response's return;
- the arbiter forwards accepted requests in order into the scheduler buffer when it has room
  (Simple: all that fit, in the same cycle; Fifo/Reorder: one per cycle);
- auto-precharge of Closed / adaptive policies is an explicit PRE issued by the bank machine
  as soon as it is legal, before the bank serves anything else;
- Fifo scheduling issues RD/WR strictly in request order (ACT/PRE of a bank head may be
  prepared early), so responses never overtake;
- a read's data is done at RD + RL + burst, a write's at WR + WL + burst; an in-order response
  path (RespQueue Fifo or Arbiter Reorder) releases a response only after all earlier ones.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simulators.dram.commands import ACT, PRE, PREA, RD, REF, WR
from simulators.dram.timing import (
    INF,
    LOG_COLS,
    P_BG,
    P_BPG,
    P_BURST,
    P_RANKS,
    P_RL,
    P_WL,
    P_tREFI,
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
def _has_hit(bq, q, m, row, orow):
    for e in range(m):  # noqa: SIM110 - numba has no generator expressions
        if row[bq[q, e]] == orow:
            return True
    return False


@njit(cache=True)
def run_dramsys(arr, isw, fb, row, col, P, page, sched, buf, bufsize, resp_code, refresh,
                max_post, max_pull, arb, max_active, record):
    """Simulate; returns (accept, done, resp, counters, standby, log, nlog, end)."""
    n = arr.size
    ranks = P[P_RANKS]
    nbr = P[P_BG] * P[P_BPG]
    nb = ranks * nbr
    rd_delay = P[P_RL] + P[P_BURST]
    wr_delay = P[P_WL] + P[P_BURST]
    tREFI = P[P_tREFI]
    nxt, open_row, hits, faw, faw_i, ref_ready, open_cnt, last_chg, stby, cnt = new_state(P)

    bcap = 2 * bufsize if buf == BUF_READWRITE else bufsize
    bq = np.empty((nb, bcap), dtype=np.int64)
    bq_n = np.zeros(nb, dtype=np.int64)
    tot = 0
    nrd = 0
    nwr = 0
    rank_pend = np.zeros(ranks, dtype=np.int64)
    accept = np.full(n, -1, dtype=np.int64)
    fwd_t = np.full(n, -1, dtype=np.int64)
    done = np.full(n, -1, dtype=np.int64)
    resp = np.full(n, -1, dtype=np.int64)
    slot_t = np.full(max_active, -1, dtype=np.int64)  # -1 free, else response cycle (INF unknown)
    slot_of = np.zeros(n, dtype=np.int64)
    served = np.zeros(n, dtype=np.bool_)
    pend_pre = np.zeros(nb, dtype=np.bool_)
    pre_age = np.zeros(nb, dtype=np.int64)
    lg = np.empty((3 * n + 64 if record else 1, LOG_COLS), dtype=np.int64)
    nlog = 0
    in_order = resp_code == RESP_FIFO or arb == ARB_REORDER

    due = np.empty(ranks, dtype=np.int64)
    for r in range(ranks):
        due[r] = (r + 1) * tREFI // ranks if refresh else INF
    debt = np.zeros(ranks, dtype=np.int64)
    pulled = np.zeros(ranks, dtype=np.int64)
    in_ref = np.zeros(ranks, dtype=np.bool_)
    pulling = np.zeros(ranks, dtype=np.bool_)
    chain = np.zeros(ranks, dtype=np.bool_)

    adm = 0
    fwd = 0
    last_fwd = np.int64(-1)
    serve_ptr = 0
    resp_ptr = 0
    last_resp = np.int64(0)
    nresp = 0
    last_dir = False
    now = np.int64(0)
    end = np.int64(0)
    while nresp < n:
        # 1. acceptance into the arbiter (bounded by MaxActiveTransactions)
        while adm < n and arr[adm] <= now:
            s = -1
            for k in range(max_active):
                if slot_t[k] <= now:  # free (-1) or already responded
                    s = k
                    break
            if s < 0:
                break
            slot_t[s] = INF
            slot_of[adm] = s
            accept[adm] = now
            adm += 1
        # 2. the arbiter forwards requests into the scheduler buffer
        while fwd < adm:
            if arb != ARB_SIMPLE and last_fwd >= now:
                break
            i = fwd
            q = fb[i]
            if buf == BUF_BANKWISE:
                room = bq_n[q] < bufsize
            elif buf == BUF_READWRITE:
                room = (nwr if isw[i] else nrd) < bufsize
            else:
                room = tot < bufsize
            if not room:
                break
            bq[q, bq_n[q]] = i
            bq_n[q] += 1
            tot += 1
            if isw[i]:
                nwr += 1
            else:
                nrd += 1
            rank_pend[q // nbr] += 1
            fwd_t[i] = now
            fwd += 1
            last_fwd = now
        # 3. refresh bookkeeping (DRAMSys flexible all-bank refresh)
        if refresh:
            for r in range(ranks):
                while now >= due[r]:
                    due[r] += tREFI
                    if pulled[r] > 0:
                        pulled[r] -= 1
                    else:
                        debt[r] += 1
                idle = rank_pend[r] == 0
                if not idle:
                    chain[r] = False
                if not in_ref[r]:
                    if debt[r] > 0 and (idle or debt[r] > max_post):
                        in_ref[r] = True
                        pulling[r] = False
                    elif chain[r] and idle and debt[r] == 0 and pulled[r] < max_pull:
                        in_ref[r] = True
                        pulling[r] = True
        # 4. one command: refresh first, then the oldest ready bank-machine command
        issued = False
        tmin = INF
        if refresh:
            for r in range(ranks):
                if not in_ref[r]:
                    continue
                if open_cnt[r] > 0:
                    t = prea_ready_at(r, P, nxt, open_row)
                    c = PREA
                else:
                    t = ref_ready[r]
                    c = REF
                if t > now:
                    if t < tmin:
                        tmin = t
                    continue
                issue(c, 0, r, now, -1, P, nxt, open_row, hits, faw, faw_i, ref_ready,
                      open_cnt, last_chg, stby, cnt)
                if record:
                    lg = log_cmd(lg, nlog, now, c, 0, r, -1, -1, -1, P)
                    nlog += 1
                if c == REF:
                    in_ref[r] = False
                    chain[r] = True
                    if pulling[r]:
                        pulled[r] += 1
                    else:
                        debt[r] -= 1
                issued = True
                break
        if not issued:
            best_q = -1
            best_age = INF
            best_c = 0
            best_i = -1
            for q in range(nb):
                if in_ref[q // nbr]:
                    continue
                orow = open_row[q]
                if pend_pre[q] and orow < 0:
                    pend_pre[q] = False  # closed meanwhile by a refresh PREA
                if pend_pre[q]:
                    c = PRE
                    i = -1
                    age = pre_age[q]
                    t = ready_at(PRE, q, P, nxt, faw, faw_i)
                else:
                    m = bq_n[q]
                    if m == 0:
                        continue
                    e = 0
                    if sched != SCHED_FIFO and orow >= 0:
                        he = -1
                        if sched == SCHED_FRFCFS_GRP:
                            for e2 in range(m):
                                j = bq[q, e2]
                                if row[j] == orow and isw[j] == last_dir:
                                    he = e2
                                    break
                        if he < 0:
                            for e2 in range(m):
                                if row[bq[q, e2]] == orow:
                                    he = e2
                                    break
                        if he >= 0:
                            e = he
                    i = bq[q, e]
                    if orow < 0:
                        c = ACT
                    elif orow == row[i]:
                        c = WR if isw[i] else RD
                        if sched == SCHED_FIFO and i != serve_ptr:
                            continue  # waits for older requests' column commands
                    else:
                        c = PRE
                    age = i
                    t = ready_at(c, q, P, nxt, faw, faw_i)
                    if fwd_t[i] > t:
                        t = fwd_t[i]
                if t > now:
                    if t < tmin:
                        tmin = t
                    continue
                if age < best_age:
                    best_age = age
                    best_q = q
                    best_c = c
                    best_i = i
            if best_q >= 0:
                q = best_q
                c = best_c
                i = best_i
                r = q // nbr
                orow = open_row[q]
                rw = row[i] if c != PRE else orow
                issue(c, q, r, now, rw, P, nxt, open_row, hits, faw, faw_i, ref_ready,
                      open_cnt, last_chg, stby, cnt)
                if record:
                    lg = log_cmd(lg, nlog, now, c, q, r, rw, col[i] if c >= RD else -1,
                                 i if c >= RD else -1, P)
                    nlog += 1
                issued = True
                if c == PRE:
                    pend_pre[q] = False
                elif (c == RD) | (c == WR):
                    m = bq_n[q]
                    for e in range(m):
                        if bq[q, e] == i:
                            for e2 in range(e, m - 1):
                                bq[q, e2] = bq[q, e2 + 1]
                            break
                    bq_n[q] -= 1
                    m -= 1
                    tot -= 1
                    if isw[i]:
                        nwr -= 1
                    else:
                        nrd -= 1
                    rank_pend[r] -= 1
                    last_dir = isw[i]
                    done[i] = now + (wr_delay if c == WR else rd_delay)
                    served[i] = True
                    while serve_ptr < n and served[serve_ptr]:
                        serve_ptr += 1
                    # page policy: decide on (explicit) precharge after this access
                    if page == PAGE_CLOSED:
                        pend_pre[q] = True
                    elif page == PAGE_CLOSED_ADAPTIVE:
                        pend_pre[q] = not _has_hit(bq, q, m, row, orow)
                    elif page == PAGE_OPEN_ADAPTIVE:
                        pend_pre[q] = m > 0 and not _has_hit(bq, q, m, row, orow)
                    pre_age[q] = i
                    # responses
                    if in_order:
                        while resp_ptr < n and done[resp_ptr] >= 0:
                            t = done[resp_ptr]
                            if t < last_resp:
                                t = last_resp
                            resp[resp_ptr] = t
                            last_resp = t
                            slot_t[slot_of[resp_ptr]] = t
                            if t > end:
                                end = t
                            resp_ptr += 1
                            nresp += 1
                    else:
                        resp[i] = done[i]
                        slot_t[slot_of[i]] = done[i]
                        if done[i] > end:
                            end = done[i]
                        nresp += 1
        # 5. next cycle at which anything can happen
        if issued:
            now += 1
            continue
        t = tmin
        if refresh:
            for r in range(ranks):
                if due[r] < t:
                    t = due[r]
        if adm < n:
            free_at = INF
            for k in range(max_active):
                v = slot_t[k]
                if v <= now:
                    free_at = now
                    break
                if v < free_at:
                    free_at = v
            a = arr[adm] if arr[adm] > free_at else free_at
            if a < t:
                t = a
        if fwd < adm and arb != ARB_SIMPLE and last_fwd >= now:
            t = now + 1 if now + 1 < t else t
        if t >= INF:
            raise RuntimeError("DRAM engine deadlock: no event can happen")
        now = t if t > now else now + 1
    finish_standby(end, open_cnt, last_chg, stby)
    return accept, done, resp, cnt, stby, lg, nlog, end
