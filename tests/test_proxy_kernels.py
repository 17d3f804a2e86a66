"""The compiled proxy kernels predict what the trained libraries predict, row by row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from archgym.encoding import FeatureEncoder
from archgym.proxy.kernels import TreeKernel
from archgym.proxy.models import make_model
from archgym.space import Categorical, DesignSpace, Ordinal, Real

SMALL = {"rf": {"n_estimators": 25}, "gbt": {"n_estimators": 40, "members": 2},
         "mlp": {"steps": 150, "width": 32, "depth": 2}, "gp": {}}


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Mixed features like the encoder's (one-hot 0/1, a few ordinal levels, continuous)
    and three targets with interactions."""
    rng = np.random.default_rng(seed)
    X = np.concatenate([np.eye(3)[rng.integers(3, size=n)],
                        rng.integers(0, 8, size=(n, 2)) / 7.0, rng.random((n, 2))], axis=1)
    Y = np.stack([X[:, 0] * X[:, 3] + np.sin(4 * X[:, 5]), X[:, 4] ** 2 - X[:, 1],
                  X[:, 6] * X[:, 2] + 0.1 * X[:, 3]], axis=1)
    return X, Y


@pytest.fixture(scope="module")
def fitted() -> dict:
    X, Y = _data(160, 0)
    n = {"gp": 60}  # a GP's fit is cubic in the rows
    return {kind: make_model(kind, seed=3, **hp).fit(X[:n.get(kind)], Y[:n.get(kind)])
            for kind, hp in SMALL.items()}


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    X, _ = _data(300, 1)
    X[:40, 5:] = _data(40, 0)[0][:, 5:]  # some rows exactly on training values
    return X


@pytest.mark.parametrize("kind", ["rf", "gbt"])
def test_tree_kernels_are_bit_identical(fitted, rows, kind):
    m = fitted[kind]
    mean, _ = m.predict(rows)
    ref, _ = m.library_predict(rows)
    assert mean.shape == (len(rows), 3)  # multi-output
    assert np.array_equal(mean, ref)
    mean, std = m.predict(rows, return_std=True)
    ref_mean, ref_std = m.library_predict(rows, return_std=True)
    assert np.array_equal(mean, ref_mean) and np.array_equal(std, ref_std)
    assert std.max() > 0  # the members disagree somewhere: the spread is real


def test_quickscorer_matches_the_walk(fitted, rows):
    k = fitted["gbt"].kernel
    assert k.qs is not None
    assert np.array_equal(k.sums(rows), k.walk_sums(rows))
    nan_rows = rows[:5].copy()
    nan_rows[:, 3] = np.nan  # NaN rows take the walk, with LightGBM's missing rules
    ref = np.stack([b.predict(nan_rows) for members in fitted["gbt"].boosters
                    for b in members], axis=1)
    assert np.array_equal(k.sums(nan_rows)[:, :, 0], ref)


@pytest.mark.parametrize(("leaves", "dtype"), [(31, np.uint32), (48, np.uint64)])
def test_quickscorer_masks_fit_the_leaves(rows, leaves, dtype):
    """Trees of up to 32 leaves keep their leaf sets in 32 bits (half the memory a row's
    ANDs stream through), larger ones in 64; both bit for bit LightGBM's."""
    X, Y = _data(400, 2)
    m = make_model("gbt", seed=0, n_estimators=30, members=1, num_leaves=leaves,
                   min_child_samples=2).fit(X, Y)
    assert m.kernel.qs is not None and m.kernel.qs[3].dtype == dtype
    assert np.array_equal(m.predict(rows)[0], m.library_predict(rows)[0])


def test_many_members_average_in_the_librarys_order(rows):
    """Nine members: the mean adds them left to right like the per-member stack's mean
    (numpy's mean over a contiguous axis sums pairwise from 8 terms on, other floats)."""
    X, Y = _data(200, 3)
    m = make_model("gbt", seed=2, n_estimators=15, members=9).fit(X, Y)
    assert np.array_equal(m.predict(rows)[0], m.library_predict(rows)[0])
    nan_rows = rows[:7].copy()
    nan_rows[:, 5] = np.nan  # the walk's path averages the same way
    assert np.array_equal(m.predict(nan_rows)[0], m.library_predict(nan_rows)[0])


def test_lightgbm_zero_as_missing_splits_follow_lightgbm(rows):
    X, Y = _data(160, 0)
    m = make_model("gbt", seed=1, n_estimators=30, members=1, zero_as_missing=True).fit(X, Y)
    assert (m.kernel.missing == 1).any() and m.kernel.qs is None  # the walk's Zero rule
    assert np.array_equal(m.predict(rows)[0], m.library_predict(rows)[0])


