"""The result of one DRAM simulation, serialisable to JSON."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np


def nearest_rank(sorted_values: np.ndarray, p: float) -> float:
    """Nearest-rank percentile of an ascending array (``p`` in percent); 0 when empty."""
    n = sorted_values.size
    if n == 0:
        return 0.0
    k = max(1, int(np.ceil(p / 100.0 * n)))
    return float(sorted_values[min(k, n) - 1])


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
    access after its ACT). ``num_pre`` counts bank precharges: PRE commands, auto-precharges
    (RDA/WRA) and the open banks closed by each rank-wide PREA (``num_prea`` counts those
    commands), comparable with DRAMsim3's per-bank PRE count.

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
    energy_pj: float
    energy_breakdown_pj: dict[str, float]
    avg_power_mw: float
    sim_cycles: int
    sim_time_ns: float
    device: str
    controller: str | dict[str, Any]
    mapping: str
    commands: np.ndarray | None = field(default=None, repr=False, compare=False)
    read_latency_cycles: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict of every figure (not the command log or latency array)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("commands", "read_latency_cycles"):
                continue
            v = getattr(self, f.name)
            if isinstance(v, dict):
                v = dict(v)
            elif isinstance(v, np.generic):
                v = v.item()
            out[f.name] = v
        return out
