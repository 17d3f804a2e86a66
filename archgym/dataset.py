"""The evaluation dataset: one Parquet row per evaluation, for proxies and analysis.

A dataset is a directory of Parquet part files (``part-<run id>-<seq>.parquet``). A part is
written whole to a hidden temporary name and renamed into place, so a process killed at any
moment (even by SIGKILL) leaves only complete parts: every flushed evaluation and no partial
row. With the default ``flush_every=1`` every completed evaluation is flushed. The directory
opens as it is in pandas (:func:`load`), DuckDB (``read_parquet('DIR/*.parquet',
union_by_name=true)``) and polars (``pl.read_parquet('DIR/*.parquet')``).

Columns: ``run_id, env_id, env_version, workload, cost_model, objective, searcher,
hparams`` (JSON), ``seed, step, config_key``, one ``param_<name>`` per parameter, one
``metric_<name>`` per metric, ``reward, feasible, target_met, valid, wall_seconds``, and
with a multi-fidelity cost model ``fidelity`` (``"proxy"`` or ``"simulator"``, per row).
Each row carries what is needed to re-evaluate it.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from archgym.env import DesignEnv, EvaluationRecord

PARAM_PREFIX, METRIC_PREFIX = "param_", "metric_"


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


class DatasetWriter:
    """Appends rows to a dataset directory in crash-safe Parquet parts."""

    def __init__(self, root: str | Path, run_id: str | None = None, flush_every: int = 1):
        if flush_every < 1:
            raise ValueError("flush_every must be >= 1")
        self.root = Path(root)
        self.run_id = run_id or new_run_id()
        self.flush_every = flush_every
        self._rows: list[dict[str, Any]] = []
        self._seq = 0
        self.rows_written = 0

    def append(self, row: Mapping[str, Any]) -> None:
        self._rows.append(dict(row))
        if len(self._rows) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        if not self._rows:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(self._rows)
        name = f"part-{self.run_id}-{self._seq:06d}.parquet"
        tmp = self.root / f".{name}.{os.getpid()}.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, self.root / name)
        self._seq += 1
        self.rows_written += len(self._rows)
        self._rows.clear()

    def close(self) -> None:
        self.flush()

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DatasetRecorder:
    """Observer of a :class:`DesignEnv` that writes each evaluation as a dataset row.

    ``run`` holds the run's metadata (searcher, hyper-parameters, seed); the env supplies
    its id, version, workload, cost model and objective.
    """

    def __init__(self, env: DesignEnv, writer: DatasetWriter, searcher: str,
                 hparams: Mapping[str, Any], seed: int) -> None:
        self.writer = writer
        self.env = env
        d = env.describe()
        self.base = {
            "run_id": writer.run_id, "env_id": d["env_id"], "env_version": d["env_version"],
            "workload": str(d.get("workload", "")), "cost_model": d["cost_model"],
            "objective": json.dumps(d["objective"], sort_keys=True),
            "searcher": searcher, "hparams": json.dumps(dict(hparams), sort_keys=True,
                                                        default=str),
            "seed": int(seed),
        }
        self.metric_names = env.evaluator.metric_names
        env.observers.append(self)

    def __call__(self, record: EvaluationRecord) -> None:
        space = self.env.space
        row = {**self.base, "step": record.step,
               "config_key": space.key(record.config) if record.valid else ""}
        for name in space.names:
            row[PARAM_PREFIX + name] = record.config.get(name)
        for name in self.metric_names:
            row[METRIC_PREFIX + name] = (record.metrics[name] if record.metrics is not None
                                         else float("nan"))
        row.update(reward=record.reward, feasible=record.feasible,
                   target_met=record.target_met, valid=record.valid,
                   wall_seconds=record.wall_seconds, **record.extra)
        fidelity = getattr(self.env.evaluator, "fidelity_of", None)
        if fidelity is not None:  # multi-fidelity evaluators: which cost model answered
            row["fidelity"] = fidelity(record.config) if record.valid else ""
        self.writer.append(row)

    def detach(self) -> None:
        if self in self.env.observers:
            self.env.observers.remove(self)
        self.writer.close()


def part_files(root: str | Path) -> list[Path]:
    return sorted(Path(root).glob("part-*.parquet"))


def load(root: str | Path) -> pd.DataFrame:
    """Every complete row of a dataset directory (or one Parquet file) as a DataFrame,
    sorted by run and step. Parts with different columns (other envs) are unioned."""
    root = Path(root)
    files = [root] if root.is_file() else part_files(root)
    if not files:
        raise FileNotFoundError(f"no dataset parts (part-*.parquet) in {root}")
    tables = [pq.read_table(f) for f in files]
    table = pa.concat_tables(tables, promote_options="permissive")
    df = table.to_pandas()
    return df.sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)


def param_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith(PARAM_PREFIX)]


def metric_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith(METRIC_PREFIX)]
