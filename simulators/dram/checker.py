"""Independent JEDEC timing checker: replays a command log and lists every broken rule.

It shares no code with the controller engines, ``timing.py`` or ``mapping.py``: the rules are
re-derived from the DeviceSpec fields and checked as *minimum distances from the last command
of each kind* (per bank, per bank group, per rank, on the data bus), the way a protocol monitor
watches a bus, whereas the engines compute *earliest issue cycles* forward; addresses are
decoded here bit by bit from the mapping string (:func:`decode`). Each channel (its own
command bus) is checked on its own. Rules, in memory-clock cycles (``BL/2`` = burst cycles,
``RL = CL + AL``, ``WL = CWL + AL``):

- command bus: at most one command per cycle;
- same bank: ACT->ACT tRC, ACT->RD/WR tRCD - AL, ACT->PRE tRAS, RD->PRE AL + tRTP,
  WR->PRE WL + BL/2 + tWR, PRE/PREA->ACT tRP; ACT only to a precharged bank; RD/WR only to
  an open bank whose open row is the request's row; a RDA / WRA closes its bank at the cycle
  an explicit PRE would first be legal (tRAS, tRTP, tWR), and the next ACT needs tRP after it;
- same rank, ``_L`` same bank group / ``_S`` another: ACT->ACT tRRD, RD->RD tCCD, WR->WR
  tCCD (same bank group: DDR5's tCCD_L_WR where longer), WR->RD WL + BL/2 + tWTR; at most
  four ACT in any tFAW window; PRE->PRE of another bank tPPD (LPDDR4);
- refresh (per rank): REF only with every bank precharged, PRE/PREA->REF tRP, ACT->REF tRC,
  REF->any command of that rank tRFC; a same-bank REFSB (DDR5 REFsb, bank index k of every
  bank group) only with those banks precharged, and REFSB->ACT/REFSB of those banks tRFCsb;
  optionally the refresh budget of the controller (``controller=``): after ``t`` cycles
  every bank has had at least ``floor((t - slack) / tREFI) - max_postponed`` and at most
  ``floor(t / tREFI) + 1 + max_pulled_in`` refreshes' worth (an all-bank REF counts one, a
  fine-granularity REFsb one half); ``slack`` covers closing the banks and back-to-back REFs;
- data bus: bursts (RD data at RL..RL+BL/2, WR data at WL..WL+BL/2) never overlap, and a
  burst that follows one of the other direction or from another rank starts at least tRTRS
  after it ends (write-to-write between ranks needs no gap: the controller drives both, as in
  DRAMsim3);
- requests (when the trace is given): each is served by exactly one column command of its
  kind to the channel, rank, bank, row and column its address maps to, not before it arrived,
  or (``served_by``) by the command of an earlier request of the same address that was still
  pending when it arrived (a read by a read or a write, a write by a write).

Simplifications: DDR4's write preamble and LPDDR4's extra clocks are folded into the device
figures (see ``device.py``).

Sources: JEDEC JESD79-4 (DDR4) and JESD79-5 (DDR5) sections on command timing, refresh
postponing / pulling in and same-bank refresh.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from simulators.dram.commands import ACT, NAMES, PRE, PREA, RD, RDA, REF, REFSB, WR, WRA
from simulators.dram.device import PRESETS, DeviceSpec

_FAR = -(10**15)


@dataclass(frozen=True)
class Violation:
    """One broken rule: its name (``tRCD``, ``bus``, ``row_closed``...), the cycle, the
    command's position in the log (-1 for a request-level finding) and a readable message."""

    rule: str
    cycle: int
    index: int
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] cycle {self.cycle}: {self.message}"


class TimingViolationError(AssertionError):
    """Raised by :func:`assert_valid` when a command log breaks a rule."""


