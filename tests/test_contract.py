"""The environment contract beyond the per-env conformance suite: both kinds under
``archgym run``, policies and MaskablePPO, black-box refusal, objectives from metric specs,
typed env parameters, replay from the command line, plug-ins, layering and lazy loading."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import agents
from archgym import dataset, registry
from archgym.app.cli import app
from archgym.errors import ArchGymError
from archgym.objectives import Constrained, MultiObjective, Optimize, Target, WeightedSum, parse
from archgym.runner import run
from tests.toy import TOY_ID, ToyEvaluator
from tests.toy_seq import TOY_SEQ_ID, ToyScheduleEnv

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
SPECS = ToyEvaluator.metric_specs


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


# ------------------------------------------------------------------ sequential envs


def test_run_a_policy_on_a_sequential_env(tmp_path):
    r = invoke("run", "--env", TOY_SEQ_ID, "--agent", "toy-least-loaded", "--budget", 3,
               "--out", tmp_path / "d", "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    df = dataset.load(tmp_path / "d")
    assert summary["evaluations"] == len(df) == 3 and df["valid"].all()
    env = registry.make(TOY_SEQ_ID).unwrapped
    assert len(json.loads(df["param_actions"].iloc[0])) == len(env.durations)
    assert "makespan" in summary["reward"]


def test_least_loaded_beats_random_legal_play():
    env = registry.make(TOY_SEQ_ID, n_jobs=12, machines=3)
    heuristic = run(env, agents.for_env("toy-least-loaded", env)[0], 1).best.metrics
    rng = np.random.default_rng(0)
    spans = []
    for _ in range(30):
        obs, info = env.reset(seed=int(rng.integers(1000)))
        done = False
        while not done:
            obs, _, done, _, info = env.step(int(rng.choice(np.flatnonzero(info["action_mask"]))))
        spans.append(info["metrics"]["makespan"])
    assert heuristic["makespan"] < np.median(spans)


def test_maskable_ppo_runs_exactly_budget_episodes_deterministically(tmp_path):
    rows = []
    for out in ("a", "b"):
        env = registry.make(TOY_SEQ_ID)
        searcher, target = agents.for_env("maskable-ppo", env, seed=1, n_steps=16,
                                          batch_size=16)
        assert target is env  # it drives the sequential env itself, masks and all
        result = run(target, searcher, 6, seed=1, logger=dataset.DatasetWriter(tmp_path / out))
        assert result.evaluations == 6
        rows.append(dataset.load(tmp_path / out)["param_actions"].tolist())
    assert rows[0] == rows[1]


def test_black_box_searchers_use_the_view_or_refuse():
    env = registry.make(TOY_SEQ_ID)
    searcher, target = agents.for_env("ga", env, seed=0)
    assert target.unwrapped.kind == "design" and target.unwrapped.parent is env.unwrapped
    assert run(target, searcher, 5).evaluations == 5

    class NoView(ToyScheduleEnv):
        def design_point_view(self):
            return None

    with pytest.raises(ArchGymError, match="without a design-point view.*policies"):
        agents.for_env("random", NoView())
    with pytest.raises(ArchGymError, match="policy 'toy-least-loaded' is for"):
        agents.for_env("toy-least-loaded", registry.make(TOY_ID))


def test_agents_lists_policies_with_their_env():
    r = invoke("agents")
    assert r.exit_code == 0
    assert "toy-least-loaded" in r.stdout and "maskable-ppo" in r.stdout


# ------------------------------------------------------------------ objectives


def test_objective_strings_honour_metric_directions():
    specs = {s.name: s for s in SPECS}
    assert isinstance(parse("latency", SPECS), Optimize)
    up = parse("max:latency", SPECS)
    assert up.reward({"latency": 20.0}) == pytest.approx(20.0 / specs["latency"].scale)
    assert isinstance(parse("target:latency=5,energy=6", SPECS), Target)
    assert parse("target:latency", SPECS, targets={"latency": 4.0}).targets == {"latency": 4.0}
    ws = parse("2*latency+energy", SPECS)
    assert isinstance(ws, WeightedSum) and ws.weights == {"latency": 2.0, "energy": 1.0}
    mo = parse("pareto:latency,energy", SPECS)
    assert isinstance(mo, MultiObjective)
    c = parse("latency; energy<=6", SPECS)
    assert isinstance(c, Constrained) and not c.feasible({"latency": 1.0, "energy": 7.0})
    for bad, msg in [("area", "unknown objective or metric 'area'"),
                     ("target:latency", "no default target"),
                     ("latency; energy=<6", "must look like"),
                     ("best:latency", "unknown form")]:
        with pytest.raises(ArchGymError, match=msg):
            parse(bad, SPECS)


def test_searcher_objectives_take_the_metric_direction():
    from simulators.dram import KNOBS  # noqa: F401  (DRAM-v0 below)

    env = registry.make("archgym/DRAM-v0", trace_length=200)
    searcher, _ = agents.for_env("nsga2", env, objectives=["bandwidth_gbps", "latency_ns"])
    assert searcher.hparams["objectives"] == ["bandwidth_gbps:max", "latency_ns:min"]
    assert searcher.archive.cost({"bandwidth_gbps": 10.0, "latency_ns": 5.0}).tolist() == \
        [-10.0, 5.0]


# ------------------------------------------------------------------ parameters and replay


def test_env_parameters_are_checked_by_type_with_the_users_words():
    with pytest.raises(ArchGymError, match="'trace_length' must be an integer or null, "
                                           "got 'abc'"):
        registry.make("archgym/DRAM-v0", trace_length="abc")
    with pytest.raises(ArchGymError, match="'cost_model' must be one of 'simulator', 'proxy'"):
        registry.make(TOY_ID, cost_model="exact")
    env = registry.make(TOY_ID, max_steps=3)
    assert env.unwrapped.env_spec()["kwargs"] == {
        "objective": "latency", "max_steps": 3, "delay": 0.0, "cost_model": "simulator",
        "proxy": None, "proxy_threshold": 0.05}


def test_replay_command_reports_and_fails_on_a_mismatch(tmp_path):
    out = tmp_path / "d"
    assert invoke("run", "--env", TOY_ID, "--budget", 6, "--out", out).exit_code == 0
    r = invoke("replay", out, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) | {"details": []} == {"rows": 6, "mismatches": 0,
                                                      "skipped": 0, "details": []}
    df = dataset.load(out)
    df.loc[2, "metric_latency"] += 1.0
    df.to_parquet(tmp_path / "tampered.parquet")
    r = invoke("replay", tmp_path / "tampered.parquet", "--json", "--rows", 6)
    assert r.exit_code == 1 and json.loads(r.stdout)["mismatches"] == 1


# ------------------------------------------------------------------ plug-ins and layers


PLUGIN_PYPROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"
[project]
name = "archgym-plugin-demo"
version = "0.0.1"
[project.entry-points."archgym.envs"]
demo = "archgym_plugin_demo:register_envs"
[project.entry-points."archgym.agents"]
demo-search = "archgym_plugin_demo:DemoSearch"
[project.entry-points."archgym.simulate"]
demo = "archgym_plugin_demo:simulate_demo"
"""

