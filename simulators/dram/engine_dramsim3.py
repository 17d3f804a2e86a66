"""Event-driven engine of the ``dramsim3_like`` controller (numba-compiled, resumable).

Behaviour, as DRAMsim3's controller (Li et al., IEEE CAL 2020; source files
``controller.cc``, ``command_queue.cc``, ``channel_state.cc``, ``refresh.cc`` at commit
29817593), with its options (:class:`simulators.dram.controller.Dramsim3Like`):

- the front end offers requests in trace order, at most one per cycle; a read is accepted
  when the read (transaction) queue has room, a write when the write buffer has room (one
  queue for both with ``unified_queue``), else the trace stalls (stall time is not latency);
- pending addresses, as DRAMsim3's ``pending_rd_q_`` / ``pending_wr_q_``: a write to an
  address whose earlier write has not been issued yet merges with it, and a read of such an
  address is answered from the write buffer, both done one cycle after acceptance; a read of
  an address another queued read is waiting for joins it and is answered by its RD; a write
  does not leave the write buffer while a read of its address is pending (the drain stops),
  nor overtake an older read of its address in a command queue. Where that read is still in
  the read queue DRAMsim3 deadlocks (the drain restarts every cycle and no read moves); here
  the read queue moves in that cycle instead;
- each cycle, after the command issue, at most one transaction moves to its command queue
  (one per bank with ``PER_BANK``, one per rank with ``PER_RANK``): the first one, in queue
  order, whose command queue has room;
- writes drain (as many as the buffer held when the drain starts) when the buffer is full or
  holds more than ``write_drain_threshold`` and every command queue is empty; at the end of
  the trace the last writes are drained too, so every request completes;
- one command per cycle: queues are visited round-robin from the one after the last issuer;
  in a queue the first entry whose next command (ACT / RD|WR / PRE) meets its timing wins,
  FR-FCFS style; a PRE for a row conflict is allowed only for the first entry of its bank in
  the queue and only when no queued request of that bank hits the open row or the row already
  served ``row_hit_cap`` accesses; a write waits for an older read of the same address in its
  queue; with ``CLOSE_PAGE`` reads and writes carry an auto-precharge (RDA / WRA);
- refresh: all-bank REF every tREFI / ranks cycles, rank after rank
  (``RANK_LEVEL_STAGGERED``), or every rank each tREFI (``RANK_LEVEL_SIMULTANEOUS``), or a
  same-bank REFSB (``BANK_LEVEL_STAGGERED``) every tREFIsb, bank index after bank index, rank
  after rank. A waiting refresh blocks the queues of the banks it refreshes, precharges its
  open banks one PRE per cycle, then issues;
- ``aggressive_precharging_enabled``: in a cycle with no other command, the first open bank
  (rank, bank, bank group order) whose PRE is legal and whose queue holds no request for its
  open row is precharged;
- a request accepted at cycle a can have its first command at a + 1; read latency = RD issue
  + RL + burst - a.

Fast path: each bank keeps, per command type, the position in its queue of the first entry
that needs that command (``cpos``), rebuilt only when the queue or the bank's open row
changes; a cycle then costs four timing look-ups per bank instead of a scan of every queued
entry. Time jumps straight to the next cycle at which an arrival, a refresh or a command can
happen.

Resumable: requests live in a window of the trace (ids ``base .. base + len(window)``); the
engine returns when it needs a request beyond the window (``final`` false) or when every
request is done, and continues from its state on the next call, so a trace of any length
runs in bounded memory with results identical to a single call.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simulators.dram.commands import ACT, PRE, RD, RDA, REF, REFSB, WR, WRA
from simulators.dram.timing import (
    INF,
    LOG_COLS,
    P_BG,
    P_BPG,
    P_BURST,
    P_RANKS,
    P_RL,
    P_WL,
    P_tFAW,
    P_tPPD,
    P_tREFI,
    P_tREFIsb,
    finish_standby,
    issue,
    log_cmd,
    new_state,
)

# option codes (see controller.Dramsim3Like)
OPEN_PAGE, CLOSE_PAGE = 0, 1
PER_BANK, PER_RANK = 0, 1
RANK_LEVEL_STAGGERED, RANK_LEVEL_SIMULTANEOUS, BANK_LEVEL_STAGGERED = 0, 1, 2
# option vector
(O_PAGE, O_QUEUE, O_CQ, O_TQ, O_UNIFIED, O_WB, O_REFPOL, O_REFRESH, O_AGGR, O_HITCAP,
 O_DRAIN) = range(11)
# scalar state
(S_NOW, S_NXT, S_FIN, S_RQN, S_WBN, S_CQTOT, S_DRAIN, S_RR, S_REFDUE, S_REFNEXT, S_REFQH,
 S_REFQN, S_END, S_NLOG, S_INREF) = range(15)
NSCALAR = 15
STATE_LOG = 7  # position of the command log in the state tuple
REFQ_CAP = 256
STALL = 10**8  # cycles without a finished request before the engine gives up (livelock)


@njit(cache=True)
def new_engine(P, O, record):
    """Fresh engine state for device vector ``P`` and option vector ``O``."""
    ranks = P[P_RANKS]
    nbr = P[P_BG] * P[P_BPG]
    nb = ranks * nbr
    nq = ranks if O[O_QUEUE] == PER_RANK else nb
    tim = new_state(P)
    S = np.zeros(NSCALAR, dtype=np.int64)
    S[S_RR] = nq - 1
    if O[O_REFRESH]:
        # DRAMsim3's controller clock runs one cycle ahead of the trace's (a request offered
        # at trace cycle c is added at controller cycle c + 1); its refresh falls due when
        # the controller clock reaches a multiple of the interval
        if O[O_REFPOL] == RANK_LEVEL_SIMULTANEOUS:
            S[S_REFDUE] = P[P_tREFI] - 1
        elif O[O_REFPOL] == BANK_LEVEL_STAGGERED:
            S[S_REFDUE] = P[P_tREFIsb] // ranks - 1
        else:
            S[S_REFDUE] = P[P_tREFI] // ranks - 1
    else:
        S[S_REFDUE] = INF
    rq = np.empty(O[O_TQ], dtype=np.int64)
    wb = np.empty(O[O_WB], dtype=np.int64)
    cq = np.empty((nq, O[O_CQ]), dtype=np.int64)
    cq_n = np.zeros(nq, dtype=np.int64)
    cpos = np.full((nb, 4), -1, dtype=np.int64)
    refq = np.zeros(REFQ_CAP, dtype=np.int64)  # pending refreshes: rank * nbr + bank | -1 - rank
    lg = np.empty((1024 if record else 1, LOG_COLS), dtype=np.int64)
    # pending addresses: reads (value: last request of the chain that waits for one RD) and
    # writes (value: the write); at most every queue slot holds a distinct one
    cap = 1
    while cap < 4 * (O[O_TQ] + O[O_WB] + nq * O[O_CQ]):
        cap *= 2
    rkeys = np.zeros(cap, dtype=np.uint64)
    rvals = np.zeros(cap, dtype=np.int64)
    rused = np.zeros(cap, dtype=np.bool_)
    wkeys = np.zeros(cap, dtype=np.uint64)
    wvals = np.zeros(cap, dtype=np.int64)
    wused = np.zeros(cap, dtype=np.bool_)
    return (S, rq, wb, cq, cq_n, cpos, refq, lg, rkeys, rvals, rused, wkeys, wvals,
            wused) + tim


@njit(cache=True)
def _rebuild(q, cq, cq_n, cpos, open_row, hits, isw, fb, row, col, base, per_rank, nbr,
             hit_cap, first, hitpend, dirty):
    """Recompute ``cpos`` of the banks served by command queue ``q``."""
    dirty[q] = True
    b0 = q * nbr if per_rank else q
    b1 = b0 + nbr if per_rank else q + 1
    for b in range(b0, b1):
        cpos[b, 0] = -1
        cpos[b, 1] = -1
        cpos[b, 2] = -1
        cpos[b, 3] = -1
        first[b] = -2  # no entry of the bank seen yet
        hitpend[b] = False
    for e in range(cq_n[q]):
        i = cq[q, e] - base
        b = fb[i]
        orow = open_row[b]
        is_first = first[b] == -2
        if is_first:
            first[b] = -1
        if orow < 0:
            if cpos[b, ACT] < 0:
                cpos[b, ACT] = e
        elif row[i] == orow:
            hitpend[b] = True
            if isw[i]:
                if cpos[b, WR] < 0:
                    dep = False  # an older read of the same address must go first
                    for e2 in range(e):
                        j = cq[q, e2] - base
                        if (not isw[j]) and fb[j] == b and row[j] == row[i] and col[j] == col[i]:
                            dep = True
                            break
                    if not dep:
                        cpos[b, WR] = e
            elif cpos[b, RD] < 0:
                cpos[b, RD] = e
        elif is_first:
            first[b] = e  # a conflict at the bank's first entry: PRE candidate
    for b in range(b0, b1):
        if first[b] >= 0 and ((not hitpend[b]) or hits[b] >= hit_cap):
            cpos[b, PRE] = first[b]


@njit(cache=True)
def _slot(keys, used, a):
    """Slot of address ``a`` in an open-addressing table (linear probing), or of the empty
    slot where it would go."""
    m = keys.size - 1
    h = (a * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(40)
    k = np.int64(h) & m
    while used[k] and keys[k] != a:
        k = (k + 1) & m
    return k


@njit(cache=True)
def _remove(keys, vals, used, k):
    """Delete slot ``k`` and shift the probe chain back (no tombstones)."""
    m = keys.size - 1
    used[k] = False
    j = k
    while True:
        j = (j + 1) & m
        if not used[j]:
            return
        h = np.int64((keys[j] * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(40)) & m
        # move j into the hole at k unless its home lies cyclically in (k, j]
        if (k < j and (h <= k or h > j)) or (k > j and h <= k and h > j):
            keys[k] = keys[j]
            vals[k] = vals[j]
            used[k] = True
            used[j] = False
            k = j


@njit(cache=True)
def _queue_ready(b0, b1, r, cpos, nxt, fawt):
    """Earliest cycle at which a command of a queue serving banks ``b0 .. b1 - 1`` of rank
    ``r`` can issue (INF when the queue needs none)."""
    t = INF
    for b in range(b0, b1):
        if cpos[b, ACT] >= 0:
            a = nxt[b, ACT]
            if fawt > a:
                a = fawt
            if a < t:
                t = a
        for c in range(PRE, WR + 1):
            if cpos[b, c] >= 0 and nxt[b, c] < t:
                t = nxt[b, c]
    return t


@njit(cache=True)
def _dirty_rank(dirty, r, per_rank, nbr):
    if per_rank:
        dirty[r] = True
    else:
        dirty[r * nbr:(r + 1) * nbr] = True


@njit(cache=True)
def _precharge(b, r, now, P, nxt, open_row, hits, faw, faw_i, ref_ready, open_cnt, last_chg,
               stby, cnt, dirty, per_rank, nbr, lg, nlog, record):
    """Issue a PRE to bank ``b`` (logged with the row it closes); returns (log, entries)."""
    orow = open_row[b]
    issue(PRE, b, r, now, -1, P, nxt, open_row, hits, faw, faw_i, ref_ready, open_cnt,
          last_chg, stby, cnt)
    if P[P_tPPD]:  # tPPD reaches the other banks of the rank
        _dirty_rank(dirty, r, per_rank, nbr)
    if record:
        lg = log_cmd(lg, nlog, now, PRE, b, r, orow, -1, -1, P)
        nlog += 1
    return lg, nlog


@njit(cache=True)
def _refresh_banks(key, P):
    """First bank and step of the banks a pending refresh covers."""
    nbr = P[P_BG] * P[P_BPG]
    if key < 0:  # all-bank REF of rank -1 - key
        return (-1 - key) * nbr, 1, nbr
    return key, P[P_BPG], P[P_BG]  # same-bank REFSB: bank index in every bank group


@njit(cache=True)
def run(S, rq, wb, cq, cq_n, cpos, refq, lg, rkeys, rvals, rused, wkeys, wvals, wused, nxt,
        open_row, hits, faw, faw_i, ref_ready, open_cnt, last_chg, stby, cnt, P, O, arr, isw,
        addr, fb, row, col, accept, done, link, base, final, record):
    """Advance the engine over the window ``[base, base + arr.size)`` of the trace.

    Returns the (possibly reallocated) command log; state arrays are updated in place,
    ``accept`` and ``done`` receive each request's acceptance and data-done cycles and
    ``link`` the request whose command serves a merged one (-1: served by its own).
    """
    n_known = base + arr.size
    ranks = P[P_RANKS]
    nbr = P[P_BG] * P[P_BPG]
    bpg = P[P_BPG]
    nb = ranks * nbr
    per_rank = O[O_QUEUE] == PER_RANK
    nq = ranks if per_rank else nb
    close_page = O[O_PAGE] == CLOSE_PAGE
    cq_cap = O[O_CQ]
    tq_cap = O[O_TQ]
    wb_cap = O[O_WB]
    unified = O[O_UNIFIED] != 0
    refpol = O[O_REFPOL]
    aggressive = O[O_AGGR] != 0
    hit_cap = O[O_HITCAP]
    drain_thr = O[O_DRAIN]
    rd_delay = P[P_RL] + P[P_BURST]
    wr_delay = P[P_WL] + P[P_BURST]
    tFAW = P[P_tFAW]
    if refpol == RANK_LEVEL_SIMULTANEOUS:
        interval = P[P_tREFI]
    elif refpol == BANK_LEVEL_STAGGERED:
        interval = P[P_tREFIsb] // ranks
    else:
        interval = P[P_tREFI] // ranks
    first = np.empty(nb, dtype=np.int64)
    hitpend = np.empty(nb, dtype=np.bool_)
    blocked = np.zeros(nq, dtype=np.bool_)
    dirty = np.ones(nq, dtype=np.bool_)  # qt[q] must be recomputed
    qt = np.empty(nq, dtype=np.int64)  # earliest command of each queue

    now = S[S_NOW]
    nxt_req = S[S_NXT]
    finished = S[S_FIN]
    rq_n = S[S_RQN]
    wb_n = S[S_WBN]
    cq_tot = S[S_CQTOT]
    draining = S[S_DRAIN]
    rr = S[S_RR]
    ref_due = S[S_REFDUE]
    ref_next = S[S_REFNEXT]
    ref_qh = S[S_REFQH]
    ref_qn = S[S_REFQN]
    end = S[S_END]
    nlog = S[S_NLOG]
    in_ref = S[S_INREF]  # the head refresh has blocked its queues
    last_fin = finished
    progress = now
    if in_ref:
        b0, step, cnt_b = _refresh_banks(refq[ref_qh], P)
        for k in range(cnt_b):
            bb = b0 + k * step
            blocked[bb // nbr if per_rank else bb] = True
    while True:
        if final:
            if finished >= n_known:
                break
        elif nxt_req >= n_known:
            break  # the next request is beyond the window: the caller loads more
        changed = False
        # 1. the front end offers the next request
        if nxt_req < n_known and arr[nxt_req - base] <= now:
            i = nxt_req
            w = isw[i - base]
            room = rq_n < tq_cap if unified or not w else wb_n < wb_cap
            if room:
                accept[i - base] = now
                nxt_req += 1
                changed = True
                a = addr[i - base]
                kw = _slot(wkeys, wused, a)
                if wused[kw]:  # merges with, or is answered from, the pending write
                    link[i - base] = wvals[kw]
                    done[i - base] = now + 1
                    finished += 1
                    if now + 1 > end:
                        end = now + 1
                elif w:
                    wkeys[kw] = a
                    wvals[kw] = i
                    wused[kw] = True
                    if unified:
                        rq[rq_n] = i
                        rq_n += 1
                    else:
                        wb[wb_n] = i
                        wb_n += 1
                else:
                    kr = _slot(rkeys, rused, a)
                    if rused[kr]:  # waits for the same RD as the pending read
                        link[i - base] = rvals[kr]
                        rvals[kr] = i
                    else:
                        rkeys[kr] = a
                        rvals[kr] = i
                        rused[kr] = True
                        rq[rq_n] = i
                        rq_n += 1
        # 2. refresh becomes due
        while now >= ref_due:
            if ref_qn + ranks > REFQ_CAP:
                raise RuntimeError("DRAM engine: refresh backlog overflow")
            if refpol == RANK_LEVEL_SIMULTANEOUS:
                for r in range(ranks):
                    refq[(ref_qh + ref_qn) % REFQ_CAP] = -1 - r
                    ref_qn += 1
            elif refpol == BANK_LEVEL_STAGGERED:
                # bank index k of rank r, in every bank group: ref_next = r * bpg + k
                r = ref_next // bpg
                refq[(ref_qh + ref_qn) % REFQ_CAP] = r * nbr + ref_next % bpg
                ref_qn += 1
                ref_next = (ref_next + 1) % (ranks * bpg)
            else:
                refq[(ref_qh + ref_qn) % REFQ_CAP] = -1 - ref_next
                ref_qn += 1
                ref_next = (ref_next + 1) % ranks
            ref_due += interval
        # 3. one command: the head refresh first
        issued = False
        tmin = INF
        if ref_qn > 0:
            key = refq[ref_qh]
            b0, step, cnt_b = _refresh_banks(key, P)
            r = b0 // nbr
            if not in_ref:
                in_ref = 1
                for k in range(cnt_b):
                    bb = b0 + k * step
                    blocked[bb // nbr if per_rank else bb] = True
            all_closed = True
            for k in range(cnt_b):
                bb = b0 + k * step
                if open_row[bb] >= 0:
                    all_closed = False
                    t = nxt[bb, PRE]
                    if t <= now:
                        lg, nlog = _precharge(bb, r, now, P, nxt, open_row, hits, faw,
                                              faw_i, ref_ready, open_cnt, last_chg, stby,
                                              cnt, dirty, per_rank, nbr, lg, nlog, record)
                        q = bb // nbr if per_rank else bb
                        _rebuild(q, cq, cq_n, cpos, open_row, hits, isw, fb, row, col, base,
                                 per_rank, nbr, hit_cap, first, hitpend, dirty)
                        issued = True
                        break
                    if t < tmin:
                        tmin = t
            if all_closed:
                c = REF if key < 0 else REFSB
                t = ref_ready[r]
                if key >= 0:  # every bank it refreshes must be ready for it
                    t = 0
                    for k in range(cnt_b):
                        if nxt[b0 + k * step, REFSB] > t:
                            t = nxt[b0 + k * step, REFSB]
                if t <= now:
                    issue(c, b0, r, now, -1, P, nxt, open_row, hits, faw, faw_i, ref_ready,
                          open_cnt, last_chg, stby, cnt)
                    if record:
                        lg = log_cmd(lg, nlog, now, c, b0, r, -1, -1, -1, P)
                        nlog += 1
                    for k in range(cnt_b):
                        bb = b0 + k * step
                        blocked[bb // nbr if per_rank else bb] = False
                    _dirty_rank(dirty, r, per_rank, nbr)
                    in_ref = 0
                    ref_qh = (ref_qh + 1) % REFQ_CAP
                    ref_qn -= 1
                    issued = True
                elif t < tmin:
                    tmin = t
        if not issued:
            for k in range(nq):
                q = rr + 1 + k
                if q >= nq:
                    q -= nq
                if cq_n[q] == 0 or blocked[q]:
                    continue
                b0 = q * nbr if per_rank else q
                b1 = b0 + nbr if per_rank else q + 1
                if dirty[q]:
                    r = q if per_rank else q // nbr
                    qt[q] = _queue_ready(b0, b1, r, cpos, nxt, faw[r, faw_i[r]] + tFAW)
                    dirty[q] = False
                t = qt[q]
                if t > now:
                    if t < tmin:
                        tmin = t
                    continue
                best_e = INF
                best_b = -1
                best_c = -1
                for b in range(b0, b1):
                    for c in range(4):
                        e = cpos[b, c]
                        if e < 0 or e >= best_e:
                            continue
                        t = nxt[b, c]
                        if c == ACT:
                            r = b // nbr
                            f = faw[r, faw_i[r]] + tFAW
                            if f > t:
                                t = f
                        if t <= now:
                            best_e = e
                            best_b = b
                            best_c = c
                b = best_b
                c = best_c
                r = b // nbr
                i = cq[q, best_e]
                orow = open_row[b]
                if c >= RD:
                    c = (RDA if c == RD else WRA) if close_page else c
                    issue(c, b, r, now, orow, P, nxt, open_row, hits, faw, faw_i, ref_ready,
                          open_cnt, last_chg, stby, cnt)
                    if record:
                        lg = log_cmd(lg, nlog, now, c, b, r, orow, col[i - base], i, P)
                        nlog += 1
                    d = now + (wr_delay if isw[i - base] else rd_delay)
                    done[i - base] = d
                    if d > end:
                        end = d
                    finished += 1
                    a = addr[i - base]
                    if isw[i - base]:
                        _remove(wkeys, wvals, wused, _slot(wkeys, wused, a))
                    else:  # every read of the address waiting for this RD is answered
                        kr = _slot(rkeys, rused, a)
                        j = rvals[kr]
                        while j != i:
                            nx = link[j - base]
                            done[j - base] = d
                            finished += 1
                            link[j - base] = i
                            j = nx
                        _remove(rkeys, rvals, rused, kr)
                    m = cq_n[q]
                    for e2 in range(best_e, m - 1):
                        cq[q, e2] = cq[q, e2 + 1]
                    cq_n[q] = m - 1
                    cq_tot -= 1
                    dirty[:] = True
                elif c == ACT:
                    rw = row[i - base]
                    issue(ACT, b, r, now, rw, P, nxt, open_row, hits, faw, faw_i, ref_ready,
                          open_cnt, last_chg, stby, cnt)
                    if record:
                        lg = log_cmd(lg, nlog, now, ACT, b, r, rw, -1, -1, P)
                        nlog += 1
                    _dirty_rank(dirty, r, per_rank, nbr)
                else:
                    lg, nlog = _precharge(b, r, now, P, nxt, open_row, hits, faw, faw_i,
                                          ref_ready, open_cnt, last_chg, stby, cnt, dirty,
                                          per_rank, nbr, lg, nlog, record)
                _rebuild(q, cq, cq_n, cpos, open_row, hits, isw, fb, row, col, base, per_rank,
                         nbr, hit_cap, first, hitpend, dirty)
                issued = True
                rr = q
                break
        if aggressive and not issued:
            for r in range(ranks):
                for k in range(bpg):
                    for g in range(P[P_BG]):
                        b = r * nbr + g * bpg + k
                        orow = open_row[b]
                        if orow < 0:
                            continue
                        q = r if per_rank else b
                        pending = False
                        for e in range(cq_n[q]):
                            j = cq[q, e] - base
                            if fb[j] == b and row[j] == orow:
                                pending = True
                                break
                        if pending:
                            continue
                        t = nxt[b, PRE]
                        if t > now:
                            if t < tmin:
                                tmin = t
                            continue
                        lg, nlog = _precharge(b, r, now, P, nxt, open_row, hits, faw,
                                              faw_i, ref_ready, open_cnt, last_chg, stby,
                                              cnt, dirty, per_rank, nbr, lg, nlog, record)
                        _rebuild(q, cq, cq_n, cpos, open_row, hits, isw, fb, row, col, base,
                                 per_rank, nbr, hit_cap, first, hitpend, dirty)
                        issued = True
                        break
                    if issued:
                        break
                if issued:
                    break
        # 4. one transaction moves to its command queue
        if not unified and draining == 0 and wb_n > 0 and (
                wb_n >= wb_cap or (wb_n > drain_thr and cq_tot == 0)
                or (final and nxt_req == n_known and rq_n == 0 and cq_tot == 0)):
            draining = wb_n
        from_wb = draining > 0
        for _attempt in range(2):
            stuck = False  # the drain waits for a read still in the read queue
            for e in range(wb_n if from_wb else rq_n):
                i = wb[e] if from_wb else rq[e]
                b = fb[i - base]
                q = b // nbr if per_rank else b
                if cq_n[q] < cq_cap:
                    if from_wb and rused[_slot(rkeys, rused, addr[i - base])]:
                        draining = 0  # a read of this address is pending: the drain stops
                        for e3 in range(rq_n):
                            stuck = stuck or addr[rq[e3] - base] == addr[i - base]
                        break
                    cq[q, cq_n[q]] = i
                    cq_n[q] += 1
                    cq_tot += 1
                    if from_wb:
                        for e2 in range(e, wb_n - 1):
                            wb[e2] = wb[e2 + 1]
                        wb_n -= 1
                        draining -= 1
                    else:
                        for e2 in range(e, rq_n - 1):
                            rq[e2] = rq[e2 + 1]
                        rq_n -= 1
                    _rebuild(q, cq, cq_n, cpos, open_row, hits, isw, fb, row, col, base,
                             per_rank, nbr, hit_cap, first, hitpend, dirty)
                    changed = True
                    break
            # DRAMsim3 would now move nothing, and as the drain restarts next cycle the
            # read never leaves its queue (DRAMsim3 deadlocks): the read queue moves instead
            if not stuck:
                break
            from_wb = False
        # 5. next cycle at which anything can happen
        if issued or changed:
            now += 1
            continue
        t = tmin
        if ref_due < t:
            t = ref_due
        if nxt_req < n_known:
            room = rq_n < tq_cap if unified or not isw[nxt_req - base] else wb_n < wb_cap
            if room and arr[nxt_req - base] < t:
                t = arr[nxt_req - base]
        elif not final:
            t = now + 1  # the next arrival is not loaded yet
        if t >= INF:
            raise RuntimeError("DRAM engine deadlock: no event can happen")
        if finished > last_fin:
            last_fin = finished
            progress = now
        elif now - progress > STALL:
            raise RuntimeError("DRAM engine livelock: no request finished for 10**8 cycles")
        now = t if t > now else now + 1
    S[S_NOW] = now
    S[S_NXT] = nxt_req
    S[S_FIN] = finished
    S[S_RQN] = rq_n
    S[S_WBN] = wb_n
    S[S_CQTOT] = cq_tot
    S[S_DRAIN] = draining
    S[S_RR] = rr
    S[S_REFDUE] = ref_due
    S[S_REFNEXT] = ref_next
    S[S_REFQH] = ref_qh
    S[S_REFQN] = ref_qn
    S[S_END] = end
    S[S_NLOG] = nlog
    S[S_INREF] = in_ref
    if final:
        finish_standby(end, open_cnt, last_chg, stby)
    return lg
