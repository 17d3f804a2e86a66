"""Accelerator-v0: its design space, the model's numbers in ``info``, hand-calculated answers,
physical floors, objectives and budgets, per-layer dataflows, workloads, a searcher that finds
the exhaustive optimum under an area limit, and the ``archgym simulate accel`` command."""

import itertools
import json
import math
import re

import gymnasium
import numpy as np
import pytest
from typer.testing import CliRunner

import agents
import archgym  # noqa: F401
from archgym.app.cli import app
from archgym.envs.accel import DEFAULTS, dataflow_groups
from archgym.errors import ArchGymError
from archgym.runner import run
from simulators.accel import REPORT_FIELDS, evaluate_design, simulate_files
from simulators.accel.dram import compulsory_dram_bytes
from simulators.accel.energy import sram_pj_per_byte
from workloads.accel import available, load, topology_path

ENV_ID = "archgym/Accelerator-v0"


def make(**kw):
    return gymnasium.make(ENV_ID, **kw).unwrapped


def design_kwargs(config):
    return {k: config[k] for k in ("array_rows", "array_cols", "dataflow", "ifmap_sram_kb",
                                   "filter_sram_kb", "ofmap_sram_kb", "dram_bandwidth")}


def gemm_csv(tmp_path, rows=(("g", 64, 32, 32),)):
    path = tmp_path / "gemm.csv"
    path.write_text("Layer, M, N, K,\n" + "".join(f"{n}, {m}, {nn}, {k},\n"
                                                  for n, m, nn, k in rows))
    return path


def test_space_is_the_hardware_knobs_with_engineering_value_sets():
    env = make()
    space = env.space
    assert space.names == ("array_rows", "array_cols", "ifmap_sram_kb", "filter_sram_kb",
                           "ofmap_sram_kb", "dram_bandwidth", "dataflow")
    assert space.size == 6 * 6 * 7 ** 3 * 6 * 3 == 222_264
    assert space.default() == DEFAULTS
    for p in space:
        if p.name != "dataflow":  # powers of two
            assert all(v & (v - 1) == 0 for v in p.values), p.name
    assert env.workload == "bert_base"
    assert env.objective.describe()["kind"] == "constrained"  # the default: "budget"


def test_step_reports_the_models_numbers():
    env = make(objective="latency")
    env.reset(seed=0)
    config = {**DEFAULTS, "array_rows": 16, "array_cols": 64, "dataflow": "os",
              "dram_bandwidth": 64}
    obs, reward, terminated, truncated, info = env.step(env.space.to_index(config))
    m = info["metrics"]
    direct = evaluate_design(load("bert_base"), **design_kwargs(config))
    for k, v in direct.items():
        assert m[k] == v, k
    assert m["power_w"] == pytest.approx(m["energy_mj"] / m["latency_ms"], rel=1e-12)
    assert m["dram_bandwidth_gbps"] == 64.0
    # the scales are the default design's values: its reward is -1, this design's -L/L0
    default = evaluate_design(load("bert_base"), **design_kwargs(DEFAULTS))
    assert reward == pytest.approx(-m["latency_ms"] / default["latency_ms"], rel=1e-12)
    specs = {s.name: s for s in env.observation_specs}
    expect = [m[n] / (m[n] + specs[n].scale) for n in specs]
    assert np.allclose(obs, expect, rtol=1e-6)
    assert not terminated and not truncated


def test_hand_calculated_gemm(tmp_path):
    """64x32x32 GEMM on a 32x32 ws array: one fold of 2R + C + T - 2 = 158 cycles (the last
    cycle's index, 157, is SCALE-Sim's count); 2048 + 1024 words read and 2048 written at
    256 B/cycle add 12 + 8 stall cycles (fetched before, drained after the single fold)."""
    path = gemm_csv(tmp_path)
    fixed = {"array_rows": 32, "array_cols": 32, "dataflow": "ws", "ifmap_sram_kb": 64,
             "filter_sram_kb": 64, "ofmap_sram_kb": 64}
    env = make(workload=str(path), fixed=fixed, values={"dram_bandwidth": [256]})
    m = env.evaluate({"dram_bandwidth": 256})
    assert m["latency_cycles"] == 157 + 20 and m["stall_cycles"] == 20
    assert m["latency_ms"] == pytest.approx(177e-6, rel=1e-12)
    assert m["dram_bytes"] == 2048 + 1024 + 2048
    macs = 64 * 32 * 32
    sram = (2 * 2048 + 2 * 1024 + 2 * 2048) * sram_pj_per_byte(64)  # array reads + fills
    energy_pj = macs * (0.2 + 0.1 + 1.5) + 5120 * 160 + sram
    assert m["energy_mj"] == pytest.approx(energy_pj * 1e-9, rel=1e-12)
    assert m["overall_util_pct"] == pytest.approx(100 * macs / (177 * 1024), rel=1e-12)
    fast = make(workload=str(path), fixed=fixed, values={"dram_bandwidth": [256]},
                clock_ghz=2.0).evaluate({"dram_bandwidth": 256})
    assert fast["latency_ms"] == pytest.approx(m["latency_ms"] / 2, rel=1e-12)
    assert fast["dram_bandwidth_gbps"] == 512.0 and fast["energy_mj"] == m["energy_mj"]


