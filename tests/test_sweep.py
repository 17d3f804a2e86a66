"""Sweeps: config checking with lines, job expansion, parallel runs into one dataset,
resume after SIGKILL without duplicates, and the report's numbers and plots."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import agents
from archgym import dataset
from archgym.app import jobs, report, sweep
from archgym.app.cli import app
from archgym.errors import ArchGymError
from archgym.runner import run_id_for
from archgym.stats import median_ci

ROOT = Path(__file__).resolve().parents[1]
TOY_CONFIG = ROOT / "experiments" / "configs" / "toy_smoke.yaml"
ARCHGYM = Path(sys.executable).parent / "archgym"
cli = CliRunner()


def write(tmp_path, text, name="sweep.yaml"):
    path = tmp_path / name
    path.write_text(text.lstrip("\n"))
    return path


GOOD = """
envs:
  - id: archgym/Toy-v0
    params: {objective: latency}
searchers:
  - name: random-walk
    grid:
      num_changes: [1, 2]
seeds: 2
budget: 5
"""

# (config text, line of the error, words the message must contain)
BAD = [
    (GOOD.replace("archgym/Toy-v0", "archgym/Nope-v0"), 2,
     ["unknown environment 'archgym/Nope-v0'", "archgym/Toy-v0"]),
    (GOOD.replace("{objective: latency}", "{objective: latency, colour: red}"), 3,
     ["no parameter 'colour'", "objective, max_steps, delay"]),
    (GOOD.replace("name: random-walk", "name: simulated-annealing"), 5,
     ["unknown searcher 'simulated-annealing'", "random-walk"]),
    (GOOD.replace("num_changes: [1, 2]", "num_changes: [1, 2]\n      stride: [3]"), 8,
     ["no hyper-parameter 'stride'", "num_changes, start, restart_prob"]),
    (GOOD.replace("num_changes: [1, 2]", "num_changes:\n        - 1\n        - two"), 9,
     ["'num_changes' must be int", "'two'"]),
    (GOOD.replace("num_changes: [1, 2]", "num_changes: [1, 9]"), 6,
     ["num_changes must be in 1..4"]),
    (GOOD.replace("budget: 5", "budget: five"), 9, ["budget must be an integer >= 1"]),
    (GOOD.replace("seeds: 2", "seeds: [0, zero]"), 8, ["a seed must be an integer"]),
    (GOOD + "budgett: 5\n", 10, ["unknown key 'budgett'", "allowed: envs, searchers"]),
    (GOOD + "budget: 6\n", 10, ["duplicate key 'budget'", "first on line 9"]),
    (GOOD.replace("    params: {objective: latency}\n", "    params: {objective: speed}\n"),
     3, ["KeyError", "speed"]),
    (GOOD.replace("seeds: 2\n", ""), 1, ["missing key 'seeds'"]),
    (GOOD.replace("  - name: random-walk", "  - nom: random-walk"), 5,
     ["unknown key 'nom'", "allowed: name, grid"]),
]


@pytest.mark.parametrize(("text", "line", "words"), BAD)
def test_config_errors_name_file_line_and_allowed(tmp_path, text, line, words):
    path = write(tmp_path, text)
    with pytest.raises(ArchGymError) as e:
        sweep.load_config(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}:{line}: "), msg
    for w in words:
        assert w in msg, msg


def test_cli_bad_config_exits_2_one_line_nothing_written(tmp_path):
    path = write(tmp_path, GOOD.replace("name: random-walk", "name: nope"))
    out = tmp_path / "never"
    r = cli.invoke(app, ["sweep", str(path), "--out", str(out)])
    assert r.exit_code == 2
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"{path}:5:" in lines[0] and "unknown searcher" in lines[0]
    assert not out.exists()


def test_expansion_count_and_run_ids(tmp_path):
    path = write(tmp_path, """
envs:
  - id: archgym/Toy-v0
    params: {objective: latency}
  - id: archgym/Toy-v0
    params: {objective: energy, max_steps: 7}
searchers:
  - name: random-walk
    grid:
      num_changes: [1, 2]
      restart_prob: [0.0, 0.5]
      start: random
  - name: random
