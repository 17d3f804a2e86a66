"""The DRAMSys-knob engine (DRAM-v0's) against DRAMSys v5.1 itself, and against
``dramsim3_like`` with knobs that describe the same controller.

``dramsys_reference.json`` (beside this file) holds DRAMSys v5.1's figures for the four shipped
traces (20,000 requests each) on a DDR4-2400 8 Gb x8 device (``dramsys_configs/``), for every
value of each of the ten mcconfig knobs (one at a time from DRAM-v0's defaults) and for
combinations; its ``provenance`` says how they were made. ``dramsys_jedec`` is DRAMSys with
the one-line fix that makes it enforce JEDEC's tRC after an auto-precharge (stock v5.1 lets
ACT follow RDA after tRCD + tRTP + tRP); the engine follows JEDEC, so it is compared with that
build everywhere and with stock DRAMSys where no auto-precharge happens (Open page).

Tolerances: the contract of issue 16 (total time, bandwidth, ACT count 10 %, controller
latency 20 %, energy 25 %) and, tighter, what the engine achieves plus a margin: timing
figures 0.5 % (a one-cycle change of every read fails); energy 1 % on one rank and 10 % on
two, where DRAMPower (DRAMSys v5.1's) charges both ranks active standby whenever any bank of
the channel is open while the engine charges each rank by its own banks (3-8 % less).
"""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from simulators.dram import ControllerConfig, simulate
from simulators.dram.controller import Dramsim3Like
from simulators.dram.dramsys_config import DramsysConfigWarning, load_setup, simulate_files
from simulators.dram.trace import write_trace
from workloads import dram as dram_workloads

HERE = Path(__file__).parent
REFERENCE = json.loads((HERE / "dramsys_reference.json").read_text())
RECORDS = REFERENCE["records"]
CONTRACT = {"sim_time_ns": 0.10, "bandwidth_gbps": 0.10, "num_act": 0.10,
            "controller_latency_ns": 0.20, "energy_pj": 0.25}
ACHIEVED = {"sim_time_ns": 0.005, "bandwidth_gbps": 0.005, "num_act": 0.005,
            "controller_latency_ns": 0.005, "avg_read_latency_ns": 0.005, "energy_pj": 0.01}
ENERGY_TWO_RANKS = 0.10


@cache
def setup(device: str):
    memspec, mapping = REFERENCE["provenance"]["memspecs_and_mappings"][device]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DramsysConfigWarning)
        return load_setup(HERE / "dramsys_configs" / memspec, _mcconfig_file(),
                          HERE / "dramsys_configs" / mapping)


@cache
def _mcconfig_file() -> Path:
    return HERE / "dramsys_configs" / "mcconfig_dram_v0_defaults.json"


@cache
def trace(name: str):
    return dram_workloads.load(name)


def ours(rec) -> dict[str, float]:
    s = setup(rec["device"])
    r = simulate(trace(rec["trace"]), device=s.device,
                 controller=ControllerConfig(**rec["knobs"]), mapping=s.mapping)
    return {"sim_time_ns": r.sim_time_ns, "bandwidth_gbps": r.bandwidth_gbps,
            "num_act": r.num_act, "num_ref": r.num_ref, "controller_latency_ns": r.avg_latency_ns,
            "avg_read_latency_ns": r.avg_read_latency_ns, "energy_pj": r.energy_pj}


def off(got: dict, want: dict, tol: dict) -> list[str]:
    return [f"{k}: {got[k]:.6g} vs {want[k]:.6g} ({got[k] / want[k] - 1:+.2%}, allowed {t:.1%})"
            for k, t in tol.items() if want[k] and abs(got[k] / want[k] - 1) > t]


def test_reference_provenance_and_coverage():
    prov = REFERENCE["provenance"]
    assert "6b0146713a89b49eb9401fd3d50d36836ba2ab89" in prov["tool"]
    assert "tRC instead of memSpec.tRCD" in prov["build"]
    two = [r for r in RECORDS if r["device"].endswith("2rank")]
    assert {r["trace"] for r in two} == {"stream", "random", "strided", "cloud"}
    from simulators.dram import KNOBS
    for knob, values in KNOBS.items():  # every value of every knob, on every trace
        for t in ("stream", "random", "strided", "cloud"):
            seen = {r["knobs"][knob] for r in two if r["trace"] == t}
            assert set(values) <= seen, (knob, t)


@pytest.mark.parametrize("name", ["stream", "random", "strided", "cloud"])
def test_knob_engine_matches_dramsys(name):
    bad = []
    for rec in (r for r in RECORDS if r["trace"] == name):
        got = ours(rec)
        refs = [("dramsys_jedec", rec["dramsys_jedec"])]
        if rec["knobs"]["PagePolicy"] == "Open":  # no auto-precharge: stock DRAMSys too
            refs.append(("dramsys", rec["dramsys"]))
        achieved = dict(ACHIEVED)
        if rec["device"].endswith("2rank"):
            achieved["energy_pj"] = ENERGY_TWO_RANKS
        for build, want in refs:
            for tol in (CONTRACT, achieved):
                for msg in off(got, want, tol):
                    bad.append(f"{rec['device']} {rec['config']} vs {build}: {msg}")
    assert not bad, "\n".join(bad[:20])


