"""Train, score, save and load proxies of an environment's evaluator.

A :class:`Proxy` maps designs of one env's :class:`DesignSpace` to its metrics. It is
trained from the standard dataset (any run, sweep or ``archgym dataset collect`` output):
rows of the env (and one workload) that a simulator answered, de-duplicated by design.
Targets are log-transformed where a metric is positive over the training set (errors then
scale with the value, which is what MAPE and rankings care about) and standardised.

Held-out scores per metric: RMSE, RMSE normalised by the metric's range in the test set,
MAPE, R^2 and Kendall tau between proxy and simulator (does the proxy rank designs the way
the simulator does: what a search really needs).

A saved proxy is a directory (``meta.json`` + ``model.joblib``) written to a temporary
sibling and renamed into place. ``meta.json`` records the env id and version, workload,
space, feature schema, metric specs, training-set hash, model kind and library versions;
:meth:`Proxy.check` refuses a different env, space, workload or missing metrics by name.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from archgym.dataset import METRIC_PREFIX, PARAM_PREFIX
from archgym.encoding import Configs, FeatureEncoder
from archgym.errors import ArchGymError
from archgym.evaluator import MetricSpec
from archgym.io import atomic_path
from archgym.proxy.models import Model, make_model
from archgym.space import DesignSpace

FORMAT = 1
CLIP_MARGIN = 0.1


def library_versions() -> dict[str, str]:
    import lightgbm
    import sklearn
    import torch

    import archgym

    return {"python": platform.python_version(), "numpy": np.__version__,
            "pandas": pd.__version__, "scikit-learn": sklearn.__version__,
            "lightgbm": lightgbm.__version__, "torch": torch.__version__,
            "joblib": joblib.__version__, "archgym": archgym.__version__}


@dataclass
class EnvInfo:
    """What a proxy must know of its env: id, version, workload, space, metrics, and the
    part of the env's spec that decides a design's metrics (``metric_spec_key``)."""

    env_id: str
    env_version: int
    workload: str
    space: DesignSpace
    metric_specs: tuple[MetricSpec, ...]
    spec_key: dict[str, Any] | None = None

    @classmethod
    def of(cls, env_id: str, env_kwargs: Mapping[str, Any] | None = None) -> EnvInfo:
        from archgym import registry
        from archgym.contract import design_env

        env = registry.make(env_id, **dict(env_kwargs or {}))
        try:
            base = design_env(env.unwrapped)
            spec = base.env_spec()
            return cls(env_id, int(spec["version"]), spec["workload"], base.space,
                       tuple(base.metric_specs), base.metric_spec_key())
        finally:
            env.close()


@dataclass
class Proxy:
    """A trained model plus everything needed to apply it safely to the right env."""

    model: Model
    encoder: FeatureEncoder
    metrics: tuple[str, ...]
    log_targets: tuple[bool, ...]
    y_mean: np.ndarray
    y_scale: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)
    #: (2, metrics) bounds of the transformed targets predictions are clipped to: the
    #: training range widened by ``CLIP_MARGIN`` of its span (an MLP must not extrapolate
    #: a log-latency into the astronomical; trees never leave the range anyway)
    y_clip: np.ndarray | None = None
    _post: tuple | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def space(self) -> DesignSpace:
        return self.encoder.space

    @property
    def kind(self) -> str:
        return self.model.kind

    @property
    def has_std(self) -> bool:
        return self.model.has_std

    @property
    def metric_specs(self) -> tuple[MetricSpec, ...]:
        return tuple(MetricSpec(**s) for s in self.meta["metric_specs"])

    def predict(self, configs: Configs, return_std: bool = False, prefix: str = ""):
        """Per-metric arrays of predictions for ``configs`` (dicts, or a DataFrame read
        from ``prefix + name`` columns). With ``return_std`` also per-metric ensemble
        spreads, in the metric's units (``ArchGymError`` for models without one)."""
        if return_std and not self.has_std:
            raise ArchGymError(f"proxy model {self.kind!r} has no uncertainty; use rf, gbt "
                               "or gp")
        values, zs = self.predict_matrix(self.encoder.encode(configs, prefix=prefix),
                                         return_std)
        mean = {m: values[:, j] for j, m in enumerate(self.metrics)}
        if not return_std:
            return mean
        std = {}
        for j, m in enumerate(self.metrics):
            std[m] = zs[:, j] * self.y_scale[j]
            if self.log_targets[j]:  # first-order: d exp(t) = exp(t) dt
                std[m] = mean[m] * std[m]
        return mean, std

    def predict_matrix(self, X: np.ndarray, return_std: bool = False
                       ) -> tuple[np.ndarray, np.ndarray | None]:
        """``(n, metrics)`` predictions in metric units for encoded rows ``X`` (and the
        model's standardised spread); each row's numbers do not depend on the others."""
        from archgym.proxy.kernels import to_metrics

        z, zs = self.model.predict(X, return_std=return_std)
        if self._post is None:
            n = len(self.metrics)
            lo, hi = ((self.y_clip[0], self.y_clip[1]) if self.y_clip is not None
                      else (np.full(n, -np.inf), np.full(n, np.inf)))
            self._post = tuple(np.ascontiguousarray(a, dtype=np.float64) for a in
                               (self.y_scale, self.y_mean, lo, hi)) + (
                np.asarray(self.log_targets, dtype=np.bool_),)
        return to_metrics(np.ascontiguousarray(z, dtype=np.float64), *self._post), zs

    def check(self, env_id: str | None = None, space: DesignSpace | None = None,
              workload: str | None = None, metrics: Sequence[str] | None = None,
              spec_key: Mapping[str, Any] | None = None) -> None:
        """Refuse an env it was not trained for, naming the mismatch. ``spec_key`` is the
        env's :meth:`~archgym.contract.EnvBase.metric_spec_key`: every parameter that decides
        a design's metrics must match (a knob fixed in training must not vary here)."""
        m = self.meta
        if env_id is not None and env_id != m["env_id"]:
            raise ArchGymError(f"proxy was trained for env {m['env_id']!r}, not {env_id!r}")
        if space is not None and space != self.space:
            ours, theirs = self.space.to_dict(strict=False), space.to_dict(strict=False)
            diff = sorted(set(ours["parameters"]) ^ set(theirs["parameters"]))
            diff += sorted(n for n in set(ours["parameters"]) & set(theirs["parameters"])
                           if ours["parameters"][n] != theirs["parameters"][n])
            what = (f"parameter(s) {', '.join(diff)} differ" if diff
                    else "constraints, groups or parameter order differ")
            raise ArchGymError(f"proxy's design space does not match the env's: {what} "
                               f"(proxy trained for {m['env_id']!r})")
        if workload and m.get("workload") and workload != m["workload"]:
            raise ArchGymError(f"proxy was trained on workload {m['workload']!r}, not "
                               f"{workload!r}")
        missing = [x for x in (metrics or ()) if x not in self.metrics]
        if missing:
            raise ArchGymError(f"proxy predicts {', '.join(self.metrics)}; the env also needs "
                               f"{', '.join(missing)}")
        ours = m.get("spec_key")
        if spec_key is not None and ours is not None:
            if spec_key["id"] != ours["id"]:
                raise ArchGymError(f"proxy was trained for env {ours['id']!r}, not "
                                   f"{spec_key['id']!r}")
            a, b = ours["kwargs"], spec_key["kwargs"]
            diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            if diff:
                raise ArchGymError("proxy was trained on an env with other parameters: " +
                                   "; ".join(f"{k}={a.get(k)!r} in training, {b.get(k)!r} here"
                                             for k in diff))
            if spec_key["workload_hash"] != ours["workload_hash"]:
                raise ArchGymError("proxy was trained on other workload content (the "
                                   "workload's hash differs)")

    # ---- persistence
    def save(self, path: str | Path) -> Path:
        """Write the proxy directory atomically (a temporary sibling renamed into place)."""
        with atomic_path(path) as tmp:
            tmp.mkdir()
            (tmp / "meta.json").write_text(json.dumps(self.meta, indent=2, default=str))
            joblib.dump({"format": FORMAT, "model": self.model, "metrics": self.metrics,
                         "log_targets": self.log_targets, "y_mean": self.y_mean,
                         "y_scale": self.y_scale, "y_clip": self.y_clip}, tmp / "model.joblib")
        return Path(path)