def test_floors_bound_every_design():
    """Default targets are physical floors: no design reaches below them."""
    env = make(objective="target:latency_ms,energy_mj")
    floors = env.targets
    layers = load("bert_base")
    macs = sum(layer.macs for layer in layers)
    assert floors["latency_ms"] == pytest.approx(macs / (256 * 256) / 1e6, rel=1e-6)
    assert env.objective.describe()["targets"] == {"latency_ms": floors["latency_ms"],
                                                   "energy_mj": floors["energy_mj"]}
    moved = sum(compulsory_dram_bytes(layer) for layer in layers)
    rng = np.random.default_rng(0)
    for _ in range(12):
        m = env.evaluate(env.space.sample(rng))
        for name in ("latency_ms", "energy_mj", "area_mm2", "edp_mj_ms"):
            assert m[name] >= floors[name], name
        assert m["dram_bytes"] >= moved and 0 < m["overall_util_pct"] <= 100
    smallest = {**DEFAULTS, "array_rows": 8, "array_cols": 8, "ifmap_sram_kb": 16,
                "filter_sram_kb": 16, "ofmap_sram_kb": 16}
    assert env.evaluate(smallest)["area_mm2"] == pytest.approx(floors["area_mm2"], rel=1e-12)


def test_budget_objective_and_limits():
    env = make()  # "budget": fastest within the default design's area and DRAM bandwidth
    default = env.evaluate(DEFAULTS)
    assert env.objective.feasible(default)
    for bigger in ({"array_rows": 64}, {"dram_bandwidth": 32}, {"ifmap_sram_kb": 128}):
        assert not env.objective.feasible(env.evaluate({**DEFAULTS, **bigger})), bigger
    faster = {**DEFAULTS, "dataflow": "os"}  # same silicon, same DRAM, another dataflow
    m = env.evaluate(faster)
    assert env.objective.feasible(m) and m["latency_ms"] < default["latency_ms"]
    assert env.objective.reward(m) > env.objective.reward(default)
    capped = make(objective="energy_mj; area_mm2<=2; power_w<=5")
    assert capped.objective.describe()["limits"] == {"area_mm2": ["<=", 2.0],
                                                     "power_w": ["<=", 5.0]}
    assert not capped.objective.feasible(default)  # 2.56 mm^2
    with pytest.raises(ArchGymError, match="unknown objective"):
        make(objective="speed")


def test_per_layer_dataflow_one_choice_per_shape():
    env = make(per_layer_dataflow=True, objective="latency")
    flows = [n for n in env.space.names if n.startswith("dataflow")]
    assert flows == ["dataflow_L0_q", "dataflow_L0_h0_qk", "dataflow_L0_h0_av",
                     "dataflow_L0_ffn1", "dataflow_L0_ffn2"]
    layers = load("bert_base")
    groups = dataflow_groups(layers)
    for layer, group in zip(layers, groups, strict=True):  # equal shapes, equal parameter
        first = layers[groups.index(group)]
        assert (layer.m, layer.n, layer.k) == (first.m, first.n, first.k)
    hw = {k: v for k, v in DEFAULTS.items() if k != "dataflow"}
    uniform = make(objective="latency")
    for df in ("os", "ws", "is"):
        assert env.evaluate({**hw, **dict.fromkeys(flows, df)}) == \
            uniform.evaluate({**hw, "dataflow": df})
    choice = dict(zip(flows, ("os", "ws", "is", "ws", "os"), strict=True))
    direct = evaluate_design(layers, **{k: hw[k] for k in hw}, dataflow="os",
                             layer_dataflows=[choice[g] for g in groups])
    assert env.evaluate({**hw, **choice})["latency_ms"] == direct["latency_ms"]
    # the best choice per shape beats the best single dataflow (latency adds over layers)
    best = {f: min(("os", "ws", "is"), key=lambda df, f=f: env.evaluate(
        {**hw, **dict.fromkeys(flows, "ws"), f: df})["latency_ms"]) for f in flows}
    mixed = env.evaluate({**hw, **best})["latency_ms"]
    assert mixed <= min(uniform.evaluate({**hw, "dataflow": d})["latency_ms"]
                        for d in ("os", "ws", "is"))


