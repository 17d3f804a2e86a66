"""SimPy event engine of one representative PIM channel.

All banks of the channel act in lock-step on one broadcast stream, so the channel's state is
one bank's state plus the bus: the times of the last ACT, PRE, MAC (array read), PIM ALU
command, bus write and bus read, whether a row is open and where the MAC stream is in it.
Commands issue in program order (the in-order PIM command issue of AiM, HBM-PIM and GeniePIM's
model), each at the earliest time every relation of :class:`~simulators.pim.timing.PimTiming`
allows; the engine waits for that time with a SimPy timeout. A run of identical commands
(``n`` MACs at one slot each) is one event.

Repeated blocks (``("rep", count, body)``) are executed with exact event skipping: the engine
records a signature of its state (every timing register relative to now, the row position, the
last command's slot) at the start of each repetition; when a signature recurs and no refresh
happened in between, the system is periodic (it is deterministic), so the remaining periods
are applied at once: time, command counts and the time breakdown advance by whole periods.
Skips stop short of the next refresh, which is then simulated.

With ``blocking`` (GeniePIM's accounting) no command overlaps another's slot or a bus
turnaround; otherwise row commands issue during them (a pipelined in-order controller).

Time breakdown: the gap between two command issues goes first to the previous command's own
slot (its category) and the rest to the relation that held the next command back (a row
open, a bus turnaround, a refresh, ...), so the categories add up to the total exactly.
Refresh: an all-bank REF every tREFI, issued at the next op or row boundary once due (a
postponement of at most one row of MACs); it closes the open row and blocks the channel for
tRFC.
"""

from __future__ import annotations

from dataclasses import dataclass

import simpy

from simulators.pim.timing import PimTiming

COMMANDS = ("act", "pre", "mac", "alu", "wr_vector", "wr_output", "rd_output", "ref")
A_ACT, A_PRE, A_MAC, A_ALU, A_WRV, A_WRO, A_RDO, A_REF = range(len(COMMANDS))
CATEGORIES = ("row_open", "mac", "pim_alu", "vector_write", "write_back", "read_back",
              "turnaround", "refresh")
NEG = -(1 << 60)


@dataclass(frozen=True)
class EngineStats:
    """Commands issued on one channel's bus, the time and its breakdown (ps)."""

    time_ps: int
    counts: dict[str, int]
    breakdown_ps: dict[str, int]
    events: int