def load(path: str | Path, env_id: str | None = None, space: DesignSpace | None = None,
         workload: str | None = None, spec_key: Mapping[str, Any] | None = None) -> Proxy:
    """Load a saved proxy; with ``env_id``/``space``/``workload``/``spec_key`` refuse a
    mismatch."""
    path = Path(path)
    if not (path / "meta.json").is_file() or not (path / "model.joblib").is_file():
        raise ArchGymError(f"{path} is not a saved proxy (needs meta.json and model.joblib)")
    meta = json.loads((path / "meta.json").read_text())
    blob = joblib.load(path / "model.joblib")
    if blob.get("format") != FORMAT:
        raise ArchGymError(f"{path}: proxy format {blob.get('format')} is not {FORMAT}")
    proxy = Proxy(blob["model"], FeatureEncoder(DesignSpace.from_dict(meta["space"])),
                  tuple(blob["metrics"]), tuple(blob["log_targets"]), blob["y_mean"],
                  blob["y_scale"], meta, blob.get("y_clip"))
    if proxy.encoder.schema() != meta["feature_schema"]:
        raise ArchGymError(f"{path}: the feature schema saved with the proxy does not match "
                           "this archgym's encoding of its space; retrain it")
    proxy.check(env_id, space, workload, spec_key=spec_key)
    return proxy


