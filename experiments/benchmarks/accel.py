"""Accelerator model speed and agreement with SCALE-Sim v3, printed as one JSON object.

* ``model``: layers per second of :func:`simulators.accel.simulate_layer` (its caches
  cleared before every call, numba compiled beforehand), best of ``--repeats``, on every
  CALC reference layer; and whole shipped workloads (ResNet-18, ResNet-50, BERT-base, GPT-2)
  through :func:`simulators.accel.simulate` from cold caches (layers of equal shape are
  computed once per network) on a 32x32 ws array with 64 kB SRAMs.
* ``speedup``: SCALE-Sim's wall time on the same reference layers over ours, per case
  (median, minimum, and over the whole set). SCALE-Sim's times are re-measured when an
  interpreter with SCALE-Sim is given (``--scalesim-python`` or ``$ARCHGYM_SCALESIM_PYTHON``,
  ``--rerun N`` cases), else the times recorded in ``tests/accel/scalesim_reference.json``,
  labelled with the machine they were measured on.
* ``env``: ``archgym/Accelerator-v0`` evaluations per second on every shipped workload, over
  ``--designs`` distinct designs drawn uniformly from its space (seed 0), each a full
  ``step`` (the whole network through the model, metrics, reward, observation): ``cold``
  clears the model's caches before every step (best of ``--repeats`` per design; median, 90th
  percentile and slowest step), ``warm`` keeps them through the run as a searcher does
  (equal layer shapes and IFMAP traffic shared between designs).
* ``agreement``: per reference case, ours and SCALE-Sim's value of every compared column,
  and a summary: exact matches of cycles, SRAM counts and percentages (to 1e-9), DRAM OFMAP
  writes within one array line, worst relative DRAM IFMAP and filter read errors.

Usage: ``python -m experiments.benchmarks.accel [--repeats 3] [--rerun N] [--designs 30]
[--out FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from archgym import registry
from experiments.accel_scalesim import REFERENCE, run_case, scalesim_python
from simulators.accel import AccelConfig, Layer, simulate, simulate_layer
from simulators.accel.dram import ifmap_dram_reads
from simulators.accel.model import _figures
from workloads.accel import load


def _cold() -> None:
    """Forget every cached layer result, so a timing pays for the whole model."""
    _figures.cache_clear()
    ifmap_dram_reads.cache_clear()


def _uncached(layer: Layer, cfg: AccelConfig):
    _cold()
    return simulate_layer(layer, cfg)

COMPARED = {  # our field -> (SCALE-Sim report, column)
    "total_cycles": ("compute_report", "Total Cycles"),
    "stall_cycles": ("compute_report", "Stall Cycles"),
    "overall_util_pct": ("compute_report", "Overall Util %"),
    "mapping_efficiency_pct": ("compute_report", "Mapping Efficiency %"),
    "compute_util_pct": ("compute_report", "Compute Util %"),
    "sram_ifmap_reads": ("detailed_access_report", "SRAM IFMAP Reads"),
    "sram_filter_reads": ("detailed_access_report", "SRAM Filter Reads"),
    "sram_ofmap_writes": ("detailed_access_report", "SRAM OFMAP Writes"),
    "dram_ifmap_reads": ("detailed_access_report", "DRAM IFMAP Reads"),
    "dram_filter_reads": ("detailed_access_report", "DRAM Filter Reads"),
    "dram_ofmap_writes": ("detailed_access_report", "DRAM OFMAP Writes"),
}


def best_seconds(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def machine() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text()
                .splitlines() if ln.startswith("model name")), platform.processor())
    return {"cpu": cpu, "cores": os.cpu_count(), "load_avg_1min": os.getloadavg()[0],
            "python": platform.python_version()}


def agreement(case: dict) -> dict:
    ours = _uncached(Layer(**case["layer"]), AccelConfig(**case["config"])).to_dict()
    row = {"id": case["id"]}
    for field, (report, col) in COMPARED.items():
        row[field] = {"ours": ours[field], "scalesim": case["scalesim"][report][col]}
    return row


def summarise(rows: list[dict], cases: list[dict]) -> dict:
    def rel(r, f):
        ref = r[f]["scalesim"]
        return abs(r[f]["ours"] - ref) / ref if ref else float(r[f]["ours"] != 0)

    exact = {f: sum(r[f]["ours"] == r[f]["scalesim"] for r in rows)
             for f in ("total_cycles", "stall_cycles", "sram_ifmap_reads", "sram_filter_reads",
                       "sram_ofmap_writes", "dram_ofmap_writes")}
    exact |= {f: sum(rel(r, f) <= 1e-9 for r in rows)
              for f in ("overall_util_pct", "mapping_efficiency_pct", "compute_util_pct")}
    within_line = sum(abs(r["dram_ofmap_writes"]["ours"] - r["dram_ofmap_writes"]["scalesim"])
                      <= c["config"]["array_cols"] for r, c in zip(rows, cases, strict=True))
    return {"cases": len(rows), "exact_matches": exact,
            "dram_ofmap_writes_within_one_line": within_line,
            "dram_ifmap_reads_max_rel_err": max(rel(r, "dram_ifmap_reads") for r in rows),
            "dram_ifmap_reads_mean_rel_err": statistics.fmean(rel(r, "dram_ifmap_reads")
                                                              for r in rows),
            "dram_filter_reads_max_rel_err": max(rel(r, "dram_filter_reads") for r in rows),
            "dram_ifmap_reads_within_10pct": sum(rel(r, "dram_ifmap_reads") <= 0.10
                                                 for r in rows)}


def env_speed(designs: int, repeats: int) -> dict:
    """Accelerator-v0 steps per second per shipped workload (see the module docstring)."""
    out = {"env": "archgym/Accelerator-v0", "designs": designs, "design_seed": 0}
    for name in ("bert_base", "gpt2", "resnet18", "resnet50"):
        env = registry.make("archgym/Accelerator-v0", workload=name).unwrapped
        space, rng = env.space, np.random.default_rng(0)
        configs: dict[str, dict] = {}
        while len(configs) < designs:
            config = space.sample(rng)
            configs.setdefault(space.key(config), config)
        cold = [float("inf")] * designs
        warm = float("inf")
        for _ in range(repeats):
            env = registry.make("archgym/Accelerator-v0", workload=name).unwrapped
            for i, config in enumerate(configs.values()):
                _cold()
                t0 = time.perf_counter()
                env.step_config(config)
                cold[i] = min(cold[i], time.perf_counter() - t0)
            env = registry.make("archgym/Accelerator-v0", workload=name).unwrapped
            _cold()
            t0 = time.perf_counter()
            for config in configs.values():
                env.step_config(config)
            warm = min(warm, time.perf_counter() - t0)
        out[name] = {"layers": len(env.evaluator.layers),
                     "cold": {"evaluations_per_s": designs / sum(cold),
                              "median_ms": statistics.median(cold) * 1e3,
                              "p90_ms": float(np.percentile(cold, 90)) * 1e3,
                              "max_ms": max(cold) * 1e3},
                     "warm": {"evaluations_per_s": designs / warm}}
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scalesim-python")
    ap.add_argument("--rerun", type=int, default=0,
                    help="re-measure SCALE-Sim on the first N reference cases")
    ap.add_argument("--designs", type=int, default=30,
                    help="random Accelerator-v0 designs per workload for the env speed")
    ap.add_argument("--out", type=Path, help="also write the JSON here")
    args = ap.parse_args(argv)
    ref = json.loads(REFERENCE.read_text())
    cases = [c for c in ref["cases"] if c["config"]["interface_bandwidth"] == "CALC"]
    for c in cases[:3]:  # compile (or load) the numba kernels outside the timings
        _uncached(Layer(**c["layer"]), AccelConfig(**c["config"]))

    ours = []
    for c in cases:
        layer, cfg = Layer(**c["layer"]), AccelConfig(**c["config"])
        ours.append(best_seconds(lambda layer=layer, cfg=cfg: _uncached(layer, cfg),
                                 args.repeats))
    theirs = [c["scalesim"]["seconds"] for c in cases]
    source = {"kind": "recorded", "machine": ref["provenance"]["machine"],
              "scalesim_version": ref["provenance"]["scalesim_version"]}
    python = scalesim_python(args.scalesim_python) if args.rerun else None
    if python:
        for i, c in enumerate(cases[:args.rerun]):
            theirs[i] = run_case(c, python)["seconds"]
        source = {"kind": f"re-measured on this machine for the first {args.rerun} cases, "
                          "recorded for the rest", "recorded_machine": ref["provenance"]["machine"]}
    speedups = [t / o for t, o in zip(theirs, ours, strict=True)]

    workloads = {}
    cfg = AccelConfig(32, 32, 64, 64, 64, "ws")
    for name in ("resnet18", "resnet50", "bert_base", "gpt2"):
        layers = load(name)
        sec = best_seconds(lambda layers=layers: (_cold(), simulate(layers, cfg)),
                           args.repeats)
        workloads[name] = {"layers": len(layers), "seconds": sec, "layers_per_s": len(layers) / sec}

    rows = [agreement(c) for c in cases]
    out = {
        "benchmark": "accel",
        "machine": machine(),
        "repetitions": args.repeats,
        "reference": {"tool": ref["provenance"]["tool"], "file": str(REFERENCE.name),
                      "scalesim_times": source},
        "model": {"reference_layers": len(cases), "seconds_total": sum(ours),
                  "layers_per_s": len(cases) / sum(ours),
                  "median_us_per_layer": statistics.median(ours) * 1e6,
                  "workloads_32x32_ws_64kB": workloads},
        "env": env_speed(args.designs, args.repeats),
        "speedup": {"median": statistics.median(speedups), "min": min(speedups),
                    "overall": sum(theirs) / sum(ours), "scalesim_seconds_total": sum(theirs),
                    "per_case": {c["id"]: {"scalesim_s": t, "ours_s": o, "speedup": t / o}
                                 for c, t, o in zip(cases, theirs, ours, strict=True)}},
        "agreement": {"summary": summarise(rows, cases), "cases": rows},
    }
    text = json.dumps(out, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
