"""The result of one DRAM simulation, serialisable to JSON, and its latency histograms."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np


class LatencyHistogram:
    """Counts of non-negative integer latencies (cycles), merged chunk by chunk.

    Values below ``EXACT`` (2**22 cycles, 3.5 ms at DDR4-2400) are counted one by one, so
    the nearest-rank percentiles, the mean and the maximum are exact; larger values (the
    total latency of a trace that outruns its memory for millions of cycles) fall into bins
    of ``2**COARSE_SHIFT`` cycles and a percentile among them is its bin's lower edge (at most
    0.025 % low). The mean and maximum stay exact (running sum and maximum).
    """

    EXACT = 1 << 22
    COARSE_SHIFT = 10

    def __init__(self) -> None:
        self.count = 0
        self.total = 0
        self.max = 0
        self.fine = np.zeros(0, dtype=np.int64)
        self.coarse = np.zeros(0, dtype=np.int64)

    def add(self, values: np.ndarray) -> None:
        v = np.asarray(values, dtype=np.int64)
        if v.size == 0:
            return
        if v.min() < 0:
            raise ValueError("latencies must be non-negative")
        self.count += int(v.size)
        self.total += int(v.sum())
        self.max = max(self.max, int(v.max()))
        big = v >= self.EXACT
        if big.any():
            self.coarse = _add_counts(self.coarse, v[big] >> self.COARSE_SHIFT)
            v = v[~big]
        self.fine = _add_counts(self.fine, v, self.EXACT)

    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile (``p`` in percent); 0 when empty."""
        if self.count == 0:
            return 0.0
        k = max(1, math.ceil(p / 100.0 * self.count))
        cum = np.cumsum(self.fine)
        if cum.size and cum[-1] >= k:
            return float(np.searchsorted(cum, k))
        ck = np.cumsum(self.coarse)
        return float(int(np.searchsorted(ck, k - (cum[-1] if cum.size else 0)))
                     << self.COARSE_SHIFT)

    def values(self) -> np.ndarray:
        """The sorted latencies (exact part only; for tests and small traces)."""
        return np.repeat(np.arange(self.fine.size, dtype=np.int64), self.fine)


def _add_counts(counts: np.ndarray, v: np.ndarray, limit: int | None = None) -> np.ndarray:
    """``counts`` with the values ``v`` counted in; grows (doubling, up to ``limit``) to hold
    the largest. Counting from the chunk's smallest value keeps the temporary as small as
    the chunk's range of values."""
    if v.size == 0:
        return counts
    lo = int(v.min())
    bc = np.bincount(v - lo)
    need = lo + bc.size
    if need > counts.size:
        size = 2 * counts.size if limit is None else min(2 * counts.size, limit)
        grown = np.zeros(max(need, size), dtype=np.int64)
        grown[:counts.size] = counts
        counts = grown
    counts[lo:need] += bc
    return counts


@dataclass(frozen=True)
class DramResult:
    """Figures of one run. Times in ns unless named ``_cycles``; energy in pJ.

    Read latency runs from the controller accepting the request to the last data beat
    (``dramsim3_like``), or from the request reaching the controller to the controller's
    response (DRAMSys knobs: DRAMSys's REQ-to-RESP latency, which includes waiting for buffer
    room at the controller's door and in the response queue). ``avg_latency_ns`` averages
    the same figure over reads and writes (DRAMSys's controller latency). Bandwidth and
    average power are taken over ``sim_time_ns``, the time until the last request completes.
    ``row_hit_rate`` counts RD/WR that found their row already open and served (not the first
    access after its ACT). ``num_pre`` counts bank precharges: PRE commands and the open banks
    closed by each rank-wide PREA (``num_prea`` counts those commands), comparable with
    DRAMsim3's per-bank PRE count, plus the DRAMSys knob engine's auto-precharges (RDA / WRA;
    ``dramsim3_like`` does not count them, as DRAMsim3). ``num_refsb`` counts same-bank
    refreshes.

    With ``record_commands``, ``commands`` is the command log and ``served_by`` lists the
    requests no command of their own serves, as (request, request whose command serves it)
    pairs: reads merged into a pending read of their address, and reads answered by (or
    writes merged into) a pending write (``dramsim3_like``, as DRAMsim3).

    ``*_total_latency_ns`` run from the request's arrival in the trace to the requester
    receiving the data: they add the time a request waits before the controller (back-
    pressure that the controller-based figures, like DRAMSys' and DRAMsim3's, leave out) and,
    for the DRAMSys knobs, the arbiter's response path. ``sim_time_ns`` ends when the last
    response is received (DRAMSys's "Total Time").
    """

    num_reads: int
    num_writes: int
    avg_read_latency_ns: float
    p50_read_latency_ns: float
    p90_read_latency_ns: float
    p99_read_latency_ns: float
    max_read_latency_ns: float
    avg_write_latency_ns: float
    avg_latency_ns: float
    avg_read_latency_cycles: float
    avg_read_total_latency_ns: float
    p99_read_total_latency_ns: float
    bandwidth_gbps: float
    row_hit_rate: float
    num_act: int
    num_pre: int
    num_prea: int
    num_rd: int
    num_wr: int
    num_ref: int
    num_refsb: int
    energy_pj: float
    energy_breakdown_pj: dict[str, float]
    avg_power_mw: float
    sim_cycles: int
    sim_time_ns: float
    device: str
    controller: str | dict[str, Any]
    mapping: str
    commands: np.ndarray | None = field(default=None, repr=False, compare=False)
    served_by: np.ndarray | None = field(default=None, repr=False, compare=False)
    read_latency_hist: LatencyHistogram | None = field(default=None, repr=False, compare=False)

    @property
    def read_latency_cycles(self) -> np.ndarray:
        """Every read's latency in cycles, ascending (expanded from the histogram)."""
        return self.read_latency_hist.values()

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict of every figure (not the command log or histogram)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("commands", "served_by", "read_latency_hist"):
                continue
            v = getattr(self, f.name)
            if isinstance(v, dict):
                v = dict(v)
            elif isinstance(v, np.generic):
                v = v.item()
            out[f.name] = v
        return out
