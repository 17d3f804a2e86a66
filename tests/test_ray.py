"""The Ray backend: a real local Ray cluster (two CPUs) runs sweeps with the same rows as the
local backend, resumes after the driver is killed mid-run, and lets Optuna searchers share
one RDB study."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from archgym import dataset
from archgym.app import sweep
from archgym.errors import ArchGymError

ray = pytest.importorskip("ray")
ROOT = Path(__file__).resolve().parents[1]
ARCHGYM = Path(sys.executable).parent / "archgym"

SLOW = """
imports: [tests.toy]
envs:
  - id: archgym/Toy-v0
    params: {objective: latency, max_steps: 50, delay: 0.04}
searchers:
  - name: random
  - name: random-walk
seeds: 3
budget: 20
"""


def rows(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["wall_seconds"]).sort_values(["run_id", "step"]).reset_index(
        drop=True)


def test_killed_ray_sweep_resumes_to_the_local_backends_rows(tmp_path):
    config = tmp_path / "sweep.yaml"
    config.write_text(SLOW)
    out = tmp_path / "ray"
    cmd = [str(ARCHGYM), "sweep", str(config), "--backend", "ray", "--workers", "2",
           "--out", str(out), "--json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 400
    while len(list(out.glob("_done/*.json"))) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the Ray sweep finished no job"
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)  # the driver, with the local cluster it started
    proc.wait()
    done_before = len(list(out.glob("_done/*.json")))
    time.sleep(3)  # a task still running must not finish behind the dead driver
    assert len(list(out.glob("_done/*.json"))) == done_before < 6

    r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    df = dataset.load(out)
    assert not df.duplicated(["run_id", "step"]).any() and len(df) == 6 * 20
    local = tmp_path / "local"
    sweep.run_sweep(sweep.load_config(config), workers=2, out=local)
    pd.testing.assert_frame_equal(rows(df), rows(dataset.load(local)))


def test_optuna_searchers_in_a_ray_sweep_share_one_study(tmp_path):
    optuna = pytest.importorskip("optuna")
    db = f"sqlite:///{tmp_path / 'study.db'}"
    config = tmp_path / "tpe.yaml"
    config.write_text(f"""
imports: [tests.toy]
envs:
  - id: archgym/Toy-v0
searchers:
  - name: tpe
    grid: {{storage: "{db}", study_name: shared, n_startup_trials: 4}}
seeds: 2
budget: 8
""")
    try:
        summary = sweep.run_sweep(sweep.load_config(config), workers=2, out=tmp_path / "d",
                                  backend="ray")
    finally:
        ray.shutdown()
    assert summary["ran"] == 2 and summary["failed"] == []
    study = optuna.load_study(study_name="shared", storage=db)
    assert len(study.trials) >= 16  # both jobs' trials, in one study (plus re-asked invalid)


def test_ray_backend_without_ray_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    config = tmp_path / "s.yaml"
    config.write_text(SLOW.replace("delay: 0.04", "delay: 0.0"))
    with pytest.raises(ArchGymError, match=r"pip install -e \".\[ray\]\""):
        sweep.run_sweep(sweep.load_config(config), workers=2, out=tmp_path / "o",
                        backend="ray")
    with pytest.raises(ArchGymError, match="add --backend ray"):
        sweep.run_sweep(sweep.load_config(config), workers=2, out=tmp_path / "o",
                        address="127.0.0.1:6379")
