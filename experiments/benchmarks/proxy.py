"""Proxy accuracy and speed on DRAM-v0: prints one JSON object.

Collects ``max(sizes) + test`` distinct random designs of ``archgym/DRAM-v0`` (a short trace,
``workers`` processes; cached under ``runs/`` and resumable), holds ``test`` of them out, and
for each model and training size reports per metric the held-out normalised RMSE (RMSE /
range of the test values), MAPE, R^2 and Kendall tau. Speed is measured in the same run,
single process: simulator evaluations per second (no cache, distinct designs) against proxy
evaluations per second, batched (``Proxy.predict`` and ``ProxyEvaluator.evaluate_batch``,
which also validates every design), and the median time of one single-design
``ProxyEvaluator`` call (``one_row_evaluate_us_median``: what a searcher asking one design at
a time pays; the compiled kernels of :mod:`archgym.proxy.kernels`). The search loop end to
end, simulator against each proxy, is ``experiments/benchmarks/proxy_loop.py``.

    python -m experiments.benchmarks.proxy --sizes 1000,5000,20000

Goal (issue 6): nRMSE < 1 % and tau > 0.9 on latency_ns and power_mw; >= 2000x speed-up.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

ENV_ID = "archgym/DRAM-v0"


def main() -> None:
    import archgym  # noqa: F401  (registers DRAM-v0)
    from archgym import dataset, registry
    from archgym.app.collect import collect
    from archgym.proxy import EnvInfo, ProxyEvaluator, evaluate, train, training_frame
    from archgym.proxy.models import GP_MAX_ROWS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--models", default="rf,gbt,mlp,gp")
    ap.add_argument("--metrics", default="latency_ns,power_mw")
    ap.add_argument("--trace-length", type=int, default=2000)
    ap.add_argument("--workload", default="stream")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", default=str(ROOT / "runs" / "proxy_bench"))
    ap.add_argument("--speed-designs", type=int, default=200,
                    help="designs simulated to measure the simulator's rate")
    ap.add_argument("--proxy-batch", type=int, default=100_000)
    ap.add_argument("--mlp-steps", type=int, default=8000)
    ap.add_argument("--full-trace-designs", type=int, default=30,
                    help="designs simulated on the full shipped trace")
    ap.add_argument("--one-row-calls", type=int, default=5000,
                    help="single-design ProxyEvaluator calls timed one by one")
    args = ap.parse_args()

    sizes = [int(s) for s in args.sizes.split(",")]
    models = args.models.split(",")
    metrics = args.metrics.split(",")
    env_kwargs = {"trace_length": args.trace_length, "workload": args.workload}
    n = max(sizes) + args.test
    out = Path(args.cache) / f"dram-{args.workload}-tl{args.trace_length}-n{n}-s{args.seed}"
    t0 = time.perf_counter()
    col = collect(ENV_ID, n, "random", args.seed, args.workers, out, env_kwargs)
    collect_s = time.perf_counter() - t0

    label = registry.make(ENV_ID, **env_kwargs).unwrapped.evaluator.workload  # stream[:2000]
    df = training_frame(dataset.load(out), ENV_ID, label)
    order = np.random.default_rng(args.seed).permutation(len(df))
    test_df = df.iloc[order[:args.test]].reset_index(drop=True)
    pool = df.iloc[order[args.test:]].reset_index(drop=True)
    info = EnvInfo.of(ENV_ID, env_kwargs)

    results: dict[str, dict] = {}
    trained = {}
    for model in models:
        results[model] = {}
        for size in sizes:
            if model == "gp" and size > GP_MAX_ROWS:
                continue
            t = time.perf_counter()
            hp = {"steps": args.mlp_steps} if model == "mlp" else {}
            proxy = train(pool.iloc[:size], ENV_ID, metrics=metrics, model=model,
                          seed=args.seed, env=info, env_kwargs=env_kwargs, **hp)
            train_s = time.perf_counter() - t
            report = evaluate(proxy, test_df)
            results[model][str(size)] = {
                "train_seconds": round(train_s, 2),
                **{m: {k: round(v, 5) for k, v in s.items() if k != "n"}
                   for m, s in report.items()}}
            trained[model] = proxy
            print(f"# {model} n={size}: " + ", ".join(
                f"{m} nrmse={s['nrmse']:.4f} tau={s['kendall_tau']:.3f}"
                for m, s in report.items()), file=sys.stderr, flush=True)

    # ---- speed, same process: simulator vs proxy
    env = registry.make(ENV_ID, **env_kwargs)
    sim = env.unwrapped.evaluator
    rng = np.random.default_rng(args.seed + 1)
    designs = [sim.space.sample(rng) for _ in range(args.speed_designs)]
    sim._evaluate(designs[0])  # warm-up (numba)
    t = time.perf_counter()
    sim._evaluate_many(designs)
    sim_rate = len(designs) / (time.perf_counter() - t)
    big = [sim.space.sample(rng) for _ in range(args.proxy_batch)]
    speed = {"simulator_evals_per_s": round(sim_rate, 2)}
    # the shipped full-length trace (what a study would simulate; the proxy's rate does not
    # depend on the trace)
    full = registry.make(ENV_ID, workload=args.workload).unwrapped.evaluator
    full._evaluate(designs[0])
    t = time.perf_counter()
    full._evaluate_many(designs[:args.full_trace_designs])
    full_rate = args.full_trace_designs / (time.perf_counter() - t)
    speed["simulator_full_trace_evals_per_s"] = round(full_rate, 2)
    speed["full_trace_requests"] = len(full.trace.addr)
    for model, proxy in trained.items():
        proxy.predict(big[:1000])  # warm-up
        t = time.perf_counter()
        proxy.predict(big)
        rate = len(big) / (time.perf_counter() - t)
        pe = ProxyEvaluator(proxy, cache_size=0)
        t = time.perf_counter()
        pe.evaluate_batch(big)
        rate_eval = len(big) / (time.perf_counter() - t)
        one = [big[i:i + 1] for i in range(args.one_row_calls)]
        ns = []
        for c in one:  # what a searcher asking one design at a time pays
            t0 = time.perf_counter_ns()
            pe.evaluate_batch(c)
            ns.append(time.perf_counter_ns() - t0)
        speed[model] = {"one_row_evaluate_us_median": round(float(np.median(ns)) / 1e3, 2),
                        "predict_evals_per_s": round(rate, 1),
                        "evaluate_batch_evals_per_s": round(rate_eval, 1),
                        "speedup_predict": round(rate / sim_rate, 1),
                        "speedup_evaluate_batch": round(rate_eval / sim_rate, 1),
                        "speedup_vs_full_trace": round(rate_eval / full_rate, 1)}
    env.close()
    print(json.dumps({
        "machine": {"cpu": platform.processor() or platform.machine(),
                    "cores": os.cpu_count(), "python": platform.python_version()},
        "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
        "env": ENV_ID, "env_kwargs": env_kwargs, "designs": len(df), "test": len(test_df),
        "collect": {**col.summary(), "wall_seconds": round(collect_s, 1)},
        "metrics": metrics, "mlp_steps": args.mlp_steps, "accuracy": results, "speed": speed,
        "goal": {"nrmse": 0.01, "kendall_tau": 0.9, "speedup": 2000},
    }, indent=1))


if __name__ == "__main__":
    main()
