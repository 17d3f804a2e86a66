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