seeds: [3, 5, 8]
budget: 4
""")
    plan = sweep.load_config(path)
    assert len(plan.jobs) == 2 * (2 * 2 + 1) * 3
    assert len({j.run_id for j in plan.jobs}) == len(plan.jobs)
    assert {j.seed for j in plan.jobs} == {3, 5, 8}
    job = next(j for j in plan.jobs if j.searcher == "random-walk"
               and j.env_params["objective"] == "energy")
    assert job.hparams == {**agents.searcher_class("random-walk").defaults, **job.setting}
    assert job.setting["start"] == "random"
    assert job.run_id == run_id_for("archgym/Toy-v0", {"objective": "energy", "max_steps": 7},
                                    "random-walk", job.hparams, job.seed, 4)
    # the dry run lists the jobs and writes nothing
    out = tmp_path / "dry"
    summary = sweep.run_sweep(plan, out=out, dry_run=True)
    assert summary["pending"] == len(summary["job_list"]) == 30 and not out.exists()


@pytest.fixture(scope="module")
def toy_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("toy") / "ds"
    plan = sweep.load_config(TOY_CONFIG)
    summary = sweep.run_sweep(plan, workers=2, out=out)
    return plan, summary, out


def test_sweep_two_workers_writes_jobs_times_budget_rows(toy_sweep):
    plan, summary, out = toy_sweep
    assert len(plan.jobs) == 6 and plan.budget == 12
    assert summary["ran"] == 6 and summary["failed"] == [] and summary["workers"] == 2
    df = dataset.load(out)
    assert len(df) == 6 * 12 == summary["rows"]
    assert len(list(out.glob("part-*.parquet"))) == 6  # one part per job, not per row
    assert set(df["run_id"]) == {j.run_id for j in plan.jobs}
    assert not df.duplicated(["run_id", "step"]).any()
    for job in plan.jobs:
        rows = df[df["run_id"] == job.run_id]
        assert rows["step"].tolist() == list(range(1, 13))
        assert rows["seed"].eq(job.seed).all() and rows["searcher"].eq(job.searcher).all()
        assert json.loads(rows["hparams"].iloc[0]) == job.hparams
        marker = json.loads(jobs.done_path(out, job.run_id).read_text())
        assert marker["rows"] == 12 and marker["best_reward"] == rows["reward"].max()
    # started again: everything is skipped, nothing is written
    before = sorted(p.name for p in out.iterdir())
    again = sweep.run_sweep(plan, workers=2, out=out)
    assert again["skipped"] == 6 and again["ran"] == 0
    assert sorted(p.name for p in out.iterdir()) == before


SLOW_TOY = """
imports: [tests.toy]
envs:
  - id: archgym/Toy-v0
    params: {objective: latency, delay: 0.02}
searchers:
  - name: random-walk
    grid: {num_changes: [1, 3]}
  - name: random
