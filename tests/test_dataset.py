"""The dataset: one row per evaluation, crash-safe appends, readable by pandas, DuckDB and
polars, and bit-identical for the same seed."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import gymnasium
import pandas as pd
import polars as pl

import agents
import archgym  # noqa: F401
from archgym import dataset
from archgym.dataset import DatasetWriter
from archgym.runner import run
from tests.toy import SPACE

ROOT = Path(__file__).resolve().parents[1]


def run_toy(out, seed=3, budget=25, agent="random-walk"):
    env = gymnasium.make("archgym/Toy-v0", max_steps=10)
    searcher = agents.make(agent, SPACE, seed=seed)
    return run(env, searcher, budget, seed=seed,
               logger=DatasetWriter(out, run_id=f"{agent}-{seed}"))


def test_one_row_per_evaluation_with_every_column(tmp_path):
    result = run_toy(tmp_path)
    df = dataset.load(tmp_path)
    assert len(df) == result.evaluations == 25
    assert df["step"].tolist() == list(range(1, 26))
    for col in ("run_id", "env_id", "env_version", "workload", "searcher", "hparams", "seed",
                "reward", "feasible", "wall_seconds", "cost_model", "config_key"):
        assert col in df.columns, col
    assert sorted(dataset.param_columns(df)) == sorted("param_" + n for n in SPACE.names)
    assert sorted(dataset.metric_columns(df)) == ["metric_energy", "metric_latency"]
    assert set(df["env_id"]) == {"archgym/Toy-v0"} and set(df["searcher"]) == {"random-walk"}
    # rows hold exactly what the run saw
    for rec, (_, row) in zip(result.history, df.iterrows(), strict=True):
        assert {n: row["param_" + n] for n in SPACE.names} == rec.config
        assert row["reward"] == rec.reward
        if rec.valid:
            assert row["metric_latency"] == rec.metrics["latency"]


def test_duckdb_and_polars_read_the_directory_as_is(tmp_path):
    run_toy(tmp_path, budget=10)
    run_toy(tmp_path, budget=10, agent="random")
    n = duckdb.sql(f"select count(*) from read_parquet('{tmp_path}/*.parquet', "
                   "union_by_name=true)").fetchall()[0][0]
    assert n == 20
    assert pl.read_parquet(f"{tmp_path}/*.parquet").height == 20
    assert len(dataset.load(tmp_path)) == 20


def test_same_seed_same_dataset_bit_for_bit(tmp_path):
    run_toy(tmp_path / "a", seed=11)
    run_toy(tmp_path / "b", seed=11)
    run_toy(tmp_path / "c", seed=12)
    a, b, c = (dataset.load(tmp_path / x).drop(columns="wall_seconds") for x in "abc")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert not a.drop(columns=["run_id", "seed", "hparams"]).equals(
        c.drop(columns=["run_id", "seed", "hparams"]))


def test_sigkill_mid_run_keeps_every_completed_evaluation_and_nothing_partial(tmp_path):
    """The child prints each step once the runner has seen it (after the dataset logged it);
    killed mid-run, the dataset holds every printed step, at most the one in flight more,
    and no partial row, in one log file rather than one file per row."""
    out = tmp_path / "ds"
    script = textwrap.dedent(f"""
        import sys, gymnasium, agents, archgym, tests.toy
        from archgym.dataset import DatasetWriter
        from archgym.runner import run
        env = gymnasium.make("archgym/Toy-v0", delay=0.01)
        s = agents.make("random", env.unwrapped.space, seed=0)
        run(env, s, 100000, logger=DatasetWriter({str(out)!r}, run_id="killed"),
            progress=lambda n: print(n, flush=True))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    reported = 0
    deadline = time.time() + 120
    while reported < 40 and time.time() < deadline:
        reported = int(proc.stdout.readline())
    os.kill(proc.pid, signal.SIGKILL)
    rest = proc.stdout.read().split()
    proc.wait()
    reported = int(rest[-1]) if rest else reported
    assert proc.returncode == -signal.SIGKILL and reported >= 40
    df = dataset.load(out)
    assert reported <= len(df) <= reported + 1
    assert df["step"].tolist() == list(range(1, len(df) + 1))  # no gap, no partial row
    assert df[dataset.metric_columns(df)].notna().all().all()
    assert [f.name for f in out.iterdir()] == ["part-killed-000000.wal"]
    # replay reads the log like a part: the logged rows re-simulate to the same numbers
    from archgym.replay import replay

    assert replay(out, rows=5).mismatches == 0
    # compaction turns the log into one Parquet part that DuckDB and polars read as is
    from typer.testing import CliRunner

    from archgym.app.cli import app

    r = CliRunner().invoke(app, ["dataset", "compact", str(out)])
    assert r.exit_code == 0 and "1 log(s) compacted" in r.output, r.output
    assert sorted(f.name for f in out.iterdir() if not f.name.startswith(".")) == [
        "part-killed-000000.parquet"]
    assert duckdb.sql(f"select count(*) from '{out}/*.parquet'").fetchall()[0][0] == len(df)
    pd.testing.assert_frame_equal(dataset.load(out), df)