def test_the_comparison_can_tell_a_wrong_engine():
    """Negative controls: one cycle more CAS latency, or refresh quietly dropped, fail."""
    rec = next(r for r in RECORDS if r["trace"] == "random" and r["config"] == "default")
    s = setup(rec["device"])
    slow = s.device.replace(CL=s.device.CL + 1)
    r = simulate(trace("random"), device=slow, controller=ControllerConfig(**rec["knobs"]),
                 mapping=s.mapping.bind(slow))
    assert off({"controller_latency_ns": r.avg_latency_ns}, rec["dramsys_jedec"],
               {"controller_latency_ns": ACHIEVED["controller_latency_ns"]})
    knobs = {**rec["knobs"], "RefreshPolicy": "NoRefresh"}
    r = simulate(trace("random"), device=s.device, controller=ControllerConfig(**knobs),
                 mapping=s.mapping)
    assert off({"energy_pj": r.energy_pj, "num_ref": r.num_ref}, rec["dramsys_jedec"],
               {"energy_pj": ENERGY_TWO_RANKS, "num_ref": 0.005})


def test_stock_dramsys_departs_from_jedec_with_auto_precharge():
    """Where auto-precharge lets stock DRAMSys re-activate a bank before tRC, it is faster
    than JEDEC allows; the engine sides with JEDEC (the patched build)."""
    closed = [r for r in RECORDS if r["knobs"]["PagePolicy"] == "Closed"
              and r["trace"] == "cloud"]
    assert closed
    for rec in closed:
        assert rec["dramsys"]["sim_time_ns"] < rec["dramsys_jedec"]["sim_time_ns"]


def test_simulate_files_reproduces_a_reference_record(tmp_path):
    """The CLI path (trace file + DRAMSys config files) gives the reference's figures."""
    rec = next(r for r in RECORDS if r["trace"] == "cloud"
               and r["config"].startswith("PagePolicy=ClosedAdaptive+"))
    (tmp_path / "mc.json").write_text(json.dumps({"mcconfig": rec["mcconfig"]}))
    write_trace(trace("cloud"), tmp_path / "cloud.trace")
    memspec, mapping = REFERENCE["provenance"]["memspecs_and_mappings"][rec["device"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DramsysConfigWarning)
        out = simulate_files(tmp_path / "cloud.trace", HERE / "dramsys_configs" / memspec,
                             tmp_path / "mc.json", HERE / "dramsys_configs" / mapping)
    assert not off(out, rec["dramsys_jedec"], {**ACHIEVED, "energy_pj": ENERGY_TWO_RANKS})


# ------------------------------------------------------------------ equivalence mode
#: DRAMGym knobs describing dramsim3_like's controller: open page, FR-FCFS, bank-wise
#: buffers of its command-queue depth (8), refresh forced when due (DRAMsim3 never postpones)
EQUIVALENT = ControllerConfig(PagePolicy="Open", Scheduler="FrFcfs", SchedulerBuffer="Bankwise",
                              RequestBufferSize=8, RespQueue="Fifo", RefreshPolicy="AllBank",
                              RefreshMaxPostponed=0, RefreshMaxPulledin=0, Arbiter="Simple")
#: dramsim3_like with DRAMsim3's queue options at the same depth (trans_queue_size and
#: write_buf_size 8, cmd_queue_size 8): at most 8 reads and 8 writes wait in front of the banks
SAME_DEPTH = Dramsim3Like(trans_queue_size=8, write_buf_size=8, cmd_queue_size=8)


@pytest.mark.parametrize("name", ["stream", "random", "strided", "cloud"])
def test_equivalence_mode_agrees_with_dramsim3_like(name):
    """See docs/dram-fidelity.md for each remaining difference."""
    a = simulate(trace(name), controller=SAME_DEPTH)
    b = simulate(trace(name), controller=EQUIVALENT)
    saturated = name in ("stream", "cloud")  # offered load at or above what the DRAM serves
    tol = {"sim_time_ns": 0.05, "bandwidth_gbps": 0.05, "num_act": 0.02, "energy_pj": 0.05,
           "num_ref": 0.05,
           # latency from the trace's arrival: the one both engines define the same way;
           # in saturation a few percent of throughput is a larger share of queueing time
           "avg_read_total_latency_ns": 0.20 if saturated else 0.02}
    if not saturated:  # nothing waits in front of the controller: latencies coincide
        tol["avg_read_latency_ns"] = 0.02
    bad = [f"{k}: {getattr(b, k):.6g} vs {getattr(a, k):.6g}" for k, t in tol.items()
           if abs(getattr(b, k) / getattr(a, k) - 1) > t]
    assert not bad, bad
    assert abs(b.row_hit_rate - a.row_hit_rate) <= 0.01


def test_equivalence_needs_matching_depths():
    """DRAMsim3's default 32-entry transaction queue feeding 8-deep bank queues has no
    one-level DRAMSys counterpart: bank-wise 8 is slower on the stream, and it takes the
    matching depth to agree (the test of the previous function can tell)."""
    a = simulate(trace("stream"), controller="dramsim3_like")
    b = simulate(trace("stream"), controller=EQUIVALENT)
    assert b.sim_time_ns > 1.1 * a.sim_time_ns
    assert np.isclose(b.sim_time_ns, simulate(trace("stream"), controller=SAME_DEPTH)
                      .sim_time_ns, rtol=0.05)
