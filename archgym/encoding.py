"""The mixed one-hot encoding of designs, derived from the :class:`DesignSpace` alone
(``space.encoding()``): the features proxies learn from and BO's GP kernels compare.

No environment or searcher writes its own encoding: a proxy for any env, and BO on any
space, see the same kind of features.

- ``Categorical``: one-hot, one feature per choice (``name=value``); no order is implied.
- ``Ordinal`` with positive numbers spanning a factor of 4 or more (powers of two, buffer
  sizes): ``log(v)`` scaled to ``[0, 1]``, so neighbours a factor apart are equally far.
- Other numeric ``Ordinal``: the value scaled linearly to ``[0, 1]``; non-numeric ordinals
  use their index scaled to ``[0, 1]``.
- ``Integer`` / ``Real``: the space's unit encoding (log-spaced where the parameter is).

:meth:`FeatureEncoder.decode` inverts the encoding (used to test it, and to read features
back as designs).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from archgym.errors import ArchGymError
from archgym.space import Categorical, DesignSpace, Ordinal

Configs = Sequence[Mapping[str, Any]] | pd.DataFrame


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


class FeatureEncoder:
    """Designs (dicts or a DataFrame) -> a float matrix with one named column per feature."""

    def __init__(self, space: DesignSpace) -> None:
        self.space = space
        self.blocks: list[dict[str, Any]] = []
        for p in space:
            if isinstance(p, Categorical):
                enc = "onehot"
            elif isinstance(p, Ordinal) and _numeric(p.values):
                lo, hi = min(p.values), max(p.values)
                enc = "log" if lo > 0 and hi / lo >= 4 else "linear"
            elif isinstance(p, Ordinal):
                enc = "index"
            else:
                enc = "unit"
            block: dict[str, Any] = {"parameter": p.name, "encoding": enc}
            if enc == "onehot":
                block["features"] = [f"{p.name}={v}" for v in p.values]
                block["lut"] = {v: i for i, v in enumerate(p.values)}
            else:
                block["features"] = [p.name]
                if enc in ("log", "linear", "index"):
                    block["lut"] = {v: self._scalar(enc, p.values, i)
                                    for i, v in enumerate(p.values)}
            self.blocks.append(block)
        self.columns = [f for b in self.blocks for f in b["features"]]
        # the one-row path: (name, first column, one-hot?, value -> code or None, parameter)
        self._row_plan, at = [], 0
        for b in self.blocks:
            p = self.space[b["parameter"]]
            self._row_plan.append((p.name, at, b["encoding"] == "onehot", b.get("lut"), p))
            at += len(b["features"])
        # per parameter: grid index -> feature row (None for continuous parameters)
        self._tables = [self._table(b) for b in self.blocks]
        self._stacked, self._offsets = self._stack()

    def _table(self, block: dict[str, Any]) -> np.ndarray | None:
        p = self.space[block["parameter"]]
        if block["encoding"] == "onehot":
            return np.eye(p.cardinality)
        if "lut" in block:
            return np.array([[block["lut"][v]] for v in p.values])
        if p.finite:  # Integer: its unit encoding, one row per value
            return np.array([[p.to_unit(p.value_at(i))] for i in range(p.cardinality)])
        return None

    def encode_index(self, Z: np.ndarray) -> np.ndarray:
        """Features of designs given as rows of grid indices (a ``Real`` parameter's column
        holds its unit-cube coordinate instead): the fast path for large candidate sets
        and for searchers that propose index rows."""
        if self._stacked is not None:  # finite space: one gather from the stacked table
            flat, owner, width, at = self.__dict__.get("_gather_at") or self._gather()
            return flat[np.asarray(Z, dtype=np.int64)[:, owner] * width + at]
        Z = np.asarray(Z, dtype=np.float64)
        cols = [Z[:, [j]] if t is None else t[Z[:, j].astype(np.int64)]
                for j, t in enumerate(self._tables)]
        return np.concatenate(cols, axis=1)

    def _gather(self) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
        """The flattened stacked table, and per feature column the parameter it belongs
        to and where its value at index 0 sits in it (made on first use: encoders saved
        with older proxies lack it)."""
        owner = np.repeat(np.arange(len(self._tables)), [t.shape[1] for t in self._tables])
        width = self._stacked.shape[1]
        self._gather_at = (self._stacked.ravel(), owner, width,
                           self._offsets[owner] * width + np.arange(width))
        return self._gather_at

    def _stack(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Every parameter's table in one: row ``offset_j + i`` holds parameter ``j``'s
        features at index ``i`` in their columns and zeros elsewhere, so each feature of a
        design is one element of it (:meth:`_gather`): the per-parameter look-up's numbers,
        in one gather."""
        if any(t is None for t in self._tables):
            return None, None
        stacked = np.zeros((sum(len(t) for t in self._tables), len(self.columns)))
        offsets, row, col = [], 0, 0
        for t in self._tables:
            stacked[row:row + len(t), col:col + t.shape[1]] = t
            offsets.append(row)
            row, col = row + len(t), col + t.shape[1]
        return stacked, np.array(offsets, dtype=np.int64)

    @staticmethod
    def _scalar(enc: str, values: Sequence[Any], i: int) -> float:
        if len(values) == 1:
            return 0.0
        if enc == "index":
            return i / (len(values) - 1)
        f = math.log if enc == "log" else float
        lo, hi = f(min(values)), f(max(values))
        return (f(values[i]) - lo) / (hi - lo)

    @property
    def n_features(self) -> int:
        return len(self.columns)

    def schema(self) -> list[dict[str, Any]]:
        """Feature name, parameter and encoding of every column (saved with a proxy)."""
        return [{"parameter": b["parameter"], "encoding": b["encoding"],
                 "features": list(b["features"])} for b in self.blocks]

    def _column(self, configs: Configs, name: str, prefix: str) -> list[Any]:
        if isinstance(configs, pd.DataFrame):
            col = prefix + name
            if col not in configs.columns:
                raise ArchGymError(f"designs have no column {col!r} for parameter {name!r}")
            return configs[col].tolist()
        try:
            return [c[name] for c in configs]
        except KeyError:
            raise ArchGymError(f"a design has no parameter {name!r}; parameters are "
                               f"{', '.join(self.space.names)}") from None

    def encode_row(self, config: Mapping[str, Any], out: np.ndarray | None = None
                   ) -> np.ndarray:
        """One design's feature row, without pandas or per-column lists (what a searcher's
        one-at-a-time proposals cost); the same numbers as :meth:`encode`."""
        row = np.zeros(self.n_features) if out is None else out
        for name, at, onehot, lut, p in self._row_plan:
            try:
                v = config[name]
            except KeyError:
                raise ArchGymError(f"a design has no parameter {name!r}; parameters are "
                                   f"{', '.join(self.space.names)}") from None
            if lut is None:
                row[at] = p.to_unit(v)
                continue
            try:
                code = lut[v]
            except (KeyError, TypeError):
                raise ArchGymError(f"parameter {name!r}: value {v!r} is not allowed; "
                                   f"allowed: {p.allowed()}") from None
            if onehot:
                row[at + code] = 1.0
            else:
                row[at] = code
        return row

    def encode(self, configs: Configs, prefix: str = "") -> np.ndarray:
        """``(n, n_features)`` float64 matrix. A DataFrame is read from ``prefix + name``
        columns (``prefix="param_"`` for a dataset); a list of dicts row by row
        (:meth:`encode_row`)."""
        n = len(configs)
        if not isinstance(configs, pd.DataFrame):
            out = np.zeros((n, self.n_features))
            for i, c in enumerate(configs):
                self.encode_row(c, out[i])
            return out
        out = np.zeros((n, self.n_features))
        at = 0
        for b in self.blocks:
            p = self.space[b["parameter"]]
            values = self._column(configs, p.name, prefix)
            width = len(b["features"])
            if "lut" in b:
                lut = b["lut"]
                try:
                    codes = [lut[v] for v in values]
                except (KeyError, TypeError):
                    bad = next(v for v in values if not _hashable_in(v, lut))
                    raise ArchGymError(f"parameter {p.name!r}: value {bad!r} is not allowed; "
                                       f"allowed: {p.allowed()}") from None
                if b["encoding"] == "onehot":
                    out[np.arange(n), at + np.asarray(codes, dtype=np.int64)] = 1.0
                else:
                    out[:, at] = codes
            else:
                out[:, at] = [p.to_unit(v) for v in values]
            at += width
        return out

    def decode(self, X: np.ndarray) -> list[dict[str, Any]]:
        """Feature rows back to designs: arg-max of one-hot blocks, nearest encoded value
        of ordinals, the unit encoding's inverse otherwise."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ArchGymError(f"features must have shape (n, {self.n_features}), got {X.shape}")
        cols: dict[str, list[Any]] = {}
        at = 0
        for b in self.blocks:
            p = self.space[b["parameter"]]
            width = len(b["features"])
            if b["encoding"] == "onehot":
                idx = np.argmax(X[:, at:at + width], axis=1)
                cols[p.name] = [p.values[i] for i in idx]
            elif "lut" in b:
                grid = np.array([b["lut"][v] for v in p.values])
                idx = np.argmin(np.abs(X[:, at:at + 1] - grid[None, :]), axis=1)
                cols[p.name] = [p.values[i] for i in idx]
            else:
                cols[p.name] = [p.from_unit(u) for u in X[:, at]]
            at += width
        return [dict(zip(cols, row, strict=True)) for row in zip(*cols.values(), strict=True)]


def _hashable_in(v: Any, lut: Mapping[Any, Any]) -> bool:
    try:
        return v in lut
    except TypeError:
        return False
