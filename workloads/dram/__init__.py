"""DRAM request traces: the shipped ones by name, and seeded generators for any size.

Shipped traces (``traces/<name>.trace.gz``, DRAMsim3 format, 64-byte requests, cycles in
memory clock cycles of DDR4-2400, tCK = 0.83 ns), 20,000 requests each:

- ``stream``: sequential reads from address 0, one every 4 cycles;
- ``random``: uniform random reads over 4 GiB, one every 10 cycles;
- ``strided``: reads with an 8 KiB stride, one every 8 cycles;
- ``cloud``: a cloud-server-like mix (see :func:`cloud`): several interleaved sequential
  streams plus random accesses, 30 % writes, bursty (exponential) arrivals.

The first three are exactly the traces DRAMsim3's reference figures were measured on
(``generate_traces.py`` of the team's DRAM reference, same seeds and 32-bit random draws),
so :func:`generate` reproduces them bit for bit; ``tests/dram/test_fidelity.py`` compares
the simulator with DRAMsim3 on them.
"""

from __future__ import annotations

import random
from importlib import resources
from pathlib import Path

import numpy as np

from simulators.dram.trace import Trace, read_trace

LINE = 64  #: bytes per request (one BL8 burst on a 64-bit bus)
SPACE = 4 << 30  #: random traces address 4 GiB
SHIPPED_LENGTH = 20_000
KINDS = ("stream", "random", "strided", "cloud")
#: per-kind seeds of the shipped traces (the DRAMsim3 reference's for the first three)
SHIPPED_SEEDS = {"stream": 1001, "random": 1003, "strided": 1005, "cloud": 1007}


def stream(n: int, seed: int = 0, interval: int = 4) -> Trace:
    """Sequential 64 B reads from address 0, one every ``interval`` cycles."""
    i = np.arange(n, dtype=np.int64)
    return Trace((i * LINE).astype(np.uint64), np.zeros(n, bool), i * interval, "stream")


def random_reads(n: int, seed: int = 0, interval: int = 10) -> Trace:
    """Uniform random 64 B lines over 4 GiB, one read every ``interval`` cycles.

    Uses Python's ``random.Random(seed).getrandbits`` (version-stable), as the DRAMsim3
    reference trace does, so ``seed=1003`` gives that trace exactly.
    """
    rng = random.Random(seed)
    bits = (SPACE // LINE).bit_length() - 1
    addr = np.fromiter((rng.getrandbits(bits) for _ in range(n)), dtype=np.uint64, count=n)
    i = np.arange(n, dtype=np.int64)
    return Trace(addr * np.uint64(LINE), np.zeros(n, bool), i * interval, "random")


def strided(n: int, seed: int = 0, interval: int = 8, stride: int = 8 << 10) -> Trace:
    """Reads ``stride`` bytes apart (wrapping at 4 GiB), one every ``interval`` cycles."""
    i = np.arange(n, dtype=np.int64)
    return Trace(((i * stride) % SPACE).astype(np.uint64), np.zeros(n, bool), i * interval,
                 "strided")


def cloud(n: int, seed: int = 0, mean_interval: float = 12.0, streams: int = 8,
          random_fraction: float = 0.3, write_fraction: float = 0.3) -> Trace:
    """A cloud-server-like mix: ``streams`` interleaved sequential streams at random 1 MiB-
    aligned bases (key-value scans, copies) and ``random_fraction`` of uniform random lines
    (pointer chasing, hash lookups); ``write_fraction`` writes; exponential inter-arrival
    gaps (mean ``mean_interval`` cycles) give bursts. Seeded with ``numpy`` (PCG64)."""
    rng = np.random.default_rng(seed)
    bases = rng.integers(0, SPACE >> 20, size=streams, dtype=np.uint64) << np.uint64(20)
    which = rng.integers(0, streams, size=n)
    # position of each request within its own stream: a running count per stream
    pos = np.zeros(n, dtype=np.uint64)
    for s in range(streams):
        idx = np.flatnonzero(which == s)
        pos[idx] = np.arange(idx.size, dtype=np.uint64)
    addr = (bases[which] + pos * np.uint64(LINE)) % np.uint64(SPACE)
    rand = rng.random(n) < random_fraction
    addr[rand] = rng.integers(0, SPACE // LINE, size=int(rand.sum()), dtype=np.uint64) \
        * np.uint64(LINE)
    gaps = np.floor(rng.exponential(mean_interval, size=n)).astype(np.int64)
    cycle = np.cumsum(gaps) - gaps[0]
    return Trace(addr, rng.random(n) < write_fraction, cycle, "cloud")


_GENERATORS = {"stream": stream, "random": random_reads, "strided": strided, "cloud": cloud}


def generate(kind: str, n: int, seed: int | None = None, **kwargs) -> Trace:
    """A ``kind`` trace of ``n`` requests; ``seed`` defaults to the shipped trace's seed."""
    if kind not in _GENERATORS:
        raise ValueError(f"unknown DRAM workload kind {kind!r}; kinds: {', '.join(KINDS)}")
    if n < 1:
        raise ValueError(f"a trace needs n >= 1 requests, got {n}")
    trace = _GENERATORS[kind](n, SHIPPED_SEEDS[kind] if seed is None else seed, **kwargs)
    return Trace(trace.addr, trace.is_write, trace.cycle, kind)


def available() -> list[str]:
    """Names of the shipped traces."""
    return list(KINDS)


def trace_path(name: str) -> Path:
    """Path of a shipped trace file."""
    if name not in KINDS:
        raise ValueError(f"no shipped DRAM trace {name!r}; shipped: {', '.join(KINDS)}")
    return Path(str(resources.files(__name__) / "traces" / f"{name}.trace.gz"))


def load(name: str) -> Trace:
    """A shipped trace by name."""
    trace = read_trace(trace_path(name))
    return Trace(trace.addr, trace.is_write, trace.cycle, name)
