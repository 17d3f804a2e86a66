"""The evaluation dataset: one Parquet row per evaluation, for proxies and analysis.

A dataset is a directory of Parquet part files (``part-<run id>-<seq>.parquet``). A part is
written whole to a hidden temporary name and renamed into place, so a process killed at any
moment (even by SIGKILL) leaves only complete parts: every flushed evaluation and no partial
row. With the default ``flush_every=1`` every completed evaluation is flushed. The directory
opens as it is in pandas (:func:`load`), DuckDB (``read_parquet('DIR/*.parquet',
union_by_name=true)``) and polars (``pl.read_parquet('DIR/*.parquet')``).

Columns: ``run_id, env_id, env_version, workload, cost_model, objective, searcher,
hparams`` (JSON), ``seed, step, config_key``, one ``param_<name>`` per entry of the
evaluation's config (a design-point env's parameters; a sequential env's ``actions``, as
JSON, and ``episode_seed``), one ``metric_<name>`` per metric, ``reward, feasible,
target_met, valid, wall_seconds``, the env's own extras (``fidelity`` with a multi-fidelity
cost model, ``design`` for sequential envs), and ``env_spec``: the env's full spec as JSON
(id, every constructor parameter, workload and its hash; :mod:`archgym.contract`). Each row
alone re-creates its env and its design, which is what ``archgym replay`` checks.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from archgym.contract import ArchEnv, Evaluation
from archgym.io import atomic_path

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
        with atomic_path(self.root / name) as tmp:
            pq.write_table(table, tmp)
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
    """Observer of an env (any kind, through :mod:`archgym.contract` only) that writes each
    evaluation as a dataset row; ``searcher``, ``hparams`` and ``seed`` describe the run."""

    def __init__(self, env: ArchEnv, writer: DatasetWriter, searcher: str,
                 hparams: Mapping[str, Any], seed: int) -> None:
        self.writer = writer
        self.space = env.space if env.kind == "design" else None
        spec = env.env_spec()
        self.base = {
            "run_id": writer.run_id, "env_id": spec["id"], "env_version": spec["version"],
            "workload": spec["workload"], "cost_model": spec["cost_model"],
            "objective": json.dumps(spec["objective"], sort_keys=True),
            "searcher": searcher, "hparams": json.dumps(dict(hparams), sort_keys=True,
                                                        default=str),
            "seed": int(seed), "env_spec": json.dumps(spec, sort_keys=True),
        }
        self.metric_names = [m.name for m in env.metric_specs]
        self._unsubscribe = env.subscribe(self)

    def __call__(self, ev: Evaluation) -> None:
        row = {**self.base, "step": ev.step, "config_key": self.key(ev.config) if ev.valid
               else ""}
        for name, value in ev.config.items():
            row[PARAM_PREFIX + name] = (json.dumps(value) if isinstance(value, list | dict)
                                        else value)
        for name in self.metric_names:
            row[METRIC_PREFIX + name] = (ev.metrics[name] if ev.metrics is not None
                                         else float("nan"))
        row.update(reward=ev.reward, feasible=ev.feasible, target_met=ev.target_met,
                   valid=ev.valid, wall_seconds=ev.wall_seconds, **ev.extra)
        self.writer.append(row)

    def key(self, config: Mapping[str, Any]) -> str:
        if self.space is not None:
            return self.space.key(config)
        return json.dumps(list(config.values()), separators=(",", ":"), default=str)

    def detach(self) -> None:
        self._unsubscribe()
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
