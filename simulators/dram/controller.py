"""Memory-controller configuration and the ``simulate`` entry point.

Two controllers share one JEDEC timing model (``timing.py``) and one event-driven style (time
jumps to the next cycle at which something can happen; the loops are numba-compiled):

- ``"dramsim3_like"``: DRAMsim3's default controller, used to check fidelity against the
  published DRAMsim3 figures (``engine_dramsim3.py``);
- :class:`ControllerConfig`: the ten DRAMSys controller knobs that ArchGym's DRAMGym
  exposes, with their exact value sets (``KNOBS``), each modelled after what it does in
  DRAMSys (``engine_dramsys.py``).

Sources: M. Jung et al. / L. Steiner et al., "DRAMSys4.0: A Fast and Cycle-Accurate
SystemC/TLM-Based DRAM Simulator", SAMOS 2020 and IJPP 2022; S. Krishnan et al., "ArchGym: An
Open-Source Gymnasium for Machine Learning Assisted Architecture Design", ISCA 2023 (DRAMGym
parameter space); S. Li et al., "DRAMsim3", IEEE CAL 2020.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from simulators.dram.commands import CMD_DTYPE
from simulators.dram.device import PRESETS, DeviceSpec
from simulators.dram.engine_dramsim3 import run_dramsim3
from simulators.dram.engine_dramsys import run_dramsys
from simulators.dram.mapping import AddressMapping, BitMapping
from simulators.dram.power import energy
from simulators.dram.result import DramResult, nearest_rank
from simulators.dram.timing import (
    K_ACT,
    K_HIT,
    K_PRE,
    K_PREA,
    K_PREA_BANKS,
    K_RD,
    K_REF,
    K_WR,
    timing_vector,
)

_POW2 = (1, 2, 4, 8, 16, 32, 64, 128)

#: DRAMGym's controller knobs (ArchGym, ISCA 2023): name -> allowed values, in order.
KNOBS: dict[str, tuple] = {
    "PagePolicy": ("Open", "OpenAdaptive", "Closed", "ClosedAdaptive"),
    "Scheduler": ("Fifo", "FrFcfsGrp", "FrFcfs"),
    "SchedulerBuffer": ("Bankwise", "ReadWrite", "Shared"),
    "RequestBufferSize": _POW2,
    "RespQueue": ("Fifo", "Reorder"),
    "RefreshPolicy": ("NoRefresh", "AllBank"),
    "RefreshMaxPostponed": (1, 2, 4, 8),
    "RefreshMaxPulledin": (1, 2, 4, 8),
    "Arbiter": ("Simple", "Fifo", "Reorder"),
    "MaxActiveTransactions": _POW2,
}

NUM_CONFIGS = math.prod(len(v) for v in KNOBS.values())  # 442,368

#: integer knobs: the range DRAMSys accepts (refresh flexibility capped at JEDEC's 8)
INT_KNOBS: dict[str, tuple[int, int]] = {
    "RequestBufferSize": (1, 1 << 20),
    "RefreshMaxPostponed": (0, 8),
    "RefreshMaxPulledin": (0, 8),
    "MaxActiveTransactions": (1, 1 << 20),
}


@dataclass(frozen=True)
class ControllerConfig:
    """The DRAMSys controller knobs of ArchGym's DRAMGym, with DRAMSys v5.1 semantics.

    ``KNOBS`` lists DRAMGym's value sets (the design space); the integer knobs accept any
    value DRAMSys does (RequestBufferSize and MaxActiveTransactions >= 1, RefreshMaxPostponed
    and RefreshMaxPulledin 0..8, JEDEC's limit), so DRAMSys's own configurations load too.
    See ``engine_dramsys`` for the model; in short:

    PagePolicy
        ``Open`` keeps a row open until a request to another row needs the bank;
        ``OpenAdaptive`` auto-precharges after an access when requests to the bank are queued
        and none hits the row; ``Closed`` after every access; ``ClosedAdaptive`` unless a
        queued request hits the row. Auto-precharge (RDA/WRA) needs no command-bus slot and
        respects tRAS (JEDEC).
    Scheduler
        Per bank: ``Fifo`` serves the oldest request; ``FrFcfs`` row hits first, then the
        oldest; ``FrFcfsGrp`` prefers hits of the same direction as the last RD/WR.
    SchedulerBuffer, RequestBufferSize
        ``Bankwise``: RequestBufferSize requests per bank; ``ReadWrite``: RequestBufferSize
        reads and as many writes (DRAMSys v5.1's RequestBufferSizeRead/Write); ``Shared``:
        RequestBufferSize in all. A request waits at the controller's door until there is room.
    RespQueue
        ``Fifo`` returns responses in RD/WR issue order; ``Reorder`` in request order.
    RefreshPolicy, RefreshMaxPostponed, RefreshMaxPulledin
        ``AllBank``: all-bank REF per rank every tREFI (ranks staggered), postponed while
        the rank has queued requests (up to RefreshMaxPostponed, then forced) and pulled in
        while it is idle (up to RefreshMaxPulledin ahead); ``NoRefresh`` issues none.
    Arbiter, MaxActiveTransactions
        ``Simple`` passes one request at a time from the requester to the controller;
        ``Fifo`` buffers up to MaxActiveTransactions outstanding transactions (a request
        beyond them waits, and that wait is not controller latency) and hands them to the
        controller one every two cycles; ``Reorder`` also returns responses in request
        order. MaxActiveTransactions has no effect with ``Simple`` (as in DRAMSys).
    """

    PagePolicy: str = "Open"
    Scheduler: str = "FrFcfs"
    SchedulerBuffer: str = "Bankwise"
    RequestBufferSize: int = 8
    RespQueue: str = "Fifo"
    RefreshPolicy: str = "AllBank"
    RefreshMaxPostponed: int = 8
    RefreshMaxPulledin: int = 8
    Arbiter: str = "Simple"
    MaxActiveTransactions: int = 128

    def __post_init__(self) -> None:
        for name, allowed in KNOBS.items():
            v = getattr(self, name)
            if name in INT_KNOBS:
                lo, hi = INT_KNOBS[name]
                ok = isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi
                what = f"an integer from {lo} to {hi} (DRAMGym's values: " \
                       f"{', '.join(map(str, allowed))})"
            else:
                ok = isinstance(v, str) and v in allowed
                what = ", ".join(allowed)
            if not ok:
                raise ValueError(f"controller knob {name}={v!r} is not allowed; allowed "
                                 f"values: {what}")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ControllerConfig:
        """Build from a knob dict (missing knobs take defaults); unknown or bad -> ValueError."""
        unknown = set(d) - set(KNOBS)
        if unknown:
            raise ValueError(
                f"unknown controller knob(s) {sorted(unknown)}; knobs: {', '.join(KNOBS)}"
            )
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def code(self, name: str) -> int:
        """Integer handed to the compiled engine: a categorical knob's index in ``KNOBS``,
        an integer knob's value."""
        v = getattr(self, name)
        return v if name in INT_KNOBS else KNOBS[name].index(v)

    @staticmethod
    def all_configs():
        """Iterate over all NUM_CONFIGS knob combinations."""
        for vals in itertools.product(*KNOBS.values()):
            yield ControllerConfig(**dict(zip(KNOBS, vals, strict=True)))


@dataclass(frozen=True)
class Dramsim3Like:
    """DRAMsim3's default controller (see ``engine_dramsim3``): queue sizes and thresholds."""

    trans_queue_size: int = 32
    write_buffer_size: int = 32
    cmd_queue_size: int = 8
    row_hit_cap: int = 4
    write_drain_threshold: int = 8
    refresh: bool = True


CONTROLLER_PRESETS: dict[str, Dramsim3Like] = {"dramsim3_like": Dramsim3Like()}


def _device(device: str | DeviceSpec) -> DeviceSpec:
    if isinstance(device, DeviceSpec):
        return device
    if device not in PRESETS:
        raise ValueError(f"unknown DRAM device {device!r}; presets: {', '.join(PRESETS)}")
    return PRESETS[device]


def _controller(controller) -> tuple[Dramsim3Like | ControllerConfig, str | dict]:
    if isinstance(controller, str):
        if controller not in CONTROLLER_PRESETS:
            raise ValueError(
                f"unknown controller {controller!r}; presets: {', '.join(CONTROLLER_PRESETS)},"
                " or pass a ControllerConfig / knob dict"
            )
        return CONTROLLER_PRESETS[controller], controller
    if isinstance(controller, dict):
        controller = ControllerConfig.from_dict(controller)
    if isinstance(controller, ControllerConfig):
        return controller, controller.to_dict()
    if isinstance(controller, Dramsim3Like):
        return controller, asdict(controller)
    raise TypeError(f"controller must be a preset name, ControllerConfig or dict, not "
                    f"{type(controller).__name__}")


def _run_channel(arr, isw, fb, row, col, P, ctrl, record):
    """Run one channel; returns (accept, finish, received, counters, standby, log, end):
    the cycles a request reaches the controller, its response leaves it, the requester has
    it."""
    if isinstance(ctrl, Dramsim3Like):
        acc, done, cnt, stby, lg, nlog, end = run_dramsim3(
            arr, isw, fb, row, col, P, ctrl.trans_queue_size, ctrl.write_buffer_size,
            ctrl.cmd_queue_size, ctrl.row_hit_cap, ctrl.write_drain_threshold, ctrl.refresh,
            record)
        return acc, done, done, cnt, stby, lg[:nlog], end
    k = ctrl.code
    acc, resp, recv, cnt, stby, lg, nlog, end = run_dramsys(
        arr, isw, fb, row, col, P, k("PagePolicy"), k("Scheduler"), k("SchedulerBuffer"),
        k("RequestBufferSize"), k("RespQueue"), ctrl.RefreshPolicy == "AllBank",
        k("RefreshMaxPostponed"), k("RefreshMaxPulledin"), k("Arbiter"),
        k("MaxActiveTransactions"), record)
    return acc, resp, recv, cnt, stby, lg[:nlog], end


def simulate(
    trace,
    device: str | DeviceSpec = "DDR4_8Gb_x8_2400",
    controller: str | ControllerConfig | dict[str, Any] = "dramsim3_like",
    mapping: str | AddressMapping | BitMapping = "rochrababgco",
    record_commands: bool = False,
) -> DramResult:
    """Simulate a request trace on one DRAM device configuration.

    Parameters
    ----------
    trace : ``simulators.dram.trace.Trace`` (``addr`` uint64 byte addresses, ``is_write``
        bool, ``cycle`` non-decreasing int64 arrival cycles in memory clock cycles).
    device : preset name (see ``PRESETS``) or a DeviceSpec.
    controller : ``"dramsim3_like"``, a :class:`ControllerConfig` or a knob dict.
    mapping : DRAMsim3-style mapping string (MSB -> LSB), an AddressMapping, or a BitMapping
        (DRAMSys's bit-level format, see ``dramsys_config``).
    record_commands : also return the command log (``CMD_DTYPE``) in ``result.commands``
        (single-channel devices only).

    Channels are independent, so a multi-channel device is simulated channel by channel and
    the figures are combined (time = the latest channel's).
    """
    dev = _device(device)
    ctrl, ctrl_name = _controller(controller)
    amap = AddressMapping(mapping, dev) if isinstance(mapping, str) else mapping
    if amap.device is not dev:
        amap = amap.bind(dev)
    addr = np.asarray(trace.addr, dtype=np.uint64)
    isw = np.asarray(trace.is_write, dtype=np.bool_)
    arr = np.asarray(trace.cycle, dtype=np.int64)
    n = addr.size
    if not (isw.size == n and arr.size == n):
        raise ValueError("trace arrays addr, is_write and cycle must have the same length")
    if n and (np.any(np.diff(arr) < 0) or arr[0] < 0):
        raise ValueError("trace cycles must be non-negative and non-decreasing")
    if record_commands and dev.channels > 1:
        raise ValueError("record_commands needs a single-channel device")
    f = amap.decode(addr)
    fb = amap.flat_bank(f)
    P = timing_vector(dev, "dramsim3" if isinstance(ctrl, Dramsim3Like) else "jedec")

    finish = np.zeros(n, dtype=np.int64)
    received = np.zeros(n, dtype=np.int64)
    accept = np.zeros(n, dtype=np.int64)
    counts = np.zeros(8, dtype=np.int64)
    active = 0
    precharged = 0
    end = 0
    commands = None
    for ch in range(dev.channels):
        sel = np.flatnonzero(f["channel"] == ch) if dev.channels > 1 else np.arange(n)
        if sel.size == 0:
            continue
        acc, fin, recv, cnt, stby, lg, ch_end = _run_channel(
            arr[sel], isw[sel], fb[sel], f["row"][sel], f["column"][sel], P, ctrl,
            record_commands)
        accept[sel] = acc
        finish[sel] = fin
        received[sel] = recv
        counts += cnt
        precharged += int(stby[:, 0].sum())
        active += int(stby[:, 1].sum())
        end = max(end, int(ch_end))
        if record_commands:
            commands = np.zeros(lg.shape[0], dtype=CMD_DTYPE)
            for k, name in enumerate(CMD_DTYPE.names):
                commands[name] = lg[:, k]
    if record_commands and commands is None:
        commands = np.zeros(0, dtype=CMD_DTYPE)
    # channels that ended early idle (precharged) until the end
    if dev.channels > 1:
        precharged = end * dev.ranks * dev.channels - active
    return _result(dev, amap, ctrl_name, isw, arr, accept, finish, received, counts, active,
                   precharged, end, commands)


def _result(dev, amap, ctrl_name, isw, arrival, accept, finish, received, counts, active,
            precharged, end, commands) -> DramResult:
    tck = dev.tCK_ns
    lat = finish - accept
    rlat = np.sort(lat[~isw])
    total = np.sort((received - arrival)[~isw])  # includes waiting to be accepted
    wlat = lat[isw]
    n = isw.size
    e = energy(dev, num_act=int(counts[K_ACT]), num_rd=int(counts[K_RD]),
               num_wr=int(counts[K_WR]), num_ref=int(counts[K_REF]),
               active_rank_cycles=active, precharged_rank_cycles=precharged)
    t_ns = end * tck
    ncol = int(counts[K_RD] + counts[K_WR])
    return DramResult(
        num_reads=int(rlat.size),
        num_writes=int(wlat.size),
        avg_read_latency_ns=float(rlat.mean() * tck) if rlat.size else 0.0,
        p50_read_latency_ns=nearest_rank(rlat, 50) * tck,
        p90_read_latency_ns=nearest_rank(rlat, 90) * tck,
        p99_read_latency_ns=nearest_rank(rlat, 99) * tck,
        max_read_latency_ns=float(rlat[-1] * tck) if rlat.size else 0.0,
        avg_write_latency_ns=float(wlat.mean() * tck) if wlat.size else 0.0,
        avg_latency_ns=float(lat.mean() * tck) if n else 0.0,
        avg_read_latency_cycles=float(rlat.mean()) if rlat.size else 0.0,
        avg_read_total_latency_ns=float(total.mean() * tck) if total.size else 0.0,
        p99_read_total_latency_ns=nearest_rank(total, 99) * tck,
        bandwidth_gbps=n * dev.bytes_per_burst / t_ns if t_ns > 0 else 0.0,
        row_hit_rate=float(counts[K_HIT]) / ncol if ncol else 0.0,
        num_act=int(counts[K_ACT]),
        num_pre=int(counts[K_PRE] + counts[K_PREA_BANKS]),
        num_prea=int(counts[K_PREA]),
        num_rd=int(counts[K_RD]),
        num_wr=int(counts[K_WR]),
        num_ref=int(counts[K_REF]),
        energy_pj=e.total_pj,
        energy_breakdown_pj=e.to_dict(),
        avg_power_mw=e.total_pj / t_ns if t_ns > 0 else 0.0,
        sim_cycles=int(end),
        sim_time_ns=t_ns,
        device=dev.name,
        controller=ctrl_name,
        mapping=amap.spec,
        commands=commands,
        read_latency_cycles=rlat,
    )
