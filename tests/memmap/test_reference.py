"""The team's public memory-mapping examples (``reference/``, copied from
``shared/reference/memmap`` with their provenance): exact all-slow and optimal times from an
independent implementation of issue 11's rules. Times must agree within a relative 1e-9
(and do exactly, as fractions); placements are not compared (optima are not unique), but
the reference's optimal placement must pass our checker and cost the reference optimum.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from simulators.memmap import (
    all_slow,
    check,
    evaluate,
    greedy,
    optimal,
    placement_from_json,
    read_program,
)

REF_DIR = Path(__file__).with_name("reference")
REFERENCE = json.loads((REF_DIR / "reference.json").read_text())["programs"]


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * abs(b)


@pytest.fixture(scope="module", params=sorted(REFERENCE))
def case(request):
    ref = REFERENCE[request.param]
    return read_program(REF_DIR / ref["file"]), ref


def test_all_slow_time(case):
    program, ref = case
    res = evaluate(program, all_slow(program))
    assert close(res.total_time_s, ref["all_slow_time_s"])
    assert Fraction(res.total_time_exact) == Fraction(ref["all_slow_time_exact"])
    assert res.time_saved_s == 0.0 and res.valid


def test_reference_placement_is_valid_and_optimal(case):
    program, ref = case
    place = placement_from_json(ref["one_optimal_placement"], len(program.tensors))
    assert check(program, place) == []
    res = evaluate(program, place)
    assert Fraction(res.total_time_exact) == Fraction(ref["optimum_time_exact"])


@pytest.mark.parametrize("solver", ["cp-sat", "highs"])
def test_optimum_time(case, solver):
    program, ref = case
    sol = optimal(program, time_limit_s=60, solver=solver)
    assert sol.proven_optimal
    res = evaluate(program, sol.placement, "optimal")
    assert res.valid
    assert close(res.total_time_s, ref["optimum_time_s"])
    assert Fraction(res.total_time_exact) == Fraction(ref["optimum_time_exact"])


def test_greedy_is_valid_and_between(case):
    program, ref = case
    res = evaluate(program, greedy(program))
    assert res.valid
    assert ref["optimum_time_s"] * (1 - 1e-12) <= res.total_time_s
    assert res.total_time_s <= ref["all_slow_time_s"]


def test_knapsack_trap_fools_the_greedy():
    """s01 is built so that saving per byte picks A, which blocks the better B + C."""
    program = read_program(REF_DIR / "s01_knapsack_trap.json")
    place = greedy(program)
    assert place[0] is not None  # A, the best saving per byte, is taken first
    opt = REFERENCE["s01_knapsack_trap"]["optimum_time_s"]
    assert evaluate(program, place).total_time_s > opt * (1 + 1e-6)
