"""Independent JEDEC timing checker: replays a command log and lists every broken rule.

It shares no code with the controller engines or ``timing.py``: the rules are re-derived
from the DeviceSpec fields and checked as *minimum distances from the last command of each
kind* (per bank, per bank group, per rank, on the data bus), the way a protocol monitor
watches a bus, whereas the engines compute *earliest issue cycles* forward. Rules, in
memory-clock cycles (``BL/2`` = burst cycles, ``RL = CL + AL``, ``WL = CWL + AL``):

- command bus: at most one command per cycle;
- same bank: ACT->ACT tRC, ACT->RD/WR tRCD - AL, ACT->PRE tRAS, RD->PRE AL + tRTP,
  WR->PRE WL + BL/2 + tWR, PRE/PREA->ACT tRP; ACT only to a precharged bank; RD/WR only to
  an open bank whose open row is the request's row; RDA / WRA are RD / WR whose bank
  precharges itself at max(RDA + AL + tRTP | WRA + WL + BL/2 + tWR, ACT + tRAS) (JEDEC's
  tRAS lock-out), from when tRP runs;
- same rank, ``_L`` same bank group / ``_S`` another: ACT->ACT tRRD, RD->RD and WR->WR tCCD,
  WR->RD WL + BL/2 + tWTR; at most four ACT in any tFAW window;
- refresh (per rank): REF only with every bank precharged, PRE/PREA->REF tRP, ACT->REF tRC,
  REF->any command of that rank tRFC; optionally the tREFI budget of the refresh policy
  (``controller=``): after ``t`` cycles a rank has had at least ``floor((t - slack) / tREFI)
  - max_postponed`` and at most ``floor(t / tREFI) + 1 + max_pulled_in`` REFs (JEDEC's
  postpone / pull-in allowance; ``slack`` covers closing the banks and back-to-back REFs);
- data bus: bursts (RD data at RL..RL+BL/2, WR data at WL..WL+BL/2) never overlap, and a
  burst that follows one of the other direction or from another rank starts at least tRTRS
  after it ends (write-to-write between ranks needs no gap: the controller drives both, as in
  DRAMsim3);
- requests (when the trace is given): each is served by exactly one RD (read) or WR (write)
  to the bank, row and column its address maps to, not before it arrived.

Simplifications: DDR4's write preamble and LPDDR4's extra clocks are folded into the device
figures (see ``device.py``); refresh is all-bank only.

Source: JEDEC JESD79-4 (DDR4) sections on command timing, refresh postponing / pulling in.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from simulators.dram.commands import ACT, NAMES, PRE, PREA, RD, RDA, REF, WR, WRA
from simulators.dram.device import PRESETS, DeviceSpec
from simulators.dram.mapping import AddressMapping

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
            self.last_ref[r] = t
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
            if self.open_row[k] >= 0:  # PRE to a precharged bank is a legal no-op
                self._close(k, t, i, "PRE")
            self.open_row[k] = -1
            self.last_pre[k] = t
            return
        if c not in (RD, WR, RDA, WRA):
            self.bad("unknown_command", t, i, f"command code {c} is none of {NAMES}")
            return
        auto = c in (RDA, WRA)
        c = RD if c in (RD, RDA) else WR
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
            if c == RD:
                self.gap("tCCD" + sfx, t, i, self.bg_rd[j], d.tCCD_L if same else d.tCCD_S,
                         "RD after RD comes")
                self.gap("tWTR" + sfx, t, i, self.bg_wr[j],
                         wl_burst + (d.tWTR_L if same else d.tWTR_S), "RD after WR comes")
            else:
                self.gap("tCCD" + sfx, t, i, self.bg_wr[j], d.tCCD_L if same else d.tCCD_S,
                         "WR after WR comes")
        if c == RD:
            self.last_rd[k] = t
            self.bg_rd[gk] = t
        else:
            self.last_wr[k] = t
            self.bg_wr[gk] = t
        if auto:
            done = t + d.AL + d.tRTP if c == RD else t + wl_burst + d.tWR
            self.last_pre[k] = max(done, self.last_act[k] + d.tRAS)
            self.open_row[k] = -1


def _data_bus(chk: _Checker, cyc, cmd, rank, order) -> None:
    d = chk.d
    cmd = np.where(cmd == RDA, RD, np.where(cmd == WRA, WR, cmd))
    col = (cmd == RD) | (cmd == WR)
    if col.sum() < 2:
        return
    wr = cmd[col] == WR
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


def _requests(chk: _Checker, cyc, cmd, rank, bg, bank, row, colm, req, order, trace,
              amap) -> None:
    n = int(np.asarray(trace.addr).size)
    cmd = np.where(cmd == RDA, RD, np.where(cmd == WRA, WR, cmd))
    col = (cmd == RD) | (cmd == WR)
    rq = req[col]
    idx = order[col]
    t = cyc[col]
    bad_id = (rq < 0) | (rq >= n)
    for j in np.flatnonzero(bad_id).tolist():
        chk.bad("request_unknown", t[j], idx[j], f"column command for request {rq[j]}, but "
                                                 f"the trace has {n} requests")
    ok = ~bad_id
    counts = np.bincount(rq[ok], minlength=n)
    for q in np.flatnonzero(counts == 0).tolist():
        chk.bad("request_missing", -1, -1, f"request {q} was never served by a RD/WR")
    for q in np.flatnonzero(counts > 1).tolist():
        chk.bad("request_duplicate", -1, -1, f"request {q} was served {counts[q]} times")
    f = amap.decode(trace.addr)
    is_write = np.asarray(trace.is_write, dtype=bool)
    arrival = np.asarray(trace.cycle, dtype=np.int64)
    q = np.where(ok, rq, 0)
    wrong_kind = ok & ((cmd[col] == WR) != is_write[q])
    for j in np.flatnonzero(wrong_kind).tolist():
        chk.bad("request_kind", t[j], idx[j],
                f"request {rq[j]} is a {'write' if is_write[q[j]] else 'read'} but got "
                f"{NAMES[int(cmd[col][j])]}")
    fields = (("rank", rank), ("bankgroup", bg), ("bank", bank), ("row", row),
              ("column", colm))
    for name, got in fields:
        want = f[name][q]
        for j in np.flatnonzero(ok & (got[col] != want)).tolist():
            chk.bad("request_address", t[j], idx[j],
                    f"request {rq[j]} maps to {name} {want[j]} but was served at "
                    f"{name} {got[col][j]}")
    for j in np.flatnonzero(ok & (t < arrival[q])).tolist():
        chk.bad("request_early", t[j], idx[j], f"request {rq[j]} served at cycle {t[j]} "
                                               f"before it arrived at {arrival[q[j]]}")


def _refresh(chk: _Checker, cyc, cmd, rank, order, policy) -> None:
    d = chk.d
    refs = cmd == REF
    if policy is False:
        for j in np.flatnonzero(refs).tolist():
            chk.bad("refresh_forbidden", cyc[j], order[j], "REF under a no-refresh policy")
        return
    if policy is None or cyc.size == 0:
        return
    post, pull = policy
    slack = 2 * d.tRFC + d.tRC + d.CWL + d.AL + d.burst_cycles + d.tWR + d.tRP
    t_end = int(cyc.max())
    for r in range(d.ranks):
        sel = refs & (rank == r)
        ts = cyc[sel].tolist()
        ids = order[sel].tolist()
        for j, t in enumerate(ts):
            if j + 1 > t // d.tREFI + 1 + pull:
                chk.bad("tREFI", t, ids[j], f"rank {r} got its REF #{j + 1} at cycle {t}: "
                                            f"more than {pull} pulled in")
            due = (t - 1 - slack) // d.tREFI - post
            if j < due:
                chk.bad("tREFI", t, ids[j], f"rank {r} had {j} REFs before cycle {t}: more "
                                            f"than {post} postponed")
        due = (t_end - slack) // d.tREFI - post
        if len(ts) < due:
            chk.bad("tREFI", t_end, -1, f"rank {r} had {len(ts)} REFs by cycle {t_end}, "
                                        f"fewer than {due} ({post} postponed allowed)")


def check(commands, trace=None, device: str | DeviceSpec = "DDR4_8Gb_x8_2400",
          mapping: str | AddressMapping = "rochrababgco", controller=None) -> list[Violation]:
    """Replay a command log (``CMD_DTYPE``) and return every violation found (empty: valid).

    Parameters
    ----------
    commands : structured array as ``simulate(..., record_commands=True).commands``.
    trace : the simulated trace; when given, every request must be served exactly once.
    device, mapping : as passed to ``simulate``.
    controller : as passed to ``simulate``; when given, the refresh policy's tREFI budget is
        checked too (see :func:`refresh_policy`).
    """
    if not isinstance(device, DeviceSpec) and device not in PRESETS:
        raise ValueError(f"unknown DRAM device {device!r}; presets: {', '.join(PRESETS)}")
    d = device if isinstance(device, DeviceSpec) else PRESETS[device]
    cm = np.asarray(commands)
    order = np.argsort(cm["cycle"], kind="stable")
    cm = cm[order]
    cyc = cm["cycle"].astype(np.int64)
    cmd = cm["cmd"].astype(np.int64)
    rank = cm["rank"].astype(np.int64)
    bg = cm["bankgroup"].astype(np.int64)
    bank = cm["bank"].astype(np.int64)
    row = cm["row"].astype(np.int64)
    colm = cm["col"].astype(np.int64)
    chk = _Checker(d)
    for j in np.flatnonzero(np.diff(order) < 0).tolist():
        chk.bad("log_order", cyc[j + 1], order[j + 1], "command logged out of cycle order")
    for j in np.flatnonzero(np.diff(cyc) == 0).tolist():
        chk.bad("bus", cyc[j + 1], order[j + 1], f"two commands in cycle {cyc[j + 1]} "
                                                 "(one command bus)")
    rows = zip(order.tolist(), cyc.tolist(), cmd.tolist(), rank.tolist(), bg.tolist(),
               bank.tolist(), row.tolist(), colm.tolist(), strict=True)
    for args in rows:
        chk.command(*args)
    _data_bus(chk, cyc, cmd, rank, order)
    if trace is not None:
        amap = mapping if isinstance(mapping, AddressMapping) else AddressMapping(mapping, d)
        if amap.device != d:
            amap = AddressMapping(amap.spec, d)
        _requests(chk, cyc, cmd, rank, bg, bank, row, colm, cm["req"].astype(np.int64),
                  order, trace, amap)
    if controller is not None:
        _refresh(chk, cyc, cmd, rank, order, refresh_policy(controller))
    return chk.out


def assert_valid(commands, trace=None, device: str | DeviceSpec = "DDR4_8Gb_x8_2400",
                 mapping: str | AddressMapping = "rochrababgco", controller=None,
                 show: int = 10) -> None:
    """Raise :class:`TimingViolationError` listing the first ``show`` violations, if any."""
    out = check(commands, trace, device, mapping, controller)
    if out:
        lines = "\n".join(str(v) for v in out[:show])
        more = f"\n... and {len(out) - show} more" if len(out) > show else ""
        raise TimingViolationError(f"{len(out)} timing violation(s):\n{lines}{more}")
