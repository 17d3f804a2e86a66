"""Replay: re-create logged designs from the dataset alone and check that they evaluate to
the logged metrics and reward (CompilerGym's ``validate``).

Every dataset row carries its env's full spec (``env_spec``: id, every constructor
parameter, workload hash) and its design (the ``param_*`` columns), so a row alone re-creates
the env (:func:`archgym.registry.make_from_spec`) and the design's evaluation
(``env.evaluate(config)``). A row *differs* when a metric or the reward is not equal (within
``rtol``, relative; 0 means bit for bit), when the env can no longer be made, or when its
workload's content changed (the hash).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from archgym import dataset
from archgym.errors import ArchGymError


@dataclass
class ReplayReport:
    """How many rows were replayed and which differ (``details``: one dict per mismatch)."""

    rows: int = 0
    mismatches: int = 0
    skipped: int = 0
    details: list[dict[str, Any]] = field(default_factory=list)

    def summary(self, limit: int = 20) -> dict[str, Any]:
        return {"rows": self.rows, "mismatches": self.mismatches, "skipped": self.skipped,
                "details": self.details[:limit]}


def _value(v: Any) -> Any:
    """A logged parameter back to a Python value (Parquet may widen ints to floats)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _config(row: Mapping[str, Any], columns: list[str]) -> dict[str, Any]:
    n = len(dataset.PARAM_PREFIX)
    return {c[n:]: _value(row[c]) for c in columns
            if row[c] is not None and not (isinstance(row[c], float) and math.isnan(row[c]))}


def _same(a: float, b: float, rtol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= rtol * max(abs(a), abs(b))


def replay(data: str | Path | pd.DataFrame, rows: int | None = None, seed: int = 0,
           rtol: float = 0.0) -> ReplayReport:
    """Re-evaluate ``rows`` valid rows of a dataset (a seeded sample; all if ``None``)."""
    from archgym import registry

    df = data if isinstance(data, pd.DataFrame) else dataset.load(data)
    if "env_spec" not in df.columns:
        raise ArchGymError("this dataset has no env_spec column (written by an older "
                           "archgym): its rows cannot be re-created")
    report = ReplayReport()
    ok = df["valid"].astype(bool) & df["env_spec"].notna()
    report.skipped = int((~ok).sum())
    df = df[ok]
    if rows is not None and rows < len(df):
        pick = np.sort(np.random.default_rng(seed).choice(len(df), size=rows, replace=False))
        df = df.iloc[pick]
    params = dataset.param_columns(df)
    for spec_text, group in df.groupby("env_spec", sort=False):
        spec = json.loads(spec_text)
        try:
            env = registry.make_from_spec(spec)
        except Exception as e:  # noqa: BLE001 - any failure to re-create is a mismatch
            for _, row in group.iterrows():
                report.rows += 1
                report.mismatches += 1
                report.details.append({"run_id": row["run_id"], "step": int(row["step"]),
                                       "why": f"cannot make the env: {e}"})
            continue
        base = env.unwrapped
        changed = base.env_spec()["workload_hash"] != spec.get("workload_hash", "")
        for _, row in group.iterrows():
            report.rows += 1
            where = {"run_id": row["run_id"], "step": int(row["step"])}
            if changed:
                report.mismatches += 1
                report.details.append({**where, "why": "the workload's content changed"})
                continue
            try:
                metrics = base.evaluate(_config(row, params))
            except Exception as e:  # noqa: BLE001 - a design that no longer evaluates
                report.mismatches += 1
                report.details.append({**where, "why": f"evaluation failed: {e}"})
                continue
            diffs = {m: {"logged": float(row[dataset.METRIC_PREFIX + m]), "now": v}
                     for m, v in metrics.items()
                     if not _same(float(row[dataset.METRIC_PREFIX + m]), v, rtol)}
            reward = float(base.objective.reward(metrics))
            if not _same(float(row["reward"]), reward, rtol):
                diffs["reward"] = {"logged": float(row["reward"]), "now": reward}
            if diffs:
                report.mismatches += 1
                report.details.append({**where, "why": "values differ", "diffs": diffs})
        env.close()
    return report