def test_a_run_writes_parts_of_many_rows(tmp_path):
    result = run_toy(tmp_path, budget=25)
    assert [f.name for f in tmp_path.iterdir()] == ["part-random-walk-3-000000.parquet"]
    assert len(dataset.load(tmp_path)) == result.evaluations == 25
    env = gymnasium.make("archgym/Toy-v0", max_steps=10)
    run(env, agents.make("random", SPACE, seed=1), 25, seed=1,
        logger=DatasetWriter(tmp_path / "small", run_id="r", part_rows=10))
    assert sorted(f.name for f in (tmp_path / "small").iterdir()) == [
        f"part-r-00000{i}.parquet" for i in range(3)]
    assert [len(pd.read_parquet(f)) for f in sorted((tmp_path / "small").iterdir())] == \
        [10, 10, 5]


def test_logs_torn_lines_stale_logs_and_reruns(tmp_path):
    from archgym.dataset import read_wal

    writer = DatasetWriter(tmp_path, run_id="a", part_rows=4)
    for i in range(6):
        writer.append({"run_id": "a", "step": i + 1, "reward": float(i), "valid": True})
    # rows 1-4 are a part, rows 5-6 still in the log
    log = tmp_path / "part-a-000001.wal"
    assert (tmp_path / "part-a-000000.parquet").exists() and len(read_wal(log)) == 2
    with open(log, "a") as fh:  # what a kill in the middle of a write can leave
        fh.write('{"run_id": "a", "step": 7, "rew')
    assert dataset.load(tmp_path)["step"].tolist() == [1, 2, 3, 4, 5, 6]
    # a log whose part was written (killed before deleting the log) is not read twice
    stale = tmp_path / "part-a-000000.wal"
    stale.write_text('{"run_id": "a", "step": 1, "reward": 0.0, "valid": true}\n')
    assert dataset.load(tmp_path)["step"].tolist() == [1, 2, 3, 4, 5, 6]
    # a corrupt line before the last is an error naming the file and line
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "part-b-000000.wal").write_text('{"step": 1}\nnot json\n{"step": 3}\n')
    import pytest

    with pytest.raises(ValueError, match=r"part-b-000000.wal:2"):
        dataset.load(bad)
    # the same run id again replaces the run's rows
    again = DatasetWriter(tmp_path, run_id="a")
    again.append({"run_id": "a", "step": 1, "reward": 9.0, "valid": True})
    again.close()
    df = dataset.load(tmp_path)
    assert df["reward"].tolist() == [9.0]
    assert [f.name for f in tmp_path.iterdir() if f.is_file()] == ["part-a-000000.parquet"]


def test_load_of_missing_dataset_names_the_path(tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        dataset.load(tmp_path)
