"""Memory-mapping game: greedy's gap to the exact optimum, agreement with the team's
reference, and game steps per second. Prints one JSON object.

- ``reference``: the four public programs of ``tests/memmap/reference`` (an independent
  implementation of the rules, CP-SAT on integer time units cross-checked by HiGHS and
  exhaustive search): all-slow and optimal times here vs there, relative error (the
  tolerance is 1e-9).
- ``programs``: for every shipped program, the all-slow, greedy and optimal times, greedy's
  gap to the optimum ``greedy / optimal - 1`` (in %), whether the optimum is proven, the
  solver's wall time, and whether the game (8 slots) can reach the optimum.
- ``game``: steps per second on ``gpt2_decode`` (245 tensors): random legal actions with,
  per step, the action mask, a 32 x 32 occupancy map and 4 rows of features, as an
  environment would compute them; and bare ``place`` steps. Best of ``--repeats``.
- ``torch_import_1b_s`` (with ``--torch``): seconds to import a 1.2B-parameter GPT-style
  model built on the meta device.

Usage (from the repository root)::

    python -m experiments.benchmarks.memmap [--time-limit 60] [--repeats 3] [--torch]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from simulators.memmap import (
    Game,
    actions_for,
    all_slow,
    evaluate,
    greedy,
    optimal,
    placement_from_json,
    read_program,
)
from workloads import memmap as workloads

REF_DIR = Path(__file__).resolve().parents[2] / "tests" / "memmap" / "reference"


def machine() -> dict:
    return {"platform": platform.platform(), "python": platform.python_version(),
            "cpus": os.cpu_count(), "load_avg_1_5_15": [round(x, 2) for x in os.getloadavg()]}


def reference_agreement(time_limit: float) -> dict:
    ref = json.loads((REF_DIR / "reference.json").read_text())["programs"]
    out = {}
    for name, r in ref.items():
        p = read_program(REF_DIR / r["file"])
        slow = evaluate(p, all_slow(p))
        sol = optimal(p, time_limit)
        opt = evaluate(p, sol.placement)
        theirs = evaluate(p, placement_from_json(r["one_optimal_placement"], len(p.tensors)))
        out[name] = {
            "all_slow_rel_err": abs(slow.total_time_s / r["all_slow_time_s"] - 1),
            "optimum_rel_err": abs(opt.total_time_s / r["optimum_time_s"] - 1),
            "optimum_exact_equal": Fraction(opt.total_time_exact)
            == Fraction(r["optimum_time_exact"]),
            "proven_optimal": sol.proven_optimal,
            "reference_placement_valid": theirs.valid,
        }
    return out


def greedy_gaps(time_limit: float) -> dict:
    out = {}
    for name in workloads.available():
        p = workloads.load(name)
        slow, g = evaluate(p, all_slow(p)), evaluate(p, greedy(p))
        t0 = time.perf_counter()
        sol = optimal(p, time_limit)
        wall = time.perf_counter() - t0
        o = evaluate(p, sol.placement)
        fast = {i for i, x in enumerate(sol.placement) if x is not None}
        out[name] = {
            "tensors": len(p.tensors), "ops": len(p.ops),
            "all_slow_time_s": slow.total_time_s, "greedy_time_s": g.total_time_s,
            "optimal_time_s": o.total_time_s,
            "greedy_gap_pct": 100 * float(Fraction(g.total_time_exact)
                                          / Fraction(o.total_time_exact) - 1),
            "proven_optimal": sol.proven_optimal, "solver_status": sol.status,
            "solve_wall_s": round(wall, 3),
            "game_reaches_optimum": actions_for(p, fast, num_slots=8) is not None,
        }
    return out


def game_steps_per_s(repeats: int, episodes: int = 5) -> dict:
    p = workloads.load("gpt2_decode")
    best_full = best_bare = 0.0
    for rep in range(repeats):
        rng = np.random.default_rng(rep)
        steps, t0 = 0, time.perf_counter()
        for _ in range(episodes):
            g = Game(p, num_slots=8)
            while not g.done:
                mask = g.action_mask()
                g.occupancy(32, 32)
                g.features(4)
                g.place(int(rng.choice(np.flatnonzero(mask))))
                steps += 1
        best_full = max(best_full, steps / (time.perf_counter() - t0))
        steps, t0 = 0, time.perf_counter()
        for _ in range(episodes):
            g = Game(p, num_slots=8)
            while not g.done:
                g.place(int(rng.choice(np.flatnonzero(g.action_mask()))))
                steps += 1
        best_bare = max(best_bare, steps / (time.perf_counter() - t0))
    return {"program": "gpt2_decode", "tensors": len(p.tensors), "num_slots": 8,
            "episodes_per_repeat": episodes, "repeats": repeats,
            "steps_per_s_with_observation": round(best_full),
            "steps_per_s_place_only": round(best_bare)}


def torch_import_seconds() -> float:
    import torch

    from simulators.memmap import Hierarchy
    from simulators.memmap.torch_import import from_torch
    from workloads.memmap.torch_models import gpt_stack

    t0 = time.perf_counter()
    m = gpt_stack(24, 2048, 16, dtype=torch.bfloat16)
    from_torch(m, [(1, 128, 2048)], hierarchy=Hierarchy(16 << 20, 3.2e12, 512, 6e11, 1e14))
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--torch", action="store_true", help="also time a 1.2B-parameter import")
    args = ap.parse_args()
    out: dict[str, object] = {"machine": machine(), "time_limit_s": args.time_limit}
    out["reference"] = reference_agreement(args.time_limit)
    out["programs"] = greedy_gaps(args.time_limit)
    small = [v["greedy_gap_pct"] for k, v in out["programs"].items() if k.startswith("small_")]
    out["small_greedy_gap_pct"] = {"median": float(np.median(small)),
                                   "mean": float(np.mean(small)), "max": float(max(small)),
                                   "programs": len(small)}
    out["game"] = game_steps_per_s(args.repeats)
    if args.torch:
        out["torch_import_1b_s"] = round(torch_import_seconds(), 2)
    out["machine"]["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