def test_fixed_and_values():
    env = make(fixed={"dram_bandwidth": 64, "dataflow": "os"},
               values={"array_rows": [12, 8], "ifmap_sram_kb": [32, 96]})
    assert "dram_bandwidth" not in env.space.names and "dataflow" not in env.space.names
    assert env.space["array_rows"].values == (8, 12)  # sorted, a non-power of two allowed
    config = {**env.space.default(), "array_rows": 12}
    m = env.evaluate(config)
    direct = evaluate_design(load("bert_base"), **{**design_kwargs({**DEFAULTS, **config}),
                                                   "dram_bandwidth": 64, "dataflow": "os"})
    assert m["latency_ms"] == direct["latency_ms"] and m["energy_mj"] == direct["energy_mj"]
    big = make(fixed={"array_rows": 128, "array_cols": 128})  # the default design: 128x128
    ref = big.evaluate(big.space.default())
    assert big.objective.feasible(ref) and big.parse_objective("latency").reward(ref) == -1
    assert not big.objective.feasible(big.evaluate({**big.space.default(),
                                                    "ifmap_sram_kb": 128}))
    for kwargs, message in (
            ({"values": {"dataflow": ["os", "xs"]}}, "allowed: os, ws, is"),
            ({"values": {"array_rows": [0, 8]}}, "allowed: positive integers"),
            ({"values": {"array_rows": [8, 8]}}, "distinct"),
            ({"values": {"dataflow": "ws"}}, "must be a list"),
            ({"fixed": {"array_cols": 2.5}}, "allowed: positive integers"),
            ({"fixed": {"sram_kb": 64}}, "unknown accelerator parameter 'sram_kb'"),
            ({"clock_ghz": 0}, "clock_ghz must be positive"),
            ({"fixed": dict(DEFAULTS)}, "nothing left to search")):
        with pytest.raises(ArchGymError, match=message):
            make(**kwargs)


def test_workloads_and_their_hashes(tmp_path):
    hashes = {}
    for name in available():
        env = make(workload=name, fixed={"array_rows": 128, "array_cols": 128})
        hashes[name] = env.workload_hash
        assert env.workload == name
    assert len(set(hashes.values())) == 4
    copy = tmp_path / "mine.csv"
    copy.write_text(topology_path("resnet18").read_text())
    assert make(workload=str(copy)).workload_hash == hashes["resnet18"]
    with pytest.raises(ArchGymError, match="neither a shipped topology"):
        make(workload="resnet19")
    bad = tmp_path / "bad.csv"
    bad.write_text("Layer, M, N, K,\ng1, 4, 4, 4,\ng2, 4, x, 4,\n")
    with pytest.raises(ArchGymError, match=r"bad.csv: line 3: N must be a positive integer"):
        make(workload=str(bad))


def test_grid_search_finds_the_exhaustive_optimum_under_an_area_limit():
    """On a 96-design sub-space, the best feasible design a searcher finds through the env is
    the optimum found by calling the simulator on every design; the area limit binds (the
    unconstrained optimum is a 64x64 array) and the optimum is one 1024-PE shape and
    dataflow among several of equal area."""
    values = {"array_rows": [8, 16, 32, 64], "array_cols": [8, 16, 32, 64],
              "dram_bandwidth": [16, 64]}
    fixed = {"ifmap_sram_kb": 64, "filter_sram_kb": 64, "ofmap_sram_kb": 64}
    env = gymnasium.make(ENV_ID, objective="latency_ms; area_mm2<=2.6", values=values,
                         fixed=fixed)
    assert env.unwrapped.space.size == 96
    layers = load("bert_base")
    table = {}
    for r, c, df, bw in itertools.product(values["array_rows"], values["array_cols"],
                                          ("os", "ws", "is"), values["dram_bandwidth"]):
        table[(r, c, df, bw)] = evaluate_design(layers, array_rows=r, array_cols=c,
                                                dataflow=df, dram_bandwidth=bw, **fixed)
    feasible = {k: m for k, m in table.items() if m["area_mm2"] <= 2.6}
    optimum = min(feasible, key=lambda k: feasible[k]["latency_ms"])
    assert optimum == (32, 32, "os", 64)
    assert min(table, key=lambda k: table[k]["latency_ms"])[:2] == (64, 64)
    searcher, target = agents.for_env("grid", env, seed=0)
    result = run(target, searcher, 96, seed=0)
    best = result.best
    assert best.feasible
    found = best.config
    assert (found["array_rows"], found["array_cols"], found["dataflow"],
            found["dram_bandwidth"]) == optimum
    assert best.metrics["latency_ms"] == feasible[optimum]["latency_ms"]


# ------------------------------------------------------------------------------- the CLI

CFG = """[general]
run_name = t
[architecture_presets]
ArrayHeight: 8
ArrayWidth: 16
IfmapSramSzkB: 4
FilterSramSzkB: 4
OfmapSramSzkB: 2
Dataflow: {df}
Bandwidth: 8
[run_presets]
InterfaceBandwidth: {mode}
"""