def refresh_policy(controller) -> tuple[int, int] | bool | None:
    """The tREFI budget a controller promises: (max postponed, max pulled in), False for no
    refresh at all, None when unknown. Accepts the forms ``simulate`` accepts."""
    from simulators.dram.controller import CONTROLLER_PRESETS, ControllerConfig, Dramsim3Like

    if isinstance(controller, str):
        controller = CONTROLLER_PRESETS.get(controller)
    if isinstance(controller, dict):
        controller = ControllerConfig.from_dict(controller)
    if isinstance(controller, Dramsim3Like):
        return (0, 0) if controller.refresh else False
    if isinstance(controller, ControllerConfig):
        if controller.RefreshPolicy == "NoRefresh":
            return False
        return controller.RefreshMaxPostponed, controller.RefreshMaxPulledin
    return None


class _Checker:
    def __init__(self, d: DeviceSpec) -> None:
        self.d = d
        self.out: list[Violation] = []
        self.nbg = d.bankgroups
        self.nbank = d.bankgroups * d.banks_per_group
        nb = d.ranks * self.nbank
        self.open_row = [-1] * nb
        self.last_act = [_FAR] * nb
        self.last_pre = [_FAR] * nb
        self.last_rd = [_FAR] * nb
        self.last_wr = [_FAR] * nb
        nbg = d.ranks * d.bankgroups
        self.bg_act = [_FAR] * nbg
        self.bg_rd = [_FAR] * nbg
        self.bg_wr = [_FAR] * nbg
        self.last_ref = [_FAR] * d.ranks
        self.last_refsb = [_FAR] * nb
        self.rank_pre = [_FAR] * d.ranks
        self.window = [deque(maxlen=4) for _ in range(d.ranks)]

    def bad(self, rule, t, i, msg) -> None:
        self.out.append(Violation(rule, int(t), int(i), msg))

    def gap(self, rule, t, i, since, need, what) -> None:
        if t - since < need:
            self.bad(rule, t, i, f"{what} {t - since} cycles after the last one, needs "
                                 f">= {need} ({rule})")

    def _close(self, k, t, i, what) -> None:
        d = self.d
        self.gap("tRAS", t, i, self.last_act[k], d.tRAS, f"{what} comes")
        self.gap("tRTP", t, i, self.last_rd[k], d.AL + d.tRTP, f"{what} after RD comes")
        self.gap("tWR", t, i, self.last_wr[k], d.CWL + d.AL + d.burst_cycles + d.tWR,
                 f"{what} after WR comes")

    def command(self, i, t, c, r, g, b, row, col) -> None:
        d = self.d
        name = NAMES.get(c, str(c))
        if c in (REF, PREA):
            if not 0 <= r < d.ranks:
                self.bad("address", t, i, f"{name} to rank {r} (device has {d.ranks})")
                return
        elif c == REFSB:
            if not (0 <= r < d.ranks and 0 <= b < d.banks_per_group) or not d.tRFCsb:
                self.bad("address", t, i, f"REFSB to rank {r} bank {b}: the device has "
                                          f"{d.ranks} ranks of {d.banks_per_group} banks per "
                                          f"group and tRFCsb {d.tRFCsb}")
                return
        elif not (0 <= r < d.ranks and 0 <= g < d.bankgroups and 0 <= b < d.banks_per_group):
            self.bad("address", t, i, f"{name} to rank {r} bank group {g} bank {b}: outside "
                                      f"{d.ranks} x {d.bankgroups} x {d.banks_per_group}")
            return
        self.gap("tRFC", t, i, self.last_ref[r], d.tRFC, f"{name} to rank {r} comes")
        base = r * self.nbank
        if c == REF:
            for k in range(base, base + self.nbank):
                if self.open_row[k] >= 0:
                    self.bad("ref_open_bank", t, i, f"REF to rank {r} while bank "
                                                    f"{k - base} has row {self.open_row[k]} open")
            self.gap("tRP", t, i, max(self.last_pre[base:base + self.nbank]), d.tRP,
                     "REF after a precharge comes")
            self.gap("tRC", t, i, max(self.last_act[base:base + self.nbank]), d.tRC,
                     "REF after an ACT comes")
            self.gap("tRFCsb", t, i, max(self.last_refsb[base:base + self.nbank]), d.tRFCsb,
                     "REF after a REFSB comes")
            self.last_ref[r] = t
            return
        if c == REFSB:
            for g2 in range(d.bankgroups):
                k = base + g2 * d.banks_per_group + b
                if self.open_row[k] >= 0:
                    self.bad("ref_open_bank", t, i, f"REFSB to rank {r} bank {b} while bank "
                                                    f"group {g2} has row {self.open_row[k]} "
                                                    "open")
                self.gap("tRP", t, i, self.last_pre[k], d.tRP, "REFSB after a precharge comes")
                self.gap("tRC", t, i, self.last_act[k], d.tRC, "REFSB after an ACT comes")
                self.gap("tRFCsb", t, i, self.last_refsb[k], d.tRFCsb,
                         "REFSB to the same bank comes")
                self.last_refsb[k] = t
            return
        if c == PREA:
            for k in range(base, base + self.nbank):
                if self.open_row[k] >= 0:
                    self._close(k, t, i, f"PREA (bank {k - base} open)")
                self.open_row[k] = -1
                self.last_pre[k] = t
            return
        bank = g * d.banks_per_group + b
        k = base + bank
        gk = r * self.nbg + g
        if c == ACT:
            if self.open_row[k] >= 0:
                self.bad("act_open_bank", t, i, f"ACT row {row} to rank {r} bank {bank} whose "
                                                f"row {self.open_row[k]} is still open")
            if not 0 <= row < d.rows:
                self.bad("address", t, i, f"ACT to row {row} (device has {d.rows} rows)")
            self.gap("tRC", t, i, self.last_act[k], d.tRC, "ACT to the same bank comes")
            self.gap("tRP", t, i, self.last_pre[k], d.tRP, "ACT after a precharge comes")
            self.gap("tRFCsb", t, i, self.last_refsb[k], d.tRFCsb, "ACT after a REFSB comes")
            for g2 in range(self.nbg):
                same = g2 == g
                self.gap("tRRD_L" if same else "tRRD_S", t, i, self.bg_act[r * self.nbg + g2],
                         d.tRRD_L if same else d.tRRD_S,
                         f"ACT after an ACT in {'the same' if same else 'another'} bank group"
                         " comes")
            w = self.window[r]
            if len(w) == 4 and t - w[0] < d.tFAW:
                self.bad("tFAW", t, i, f"fifth ACT to rank {r} within {t - w[0]} cycles of "
                                       f"the first of the four before it, needs >= {d.tFAW}")
            w.append(t)
            self.open_row[k] = row
            self.last_act[k] = t
            self.bg_act[gk] = t
            return
        if c == PRE:
            if d.tPPD:
                self.gap("tPPD", t, i, self.rank_pre[r], d.tPPD, "PRE after a PRE comes")
                self.rank_pre[r] = t
            if self.open_row[k] >= 0:  # PRE to a precharged bank is a legal no-op
                self._close(k, t, i, "PRE")
            self.open_row[k] = -1
            self.last_pre[k] = t
            return
        if c not in (RD, WR, RDA, WRA):
            self.bad("unknown_command", t, i, f"command code {c} is none of {NAMES}")
            return
        read = c in (RD, RDA)
        if self.open_row[k] < 0:
            self.bad("row_closed", t, i, f"{name} to rank {r} bank {bank} row {row}, "
                                         "but the bank is precharged")
        elif self.open_row[k] != row:
            self.bad("row_mismatch", t, i, f"{name} for row {row} to rank {r} bank {bank} "
                                           f"whose open row is {self.open_row[k]}")
        if not 0 <= col < d.columns_per_row:
            self.bad("address", t, i, f"{name} to column {col} (a row has "
                                      f"{d.columns_per_row} bursts)")
        self.gap("tRCD", t, i, self.last_act[k], d.tRCD - d.AL, f"{name} after ACT comes")
        wl_burst = d.CWL + d.AL + d.burst_cycles
        for g2 in range(self.nbg):
            same = g2 == g
            sfx = "_L" if same else "_S"
            j = r * self.nbg + g2
            if read:
                self.gap("tCCD" + sfx, t, i, self.bg_rd[j], d.tCCD_L if same else d.tCCD_S,
                         "RD after RD comes")
                self.gap("tWTR" + sfx, t, i, self.bg_wr[j],
                         wl_burst + (d.tWTR_L if same else d.tWTR_S), "RD after WR comes")
            elif same and d.tCCD_L_WR > d.tCCD_L:
                self.gap("tCCD_L_WR", t, i, self.bg_wr[j], d.tCCD_L_WR, "WR after WR comes")
            else:
                self.gap("tCCD" + sfx, t, i, self.bg_wr[j], d.tCCD_L if same else d.tCCD_S,
                         "WR after WR comes")
        if read:
            self.last_rd[k] = t
            self.bg_rd[gk] = t
        else:
            self.last_wr[k] = t
            self.bg_wr[gk] = t
        if c in (RDA, WRA):  # auto-precharge: the bank closes when a PRE would be legal
            self.last_pre[k] = max(self.last_act[k] + d.tRAS, self.last_rd[k] + d.AL + d.tRTP,
                                   self.last_wr[k] + wl_burst + d.tWR)
            self.open_row[k] = -1


