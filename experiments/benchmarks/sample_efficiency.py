"""Sample efficiency of the black-box searchers on the DRAM ground-truth sub-space.

For each searcher and seed, the number of evaluations until a design within 1 % of the true
optimum's reward is found (the optimum is known exactly: ``experiments/ground_truth.py``
enumerated all 6,912 designs of the shipped ``cloud_latency`` sub-space with the simulator).
Reported per searcher: the median over seeds (a run that never gets there counts as the cap,
and ``cap_hits`` says how many did), each seed's count, and the searcher's own overhead per
proposal in milliseconds (wall time inside ``ask`` + ``tell`` only, averaged over the run;
evaluations are table look-ups, so they are excluded anyway). For scale: uniform random
sampling without replacement needs (N + 1) / (K + 1) = 6913 / 37 = 187 evaluations on
average (K = 36 of the N = 6,912 designs are within 1 %).

Evaluations are answered from the ground-truth table (:func:`experiments.ground_truth.
lookup_env`), which holds exactly the simulator's latency for every design, so hundreds of
searches take seconds instead of hours. Searchers with default hyper-parameters.

Usage (from the repository root)::

    python -m experiments.benchmarks.sample_efficiency [--seeds 5] [--cap 1000]
        [--searchers random grid ...] [--table cloud_latency]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from typing import Any

import agents
from experiments.ground_truth import DEFAULT_NAME, load, lookup_env, near_optimal

RL = {"ppo", "a2c", "dqn", "sac", "td3", "marl-ppo"}
#: Searchers whose proposals cost seconds each (a model fit per step) get a smaller cap.
SLOW_CAP = {"bo": 200, "gp-optuna": 300}


def evaluations_to_near_optimum(name: str, data: dict[str, Any], seed: int, cap: int,
                                ) -> tuple[int | None, float, int]:
    """(evaluations until within 1 % or None, mean ask+tell ms per proposal, proposals)."""
    env = lookup_env(data)
    env.reset(seed=seed)
    searcher = agents.make(name, env.space, seed=seed)
    optimum = data["optimum"]["reward"]
    overhead = 0.0
    for step in range(1, cap + 1):
        t = time.perf_counter()
        config = searcher.ask()
        overhead += time.perf_counter() - t
        _, reward, _, _, info = env.step_config(config)
        t = time.perf_counter()
        searcher.tell(info["config"], info["metrics"], reward)
        overhead += time.perf_counter() - t
        if info["valid"] and near_optimal(reward, optimum):
            return step, 1000 * overhead / step, step
    return None, 1000 * overhead / cap, cap


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--cap", type=int, default=1000, help="evaluation budget per run")
    ap.add_argument("--searchers", nargs="*", default=None,
                    help="default: every registered black-box searcher")
    ap.add_argument("--table", default=DEFAULT_NAME)
    args = ap.parse_args(argv)
    data = load(args.table)
    names = args.searchers or [n for n in agents.available() if n not in RL]
    results: dict[str, Any] = {}
    for name in names:
        cap = min(args.cap, SLOW_CAP.get(name, args.cap))
        counts, overheads, proposals = [], [], 0
        start = time.perf_counter()
        for seed in range(args.seeds):
            n, ms, done = evaluations_to_near_optimum(name, data, seed, cap)
            counts.append(n)
            overheads.append(ms * done)
            proposals += done
        hits = sum(c is None for c in counts)
        results[name] = {
            "median_evaluations": statistics.median(cap if c is None else c for c in counts),
            "evaluations_per_seed": counts,
            "cap": cap,
            "cap_hits": hits,
            "overhead_ms_per_proposal": round(sum(overheads) / proposals, 3),
            "wall_seconds": round(time.perf_counter() - start, 1),
        }
    print(json.dumps({
        "benchmark": "sample_efficiency",
        "table": args.table,
        "designs": data["count"],
        "within_1pct": data["within_1pct"],
        "optimum_reward": data["optimum"]["reward"],
        "optimum_latency_ns": data["optimum"]["metrics"]["latency_ns"],
        "random_without_replacement_expected": round(
            (data["count"] + 1) / (data["within_1pct"] + 1), 1),
        "seeds": args.seeds,
        "searchers": results,
    }, indent=1, default=lambda x: None if isinstance(x, float) and math.isnan(x) else x))


if __name__ == "__main__":
    main()
