"""Statistics for comparing searchers and policies: medians with bootstrap confidence
intervals, the one implementation every study, benchmark and report uses.

A ranking of searchers rests on at least 30 seeds with equal budgets (fewer seeds flip the
ranking of DRAM-v0's sample-efficiency study); intervals are percentile bootstrap intervals
of the median (scipy.stats.bootstrap, seeded, so the same data give the same interval).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

MIN_SEEDS = 30


@dataclass(frozen=True)
class MedianCI:
    """Median of ``n`` values with a ``level`` bootstrap confidence interval."""

    median: float
    low: float
    high: float
    n: int
    level: float = 0.95

    def overlaps(self, other: MedianCI) -> bool:
        return self.low <= other.high and other.low <= self.high

    def to_dict(self) -> dict[str, float]:
        return {"median": self.median, "ci_low": self.low, "ci_high": self.high, "n": self.n,
                "level": self.level}

    def __str__(self) -> str:
        return f"{self.median:.4g} [{self.low:.4g}, {self.high:.4g}]"


def median_ci(values: Sequence[float], level: float = 0.95, n_resamples: int = 10_000,
              seed: int = 0) -> MedianCI:
    """The median of ``values`` and its percentile bootstrap interval (infinite values, such
    as "never reached the target", are kept: the median handles them)."""
    from scipy.stats import bootstrap

    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        raise ValueError("median_ci needs at least one value")
    med = float(np.median(x))
    if x.size == 1 or np.all(x == x[0]):
        return MedianCI(med, med, med, int(x.size), level)
    with np.errstate(invalid="ignore"):  # inf - inf in scipy's spread estimate: unused here
        res = bootstrap((x,), np.median, confidence_level=level, n_resamples=n_resamples,
                        method="percentile", random_state=np.random.default_rng(seed))
    return MedianCI(med, float(res.confidence_interval.low),
                    float(res.confidence_interval.high), int(x.size), level)


def overlapping(cis: Mapping[str, MedianCI]) -> list[tuple[str, str]]:
    """Pairs of names (in the mapping's order) whose intervals overlap: a ranking of those
    two is not supported by the data."""
    names = list(cis)
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1:]
            if cis[a].overlaps(cis[b])]


def median_band(curves: np.ndarray, points: int = 40, level: float = 0.95,
                n_resamples: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bootstrap interval of the median of ``curves`` (runs x steps; NaN: a run has no
    value yet) at up to ``points`` evenly spread steps: ``(steps, low, high)``, steps
    1-based, for the band around a median curve in plots."""
    curves = np.asarray(curves, dtype=np.float64)
    n = curves.shape[1]
    steps = np.unique(np.linspace(1, n, min(n, points)).round().astype(int))
    keep, low, high = [], [], []
    for s in steps:
        column = curves[:, s - 1]
        column = column[~np.isnan(column)]
        if column.size:
            ci = median_ci(column, level, n_resamples)
            keep.append(s)
            low.append(ci.low)
            high.append(ci.high)
    return np.array(keep, dtype=int), np.array(low), np.array(high)
