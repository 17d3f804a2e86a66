"""DS3 interoperability: DS3's file formats, and ``ds3_compat`` against DS3's own figures.

``ds3_reference.json`` holds DS3's results (segemena/DS3 056c930, run as its provenance
says) on its first example (one job of the HEFT graph), its streaming examples and variants
that exercise the job cap, fixed-rate and as-soon-as-possible injection, warm-up, job-list
snippets, DVFS modes and fractional execution times. The issue's bars are 5 % on the first
example and 20 % on the seed-averaged streaming latency; ``ds3_compat`` reproduces DS3 run by
run, so the test also checks every seed's figures exactly.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from simulators.soc import SocInputError
from simulators.soc.cli_api import ds3_json
from simulators.soc.ds3_compat import run_ds3
from simulators.soc.ds3_files import (
    read_ds3_config,
    read_ds3_job,
    read_ds3_soc,
    write_ds3_job,
    write_ds3_soc,
)
from simulators.soc.dynamic import DynamicSim
from simulators.soc.policies import make_scheduler
from simulators.soc.workload import Arrival, Workload
from workloads.soc import load_app, load_soc, write_ds3_case

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
REF = json.loads((HERE / "ds3_reference.json").read_text())
CASES = {c["name"]: c for c in REF["cases"]}
SLOW = {"second_example", "scheduling"}


def _materialise(case: dict, directory: Path) -> Path:
    return write_ds3_case(case, directory, ROOT)


def _params():
    for name, case in CASES.items():
        for sched in case["results"]:
            marks = [pytest.mark.slow] if name in SLOW else []
            yield pytest.param(name, sched, marks=marks, id=f"{name}-{sched}")


@pytest.mark.parametrize("name,scheduler", list(_params()))
def test_ds3_compat_matches_ds3(tmp_path, name, scheduler):
    case = CASES[name]
    config = read_ds3_config(_materialise(case, tmp_path))
    ref = case["results"][scheduler]
    ours = [run_ds3(config, scheduler, seed=r["seed"]).runs[0] for r in ref]
    mean = sum(o.mean_job_latency_us for o in ours) / len(ours)
    mean_ref = sum(r["mean_job_latency_us"] for r in ref) / len(ref)
    tol = 0.05 if name == "first_example" else 0.20  # the bars
    assert mean == pytest.approx(mean_ref, rel=tol)
    for o, r in zip(ours, ref, strict=True):  # and run by run, exactly
        assert o.completed_jobs == r["completed_jobs"] and o.injected_jobs == r["injected_jobs"]
        assert o.mean_job_latency_us == pytest.approx(r["mean_job_latency_us"], abs=1e-6)


def test_default_iterations_follow_ds3(tmp_path):
    """Without a seed, performance mode runs iterations 0..n-1 and averages them like DS3."""
    case = CASES["default"]
    res = run_ds3(read_ds3_config(_materialise(case, tmp_path)), "MET")
    ref = case["results"]["MET"]
    assert [r.seed for r in res.runs] == [r["seed"] for r in ref]
    assert res.mean_job_latency_us == pytest.approx(
        sum(r["mean_job_latency_us"] for r in ref) / len(ref), abs=1e-6)


def test_first_example_is_the_heft_makespan(tmp_path):
    ini = _materialise(CASES["first_example"], tmp_path)
    out = ds3_json(ini, "ETF")
    assert out["mean_job_latency_us"] == 80 and out["completed_jobs"] == out["injected_jobs"] == 1
    assert ds3_json(ini, "HEFT_RT", seed=1)["completed_jobs"] == 1


def test_the_exact_simulator_on_the_tiny_job(tmp_path):
    """One tiny job on two cores (bandwidth 3 between them, 10000 on a core): DS3 rounds
    transfer times down, counts them from the producer's end and starts tasks on ticks (7 us);
    the exact simulator by hand: a [0, 1.5) on C0; c stays on C0 (copy 7/10000), d goes to C1
    after 2/3 us of transfer, [2.1667, 4.1667); b on C1 after c's 5 bytes (5/3 us) and d's
    local copy, [5.8333, 6.8333); the last c on C1 after a 1/10000 us copy."""
    cfg = read_ds3_config(_materialise(CASES["tiny_ticks"], tmp_path))
    one = dataclasses.replace(cfg.settings, max_jobs=1)
    ds3 = run_ds3(dataclasses.replace(cfg, settings=one), "ETF").runs[0].mean_job_latency_us
    assert ds3 == 7
    wl = Workload("tiny", cfg.apps, (1.0,))
    sim = DynamicSim(cfg.soc.platform, wl, [Arrival(0.0, 0)])
    sim.run(make_scheduler("etf"))
    assert [t.pe for t in sim.jobs[0].tasks] == [0, 0, 1, 1, 1]
    expected = 1.5 + 2 / 3 + 2 + 5 / 3 + 1 + 1 / 10000 + 1
    assert sim.result().mean_job_latency_us == pytest.approx(expected, abs=1e-9)


def test_soc_round_trip(tmp_path):
    p = load_soc("ds3_reference")
    write_ds3_soc(p, tmp_path / "SoC.x.txt")
    back = read_ds3_soc(tmp_path / "SoC.x.txt").platform
    assert [t.exec_us for t in back.pe_types] == [t.exec_us for t in p.pe_types]
    assert back.bandwidth_matrix() == p.bandwidth_matrix()
    assert [t.opps for t in back.pe_types[:5]] == [t.opps for t in p.pe_types[:5]]


def test_job_round_trip(tmp_path):
    app = load_app("wifi_rx")
    write_ds3_job(app, tmp_path / "job_x.txt")
    back = read_ds3_job(tmp_path / "job_x.txt")
    assert back.functions == app.functions and back.edges == app.edges


def _res(kind: str, name: str, k: int, cap: int, nf: int, dvfs: str) -> str:
    return (f"add_new_resource resource_type {kind} resource_name {name} resource_ID {k} "
            f"capacity {cap} num_supported_functionalities {nf} DVFS_mode {dvfs}")


SOC_HEAD = f"""# keyword form
{_res("BIG", "B", 0, 2, 3, "performance")}
opp 1000 900
opp 2000 1200
trip_freq -1 -1 -1
power_profile 2000 1.0 1.8
PG_profile 2000 1.0 1.8
f 10
g 20
f 99
{_res("ACC", "F", 1, 1, 1, "performance")}
opp 1000 900
f 2
comm_band 0 1 5
{_res("MEM", "M", 2, 1, 1, "none")}
None 0
comm_band_self 100
comm_band 0 0 50
comm_band 0 1 7
"""


def test_ds3_soc_semantics(tmp_path):
    path = tmp_path / "SoC.k.txt"
    path.write_text(SOC_HEAD)
    soc = read_ds3_soc(path)
    p = soc.platform
    assert [t.count for t in p.pe_types] == [2, 1, 1] and not soc.legacy
    assert p.pe_types[0].exec_us == {"f": 10.0, "g": 20.0}  # DS3 uses a function's first line
    bw = p.bandwidth_matrix()
    assert bw[0][0] == 100 and bw[0][1] == 50 and bw[0][2] == 7 and bw[1][2] == 7
    assert bw[0][3] == 1.0  # the 'comm_band 0 1 5' before the last resource was reset
    assert p.pe_types[0].opp == -1 and p.pe_types[0].dynamic_power_w > 0


@pytest.mark.parametrize("text,pattern", [
    ("add_new_resource X\n", r"SoC\.bad\.txt:1: add_new_resource"),
    (SOC_HEAD.replace("g 20\n", "g twenty\n"), r":9: execution time of g"),
    (SOC_HEAD.replace("resource_ID 1", "resource_ID 4"), r"resource_ID 4"),
    (SOC_HEAD.replace("f 99\n", ""), ":10: resource 'B' .line 2. lists 2 of its 3"),
    (SOC_HEAD.replace("DVFS_mode performance\nopp 1000 900\nf 2",
                      "DVFS_mode turbo\nopp 1000 900\nf 2"), "DVFS_mode 'turbo'"),
    (SOC_HEAD + "frobnicate 1\n", "cannot recognise"),
], ids=["header", "number", "cluster_id", "count", "dvfs", "keyword"])
def test_bad_ds3_soc_files(tmp_path, text, pattern):
    path = tmp_path / "SoC.bad.txt"
    path.write_text(text)
    with pytest.raises(SocInputError, match=pattern):
        read_ds3_soc(path)


JOB = """job_name j
add_new_tasks 3
a 0
a HEAD
a earliest_start 0 deadline 1
b 1 0
b earliest_start 0 deadline 1
c 2 1
c TAIL
c earliest_start 0 deadline 1
comm_vol 0 1 40
"""


@pytest.mark.parametrize("text,pattern", [
    (JOB.replace("a HEAD\n", ""), "HEAD"),
    (JOB.replace("c TAIL\n", ""), "TAIL"),
    (JOB.replace("c 2 1", "c 2 7"), ":8: predecessor 7"),
    (JOB.replace("b 1 0", "b 5 0"), "task id 5"),
    (JOB.replace("add_new_tasks 3", "add_new_tasks 4"), ":11: add_new_tasks 4 but 3"),
    (JOB.replace("c 2 1", "c 2 1 2"), "other than itself"),
], ids=["head", "tail", "pred", "id", "count", "self"])
def test_bad_ds3_job_files(tmp_path, text, pattern):
    path = tmp_path / "job_bad.txt"
    path.write_text(text)
    with pytest.raises(SocInputError, match=pattern):
        read_ds3_job(path)


def test_ds3_job_semantics(tmp_path):
    path = tmp_path / "job_ok.txt"
    path.write_text(JOB)
    app = read_ds3_job(path)
    assert app.name == "j" and app.edges == ((0, 1, 40), (1, 2, 0))


def test_ini_resolution_defaults_and_errors(tmp_path):
    ini = _materialise(CASES["first_example"], tmp_path / "ds3")
    # DS3's layout: the ini in config_Files/, SoC and jobs in ../config_SoC, ../config_Jobs
    (tmp_path / "ds3" / "config_Files").mkdir()
    moved = tmp_path / "ds3" / "config_Files" / "x.ini"
    text = ini.read_text().replace("max_jobs_in_parallel = 12\n", "")
    moved.write_text(text)
    cfg = read_ds3_config(moved)
    assert cfg.settings.max_jobs_in_parallel == 12  # DS3's default
    assert Path(cfg.soc_file).parent.name == "config_SoC"
    moved.write_text(text.replace("job_Top", "job_missing").replace("job_heft_example",
                                                                     "job_missing"))
    with pytest.raises(SocInputError, match="job_missing.txt' not found"):
        read_ds3_config(moved)
    moved.write_text(text.replace("clock = 1", "clock = fast"))
    with pytest.raises(SocInputError, match=r"\[DEFAULT\] clock"):
        read_ds3_config(moved)
    moved.write_text(text.replace("PE_to_PE = yes", "PE_to_PE = no"))
    with pytest.raises(SocInputError, match="exactly one of PE_to_PE"):
        read_ds3_config(moved)


def test_unsupported_ds3_features_are_refused(tmp_path):
    ini = _materialise(CASES["first_example"], tmp_path)
    with pytest.raises(SocInputError, match="CP Optimizer"):
        ds3_json(ini, "CP")
    with pytest.raises(SocInputError, match="unknown DS3 scheduler"):
        ds3_json(ini, "best")
    soc = next((tmp_path / "config_SoC").iterdir())
    write_ds3_soc(load_soc("ds3_heft_example"), soc, dvfs={"P1": "ondemand"})
    with pytest.raises(SocInputError, match="ondemand"):
        ds3_json(ini)
