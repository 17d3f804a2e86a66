"""SoCScheduling-v0: the shipped policies rebuild the simulator's own schedules (static and
dynamic), the window and masks, observation known answers, reward shaping, held-out
streams, determinism, pickling mid-episode, errors, and MaskablePPO on the env."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import agents
from archgym import registry
from archgym.errors import ArchGymError
from archgym.sequential import SEED_RANGE
from simulators.soc import check_schedule, schedule, simulate
from simulators.soc.choosers import STATIC_CHOOSERS, run_chooser
from simulators.soc.generators import layered_dag
from simulators.soc.graph import write_graph

ID = "archgym/SoCScheduling-v0"
#: heuristic -> the EST rule it is defined with (appended ones need insertion=False)
INSERTION = {"heft": True, "peft": True, "etf": False, "met": False, "mct": False}
DYNAMIC = {"mode": "dynamic", "jobs": 6, "rate": 10.0}


def make(**kw):
    return registry.make(ID, **kw).unwrapped


def play(env, choose, seed=0, episode_seed=None):
    opts = None if episode_seed is None else {"episode_seed": episode_seed}
    obs, info = env.reset(seed=seed, options=opts)
    rewards, done = [], False
    while not done:
        obs, r, done, _, info = env.step(choose(obs, info))
        rewards.append(r)
    return info, rewards


def policy(name, env):
    pol, _ = agents.for_env(name, env)
    return pol.act


@pytest.fixture(scope="module")
def random_graph_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("g") / "layered.json"
    write_graph(layered_dag(40, 4, ccr=2.0, beta=1.0, seed=7), path)
    return str(path)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_static_choosers_rebuild_the_whole_graph_heuristics(seed):
    g = layered_dag(50, 3, ccr=1.0 + seed, beta=0.5 * seed, seed=seed)
    for name in STATIC_CHOOSERS:
        a, b = run_chooser(g, name, INSERTION[name]), schedule(g, name)
        assert (a.proc, a.start, a.finish) == (b.proc, b.start, b.finish), name


@pytest.mark.parametrize("name", list(INSERTION))
def test_static_policy_equals_the_simulators_scheduler(name, random_graph_file):
    for graph in ("topcuoglu2002_fig2", random_graph_file):
        env = make(graph=graph, insertion=INSERTION[name], max_ready=64)
        info, _ = play(env, policy(name, env))
        s = schedule(env.graph, name)
        assert info["valid"] and info["metrics"]["makespan"] == s.makespan
        assert info["design"]["schedule"] == s.to_dict()["schedule"]
        assert check_schedule(env.graph, *zip(*info["design"]["schedule"], strict=True),
                              s.makespan).valid
    env = make()  # the paper's graph: HEFT 80 (known answer, HEFT paper Fig. 2)
    assert play(env, policy("heft", env))[0]["metrics"] == {"makespan": 80.0,
                                                             "makespan_vs_heft": 1.0}


@pytest.mark.parametrize("name", ["heft", "etf", "met", "peft"])
def test_dynamic_policy_equals_the_simulators_scheduler(name):
    env = make(**DYNAMIC)
    for stream in (SEED_RANGE + 3, 11):
        info, _ = play(env, policy(name, env), episode_seed=stream)
        r = simulate(env.platform, env.wl, env.arrivals(stream), name)
        m = info["metrics"]
        assert m["mean_job_latency_us"] == r.mean_job_latency_us
        assert m["energy_per_job_uj"] == r.energy_per_job_uj
        heft = simulate(env.platform, env.wl, env.arrivals(stream), "heft")
        assert m["latency_vs_heft"] == r.mean_job_latency_us / heft.mean_job_latency_us


def test_best_known_is_the_proven_optimum_and_the_env_reaches_it():
    env = make(max_ready=64)
    best = env.best_known()
    opt = schedule(env.graph, "optimal", time_limit=10.0)
    assert opt.makespan == 73 and best.proven  # the paper's graph: optimum 73 < HEFT's 80
    assert best.reward == env.objective.reward({"makespan": 73.0,
                                                "makespan_vs_heft": 73 / 80}) == -73 / 80
    order = iter(sorted(range(env.graph.num_tasks), key=lambda i: (opt.start[i], i)))

    def follow(obs, info):  # the optimum's tasks in start order, each on its processor
        task = next(order)
        return env.action_of(task, opt.proc[task])

    assert play(env, follow)[0]["metrics"]["makespan"] == 73.0
    assert make(**DYNAMIC).best_known() is None


def test_a_narrow_window_still_gives_valid_schedules():
    for kw in ({"graph": "topcuoglu2002_fig2"}, DYNAMIC):
        env = make(max_ready=1, **kw)
        assert env.action_space.n == env.num_pes
        for name in INSERTION:
            info, _ = play(env, policy(name, env), episode_seed=5)
            assert info["valid"]
    # static: a window of one keeps the lowest-index ready task, which MET takes anyway
    env = make(max_ready=1, insertion=False)
    assert play(env, policy("met", env))[0]["metrics"]["makespan"] == \
        schedule(env.graph, "met").makespan


def test_mask_and_pair_features_are_the_builders_estimates():
    env = make()
    obs, info = env.reset(seed=0)
    mask = info["action_mask"].reshape(env.max_ready, env.num_pes)
    assert mask[0].all() and not mask[1:].any()  # only the entry task is ready
    # entry task 0 runs 14, 16, 9 on the three processors (HEFT paper, Table 1)
    np.testing.assert_allclose(obs["pairs"][0, :, 2], np.array([14, 16, 9]) / 80, rtol=1e-6)
    assert obs["tasks"][0, 1] == pytest.approx(108 / 80)  # rank_u of task 1 (paper: 108)
    env.step(2)  # task 0 on P3, finishing at 9
    ready = env.window()
    assert ready == [i for i in range(1, 6)]
    est = [env._builder.est_eft(i) for i in ready]
    obs = env._observe()
    for k, row in enumerate(est):
        for p, (s, f) in enumerate(row):
            assert obs["pairs"][k, p, 1] == pytest.approx(float(s) / 80)
            assert obs["pairs"][k, p, 2] == pytest.approx(float(f) / 80)


def test_dynamic_mask_allows_only_pes_that_run_the_task():
    env = make(**DYNAMIC)
    obs, info = env.reset(seed=0)
    mask = info["action_mask"].reshape(env.max_ready, env.num_pes)
    for k, t in enumerate(env.window()):
        allowed = {env.pes.index(p) for p in env._sim.allowed_pes(t)}
        assert set(np.flatnonzero(mask[k])) == allowed
    assert not mask[len(env.window()):].any()


@pytest.mark.parametrize("kw", [{}, DYNAMIC])
def test_shaped_reward_has_the_final_return_and_charges_waiting(kw):
    shaped, final = make(reward="shaped", **kw), make(**kw)
    a, ra = play(shaped, policy("etf", shaped), seed=4)
    b, rb = play(final, policy("etf", final), seed=4)
    assert a["metrics"] == b["metrics"]
    assert sum(ra) == pytest.approx(sum(rb)) == pytest.approx(b["reward"])
    assert all(r == 0 for r in rb[:-1])
    steps = np.array(ra[:-1])
    assert (steps <= 1e-12).all() and steps.sum() < 0  # cost only accumulates
    assert steps.sum() >= b["reward"] - 1e-9  # and never beyond the finished schedule's


def test_held_out_streams_and_fixed_streams():
    env = make(**DYNAMIC)
    env.reset(seed=0)
    assert env._episode_seed < SEED_RANGE
    a = [x.time_us for x in env.arrivals(SEED_RANGE)]
    assert a != [x.time_us for x in env.arrivals(env._episode_seed)]
    fixed = make(stream_seed=3, **DYNAMIC)
    seen = set()
    for s in (0, 1):
        fixed.reset(seed=s)
        seen.add(tuple(t.arrival for t in fixed._sim.jobs))
    assert len(seen) == 1


def test_same_seed_same_episode_replay_and_pickle_mid_episode():
    env = make(**DYNAMIC)
    rng = np.random.default_rng(0)

    def masked_random(obs, info):
        return int(rng.choice(np.flatnonzero(info["action_mask"])))

    a, _ = play(env, masked_random, seed=9)
    rng = np.random.default_rng(0)
    b, _ = play(env, masked_random, seed=9)
    assert a["design"] == b["design"] and a["metrics"] == b["metrics"]
    logged = {"actions": list(env._actions), "episode_seed": env._episode_seed}
    assert env.evaluate(logged) == b["metrics"]  # replay of a logged dynamic episode
    obs, info = env.reset(seed=2)
    for _ in range(7):
        obs, _, _, _, info = env.step(int(np.flatnonzero(info["action_mask"])[-1]))
    clone = pickle.loads(pickle.dumps(env))
    act = policy("heft", env)(obs, info)
    x, y = env.step(act), clone.step(act)
    np.testing.assert_array_equal(x[0]["pairs"], y[0]["pairs"])
    assert x[1] == y[1] and x[4]["action_mask"].tolist() == y[4]["action_mask"].tolist()


def test_dynamic_mode_passes_gymnasium_check():
    check_env(make(observation="flat", **DYNAMIC), skip_render_check=True)


@pytest.mark.parametrize("kw, words", [
    ({"graph": "nope"}, "topcuoglu2002_fig2"),
    ({"mode": "dynamic", "workload": "nope"}, "wifi"),
    ({"mode": "dynamic", "soc": "nope"}, "ds3_reference"),
    ({"mode": "dynamic", "jobs": 0}, "jobs"),
    ({"max_ready": 0}, "max_ready"),
    ({"objective": "bogus"}, "makespan"),
])
def test_bad_parameters_say_what_is_allowed(kw, words):
    with pytest.raises(ArchGymError, match=words):
        make(**kw)


def test_maskable_ppo_runs_on_both_modes():
    for kw in ({}, {"observation": "flat", **DYNAMIC, "jobs": 2}):
        env = registry.make(ID, **kw)
        searcher, target = agents.for_env("maskable-ppo", env, seed=0, n_steps=32,
                                          batch_size=16, n_epochs=1)
        searcher.learn(target, 2)
        assert env.unwrapped.evaluations == 2
