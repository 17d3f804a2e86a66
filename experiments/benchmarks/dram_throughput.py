"""DRAM simulator speed, side by side with DRAMsim3 and DRAMSys, printed as one JSON object.

Whole process, as a user runs it: start-up, trace parsing, simulation and output, on the
1,000,000-request random trace of issue 14 (uniform 64 B lines over 4 GiB, one third writes,
one request every 3 memory cycles, seeded), DDR4_8Gb_x8_2400:

- ``dramsim3_like`` (``python -m simulators.dram --controller dramsim3_like``) against
  DRAMsim3's ``dramsim3main`` on its ``DDR4_8Gb_x8_2400.ini`` for as many cycles as our run
  needs to finish (``-c``), trace in DRAMsim3 format;
- the DRAMGym-knob engine with DRAMSys' example knobs (``--controller knobs``) against
  DRAMSys v5.1 (``--dramsys``) on the same requests in ``.stl`` format with the configs of
  ``tests/dram/dramsys_configs``, power analysis on, trace database off.

Runs alternate (ours, reference, ours, ...) so both see the same machine load; each figure
is the best of ``--repeats`` wall times, with the processes' CPU time beside it. Our run
also reports how its time splits: start (interpreter, imports, compiled-code loading),
parsing, simulation, output. ``--large N`` adds an N-request trace of the same kind
(50,000,000 for issue 14; generated to a temporary gzip file, not kept) and reports, for
both engines, our peak resident memory and rate on it; ``dram_v0_evals_per_s`` is DRAM-v0
environment steps per second (30 random knob settings on the shipped random workload).
References that are not installed here are reported as such, with the figure measured on
another machine, labelled so.

Usage: ``python -m experiments.benchmarks.dram_throughput [--n N] [--repeats R]
[--large N] [--dramsim3 BIN] [--dramsim3-config INI] [--dramsys BIN]``
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from simulators.dram.trace import Trace, write_trace

#: measured on another (quiet 2-core) machine, quoted in issue 14: seconds, whole process
OTHER_MACHINE_S = {"dramsim3": 5.9, "dramsys": 5.6}
DRAMSIM3_BIN = os.environ.get("DRAMSIM3_BIN", "/work/ext/dramsim3/dramsim3main")
DRAMSIM3_INI = os.environ.get("DRAMSIM3_INI", "/work/ext/dramsim3/configs/DDR4_8Gb_x8_2400.ini")
DRAMSYS_BIN = os.environ.get("DRAMSYS_BIN", "/work/ext/dramsys/build/bin/DRAMSys")
CONFIGS = Path(__file__).resolve().parents[2] / "tests" / "dram" / "dramsys_configs"


def random_trace(n: int = 1_000_000, seed: int = 0, interval: int = 3, start: int = 0) -> Trace:
    """Uniform random 64 B lines over 4 GiB, one third writes, one request every 3 cycles."""
    rng = np.random.default_rng([seed, start])
    addr = rng.integers(0, (4 << 30) // 64, size=n, dtype=np.uint64) * np.uint64(64)
    cycle = (np.arange(n, dtype=np.int64) + start) * interval
    return Trace(addr=addr, is_write=rng.random(n) < 1 / 3, cycle=cycle, name=f"random{n}")


def write_large(path: Path, n: int, chunk: int = 1 << 20) -> None:
    """An n-request trace of the same kind, written chunk by chunk (bounded memory)."""
    ops = np.array([" READ ", " WRITE "])
    with gzip.open(path, "wt", compresslevel=1) as f:
        for s in range(0, n, chunk):
            t = random_trace(min(chunk, n - s), start=s)
            hexes = np.char.add("0x", np.char.mod("%x", t.addr))
            lines = np.char.add(np.char.add(hexes, ops[t.is_write.astype(int)]),
                                t.cycle.astype(str))
            f.write("\n".join(lines.tolist()) + "\n")


def dram_v0_evals_per_s(steps: int = 30, seed: int = 0) -> float:
    """DRAM-v0 evaluations per second on the shipped random workload: ``steps`` distinct
    random knob settings, each one env step (after one untimed warm-up step)."""
    import gymnasium

    import archgym  # noqa: F401  (registers archgym/DRAM-v0)

    env = gymnasium.make("archgym/DRAM-v0", workload="random")
    dram = env.unwrapped
    rng = np.random.default_rng(seed)
    configs, seen = [], set()
    while len(configs) < steps + 1:
        c = dram.space.sample(rng)
        if dram.space.key(c) not in seen:
            seen.add(dram.space.key(c))
            configs.append(c)
    env.reset(seed=seed)
    dram.step_config(configs[0])
    t0 = time.perf_counter()
    for c in configs[1:]:
        *_, terminated, truncated, _ = dram.step_config(c)
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - t0)


def _machine() -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform()}


def _run(cmd: list[str], **kw) -> tuple[float, float, int, subprocess.CompletedProcess]:
    """Wall seconds, CPU seconds and peak RSS (KB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, **kw)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss, out


