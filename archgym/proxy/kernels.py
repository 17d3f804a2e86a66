"""Fast inference for trained proxy models: what makes a proxy pay off inside a search loop.

A searcher asks for one design at a time. For one row, the libraries' ``predict`` spends
most of its time on input checks and dispatch: on DRAM-v0 (7 metrics), 8-15 ms for the
scikit-learn forest, 16-28 ms for the LightGBM boosters, 0.6-1 ms for the GPs and 30-44 us
for torch, on a loaded 2-core machine (``experiments/benchmarks/proxy_loop.py``,
``docs/proxy.md``). Each kernel here is
compiled once from the trained model. It computes every row on its own, so a design's
prediction does not depend on the batch it came in:

- :class:`TreeKernel` (``rf``, ``gbt``): every tree flattened into node records
  ``(threshold, feature, left, right)`` and walked by a numba loop. scikit-learn trees
  compare the float32-cast feature with a float64 threshold (sklearn casts ``X`` to
  float32). LightGBM compares float64 features with float64 thresholds read from its
  dumped model (``Booster.dump_model`` prints thresholds and leaf values with 17
  significant digits, so they round-trip exactly) and follows its missing-value rules
  (``missing_type`` Zero / NaN go to ``default_left``). Small-tree ensembles (LightGBM)
  are scored with QuickScorer bit masks instead of the walk (32-bit masks for trees of
  up to 32 leaves, LightGBM's default 31: half the memory a row streams through). Sums
  run in the libraries' order (trees in sequence from 0.0; sklearn divides the sum by
  the tree count; a LightGBM proxy's members are averaged left to right, in the same
  compiled call as their sums), so predictions are bit for bit those of
  ``RandomForestRegressor.predict`` and ``LGBMRegressor.predict``.
- :class:`MLPKernel` (``mlp``): the trained float32 weights in a numba loop, in float32,
  with SiLU's ``exp`` by the Cephes polynomial (:func:`_silu`), so a row's floats are the
  same on every machine. torch's float32 GEMM sums in another order and uses its own
  vectorised ``exp``, so the two agree to float32 rounding, not bit for bit (tested:
  ``|diff| <= 1e-5 * (1 + |y|)`` on the standardised outputs).
- :class:`GPKernel` (``gp``): the posterior mean ``k(x, X) @ alpha`` with the fitted
  Matern-5/2 x constant + white kernel (Rasmussen & Williams 2006, eqs. 2.25 and 4.17),
  with the training inputs pre-divided by the length scales; without std, every output's
  GP in one compiled call (a call per GP cost more than its arithmetic). The std comes from the
  stored Cholesky factor (eq. 2.26: ``k(x,x) - v.v`` with ``v = L^-1 k(X, x)``). scipy's
  ``cdist`` and BLAS sum in another order than this loop, and ``exp`` is the Cephes
  polynomial (:func:`_matern`), so agreement with ``GaussianProcessRegressor.predict`` is
  to float64 rounding, not bit for bit (tested against the bound
  ``4 n eps sum |k_j alpha_j|``).
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

#: bumped when a kernel's layout changes: a kernel saved with a proxy under another
#: version is rebuilt from the model on load
VERSION = 3

# LightGBM's kZeroThreshold: |x| <= this counts as zero for missing_type "Zero"
LGB_ZERO = 1e-35
MISSING = {"None": 0, "Zero": 1, "NaN": 2}


# ----------------------------------------------------------------------- tree ensembles


@numba.njit(cache=True)
def _leaf(x, node, nodes, missing, default_left, check_missing):
    """The leaf row ``x`` reaches from ``node``. ``nodes`` rows are ``(threshold, feature,
    left, right)``: one node, one cache line (feature < 0 marks a leaf)."""
    while True:
        f = int(nodes[node, 1])
        if f < 0:
            return node
        v = x[f]
        if check_missing:
            m = missing[node]
            if m != 2 and math.isnan(v):
                v = 0.0
            if (m == 1 and -LGB_ZERO <= v <= LGB_ZERO) or (m == 2 and math.isnan(v)):
                node = int(nodes[node, 2]) if default_left[node] else int(nodes[node, 3])
                continue
        node = int(nodes[node, 2]) if v <= nodes[node, 0] else int(nodes[node, 3])


@numba.njit(cache=True)
def _tree_sums(X, roots, group, n_groups, nodes, missing, default_left, check_missing,
               value):
    """Per row and group, the sum over the group's trees (in order, from 0.0) of the
    reached leaves' value vectors: ``(n, n_groups, n_outputs)``."""
    n, n_out = X.shape[0], value.shape[1]
    out = np.zeros((n, n_groups, n_out))
    for t in range(roots.shape[0]):  # tree-major: a tree stays in cache over the rows;
        g = group[t]                  # each row still adds its trees in order
        for i in range(n):
            leaf = _leaf(X[i], roots[t], nodes, missing, default_left, check_missing)
            for k in range(n_out):
                out[i, g, k] += value[leaf, k]
    return out