# -------------------------------------------------------------------------- data


def training_frame(data: str | Path | pd.DataFrame, env_id: str,
                   workload: str | None = None) -> pd.DataFrame:
    """The dataset rows a proxy of ``env_id`` may learn from: this env (and one workload),
    valid, finite metrics, answered by a simulator (not a proxy), one row per design."""
    from archgym import dataset

    df = data if isinstance(data, pd.DataFrame) else dataset.load(data)
    if "env_id" in df.columns:
        envs = sorted(set(df["env_id"].dropna()))
        df = df[df["env_id"] == env_id]
        if df.empty:
            raise ArchGymError(f"dataset has no rows of env {env_id!r}; it has "
                               f"{', '.join(envs) or '(none)'}")
    if "valid" in df.columns:
        df = df[df["valid"].astype(bool)]
    if "cost_model" in df.columns:  # a proxy's own answers are not ground truth
        df = df[df["cost_model"] != "proxy"]
    if "fidelity" in df.columns:
        df = df[df["fidelity"].fillna("") != "proxy"]
    if "workload" in df.columns:
        loads = sorted(set(df["workload"].astype(str)))
        if workload is not None:
            df = df[df["workload"].astype(str) == str(workload)]
            if df.empty:
                raise ArchGymError(f"dataset has no rows of workload {workload!r}; it has "
                                   f"{', '.join(loads)}")
        elif len(loads) > 1:
            raise ArchGymError(f"dataset mixes workloads {', '.join(loads)}; choose one "
                               "(a proxy models one workload)")
    metric_cols = [c for c in df.columns if c.startswith(METRIC_PREFIX)]
    if metric_cols:
        finite = np.isfinite(df[metric_cols].to_numpy(dtype=np.float64)).all(axis=1)
        df = df[finite]
    key = ("config_key" if "config_key" in df.columns
           else [c for c in df.columns if c.startswith(PARAM_PREFIX)])
    df = df.drop_duplicates(subset=key, keep="first")
    if df.empty:
        raise ArchGymError(f"no usable rows of {env_id!r} (valid, simulator-evaluated, finite)")
    return df.reset_index(drop=True)