seeds: 2
budget: 25
"""


def rows_without_wall(df):
    df = df.drop(columns=["wall_seconds"]).sort_values(["run_id", "step"])
    return df.reset_index(drop=True)


def test_resume_after_sigkill_runs_only_what_is_missing(tmp_path):
    config = write(tmp_path, SLOW_TOY)
    out = tmp_path / "ds"
    cmd = [str(ARCHGYM), "sweep", str(config), "--workers", "2", "--out", str(out), "--json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the config imports tests.toy
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env)
    deadline = time.monotonic() + 300
    while len(list(out.glob("_done/*.json"))) < 2:  # one part per finished job
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the sweep wrote no rows"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_rows = len(dataset.load(out))
    done_before = len(list((out / "_done").glob("*.json"))) if (out / "_done").exists() else 0
    assert 2 * 25 <= killed_rows < 6 * 25 and done_before < 6  # really interrupted mid-sweep

    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["skipped"] == done_before and summary["ran"] == 6 - done_before
    df = dataset.load(out)
    assert not df.duplicated(["run_id", "step"]).any()
    assert len(df) == 6 * 25 and df.groupby("run_id").size().eq(25).all()
    assert len(list((out / "_done").glob("*.json"))) == 6

    clean = tmp_path / "clean"
    sweep.run_sweep(sweep.load_config(config), workers=2, out=clean)
    pd.testing.assert_frame_equal(rows_without_wall(df),
                                  rows_without_wall(dataset.load(clean)))


def test_incomplete_job_parts_removed_before_rerun(tmp_path):
    config = write(tmp_path, GOOD)
    plan = sweep.load_config(config)
    out = tmp_path / "ds"
    job = plan.jobs[0]
    # a crashed job's leftovers: parts beyond what the rerun writes, and a temporary
    sweep.run_job(job, out)
    stale = out / f"part-{job.run_id}-000099.parquet"
    stale.write_bytes((out / f"part-{job.run_id}-000000.parquet").read_bytes())
    (out / f".part-{job.run_id}-000100.parquet.1.tmp").write_bytes(b"half")
    summary = sweep.run_sweep(plan, workers=1, out=out)
    assert summary["ran"] == len(plan.jobs)
    assert not stale.exists() and not list(out.glob(".part-*"))
    df = dataset.load(out)
    assert len(df) == len(plan.jobs) * 5 and not df.duplicated(["run_id", "step"]).any()


def test_two_sweeps_on_one_dataset_refused(tmp_path):
    import fcntl

    plan = sweep.load_config(write(tmp_path, GOOD))
    out = tmp_path / "ds"
    out.mkdir()
    with open(out / jobs.LOCK_FILE, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        with pytest.raises(ArchGymError, match="another archgym process is writing"):
            sweep.run_sweep(plan, workers=1, out=out)
    assert not list(out.glob("part-*"))


def hand_summary(df, target):
    """The report's numbers from the rows, by plain loops."""
    runs = {}
    for row in df.to_dict("records"):
        r = runs.setdefault(row["run_id"], {"searcher": row["searcher"],
                                            "hparams": row["hparams"], "seed": row["seed"],
                                            "best": -math.inf, "hit": math.inf, "n": 0})
        r["n"] += 1
        if row["valid"] and math.isfinite(row["reward"]):
            r["best"] = max(r["best"], row["reward"])
            if row["reward"] >= target:
                r["hit"] = min(r["hit"], row["step"])
    best_known = max(r["best"] for r in runs.values())
    out = {}
    for searcher in {r["searcher"] for r in runs.values()}:
        mine = [r for r in runs.values() if r["searcher"] == searcher]
        settings = {}
        for r in mine:
            settings.setdefault(r["hparams"], []).append(r)
        medians = {hp: float(np.median([r["best"] for r in rs])) for hp, rs in settings.items()}
        tuned = max(sorted(medians), key=medians.get)  # ties: first in sorted order
        bests = [r["best"] for r in settings[tuned]]
        hits = sorted(r["hit"] for r in settings[tuned])
        ci = median_ci(bests)
        out[searcher] = {
            "runs": len(mine), "settings": len(settings), "best_hparams": tuned,
            "best_reward_median": float(np.median(bests)),
            "best_reward_ci_low": ci.low, "best_reward_ci_high": ci.high,
            "best_reward_mean": float(np.mean(bests)),
            "best_reward_std": float(np.std(bests, ddof=1)),
            "gap_pct_median": float(np.median([100 * (best_known - b) / abs(best_known)
                                               for b in bests])),
            "evals_to_target_median": float(np.median(hits)),
            "target_hit_rate": sum(math.isfinite(h) for h in hits) / len(hits),
            "all_runs_median": float(np.median([r["best"] for r in mine])),
            "worst_setting_median": min(medians.values()),
        }
    return out