@numba.njit(cache=True)
def _tree_leaves(X, roots, nodes, missing, default_left, check_missing, value):
    """Per row and tree, the reached leaf's value vector: ``(trees, n, n_outputs)``."""
    n, n_out, n_trees = X.shape[0], value.shape[1], roots.shape[0]
    out = np.empty((n_trees, n, n_out))
    for t in range(n_trees):
        for i in range(n):
            leaf = _leaf(X[i], roots[t], nodes, missing, default_left, check_missing)
            for k in range(n_out):
                out[t, i, k] = value[leaf, k]
    return out


@numba.njit(cache=True)
def _qs_sums(X, feats, bounds, starts, masks, leaf_at, value, group):
    """QuickScorer (Lucchese et al., SIGIR 2015): a tree's exit leaf is the leftmost leaf
    not in the left subtree of any node whose test fails. ``masks[starts[f] + r]`` holds,
    per tree, the leaves left after the failed tests of feature ``feats[f]``'s ``r``
    smallest thresholds (``bounds`` per feature), so a row costs one AND per tree and
    feature it exceeds a threshold of, instead of a walk with a branch per node.
    ``(n, groups)``: each group's trees (``group``: the first tree of each, then the tree
    count) summed in order from 0.0."""
    n, n_trees, n_groups = X.shape[0], masks.shape[1], group.shape[0] - 1
    out = np.empty((n, n_groups))
    live = np.empty(n_trees, masks.dtype)
    for i in range(n):
        live[:] = masks[0]  # the first row fails no test: every leaf
        for f in range(feats.shape[0]):
            v = X[i, feats[f]]
            lo, hi = starts[f], starts[f + 1] - 1  # hi - lo thresholds of this feature
            r = np.searchsorted(bounds[lo - f:hi - f], v)  # thresholds < v
            if r > 0:
                row = masks[lo + r]
                for t in range(n_trees):
                    live[t] &= row[t]
        for g in range(n_groups):  # a group's trees are contiguous: sum them in order
            acc = 0.0
            for t in range(group[g], group[g + 1]):  # the exit leaf: lowest live bit
                acc += value[leaf_at[t] + trailing_zeros(live[t])]
            out[i, g] = acc
    return out


@numba.njit(cache=True)
def _run_means(S, size):
    """``(n, groups // size)``: the mean of each run of ``size`` consecutive columns, added
    left to right then divided, numpy's order for a mean over a strided axis (its
    contiguous-axis mean sums pairwise from 8 terms on)."""
    n, m = S.shape[0], S.shape[1] // size
    out = np.empty((n, m))
    for i in range(n):
        for j in range(m):
            acc = S[i, j * size]
            for k in range(j * size + 1, (j + 1) * size):
                acc += S[i, k]
            out[i, j] = acc / size
    return out


@numba.njit(cache=True)
def _qs_means(X, feats, bounds, starts, masks, leaf_at, value, group, size):
    """:func:`_run_means` of :func:`_qs_sums` in one call (a proxy's one-row path)."""
    return _run_means(_qs_sums(X, feats, bounds, starts, masks, leaf_at, value, group), size)