PLUGIN_MODULE = '''
"""A third-party package adding an env, a searcher and a simulate command."""
from agents.random_search import RandomSearch


def register_envs():
    from archgym.registry import register
    register("DemoToy", "tests.toy:ToyEnv", "a plug-in env", namespace="demo")


class DemoSearch(RandomSearch):
    name = "demo-search"


def simulate_demo(n: int = 2) -> None:
    """Print twice n."""
    print(2 * n)
'''


def test_a_separate_package_adds_an_env_a_searcher_and_a_simulate_command(tmp_path):
    src = tmp_path / "src"
    (src / "archgym_plugin_demo").mkdir(parents=True)
    (src / "pyproject.toml").write_text(PLUGIN_PYPROJECT)
    (src / "archgym_plugin_demo" / "__init__.py").write_text(PLUGIN_MODULE)
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "--no-build-isolation", "--target", str(site), str(src)], check=True,
                   capture_output=True)
    script = textwrap.dedent("""
        import json
        from typer.testing import CliRunner
        import agents, archgym
        from archgym import registry
        from archgym.app.cli import app
        env = registry.make("demo/DemoToy-v0")
        searcher, target = agents.for_env("demo-search", env, seed=0)
        r = CliRunner().invoke(app, ["simulate", "demo", "--n", "21"])
        print(json.dumps({"envs": registry.env_ids(), "searcher": type(searcher).__name__,
                          "simulate": r.stdout.strip()}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": f"{site}:{ROOT}"},
                         check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert "demo/DemoToy-v0" in got["envs"]
    assert got["searcher"] == "DemoSearch" and got["simulate"] == "42"


def test_import_archgym_loads_no_simulator_and_no_numba():
    code = ("import sys, archgym, archgym.space; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('numba', 'simulators', 'torch', 'agents', 'workloads')))")
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert "numba" not in out.stderr  # -X importtime lists every module imported


def test_import_layers_hold():
    out = subprocess.run([Path(sys.executable).parent / "lint-imports"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_no_sys_path_edits_anywhere():
    offenders = [str(p.relative_to(ROOT)) for d in ("archgym", "agents", "simulators",
                                                    "workloads", "experiments")
                 for p in (ROOT / d).rglob("*.py") if "sys.path." in p.read_text()]
    assert offenders == []


def test_replay_reproduces_a_logged_sweep_exactly(tmp_path):
    from archgym.app import sweep

    plan = sweep.load_config(ROOT / "experiments" / "configs" / "toy_smoke.yaml")
    sweep.run_sweep(plan, workers=1, out=tmp_path / "s")
    df = dataset.load(tmp_path / "s")
    r = invoke("replay", tmp_path / "s", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["rows"] == int(df["valid"].sum()) > 0