def _data_bus(chk: _Checker, cyc, cmd, rank, order) -> None:
    d = chk.d
    col = np.isin(cmd, (RD, WR, RDA, WRA))
    if col.sum() < 2:
        return
    wr = np.isin(cmd[col], (WR, WRA))
    start = cyc[col] + np.where(wr, d.CWL + d.AL, d.CL + d.AL)
    idx = order[col]
    rk = rank[col]
    o = np.argsort(start, kind="stable")
    start, wr, rk, idx, issue = start[o], wr[o], rk[o], idx[o], cyc[col][o]
    burst = d.burst_cycles
    switch = (wr[1:] != wr[:-1]) | ((rk[1:] != rk[:-1]) & ~(wr[1:] & wr[:-1]))
    need = start[:-1] + burst + np.where(switch, d.tRTRS, 0)
    for j in np.flatnonzero(start[1:] < need).tolist():
        a, b = j, j + 1
        kinds = ("WR" if wr[a] else "RD", "WR" if wr[b] else "RD")
        if start[b] < start[a] + burst:
            rule, why = "data_bus", "overlaps"
        elif rk[a] != rk[b]:
            rule, why = "tRTRS", "needs a rank-switch gap of tRTRS after"
        else:
            rule, why = "turnaround", "needs a read/write turnaround gap of tRTRS after"
        chk.bad(rule, issue[b], idx[b],
                f"{kinds[1]} (rank {rk[b]}) data at cycle {start[b]} {why} the {kinds[0]} "
                f"(rank {rk[a]}, log row {idx[a]}) burst at {start[a]}..{start[a] + burst}")