def test_mlp_kernel_matches_torch_to_float32_rounding(fitted, rows):
    mean, _ = fitted["mlp"].predict(rows)
    ref, _ = fitted["mlp"].library_predict(rows)
    assert np.all(np.abs(mean - ref) <= 1e-5 * (1 + np.abs(ref)))
    layer = fitted["mlp"].kernel.weights[1]
    layer[0, 0] += 1e-3  # one weight off
    try:
        off, _ = fitted["mlp"].predict(rows)
    finally:
        layer[0, 0] -= 1e-3
    assert not np.all(np.abs(off - ref) <= 1e-5 * (1 + np.abs(ref)))


@pytest.mark.parametrize("d_in", [1, 4, 21, 128])
def test_mlp_layer_sums_each_output_in_input_order(d_in):
    """Four inputs per pass, but each output's float32 sum is bias + w_0 x_0 + w_1 x_1 + ...
    left to right, bit for bit (any input count, remainders included)."""
    from archgym.proxy.kernels import _linear

    rng = np.random.default_rng(d_in)
    W = rng.standard_normal((d_in, 64)).astype(np.float32)
    x = rng.standard_normal(d_in).astype(np.float32)
    bias = rng.standard_normal(64).astype(np.float32)
    out = np.empty(64, np.float32)
    _linear(x, W, bias, d_in, 64, out)
    ref = bias.copy()
    for k in range(d_in):
        ref = ref + W[k] * x[k]
    assert np.array_equal(out, ref)


def test_mlp_rows_in_fours_equal_each_row_alone(fitted, rows):
    """Rows go through the layers four at a time (then the rest one by one): each row's
    prediction is bit for bit the one it gets alone, whatever its place in the batch."""
    kernel = fitted["mlp"].kernel
    batch = kernel.predict(rows[:11])
    alone = np.concatenate([kernel.predict(rows[i:i + 1]) for i in range(11)])
    shifted = kernel.predict(rows[1:12])[:10]  # the same rows in other blocks of four
    assert np.array_equal(batch, alone) and np.array_equal(shifted, alone[1:])


def test_mlp_silu_exp_is_within_one_float32_ulp():
    """The Cephes exp in the MLP's SiLU: within one float32 ulp of float64 exp over its
    range, and SiLU's limits at both ends (a wrong coefficient or range step fails)."""
    from archgym.proxy.kernels import _silu

    x = np.linspace(-88.0, 88.0, 400_001).astype(np.float32)
    b = -x
    a, poly = np.empty_like(b), np.empty_like(b)
    bits = np.empty(len(b), np.int32)
    _silu(b, len(b), a, poly, bits, bits.view(np.float32))
    exact = np.exp(x.astype(np.float64))
    normal = exact > np.finfo(np.float32).tiny
    got = (poly * bits.view(np.float32)).astype(np.float64)
    assert np.all(np.abs(got - exact)[normal] <= np.spacing(exact[normal].astype(np.float32)))
    silu = b.astype(np.float64) / (1.0 + exact)
    assert np.all(np.abs(a - silu) <= 4e-7 * np.abs(silu) + 1e-37)
    far = np.array([-1e4, -100.0, 100.0, 1e4], np.float32)
    out = np.empty_like(far)
    scratch = np.empty(4, np.int32)
    _silu(far, 4, out, np.empty_like(far), scratch, scratch.view(np.float32))
    assert out[2] == 100.0 and out[3] == 1e4 and abs(out[0]) < 1e-30 and abs(out[1]) < 1e-30


def test_gp_kernel_matches_sklearn_to_float64_rounding(fitted, rows):
    """k(x, X) @ alpha summed in another order: the difference is bounded by the rounding
    error of that sum, ``n eps sum |k_j alpha_j|`` (alpha is large where the GP is almost
    noise-free, so this is not a small relative error of the mean)."""
    from archgym.proxy.kernels import _gp_cross

    m = fitted["gp"]
    mean, std = m.predict(rows, return_std=True)
    ref_mean, ref_std = m.library_predict(rows, return_std=True)
    for j, p in enumerate(m.kernel.parts):
        K = _gp_cross(rows, p["XsT"], p["inv_ls"], p["const"])
        bound = 4 * len(p["alpha"]) * np.finfo(float).eps * (np.abs(K) @ np.abs(p["alpha"]))
        assert np.all(np.abs(mean[:, j] - ref_mean[:, j]) <= bound)
        assert np.all(np.abs(std[:, j] ** 2 - ref_std[:, j] ** 2) <= 1e-6 * p["diag"])
    assert not np.allclose(mean, mean + 1e-3)  # the bound is far below the model's scale


def test_gp_matern_factor_is_numpys_to_a_few_ulps():
    """The GP kernels' Matern-5/2 factor with the Cephes exp against numpy's float64 exp,
    from r = 0 (exactly const) to where exp(-r) nears the float64 range's end."""
    from archgym.proxy.kernels import SQRT5, _matern

    r = np.concatenate([[0.0], np.geomspace(1e-12, 700.0, 200_001)])
    s = (r / SQRT5) ** 2
    out, bits = np.empty_like(s), np.empty(len(s), np.int64)
    _matern(s, 2.5, out, bits, bits.view(np.float64))
    rr = np.sqrt(s) * SQRT5
    ref = 2.5 * ((1.0 + rr + rr * rr / 3.0) * np.exp(-rr))
    assert out[0] == 2.5
    assert np.all(np.abs(out - ref) <= 4 * np.finfo(float).eps * ref)