def test_report_table_matches_hand_computation_and_writes_pngs(toy_sweep, tmp_path):
    _, _, ds = toy_sweep
    df = dataset.load(ds)
    target = float(df["reward"].quantile(0.8))
    result = report.report(ds, target=target, out=tmp_path / "rep")
    table = result["table"].set_index("searcher")
    expected = hand_summary(df, target)
    assert set(table.index) == set(expected) == {"random", "random-walk"}
    for searcher, exp in expected.items():
        for key, value in exp.items():
            got = table.loc[searcher, key]
            if isinstance(value, str):
                assert got == value
            else:
                assert got == pytest.approx(value, rel=1e-12), (searcher, key)
        assert exp["best_reward_ci_low"] <= exp["best_reward_median"] <= \
            exp["best_reward_ci_high"]
    assert table["target_hit_rate"].max() > 0  # the target is reachable, so medians are real
    # ranked by median best reward
    assert result["table"]["best_reward_median"].is_monotonic_decreasing
    for name in ("curves", "lottery"):
        png = result["files"][name]
        data = png.read_bytes()
        assert png.name == f"{name}.png" and data.startswith(b"\x89PNG\r\n\x1a\n")
        import matplotlib.image

        assert matplotlib.image.imread(png).shape[0] > 100
    assert not list((tmp_path / "rep").glob(".*tmp"))

    r = cli.invoke(app, ["report", str(ds), "--target", repr(target), "--out",
                         str(tmp_path / "rep2"), "--json"])
    assert r.exit_code == 0, r.output
    rows = {t["searcher"]: t for t in json.loads(r.stdout)["table"]}
    assert rows["random"]["best_reward_median"] == pytest.approx(
        expected["random"]["best_reward_median"])
    assert (tmp_path / "rep2" / "lottery.png").is_file()


TWO_PROBLEMS = """
envs:
  - id: archgym/Toy-v0
    params: {objective: latency}
  - id: archgym/Toy-v0
    params: {objective: energy}
searchers:
  - name: random
  - name: random-walk
seeds: SEEDS
budget: 6
"""


@pytest.fixture(scope="module")
def two_problems(tmp_path_factory):
    root = tmp_path_factory.mktemp("two")
    path = write(root, TWO_PROBLEMS.replace("SEEDS", "3"), "s3.yaml")
    sweep.run_sweep(sweep.load_config(path), workers=1, out=root / "ds")
    return root / "ds"