class ChannelEngine:
    """Runs an op program (see ``mapping.build_program``) on one channel."""

    def __init__(self, t: PimTiming, commands_per_row: int, *, hide_row_open: bool = False,
                 vector_turnaround: bool = True, host_turnaround_ps: int = 0,
                 blocking: bool = False, skip: bool = True,
                 trace: list | None = None) -> None:
        """``blocking``: a blocking in-order controller (GeniePIM's additive accounting):
        every command waits for the previous command's slot (a PRE's is tRP), a bus write
        blocks every following non-write command for the WR->RD turnaround, a write-back
        waits for the RD->WR turnaround before closing the data row, and the bus counts as
        reading before the program and after each write-back. ``skip=False`` simulates every
        repetition; ``trace`` (a list) receives ``(time_ps, command, count, spacing_ps)`` for
        every issued run (with ``skip=True`` skipped periods are not traced)."""
        self.t = t
        self.blocking = blocking
        self.skip = skip
        self.trace = trace
        self.per_row = commands_per_row
        self.hide = hide_row_open
        self.vturn = vector_turnaround
        self.host_ta = host_turnaround_ps
        self.env = simpy.Environment()
        self.last_act = self.last_pre = self.last_mac = NEG
        self.last_wrv = self.last_wro = self.last_rdo = self.busy = NEG
        self.last_pim = NEG
        self.last_read = 0 if blocking else NEG
        self.pim_free = 0
        self.row_open = False
        self.data_row = True
        self.pos = 0
        self.t_last = 0
        self.occ_last = 0
        self.cat_last = "row_open"
        self.counts = [0] * len(COMMANDS)
        self.bd = dict.fromkeys(CATEGORIES, 0)
        self.next_ref = t.refi if t.refi else 0
        self.events = 0
        self.horizon = 1 + max(t.ccd, t.rcd, t.rp, t.ras, t.rtp, t.wr_to_pre, t.wr_to_rd,
                               t.rd_to_wr, t.wr_gap, t.rd_gap, t.rfc) + host_turnaround_ps

    # --------------------------------------------------------------------------- issuing
    def _issue(self, ready: list[tuple[int, str]], kind: int, occ: int, cat: str,
               n: int = 1, gap: int = 0):
        """Issue ``n`` commands of ``kind`` (spacing ``gap``) once every relation allows."""
        now = self.env.now
        t, why = now, self.cat_last
        if self.blocking:
            ready = ready + [(self.t_last + self.occ_last, self.cat_last)]
            if kind not in (A_WRV, A_WRO):
                last_wr = max(self.last_wrv, self.last_wro) if self.vturn else self.last_wro
                ready.append((last_wr + self.t.wr_to_rd, "turnaround"))
        for r, c in ready:
            if r > t:
                t, why = r, c
        g = t - self.t_last
        own = min(g, self.occ_last)
        self.bd[self.cat_last] += own
        self.bd[why] += g - own
        span = (n - 1) * gap
        self.bd[cat] += span
        end = t + span
        if end > now:
            self.events += 1
            yield self.env.timeout(end - now)
        self.t_last, self.occ_last, self.cat_last = end, occ, cat
        self.counts[kind] += n
        if self.trace is not None:
            self.trace.append((t, COMMANDS[kind], n, gap))
        return end

    def _refresh_if_due(self):
        t = self.t
        while t.refi and self.env.now >= self.next_ref:
            if self.row_open:
                yield from self._pre(cat="refresh")
            end = yield from self._issue([(self.last_pre + t.rp, "refresh"),
                                          (self.busy, "refresh")], A_REF, 0, "refresh")
            self.busy = end + t.rfc
            self.next_ref += t.refi

    def _act(self):
        t = self.t
        free = self.hide and self.data_row
        end = yield from self._issue([(self.busy, "refresh"),
                                      (self.last_pre + (0 if free else t.rp), "row_open")],
                                     A_ACT, 0, "row_open")
        self.last_act = end
        self.row_open = True

    def _pre(self, cat: str = "row_open", extra: tuple[int, str] = (NEG, "")):
        t = self.t
        ready = [(self.busy, "refresh"), (self.last_wro + t.wr_to_pre, cat),
                 (self.last_rdo + t.rtp, cat), extra]
        if not (self.hide and self.data_row):
            ready += [(self.last_act + t.ras, cat), (self.last_mac + t.rtp, cat)]
        # a blocking controller waits for the precharge to complete (tRP) before going on
        occ = t.rp if self.blocking and not (self.hide and self.data_row) else 0
        end = yield from self._issue(ready, A_PRE, occ, cat)
        self.last_pre = end
        self.row_open = False

    def _after_write(self) -> list[tuple[int, str]]:
        """Relations a MAC or ALU command has to the last bus writes."""
        t = self.t
        wrv = (self.last_wrv + t.wr_to_rd + self.host_ta) if self.vturn \
            else (self.last_wrv + t.wr_gap)
        return [(wrv, "turnaround"), (self.last_wro + t.wr_to_rd, "turnaround"),
                (self.last_rdo + t.rd_gap, "read_back"), (self.busy, "refresh")]

    def _mac_run(self, n: int, slot: int):
        t = self.t
        rcd = 0 if (self.hide and self.data_row) else t.rcd
        ready = [(self.pim_free, self.cat_last), (self.last_act + rcd, "row_open")]
        end = yield from self._issue(ready + self._after_write(), A_MAC, slot, "mac", n, slot)
        self.last_mac = self.last_pim = end
        self.last_read = max(self.last_read, end)
        self.pim_free = end + slot

    def _mac(self, n: int, slot: int):
        rem = n
        while rem:
            yield from self._refresh_if_due()
            if self.pos == self.per_row:
                if self.row_open:
                    yield from self._pre()
                self.pos = 0
            if self.skip and self.pos == 0 and rem >= 3 * self.per_row:
                q = rem // self.per_row
                yield from self._rep(q, (("mac", self.per_row, slot),))
                rem -= q * self.per_row
                continue
            if not self.row_open:
                yield from self._act()
            k = min(rem, self.per_row - self.pos)
            yield from self._mac_run(k, slot)
            self.pos += k
            rem -= k

    def _alu(self, n: int, cat: str):
        t = self.t
        end = yield from self._issue([(self.pim_free, self.cat_last)] + self._after_write(),
                                     A_ALU, t.ccd, cat, n, t.ccd)
        self.last_pim = end
        self.last_read = max(self.last_read, end)
        self.pim_free = end + t.ccd

    def _wrv(self, n: int):
        t = self.t
        after_pim = (self.last_pim + t.rd_to_wr) if self.vturn else self.pim_free
        ready = [(self.last_wrv + t.wr_gap, "vector_write"), (after_pim, "turnaround"),
                 (self.last_rdo + t.rd_to_wr, "turnaround"), (self.busy, "refresh")]
        if self.blocking and self.vturn:
            ready.append((self.last_read + t.rd_to_wr, "turnaround"))
        end = yield from self._issue(ready, A_WRV, t.wr_gap, "vector_write", n, t.wr_gap)
        self.last_wrv = end

    def _write_back(self, writes: int, reads: int):
        """Close the data row, open an output row, write the outputs, read them back."""
        t = self.t
        if self.row_open:
            turn = (self.last_read + t.rd_to_wr, "turnaround") if self.blocking else (NEG, "")
            yield from self._pre(extra=turn)
        self.data_row = False
        yield from self._refresh_if_due()
        yield from self._act()
        ready = [(self.last_wro + t.ccd, "write_back"), (self.last_act + t.rcd, "row_open"),
                 (self.last_pim + t.rd_to_wr, "turnaround"),
                 (self.last_rdo + t.rd_to_wr, "turnaround"), (self.busy, "refresh")]
        end = yield from self._issue(ready, A_WRO, t.ccd, "write_back", writes, t.ccd)
        self.last_wro = end
        if reads:
            ready = [(self.last_rdo + t.rd_gap, "read_back"),
                     (self.last_wro + t.wr_to_rd, "turnaround"), (self.busy, "refresh")]
            end = yield from self._issue(ready, A_RDO, t.rd_gap, "read_back", reads, t.rd_gap)
            self.last_rdo = self.last_read = end
        yield from self._pre()
        self.data_row = True
        if self.blocking:
            self.last_read = self.t_last

    # --------------------------------------------------------------------------- programs
    def _signature(self) -> tuple:
        now, h = self.env.now, -self.horizon

        def rel(x: int) -> int:
            return max(x - now, h)

        return (rel(self.last_act), rel(self.last_pre), rel(self.last_mac), rel(self.last_pim),
                rel(self.pim_free), rel(self.last_wrv), rel(self.last_wro), rel(self.last_rdo),
                rel(self.busy), rel(self.last_read), now - self.t_last, self.occ_last,
                self.cat_last, self.row_open, self.pos)

    def _shift(self, dt: int) -> None:
        for name in ("last_act", "last_pre", "last_mac", "last_pim", "pim_free", "last_wrv",
                     "last_wro", "last_rdo", "busy", "t_last", "last_read"):
            v = getattr(self, name)
            if v > NEG:
                setattr(self, name, v + dt)

    def _rep(self, count: int, body: tuple):
        if count == 1 or not self.skip:
            for _ in range(count):
                yield from self._ops(body)
            return
        seen: dict[tuple, tuple] = {}
        i = 0
        while i < count:
            sig = self._signature()
            now = self.env.now
            refs = self.counts[A_REF]
            if sig in seen:
                j, t0, c0, b0, r0 = seen[sig]
                dt, per = now - t0, i - j
                k = (count - i) // per
                if self.t.refi:
                    k = min(k, max(0, (self.next_ref - now - 1) // dt))
                if r0 == refs and dt > 0 and k > 0:
                    for a in range(len(COMMANDS)):
                        self.counts[a] += k * (self.counts[a] - c0[a])
                    for c in CATEGORIES:
                        self.bd[c] += k * (self.bd[c] - b0[c])
                    self._shift(k * dt)
                    self.events += 1
                    yield self.env.timeout(k * dt)
                    i += k * per
                    seen.clear()
                    continue
            if len(seen) > 256:
                seen.clear()
            seen[sig] = (i, now, list(self.counts), dict(self.bd), refs)
            yield from self._ops(body)
            i += 1

    def _ops(self, ops: tuple):
        for op in ops:
            kind = op[0]
            if kind == "rep":
                yield from self._rep(op[1], op[2])
                continue
            yield from self._refresh_if_due()
            if kind == "mac":
                yield from self._mac(op[1], op[2])
            elif kind == "aux":
                yield from self._alu(op[1], op[2])
            elif kind == "wrv":
                yield from self._wrv(op[1])
            elif kind == "wb":
                yield from self._write_back(op[1], op[2])
            else:
                raise ValueError(f"unknown op {op!r}")

    def _main(self, program: tuple):
        yield from self._ops(program)
        if self.row_open:
            yield from self._pre()
        t = self.t
        end = max(self.t_last + self.occ_last, self.last_pre + t.rp, self.busy)
        g = end - self.t_last
        own = min(g, self.occ_last)
        self.bd[self.cat_last] += own
        self.bd["refresh" if self.busy >= end else "row_open"] += g - own
        if end > self.env.now:
            yield self.env.timeout(end - self.env.now)

    def run(self, program: tuple) -> EngineStats:
        """Simulate ``program`` from an idle, precharged channel; all banks end precharged."""
        self.env.process(self._main(program))
        self.env.run()
        return EngineStats(time_ps=int(self.env.now),
                           counts=dict(zip(COMMANDS, self.counts, strict=True)),
                           breakdown_ps=dict(self.bd), events=self.events)
