"""Event-driven engine of the ``dramsim3_like`` controller (numba-compiled).

Behaviour (as DRAMsim3's default DDR4 controller with per-bank queues; Li et al., IEEE CAL
2020, and ``shared/reference/dram/README.md``):

- the front end offers requests in trace order, at most one per cycle; a read is accepted
  when the read (transaction) queue has room, a write when the write buffer has room, else the
  trace stalls (stall time is not latency);
- each cycle, after the command issue, at most one transaction moves to its bank's command
  queue (the first one, in queue order, whose bank queue has room);
- writes drain (as many as the buffer held when the drain starts) when the buffer is full or
  holds more than ``drain_threshold`` and every command queue is empty; at the end of the trace
  the last writes are drained too, so every request completes;
- one command per cycle: banks are visited round-robin from the one after the last issuer; in
  a bank queue the first entry whose next command (ACT / RD|WR / PRE) meets its timing wins,
  FR-FCFS style; a PRE for a row conflict is allowed only for the queue head and only when no
  queued request hits the open row or the row already served ``hit_cap`` accesses;
- all-bank refresh every tREFI / ranks cycles, rank after rank; a waiting refresh blocks its
  rank's queues, precharges all banks (PREA) and issues REF;
- a request accepted at cycle a can have its first command at a + 1; read latency = RD issue
  + RL + burst - a.

Time jumps straight to the next cycle at which an arrival, a refresh or a command can happen;
cycles in which nothing can change are never visited.
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


@njit(cache=True)
def run_dramsim3(arr, isw, fb, row, col, P, rq_cap, wb_cap, cq_cap, hit_cap, drain_thr,
                 do_refresh, record):
    """Simulate; returns (accept, done, counters, standby, log, nlog, end)."""
    n = arr.size
    ranks = P[P_RANKS]
    nbr = P[P_BG] * P[P_BPG]
    nb = ranks * nbr
    rd_delay = P[P_RL] + P[P_BURST]
    wr_delay = P[P_WL] + P[P_BURST]
    nxt, open_row, hits, faw, faw_i, ref_ready, open_cnt, last_chg, stby, cnt = new_state(P)

    rq = np.empty(rq_cap, dtype=np.int64)
    rq_n = 0
    wb = np.empty(wb_cap, dtype=np.int64)
    wb_n = 0
    cq = np.empty((nb, cq_cap), dtype=np.int64)
    cq_n = np.zeros(nb, dtype=np.int64)
    cq_tot = 0
    accept = np.full(n, -1, dtype=np.int64)
    done = np.full(n, -1, dtype=np.int64)
    lg = np.empty((3 * n + 64 if record else 1, LOG_COLS), dtype=np.int64)
    nlog = 0

    interval = P[P_tREFI] // ranks
    ref_due = interval if do_refresh else INF
    ref_next = 0
    ref_q = np.zeros(ranks, dtype=np.int64)  # FIFO of ranks waiting for refresh
    ref_qh = 0
    ref_qn = 0

    nxt_req = 0
    finished = 0
    draining = 0
    rr = nb - 1  # last bank queue examined by the round robin
    now = np.int64(0)
    end = np.int64(0)
    while finished < n:
        changed = False
        # 1. the front end offers the next request
        if nxt_req < n and arr[nxt_req] <= now:
            i = nxt_req
            if isw[i]:
                if wb_n < wb_cap:
                    wb[wb_n] = i
                    wb_n += 1
                    accept[i] = now
                    nxt_req += 1
                    changed = True
            elif rq_n < rq_cap:
                rq[rq_n] = i
                rq_n += 1
                accept[i] = now
                nxt_req += 1
                changed = True
        # 2. refresh becomes due
        while now >= ref_due:
            ref_q[(ref_qh + ref_qn) % ranks] = ref_next
            ref_qn += 1
            ref_next = (ref_next + 1) % ranks
            ref_due += interval
        # 3. one command
        issued = False
        tmin = INF
        ref_rank = -1
        if ref_qn > 0:
            ref_rank = ref_q[ref_qh]
            if open_cnt[ref_rank] > 0:
                t = prea_ready_at(ref_rank, P, nxt, open_row)
                if t <= now:
                    issue(PREA, 0, ref_rank, now, -1, P, nxt, open_row, hits, faw, faw_i,
                          ref_ready, open_cnt, last_chg, stby, cnt)
                    if record:
                        lg = log_cmd(lg, nlog, now, PREA, 0, ref_rank, -1, -1, -1, P)
                        nlog += 1
                    issued = True
                else:
                    tmin = t
            else:
                t = ref_ready[ref_rank]
                if t <= now:
                    issue(REF, 0, ref_rank, now, -1, P, nxt, open_row, hits, faw, faw_i,
                          ref_ready, open_cnt, last_chg, stby, cnt)
                    if record:
                        lg = log_cmd(lg, nlog, now, REF, 0, ref_rank, -1, -1, -1, P)
                        nlog += 1
                    ref_qh = (ref_qh + 1) % ranks
                    ref_qn -= 1
                    issued = True
                else:
                    tmin = t
        if not issued:
            for k in range(nb):
                q = (rr + 1 + k) % nb
                m = cq_n[q]
                if m == 0 or q // nbr == ref_rank:
                    continue
                orow = open_row[q]
                for e in range(m):
                    i = cq[q, e]
                    if orow < 0:
                        c = ACT
                    elif orow == row[i]:
                        c = WR if isw[i] else RD
                    else:
                        c = PRE
                        if e != 0:
                            continue
                        if hits[q] < hit_cap:
                            pend = False
                            for e2 in range(e + 1, m):
                                if row[cq[q, e2]] == orow:
                                    pend = True
                                    break
                            if pend:
                                continue
                    t = ready_at(c, q, P, nxt, faw, faw_i)
                    if t > now:
                        if t < tmin:
                            tmin = t
                        continue
                    r = q // nbr
                    issue(c, q, r, now, row[i], P, nxt, open_row, hits, faw, faw_i,
                          ref_ready, open_cnt, last_chg, stby, cnt)
                    if record:
                        lg = log_cmd(lg, nlog, now, c, q, r, row[i] if c != PRE else orow,
                                     col[i] if c >= RD else -1, i if c >= RD else -1, P)
                        nlog += 1
                    if (c == RD) | (c == WR):
                        done[i] = now + (wr_delay if c == WR else rd_delay)
                        if done[i] > end:
                            end = done[i]
                        finished += 1
                        for e2 in range(e, m - 1):
                            cq[q, e2] = cq[q, e2 + 1]
                        cq_n[q] -= 1
                        cq_tot -= 1
                    issued = True
                    rr = q
                    break
                if issued:
                    break
        # 4. one transaction moves to its command queue
        if draining == 0 and wb_n > 0 and (
                wb_n >= wb_cap or (wb_n > drain_thr and cq_tot == 0)
                or (nxt_req == n and rq_n == 0 and cq_tot == 0)):
            draining = wb_n
        if draining > 0:
            for e in range(wb_n):
                i = wb[e]
                q = fb[i]
                if cq_n[q] < cq_cap:
                    cq[q, cq_n[q]] = i
                    cq_n[q] += 1
                    cq_tot += 1
                    for e2 in range(e, wb_n - 1):
                        wb[e2] = wb[e2 + 1]
                    wb_n -= 1
                    draining -= 1
                    changed = True
                    break
        else:
            for e in range(rq_n):
                i = rq[e]
                q = fb[i]
                if cq_n[q] < cq_cap:
                    cq[q, cq_n[q]] = i
                    cq_n[q] += 1
                    cq_tot += 1
                    for e2 in range(e, rq_n - 1):
                        rq[e2] = rq[e2 + 1]
                    rq_n -= 1
                    changed = True
                    break
        # 5. next cycle at which anything can happen
        if issued or changed:
            now += 1
            continue
        t = tmin
        if ref_due < t:
            t = ref_due
        if nxt_req < n:
            room = wb_n < wb_cap if isw[nxt_req] else rq_n < rq_cap
            if room and arr[nxt_req] < t:
                t = arr[nxt_req]
        if t >= INF:
            raise RuntimeError("DRAM engine deadlock: no event can happen")
        now = t if t > now else now + 1
    finish_standby(end, open_cnt, last_chg, stby)
    return accept, done, cnt, stby, lg, nlog, end
