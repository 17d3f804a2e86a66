"""Where a MARL-study step's time goes: learner vs cost model, per method and cost model.

The MARL-at-scale study (``experiments/marl_at_scale.py``) runs 20,000-evaluation searches
through a proxy; whether the proxy or the learners bound its size decides what to speed up.
For each method and cost model this times ``--steps`` evaluations of a run on the study's
problem (DRAM-v0, cloud, 2,000-request trace, low-latency target) and splits each step into
the time inside the env's evaluator (simulator / proxy / multi-fidelity) and the rest (the
learner, the env wrapper, bookkeeping). It also times one-row predictions of each saved proxy
(the evaluator's cost per design when designs come one at a time, as a learner sends them).
Prints one JSON object (machine, load, repetitions; medians over repetitions).

    python -m experiments.benchmarks.marl_step_cost --study runs/marl_at_scale
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import agents
from archgym.registry import make
from archgym.runner import run

PROBLEM = {"workload": "cloud", "objective": "latency", "target_latency": 238.705,
           "trace_length": 2000}


def _timed(evaluator) -> list[float]:
    """Accumulate the time spent in ``evaluator.evaluate_batch`` (every evaluation goes
    through it; an instance attribute shadowing the method, only this benchmark's env sees
    it)."""
    spent = [0.0]
    inner = evaluator.evaluate_batch

    def evaluate_batch(*a, **kw):
        t = time.perf_counter()
        try:
            return inner(*a, **kw)
        finally:
            spent[0] += time.perf_counter() - t

    evaluator.evaluate_batch = evaluate_batch
    return spent


def step_cost(method: str, cost_model: str, proxy: str | None, steps: int, seed: int) -> dict:
    kw = dict(PROBLEM, cost_model=cost_model, **({"proxy": proxy} if proxy else {}))
    env = make("archgym/DRAM-v0", **kw)
    spent = _timed(env.unwrapped.evaluator)
    searcher, target = agents.for_env(method, env, seed=seed)
    start = time.perf_counter()
    run(target, searcher, steps, seed=seed)
    total = time.perf_counter() - start
    return {"ms_per_step": 1000 * total / steps, "evaluator_ms_per_step": 1000 * spent[0] / steps}


def one_row_ms(proxy: str | None, cost_model: str, designs: int) -> float:
    kw = dict(PROBLEM, cost_model=cost_model, **({"proxy": proxy} if proxy else {}))
    base = make("archgym/DRAM-v0", **kw).unwrapped
    rng = np.random.default_rng(1)
    configs = [base.space.sample(rng) for _ in range(designs)]
    start = time.perf_counter()
    for c in configs:
        base.evaluator.evaluate(c)
    return 1000 * (time.perf_counter() - start) / designs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--study", type=Path, default=Path("runs/marl_at_scale"),
                    help="the study's output directory (its proxy_<cost model> proxies)")
    ap.add_argument("--methods", nargs="+", default=["marl-ppo", "ppo", "sac", "random"])
    ap.add_argument("--cost-models", nargs="+",
                    default=["simulator", "proxy", "multi-fidelity"])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--designs", type=int, default=300, help="for the one-row timings")
    args = ap.parse_args()
    load_start = os.getloadavg()
    proxies = {cm: None if cm == "simulator" else str(args.study / f"proxy_{cm}")
               for cm in args.cost_models}
    one_row = {cm: round(float(np.median([one_row_ms(p, cm, args.designs)
                                          for _ in range(args.repetitions)])), 3)
               for cm, p in proxies.items()}
    rows = []
    for cm, proxy in proxies.items():
        for method in args.methods:
            reps = [step_cost(method, cm, proxy, args.steps, seed=r)
                    for r in range(args.repetitions)]
            med = {k: round(float(np.median([r[k] for r in reps])), 3) for k in reps[0]}
            med["learner_and_rest_ms_per_step"] = round(
                med["ms_per_step"] - med["evaluator_ms_per_step"], 3)
            rows.append({"method": method, "cost_model": cm, **med})
    print(json.dumps({
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "load_start": load_start, "load_end": os.getloadavg(),
        "steps": args.steps, "repetitions": args.repetitions,
        "one_row_evaluate_ms": one_row, "per_step": rows}, indent=1))


if __name__ == "__main__":
    main()
