"""Bootstrap intervals of the median: coverage, determinism, degenerate inputs."""

import numpy as np

from archgym.stats import median_ci


def test_interval_contains_the_median_and_covers_the_true_one():
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(200):
        x = rng.exponential(1.0, size=40)  # true median ln 2
        ci = median_ci(x, n_resamples=2000, seed=1)
        assert ci.low <= ci.median <= ci.high
        hits += ci.low <= np.log(2) <= ci.high
    assert 0.88 <= hits / 200 <= 0.99  # a 95% interval, percentile method, n = 40


def test_same_data_same_interval_and_degenerate_cases():
    x = [3.0, 1.0, 2.0, 5.0, 4.0]
    assert median_ci(x) == median_ci(x)
    assert median_ci([7.0]).low == median_ci([7.0]).high == 7.0
    assert median_ci([2.0] * 5).high == 2.0
    a, b = median_ci(range(30)), median_ci(range(100, 130))
    assert not a.overlaps(b) and a.overlaps(median_ci(range(10, 40)))


def test_overlapping_pairs_are_exactly_the_intersecting_intervals():
    from archgym.stats import MedianCI, overlapping

    cis = {"a": MedianCI(1, 0, 2, 30), "b": MedianCI(3, 1.5, 4, 30),
           "c": MedianCI(9, 8, 10, 30)}
    assert overlapping(cis) == [("a", "b")]
    assert overlapping({"x": MedianCI(1, 1, 1, 30), "y": MedianCI(1, 1, 1, 30)}) == [("x", "y")]


def test_median_band_brackets_the_median_curve_and_skips_missing_values():
    from archgym.stats import median_band

    rng = np.random.default_rng(3)
    curves = np.minimum.accumulate(rng.exponential(1.0, size=(30, 100)), axis=1)
    curves[:5, :10] = np.nan  # five runs without a value yet
    steps, low, high = median_band(curves, points=25)
    assert steps[0] == 1 and steps[-1] == 100 and len(steps) == 25
    median = np.nanmedian(curves, axis=0)[steps - 1]
    assert np.all(low <= median) and np.all(median <= high) and np.all(low < high)
    flat = median_band(np.full((4, 3), 2.0))
    assert flat[0].tolist() == [1, 2, 3] and flat[1].tolist() == flat[2].tolist() == [2.0] * 3
