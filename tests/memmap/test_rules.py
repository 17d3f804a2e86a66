"""The game's rules: the independent checker on crafted cases and against a naive pairwise
checker, the cost by hand, non-monotonicity, and every policy's placements (valid, ordered
optimal <= greedy <= all-slow, deterministic, optima agreeing across solvers and with
exhaustive search)."""

from __future__ import annotations

import functools
import itertools
from fractions import Fraction

import numpy as np
import pytest

from simulators.memmap import (
    Hierarchy,
    PlacementError,
    all_slow,
    assert_valid,
    check,
    evaluate,
    greedy,
    optimal,
    program_from_dict,
)
from workloads import memmap as workloads
from workloads.memmap import random_program

SMALL = [n for n in workloads.available() if n.startswith("small_")]


def prog(sizes, ops, capacity=4096, align=256, bf=2e12, bs=1e11, peak=1e12):
    return program_from_dict({
        "schema": "archgym-memmap-program/1", "name": "crafted",
        "tensors": [{"name": f"t{i}", "size": s} for i, s in enumerate(sizes)],
        "ops": [{"name": f"op{j}", "flops": f, "reads": r, "writes": w}
                for j, (f, r, w) in enumerate(ops)],
        "hierarchy": {"fast": {"capacity_bytes": capacity, "bandwidth_bytes_per_s": bf,
                               "alignment_bytes": align},
                      "slow": {"bandwidth_bytes_per_s": bs}, "peak_flops": peak}})


# t0 lives over ops 0-1, t1 over 1-2, t2 over 2-3: t0/t1 and t1/t2 conflict, t0/t2 do not
CHAIN = prog([1024, 1024, 1024], [(0, [0], []), (0, [0, 1], []), (0, [1, 2], []),
                                  (0, [2], [])])


def test_overlap_is_rejected():
    bad = check(CHAIN, (0, 512, None))
    assert len(bad) == 1 and "overlap" in bad[0] and "op 1" in bad[0]
    with pytest.raises(PlacementError, match="overlap"):
        assert_valid(CHAIN, (0, 512, None))


def test_ranges_are_inclusive_at_the_shared_op():
    # t1 starts at op 1, where t0 ends: they conflict; t0 and t2 never coexist
    assert check(CHAIN, (0, 0, None)) and "op 1" in check(CHAIN, (0, 0, None))[0]
    assert check(CHAIN, (0, 1024, 0)) == []
    assert check(CHAIN, (0, 1024, 2048)) == []


def test_adjacent_tensors_do_not_overlap():
    assert check(CHAIN, (1024, 0, 1024)) == []


def test_misalignment_is_rejected():
    bad = check(CHAIN, (100, None, None))
    assert len(bad) == 1 and "multiple of alignment_bytes 256" in bad[0]


def test_overflow_is_rejected():
    bad = check(CHAIN, (3328, None, None))  # [3328, 4352) > 4096
    assert len(bad) == 1 and "exceeds capacity_bytes 4096" in bad[0]
    assert check(CHAIN, (3072, None, None)) == []


def test_oversize_tensor_is_legal_only_in_slow():
    p = prog([8192, 512], [(0, [0, 1], [])])
    assert check(p, (None, 0)) == []
    assert "exceeds capacity" in check(p, (0, None))[0]
    assert greedy(p)[0] is None and optimal(p, 10).placement[0] is None


def test_malformed_entries_are_rejected():
    assert "entries" in check(CHAIN, (None, None))[0]
    assert "integer" in check(CHAIN, (1.5, None, None))[0]
    assert "negative" in check(CHAIN, (-256, None, None))[0]


def naive_valid(p, place) -> bool:
    """Pairwise reference: every rule checked directly from the definition."""
    h = p.hierarchy
    live = [[j for j, op in enumerate(p.ops) if i in op.reads or i in op.writes]
            for i in range(len(p.tensors))]
    for i, o in enumerate(place):
        if o is not None and (o < 0 or o % h.alignment_bytes
                              or o + p.tensors[i].size > h.capacity_bytes):
            return False
    for a, b in itertools.combinations(range(len(place)), 2):
        oa, ob = place[a], place[b]
        if oa is None or ob is None:
            continue
        share = min(live[a]) <= max(live[b]) and min(live[b]) <= max(live[a])
        if share and oa < ob + p.tensors[b].size and ob < oa + p.tensors[a].size:
            return False
    return True