def test_gp_means_in_one_call_are_the_per_gp_path_bit_for_bit(fitted, rows):
    """The stacked one-call mean (the proxy's path without std) and the per-GP path (the
    one with std) give the same floats; a length scale off in one GP is seen."""
    k = fitted["gp"].kernel
    assert k.stacked is not None
    fast, _ = k.predict(rows)
    slow, _ = k.predict(rows, return_std=True)
    assert np.array_equal(fast, slow)
    k.stacked[1][2, 0] *= 1.001
    try:
        assert not np.array_equal(k.predict(rows)[0][:, 2], slow[:, 2])
    finally:
        k.stacked[1][2, 0] /= 1.001


@pytest.mark.parametrize("kind", list(SMALL))
def test_a_row_alone_predicts_what_it_predicts_in_a_batch(fitted, rows, kind):
    m = fitted[kind]
    batch, _ = m.predict(rows[:60])
    one = np.concatenate([m.predict(rows[i:i + 1])[0] for i in range(60)])
    assert np.array_equal(batch, one)


def test_a_wrong_threshold_or_leaf_is_caught(rows):
    X, Y = _data(160, 0)
    rf = make_model("rf", seed=0, n_estimators=5).fit(X, Y)
    k = rf.kernel
    root = k.roots[0]
    k.nodes[root, 0] = rows[:, k.feature[root]].min() - 1.0  # the root sends all right
    assert not np.array_equal(rf.predict(rows)[0], rf.library_predict(rows)[0])

    gbt = make_model("gbt", seed=0, n_estimators=20, members=1).fit(X, Y)
    feats, bounds, starts, masks, leaf_at, values = gbt.kernel.qs
    values[leaf_at[3] + 1] += 1e-12  # one leaf of one tree, slightly off
    assert not np.array_equal(gbt.predict(rows)[0], gbt.library_predict(rows)[0])
    values[leaf_at[3] + 1] -= 1e-12
    f = int(np.flatnonzero(feats == 5)[0])  # a continuous feature's thresholds
    b = bounds[starts[f] - f:starts[f + 1] - f - 1]
    i = int(np.argmax(np.diff(b)))
    b[i] = (b[i] + b[i + 1]) / 2  # one threshold moved, still in order
    assert not np.array_equal(gbt.predict(rows)[0], gbt.library_predict(rows)[0])


def test_tree_kernel_refuses_categorical_lightgbm_splits():
    import lightgbm

    rng = np.random.default_rng(0)
    X = rng.integers(0, 5, size=(200, 2)).astype(float)
    y = np.array([0.0, 5.0, 1.0, 4.0, 2.0])[X[:, 0].astype(int)] + 0.1 * rng.random(200)
    b = lightgbm.LGBMRegressor(n_estimators=5, verbose=-1, min_child_samples=2,
                               min_data_per_group=1, cat_smooth=0.0).fit(
        X, y, categorical_feature=[0])
    assert "==" in str(b.booster_.dump_model())  # it did split on the category
    with pytest.raises(ValueError, match="categorical"):
        TreeKernel.from_lightgbm([b.booster_])


SPACE = DesignSpace([Ordinal("size_kb", [1, 2, 4, 8, 16]), Ordinal("ports", [1, 2, 3]),
                     Categorical("policy", ["LRU", "FIFO", "RND"]),
                     Real("v", 0.5, 1.2), Ordinal("mode", ["a", "b", "c"])])


def test_one_row_encoding_is_the_table_encoding():
    enc = FeatureEncoder(SPACE)
    rng = np.random.default_rng(0)
    designs = [SPACE.sample(rng) for _ in range(50)]
    df = pd.DataFrame({f"param_{k}": [d[k] for d in designs] for k in SPACE.names})
    table = enc.encode(df, prefix="param_")
    assert np.array_equal(np.stack([enc.encode_row(d) for d in designs]), table)
    assert np.array_equal(enc.encode(designs), table)
    with pytest.raises(Exception, match="'policy': value 'MRU' is not allowed"):
        enc.encode_row({**designs[0], "policy": "MRU"})
    with pytest.raises(Exception, match="no parameter 'ports'"):
        enc.encode_row({k: v for k, v in designs[0].items() if k != "ports"})


def test_a_pickled_model_keeps_predicting_the_same(fitted, rows, tmp_path):
    """Saved proxies pickle their model: the LightGBM kernel is saved with it (compiling
    thousands of trees takes seconds), the others are rebuilt on first use."""
    import joblib

    for kind, m in fitted.items():
        joblib.dump(m, tmp_path / kind)
        back = joblib.load(tmp_path / kind)
        assert ("_kernel" in back.__dict__) == (kind == "gbt")
        assert np.array_equal(back.predict(rows)[0], m.predict(rows)[0])
