"""SoC simulators benchmark, printed as one JSON object.

- ``heft_seconds``: HEFT on seeded layered random graphs of 1,000 and 10,000 tasks
  (8 processors, CCR 1, heterogeneity 0.5), best of ``--repeats`` (graph generation not
  timed); the other static heuristics on the 1,000-task graph for comparison.
- ``dynamic``: the exact dynamic simulator's speed in simulated tasks per second of wall
  time (the DS3 reference SoC, 300 jobs of the WiFi TX/RX mix at 5 jobs/ms, per scheduler).
- ``env``: ``archgym/SoCScheduling-v0`` steps per second of wall time with its ``heft``
  policy choosing every step (static: a 200-task layered graph on 4 processors, written to
  a temporary file; dynamic: 30 jobs of the WiFi mix at 10 jobs/ms), best of ``--repeats``.
- ``design_env`` (with ``--design-env``): SoCDesign-v0 at its defaults (30 WiFi jobs at
  5 jobs/ms on the DS3 reference SoC): steps per second over ``--design-points`` seeded
  random designs (each simulated, none from the cache; a fresh env per repetition), the
  best and median over ``--repeats``, the seconds to make the env (it simulates the default
  design and computes the bounds), and the mean milliseconds per design by scheduler.
- ``ds3_agreement``: ``ds3_compat`` against DS3's own figures (``tests/soc/ds3_reference.json``,
  DS3 056c930): mean job latency per configuration and scheduler, the relative difference,
  and our wall time. DS3 itself needed 178 s (MET) and 548 s (ETF) for one 100 ms run of
  its second example on this class of machine (loaded), where ``ds3_compat`` takes seconds.

- ``--study``: the DeepSoCS experiment instead (:func:`study`): per seed, MaskablePPO
  (sb3-contrib) trained on ``archgym/SoCScheduling-v0`` in dynamic mode on training job
  streams, then run greedily (deterministic) on held-out streams beside HEFT, ETF and a
  masked uniformly random policy; per seed the ratio of mean job latencies (summed over
  the seed's held-out streams) to HEFT's; medians with bootstrap 95 % intervals over the
  seeds (:func:`archgym.stats.median_ci`).

Usage: ``python -m experiments.benchmarks.soc [--repeats N] [--skip-ds3] [--design-env
[--design-env-only] [--design-points K]]``, or ``python -m experiments.benchmarks.soc
--study [--seeds 30] [--steps 16000] [--streams 8] [--workers 2]``. Timings on a shared
machine vary; the machine, its load and the repetitions are printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from simulators.soc import schedule
from simulators.soc.ds3_compat import run_ds3
from simulators.soc.ds3_files import read_ds3_config
from simulators.soc.dynamic import DynamicSim
from simulators.soc.generators import layered_dag
from simulators.soc.policies import DYNAMIC_SCHEDULERS, make_scheduler
from simulators.soc.workload import poisson_arrivals
from workloads.soc import load_soc, load_workload, write_ds3_case

ROOT = Path(__file__).resolve().parents[2]
DS3_REFERENCE = ROOT / "tests" / "soc" / "ds3_reference.json"


def best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def static_times(repeats: int) -> dict[str, object]:
    out: dict[str, object] = {}
    for n in (1_000, 10_000):
        g = layered_dag(n, 8, ccr=1.0, beta=0.5, seed=1)
        out[f"heft_{n}_tasks_s"] = round(best_of(lambda g=g: schedule(g, "heft"), repeats), 3)
        out[f"edges_{n}_tasks"] = len(g.edges)
    g = layered_dag(1_000, 8, ccr=1.0, beta=0.5, seed=1)
    for name in ("heft_noins", "cpop", "peft", "etf", "mct", "met", "minmin", "maxmin"):
        out[f"{name}_1000_tasks_s"] = round(best_of(lambda n=name: schedule(g, n), 1), 3)
    return out


def dynamic_speed(repeats: int) -> dict[str, object]:
    soc, wl = load_soc("ds3_reference"), load_workload("wifi")
    arrivals = poisson_arrivals(wl, 300, 5.0, seed=0)
    out: dict[str, object] = {}
    for name in DYNAMIC_SCHEDULERS:
        tasks = 0

        def run(name=name):
            nonlocal tasks
            sim = DynamicSim(soc, wl, arrivals)
            sim.run(make_scheduler(name))
            tasks = sim.result().tasks
        seconds = best_of(run, repeats)
        out[f"{name}_tasks_per_s"] = round(tasks / seconds)
    out["tasks"] = tasks
    return out


def env_speed(repeats: int) -> dict[str, object]:
    from archgym import registry
    from simulators.soc.graph import write_graph

    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "layered200.json"
        write_graph(layered_dag(200, 4, ccr=1.0, beta=0.5, seed=1), path)
        for mode, kw in (("static", {"graph": str(path), "max_ready": 64}),
                         ("dynamic", {"mode": "dynamic", "jobs": 30, "rate": 10.0})):
            env = registry.make("archgym/SoCScheduling-v0", **kw).unwrapped
            heft = registry.policy_class("heft")(env)
            steps = 0

            def episode(env=env, heft=heft):
                nonlocal steps
                obs, info = env.reset(seed=0)
                done, steps = False, 0
                while not done:
                    obs, _, done, _, info = env.step(heft.act(obs, info))
                    steps += 1
            seconds = best_of(episode, repeats)
            out[f"{mode}_steps_per_s"] = round(steps / seconds)
            out[f"{mode}_steps_per_episode"] = steps
    return out


def design_env_speed(repeats: int, points: int) -> dict[str, object]:
    import gymnasium
    import numpy as np

    import archgym  # noqa: F401  (registers the envs)

    rates, make_s = [], []
    per_scheduler: dict[str, list[float]] = {}
    for rep in range(repeats):
        t = time.perf_counter()
        env = gymnasium.make("archgym/SoCDesign-v0").unwrapped
        make_s.append(time.perf_counter() - t)
        rng = np.random.default_rng(rep)
        designs = [env.space.sample(rng) for _ in range(points)]
        total, before = 0.0, env.evaluator.calls
        for d in designs:
            t = time.perf_counter()
            env.step_config(d)
            dt = time.perf_counter() - t
            total += dt
            per_scheduler.setdefault(d["scheduler"], []).append(dt)
        if env.evaluator.calls - before != points:
            raise RuntimeError("a design came from the cache: the rate would be inflated")
        rates.append(points / total)
        env.close()
    return {"env": "archgym/SoCDesign-v0", "defaults": "wifi, 30 jobs, 5 jobs/ms, "
            "ds3_reference", "designs_per_repeat": points,
            "evaluations_per_s_best": round(max(rates), 2),
            "evaluations_per_s_median": round(float(np.median(rates)), 2),
            "make_env_s_median": round(float(np.median(make_s)), 3),
            "ms_per_design_by_scheduler": {k: round(1000 * float(np.mean(v)), 1)
                                           for k, v in sorted(per_scheduler.items())}}


def ds3_agreement() -> list[dict[str, object]]:
    ref = json.loads(DS3_REFERENCE.read_text())
    rows = []
    for case in ref["cases"]:
        with tempfile.TemporaryDirectory() as d:
            config = read_ds3_config(write_ds3_case(case, d, ROOT))
            for sched, runs in case["results"].items():
                t = time.perf_counter()
                ours = [run_ds3(config, sched, seed=r["seed"]).runs[0].mean_job_latency_us
                        for r in runs]
                wall = time.perf_counter() - t
                a = sum(ours) / len(ours)
                b = sum(r["mean_job_latency_us"] for r in runs) / len(runs)
                rows.append({"config": case["name"], "scheduler": sched, "seeds": len(runs),
                             "ds3_mean_latency_us": round(b, 4),
                             "ds3_compat_mean_latency_us": round(a, 4),
                             "rel_diff": round(abs(a - b) / b, 6), "ds3_compat_s": round(wall, 2)})
    return rows


#: env parameters of the study (``docs/soc.md``): DS3's WiFi TX/RX mix on its reference SoC
STUDY_ENV = {"mode": "dynamic", "soc": "ds3_reference", "workload": "wifi", "jobs": 10,
             "rate": 10.0, "max_ready": 8, "observation": "flat", "reward": "shaped"}
#: MaskablePPO settings of the study (the shared-weight pair scorer of ``soc_pair_policy``)
STUDY_PPO = {"n_steps": 512, "batch_size": 128, "n_epochs": 4, "learning_rate": 1e-3,
             "gamma": 1.0, "gae_lambda": 0.95, "clip_range": 0.2, "ent_coef": 0.0,
             "vf_coef": 0.5, "max_grad_norm": 0.5}


def held_out_seeds(seed: int, streams: int) -> list[int]:
    """The held-out streams of a training seed: episode seeds from ``2**31`` on, which
    ``reset`` never draws for training, disjoint between training seeds."""
    from archgym.envs.soc_scheduling import HELD_OUT_SEEDS

    return [HELD_OUT_SEEDS + seed * streams + k for k in range(streams)]


def play(env, episode_seed: int, choose) -> float:
    """Mean job latency of one episode, ``choose(obs, mask) -> action`` at every step."""
    obs, info = env.reset(options={"episode_seed": episode_seed})
    done = False
    while not done:
        obs, _, done, _, info = env.step(int(choose(obs, info["action_mask"])))
    if not info["valid"]:
        raise RuntimeError("an illegal action in the study's evaluation")
    return float(info["metrics"]["mean_job_latency_us"])


def study_seed(seed: int, steps: int, streams: int) -> dict[str, object]:
    """Train MaskablePPO with ``seed`` for ``steps`` env steps; evaluate on held-out streams."""
    import numpy as np
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.logger import Logger

    from archgym import registry
    from archgym.threads import one_thread
    from experiments.benchmarks.soc_pair_policy import PairPolicy, layout_of
    from simulators.soc import simulate

    env = registry.make("archgym/SoCScheduling-v0", **STUDY_ENV).unwrapped
    t = time.perf_counter()
    with one_thread():
        model = MaskablePPO(PairPolicy, env, seed=seed, device="cpu", verbose=0,
                            policy_kwargs={"layout": layout_of(env)}, **STUDY_PPO)
        model.set_logger(Logger(folder=None, output_formats=[]))
        model.learn(total_timesteps=steps, progress_bar=False)
        train_s = time.perf_counter() - t
        rng = np.random.default_rng(seed)
        lat: dict[str, list[float]] = {"ppo": [], "heft": [], "etf": [], "random": []}
        for s in held_out_seeds(seed, streams):
            arrivals = env.arrivals(s)
            for name in ("heft", "etf"):
                lat[name].append(simulate(env.platform, env.wl, arrivals, name)
                                 .mean_job_latency_us)
            lat["ppo"].append(play(env, s, lambda o, m: model.predict(
                o, action_masks=m, deterministic=True)[0]))
            lat["random"].append(play(env, s, lambda o, m: rng.choice(np.flatnonzero(m))))
    heft = sum(lat["heft"])
    return {"seed": seed, "train_s": round(train_s, 1),
            **{f"{k}_over_heft": sum(v) / heft for k, v in lat.items() if k != "heft"},
            "ppo_over_etf": sum(lat["ppo"]) / sum(lat["etf"]),
            "mean_latency_us": {k: sum(v) / len(v) for k, v in lat.items()}}


def study(seeds: int, steps: int, streams: int, workers: int = 1) -> dict[str, object]:
    """Every seed in its own process (``workers`` at a time; results do not depend on it)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from archgym.stats import median_ci

    rows = []
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        for row in pool.map(study_seed, range(seeds), [steps] * seeds, [streams] * seeds):
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    summary = {k: median_ci([r[k] for r in rows]).to_dict()
               for k in ("ppo_over_heft", "etf_over_heft", "random_over_heft",
                         "ppo_over_etf")}
    return {"env": STUDY_ENV, "ppo": STUDY_PPO, "policy_network": "pair scorer "
            "(experiments/benchmarks/soc_pair_policy.py)", "seeds": seeds, "workers": workers,
            "train_steps_per_seed": steps, "held_out_streams_per_seed": streams,
            "summary": summary, "per_seed": rows}


