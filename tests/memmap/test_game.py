"""The steppable game: slots and masks follow the documented rule, every play is valid,
exact time saved adds up, the occupancy map and features are right, the optimum is
reachable."""

from __future__ import annotations

import numpy as np
import pytest

from simulators.memmap import PlacementError, check, evaluate, optimal
from simulators.memmap.game import FEATURES, Game, actions_for, greedy_action
from tests.memmap.test_rules import CHAIN, prog
from workloads import memmap as workloads


def play_random(program, seed, num_slots=8):
    rng = np.random.default_rng(seed)
    g = Game(program, num_slots)
    while not g.done:
        legal = np.flatnonzero(g.action_mask())
        g.place(int(rng.choice(legal)))
    return g


@pytest.mark.parametrize("name", ["small_resnet", "small_attention", "resnet18"])
def test_random_masked_play_is_valid_and_exactly_costed(name):
    p = workloads.load(name)
    for seed in range(5):
        g = play_random(p, seed)
        r = g.result()
        assert r.valid and check(p, g.placement) == []
        assert g.saved_units * g.model.unit_s == \
            (g.all_slow_units - g.model.total([o is not None for o in g.placement])) \
            * g.model.unit_s
        assert g.saved_s == pytest.approx(r.time_saved_s, rel=1e-12, abs=1e-24)
        assert not g.action_mask().any()


def test_order_is_first_use_and_slots_are_gap_edges():
    # capacity 4096, alignment 256; t0 (1024 B) lives 0-1, t1 1-2, t2 2-3
    g = Game(CHAIN, num_slots=8)
    assert g.order == [0, 1, 2] and g.next_tensor == 0
    assert g.slot_offsets() == [0, 3072]  # one gap [0, 4096): low and high edge
    g.place(0)  # t0 at 0
    assert g.slot_offsets() == [1024, 3072]  # gap [1024, 4096)
    g.place(1)  # t1 at 3072
    # t2 conflicts with t1 only: gap [0, 3072) -> edges 0 and 2048
    assert g.slot_offsets() == [0, 2048]
    g.place(0)
    assert g.placement == (0, 3072, 0) and g.done


def test_slots_are_capped_and_masked():
    g = Game(CHAIN, num_slots=1)
    assert g.slot_offsets() == [0]
    assert g.action_mask().tolist() == [True, True]
    g = Game(CHAIN, num_slots=4)
    assert g.action_mask().tolist() == [True, True, False, False, True]
    with pytest.raises(PlacementError, match="illegal"):
        g.place(2)
    with pytest.raises(PlacementError, match="cannot go at offset"):
        g.place_offset(100)


def test_oversize_tensor_only_slow():
    p = prog([8192, 512], [(0, [0, 1], [])])
    g = Game(p, 4)
    assert g.next_tensor == 0 and g.action_mask().tolist() == [False] * 4 + [True]


def test_occupancy_map_measures_placed_area():
    g = Game(CHAIN, 8)
    g.place(0)  # t0 at [0, 1024) over ops 0-1
    occ = g.occupancy(time_bins=4, address_bins=4)  # one op x 1024 B per cell
    expect = np.zeros((4, 4))
    expect[0:2, 0] = 1.0
    assert np.allclose(occ, expect)
    g.place(1)  # t1 at [3072, 4096) over ops 1-2, painted incrementally
    occ = g.occupancy(4, 4)
    expect[1:3, 3] = 1.0
    assert np.allclose(occ, expect)
    coarse = g.occupancy(2, 2)  # 2 ops x 2048 B per cell
    assert np.allclose(coarse, [[0.5, 0.25], [0.0, 0.25]])
    assert g.occupancy(3, 5).sum() == pytest.approx((2 * 1024 + 2 * 1024) / (4 * 4096) * 15)


def test_features():
    p = workloads.load("small_mlp")
    g = Game(p, 8)
    f = g.features(lookahead=4)
    assert f.shape == (4, len(FEATURES)) and f.dtype == np.float32
    col = {n: k for k, n in enumerate(FEATURES)}
    i = g.next_tensor
    assert f[0, col["present"]] == 1 and f[0, col["first_use"]] == 0
    assert f[0, col["fits"]] == float(p.fits(i))
    while g.step_index < len(p.tensors) - 1:
        g.place(g.num_slots)
    f = g.features(lookahead=4)
    assert f[0, col["present"]] == 1 and not f[1:].any()


def test_greedy_policy_is_valid_and_saves_time():
    for name in ("small_mlp", "small_random17", "gpt2_decode"):
        p = workloads.load(name)
        g = Game(p, 8)
        while not g.done:
            g.place(greedy_action(g))
        r = g.result()
        assert r.valid and r.time_saved_s > 0


@pytest.mark.parametrize("name", workloads.available())
def test_proven_optimum_is_reachable(name):
    p = workloads.load(name)
    sol = optimal(p, 30)
    fast = {i for i, o in enumerate(sol.placement) if o is not None}
    actions = actions_for(p, fast, num_slots=8)
    assert actions is not None
    g = Game(p, 8)
    for a in actions:
        assert g.action_mask()[a]
        g.place(a)
    assert g.result().total_time_s == evaluate(p, sol.placement).total_time_s


def test_finished_game_refuses_moves():
    g = Game(CHAIN, 2)
    for _ in range(3):
        g.place(2)
    with pytest.raises(PlacementError, match="over"):
        g.place(2)