def _log2(x: int, what: str) -> int:
    if x < 1 or x & (x - 1):
        raise ValueError(f"{what} = {x} is not a power of two")
    return x.bit_length() - 1


def _decode_bits(a: np.ndarray, bits, d: DeviceSpec) -> dict[str, np.ndarray]:
    """A DRAMSys bit-level mapping (field -> entries, least significant first; an entry's
    address bits are XORed), read bit by bit; the beats of a burst drop out of the column."""
    fields = dict(bits)
    nbyte = len(fields.get("BYTE_BIT", ()))
    beat = range(nbyte, nbyte + _log2(d.BL, "burst length"))
    names = {"CHANNEL_BIT": "channel", "RANK_BIT": "rank", "BANKGROUP_BIT": "bankgroup",
             "BANK_BIT": "bank", "ROW_BIT": "row", "COLUMN_BIT": "column"}
    out = {}
    for f, name in names.items():
        entries = [e for e in fields.get(f, ()) if not (f == "COLUMN_BIT" and e[0] in beat)]
        v = np.zeros(a.shape, dtype=np.int64)
        for k, entry in enumerate(entries):
            b = np.zeros(a.shape, dtype=np.uint64)
            for pos in entry:
                b ^= (a >> np.uint64(pos)) & np.uint64(1)
            v |= b.astype(np.int64) << k
        out[name] = v
    return out