def test_checker_agrees_with_naive_pairwise_rules():
    rng = np.random.default_rng(7)
    disagreements = 0
    for seed in range(40):
        p = random_program(10, seed)
        h = p.hierarchy
        for _ in range(25):
            place = tuple(
                None if rng.random() < 0.4 else
                int(rng.integers(-1, h.capacity_bytes // h.alignment_bytes + 1))
                * h.alignment_bytes + (int(rng.integers(0, 2)) if rng.random() < 0.1 else 0)
                for _ in p.tensors)
            disagreements += (check(p, place) == []) != naive_valid(p, place)
    assert disagreements == 0


def test_cost_by_hand():
    # op0: 2 x 1024 B; op1: reads t0 twice (counted once), writes t1
    p = prog([1024, 2048], [(4000, [0, 1], []), (0, [0, 0], [1])], bf=4e11, bs=1e11,
             peak=1e12)
    r = evaluate(p, (None, None))
    # op0: max(4 ns, 3072 B / 100 GB/s = 30.72 ns); op1: 30.72 ns
    assert Fraction(r.total_time_exact) == Fraction(3072 * 2, 10**11)
    r = evaluate(p, (0, None))
    # op0 and op1: max(flops, 1024 B / 400 GB/s = 2.56 ns, 2048 B / 100 GB/s = 20.48 ns)
    assert Fraction(r.total_time_exact) == 2 * Fraction(2048, 10**11)
    assert r.time_saved_s == pytest.approx(2 * 1024 / 1e11, rel=1e-12)
    assert (r.fast_tensor_bytes, r.slow_tensor_bytes) == (1024, 2048)
    assert (r.fast_traffic_bytes, r.slow_traffic_bytes) == (2048, 4096)
    assert r.peak_fast_bytes == 1024 and r.address_span_bytes == 1024
    assert r.highest_address_used == 1023 and r.fragmentation == 0.0


def test_cost_is_not_monotone():
    """s03's op2 (e, a, b -> f, 1 KiB each, Bf = 2 Bs): 3 fast + 1 slow beats all fast."""
    p = prog([1024] * 4, [(2000, [0, 1, 2], [3])], capacity=16384, align=64, bf=2e11,
             bs=1e11, peak=1e12)
    three = evaluate(p, (0, 1024, 2048, None)).total_time_s
    four = evaluate(p, (0, 1024, 2048, 3072)).total_time_s
    assert three == pytest.approx(15.36e-9, rel=1e-12)
    assert four == pytest.approx(20.48e-9, rel=1e-12)
    assert evaluate(p, optimal(p, 10).placement).total_time_s == pytest.approx(15.36e-9)


def test_fragmentation_and_peak():
    # t0 and t2 never coexist; a gap at [1024, 2048) while t1 sits at the top
    r = evaluate(CHAIN, (0, 2048, 0))
    assert r.peak_fast_bytes == 2048 and r.address_span_bytes == 3072
    assert r.fragmentation == pytest.approx(1 - 2048 / 3072)


@pytest.mark.parametrize("name", workloads.available())
def test_every_policy_is_valid_and_ordered(name):
    p = workloads.load(name)
    slow = evaluate(p, all_slow(p))
    g = evaluate(p, greedy(p))
    sol = optimal(p, time_limit_s=30)
    o = evaluate(p, sol.placement, proven_optimal=sol.proven_optimal)
    assert slow.valid and g.valid and o.valid
    assert slow.time_saved_s == 0
    assert Fraction(o.total_time_exact) <= Fraction(g.total_time_exact) \
        <= Fraction(slow.total_time_exact)
    assert sol.objective_units == sol.bound_units if sol.proven_optimal else True
    if name.startswith("small_"):
        assert sol.proven_optimal


@pytest.mark.parametrize("name", SMALL)
def test_solvers_agree_on_the_optimum(name):
    p = workloads.load(name)
    dp = optimal(p, 30)
    full = optimal(p, 30, decompose=False)
    highs = optimal(p, 60, solver="highs")
    assert dp.proven_optimal and full.proven_optimal and highs.proven_optimal
    assert dp.objective_units == full.objective_units == highs.objective_units


def test_determinism():
    for name in ("small_mlp", "small_random17", "resnet18"):
        p = workloads.load(name)
        assert greedy(p) == greedy(p)
        a, b = optimal(p, 30), optimal(p, 30)
        assert a.placement == b.placement and a.objective_units == b.objective_units
        assert evaluate(p, a.placement).to_dict() == evaluate(p, b.placement).to_dict()
    assert random_program(12, 3) == random_program(12, 3)


def brute_force(p) -> Fraction:
    """Exhaustive search over every placement (each tensor slow or at any aligned offset),
    costed from the definition with exact fractions."""
    h = p.hierarchy
    live = [(min(j for j, op in enumerate(p.ops) if i in op.reads + op.writes),
             max(j for j, op in enumerate(p.ops) if i in op.reads + op.writes))
            for i in range(len(p.tensors))]
    sizes = [t.size for t in p.tensors]

    def cost(fast):
        total = Fraction(0)
        for op in p.ops:
            ts = set(op.reads) | set(op.writes)
            fb = sum(sizes[t] for t in ts if t in fast)
            sb = sum(sizes[t] for t in ts if t not in fast)
            total += max(Fraction(repr(op.flops)) / Fraction(repr(h.peak_flops)),
                         Fraction(fb) / Fraction(repr(h.fast_bandwidth)),
                         Fraction(sb) / Fraction(repr(h.slow_bandwidth)))
        return total

    best = [cost(set())]

    def dfs(i, placed):
        if i == len(sizes):
            best[0] = min(best[0], cost(set(placed)))
            return
        dfs(i + 1, placed)
        for o in range(0, h.capacity_bytes - sizes[i] + 1, h.alignment_bytes):
            if all(not (live[i][0] <= live[k][1] and live[k][0] <= live[i][1])
                   or o + sizes[i] <= ok or ok + sizes[k] <= o for k, ok in placed.items()):
                placed[i] = o
                dfs(i + 1, placed)
                del placed[i]

    dfs(0, {})
    return best[0]


@functools.cache
def tiny(seed: int):
    base = Hierarchy(0, 3.2e12, 8192, 614e9, 137.6e12)
    p = random_program(6, 100 + seed, hierarchy=base, capacity_fraction=0.6)
    return p, brute_force(p)


def test_exhaustive_cases_are_not_trivial():
    better = [tiny(s)[1] < Fraction(evaluate(tiny(s)[0], greedy(tiny(s)[0])).total_time_exact)
              for s in range(8)]
    gains = [tiny(s)[1] < Fraction(evaluate(tiny(s)[0], all_slow(tiny(s)[0])).total_time_exact)
             for s in range(8)]
    assert sum(gains) >= 4 and sum(better) >= 1


@pytest.mark.parametrize("seed", range(8))
def test_optimum_matches_exhaustive_search(seed):
    p, best = tiny(seed)
    for decompose in (True, False):
        sol = optimal(p, 30, decompose=decompose)
        assert sol.proven_optimal
        assert Fraction(evaluate(p, sol.placement).total_time_exact) == best
