"""The evaluation dataset: one Parquet row per evaluation, for proxies and analysis.

A dataset is a directory of Parquet parts (``part-<run id>-<seq>.parquet``, many rows each)
and, for runs in progress or killed, their write-ahead logs (``part-<run id>-<seq>.wal``).

Crash safety without one file per row: :class:`DatasetWriter` appends each completed
evaluation to the run's write-ahead log, one JSON line flushed to the operating system at
once (so a process killed at any moment, even by SIGKILL, loses no completed evaluation; an
unterminated last line is the only thing a kill can leave, and readers drop it). Every
``part_rows`` rows, and when the run closes, the log's rows become one Parquet part, written
whole to a hidden temporary name and renamed into place; only then is the log deleted. A log
whose part exists (a kill between the two) is stale and ignored, so no row is read twice.
``archgym run`` with 50 evaluations leaves one part; a killed run leaves its log, which
:func:`load` (and so ``archgym replay``, ``report`` and ``proxy train``) reads like a part
and :func:`compact` turns into parts. Re-running a run (same run id) replaces its rows.

The directory opens as it is in pandas (:func:`load`), DuckDB (``read_parquet('DIR/*.parquet',
union_by_name=true)``) and polars (``pl.read_parquet('DIR/*.parquet')``); those two see the
compacted parts only (run :func:`compact` first after a crash).

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
import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from archgym.contract import ArchEnv, Evaluation, jsonable
from archgym.io import atomic_path

PARAM_PREFIX, METRIC_PREFIX = "param_", "metric_"
PART_ROWS = 10_000  #: rows per Parquet part
_NAME = re.compile(r"^part-(?P<stem>.+-\d{6})\.(?P<ext>parquet|wal)$")


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


class DatasetWriter:
    """Appends rows to a dataset directory: a write-ahead log per part, compacted into a
    Parquet part every ``part_rows`` rows and on :meth:`close` (see the module docstring)."""

    def __init__(self, root: str | Path, run_id: str | None = None,
                 part_rows: int = PART_ROWS) -> None:
        if part_rows < 1:
            raise ValueError("part_rows must be >= 1")
        self.root = Path(root)
        self.run_id = run_id or new_run_id()
        self.part_rows = part_rows
        self._rows: list[dict[str, Any]] = []
        self._seq = 0
        self._wal: IO[str] | None = None
        self._started = False
        self.rows_written = 0  #: rows logged (each is safe from a crash once counted)

    def _path(self, ext: str) -> Path:
        return self.root / f"part-{self.run_id}-{self._seq:06d}.{ext}"

    def _start(self) -> None:
        """Remove what an earlier run with this id left: this run replaces it."""
        self.root.mkdir(parents=True, exist_ok=True)
        for f in self.root.glob(f"part-{self.run_id}-*"):
            if _NAME.match(f.name):
                f.unlink(missing_ok=True)
        self._started = True

    def append(self, row: Mapping[str, Any]) -> None:
        if not self._started:
            self._start()
        row = {k: jsonable(v) for k, v in row.items()}
        if self._wal is None:
            self._wal = open(self._path("wal"), "w", encoding="utf-8")  # noqa: SIM115
        self._wal.write(json.dumps(row, allow_nan=True) + "\n")
        self._wal.flush()  # in the OS's hands: survives the process being killed
        self._rows.append(row)
        self.rows_written += 1
        if len(self._rows) >= self.part_rows:
            self.flush()

    def flush(self) -> None:
        """Write the logged rows as one Parquet part and drop their log."""
        if not self._rows:
            return
        assert self._wal is not None
        self._wal.close()
        self._wal = None
        write_part(self._path("parquet"), self._rows)
        self._path("wal").unlink(missing_ok=True)
        self._seq += 1
        self._rows.clear()

    def close(self) -> None:
        self.flush()

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_part(path: Path, rows: list[dict[str, Any]]) -> None:
    """``rows`` as one Parquet file at ``path``, atomically."""
    with atomic_path(path) as tmp:
        pq.write_table(pa.Table.from_pylist(rows), tmp)


def read_wal(path: str | Path) -> list[dict[str, Any]]:
    """The complete rows of a write-ahead log (an unterminated or torn last line, all a
    kill can leave, is dropped)."""
    text = Path(path).read_text(encoding="utf-8")
    lines = text.split("\n")
    rows = []
    for i, line in enumerate(lines[:-1]):  # the piece after the last newline is unfinished
        try:
            rows.append(json.loads(line))
        except ValueError:
            if i < len(lines) - 2:
                raise ValueError(f"{path}:{i + 1}: corrupt dataset log line") from None
    return rows


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
    """The compacted Parquet parts of a dataset directory."""
    return sorted(Path(root).glob("part-*.parquet"))


def log_files(root: str | Path) -> list[Path]:
    """Write-ahead logs not yet compacted (runs in progress or killed); a log whose part
    exists is stale (killed between writing the part and deleting the log) and left out."""
    root = Path(root)
    return [f for f in sorted(root.glob("part-*.wal"))
            if not f.with_suffix(".parquet").exists()]


def compact(root: str | Path) -> int:
    """Turn the logs of killed runs into Parquet parts (never while their run is still
    writing: a sweep or collection holds the directory's lock); returns the parts written."""
    n = 0
    for log in log_files(root):
        rows = read_wal(log)
        if rows:
            write_part(log.with_suffix(".parquet"), rows)
            n += 1
        log.unlink(missing_ok=True)
    for stale in Path(root).glob("part-*.wal"):
        stale.unlink(missing_ok=True)
    return n


def load(root: str | Path) -> pd.DataFrame:
    """Every complete row of a dataset directory (or one Parquet file) as a DataFrame,
    sorted by run and step: the parts and the logs of runs not yet compacted. Parts with
    different columns (other envs) are unioned."""
    root = Path(root)
    if root.is_file():
        tables = [pq.read_table(root)]
    else:
        tables = [pq.read_table(f) for f in part_files(root)]
        tables += [pa.Table.from_pylist(rows) for rows in map(read_wal, log_files(root))
                   if rows]
    if not tables:
        raise FileNotFoundError(f"no dataset parts (part-*.parquet) in {root}")
    table = pa.concat_tables(tables, promote_options="permissive")
    df = table.to_pandas()
    return df.sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)


def param_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith(PARAM_PREFIX)]


def metric_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith(METRIC_PREFIX)]