def decode(addr, mapping, d: DeviceSpec) -> dict[str, np.ndarray]:
    """The checker's own reading of a DRAMsim3 mapping string (two-letter fields, MSB first)
    or of a DRAMSys bit-level mapping (an object with ``bits``), bit by bit: keys channel,
    rank, bankgroup, bank, row, column (bursts)."""
    if hasattr(mapping, "bits"):
        return _decode_bits(np.asarray(addr, dtype=np.uint64), mapping.bits, d)
    mapping = getattr(mapping, "spec", mapping)
    names = {"ch": "channel", "ra": "rank", "bg": "bankgroup", "ba": "bank", "ro": "row",
             "co": "column"}
    width = {"ch": _log2(d.channels, "channels"), "ra": _log2(d.ranks, "ranks"),
             "bg": _log2(d.bankgroups, "bankgroups"),
             "ba": _log2(d.banks_per_group, "banks_per_group"), "ro": _log2(d.rows, "rows"),
             "co": _log2(d.columns // d.BL, "bursts per row")}
    fields = [mapping[i:i + 2] for i in range(0, len(mapping), 2)]
    if len(mapping) != 12 or sorted(fields) != sorted(names):
        raise ValueError(f"mapping {mapping!r} must list each of {', '.join(names)} once")
    a = np.asarray(addr, dtype=np.uint64)
    bit = _log2(d.bus_width // 8 * d.BL, "bytes per burst")
    out = {}
    for f in reversed(fields):  # least significant field first
        v = np.zeros(a.shape, dtype=np.int64)
        for k in range(width[f]):
            v |= ((a >> np.uint64(bit + k)) & np.uint64(1)).astype(np.int64) << k
        out[names[f]] = v
        bit += width[f]
    return out


def _merged(chk: _Checker, served_by, cyc, cmd, req, trace, counts) -> np.ndarray:
    """Check the (request, serving request) pairs of requests no command of their own
    serves; returns a mask of the requests they cover."""
    n = counts.size
    covered = np.zeros(n, dtype=bool)
    pairs = np.asarray(served_by, dtype=np.int64).reshape(-1, 2)
    a = np.asarray(trace.addr, dtype=np.uint64)
    w = np.asarray(trace.is_write, dtype=bool)
    t = np.asarray(trace.cycle, dtype=np.int64)
    col = np.isin(cmd, (RD, WR, RDA, WRA)) & (req >= 0) & (req < n)
    issued = np.full(n, -1, dtype=np.int64)
    issued[req[col]] = cyc[col]
    for q, p in pairs.tolist():
        if not (0 <= q < n and 0 <= p < n) or q == p:
            chk.bad("request_unknown", -1, -1, f"merged pair ({q}, {p}) names no requests")
            continue
        why = None
        if a[q] != a[p]:
            why = f"its address 0x{int(a[q]):x} is not 0x{int(a[p]):x}"
        elif w[q] and not w[p]:
            why = "a write cannot be served by a read"
        elif counts[q]:
            why = "it also has a command of its own"
        elif issued[p] < 0:
            why = f"request {p} has no command"
        elif issued[p] < t[q]:
            why = f"request {p}'s command at cycle {issued[p]} came before it arrived"
        elif t[p] > t[q]:
            why = f"request {p} arrived after it"
        if why:
            chk.bad("request_merge", -1, -1, f"request {q} merged into request {p}: {why}")
        covered[q] = True
    return covered


def _requests(chk: _Checker, cyc, cmd, chan, rank, bg, bank, row, colm, req, order, trace,
              mapping, served_by) -> None:
    d = chk.d
    n = int(np.asarray(trace.addr).size)
    col = np.isin(cmd, (RD, WR, RDA, WRA))
    rq = req[col]
    idx = order[col]
    t = cyc[col]
    bad_id = (rq < 0) | (rq >= n)
    for j in np.flatnonzero(bad_id).tolist():
        chk.bad("request_unknown", t[j], idx[j], f"column command for request {rq[j]}, but "
                                                 f"the trace has {n} requests")
    ok = ~bad_id
    counts = np.bincount(rq[ok], minlength=n)
    covered = np.zeros(n, dtype=bool)
    if served_by is not None:
        covered = _merged(chk, served_by, cyc, cmd, req, trace, counts)
    for q in np.flatnonzero((counts == 0) & ~covered).tolist():
        chk.bad("request_missing", -1, -1, f"request {q} was never served by a RD/WR")
    for q in np.flatnonzero(counts > 1).tolist():
        chk.bad("request_duplicate", -1, -1, f"request {q} was served {counts[q]} times")
    f = decode(trace.addr, mapping, d)
    is_write = np.asarray(trace.is_write, dtype=bool)
    arrival = np.asarray(trace.cycle, dtype=np.int64)
    q = np.where(ok, rq, 0)
    wrong_kind = ok & (np.isin(cmd[col], (WR, WRA)) != is_write[q])
    for j in np.flatnonzero(wrong_kind).tolist():
        chk.bad("request_kind", t[j], idx[j],
                f"request {rq[j]} is a {'write' if is_write[q[j]] else 'read'} but got "
                f"{NAMES[int(cmd[col][j])]}")
    fields = (("channel", chan), ("rank", rank), ("bankgroup", bg), ("bank", bank),
              ("row", row), ("column", colm))
    for name, got in fields:
        want = f[name][q]
        for j in np.flatnonzero(ok & (got[col] != want)).tolist():
            chk.bad("request_address", t[j], idx[j],
                    f"request {rq[j]} maps to {name} {want[j]} but was served at "
                    f"{name} {got[col][j]}")
    for j in np.flatnonzero(ok & (t < arrival[q])).tolist():
        chk.bad("request_early", t[j], idx[j], f"request {rq[j]} served at cycle {t[j]} "
                                               f"before it arrived at {arrival[q[j]]}")


def _refresh(chk: _Checker, cyc, cmd, rank, bank, order, policy) -> None:
    d = chk.d
    refs = (cmd == REF) | (cmd == REFSB)
    if policy is False:
        for j in np.flatnonzero(refs).tolist():
            chk.bad("refresh_forbidden", cyc[j], order[j],
                    f"{NAMES[int(cmd[j])]} under a no-refresh policy")
        return
    if policy is None or cyc.size == 0:
        return
    post, pull = policy
    slack = 2 * d.tRFC + d.tRC + d.CWL + d.AL + d.burst_cycles + d.tWR + d.tRP
    t_end = int(cyc.max())
    for r in range(d.ranks):
        for k in range(d.banks_per_group):
            # refreshes' worth of bank index k: an all-bank REF counts 2 halves, a REFsb 1
            sel = ((cmd == REF) | ((cmd == REFSB) & (bank == k))) & (rank == r)
            ts = cyc[sel].tolist()
            ids = order[sel].tolist()
            halves = np.cumsum(np.where(cmd[sel] == REF, 2, 1)).tolist()
            for j, t in enumerate(ts):
                got = halves[j] / 2
                if got > t // d.tREFI + 1 + pull:
                    chk.bad("tREFI", t, ids[j], f"rank {r} bank {k} got its refresh #{got:g} "
                                                f"at cycle {t}: more than {pull} pulled in")
                due = (t - 1 - slack) // d.tREFI - post
                before = (halves[j - 1] / 2) if j else 0
                if before < due:
                    chk.bad("tREFI", t, ids[j], f"rank {r} bank {k} had {before:g} refreshes "
                                                f"before cycle {t}: more than {post} postponed")
            due = (t_end - slack) // d.tREFI - post
            total = halves[-1] / 2 if halves else 0
            if total < due:
                chk.bad("tREFI", t_end, -1, f"rank {r} bank {k} had {total:g} refreshes by "
                                            f"cycle {t_end}, fewer than {due} ({post} "
                                            "postponed allowed)")
            if not (d.tRFCsb and (cmd[rank == r] == REFSB).any()):
                break  # all-bank refresh only: one bank index stands for all


def check(commands, trace=None, device: str | DeviceSpec = "DDR4_8Gb_x8_2400",
          mapping: str = "rochrababgco", controller=None,
          served_by=None) -> list[Violation]:
    """Replay a command log (``CMD_DTYPE``) and return every violation found (empty: valid).

    Parameters
    ----------
    commands : structured array as ``simulate(..., record_commands=True).commands``.
    trace : the simulated trace; when given, every request must be served exactly once.
    device, mapping : as passed to ``simulate`` (the mapping as its string).
    controller : as passed to ``simulate``; when given, the refresh policy's budget is
        checked too (see :func:`refresh_policy`).
    served_by : ``result.served_by``: requests served by another request's command (merged
        with a pending request of the same address), each checked for that.
    """
    if not isinstance(device, DeviceSpec) and device not in PRESETS:
        raise ValueError(f"unknown DRAM device {device!r}; presets: {', '.join(PRESETS)}")
    d = device if isinstance(device, DeviceSpec) else PRESETS[device]
    cm = np.asarray(commands)
    chan_all = cm["channel"].astype(np.int64) if "channel" in cm.dtype.names else \
        np.zeros(cm.size, dtype=np.int64)
    out: list[Violation] = []
    fields = {}
    for c in range(d.channels):
        idx = np.flatnonzero(chan_all == c)
        order = idx[np.argsort(cm["cycle"][idx], kind="stable")]
        sub = cm[order]
        cyc = sub["cycle"].astype(np.int64)
        cmd = sub["cmd"].astype(np.int64)
        rank = sub["rank"].astype(np.int64)
        bank = sub["bank"].astype(np.int64)
        chk = _Checker(d)
        for j in np.flatnonzero(np.diff(order) < 0).tolist():
            chk.bad("log_order", cyc[j + 1], order[j + 1], "command logged out of cycle order")
        for j in np.flatnonzero(np.diff(cyc) == 0).tolist():
            chk.bad("bus", cyc[j + 1], order[j + 1], f"two commands in cycle {cyc[j + 1]} "
                                                     f"on channel {c} (one command bus)")
        rows = zip(order.tolist(), cyc.tolist(), cmd.tolist(), rank.tolist(),
                   sub["bankgroup"].astype(np.int64).tolist(), bank.tolist(),
                   sub["row"].astype(np.int64).tolist(), sub["col"].astype(np.int64).tolist(),
                   strict=True)
        for args in rows:
            chk.command(*args)
        _data_bus(chk, cyc, cmd, rank, order)
        if controller is not None:
            _refresh(chk, cyc, cmd, rank, bank, order, refresh_policy(controller))
        out.extend(chk.out)
    bad_chan = np.flatnonzero((chan_all < 0) | (chan_all >= d.channels))
    for j in bad_chan.tolist():
        out.append(Violation("address", int(cm["cycle"][j]), j, f"command on channel "
                                                                f"{chan_all[j]}; the device "
                                                                f"has {d.channels}"))
    if trace is not None:
        order = np.argsort(cm["cycle"], kind="stable")
        chk = _Checker(d)
        fields = {k: cm[k][order].astype(np.int64) for k in
                  ("cycle", "cmd", "rank", "bankgroup", "bank", "row", "col", "req")}
        _requests(chk, fields["cycle"], fields["cmd"], chan_all[order], fields["rank"],
                  fields["bankgroup"], fields["bank"], fields["row"], fields["col"],
                  fields["req"], order, trace, mapping, served_by)
        out.extend(chk.out)
    return out


def assert_valid(commands, trace=None, device: str | DeviceSpec = "DDR4_8Gb_x8_2400",
                 mapping: str = "rochrababgco", controller=None, show: int = 10,
                 served_by=None) -> None:
    """Raise :class:`TimingViolationError` listing the first ``show`` violations, if any."""
    out = check(commands, trace, device, mapping, controller, served_by)
    if out:
        lines = "\n".join(str(v) for v in out[:show])
        more = f"\n... and {len(out) - show} more" if len(out) > show else ""
        raise TimingViolationError(f"{len(out)} timing violation(s):\n{lines}{more}")
