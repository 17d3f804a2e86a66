"""DRAM traffic of SCALE-Sim's double-buffered SRAMs in CALC (stall-free) mode.

IFMAP and filter reads (``scalesim/memory/read_buffer_estimate_bw.py``). SCALE-Sim splits each
read SRAM of ``B`` bytes (1-byte words) into 100 sets of ``floor(B / 100)`` words; half of them,
``cap = 50 * floor(B / 100)`` words, form the working chunk. Walking the array's read requests
in order, an address is a hit when it was fetched since the current chunk began, otherwise a
DRAM read; after ``cap`` reads the chunk is complete and the next one starts empty. So the
DRAM reads of an operand are a pure function of its SRAM request stream: the number of
addresses that are new within the chunk. This module computes them

* exactly in closed form for every stream that is a repetition of distinct addresses: all
  filter streams (``os`` re-reads each column block of filters once per row fold, ``is``
  re-reads all filters once per column fold, ``ws`` reads each filter once), IFMAP streams of
  GEMMs and of convolutions whose windows do not overlap, and any IFMAP whose touched
  elements number fewer than ``cap`` (each is read once);
* for convolutions with overlapping windows that do not fit, by replaying the request stream
  in SCALE-Sim's exact order (skewed fold by fold) through the chunk rule, with channels
  gathered into blocks of ``g`` when the reordering this implies (at most ``g`` times the
  number of array lanes per fold) stays below 1/64 of a chunk. ``os`` and ``ws`` sweep the
  IFMAP once per column fold, each time in the same order: the first sweep starts with an
  empty chunk, every later one in the state the previous left, so when the whole stream
  exceeds :data:`REPLAY_BUDGET` requests, sweeps after the second are counted like the
  second.

OFMAP writes (``scalesim/memory/write_buffer.py``): outputs are packed into lines of
``ArrayWidth`` words; once more than half of the OFMAP SRAM is occupied, the partial line is
closed and ``ceil(half / width)`` lines are drained. SCALE-Sim counts a drained group as full
lines except for the padding of its last line, so a closed partial line in the middle of a
group adds its padding. :func:`ofmap_dram_writes` runs that count exactly (the drain never
stalls the array when a cycle produces at most one line, as every dataflow does).
"""

from __future__ import annotations

import math
from collections import deque
from functools import lru_cache

import numpy as np
from numba import njit

from simulators.accel.topology import Layer

# Collapsing channels reorders up to g * lanes requests; keep that below cap / GRANULE.
GRANULE = 64
# IFMAP streams up to this many (collapsed) requests are replayed whole (a few ms).
REPLAY_BUDGET = 250_000


