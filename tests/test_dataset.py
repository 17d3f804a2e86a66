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


def test_sigkill_mid_run_leaves_only_complete_rows(tmp_path):
    out = tmp_path / "ds"
    script = textwrap.dedent(f"""
        import gymnasium, agents, archgym, tests.toy
        from archgym.dataset import DatasetWriter
        from archgym.runner import run
        env = gymnasium.make("archgym/Toy-v0", delay=0.02)
        s = agents.make("random", env.unwrapped.space, seed=0)
        run(env, s, 100000, logger=DatasetWriter({str(out)!r}, run_id="killed"))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.time() + 60
    while time.time() < deadline and len(list(out.glob("part-*.parquet"))) < 30:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    df = dataset.load(out)
    assert len(df) >= 30
    assert df["step"].tolist() == list(range(1, len(df) + 1))  # no gap, no partial row
    assert df[dataset.metric_columns(df)].notna().all().all()
    assert duckdb.sql(f"select count(*) from '{out}/*.parquet'").fetchall()[0][0] == len(df)


def test_load_of_missing_dataset_names_the_path(tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        dataset.load(tmp_path)
