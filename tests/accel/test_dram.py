"""The fast DRAM-traffic model against the literal SCALE-Sim semantics (tests/accel/literal)
on random small layers, and its closed forms against brute force."""

import math

import numpy as np
import pytest

from simulators.accel import AccelConfig, Layer, simulate_layer
from simulators.accel.dram import (
    chunk_words,
    ifmap_footprint,
    ofmap_dram_writes,
    periodic_reads,
    windows_overlap,
)
from tests.accel import literal


def _random_case(rng):
    h, w = int(rng.integers(3, 16)), int(rng.integers(3, 16))
    fh, fw = int(rng.integers(1, min(h, 5) + 1)), int(rng.integers(1, min(w, 5) + 1))
    layer = Layer("x", h, w, fh, fw, int(rng.choice([1, 2, 3, 8, 16])),
                  int(rng.integers(1, 30)), int(rng.integers(1, 4)))
    cfg = AccelConfig(int(rng.integers(2, 20)), int(rng.integers(2, 20)),
                      *(int(rng.choice([1, 2, 3])) for _ in range(3)),
                      str(rng.choice(["os", "ws", "is"])))
    return layer, cfg


@pytest.mark.parametrize("seed", range(24))
def test_matches_literal_scalesim(seed):
    layer, cfg = _random_case(np.random.default_rng(seed))
    res = simulate_layer(layer, cfg)
    cycles, stalls, d_if, d_fi, d_of = literal.run(
        layer.ifmap_h, layer.ifmap_w, layer.filter_h, layer.filter_w, layer.channels,
        layer.num_filters, layer.stride, cfg.array_rows, cfg.array_cols, cfg.dataflow,
        (cfg.ifmap_sram_kb, cfg.filter_sram_kb, cfg.ofmap_sram_kb))
    assert (res.total_cycles, res.stall_cycles) == (cycles, stalls)
    assert res.dram_filter_reads == d_fi
    assert res.dram_ofmap_writes == d_of
    assert res.dram_ifmap_reads == pytest.approx(d_if, rel=0.02)


def _brute_periodic(segments, cap):
    stream, base = [], 0
    for period, repeats in segments:
        stream += list(range(base, base + period)) * repeats
        base += period
    return literal.chunk_reads(stream, cap)


@pytest.mark.parametrize("seed", range(10))
def test_periodic_reads_closed_form(seed):
    rng = np.random.default_rng(100 + seed)
    kb = int(rng.integers(1, 4))
    segs = [(int(rng.integers(1, 2500)), int(rng.integers(1, 5)))
            for _ in range(int(rng.integers(1, 5)))]
    assert periodic_reads(segs, chunk_words(kb)) == _brute_periodic(segs, kb)


def test_chunk_is_half_of_hundred_sets():
    assert chunk_words(1) == 50 * 10
    assert chunk_words(64) == 50 * 655


@pytest.mark.parametrize(("writes", "kb", "width"),
                         [(100, 1, 8), (513, 1, 8), (5000, 1, 5), (12345, 2, 7),
                          (99_991, 1, 3), (250_000, 3, 14)])
def test_ofmap_writes_match_line_by_line(writes, kb, width):
    rows = np.full((math.ceil(writes / width), width), -1, dtype=np.int64)
    rows.ravel()[:writes] = np.arange(writes)
    expected, stalls = literal.ofmap_writes(rows, kb, width)
    assert stalls == 0
    assert ofmap_dram_writes(writes, kb, width) == expected
    assert writes <= expected < writes + width


def test_footprint_and_overlap_by_enumeration():
    for h, w, fh, fw, c, s in [(10, 10, 3, 3, 2, 1), (16, 13, 3, 3, 1, 2), (15, 15, 2, 2, 3, 3),
                               (9, 11, 5, 5, 1, 1), (20, 20, 7, 7, 1, 2), (8, 8, 1, 1, 4, 2)]:
        a, _, _ = literal.operands(h, w, fh, fw, c, 1, s)
        assert ifmap_footprint(h, w, fh, fw, c, s) == len(np.unique(a[a >= 0]))
        valid = a[a >= 0]
        assert windows_overlap(h, w, fh, fw, s) == (len(np.unique(valid)) < valid.size)