def _ours(trace: Path, controller: str) -> list[str]:
    return [sys.executable, "-m", "simulators.dram", "--trace", str(trace), "--controller",
            controller, "--timing"]


def _side_by_side(ours_cmd, ref_cmd, repeats, cwd=None) -> dict:
    best = {"ours": (float("inf"), 0.0), "reference": (float("inf"), 0.0)}
    split, result = None, None
    for _ in range(repeats):
        wall, cpu, _, out = _run(ours_cmd)
        if wall < best["ours"][0]:
            best["ours"] = (wall, cpu)
            timing = json.loads(out.stderr.strip().splitlines()[-1])["timing_s"]
            timing.pop("in_process")
            split = {"start": wall - sum(timing.values()), **timing}
            result = json.loads(out.stdout)
        if ref_cmd is not None:
            wall, cpu, _, _ = _run(ref_cmd, cwd=cwd)
            if wall < best["reference"][0]:
                best["reference"] = (wall, cpu)
    out = {"ours_s": round(best["ours"][0], 3), "ours_cpu_s": round(best["ours"][1], 3),
           "ours_split_s": {k: round(v, 3) for k, v in split.items()}}
    if ref_cmd is not None:
        out["reference_s"] = round(best["reference"][0], 3)
        out["reference_cpu_s"] = round(best["reference"][1], 3)
        out["speedup"] = round(best["reference"][0] / best["ours"][0], 2)
        out["cpu_speedup"] = round(best["reference"][1] / best["ours"][1], 2)
    return out, result


def _dramsys_cmd(binary: str, tr: Trace, tmp: Path) -> list[str] | None:
    """DRAMSys v5.1 on ``tr``: the DDR4-2400 memspec, address mapping and DRAM-v0's default
    mcconfig of ``tests/dram/dramsys_configs``, PowerAnalysis on, DatabaseRecording off; the
    .stl trace carries each request's memory cycle x tCK in picoseconds (player clock 1 THz),
    so requests reach the controller at the same memory cycles as ours."""
    if not Path(binary).exists():
        return None
    memspec = json.loads((CONFIGS / "memspec_DDR4_8Gb_x8_2400_2rank.json").read_text())
    tck_ps = memspec["memspec"]["memtimingspec"]["tCK"]
    (tmp / "traces").mkdir(exist_ok=True)
    ops = np.array(["read", "write"])
    lines = np.char.add(np.char.add((tr.cycle * tck_ps).astype(str), ": "),
                        np.char.add(ops[tr.is_write.astype(int)],
                                    np.char.add(" 0x", np.char.mod("%x", tr.addr))))
    (tmp / "traces" / "t.stl").write_text("\n".join(lines.tolist()) + "\n")
    sim = {"SimulationName": "bench", "Debug": False, "DatabaseRecording": False,
           "PowerAnalysis": True, "EnableWindowing": False, "WindowSize": 1000,
           "SimulationProgressBar": False, "CheckTLM2Protocol": False, "UseMalloc": False,
           "AddressOffset": 0, "StoreMode": "NoStorage"}
    cfg = {"simulation": {
        "simulationid": "bench", "simconfig": sim, "memspec": memspec["memspec"],
        "addressmapping": json.loads((CONFIGS / "am_DDR4_2rank_rochrababgco.json")
                                     .read_text())["addressmapping"],
        "mcconfig": json.loads((CONFIGS / "mcconfig_dram_v0_defaults.json")
                               .read_text())["mcconfig"],
        "tracesetup": [{"clkMhz": 1000000, "name": "t.stl"}]}}
    (tmp / "config.json").write_text(json.dumps(cfg))
    return [binary, "config.json", "."]


