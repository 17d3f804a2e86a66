"""``simulate``: a trace (in memory or streamed in chunks) through a controller and device.

The trace is fed to the compiled engines a chunk at a time; each engine keeps its state
between chunks and only the requests still in flight are carried over, so memory stays
bounded whatever the trace length and the figures are identical to a single pass
(``tests/dram/test_streaming.py``). Per-request latencies go into exact histograms
(:class:`simulators.dram.result.LatencyHistogram`), never into arrays as long as the trace.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from simulators.dram import engine_dramsim3, engine_dramsys
from simulators.dram.commands import CMD_DTYPE
from simulators.dram.controller import ControllerConfig, Dramsim3Like, controller_config
from simulators.dram.device import PRESETS, DeviceSpec
from simulators.dram.mapping import AddressMapping, BitMapping
from simulators.dram.power import energy
from simulators.dram.result import DramResult, LatencyHistogram
from simulators.dram.timing import (
    K_ACT,
    K_HIT,
    K_PRE,
    K_PREA,
    K_PREA_BANKS,
    K_RD,
    K_REF,
    K_REFSB,
    K_WR,
    NCOUNT,
    timing_vector,
)
from simulators.dram.trace import Trace

#: requests per chunk when a trace in memory is fed to the engines
CHUNK = 1 << 18
#: per engine, the per-request arrays of a channel's window: what the trace gives and what
#: the engine writes (in its argument order), and the times ``_Stats.add`` takes (the last
#: one is set when the request has finished)
_WINDOW = {
    "dramsim3": (("arr", "isw", "addr", "fb", "row", "col"), ("accept", "done", "link"),
                 ("accept", "done")),
    "dramsys": (("arr", "isw", "fb", "row", "col"),
                ("present", "admit", "strobe", "resp", "recv", "slot"),
                ("present", "resp", "recv")),
}


def _device(device: str | DeviceSpec) -> DeviceSpec:
    if isinstance(device, DeviceSpec):
        return device
    if device not in PRESETS:
        raise ValueError(f"unknown DRAM device {device!r}; presets: {', '.join(PRESETS)}")
    return PRESETS[device]


class _Stats:
    """Running figures of the finished requests."""

    def __init__(self) -> None:
        self.read = LatencyHistogram()  # acceptance -> data done / response
        self.read_total = LatencyHistogram()  # arrival -> the requester has it
        self.write = LatencyHistogram()

    def add(self, arr, isw, accept, done, received=None) -> None:
        rd = ~isw
        received = done if received is None else received
        self.read.add(done[rd] - accept[rd])
        self.read_total.add(received[rd] - arr[rd])
        self.write.add(done[isw] - accept[isw])


class _Channel:
    """One channel's engine state and its window of not-yet-finished requests.

    Both engines are resumable: each call runs until the engine would look at a request
    beyond the window (or, on the last chunk, to the end), then the finished prefix of the
    window goes into the histograms and leaves it, so only requests in flight are kept."""

    def __init__(self, ctrl, P: np.ndarray, record: bool) -> None:
        self.P, self.record = P, record
        kind = "dramsim3" if isinstance(ctrl, Dramsim3Like) else "dramsys"
        self.engine = engine_dramsim3 if kind == "dramsim3" else engine_dramsys
        self.ins, self.outs, self.times = _WINDOW[kind]
        self.base = 0
        self.win = {k: np.zeros(0, dtype=np.int64) for k in self.ins + self.outs}
        self.win["isw"] = np.zeros(0, dtype=np.bool_)
        if "addr" in self.win:
            self.win["addr"] = np.zeros(0, dtype=np.uint64)
        self.gid: list[np.ndarray] = []  # global trace index of each request (record only)
        self.merged: list[np.ndarray] = []  # (request, serving request) pairs (record only)
        self.O = np.array(ctrl.codes(), dtype=np.int64)
        self.state = list(self.engine.new_engine(P, self.O, record))

    def feed(self, req: dict[str, np.ndarray], final: bool, stats: _Stats) -> None:
        n = req["arr"].size
        w = self.win
        for k in self.ins:
            w[k] = np.concatenate((w[k], req[k])) if w[k].size else req[k]
        for k in self.outs:
            w[k] = np.concatenate((w[k], np.full(n, -1, dtype=np.int64)))
        if not final and n == 0:
            return
        S = self.state
        S[self.engine.STATE_LOG] = self.engine.run(
            *S, self.P, self.O, *(w[k] for k in self.ins + self.outs), self.base, final,
            self.record)
        # the finished prefix of the window leaves it
        pending = np.flatnonzero(w[self.times[-1]] < 0)
        k = int(pending[0]) if pending.size else w["arr"].size
        if k:
            stats.add(w["arr"][:k], w["isw"][:k], *(w[t][:k] for t in self.times))
            if self.record and "link" in w:
                m = np.flatnonzero(w["link"][:k] >= 0)
                self.merged.append(np.stack([m + self.base, w["link"][m]], axis=1))
            for key in w:
                w[key] = w[key][k:]
            self.base += k

    def results(self):
        """(counters, standby per rank, end cycle, command log)."""
        S, eng = self.state, self.engine
        sc, lg = S[0], S[eng.STATE_LOG]  # the timing state ends the tuple: ..., stby, cnt
        return S[-1], S[-2], int(sc[eng.S_END]), lg[:sc[eng.S_NLOG]]


def _chunks(trace: Trace | Iterable[Trace], chunk: int) -> Iterator[Trace]:
    if isinstance(trace, Trace) or hasattr(trace, "addr"):
        n = int(np.asarray(trace.addr).size)
        for s in range(0, max(n, 1), chunk):
            yield Trace(np.asarray(trace.addr, dtype=np.uint64)[s:s + chunk],
                        np.asarray(trace.is_write, dtype=np.bool_)[s:s + chunk],
                        np.asarray(trace.cycle, dtype=np.int64)[s:s + chunk])
    else:
        yield from trace


def simulate(
    trace: Trace | Iterable[Trace],
    device: str | DeviceSpec = "DDR4_8Gb_x8_2400",
    controller: str | Dramsim3Like | ControllerConfig | dict[str, Any] = "dramsim3_like",
    mapping: str | AddressMapping | BitMapping = "rochrababgco",
    record_commands: bool = False,
    options: dict[str, Any] | None = None,
    chunk: int = CHUNK,
) -> DramResult:
    """Simulate a request trace on one DRAM device configuration.

    Parameters
    ----------
    trace : a :class:`~simulators.dram.trace.Trace` (``addr`` uint64 byte addresses,
        ``is_write`` bool, ``cycle`` non-decreasing int64 arrival cycles in memory clock
        cycles), or an iterable of them, consecutive chunks of one trace (for example
        :func:`simulators.dram.trace.iter_trace` streaming a file).
    device : preset name (see ``PRESETS``) or a DeviceSpec.
    controller : ``"dramsim3_like"`` or a :class:`Dramsim3Like`, a :class:`ControllerConfig`
        or a DRAMGym knob dict (missing knobs take :data:`DEFAULTS`).
    mapping : DRAMsim3-style mapping string (MSB -> LSB), an AddressMapping, or a BitMapping
        (DRAMSys's bit-level format, see ``dramsys_config``).
    record_commands : also return the command log (``CMD_DTYPE``) in ``result.commands``.
    options : option overrides by name (``--set``): DRAMsim3 option names for the
        ``dramsim3_like`` controller, DRAMGym knobs otherwise.
    chunk : requests per chunk when ``trace`` is one in-memory Trace.

    Channels are independent, so a multi-channel device is simulated channel by channel and
    the figures are combined (time = the latest channel's).
    """
    dev = _device(device)
    ctrl, ctrl_name = controller_config(controller, options)
    if isinstance(ctrl, Dramsim3Like) and ctrl.refresh_policy == "BANK_LEVEL_STAGGERED" \
            and ctrl.refresh and not dev.tRFCsb:
        raise ValueError(
            f"refresh_policy=BANK_LEVEL_STAGGERED needs a device with a same-bank refresh "
            f"(tRFCsb, tREFIsb); {dev.name} ({dev.protocol}) has only all-bank refresh in its "
            f"standard; devices with REFsb: "
            f"{', '.join(p.name for p in PRESETS.values() if p.tRFCsb) or 'none'}")
    amap = AddressMapping(mapping, dev) if isinstance(mapping, str) else mapping
    if amap.device is not dev:
        amap = amap.bind(dev)
    P = timing_vector(dev, "dramsim3" if isinstance(ctrl, Dramsim3Like) else "jedec")
    channels = [_Channel(ctrl, P, record_commands) for _ in range(dev.channels)]
    stats = _Stats()
    n = 0
    last = -1
    it = _chunks(trace, chunk)
    cur = next(it, None)
    while cur is not None:
        nxt = next(it, None)
        addr = np.asarray(cur.addr, dtype=np.uint64)
        isw = np.asarray(cur.is_write, dtype=np.bool_)
        arr = np.asarray(cur.cycle, dtype=np.int64)
        if not (isw.size == addr.size and arr.size == addr.size):
            raise ValueError("trace arrays addr, is_write and cycle must have the same length")
        if arr.size and (arr[0] < last or np.any(np.diff(arr) < 0) or arr[0] < 0):
            raise ValueError("trace cycles must be non-negative and non-decreasing")
        if arr.size:
            last = int(arr[-1])
        f = amap.decode(addr)
        fb = amap.flat_bank(f)
        for c, ch in enumerate(channels):
            sel = f["channel"] == c if dev.channels > 1 else slice(None)
            req = {"arr": arr[sel], "isw": isw[sel], "addr": addr[sel], "fb": fb[sel],
                   "row": f["row"][sel], "col": f["column"][sel]}
            if record_commands:
                ch.gid.append(n + (np.flatnonzero(sel) if dev.channels > 1
                                   else np.arange(arr.size)))
            ch.feed(req, nxt is None, stats)
        n += arr.size
        cur = nxt
    if n == 0:
        raise ValueError("the trace is empty")
    counts = np.zeros(NCOUNT, dtype=np.int64)
    active = precharged = end = 0
    logs, merged = [], []
    for c, ch in enumerate(channels):
        cnt, stby, ch_end, lg = ch.results()
        counts += cnt
        precharged += int(stby[:, 0].sum())
        active += int(stby[:, 1].sum())
        end = max(end, ch_end)
        if record_commands:
            gid = np.concatenate(ch.gid)
            log = np.zeros(lg.shape[0], dtype=CMD_DTYPE)
            for k, name in enumerate(("cycle", "cmd", "rank", "bankgroup", "bank", "row", "col",
                                      "req")):
                log[name] = lg[:, k]
            log["channel"] = c
            col = log["req"] >= 0
            log["req"][col] = gid[log["req"][col]]
            logs.append(log)
            if ch.merged:
                merged.append(gid[np.concatenate(ch.merged)])
    if dev.channels > 1:  # channels that ended early idle (precharged) until the end
        precharged = end * dev.ranks * dev.channels - active
    commands = served_by = None
    if record_commands:
        commands = np.concatenate(logs)
        commands = commands[np.argsort(commands["cycle"], kind="stable")]
        served_by = np.concatenate(merged) if merged else np.zeros((0, 2), dtype=np.int64)
    return _result(dev, amap, ctrl_name, stats, counts, active, precharged, end, commands,
                   served_by)


def _result(dev, amap, ctrl_name, stats: _Stats, counts, active, precharged, end,
            commands, served_by) -> DramResult:
    tck = dev.tCK_ns
    rd, tot, wr = stats.read, stats.read_total, stats.write
    e = energy(dev, num_act=int(counts[K_ACT]), num_rd=int(counts[K_RD]),
               num_wr=int(counts[K_WR]), num_ref=int(counts[K_REF]),
               num_refsb=int(counts[K_REFSB]), active_rank_cycles=active,
               precharged_rank_cycles=precharged)
    t_ns = end * tck
    ncol = int(counts[K_RD] + counts[K_WR])
    n = rd.count + wr.count
    return DramResult(
        num_reads=rd.count,
        num_writes=wr.count,
        avg_read_latency_ns=rd.mean() * tck,
        p50_read_latency_ns=rd.percentile(50) * tck,
        p90_read_latency_ns=rd.percentile(90) * tck,
        p99_read_latency_ns=rd.percentile(99) * tck,
        max_read_latency_ns=float(rd.max * tck) if rd.count else 0.0,
        avg_write_latency_ns=wr.mean() * tck,
        avg_latency_ns=(rd.total + wr.total) / n * tck if n else 0.0,
        avg_read_latency_cycles=rd.mean(),
        avg_read_total_latency_ns=tot.mean() * tck,
        p99_read_total_latency_ns=tot.percentile(99) * tck,
        bandwidth_gbps=n * dev.bytes_per_burst / t_ns if t_ns > 0 else 0.0,
        row_hit_rate=float(counts[K_HIT]) / ncol if ncol else 0.0,
        num_act=int(counts[K_ACT]),
        num_pre=int(counts[K_PRE] + counts[K_PREA_BANKS]),
        num_prea=int(counts[K_PREA]),
        num_rd=int(counts[K_RD]),
        num_wr=int(counts[K_WR]),
        num_ref=int(counts[K_REF]),
        num_refsb=int(counts[K_REFSB]),
        energy_pj=e.total_pj,
        energy_breakdown_pj=e.to_dict(),
        avg_power_mw=e.total_pj / t_ns if t_ns > 0 else 0.0,
        sim_cycles=int(end),
        sim_time_ns=t_ns,
        device=dev.name,
        controller=ctrl_name,
        mapping=amap.spec,
        commands=commands,
        served_by=served_by,
        read_latency_hist=rd,
    )


def simulate_file(path, *, device: str | DeviceSpec | None = None, config=None,
                  controller: str = "dramsim3_like", options: dict[str, Any] | None = None,
                  mapping: str | None = None, format: str | None = None,  # noqa: A002
                  ) -> tuple[DramResult, dict[str, float]]:
    """Stream a trace file through :func:`simulate`; what ``--trace``, ``--config``,
    ``--controller`` and ``--set`` ask for on a command line.

    ``config`` is a DRAMsim3 ``.ini`` (device, organisation, controller and mapping; see
    :func:`simulators.dram.dramsim3_ini.read_dramsim3_ini`); ``controller`` is
    ``"dramsim3_like"`` or ``"knobs"`` (DRAMGym's knobs from :data:`DEFAULTS`); ``options``
    are ``--set`` pairs (DRAMsim3 option names, or knobs). Returns the result and the time
    (seconds) spent reading the trace and simulating it.
    """
    import time

    from simulators.dram.controller import DEFAULTS
    from simulators.dram.dramsim3_ini import read_dramsim3_ini
    from simulators.dram.trace import iter_trace

    if controller not in ("dramsim3_like", "knobs"):
        raise ValueError(f"controller {controller!r}: allowed dramsim3_like, knobs")
    ctrl: Any = "dramsim3_like" if controller == "dramsim3_like" else dict(DEFAULTS)
    if config is not None:
        ini = read_dramsim3_ini(config)
        if device is not None:
            raise ValueError("give either --config (a DRAMsim3 .ini) or --device, not both")
        device, mapping = ini.device, mapping or ini.mapping
        if controller == "dramsim3_like":
            ctrl = ini.controller
        for w in ini.warnings:
            import warnings

            warnings.warn(w, stacklevel=2)
    parse = 0.0

    def timed(it):
        nonlocal parse
        while True:
            t = time.perf_counter()
            chunk = next(it, None)
            parse += time.perf_counter() - t
            if chunk is None:
                return
            yield chunk

    t0 = time.perf_counter()
    result = simulate(timed(iter_trace(path, format)), device=device or "DDR4_8Gb_x8_2400",
                      controller=ctrl, mapping=mapping or "rochrababgco", options=options)
    total = time.perf_counter() - t0
    return result, {"parse": parse, "simulate": total - parse}