def test_report_targets_per_problem_and_goal_defaults(two_problems, tmp_path):
    ds = two_problems
    df = dataset.load(ds)
    lat = df[df["objective"].str.contains('"latency"')]
    lat_target = float(lat["reward"].quantile(0.5))
    result = report.report(ds, target={"latency": lat_target}, out=tmp_path, plots=False)
    goal = result["goals"].set_index("problem")
    assert set(goal.index) == {"Toy-v0 toy energy", "Toy-v0 toy latency"}
    assert goal.loc["Toy-v0 toy latency", "goal_reward"] == lat_target
    # no target for energy: within 1 % of the best known reward
    en = df[df["objective"].str.contains('"energy"')]
    best = en.loc[en["valid"], "reward"].max()
    assert goal.loc["Toy-v0 toy energy", "goal_reward"] == pytest.approx(best - 0.01 * abs(best))
    runs = result["runs"].set_index("run_id")
    for run_id, rows in df.groupby("run_id"):
        need = lat_target if '"latency"' in rows["objective"].iloc[0] else \
            best - 0.01 * abs(best)
        hit = rows.loc[rows["reward"] >= need, "step"]
        assert runs.loc[run_id, "evals_to_target"] == (hit.min() if len(hit) else math.inf)
    # the best run has gap 0 and reaches the default goal
    table = result["table"]
    assert (table["gap_pct_ci_low"] >= 0).all()
    energy = table[table["problem"] == "Toy-v0 toy energy"]
    assert energy["target_hit_rate"].max() > 0
    # a key that names no problem, or several, is refused with the problem list
    for key in ("nope", "Toy"):
        with pytest.raises(ValueError, match="Toy-v0 toy energy; Toy-v0 toy latency|"
                                             "Toy-v0 toy latency; Toy-v0 toy energy"):
            report.report(ds, target={key: 1.0}, out=tmp_path, plots=False)
    r = cli.invoke(app, ["report", str(ds), "--target", "latency=-0.4", "--target",
                         "energy=abc", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "--target 'energy=abc'" in r.output


def test_report_reads_at_80_columns_with_notes_and_warnings(two_problems, tmp_path):
    from rich.console import Console

    result = report.report(two_problems, out=tmp_path, plots=False)
    console = Console(width=80, record=True, force_terminal=False)
    report.render(result, console)
    text = console.export_text()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    for r in result["table"].itertuples():  # every row on one line, nothing cut
        cells = (report._with_ci(r, "best_reward"), report._with_ci(r, "evals_to_target"))
        assert any(ln.startswith(r.searcher + " ") and all(c in ln for c in cells)
                   for ln in lines), (r.searcher, cells)
    words = " ".join(text.split())
    assert "the ranking rests on 3 seed(s)" in words and "fewer than 30" in words
    for note in result["notes"].values():
        for a, b in note["overlaps"]:
            assert f"{a} ~ {b}" in words
    # overlap notes are exactly the pairs whose intervals overlap
    for problem, rows in result["table"].groupby("problem"):
        recs = {r.searcher: r for r in rows.itertuples()}
        a, b = recs["random"], recs["random-walk"]
        overlap = a.best_reward_ci_low <= b.best_reward_ci_high and \
            b.best_reward_ci_low <= a.best_reward_ci_high
        assert bool(result["notes"][problem]["overlaps"]) is overlap
        # 30 seeds and equal budgets: nothing to warn about; unequal budgets: said
        assert report.warnings_for(rows.assign(seeds=30)) == []
        uneven = report.warnings_for(rows.assign(seeds=30, budget=[6, 9]))
        assert uneven == ["unequal budgets: " + ", ".join(
            f"{s} {b}" for s, b in zip(rows["searcher"], [6, 9], strict=True))]


def test_report_plots_label_units_and_keep_colours(two_problems, tmp_path):
    result = report.report(two_problems, out=tmp_path, units={"latency": "ns"})
    colours = report.searcher_colours(["random", "random-walk"])
    # a searcher's colour does not depend on which others are plotted with it
    assert all(report.searcher_colours(["ga", n])[n] == c for n, c in colours.items())
    assert len(set(report.searcher_colours(report.COLOUR_ORDER).values())) == \
        len(report.COLOUR_ORDER)
    import matplotlib.colors as mc

    curves, lottery = result["figures"]["curves"], result["figures"]["lottery"]
    for fig in (curves, lottery):
        labels = [ax.get_ylabel() for ax in fig.axes]
        assert any("latency [ns] (lower is better)" in y for y in labels), labels
        assert all(ax.get_title() for ax in fig.axes)
    for ax in curves.axes:
        assert ax.get_xlabel().startswith("evaluations")
        for line in ax.get_lines():
            name = line.get_label().split(" (")[0]
            assert mc.to_hex(line.get_color()) == colours[name]
    for ax in lottery.axes:
        medians = [ln for ln in ax.get_lines() if mc.to_hex(ln.get_color()) == "#000000"]
        assert len(medians) == 2  # one black median line per searcher's box
        points = [mc.to_hex(c.get_facecolor()[0]) for c in ax.collections]
        assert set(points) == set(colours.values())
        assert "#000000" not in colours.values()


def test_report_leaves_out_interrupted_runs(toy_sweep, tmp_path):
    _, _, ds = toy_sweep
    copy = tmp_path / "ds"
    copy.mkdir()
    for f in ds.glob("part-*.parquet"):
        (copy / f.name).write_bytes(f.read_bytes())
    (copy / "_done").mkdir()
    markers = sorted((ds / "_done").glob("*.json"))
    for m in markers[1:]:
        (copy / "_done" / m.name).write_text(m.read_text())
    result = report.report(copy, out=tmp_path / "rep")
    assert result["incomplete_runs"] == 1
    assert result["table"]["runs"].sum() == len(markers) - 1


def test_report_human_output_and_missing_dataset(toy_sweep, tmp_path):
    _, _, ds = toy_sweep
    r = cli.invoke(app, ["report", str(ds), "--out", str(tmp_path / "r")])
    assert r.exit_code == 0, r.output
    assert "random-walk" in r.stdout and "lottery.png" in r.stdout
    r = cli.invoke(app, ["report", str(tmp_path / "nothing")])
    assert r.exit_code == 2 and "does not exist" in r.output


def test_shipped_dram_lottery_config_is_valid():
    plan = sweep.load_config(ROOT / "experiments" / "configs" / "dram_lottery.yaml")
    searchers = {j.searcher for j in plan.jobs}
    assert {"random-walk", "ga", "aco", "bo"} <= searchers
    assert len(plan.seeds) >= 30 and plan.budget <= 100  # archgym.stats.MIN_SEEDS
    assert all(j.env_id == "archgym/DRAM-v0" and j.env_params["trace_length"] <= 5000
               for j in plan.jobs)