class TreeKernel:
    """A tree ensemble as flat node arrays. Tree ``t`` adds its leaf value into group
    ``group[t]`` (a forest: one group; LightGBM: one group per booster). Ensembles of
    small trees (at most 64 leaves, no zero-as-missing splits) also get QuickScorer
    tables, used for rows without NaN."""

    def __init__(self, trees: list[dict[str, np.ndarray]], group: list[int],
                 n_outputs: int, float32_inputs: bool) -> None:
        sizes = [len(t["feature"]) for t in trees]
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.roots = starts.copy()

        def cat(key, dtype):
            return np.ascontiguousarray(np.concatenate([t[key] for t in trees]), dtype=dtype)

        self.feature = cat("feature", np.int64)
        self.threshold = cat("threshold", np.float64)
        off = np.repeat(starts, sizes)
        self.left = np.where(self.feature >= 0, cat("left", np.int64) + off, -1)
        self.right = np.where(self.feature >= 0, cat("right", np.int64) + off, -1)
        self.missing = cat("missing", np.int64)
        self.default_left = cat("default_left", np.bool_)
        self.value = np.ascontiguousarray(np.concatenate([t["value"] for t in trees]),
                                          dtype=np.float64).reshape(-1, n_outputs)
        # node records (threshold, feature, left, right); indices are exact in float64
        self.nodes = np.ascontiguousarray(np.stack(
            [self.threshold, self.feature, self.left, self.right], axis=1).astype(np.float64))
        # LightGBM's missing-value rules (NaN -> 0.0 unless missing_type NaN; Zero/NaN to
        # default_left); sklearn trees see no NaN from the encoder and skip the checks
        self.check_missing = not float32_inputs
        self.group = np.asarray(group, dtype=np.int64)
        self.n_groups = int(self.group.max()) + 1
        self.float32_inputs = float32_inputs
        self.version = VERSION  # saved with the kernel (class attributes are not)
        self.qs = self._quickscorer(trees, sizes) if not float32_inputs else None

    def _quickscorer(self, trees, sizes) -> tuple | None:
        if np.any(np.diff(self.group) < 0):  # QuickScorer sums each group's trees in a run
            return None
        self._group_starts = np.searchsorted(self.group, np.arange(self.n_groups + 1))
        n_leaves = [int((t["feature"] < 0).sum()) for t in trees]
        if max(n_leaves) > 64 or (self.missing == 1).any() or self.value.shape[1] != 1:
            return None
        # a tree's leaves as bits: 32 of them fit half the memory, which a row's ANDs
        # stream through (LightGBM's default trees have 31 leaves)
        bits = 32 if max(n_leaves) <= 32 else 64
        dtype, full = (np.uint32, np.uint64)[bits == 64], (1 << bits) - 1
        leaf_at = np.concatenate([[0], np.cumsum(n_leaves)[:-1]]).astype(np.int64)
        values = np.zeros((sum(n_leaves), 1))
        tests: dict[int, list[tuple[float, int, int]]] = {}  # feature -> (thr, tree, mask)
        for t, tree in enumerate(trees):
            feature, left, right = tree["feature"], tree["left"], tree["right"]

            def number(node: int, tree=tree, t=t, feature=feature, left=left,
                       right=right) -> tuple[int, int]:
                """Leaves of ``node``'s subtree numbered left to right: (first, end)."""
                if feature[node] < 0:
                    k = number.next
                    values[leaf_at[t] + k, 0] = tree["value"][node, 0]
                    number.next += 1
                    return k, k + 1
                a, b = number(int(left[node]))
                _, c = number(int(right[node]))
                lost = ((1 << b) - 1) ^ ((1 << a) - 1)  # the left subtree's leaves
                tests.setdefault(int(feature[node]), []).append(
                    (float(tree["threshold"][node]), t, full ^ lost))
                return a, c

            number.next = 0
            number(0)
        feats = sorted(tests)
        if not feats:
            return None
        bounds, rows, starts = [], [], [0]
        for f in feats:
            ordered = sorted(tests[f], key=lambda x: x[0])
            uniq = sorted({thr for thr, _, _ in ordered})
            row = np.full(len(trees), full, dtype=dtype)
            rows.append(row.copy())
            at = 0
            for u in uniq:  # row r: failed tests of the r smallest thresholds
                while at < len(ordered) and ordered[at][0] == u:
                    _, t, mask = ordered[at]
                    row[t] &= dtype(mask)
                    at += 1
                rows.append(row.copy())
            bounds += uniq
            starts.append(starts[-1] + len(uniq) + 1)
        return (np.array(feats, np.int64), np.array(bounds, np.float64),
                np.array(starts, np.int64), np.stack(rows), leaf_at, values[:, 0].copy())

    def _x(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        if self.float32_inputs:  # what sklearn's trees see: float32, compared as float64
            X = X.astype(np.float32)
        return np.ascontiguousarray(X, dtype=np.float64)

    def _qs_rows(self, X: np.ndarray) -> np.ndarray | None:
        """``X`` as the QuickScorer path reads it, or None where it does not apply (no
        tables; a NaN, which takes the walk's missing-value rules)."""
        if self.qs is None:
            return None
        X = self._x(X)
        return None if np.isnan(X).any() else X

    def sums(self, X: np.ndarray) -> np.ndarray:
        """``(n, groups, outputs)``: each group's sum of leaf values."""
        Xq = self._qs_rows(X)
        if Xq is not None:
            return _qs_sums(Xq, *self.qs, self._group_starts)[:, :, None]
        return self.walk_sums(X)

    def group_means(self, X: np.ndarray, size: int) -> np.ndarray:
        """``(n, groups // size)`` for a single-output ensemble: the mean of each run of
        ``size`` consecutive groups' sums (a LightGBM proxy's members), in one compiled
        call on the QuickScorer path."""
        Xq = self._qs_rows(X)
        if Xq is not None:
            return _qs_means(Xq, *self.qs, self._group_starts, size)
        return _run_means(self.walk_sums(X)[:, :, 0], size)

    def walk_sums(self, X: np.ndarray) -> np.ndarray:
        """:meth:`sums` by walking every tree (the reference the QuickScorer path is
        tested against)."""
        return _tree_sums(self._x(X), self.roots, self.group, self.n_groups, self.nodes,
                          self.missing, self.default_left, self.check_missing, self.value)

    def leaves(self, X: np.ndarray) -> np.ndarray:
        """``(trees, n, outputs)``: every tree's prediction."""
        return _tree_leaves(self._x(X), self.roots, self.nodes, self.missing,
                            self.default_left, self.check_missing, self.value)

    # ---- builders
    @classmethod
    def from_sklearn(cls, estimators: list[Any]) -> TreeKernel:
        """From fitted scikit-learn regression trees (a forest's ``estimators_``)."""
        trees = []
        for est in estimators:
            tr = est.tree_
            leaf = tr.children_left < 0
            trees.append({"feature": np.where(leaf, -1, tr.feature),
                          "threshold": tr.threshold, "left": tr.children_left,
                          "right": tr.children_right,
                          "missing": np.zeros(tr.node_count, np.int64),
                          "default_left": np.zeros(tr.node_count, np.bool_),
                          "value": tr.value[:, :, 0]})
        return cls(trees, [0] * len(trees), estimators[0].tree_.n_outputs, True)

    @classmethod
    def from_lightgbm(cls, boosters: list[Any]) -> TreeKernel:
        """From LightGBM boosters (``LGBMRegressor.booster_`` or ``Booster``), one group each,
        read from their dumped model."""
        trees, group = [], []
        for g, booster in enumerate(boosters):
            model = booster.dump_model()
            if model.get("num_tree_per_iteration", 1) != 1:
                raise ValueError("only single-output LightGBM regression boosters compile")
            for info in model["tree_info"]:
                trees.append(_lgb_tree(info["tree_structure"]))
                group.append(g)
        return cls(trees, group, 1, False)


def _lgb_tree(root: dict[str, Any]) -> dict[str, np.ndarray]:
    """A dumped LightGBM tree (nested dicts) as node arrays, in pre-order."""
    rows: list[list[Any]] = []

    def visit(node: dict[str, Any]) -> int:
        at = len(rows)
        if "leaf_value" in node:
            rows.append([-1, 0.0, -1, -1, 0, False, float(node["leaf_value"])])
            return at
        if node["decision_type"] != "<=":
            raise ValueError(f"LightGBM split {node['decision_type']!r} (categorical) does "
                             "not compile; proxies use numeric features")
        rows.append([int(node["split_feature"]), float(node["threshold"]), 0, 0,
                     MISSING[node["missing_type"]], bool(node["default_left"]), 0.0])
        rows[at][2] = visit(node["left_child"])
        rows[at][3] = visit(node["right_child"])
        return at

    visit(root)
    cols = list(zip(*rows, strict=True))
    return {"feature": np.array(cols[0], np.int64), "threshold": np.array(cols[1]),
            "left": np.array(cols[2], np.int64), "right": np.array(cols[3], np.int64),
            "missing": np.array(cols[4], np.int64), "default_left": np.array(cols[5]),
            "value": np.array(cols[6]).reshape(-1, 1)}


# ----------------------------------------------------------------------------- MLP


@numba.njit(cache=True)
def _linear(a, W, bias, d_in, d_out, out):
    """``out = a @ W + bias`` (float32): each output sums its inputs in order. Four inputs
    per pass over the outputs: the same additions in the same order, with a quarter of
    the loads and stores of ``out``."""
    for o in range(d_out):
        out[o] = bias[o]
    full = d_in - d_in % 4
    for k in range(0, full, 4):
        x0, x1, x2, x3 = a[k], a[k + 1], a[k + 2], a[k + 3]
        w0, w1, w2, w3 = W[k], W[k + 1], W[k + 2], W[k + 3]
        for o in range(d_out):
            out[o] = out[o] + w0[o] * x0 + w1[o] * x1 + w2[o] * x2 + w3[o] * x3
    for k in range(full, d_in):
        xk, wk = a[k], W[k]
        for o in range(d_out):
            out[o] += wk[o] * xk


@numba.njit(cache=True)
def _linear_rows4(A, W, bias, d_in, d_out, B):
    """:func:`_linear` for four rows at once (``A[r]`` in, ``B[r]`` out): each weight
    loaded once serves four rows, and each row's sums are :func:`_linear`'s, bit for bit
    (the same expression per output, in the same order)."""
    b0, b1, b2, b3 = B[0], B[1], B[2], B[3]
    for o in range(d_out):
        b0[o] = b1[o] = b2[o] = b3[o] = bias[o]
    full = d_in - d_in % 4
    for k in range(0, full, 4):
        w0, w1, w2, w3 = W[k], W[k + 1], W[k + 2], W[k + 3]
        x00, x01, x02, x03 = A[0, k], A[0, k + 1], A[0, k + 2], A[0, k + 3]
        x10, x11, x12, x13 = A[1, k], A[1, k + 1], A[1, k + 2], A[1, k + 3]
        x20, x21, x22, x23 = A[2, k], A[2, k + 1], A[2, k + 2], A[2, k + 3]
        x30, x31, x32, x33 = A[3, k], A[3, k + 1], A[3, k + 2], A[3, k + 3]
        for o in range(d_out):
            v0, v1, v2, v3 = w0[o], w1[o], w2[o], w3[o]
            b0[o] = b0[o] + v0 * x00 + v1 * x01 + v2 * x02 + v3 * x03
            b1[o] = b1[o] + v0 * x10 + v1 * x11 + v2 * x12 + v3 * x13
            b2[o] = b2[o] + v0 * x20 + v1 * x21 + v2 * x22 + v3 * x23
            b3[o] = b3[o] + v0 * x30 + v1 * x31 + v2 * x32 + v3 * x33
    for k in range(full, d_in):
        wk, x0, x1, x2, x3 = W[k], A[0, k], A[1, k], A[2, k], A[3, k]
        for o in range(d_out):
            b0[o] += wk[o] * x0
            b1[o] += wk[o] * x1
            b2[o] += wk[o] * x2
            b3[o] += wk[o] * x3


# Cephes expf (S. L. Moshier, Cephes Math Library): exp(x) = 2^n exp(r) with
# n = floor(x log2(e) + 1/2), r = x - n ln 2 (ln 2 in two parts, C1 exact in float32) and a
# degree-7 polynomial for exp(r) on [-ln2/2, ln2/2]: under one float32 ulp (8.1e-8
# relative at most against float64 exp, measured on 2 million points over [-88, 88]).
_LOG2E, _LN2_HI, _LN2_LO = np.float32(1.44269504088896341), np.float32(0.693359375), \
    np.float32(-2.12194440e-4)
_EXP_P = tuple(np.float32(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                                       4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1))


@numba.njit(cache=True, error_model="numpy")  # no zero-division branch: 1 + exp > 0
def _silu(b, d, a, poly, bits, two_n):
    """``a = b / (1 + exp(-b))`` (SiLU) in float32, ``exp`` by the Cephes polynomial:
    plain float32 arithmetic that vectorises and gives the same bits on every machine,
    where libm's ``expf`` is a call per element whose last bits depend on the C library.
    ``-b`` is clamped to [-88, 88] (2^n stays a normal float32 or 0; beyond it
    ``exp(-b)`` is 0 or ~1e38 in float32 and the SiLU is ``b`` or ~0 either way)."""
    p0, p1, p2, p3, p4, p5 = _EXP_P
    for o in range(d):
        x = min(max(-b[o], np.float32(-88.0)), np.float32(88.0))
        n = np.floor(x * _LOG2E + np.float32(0.5))
        r = x - n * _LN2_HI - n * _LN2_LO
        poly[o] = ((((((p0 * r + p1) * r + p2) * r + p3) * r + p4) * r + p5) * (r * r)
                   + r + np.float32(1.0))
        bits[o] = (np.int32(n) + np.int32(127)) << np.int32(23)  # 2^n as float32 bits
    for o in range(d):  # two_n: ``bits`` viewed as float32
        a[o] = b[o] / (np.float32(1.0) + poly[o] * two_n[o])


@numba.njit(cache=True)
def _mlp(X, weights, biases, shapes):
    """Linear layers (``weights[j]``: ``(in, out)``, zero-padded) with SiLU between them,
    in float32: four rows at a time (:func:`_linear_rows4`), then the rest one by one;
    every row's result is the same whichever way it went (tested)."""
    n, n_layers, width = X.shape[0], shapes.shape[0], weights.shape[1]
    out = np.empty((n, shapes[n_layers - 1, 1]), np.float32)
    a = np.zeros((4, width), np.float32)
    b = np.zeros((4, width), np.float32)
    poly = np.zeros(width, np.float32)
    bits = np.zeros(width, np.int32)
    two_n = bits.view(np.float32)
    i = 0
    while i < n:
        rows = 4 if n - i >= 4 else 1
        for r in range(rows):
            for k in range(shapes[0, 0]):
                a[r, k] = np.float32(X[i + r, k])
        for j in range(n_layers):
            d_in, d_out = shapes[j, 0], shapes[j, 1]
            if rows == 4:
                _linear_rows4(a, weights[j], biases[j], d_in, d_out, b)
            else:
                _linear(a[0], weights[j], biases[j], d_in, d_out, b[0])
            if j < n_layers - 1:
                for r in range(rows):
                    _silu(b[r], d_out, a[r], poly, bits, two_n)
        for r in range(rows):
            for o in range(shapes[n_layers - 1, 1]):
                out[i + r, o] = b[r, o]
        i += rows
    return out


class MLPKernel:
    """A stack of linear layers with SiLU activations (:class:`~archgym.proxy.models.MLPModel`)."""

    version = VERSION

    def __init__(self, layers: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """``layers``: ``(weight (out, in), bias (out,))`` per linear layer, torch's layout."""
        self.shapes = np.array([[w.shape[1], w.shape[0]] for w, _ in layers], np.int64)
        width = int(self.shapes.max())
        self.weights = np.zeros((len(layers), width, width), np.float32)
        self.biases = np.zeros((len(layers), width), np.float32)
        for j, (w, bias) in enumerate(layers):
            self.weights[j, :w.shape[1], :w.shape[0]] = np.asarray(w, np.float32).T
            self.biases[j, :w.shape[0]] = bias

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.shape[1] != self.shapes[0, 0]:
            raise ValueError(f"MLP expects {self.shapes[0, 0]} features, got {X.shape[1]}")
        return _mlp(X, self.weights, self.biases, self.shapes).astype(np.float64)


# ------------------------------------------------------------------------------ GP

SQRT5 = math.sqrt(5.0)
# Cephes exp (S. L. Moshier, Cephes Math Library), float64: exp(x) = 2^n exp(r) with
# n = floor(x log2(e) + 1/2), r = x - n ln 2 (ln 2 in two parts) and the Pade form
# exp(r) = 1 + 2 r P(r^2) / (Q(r^2) - r P(r^2)); the Matern-5/2 factor through it is
# within 4.4e-16 relative of numpy's (measured on a million points, r in [0, 700])
_EXP_PD = (1.26177193074810590878e-4, 3.02994407707441961300e-2, 9.99999999999999999910e-1)
_EXP_QD = (3.00198505138664455042e-6, 2.52448340349684104192e-3, 2.27265548208155028766e-1,
           2.00000000000000000009e0)
_LN2_HI_D, _LN2_LO_D = 6.93145751953125e-1, 1.42860682030941723212e-6


@numba.njit(cache=True)
def _sq_dists(x, inv_ls, XsT, s):
    """``s[j] = |x / ls - X_j / ls|^2`` over the training inputs (given divided by the
    length scales and transposed, so the loop runs along them and vectorises)."""
    s[:] = 0.0
    for k in range(XsT.shape[0]):
        xk = x[k] * inv_ls[k]
        for j in range(XsT.shape[1]):
            diff = xk - XsT[k, j]
            s[j] += diff * diff


@numba.njit(cache=True, error_model="numpy")  # no zero-division branch: Q - rP > 0
def _matern(s, const, out, bits, two_n):
    """``out[j] = const * (1 + r + r^2/3) exp(-r)``, ``r = sqrt(5 s[j])``: Matern-5/2 of
    squared scaled distances, ``exp`` by the Cephes polynomial, so the loop vectorises
    (``two_n``: ``bits`` viewed as float64; ``-r`` is clamped at -708, where ``exp`` is
    below 1e-307 and 2^n stays a normal float64)."""
    p0, p1, p2 = _EXP_PD
    q0, q1, q2, q3 = _EXP_QD
    for j in range(s.shape[0]):
        x = max(-math.sqrt(s[j]) * SQRT5, -708.0)
        n = math.floor(x * 1.4426950408889634073599 + 0.5)
        x = x - n * _LN2_HI_D - n * _LN2_LO_D
        xx = x * x
        px = x * ((p0 * xx + p1) * xx + p2)
        out[j] = 1.0 + 2.0 * (px / ((((q0 * xx + q1) * xx + q2) * xx + q3) - px))
        bits[j] = (np.int64(n) + 1023) << 52  # 2^n as float64 bits
    for j in range(s.shape[0]):
        r = math.sqrt(s[j]) * SQRT5
        out[j] = const * ((1.0 + r + r * r / 3.0) * (out[j] * two_n[j]))


@numba.njit(cache=True)
def _gp_cross(X, XsT, inv_ls, const):
    """``const * Matern52(x, X_train)`` for every row of ``X``: ``(n, n_train)``."""
    n, m = X.shape[0], XsT.shape[1]
    K = np.empty((n, m))
    s = np.empty(m)
    bits = np.empty(m, np.int64)
    two_n = bits.view(np.float64)
    for i in range(n):
        _sq_dists(X[i], inv_ls, XsT, s)
        _matern(s, const, K[i], bits, two_n)
    return K


@numba.njit(cache=True)
def _gp_means(X, XsT, inv_ls, const, alpha, y_std, y_mean):
    """Posterior means ``(n, g)`` of ``g`` GPs stacked along the first axis, in one call:
    per GP and row the floats of :func:`_gp_cross` then :func:`_rowwise_dot` (the same
    operations in the same order), without a call and a temporary per GP."""
    n, g, m = X.shape[0], XsT.shape[0], XsT.shape[2]
    out = np.empty((n, g))
    s, k = np.empty(m), np.empty(m)
    bits = np.empty(m, np.int64)
    two_n = bits.view(np.float64)
    for p in range(g):  # GP by GP: its training inputs stay in cache over the rows
        for i in range(n):
            _sq_dists(X[i], inv_ls[p], XsT[p], s)
            _matern(s, const[p], k, bits, two_n)
            acc = 0.0
            for j in range(m):
                acc += k[j] * alpha[p, j]
            out[i, p] = acc * y_std[p] + y_mean[p]
    return out


class GPKernel:
    """Posterior mean and std of fitted ``Constant * Matern(nu=2.5) + White`` GPs, one per
    output column."""

    version = VERSION

    def __init__(self, gps: list[Any]) -> None:
        self.parts = []
        for gp in gps:
            k = gp.kernel_
            try:
                const = float(k.k1.k1.constant_value)
                matern, noise = k.k1.k2, float(k.k2.noise_level)
            except AttributeError:
                raise ValueError(f"GP kernel {k} is not Constant * Matern + White") from None
            if matern.nu != 2.5:
                raise ValueError(f"GP kernel has Matern nu={matern.nu}; the kernel needs 2.5")
            inv_ls = 1.0 / np.broadcast_to(np.asarray(matern.length_scale, np.float64),
                                           (gp.X_train_.shape[1],))
            self.parts.append({
                "XsT": np.ascontiguousarray((gp.X_train_ * inv_ls).T), "inv_ls": inv_ls,
                "const": const, "diag": const + noise,
                "alpha": np.ascontiguousarray(np.ravel(gp.alpha_)), "L": gp.L_,
                "y_mean": float(np.ravel(gp._y_train_mean)[0]),
                "y_std": float(np.ravel(gp._y_train_std)[0])})
        # every GP's arrays stacked for :func:`_gp_means` (GPs fitted on the same rows)
        self.stacked = None
        if len({p["alpha"].size for p in self.parts}) == 1:
            self.stacked = tuple(np.ascontiguousarray(np.stack([p[k] for p in self.parts]),
                                                      dtype=np.float64)
                                 for k in ("XsT", "inv_ls", "const", "alpha", "y_std",
                                           "y_mean"))

    def predict(self, X: np.ndarray, return_std: bool = False
                ) -> tuple[np.ndarray, np.ndarray | None]:
        from scipy.linalg import solve_triangular

        X = np.ascontiguousarray(X, dtype=np.float64)
        if self.stacked is not None and not return_std:
            return _gp_means(X, *self.stacked), None
        mean = np.empty((len(X), len(self.parts)))
        std = np.empty_like(mean) if return_std else None
        for j, p in enumerate(self.parts):
            K = _gp_cross(X, p["XsT"], p["inv_ls"], p["const"])
            mean[:, j] = _rowwise_dot(K, p["alpha"]) * p["y_std"] + p["y_mean"]
            if std is not None:
                V = solve_triangular(p["L"], K.T, lower=True, check_finite=False)
                var = p["diag"] - np.einsum("ij,ij->j", V, V)
                std[:, j] = np.sqrt(np.maximum(var, 0.0)) * p["y_std"]
        return mean, std


@numba.njit(cache=True)
def _rowwise_dot(K, alpha):
    out = np.empty(K.shape[0])
    for i in range(K.shape[0]):
        s = 0.0
        for j in range(K.shape[1]):
            s += K[i, j] * alpha[j]
        out[i] = s
    return out


# ----------------------------------------------------------------------- to metric units


@numba.njit(cache=True)
def to_metrics(Z, scale, shift, lo, hi, log):
    """Standardised predictions back to metric units, row by row: ``t = z * scale +
    shift``, clipped to ``[lo, hi]``, ``exp(t)`` where the metric was log-transformed."""
    n, m = Z.shape
    out = np.empty((n, m))
    for i in range(n):
        for j in range(m):
            t = min(max(Z[i, j] * scale[j] + shift[j], lo[j]), hi[j])
            out[i, j] = math.exp(t) if log[j] else t
    return out
