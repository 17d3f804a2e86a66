"""MemoryMapping-v0: every policy's and the env's placements pass the independent checker,
greedy scores exactly 1, the optimum bounds every play, the reward adds up in both modes,
the observation shows the state, program sets are seeded and held out, the design-point
view decodes to the greedy placement, MaskablePPO trains on both observation kinds."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

import agents
from archgym import registry
from archgym.envs.memmap import HELD_OUT_SEEDS
from archgym.errors import ArchGymError
from archgym.runner import run
from simulators.memmap import (
    FEATURES,
    SLOT_FEATURES,
    actions_for,
    all_slow,
    check,
    evaluate,
    greedy,
    greedy_action,
    optimal,
    placement_from_json,
)
from simulators.memmap.game import Game
from workloads import memmap as workloads
from workloads.memmap import random_program

ENV = "archgym/MemoryMapping-v0"
PROGRAMS = ["small_mlp", "small_random17", "small_attention", "small_resnet"]


def checked(env, info):
    """The finished placement, after the independent checker accepted it."""
    program = env.baseline.program
    assert info["valid"]
    placement = placement_from_json(info["design"]["placement"], len(program.tensors))
    assert check(program, placement) == []
    return placement


def play(env, actions_or_policy, seed=None, episode_seed=None):
    """Play one episode; returns (rewards, last info)."""
    _, info = env.reset(seed=seed, options=None if episode_seed is None
                        else {"episode_seed": episode_seed})
    rewards, done, k = [], False, 0
    while not done:
        a = actions_or_policy(info) if callable(actions_or_policy) else actions_or_policy[k]
        _, r, done, _, info = env.step(a)
        rewards.append(r)
        k += 1
    return rewards, info


def random_actions(seed):
    rng = np.random.default_rng(seed)
    return lambda info: int(rng.choice(np.flatnonzero(info["action_mask"])))


@pytest.mark.parametrize("name", PROGRAMS)
def test_policies_place_validly_greedy_scores_one_all_slow_zero(name):
    p = workloads.load(name)
    slow, g = evaluate(p, all_slow(p)), evaluate(p, greedy(p))
    got = {}
    for policy in ("greedy-placement", "online-best-fit", "all-slow"):
        env = registry.make(ENV, program=name)
        decide, target = agents.for_env(policy, env, seed=0)
        designs: list[dict] = []
        target.unwrapped.subscribe(
            lambda ev, designs=designs: designs.append(json.loads(ev.extra["design"])))
        result = run(target, decide, 2)
        assert len(designs) == 2 and designs[0] == designs[1]  # deterministic
        placement = placement_from_json(designs[0]["placement"], len(p.tensors))
        assert check(p, placement) == []
        got[policy] = result.best.metrics
        assert got[policy]["time_s"] == evaluate(p, placement).total_time_s
    assert got["greedy-placement"]["saved_vs_greedy"] == 1.0
    assert got["greedy-placement"]["time_s"] == g.total_time_s
    assert got["all-slow"]["time_s"] == slow.total_time_s
    assert got["all-slow"]["saved_vs_greedy"] == 0.0  # greedy saves time on these
    # online best fit decides in game order: the same as stepping the game directly
    game = Game(p, 8)
    while not game.done:
        game.place(greedy_action(game))
    assert got["online-best-fit"]["time_s"] == game.result().total_time_s


@pytest.mark.parametrize("name", PROGRAMS)
def test_the_optimum_played_through_the_env_bounds_every_play(name):
    p = workloads.load(name)
    sol = optimal(p, 30)
    assert sol.proven_optimal
    env = registry.make(ENV, program=name).unwrapped
    actions = actions_for(p, {i for i, o in enumerate(sol.placement) if o is not None})
    _, info = play(env, actions)
    checked(env, info)
    best = info["metrics"]["saved_vs_greedy"]
    assert info["metrics"]["time_s"] == evaluate(p, sol.placement).total_time_s
    assert best >= 1.0
    exact = (Fraction(evaluate(p, sol.placement).time_saved_exact)
             / Fraction(evaluate(p, greedy(p)).time_saved_exact))
    assert best == float(exact)
    for seed in range(5):
        _, info = play(env, random_actions(seed), seed=seed)
        checked(env, info)
        assert info["metrics"]["saved_vs_greedy"] <= best


def test_shaped_steps_are_exact_savings_and_returns_match_final_mode():
    name = "small_attention"
    p = workloads.load(name)
    greedy_saved = Fraction(evaluate(p, greedy(p)).time_saved_exact)
    final = registry.make(ENV, program=name).unwrapped
    shaped = registry.make(ENV, program=name, reward="shaped").unwrapped
    for seed in range(3):
        r_final, info_f = play(final, random_actions(seed), seed=seed)
        actions = list(final._actions)
        assert all(r == 0 for r in r_final[:-1])
        assert r_final[-1] == info_f["metrics"]["saved_vs_greedy"]
        # shaped: each step = the move's saving (re-costed independently) over greedy's
        shaped.reset(seed=seed)
        before, r_shaped = Fraction(0), []
        for k, a in enumerate(actions):
            _, r, done, _, info = shaped.step(a)
            now = Fraction(evaluate(p, shaped.game.placement).time_saved_exact)
            assert r == pytest.approx(float((now - before) / greedy_saved), abs=1e-12)
            before = now
            r_shaped.append(r)
            assert done == (k == len(actions) - 1)
        assert info["metrics"] == info_f["metrics"]
        assert sum(r_shaped) == pytest.approx(sum(r_final), abs=1e-12)


def test_observation_shows_occupancy_tensors_and_slots():
    env = registry.make(ENV, program="small_resnet", time_bins=8, address_bins=16).unwrapped
    flat = registry.make(ENV, program="small_resnet", time_bins=8, address_bins=16,
                         observation="flat").unwrapped
    p = workloads.load("small_resnet")
    obs, info = env.reset(seed=0)
    fobs, _ = flat.reset(seed=0)
    rng = np.random.default_rng(1)
    col = {n: k for k, n in enumerate(FEATURES)}
    scol = {n: k for k, n in enumerate(SLOT_FEATURES)}
    cap, n_ops = p.hierarchy.capacity_bytes, len(p.ops)
    done = False
    while not done:
        assert env.observation_space.contains(obs)
        assert flat.observation_space.contains(fobs)
        np.testing.assert_array_equal(
            fobs, np.concatenate([obs["occupancy"].ravel(), obs["tensors"].ravel(),
                                  obs["slots"].ravel()]))
        # occupancy: placed tensors never overlap, so the map holds their (ops x bytes) area
        placed = {i: o for i, o in enumerate(env.game.placement) if o is not None}
        area = sum((p.live_ranges[i][1] - p.live_ranges[i][0] + 1) * p.sizes[i]
                   for i in placed)
        assert obs["occupancy"].sum() == pytest.approx(area / (n_ops * cap) * 8 * 16,
                                                       rel=1e-5)
        i = env.game.next_tensor
        assert obs["tensors"][0, col["first_use"]] == pytest.approx(p.live_ranges[i][0] / n_ops)
        assert obs["tensors"][0, col["fits"]] == float(p.fits(i))
        offsets = env.game.slot_offsets()
        mask = info["action_mask"]
        assert obs["slots"][:, scol["offered"]].tolist() == mask[:-1].astype(float).tolist()
        for k, o in enumerate(offsets):
            assert round(float(obs["slots"][k, scol["offset"]]) * cap) == o
        assert not obs["slots"][len(offsets):].any()
        a = int(rng.choice(np.flatnonzero(mask)))
        obs, _, done, _, info = env.step(a)
        fobs, *_ = flat.step(a)
    checked(env, info)


def test_program_list_is_drawn_per_episode_by_seed():
    names = ["small_mlp", "small_random8", "small_resnet"]
    seen = []
    for _ in range(2):
        env = registry.make(ENV, program_set=names).unwrapped
        env.reset(seed=5)
        drawn = []
        for _ in range(20):
            drawn.append(env.baseline.program.name)
            env.reset()
        seen.append(drawn)
    assert seen[0] == seen[1] and set(seen[0]) == set(names)
    env = registry.make(ENV, program_set=names).unwrapped
    assert env.workload == "set:" + ",".join(names) and env.design_point_view() is None


def test_generated_programs_follow_the_episode_seed_and_held_out_seeds_are_unseen():
    env = registry.make(ENV, program_set="random:9-12").unwrapped
    twin = registry.make(ENV, program_set="random:9-12").unwrapped
    env.reset(seed=0)
    sizes = set()
    for _ in range(40):
        assert env._episode_seed < HELD_OUT_SEEDS
        prog = env.baseline.program
        assert prog.name.endswith(f"_s{env._episode_seed}")
        assert 9 <= len(prog.tensors) <= 12
        sizes.add(len(prog.tensors))
        env.reset()
    assert len(sizes) > 1
    held = HELD_OUT_SEEDS + 7
    _, info = play(env, random_actions(0), episode_seed=held)
    checked(env, info)
    twin.reset(options={"episode_seed": held})
    assert twin.baseline.program.to_dict() == env.baseline.program.to_dict()
    n = len(env.baseline.program.tensors)
    frac_prog = random_program(n, held, capacity_fraction=0.5)
    assert [t.size for t in frac_prog.tensors] == list(env.baseline.program.sizes)
    # a logged episode re-creates its program and design
    actions = list(env._actions)
    assert env.evaluate({"actions": actions, "episode_seed": held}) == info["metrics"]


def test_design_point_view_decodes_to_greedy_and_stays_valid():
    name = "small_random17"
    p = workloads.load(name)
    env = registry.make(ENV, program=name).unwrapped
    view = env.design_point_view()
    ev = view.evaluator
    assert len(view.space) == sum(p.fits(i) for i in range(len(p.tensors)))
    assert ev.decode(view.space.default()) == greedy(p)
    _, _, _, _, info = view.step_config(view.space.default())
    assert info["metrics"]["saved_vs_greedy"] == 1.0
    assert view.evaluate({n: "slow" for n in view.space.names})["saved_vs_greedy"] == 0.0
    rng = np.random.default_rng(0)
    for _ in range(30):
        config = view.space.sample(rng)
        placement = ev.decode(config)
        assert check(p, placement) == []
        fast = {n for n, v in config.items() if v == "fast"}
        assert {ev.names[i] for i, o in enumerate(placement) if o is not None} <= fast
        assert view.evaluate(config)["time_s"] == evaluate(p, placement).total_time_s


def test_bad_parameters_name_what_is_allowed(tmp_path):
    with pytest.raises(ArchGymError, match="shipped: .*gpt2_decode"):
        registry.make(ENV, program="nope")
    with pytest.raises(ArchGymError, match=r"random\[:LO-HI\]"):
        registry.make(ENV, program_set="bogus")
    with pytest.raises(ArchGymError, match="2 <= LO <= HI"):
        registry.make(ENV, program_set="random:1-5")
    with pytest.raises(ArchGymError, match="num_slots must be an integer >= 1"):
        registry.make(ENV, num_slots=0)
    with pytest.raises(ArchGymError, match="observation.*'dict', 'flat'"):
        registry.make(ENV, observation="image")
    bad = tmp_path / "bad.json"
    d = workloads.load("small_mlp").to_dict()
    d["tensors"][2]["size"] = 0
    bad.write_text(json.dumps(d))
    with pytest.raises(ArchGymError, match=r"bad\.json: tensors\[2\].*'size'"):
        registry.make(ENV, program=str(bad))


@pytest.mark.parametrize("observation", ["dict", "flat"])
def test_maskable_ppo_trains_and_every_placement_is_valid(observation):
    env = registry.make(ENV, program_set=["small_mlp", "small_random14"],
                        observation=observation)
    decide, target = agents.for_env("maskable-ppo", env, seed=0, n_steps=32, batch_size=32,
                                    n_epochs=2)
    designs = []
    target.unwrapped.subscribe(lambda ev: designs.append((ev.valid, ev.extra["design"])))
    result = run(target, decide, 6)
    assert result.evaluations == len(designs) == 6
    for valid, design in designs:
        assert valid
        d = json.loads(design)
        p = workloads.load(d["program"])
        assert check(p, placement_from_json(d["placement"], len(p.tensors))) == []