def split(df: pd.DataFrame, test_fraction: float, seed: int
          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded random train/test split of distinct designs."""
    if not 0.0 < test_fraction < 1.0:
        raise ArchGymError(f"test fraction must be in (0, 1), got {test_fraction}")
    order = np.random.default_rng(seed).permutation(len(df))
    n_test = max(1, int(round(test_fraction * len(df))))
    if n_test >= len(df):
        raise ArchGymError(f"{len(df)} designs are too few to hold out {test_fraction:.0%}")
    return (df.iloc[order[n_test:]].reset_index(drop=True),
            df.iloc[order[:n_test]].reset_index(drop=True))


def _targets(df: pd.DataFrame, metrics: Sequence[str]) -> np.ndarray:
    missing = [m for m in metrics if METRIC_PREFIX + m not in df.columns]
    if missing:
        raise ArchGymError(f"dataset has no column for metric(s) {', '.join(missing)}")
    return df[[METRIC_PREFIX + m for m in metrics]].to_numpy(dtype=np.float64)


def train(data: str | Path | pd.DataFrame, env_id: str, metrics: Sequence[str] | None = None,
          model: str = "rf", seed: int = 0, env_kwargs: Mapping[str, Any] | None = None,
          env: EnvInfo | None = None, workload: str | None = None,
          **hparams: Any) -> Proxy:
    """Train a ``model`` proxy of ``env_id``'s metrics (default: all) on a dataset.

    The space and metric specs come from the env itself (``registry.make(env_id,
    **env_kwargs)``, or ``env`` if given), so the proxy can be checked against it later.
    """
    info = env or EnvInfo.of(env_id, env_kwargs)
    all_metrics = tuple(s.name for s in info.metric_specs)
    metrics = tuple(metrics or all_metrics)
    unknown = [m for m in metrics if m not in all_metrics]
    if unknown:
        raise ArchGymError(f"{env_id} has no metric {unknown[0]!r}; metrics: "
                           f"{', '.join(all_metrics)}")
    df = training_frame(data, env_id, workload if workload is not None
                        else (info.workload or None))
    encoder = FeatureEncoder(info.space)
    X = encoder.encode(df, prefix=PARAM_PREFIX)
    Y = _targets(df, metrics)
    log_targets = tuple(bool(np.all(Y[:, j] > 0)) for j in range(Y.shape[1]))
    T = np.where(np.array(log_targets), np.log(np.where(Y > 0, Y, 1.0)), Y)
    y_mean = T.mean(axis=0)
    y_scale = T.std(axis=0)
    y_scale = np.where(y_scale > 0, y_scale, 1.0)
    span = T.max(axis=0) - T.min(axis=0)
    y_clip = np.stack([T.min(axis=0) - CLIP_MARGIN * span, T.max(axis=0) + CLIP_MARGIN * span])
    start = time.perf_counter()
    fitted = make_model(model, seed=seed, **hparams).fit(X, (T - y_mean) / y_scale)
    digest = hashlib.sha256(np.ascontiguousarray(X).tobytes()
                            + np.ascontiguousarray(Y).tobytes()).hexdigest()
    specs = {s.name: s for s in info.metric_specs}
    meta = {
        "format": FORMAT, "env_id": env_id, "env_version": info.env_version,
        "env_kwargs": dict(env_kwargs or {}), "spec_key": info.spec_key,
        "workload": info.workload or
        (str(df["workload"].iloc[0]) if "workload" in df.columns else ""),
        "space": info.space.to_dict(), "feature_schema": encoder.schema(),
        "metrics": list(metrics),
        "metric_specs": [{"name": m, "unit": specs[m].unit, "direction": specs[m].direction,
                          "scale": specs[m].scale} for m in metrics],
        "log_targets": list(log_targets), "model": model, "hparams": hparams, "seed": seed,
        "n_train": len(df), "training_hash": digest,
        "train_seconds": round(time.perf_counter() - start, 3),
        "libraries": library_versions(),
    }
    return Proxy(fitted, encoder, metrics, log_targets, y_mean, y_scale, meta, y_clip)


# -------------------------------------------------------------------------- scores


def scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """RMSE, RMSE / range of ``y_true``, MAPE, R^2 and Kendall tau of one metric."""
    from scipy.stats import kendalltau

    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    err = y_pred - y_true
    rmse = float(np.sqrt(np.mean(err ** 2)))
    span = float(y_true.max() - y_true.min())
    nonzero = y_true != 0
    var = float(np.sum((y_true - y_true.mean()) ** 2))
    tau = kendalltau(y_true, y_pred).statistic if span > 0 else math.nan
    return {"n": len(y_true), "rmse": rmse, "nrmse": rmse / span if span > 0 else math.nan,
            "mape": float(np.mean(np.abs(err[nonzero] / y_true[nonzero])))
            if nonzero.any() else math.nan,
            "r2": 1.0 - float(np.sum(err ** 2)) / var if var > 0 else math.nan,
            "kendall_tau": float(tau)}


def evaluate(proxy: Proxy, data: str | Path | pd.DataFrame,
             workload: str | None = None) -> dict[str, dict[str, float]]:
    """Scores of ``proxy`` per metric on the dataset's rows of its env."""
    df = training_frame(data, proxy.meta["env_id"], workload or proxy.meta.get("workload") or None)
    pred = proxy.predict(df, prefix=PARAM_PREFIX)
    Y = _targets(df, proxy.metrics)
    return {m: scores(Y[:, j], pred[m]) for j, m in enumerate(proxy.metrics)}


def fit_and_score(data: str | Path | pd.DataFrame, env_id: str, model: str = "rf",
                  test_fraction: float = 0.2, seed: int = 0,
                  progress: Callable[[str | None], None] | None = None, **kw: Any
                  ) -> tuple[Proxy, dict[str, dict[str, float]]]:
    """Train on a seeded random split of the designs, score on the held-out rest; the
    held-out scores are also stored in the proxy's metadata. ``progress`` is told each
    phase as it starts (``None`` when the last ends)."""
    say = progress or (lambda phase: None)
    say("reading the dataset")
    df = training_frame(data, env_id, kw.get("workload"))
    train_df, test_df = split(df, test_fraction, seed)
    say(f"training a {model} proxy on {len(train_df)} designs")
    proxy = train(train_df, env_id, model=model, seed=seed, **kw)
    say(f"scoring it on {len(test_df)} held-out designs")
    report = evaluate(proxy, test_df, kw.get("workload"))
    say(None)
    proxy.meta["held_out"] = {"test_fraction": test_fraction, "scores": report}
    return proxy, report