def machine() -> dict[str, object]:
    return {"platform": platform.platform(), "processor": platform.processor(),
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "load_avg_1_5_15": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-ds3", action="store_true")
    ap.add_argument("--design-env", action="store_true",
                    help="also measure SoCDesign-v0's evaluations per second")
    ap.add_argument("--design-env-only", action="store_true",
                    help="measure only SoCDesign-v0 (implies --design-env)")
    ap.add_argument("--design-points", type=int, default=40)
    ap.add_argument("--study", action="store_true", help="the MaskablePPO vs HEFT/ETF study")
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--steps", type=int, default=16_000, help="training env steps per seed")
    ap.add_argument("--streams", type=int, default=8, help="held-out job streams per seed")
    ap.add_argument("--workers", type=int, default=1, help="seeds trained in parallel")
    args = ap.parse_args()
    if args.study:
        t = time.perf_counter()
        out = {"machine": machine(), **study(args.seeds, args.steps, args.streams, args.workers)}
        out["wall_s"] = round(time.perf_counter() - t, 1)
        out["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
        print(json.dumps(out))
        return
    out: dict[str, object] = {"machine": machine(), "repeats": args.repeats}
    if not args.design_env_only:
        out["heft_seconds"] = static_times(args.repeats)
        out["dynamic"] = dynamic_speed(args.repeats)
        out["env"] = env_speed(args.repeats)
        if not args.skip_ds3:
            out["ds3_agreement"] = ds3_agreement()
    if args.design_env or args.design_env_only:
        out["design_env"] = design_env_speed(args.repeats, args.design_points)
    out["reference"] = ("DS3 056c930 (tests/soc/ds3_reference.json); HEFT 10,000 tasks "
                        "must run in seconds (issue 10)")
    out["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