def _large(trace: Path, controller: str, n: int) -> dict:
    """One run of ours on the large trace: wall, CPU, rate, peak resident memory, split."""
    wall, cpu, _, run = _run(_ours(trace, controller))
    info = json.loads(run.stderr.strip().splitlines()[-1])
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "req_per_s": round(n / wall),
            "peak_rss_mb": round(info["peak_rss_mb"], 1),
            "split_s": {k: round(v, 1) for k, v in info["timing_s"].items()},
            "num_reads": json.loads(run.stdout)["num_reads"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--large", type=int, default=0, help="also an N-request trace (50M)")
    ap.add_argument("--dramsim3", default=DRAMSIM3_BIN)
    ap.add_argument("--dramsim3-config", default=DRAMSIM3_INI)
    ap.add_argument("--dramsys", default=DRAMSYS_BIN)
    args = ap.parse_args()
    out: dict[str, object] = {"machine": _machine(), "load_before": os.getloadavg(),
                              "repetitions": args.repeats, "requests": args.n}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        tr = random_trace(args.n)
        d3_trace = write_trace(tr, tmp / "random.trace")
        stl = write_trace(tr, tmp / "random.stl", format="stl")
        # DRAMsim3 runs as many cycles as our model needs to finish the trace
        probe = json.loads(_run(_ours(d3_trace, "dramsim3_like"))[3].stdout)
        d3 = None
        if Path(args.dramsim3).exists():
            d3 = [args.dramsim3, args.dramsim3_config, "-c", str(probe["sim_cycles"]), "-t",
                  str(d3_trace), "-o", str(tmp)]
        res, ours = _side_by_side(_ours(d3_trace, "dramsim3_like"), d3, args.repeats)
        res["reference"] = (f"DRAMsim3 29817593 dramsim3main, {Path(args.dramsim3_config).name}"
                            f", -c {probe['sim_cycles']}" if d3 else
                            f"not installed here; {OTHER_MACHINE_S['dramsim3']} s measured on "
                            "another machine (issue 14)")
        res["req_per_s"] = round(args.n / res["ours_s"])
        res["avg_read_latency_ns"] = ours["avg_read_latency_ns"]
        out["dramsim3_like_vs_dramsim3"] = res
        ds = _dramsys_cmd(args.dramsys, tr, tmp)
        res, ours = _side_by_side(_ours(stl, "knobs"), ds, args.repeats,
                                  cwd=tmp if ds else None)
        res["reference"] = ("DRAMSys v5.1 (6b014671), tests/dram/dramsys_configs: DDR4-2400 "
                            "2 ranks, rochrababgco, DRAM-v0 defaults; power analysis on, "
                            "database off" if ds else
                            f"not installed here; {OTHER_MACHINE_S['dramsys']} s measured on "
                            "another machine (issue 14)")
        res["req_per_s"] = round(args.n / res["ours_s"])
        out["knobs_vs_dramsys"] = res
        if args.large:
            big = tmp / "large.trace.gz"
            write_large(big, args.large)
            out["large"] = {"requests": args.large,
                            **{c: _large(big, c, args.large) for c in ("dramsim3_like", "knobs")}}
    out["dram_v0_evals_per_s"] = round(dram_v0_evals_per_s(), 2)
    out["load_after"] = os.getloadavg()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
