"""Objectives against hand calculations."""

import numpy as np
import pytest

from archgym.errors import ArchGymError
from archgym.evaluator import MetricSpec
from archgym.objectives import (
    Constrained,
    MultiObjective,
    Optimize,
    Target,
    WeightedSum,
    hypervolume,
    pareto_front,
)

LAT = MetricSpec("latency", "ns", "minimize", scale=10.0)
THR = MetricSpec("throughput", "GB/s", "maximize", scale=2.0)


def test_target_is_archgyms_inverse_relative_distance():
    obj = Target({"power": 1000.0}, eps=0.0)
    # ArchGym: target / |value - target| = 1000 / 250
    assert obj.reward({"power": 1250.0}) == pytest.approx(4.0)
    assert obj.reward({"power": 750.0}) == pytest.approx(4.0)
    both = Target({"power": 1000.0, "latency": 50.0}, eps=0.0)
    assert both.reward({"power": 1250.0, "latency": 60.0}) == pytest.approx(4.0 * 5.0)
    assert Target({"power": 1000.0}, eps=1e-3).reward({"power": 1000.0}) == pytest.approx(1000)


def test_target_met_uses_tolerance():
    obj = Target({"latency": 100.0}, tolerance=0.05)
    assert obj.target_met({"latency": 104.0})
    assert not obj.target_met({"latency": 106.0})


def test_optimize_and_weighted_sum_directions():
    assert Optimize(LAT).reward({"latency": 20.0}) == pytest.approx(-2.0)
    assert Optimize(THR).reward({"throughput": 4.0}) == pytest.approx(2.0)
    ws = WeightedSum({"latency": 1.0, "throughput": 0.5}, [LAT, THR])
    assert ws.reward({"latency": 20.0, "throughput": 4.0}) == pytest.approx(-2.0 + 0.5 * 2.0)
    with pytest.raises(ArchGymError, match="unknown metric 'area'"):
        WeightedSum({"area": 1.0}, [LAT])


def test_constrained_penalises_and_marks_infeasible():
    obj = Constrained(Optimize(LAT), {"power": ("<=", 100.0)}, penalty=10.0)
    ok = {"latency": 10.0, "power": 90.0}
    bad = {"latency": 10.0, "power": 150.0}
    assert obj.feasible(ok) and not obj.feasible(bad)
    assert obj.reward(ok) == pytest.approx(-1.0)
    assert obj.reward(bad) == pytest.approx(-1.0 - 10.0 * 0.5)


def test_pareto_front_known_answer():
    pts = np.array([[1, 5], [2, 2], [5, 1], [3, 3], [2, 2], [6, 6]])
    assert sorted(pareto_front(pts).tolist()) == [0, 1, 2, 4]


def test_hypervolume_known_answers():
    # 2-D staircase, by hand: (4-1)*(4-3) + (4-2)*(3-2) + (4-3)*(2-1) = 3 + 2 + 1
    assert hypervolume(np.array([[1, 3], [2, 2], [3, 1]]), [4, 4]) == pytest.approx(6.0)
    # a dominated point adds nothing; a point outside the reference adds nothing
    assert hypervolume(np.array([[1, 3], [2, 2], [3, 1], [3, 3], [5, 0]]),
                       [4, 4]) == pytest.approx(6.0)
    # 3-D: two boxes [0,2]^3 and [1,3]^3 under reference (3,3,3): 8 + 8 - 1
    assert hypervolume(np.array([[1, 1, 1], [0, 0, 2]]), [3, 3, 3]) == pytest.approx(
        2 * 2 * 2 + 3 * 3 * 1 - 2 * 2 * 1)


def test_hypervolume_matches_monte_carlo():
    rng = np.random.default_rng(0)
    pts = rng.random((12, 3))
    ref = np.ones(3)
    samples = rng.random((200_000, 3))
    dominated = (samples[:, None, :] >= pts[None]).all(axis=2).any(axis=1)
    assert hypervolume(pts, ref) == pytest.approx(dominated.mean(), abs=0.01)


def test_multi_objective_costs():
    mo = MultiObjective([LAT, THR])
    assert mo.costs({"latency": 20.0, "throughput": 4.0}).tolist() == [2.0, -2.0]


@pytest.mark.parametrize("obj", [
    Optimize(LAT), Optimize(THR), WeightedSum({"latency": 1.0, "throughput": 0.5}, [LAT, THR]),
    Target({"latency": 30.0, "throughput": 3.0}),
    Constrained(Optimize(LAT), {"throughput": (">=", 2.5)})], ids=lambda o: type(o).__name__)
def test_score_rows_is_each_designs_score_bit_for_bit(obj):
    """The batch form (what ``DesignEnv.step_rows`` uses) gives the floats the per-design
    methods give, on values spanning several orders of magnitude."""
    rng = np.random.default_rng(7)
    values = np.exp(rng.normal(2.0, 2.0, size=(200, 2)))
    reward, feasible, met = obj.score_rows(values, ("latency", "throughput"))
    dicts = [{"latency": a, "throughput": b} for a, b in values.tolist()]
    assert reward.tolist() == [obj.reward(d) for d in dicts]
    assert feasible.tolist() == [obj.feasible(d) for d in dicts]
    assert met.tolist() == [obj.target_met(d) for d in dicts]
    assert obj.score_rows(values[:0], ("latency", "throughput"))[0].shape == (0,)