CONV = """Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, \
Num Filter, Strides,
c3x3, 18, 18, 3, 3, 8, 16, 1,
c1x1s2, 16, 16, 1, 1, 16, 24, 2,
fc, 1, 64, 1, 64, 1, 10, 1,
"""


def invoke(*args):
    return CliRunner().invoke(app, ["simulate", "accel", *map(str, args)])


@pytest.mark.parametrize("df,mode", [("ws", "USER"), ("os", "CALC")])
def test_simulate_accel_json(tmp_path, df, mode):
    topo, cfg = tmp_path / "net.csv", tmp_path / "a.cfg"
    topo.write_text(CONV)
    cfg.write_text(CFG.format(df=df, mode=mode))
    r = invoke("--topology", topo, "--config", cfg, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [layer["name"] for layer in out["layers"]] == ["c3x3", "c1x1s2", "fc"]
    for layer in out["layers"]:
        assert set(REPORT_FIELDS) <= set(layer)
        assert layer["total_cycles"] == layer["compute_cycles"] + layer["stall_cycles"]
        for pct in ("overall_util_pct", "mapping_efficiency_pct", "compute_util_pct"):
            assert 0 < layer[pct] <= 100
    for field in REPORT_FIELDS[1:]:
        if not field.endswith("_pct"):
            assert out["total"][field] == pytest.approx(sum(x[field] for x in out["layers"]),
                                                        rel=1e-12), field
    assert (out["total"]["stall_cycles"] > 0) == (mode == "USER")
    assert out == json.loads(json.dumps(simulate_files(topo, cfg).to_dict()))


def test_simulate_accel_text_has_units_and_clean_numbers(tmp_path):
    topo, cfg = tmp_path / "net.csv", tmp_path / "a.cfg"
    topo.write_text(CONV)
    cfg.write_text(CFG.format(df="is", mode="USER"))
    r = invoke("--topology", topo, "--config", cfg)
    assert r.exit_code == 0, r.output
    for text in ("8x16 is array", "(cycles)", "(%)", "(words)", "(uJ)", "TOTAL", "c1x1s2",
                 "mm^2"):
        assert text in r.stdout, text
    assert not re.search(r"\d\.\d{4,}", r.stdout)  # no float noise
    total = simulate_files(topo, cfg).to_dict()["total"]
    assert f"{total['total_cycles']:,}" in r.stdout
    assert f"{total['energy_pj'] * 1e-6:,.3f}" in r.stdout


def test_simulate_accel_errors_are_one_line(tmp_path):
    topo, cfg = tmp_path / "net.csv", tmp_path / "a.cfg"
    topo.write_text(CONV)
    cfg.write_text(CFG.format(df="ws", mode="CALC"))
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text(CONV.replace("c1x1s2, 16, 16", "c1x1s2, 16, sixteen"))
    bad_cfg = tmp_path / "bad.cfg"
    bad_cfg.write_text(CFG.format(df="rs", mode="CALC"))
    for args, message in (
            (("--topology", tmp_path / "none.csv", "--config", cfg), "none.csv: cannot read"),
            (("--topology", topo, "--config", tmp_path / "none.cfg"), "none.cfg: cannot read"),
            (("--topology", bad_csv, "--config", cfg), "bad.csv: line 3: IFMAP Width"),
            (("--topology", topo, "--config", bad_cfg), "bad.cfg: line 9: Dataflow must be"),
            (("--topology", topo, "--config", cfg, "--format", "gemm"), "line 2")):
        r = invoke(*args, "--json")
        assert r.exit_code == 2, (args, r.output)
        assert message in r.output and "Traceback" not in r.output, r.output
        assert len(r.output.strip().splitlines()) == 1, r.output


def test_env_and_cli_agree(tmp_path):
    """The env's latency and energy are the CLI's totals for the same design in USER mode."""
    topo, cfg = tmp_path / "net.csv", tmp_path / "a.cfg"
    topo.write_text(CONV)
    cfg.write_text(CFG.format(df="ws", mode="USER"))
    total = json.loads(invoke("--topology", topo, "--config", cfg, "--json").stdout)["total"]
    env = make(workload=str(topo), fixed={"ifmap_sram_kb": 4, "filter_sram_kb": 4,
                                          "ofmap_sram_kb": 2},
               values={"array_rows": [8], "array_cols": [16], "dram_bandwidth": [8]})
    m = env.evaluate({"array_rows": 8, "array_cols": 16, "dram_bandwidth": 8,
                      "dataflow": "ws"})
    assert m["latency_cycles"] == total["total_cycles"]
    assert m["energy_mj"] == pytest.approx(total["energy_pj"] * 1e-9, rel=1e-12)
    assert math.isclose(m["stall_cycles"], total["stall_cycles"])

