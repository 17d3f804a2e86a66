"""A literal, slow rendering of SCALE-Sim v3's CALC-mode semantics, as a test oracle.

It builds the operand address matrices and the per-fold demand matrices exactly as
SCALE-Sim lays them out (padding, flips, prefix/suffix gaps, skew), flattens them in request
order and runs the buffer rules request by request: the IFMAP/filter chunk rule of
``read_buffer_estimate_bw.py`` and the OFMAP line/drain rule of ``write_buffer.py`` (with its
cycle bookkeeping). The fast model in ``simulators.accel`` must agree with it; it is only
usable on small layers.
"""

from __future__ import annotations

import math

import numpy as np


def operands(h, w, fh, fw, c, n, s):
    """IFMAP (M x K), filter (K x N) and OFMAP (M x N) address matrices; -1 = padding."""
    eh, ew = math.ceil((h - fh + s) / s), math.ceil((w - fw + s) / s)
    m_px, k_win = eh * ew, fh * fw * c
    m = np.arange(m_px)[:, None]
    k = np.arange(k_win)[None, :]
    y = (m // ew) * s + k // (fw * c)
    x = (m % ew) * s + (k % (fw * c)) // c
    a = np.where((y < h) & (x < w), (y * w + x) * c + k % c, -1)
    b = np.arange(n)[None, :] * k_win + np.arange(k_win)[:, None] + 10_000_000
    o = np.arange(m_px)[:, None] * n + np.arange(n)[None, :] + 20_000_000
    return a, b, o


def _pad(block, r, c):
    out = np.full((r, c), -1, dtype=np.int64)
    out[:block.shape[0], :block.shape[1]] = block
    return out


def _skew(b):
    r, c = b.shape
    out = np.full((r + c - 1, c), -1, dtype=np.int64)
    for j in range(c):
        out[j:j + r, j] = b[:, j]
    return out


def _gap(rows, width):
    return np.full((rows, width), -1, dtype=np.int64)


def demand(a, b, o, rows, cols, dataflow):
    """The three demand matrices (one row per cycle) of SCALE-Sim's compute model."""
    m_px, k_win = a.shape
    n = b.shape[1]
    r, c = rows, cols
    ifm, fil, ofm = [], [], []
    if dataflow == "os":
        for fc in range(math.ceil(n / c)):
            for fr in range(math.ceil(m_px / r)):
                ifm.append(_skew(np.vstack([_pad(a[fr * r:fr * r + r].T, k_win, r),
                                            _gap(c - 1, r)])))
                fil.append(_skew(np.vstack([_pad(b[:, fc * c:fc * c + c], k_win, c),
                                            _gap(r - 1, c)])))
                out = _pad(o[fr * r:fr * r + r, fc * c:fc * c + c], r, c)[::-1]
                ofm.append(_skew(np.vstack([_gap(k_win - 1, c), out])))
    elif dataflow == "ws":
        for fc in range(math.ceil(n / c)):
            for fr in range(math.ceil(k_win / r)):
                ifm.append(_skew(np.vstack([_gap(r, r), _pad(a[:, fr * r:fr * r + r], m_px, r),
                                            _gap(c - 1, r)])))
                blk = _pad(b[fr * r:fr * r + r, fc * c:fc * c + c], r, c)[::-1]
                fil.append(np.vstack([blk, _gap(r + c + m_px - 2, c)]))
                ofm.append(_skew(np.vstack([_gap(2 * r - 1, c),
                                            _pad(o[:, fc * c:fc * c + c], m_px, c)])))
    else:
        for fc in range(math.ceil(m_px / c)):
            for fr in range(math.ceil(k_win / r)):
                blk = _pad(a.T[fr * r:fr * r + r, fc * c:fc * c + c], r, c)[::-1]
                ifm.append(np.vstack([blk, _gap(r + c + n - 2, c)]))
                fil.append(_skew(np.vstack([_gap(r, r), _pad(b[fr * r:fr * r + r].T, n, r),
                                            _gap(c - 1, r)])))
                ofm.append(_skew(np.vstack([_gap(2 * r - 1, c),
                                            _pad(o[fc * c:fc * c + c].T, n, c)])))
    return np.vstack(ifm), np.vstack(fil), np.vstack(ofm)


def chunk_reads(stream, sram_kb):
    """DRAM reads of a read SRAM: the set/chunk rule, request by request."""
    cap = 50 * ((sram_kb * 1024) // 100)
    stamp, chunk, fill, misses = {}, 0, 0, 0
    for addr in stream:
        if addr == -1 or stamp.get(addr) == chunk:
            continue
        stamp[addr] = chunk
        misses += 1
        fill += 1
        if fill == cap:
            chunk, fill = chunk + 1, 0
    return misses


def ofmap_writes(ofm, sram_kb, width):
    """DRAM writes and stall cycles of the OFMAP SRAM, cycle by cycle and word by word."""
    size = sram_kb * 1024
    half = size - math.ceil(size * 0.5)
    group = math.ceil(half / width)
    pads: list[int] = []
    st = {"idx": 0, "start": 0, "written": 0, "free": size}

    def close():
        if st["idx"]:
            pads.append(width - st["idx"])
            st["idx"] = 0

    def drain(cycle):
        end = min(st["start"] + group, len(pads))
        data = (end - st["start"]) * width - pads[end - 1]
        st["written"] += data
        st["free"] += data
        n_lines = end - st["start"]
        st["start"] = end
        return cycle + n_lines - 1

    drain_end, stalls = 0, 0
    for i, row in enumerate(ofm):
        cycle, offset = i + stalls, 0
        for word in row:
            if word == -1:
                continue
            st["idx"] += 1
            st["free"] -= 1
            if st["idx"] == width:
                pads.append(0)
                st["idx"] = 0
            if cycle < drain_end:
                if st["free"] <= 0:
                    offset += drain_end - cycle
                    cycle = drain_end
            elif st["free"] < size - half:
                close()
                drain_end = drain(cycle)
        stalls += offset
    close()
    cycle = len(ofm) - 1 + stalls
    while st["start"] < len(pads):
        cycle = drain(cycle) + 1
    return st["written"], stalls


def run(h, w, fh, fw, c, n, s, rows, cols, dataflow, sram_kb):
    """Cycles and DRAM traffic of one layer: (total cycles, stalls, DRAM IFMAP, filter and
    OFMAP counts); ``sram_kb`` = (ifmap, filter, ofmap) kB."""
    a, b, o = operands(h, w, fh, fw, c, n, s)
    ifm, fil, ofm = demand(a, b, o, rows, cols, dataflow)
    written, stalls = ofmap_writes(ofm, sram_kb[2], cols)
    return (len(ofm) - 1 + stalls, stalls, chunk_reads(ifm.ravel(), sram_kb[0]),
            chunk_reads(fil.ravel(), sram_kb[1]), written)
