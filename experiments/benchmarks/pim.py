"""PIM simulator speed and its agreement with AMD GeniePIM, printed as one JSON object.

- ``gemv_per_s``: distinct GEMVs simulated per second (cold engine cache), the 14 reference
  shapes x N = 1, 2, 4, 8 on the PIM-GPT-like configuration; ``gemv_events_skip`` vs
  ``gemv_events_full``: engine events of GPT-2 XL's LM head (50257 x 1600) on one channel of
  16 banks (4,908 rows per bank) with and without exact event skipping, and the wall time
  of each;
- ``gpt2_xl_tokens_per_s_simulated``: GPT-2 XL tokens (prompt 64 + 64 generated) simulated
  per second of wall time, cold caches; ``design_eval_s``: one ``evaluate_design`` on GPT-2
  XL (prompt 64, 64 tokens) with cold caches, the cost of one step of a design-space search;
- ``geniepim_agreement``: for every configuration of ``tests/pim/geniepim_reference.json``
  (GeniePIM v0.7.0 run on its own config format, N = 1..8), the largest and the median
  relative difference of our PIM time and speed-up (split-K padding rescaled as in
  ``docs/pim-fidelity.md``); ``random-40`` summarises the 40 random multi-knob
  configurations of ``tests/pim/geniepim_random_reference.json``.

- ``env``: ``archgym/PIM-v0`` evaluations per second (env steps of seeded random valid
  designs, cold simulator caches, best of ``--reps``) with its default workload (GPT-2,
  16 + 16 tokens) and with GPT-2 XL at 64 + 64, and the share of designs that the space's
  design rules reject (uniform over the knob product) and that the simulator still refuses;
- ``search`` (with ``--search``): random search, the GA and TPE on PIM-v0 with the objective
  ``"throughput; area_mm2<=A"`` (A: the default PIM-GPT design's area), equal budgets,
  ``--seeds`` seeds: the best feasible tokens/s of each run, median and bootstrap 95 % CI
  over seeds (``archgym.stats.median_ci``), relative to the default design's.

Reference for speed: the DSE loop needs seconds per design at most; GeniePIM itself is an
analytical formula (no events). Usage: ``python -m experiments.benchmarks.pim [--reps 3]
[--search [--seeds 30] [--budget 60] [--quick]]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from simulators.pim import (
    DESIGN_KNOBS,
    evaluate_design,
    read_config,
    simulate_decoding,
    simulate_gemv,
)
from simulators.pim.engine import ChannelEngine
from simulators.pim.gemv import _simulate_channel, pim_timing
from simulators.pim.geniepim import reference_pim_time
from simulators.pim.gpt import _weight_gemv
from simulators.pim.mapping import build_program, map_gemv

TESTS = Path(__file__).resolve().parents[2] / "tests" / "pim"
REFERENCE = TESTS / "geniepim_reference.json"
RANDOM = TESTS / "geniepim_random_reference.json"


def _cold() -> None:
    _simulate_channel.cache_clear()
    _weight_gemv.cache_clear()


def _machine() -> dict:
    return {"platform": platform.platform(), "python": platform.python_version(),
            "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
            "load_avg_1m": round(os.getloadavg()[0], 2)}


def gemv_speed(reps: int) -> dict:
    cfg = read_config("pim-gpt")
    shapes = [(r["M"], r["K"]) for r in json.loads(REFERENCE.read_text())["cases"][0]["results"]
              if r["N"] == 1]
    best = float("inf")
    for _ in range(reps):
        _cold()
        t = time.perf_counter()
        for M, K in shapes:
            for N in (1, 2, 4, 8):
                simulate_gemv(M, K, N, cfg)
        best = min(best, time.perf_counter() - t)
    out = {"gemv_per_s": round(4 * len(shapes) / best, 1), "gemv_shapes": len(shapes) * 4}
    one = cfg.replace(channels=1)
    t_ = pim_timing(one)
    prog = build_program(map_gemv(50257, 1600, 1, one), one, t_)
    for skip in (True, False):
        t0 = time.perf_counter()
        stats = ChannelEngine(t_, one.words_per_row, skip=skip).run(prog)
        key = "skip" if skip else "full"
        out[f"gemv_events_{key}"] = stats.events
        out[f"gemv_lm_head_1ch_s_{key}"] = round(time.perf_counter() - t0, 4)
    return out


def decode_speed(reps: int) -> dict:
    cfg = read_config("pim-gpt")
    best = best_eval = float("inf")
    for _ in range(reps):
        _cold()
        t = time.perf_counter()
        r = simulate_decoding("gpt2-xl", 64, 64, cfg)
        best = min(best, time.perf_counter() - t)
        _cold()
        t = time.perf_counter()
        evaluate_design({"channels": 16, "banks_per_channel": 8}, "gpt2-xl", 64, 64)
        best_eval = min(best_eval, time.perf_counter() - t)
    return {"gpt2_xl_tokens_per_s_simulated": round(128 / best, 1),
            "gpt2_xl_decode_s": round(best, 3), "design_eval_s": round(best_eval, 3),
            "gpt2_xl_pim_tokens_per_s": round(r.tokens_per_s, 1),
            "gpt2_xl_speedup_vs_t4_roofline": round(r.speedup, 2),
            "gpt2_xl_energy_per_token_uj": round(r.energy_per_token_uj, 1)}


def _errors(case: dict) -> tuple[list[float], list[float]]:
    """Relative differences of our PIM time and speed-up from GeniePIM's on one case."""
    with tempfile.NamedTemporaryFile("w", suffix=".in", delete=False) as f:
        f.write("".join(f"{k}={v}\n" for k, v in case["config"].items()))
    cfg = read_config(f.name)
    os.unlink(f.name)
    t_err, s_err = [], []
    for row in case["results"]:
        r = simulate_gemv(row["M"], row["K"], row["N"], cfg)
        ref = reference_pim_time(row, r.mapping, cfg.total_banks)
        t_err.append(r.pim_time_ns / ref - 1)
        s_err.append(r.speedup / (row["host_time_ns"] / ref) - 1)
    return t_err, s_err


