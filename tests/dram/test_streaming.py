"""Traces of any length: streaming a file in blocks and feeding the engines in chunks give
exactly the figures (and command logs) of one pass over the whole trace in memory."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from simulators.dram import KNOBS, ControllerConfig, Dramsim3Like, LatencyHistogram, simulate
from simulators.dram.run import _Channel, _Stats
from simulators.dram.trace import Trace, TraceFormatError, iter_trace, read_trace, write_trace

CONTROLLERS = [
    "dramsim3_like",
    Dramsim3Like(row_buf_policy="CLOSE_PAGE", queue_structure="PER_RANK"),
    Dramsim3Like(unified_queue=True, aggressive_precharging_enabled=True, cmd_queue_size=2),
    Dramsim3Like(refresh_policy="RANK_LEVEL_SIMULTANEOUS", write_buf_size=4),
]


def mixed(n: int, seed: int = 0) -> Trace:
    """Random lines over a small region (so addresses repeat and rows hit) with bursts."""
    rng = np.random.default_rng(seed)
    addr = rng.integers(0, 1 << 16, n, dtype=np.uint64) * np.uint64(64)
    return Trace(addr, rng.random(n) < 0.3, np.cumsum(rng.integers(0, 7, n)))


#: the DRAMSys-knob engine: every value of every categorical knob, the integer knobs at
#: their extremes, and combinations that stress the arbiter, response and refresh paths
KNOB_CONTROLLERS = [
    ControllerConfig(),
    *(ControllerConfig(PagePolicy=v) for v in KNOBS["PagePolicy"][1:]),
    *(ControllerConfig(Scheduler=v) for v in KNOBS["Scheduler"][:2]),
    *(ControllerConfig(SchedulerBuffer=v, RequestBufferSize=2) for v in KNOBS["SchedulerBuffer"]),
    ControllerConfig(RequestBufferSize=1, RespQueue="Reorder"),
    ControllerConfig(RefreshPolicy="NoRefresh", RequestBufferSize=128),
    ControllerConfig(RefreshMaxPostponed=8, RefreshMaxPulledin=8, PagePolicy="Closed"),
    ControllerConfig(RefreshMaxPostponed=0, RefreshMaxPulledin=0),
    ControllerConfig(Arbiter="Fifo", MaxActiveTransactions=1),
    ControllerConfig(Arbiter="Fifo", MaxActiveTransactions=16, Scheduler="Fifo"),
    ControllerConfig(Arbiter="Reorder", MaxActiveTransactions=128, RespQueue="Reorder"),
    ControllerConfig(Arbiter="Reorder", MaxActiveTransactions=4, SchedulerBuffer="Shared",
                     PagePolicy="OpenAdaptive", Scheduler="FrFcfsGrp"),
    ControllerConfig(Arbiter="Simple", RespQueue="Reorder", PagePolicy="ClosedAdaptive",
                     SchedulerBuffer="ReadWrite", RequestBufferSize=4),
]


def bursty(n: int, seed: int = 0) -> Trace:
    """``mixed`` with an idle gap of ~2 refresh intervals every 800 requests (so refreshes
    are both postponed under load and pulled in while idle)."""
    tr = mixed(n, seed)
    gaps = np.where(np.arange(n) % 800 == 799, 20_000, 0)
    return Trace(tr.addr, tr.is_write, tr.cycle + np.cumsum(gaps))


def _same(a, b) -> None:
    assert a.to_dict() == b.to_dict()
    assert np.array_equal(a.read_latency_cycles, b.read_latency_cycles)
    if a.commands is not None:
        assert np.array_equal(a.commands, b.commands)
        assert np.array_equal(a.served_by, b.served_by)


@pytest.mark.parametrize("ctrl", CONTROLLERS, ids=range(len(CONTROLLERS)))
def test_any_chunking_gives_the_same_run(ctrl):
    tr = mixed(12_000)
    whole = simulate(tr, controller=ctrl, record_commands=True, chunk=1 << 20)
    assert whole.num_ref > 0 and whole.num_reads + whole.num_writes == 12_000
    for chunk in (1, 97, 4096):
        _same(simulate(tr, controller=ctrl, record_commands=True, chunk=chunk), whole)


@pytest.mark.parametrize("ctrl", KNOB_CONTROLLERS, ids=range(len(KNOB_CONTROLLERS)))
def test_any_chunking_gives_the_same_run_knobs(ctrl):
    tr = bursty(2500, seed=2)
    whole = simulate(tr, controller=ctrl, record_commands=True, chunk=1 << 20)
    assert whole.num_reads + whole.num_writes == 2500
    assert whole.num_ref > 0 or ctrl.RefreshPolicy == "NoRefresh"
    for chunk in (1, 7, 64):
        _same(simulate(tr, controller=ctrl, record_commands=True, chunk=chunk), whole)


@pytest.mark.parametrize("ctrl", [ControllerConfig(), Dramsim3Like()], ids=["knobs", "dramsim3"])
def test_the_window_holds_only_requests_in_flight(ctrl):
    # a channel fed chunk after chunk keeps a window of about a chunk, not the whole trace
    from simulators.dram.device import PRESETS
    from simulators.dram.mapping import AddressMapping
    from simulators.dram.timing import timing_vector

    dev = PRESETS["DDR4_8Gb_x8_2400"]
    amap = AddressMapping("rochrababgco", dev)
    tr = mixed(20_000, seed=4)
    P = timing_vector(dev, "dramsim3" if isinstance(ctrl, Dramsim3Like) else "jedec")
    ch = _Channel(ctrl, P, False)
    stats = _Stats()
    widest = 0
    for s in range(0, 20_000, 500):
        f = amap.decode(tr.addr[s:s + 500])
        ch.feed({"arr": tr.cycle[s:s + 500], "isw": tr.is_write[s:s + 500],
                 "addr": tr.addr[s:s + 500], "fb": amap.flat_bank(f), "row": f["row"],
                 "col": f["column"]}, s + 500 == 20_000, stats)
        widest = max(widest, ch.win["arr"].size)
    assert widest < 1000 and ch.win["arr"].size == 0
    assert stats.read.count + stats.write.count == 20_000


def test_streamed_file_gives_the_same_run(tmp_path):
    tr = mixed(30_000, seed=1)
    path = write_trace(tr, tmp_path / "t.trace.gz")
    whole = simulate(tr)
    parts = list(iter_trace(path, block_bytes=4096))
    assert len(parts) > 50  # really in pieces
    _same(simulate(iter_trace(path, block_bytes=4096)), whole)
    _same(simulate(read_trace(path)), whole)
    knobs = ControllerConfig(PagePolicy="ClosedAdaptive", RespQueue="Reorder")
    _same(simulate(iter_trace(path, block_bytes=4096), controller=knobs),
          simulate(tr, controller=knobs))


def test_blocks_parse_like_one_pass(tmp_path):
    # lenient lines and a line longer than a block parse the same in any block size
    text = ("# comment\n0x40 READ 0\n\n  80\twrite  3  # tail\r\n0XfF read 3\n"
            + "".join(f"0x{k * 64:x} WRITE {4 + k}\n" for k in range(500)))
    p = tmp_path / "a.trace"
    p.write_text(text)
    whole = read_trace(p)
    for block in (7, 64, 1000):
        parts = list(iter_trace(p, block_bytes=block))
        got = Trace(*(np.concatenate([getattr(t, f) for t in parts])
                      for f in ("addr", "is_write", "cycle")))
        assert np.array_equal(got.addr, whole.addr) and np.array_equal(got.cycle, whole.cycle)
        assert np.array_equal(got.is_write, whole.is_write)


def test_errors_name_the_line_across_blocks(tmp_path):
    lines = [f"0x{k * 64:x} READ {k}" for k in range(400)]
    lines[300] = "0x40 READ 5"  # earlier than line 300's predecessor
    p = tmp_path / "dec.trace.gz"
    p.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    with pytest.raises(TraceFormatError, match=r"dec\.trace\.gz:301: cycle 5 is earlier"):
        list(iter_trace(p, block_bytes=256))
    lines[300] = "0x40 FETCH 301"
    p.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    with pytest.raises(TraceFormatError, match=r"dec\.trace\.gz:301: unknown operation"):
        list(iter_trace(p, block_bytes=256))
    with pytest.raises(ValueError, match="non-decreasing"):
        simulate([Trace(np.zeros(2, np.uint64), np.zeros(2, bool), np.array([5, 6])),
                  Trace(np.zeros(1, np.uint64), np.zeros(1, bool), np.array([4]))])


def test_latency_histogram_is_exact_below_its_limit():
    rng = np.random.default_rng(3)
    values = rng.integers(0, 5000, 10_001)
    h = LatencyHistogram()
    for part in np.array_split(values, 7):
        h.add(part)
    s = np.sort(values)
    for p in (1, 50, 90, 99, 100):
        k = max(1, int(np.ceil(p / 100 * s.size)))
        assert h.percentile(p) == s[k - 1]
    assert h.mean() == values.mean() and h.max == s[-1] and h.count == s.size
    assert np.array_equal(h.values(), s)
    big = LatencyHistogram()
    big.add(np.array([1, LatencyHistogram.EXACT + 5000]))
    assert big.max == LatencyHistogram.EXACT + 5000  # exact, even when binned
    assert abs(big.percentile(100) - big.max) < 2 ** LatencyHistogram.COARSE_SHIFT
