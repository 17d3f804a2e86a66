"""Prefetch/evict mode (optional, never used by the base game): copies by hand, stalls,
write-backs, engine limits, validity, and that copies never make an op faster."""

from __future__ import annotations

from fractions import Fraction

import pytest

from simulators.memmap import evaluate, greedy
from simulators.memmap.prefetch import (
    Residency,
    check_prefetch,
    from_placement,
    reservation,
    simulate_prefetch,
)
from tests.memmap.test_rules import prog
from workloads import memmap as workloads

# Bf = 2e12, Bs = 1e11 B/s, peak 1e12 FLOP/s. t0 = input x (256 B), t1 = weight W (4096 B)
# op0: compute-heavy, reads x, writes y (t2); op1 reads y and W, writes z (t3)
P = prog([256, 4096, 256, 256], [(2e5, [0], [2]), (0, [2, 1], [3])], capacity=8192)
S = Fraction(1, 10**11)  # seconds per slow byte
F = Fraction(1, 2 * 10**12)


def test_no_lead_stalls_for_the_whole_copy():
    res = [None, Residency(0, 1, 1, 1), None, None]
    r = simulate_prefetch(P, res)
    assert r.valid and r.copy_in_bytes == 4096
    op0 = max(Fraction(2 * 10**5, 10**12), 512 * S)  # 200 ns compute
    op1 = max(4096 * F, 512 * S)  # W fast, y and z slow
    assert Fraction(r.total_time_exact) == op0 + 4096 * S + op1
    assert r.stall_time_s == pytest.approx(float(4096 * S))


def test_lead_hides_the_copy_in_spare_bandwidth():
    res = [None, Residency(0, 1, 1, 0), None, None]
    r = simulate_prefetch(P, res)
    # op0 takes 200 ns and moves 512 B slow: 19,488 B of spare slow bandwidth > 4096 B
    op1 = max(4096 * F, 512 * S)
    assert r.stall_time_s == 0
    assert Fraction(r.total_time_exact) == Fraction(2, 10**7) + op1
    base = evaluate(P, (None, 0, None, None))  # the base game assumes W already resident
    assert r.total_time_s == pytest.approx(base.total_time_s, rel=1e-15)


def test_partial_overlap_then_stall():
    # op0 now memory-bound and short: spare slow bandwidth moves only part of the copy
    p = prog([256, 4096, 256, 256], [(0, [0], [2]), (0, [2, 1], [3])], capacity=8192)
    r = simulate_prefetch(p, [None, Residency(0, 1, 1, 0), None, None])
    # op0: 512 B slow -> 5.12 ns; fast tier idle: spare = min(Bs*t - 512, Bf*t) = 0
    assert Fraction(r.stall_time_s) == pytest.approx(float(4096 * S))
    p2 = prog([256, 4096, 256, 256], [(0, [0], [2]), (0, [2, 1], [3])], capacity=8192,
              bf=2e12, bs=1e11)
    r2 = simulate_prefetch(p2, [Residency(0, 0, 0, 0), Residency(256, 1, 1, 0), None, None])
    # x fast too (an input: its own 256 B copy stalls op0); op0 then moves 256 B fast and
    # 256 B slow: t = 2.56 ns and no spare slow bandwidth, so W's copy stalls op1 in full
    # op1: y and z slow (512 B, 5.12 ns) outlast W from fast (2.05 ns)
    assert Fraction(r2.total_time_exact) == (256 + 4096) * S + 256 * S + 512 * S
    assert r2.stall_time_s == pytest.approx(float(4352 * S))


def test_writeback_of_dirty_data_before_next_use():
    # t0 produced by op0, unused at op1, read again at op2
    p = prog([1024, 256, 256], [(0, [], [0]), (1e6, [1], []), (0, [0], [2])], capacity=4096)
    res = [Residency(0, 0, 0, 0), None, None]
    assert reservation(p, 0, res[0]) == (0, 1)  # held until the write-back's deadline
    r = simulate_prefetch(p, res)
    assert r.writeback_bytes == 1024 and r.copy_in_bytes == 0 and r.stall_time_s == 0
    clean = [Residency(0, 2, 2, 1), None, None]  # read at op2 after a copy-in from op1
    assert simulate_prefetch(p, clean).copy_in_bytes == 1024


def test_copy_engines_limit_concurrency():
    p = prog([2048, 2048, 256, 256], [(5e5, [2], [3]), (0, [0, 1, 3], [])], capacity=8192)
    res = [Residency(0, 1, 1, 0), Residency(2048, 1, 1, 0), None, None]
    two = simulate_prefetch(p, res, copy_engines=2, copy_bandwidth=2e10)
    one = simulate_prefetch(p, res, copy_engines=1, copy_bandwidth=2e10)
    # op0 lasts 500 ns: each engine moves at most 10,000 B; one engine: the second copy stalls
    assert two.stall_time_s == 0
    assert Fraction(one.stall_time_s) == pytest.approx(2048 / 2e10)


def test_validity():
    assert check_prefetch(P, [None, Residency(0, 0, 1, 0), None, None])  # W unused at op0
    bad = check_prefetch(P, [None, None, Residency(0, 1, 1, 0), None])  # y written at op0
    assert bad and "prefetch_from" in bad[0]
    clash = [Residency(0, 0, 0, 0), Residency(0, 1, 1, 0), None, None]
    assert any("overlap" in v for v in check_prefetch(P, clash))
    assert check_prefetch(P, [Residency(0, 0, 0, 0), Residency(256, 1, 1, 0), None, None]) \
        == []
    assert not simulate_prefetch(P, clash).valid


@pytest.mark.parametrize("name", ["small_mlp", "small_attention", "resnet18"])
def test_copies_never_speed_up_the_base_placement(name):
    p = workloads.load(name)
    base = evaluate(p, greedy(p))
    for lead in (0, 2, 8):
        res = from_placement(p, greedy(p), lead_ops=lead)
        r = simulate_prefetch(p, res)
        assert r.valid
        assert Fraction(r.total_time_exact) >= Fraction(base.total_time_exact)
    if any(p.tensors[i].kind in ("input", "weight") and o is not None
           for i, o in enumerate(greedy(p))):
        assert simulate_prefetch(p, from_placement(p, greedy(p), 0)).stall_time_s > 0


@pytest.mark.parametrize("name", ["small_mlp", "resnet18"])
def test_prefetch_best_keeps_the_faster_of_copying_inputs_or_leaving_them(name):
    from simulators.memmap.prefetch import copy_in_needed, prefetch_best

    p = workloads.load(name)
    placement = greedy(p)
    with_inputs = from_placement(p, placement)
    without = [r if r is None or not copy_in_needed(p, i, r.start) else None
               for i, r in enumerate(with_inputs)]
    a, b = simulate_prefetch(p, with_inputs), simulate_prefetch(p, without)
    assert b.copy_in_bytes == 0
    res, best = prefetch_best(p, placement)
    assert best.valid and check_prefetch(p, res) == []
    assert Fraction(best.total_time_exact) == min(Fraction(a.total_time_exact),
                                                  Fraction(b.total_time_exact))
    assert res in (with_inputs, without)