def agreement() -> dict:
    table = {}
    for case in json.loads(REFERENCE.read_text())["cases"]:
        t_err, s_err = _errors(case)
        table[case["name"]] = {
            "gemvs": len(t_err),
            "pim_time_max_abs_pct": round(100 * max(map(abs, t_err)), 2),
            "pim_time_median_pct": round(100 * statistics.median(t_err), 2),
            "speedup_max_abs_pct": round(100 * max(map(abs, s_err)), 2),
        }
    t_all = [e for case in json.loads(RANDOM.read_text())["cases"] for e in _errors(case)[0]]
    table["random-40"] = {
        "gemvs": len(t_all),
        "pim_time_max_abs_pct": round(100 * max(map(abs, t_all)), 2),
        "pim_time_median_pct": round(100 * statistics.median(t_all), 2),
        "within_15_pct": sum(abs(e) <= 0.15 for e in t_all),
    }
    return table


def env_speed(reps: int, designs: int = 20) -> dict:
    """PIM-v0 steps per second on seeded random valid designs, cold simulator caches."""
    import archgym

    out: dict = {}
    for label, kwargs in (("default", {}), ("gpt2-xl[64+64]",
                                            {"model": "gpt2-xl", "prompt": 64, "tokens": 64})):
        best, refused = float("inf"), 0
        for _ in range(reps):
            _cold()
            env = archgym.make("archgym/PIM-v0", **kwargs).unwrapped
            rng = np.random.default_rng(0)
            configs = [env.space.sample(rng) for _ in range(designs)]
            t = time.perf_counter()
            refused = sum(not env.step_config(c)[4]["valid"] for c in configs)
            best = min(best, time.perf_counter() - t)
        rng = np.random.default_rng(1)
        product = [{k: v[int(rng.integers(len(v)))] for k, v in DESIGN_KNOBS.items()}
                   for _ in range(200)]
        rejected = sum(not env.space.is_valid(c) for c in product)
        out[label] = {"evaluations_per_s": round(designs / best, 2), "designs": designs,
                      "refused_by_simulator": refused,
                      "rejected_by_rules_of_200_uniform": rejected}
    return out


def search_comparison(seeds: int, budget: int, searchers: list[str]) -> dict:
    """Best feasible tokens/s within the default design's area: searchers x seeds."""
    import agents
    import archgym
    from archgym.runner import run
    from archgym.stats import median_ci

    probe = archgym.make("archgym/PIM-v0").unwrapped
    area = probe.evaluator.default_metrics["area_mm2"]
    base_tps = probe.evaluator.default_metrics["tokens_per_s"]
    objective = f"throughput; area_mm2<={area:.6g}"
    table: dict = {"objective": objective, "default_tokens_per_s": round(base_tps, 1),
                   "budget": budget, "seeds": seeds, "searchers": {}}
    for name in searchers:
        best, invalid, start = [], 0, time.perf_counter()
        for seed in range(seeds):
            env = archgym.make("archgym/PIM-v0", objective=objective)
            searcher, target = agents.for_env(name, env, seed=seed)
            result = run(target, searcher, budget, seed=seed)
            feasible = [e.metrics["tokens_per_s"] for e in result.history
                        if e.valid and e.feasible]
            best.append(max(feasible, default=0.0) / base_tps)
            invalid += sum(not e.valid for e in result.history)
        ci = median_ci(best)
        table["searchers"][name] = {
            "best_tokens_per_s_vs_default": {k: round(v, 4) if isinstance(v, float) else v
                                             for k, v in ci.to_dict().items()},
            "invalid_evaluations": invalid,
            "wall_seconds": round(time.perf_counter() - start, 1)}
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--search", action="store_true", help="run the search comparison")
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--budget", type=int, default=60)
    ap.add_argument("--searchers", nargs="*", default=["random", "ga", "tpe"])
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 1 repetition, 3 seeds, budget 10, no GeniePIM table")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.seeds, args.budget = 1, 3, 10
    out = {"machine": _machine(), "repetitions": args.reps,
           "reference": "GeniePIM v0.7.0 (tests/pim/geniepim_reference.json); DSE target: "
                        "seconds per design"}
    start = time.perf_counter()
    out.update(gemv_speed(args.reps))
    out.update(decode_speed(args.reps))
    out["env"] = env_speed(args.reps)
    if not args.quick:
        out["geniepim_agreement"] = agreement()
    if args.search:
        out["search"] = search_comparison(args.seeds, args.budget, args.searchers)
    out["wall_seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
