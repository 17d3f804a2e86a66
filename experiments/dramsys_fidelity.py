"""Tables of the DRAMSys-knob engine against DRAMSys v5.1 (``tests/dram/dramsys_reference.json``).

Prints Markdown: per configuration, the largest difference over the four shipped traces of
each figure against the JEDEC-patched DRAMSys build, and the same for stock DRAMSys; then the
default configuration per trace with absolute figures; then the DRAMSys-equivalence check
against ``dramsim3_like``. ``--json`` prints the rows instead. The references themselves
were made with DRAMSys (see the JSON's ``provenance``); this script only runs ArchGym's
simulator.

Usage: ``python -m experiments.dramsys_fidelity [--json]``.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

from simulators.dram import ControllerConfig, simulate
from simulators.dram.controller import Dramsim3Like
from simulators.dram.dramsys_config import DramsysConfigWarning, load_setup
from workloads import dram as dram_workloads

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests" / "dram"
FIGURES = ("sim_time_ns", "bandwidth_gbps", "num_act", "controller_latency_ns", "energy_pj")
SHORT = {"sim_time_ns": "time", "bandwidth_gbps": "bandwidth", "num_act": "ACT",
         "controller_latency_ns": "latency", "energy_pj": "energy"}
TRACES = ("stream", "random", "strided", "cloud")


def _ours(rec, setups, traces) -> dict[str, float]:
    s = setups[rec["device"]]
    r = simulate(traces[rec["trace"]], device=s.device,
                 controller=ControllerConfig(**rec["knobs"]), mapping=s.mapping)
    return {"sim_time_ns": r.sim_time_ns, "bandwidth_gbps": r.bandwidth_gbps,
            "num_act": r.num_act, "controller_latency_ns": r.avg_latency_ns,
            "energy_pj": r.energy_pj, "num_ref": r.num_ref}


def rows() -> list[dict]:
    ref = json.loads((TESTS / "dramsys_reference.json").read_text())
    setups = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DramsysConfigWarning)
        for dev, (ms, am) in ref["provenance"]["memspecs_and_mappings"].items():
            setups[dev] = load_setup(TESTS / "dramsys_configs" / ms,
                                     TESTS / "dramsys_configs" / "mcconfig_dram_v0_defaults.json",
                                     TESTS / "dramsys_configs" / am)
    traces = {t: dram_workloads.load(t) for t in TRACES}
    out = []
    for rec in ref["records"]:
        got = _ours(rec, setups, traces)
        row = {k: rec[k] for k in ("trace", "device", "config")}
        row["ours"] = got
        for build in ("dramsys_jedec", "dramsys"):
            row[build] = rec[build]
            row[f"diff_{build}"] = {k: got[k] / rec[build][k] - 1 if rec[build][k] else 0.0
                                    for k in FIGURES}
        out.append(row)
    return out


def equivalence() -> list[dict]:
    eq = ControllerConfig(PagePolicy="Open", Scheduler="FrFcfs", SchedulerBuffer="Bankwise",
                          RequestBufferSize=8, RespQueue="Fifo", RefreshPolicy="AllBank",
                          RefreshMaxPostponed=0, RefreshMaxPulledin=0, Arbiter="Simple")
    keys = ("sim_time_ns", "bandwidth_gbps", "num_act", "energy_pj", "num_ref",
            "avg_read_total_latency_ns", "avg_read_latency_ns")
    out = []
    for t in TRACES:
        tr = dram_workloads.load(t)
        for name, d3 in (("same depth (8)", Dramsim3Like(trans_queue_size=8,
                                                         write_buf_size=8)),
                         ("DRAMsim3 default (32)", Dramsim3Like())):
            a, b = simulate(tr, controller=d3), simulate(tr, controller=eq)
            out.append({"trace": t, "dramsim3_like": name,
                        "diff": {k: getattr(b, k) / getattr(a, k) - 1 for k in keys}})
    return out


def _pct(x: float) -> str:
    return f"{x * 100:+.2f}%"


def markdown(rs: list[dict], eq: list[dict]) -> str:
    lines = ["| configuration | " + " | ".join(SHORT[k] for k in FIGURES)
             + " | stock DRAMSys: time | latency |", "|---" * (len(FIGURES) + 3) + "|"]
    for cfg in dict.fromkeys(r["config"] for r in rs if r["device"].endswith("2rank")):
        sel = [r for r in rs if r["config"] == cfg and r["device"].endswith("2rank")]
        worst = {k: max((r["diff_dramsys_jedec"][k] for r in sel), key=abs) for k in FIGURES}
        stock = {k: max((r["diff_dramsys"][k] for r in sel), key=abs)
                 for k in ("sim_time_ns", "controller_latency_ns")}
        lines.append(f"| {cfg} | " + " | ".join(_pct(worst[k]) for k in FIGURES) + " | "
                     + " | ".join(_pct(v) for v in stock.values()) + " |")
    lines += ["", "| trace | device | figure | ours | DRAMSys (JEDEC build) | difference |",
              "|---|---|---|---|---|---|"]
    for r in rs:
        if r["config"] != "default":
            continue
        for k in (*FIGURES, "num_ref"):
            want = r["dramsys_jedec"][k]
            lines.append(f"| {r['trace']} | {r['device']} | {k} | {r['ours'][k]:.6g} | "
                         f"{want:.6g} | {_pct(r['ours'][k] / want - 1) if want else '-'} |")
    keys = list(eq[0]["diff"])
    lines += ["", "| trace | dramsim3_like queues | " + " | ".join(keys) + " |",
              "|---" * (len(keys) + 2) + "|"]
    for e in eq:
        lines.append(f"| {e['trace']} | {e['dramsim3_like']} | "
                     + " | ".join(_pct(e["diff"][k]) for k in keys) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = ap.parse_args()
    rs, eq = rows(), equivalence()
    print(json.dumps({"rows": rs, "equivalence": eq}) if args.json else markdown(rs, eq))


if __name__ == "__main__":
    main()
