"""Seeded random task graphs: layered DAGs as in the HEFT paper's experiments.

Topcuoglu, Hariri and Wu (IEEE TPDS 2002, Sec. 5.1) characterise a random graph by

- ``v`` tasks; the shape ``alpha``: the number of levels is drawn with mean ``sqrt(v)/alpha``
  and the width of a level has mean ``alpha * sqrt(v)`` (small ``alpha``: long, thin
  graphs; large: short, wide, more parallel);
- ``out_degree``: the mean number of successors of a task;
- ``CCR``: the ratio of the mean communication cost to the mean computation cost;
- ``beta``, the heterogeneity (range percentage of computation costs): task ``i`` draws a
  mean cost ``w_i`` uniformly in ``[0, 2 w_DAG]``, then its cost on each processor uniformly
  in ``[w_i (1 - beta/2), w_i (1 + beta/2)]``.

Here the first and last levels hold a single entry and a single exit task; every task of a
level has a predecessor in the level above and a successor in the level below; further
edges go one or two levels down until the mean out-degree is reached. Edge costs are uniform
in ``[0, 2 CCR w_DAG]``. Times are rounded to integers (at least 1 for execution), tasks are
numbered level by level, so index order is topological. Randomness: one ``numpy`` Generator
seeded with ``seed``: the same arguments give the same graph, bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from simulators.soc.errors import SocInputError
from simulators.soc.graph import TaskGraph


def layered_dag(num_tasks: int, num_procs: int, ccr: float = 1.0, beta: float = 0.5,
                alpha: float = 1.0, out_degree: float = 3.0, w_dag: int = 1000,
                seed: int = 0) -> TaskGraph:
    """A random layered task graph (see the module docstring for the parameters)."""
    for name, value, low in (("num_tasks", num_tasks, 1), ("num_procs", num_procs, 1)):
        if not isinstance(value, int) or value < low:
            raise SocInputError(f"{name}: {value!r}; must be an integer >= {low}")
    for name, value in (("ccr", ccr), ("alpha", alpha), ("out_degree", out_degree),
                        ("w_dag", w_dag)):
        if not value > 0:
            raise SocInputError(f"{name}: {value!r}; must be > 0")
    if not 0 <= beta <= 2:
        raise SocInputError(f"beta: {beta!r}; must be in [0, 2] (heterogeneity range)")
    rng = np.random.default_rng(seed)
    v = num_tasks
    levels = _level_sizes(v, alpha, rng)
    level_of = np.repeat(np.arange(len(levels)), levels)
    first = np.concatenate([[0], np.cumsum(levels)])  # first task index of each level
    edges: set[tuple[int, int]] = set()
    for lv in range(1, len(levels)):  # a predecessor in the level above for every task
        for t in range(first[lv], first[lv + 1]):
            edges.add((int(rng.integers(first[lv - 1], first[lv])), t))
    has_succ = {s for s, _ in edges}
    for lv in range(len(levels) - 1):  # a successor in the level below for every task
        for t in range(first[lv], first[lv + 1]):
            if t not in has_succ:
                edges.add((t, int(rng.integers(first[lv + 1], first[lv + 2]))))
    non_exit = int(first[-2]) if len(levels) > 1 else 0
    target = int(round(out_degree * non_exit))
    for _ in range(max(0, target - len(edges)) * 4):  # bounded attempts, duplicates skipped
        if len(edges) >= target:
            break
        s = int(rng.integers(0, non_exit))
        lo = first[level_of[s] + 1]
        hi = first[min(level_of[s] + 3, len(levels))]
        edges.add((s, int(rng.integers(lo, hi))))
    mean_w = rng.uniform(0, 2 * w_dag, size=v)
    spread = rng.uniform(1 - beta / 2, 1 + beta / 2, size=(v, num_procs))
    exec_time = np.maximum(1, np.rint(mean_w[:, None] * spread)).astype(np.int64)
    ordered = sorted(edges)
    comm = np.rint(rng.uniform(0, 2 * ccr * w_dag, size=len(ordered))).astype(np.int64)
    return TaskGraph(
        tasks=[f"t{i}" for i in range(v)],
        processors=[f"p{p}" for p in range(num_procs)],
        exec_time=exec_time.tolist(),
        edges=[(s, d, int(c)) for (s, d), c in zip(ordered, comm, strict=True)],
        name=f"layered_n{v}_p{num_procs}_s{seed}",
        description=(f"random layered DAG (Topcuoglu et al. 2002): v={v}, P={num_procs}, "
                     f"CCR={ccr}, beta={beta}, alpha={alpha}, out_degree={out_degree}, "
                     f"w_DAG={w_dag}, seed={seed}"),
    )


def _level_sizes(v: int, alpha: float, rng: np.random.Generator) -> list[int]:
    """Level widths: one entry, one exit, and the rest over a random number of levels whose
    mean is ``sqrt(v)/alpha``."""
    if v <= 2:
        return [1] * v
    mean_h = max(1.0, math.sqrt(v) / alpha)
    inner = min(v - 2, max(1, int(rng.integers(1, int(2 * mean_h) + 1))))
    sizes = 1 + rng.multinomial(v - 2 - inner, np.full(inner, 1.0 / inner))
    return [1, *sizes.tolist(), 1]


def measured_ccr(graph: TaskGraph) -> float:
    """Mean edge cost over mean execution time (the graph's actual CCR)."""
    times = [t for row in graph.exec_time for t in row if t is not None]
    if not graph.edges:
        return 0.0
    return (sum(c for _, _, c in graph.edges) / len(graph.edges)) / (sum(times) / len(times))
