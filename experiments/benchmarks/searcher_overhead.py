"""Per-proposal overhead of the model-based searchers on DRAM-v0's full space (442,368 designs).

``sample_efficiency.py`` measures overhead on the 6,912-design ground-truth sub-space; this
one runs on the whole space, where BO cannot enumerate its candidates and the Optuna
samplers see every knob. Overhead is the wall time inside ``ask`` + ``tell`` (the simulation
is timed separately), in milliseconds: mean over the run, median, and mean of the last 10
proposals (model-based searchers get slower as their history grows). Prints one JSON object.

Usage (from the repository root)::

    python -m experiments.benchmarks.searcher_overhead [--budget 40] [--trace-length 2000]
        [--searchers bo tpe nsga2 cmaes gp-optuna qmc-optuna]
"""

from __future__ import annotations

import argparse
import json
import time

import gymnasium
import numpy as np

import agents
import archgym  # noqa: F401  (registers the envs)

#: name -> (label, hyper-parameters)
CASES = {
    "bo": [("bo", {}), ("bo batch_size=4", {"batch_size": 4}),
           ("bo multi-objective", {"objectives": ["latency_ns", "power_mw"]})],
    "nsga2": [("nsga2", {}), ("nsga2 multi-objective",
                              {"objectives": ["latency_ns", "power_mw"]})],
}


def measure(name: str, hparams: dict, budget: int, trace_length: int) -> dict:
    env = gymnasium.make("archgym/DRAM-v0", trace_length=trace_length, max_steps=10**9)
    base = env.unwrapped
    env.reset(seed=0)
    searcher = agents.make(name, base.space, seed=0, **hparams)
    overhead, evals, best = [], [], -np.inf
    for _ in range(budget):
        t = time.perf_counter()
        config = searcher.ask()
        t_ask = time.perf_counter() - t
        t = time.perf_counter()
        _, reward, _, _, info = base.step_config(config)
        evals.append(time.perf_counter() - t)
        t = time.perf_counter()
        searcher.tell(info["config"], info["metrics"], reward)
        overhead.append(t_ask + time.perf_counter() - t)
        best = max(best, reward)
    ms = np.array(overhead) * 1000
    return {"overhead_ms_mean": round(float(ms.mean()), 2),
            "overhead_ms_median": round(float(np.median(ms)), 2),
            "overhead_ms_last10": round(float(ms[-10:].mean()), 2),
            "evaluation_ms_median": round(float(np.median(evals)) * 1000, 2),
            "best_reward": float(best)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=int, default=40)
    ap.add_argument("--trace-length", type=int, default=2000)
    ap.add_argument("--searchers", nargs="+",
                    default=["bo", "tpe", "nsga2", "cmaes", "gp-optuna", "qmc-optuna"])
    args = ap.parse_args()
    results = {}
    for name in args.searchers:
        for label, hp in CASES.get(name, [(name, {})]):
            results[label] = measure(name, hp, args.budget, args.trace_length)
    print(json.dumps({"env": "archgym/DRAM-v0", "space_size": 442368, "budget": args.budget,
                      "trace_length": args.trace_length, "searchers": results}))


if __name__ == "__main__":
    main()