def chunk_words(sram_kb: int) -> int:
    """Words in SCALE-Sim's working chunk of a read SRAM of ``sram_kb`` kB."""
    return 50 * ((sram_kb * 1024) // 100)


def periodic_reads(segments: list[tuple[int, int]], cap: int) -> int:
    """DRAM reads of a stream made of segments ``(period, repeats)``: each segment repeats
    one ordered list of ``period`` distinct addresses (disjoint from other segments')."""
    fill = 0
    misses = 0
    for period, repeats in segments:
        if period >= cap:  # every request is new within its chunk
            misses += period * repeats
            fill = (fill + period * repeats) % cap
        elif fill + period < cap or repeats == 1:  # fits in the chunk, re-reads all hit
            misses += period
            fill = (fill + period) % cap
        else:  # the chunk fills during the first pass: its head is fetched once more
            head = cap - fill
            misses += period + head
            fill = period
    return misses


def _lattice_cover(extent: int, window: int, stride: int, count: int) -> int:
    """Positions of ``[0, extent)`` covered by ``count`` windows of ``window`` at ``stride``."""
    if window >= stride:
        return min(extent, (count - 1) * stride + window)
    full = min(count, extent // stride)
    return full * window + min(window, max(0, extent - full * stride)) * (count > full)


def ifmap_footprint(h: int, w: int, fh: int, fw: int, c: int, s: int) -> int:
    """Distinct IFMAP elements the convolution reads (padding addresses excluded)."""
    eh = math.ceil((h - fh + s) / s)
    ew = math.ceil((w - fw + s) / s)
    return c * _lattice_cover(h, fh, s, eh) * _lattice_cover(w, fw, s, ew)


def compulsory_dram_bytes(layer: Layer) -> int:
    """Words every schedule moves across the DRAM interface: each IFMAP element the layer
    reads, each filter weight and each output once (a lower bound of the model's traffic)."""
    return (ifmap_footprint(layer.ifmap_h, layer.ifmap_w, layer.filter_h, layer.filter_w,
                            layer.channels, layer.stride)
            + layer.k * layer.n + layer.m * layer.n)


def windows_overlap(h: int, w: int, fh: int, fw: int, s: int) -> bool:
    """True when two OFMAP pixels read a common IFMAP element."""
    eh = math.ceil((h - fh + s) / s)
    ew = math.ceil((w - fw + s) / s)
    return (fh > s and eh > 1) or (fw > s and ew > 1)


@njit(cache=True)
def _replay(df, h, w, ch, s, fw, ew, m_px, k_win, rows, cols, g, cap, passes):
    """Chunk-rule DRAM reads of the IFMAP request stream (SCALE-Sim order, see module).

    ``df``: 0 os, 1 ws, 2 is. With ``g > 1`` the window index runs over blocks of ``g``
    channels (``k_win`` blocks), each request standing for ``g`` reads. Replays ``passes``
    passes (one per column fold for os and ws; is makes one pass) and returns the reads of
    all of them and of the last one.
    """
    nb = ch // g
    my = np.empty(m_px, np.int64)
    mx = np.empty(m_px, np.int64)
    for m in range(m_px):
        my[m] = (m // ew) * s
        mx[m] = (m % ew) * s
    ky = np.empty(k_win, np.int64)
    kx = np.empty(k_win, np.int64)
    kc = np.empty(k_win, np.int64)
    for k in range(k_win):
        o = k // nb
        kc[k] = k - o * nb
        ky[k] = o // fw
        kx[k] = o - (o // fw) * fw
    stamp = np.full(h * w * nb, -1, np.int32)
    chunk = 0
    fill = 0
    misses = 0
    last = 0
    lanes = rows // g  # ws/is: lanes run over window blocks
    shift = g // 2
    n_a = (m_px + rows - 1) // rows if df == 0 else (k_win + lanes - 1) // lanes
    n_b = passes if df != 2 else (m_px + cols - 1) // cols
    for fold in range(n_a * n_b):
        a = fold % n_a
        if a == 0 and df != 2:  # a new pass over the IFMAP
            last = misses
        if df == 0:  # os: `rows` pixels x whole window, skewed by lane
            f0 = a * rows
            ru = min(rows, m_px - f0)
            n_i, n_j = k_win + (ru - 1 + shift) // g, ru
        elif df == 1:  # ws: window blocks x all pixels, skewed by lane
            k0 = a * lanes
            ku = min(lanes, k_win - k0)
            n_i, n_j = m_px + (ku - 1) * g + shift, ku
        else:  # is: window blocks (descending) x `cols` pixels
            m0 = (fold // n_a) * cols
            k0 = a * lanes
            ku = min(lanes, k_win - k0)
            n_i, n_j = ku, min(cols, m_px - m0)
        for i in range(n_i):
            for j in range(n_j):
                if df == 0:
                    m = f0 + j
                    k = i - (j + shift) // g
                    if k < 0 or k >= k_win:
                        continue
                elif df == 1:
                    m = i - j * g - shift
                    if m < 0 or m >= m_px:
                        continue
                    k = k0 + j
                else:
                    m = m0 + j
                    k = k0 + ku - 1 - i
                y = my[m] + ky[k]
                x = mx[m] + kx[k]
                if y < h and x < w:
                    adr = (y * w + x) * nb + kc[k]
                    if stamp[adr] != chunk:
                        stamp[adr] = chunk
                        misses += g
                        fill += g
                        if fill >= cap:
                            chunk += 1
                            fill -= cap
    return misses, misses - last


def _collapse(ch: int, lanes: int, cap: int, align: int) -> int:
    """Largest channel block ``g`` dividing ``ch`` and ``align`` with ``g * lanes`` at most
    ``cap / GRANULE`` (1 when none is larger)."""
    limit = cap // (GRANULE * lanes)
    best = 1
    for g in range(2, min(ch, limit) + 1):
        if ch % g == 0 and align % g == 0:
            best = g
    return best


@lru_cache(maxsize=1 << 14)
def ifmap_dram_reads(h: int, w: int, fh: int, fw: int, ch: int, s: int, n: int,
                     rows: int, cols: int, dataflow: str, sram_kb: int) -> int:
    """DRAM reads of the IFMAP SRAM for one layer (see the module docstring)."""
    cap = chunk_words(sram_kb)
    eh = math.ceil((h - fh + s) / s)
    ew = math.ceil((w - fw + s) / s)
    m_px, k_win = eh * ew, fh * fw * ch
    footprint = ifmap_footprint(h, w, fh, fw, ch, s)
    if footprint < cap:
        return footprint
    passes = math.ceil(n / cols) if dataflow in ("os", "ws") else 1
    if not windows_overlap(h, w, fh, fw, s):
        return periodic_reads([(footprint, passes)], cap)
    if dataflow == "os":
        g = _collapse(ch, rows, cap, ch)
    else:
        g = _collapse(ch, rows if dataflow == "ws" else cols, cap, math.gcd(rows, ch))
    df = ("os", "ws", "is").index(dataflow)
    replayed = passes if passes * m_px * (k_win // g) <= REPLAY_BUDGET else min(passes, 2)
    misses, last = _replay(df, h, w, ch, s, fw, ew, m_px, k_win // g, rows, cols, g, cap,
                           replayed)
    return int(misses + (passes - replayed) * last)


def filter_dram_reads(k: int, n: int, m: int, rows: int, cols: int, dataflow: str,
                      sram_kb: int) -> int:
    """DRAM reads of the filter SRAM (exact: filter streams repeat distinct addresses)."""
    cap = chunk_words(sram_kb)
    if dataflow == "os":
        folds_row = math.ceil(m / rows)
        segments = [(k * min(cols, n - c0), folds_row) for c0 in range(0, n, cols)]
    elif dataflow == "ws":
        segments = [(k * n, 1)]
    else:
        segments = [(k * n, math.ceil(m / cols))]
    return periodic_reads(segments, cap)


def _take(queue: deque, lines: int, width: int) -> int:
    """Drain up to ``lines`` lines from ``queue`` of ``[count, pad]`` runs; SCALE-Sim counts
    them as full except for the padding of the last one."""
    taken = 0
    pad = 0
    while queue and taken < lines:
        run = queue[0]
        step = min(run[0], lines - taken)
        taken += step
        pad = run[1]
        run[0] -= step
        if run[0] == 0:
            queue.popleft()
    return taken * width - pad


def _push(queue: deque, elements: int, width: int) -> None:
    full, part = divmod(elements, width)
    if full:
        if queue and queue[-1][1] == 0:
            queue[-1][0] += full
        else:
            queue.append([full, 0])
    if part:
        queue.append([1, width - part])


def ofmap_dram_writes(writes: int, sram_kb: int, width: int) -> int:
    """DRAM writes SCALE-Sim reports for ``writes`` OFMAP words through an OFMAP SRAM of
    ``sram_kb`` kB drained in lines of ``width`` words (see the module docstring)."""
    size = sram_kb * 1024
    half = size // 2
    group = math.ceil(half / width)
    queue: deque = deque()
    occupied = 0
    written = 0
    remaining = writes
    seen: dict = {}
    while True:
        need = half + 1 - occupied  # words until occupancy exceeds half the SRAM
        if need > remaining:
            break
        remaining -= need
        _push(queue, need, width)
        drained = _take(queue, group, width)
        written += drained
        occupied += need - drained
        state = (occupied, tuple(map(tuple, queue)))
        if state in seen:  # the drain pattern repeats: skip whole periods
            r0, w0 = seen.pop(state)
            period = r0 - remaining
            if period > 0:
                skip = max(0, remaining - 2 * (half + width * group)) // period
                remaining -= skip * period
                written += skip * (written - w0)
            seen.clear()
        else:
            seen[state] = (remaining, written)
    _push(queue, remaining, width)
    while queue:
        written += _take(queue, group, width)
    return written
