"""The exact optimum of the game by integer programming, with a flag saying if it is proven.

Formulation (both solvers), over the tensors that fit (``size <= capacity_bytes``; the rest
are slow):

- ``x_i`` in {0, 1}: tensor ``i`` is fast; ``k_i`` in ``0 .. (capacity - size_i) //
  alignment``: its offset is ``alignment * k_i`` (aligned and inside capacity by
  construction);
- no overlap: two fast tensors whose inclusive live ranges meet are disjoint in
  ``[offset, offset + size)``. CP-SAT states this as one ``NoOverlap2D`` over optional
  rectangles (address x live range, present iff ``x_i``); the HiGHS model uses an ordering
  binary per conflicting pair with big-M ``capacity_bytes``;
- op time ``t_j >= compute_j``, ``t_j >= fast_per_byte * sum(size_i x_i)`` and
  ``t_j >= slow_per_byte * (S_j - sum(size_i x_i))`` over the op's distinct operands
  (``S_j`` their total size); minimise ``sum_j t_j``.

Every coefficient is an integer in the exact time units of
:class:`~simulators.memmap.cost.TimeModel`, divided by their common gcd, so the objective
is integral and "optimal" means exactly optimal: both solvers run with a zero relative and
absolute gap (a default gap such as 1e-4 would accept the greedy on programs where it is
within 0.01 % of the optimum). CP-SAT is the default; HiGHS (``scipy.optimize.milp``) is an
independent cross-check. The greedy placement is the solver's hint, and the better of the
two is returned, so the result is never worse than the greedy. The returned placement is
re-costed by :mod:`simulators.memmap.cost` and the solver's objective must agree exactly.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from simulators.memmap.cost import TimeModel
from simulators.memmap.greedy import greedy
from simulators.memmap.placement import Placement
from simulators.memmap.program import Program

SOLVERS = ("cp-sat", "highs")
_INT64_SAFE = 2**62


@dataclass(frozen=True)
class Solution:
    """An exact solver's answer: the placement, whether it is proven optimal, the objective
    and the best lower bound found (both in :class:`TimeModel` units)."""

    placement: Placement
    proven_optimal: bool
    objective_units: int
    bound_units: int
    status: str
    solver: str
    wall_seconds: float


class _Terms:
    """The integer model shared by both formulations."""

    def __init__(self, program: Program, model: TimeModel):
        h = program.hierarchy
        self.program, self.model = program, model
        self.cand = [i for i in range(len(program.tensors)) if program.fits(i)]
        self.sizes = program.sizes
        self.slots = {i: (h.capacity_bytes - self.sizes[i]) // h.alignment_bytes
                      for i in self.cand}
        r = program.live_ranges
        self.pairs = [(a, b) for n, a in enumerate(self.cand) for b in self.cand[n + 1:]
                      if r[a][0] <= r[b][1] and r[b][0] <= r[a][1]]
        coeffs = [*model.compute, *(s * model.fast_per_byte for s in self.sizes),
                  *(s * model.slow_per_byte for s in self.sizes)]
        self.g = math.gcd(*coeffs) or 1
        self.comp = [c // self.g for c in model.compute]
        self.uf, self.us = model.fast_per_byte, model.slow_per_byte  # times size, then / g
        self.op_total = [sum(self.sizes[t] for t in ops) for ops in model.operands]
        self.ub = [max(self.comp[j], self.uf * self.op_total[j] // self.g,
                       self.us * self.op_total[j] // self.g)
                   for j in range(len(model.compute))]

    def fast_coef(self, t: int) -> int:
        return self.uf * self.sizes[t] // self.g

    def slow_coef(self, t: int) -> int:
        return self.us * self.sizes[t] // self.g

    def fits_int64(self) -> bool:
        return sum(self.ub) < _INT64_SAFE


def _cp_sat(terms: _Terms, hint: Placement, time_limit_s: float, workers: int, seed: int):
    from ortools.sat.python import cp_model

    program, align = terms.program, terms.program.hierarchy.alignment_bytes
    m = cp_model.CpModel()
    x, k = {}, {}
    xs, ys = [], []
    for i in terms.cand:
        x[i] = m.NewBoolVar(f"x{i}")
        k[i] = m.NewIntVar(0, terms.slots[i], f"k{i}")
        a, b = program.live_ranges[i]
        xs.append(m.NewOptionalFixedSizeIntervalVar(align * k[i], terms.sizes[i], x[i],
                                                    f"addr{i}"))
        ys.append(m.NewOptionalFixedSizeIntervalVar(a, b - a + 1, x[i], f"live{i}"))
        m.AddHint(x[i], hint[i] is not None)
        m.AddHint(k[i], (hint[i] or 0) // align)
    m.AddNoOverlap2D(xs, ys)
    ts = []
    for j, ops in enumerate(terms.model.operands):
        t = m.NewIntVar(terms.comp[j], terms.ub[j], f"t{j}")
        m.Add(t >= sum(terms.fast_coef(i) * x[i] for i in ops if i in x))
        m.Add(t >= terms.us * terms.op_total[j] // terms.g
              - sum(terms.slow_coef(i) * x[i] for i in ops if i in x))
        ts.append(t)
    m.Minimize(sum(ts))
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = float(time_limit_s)
    p.num_workers = int(workers)
    p.random_seed = int(seed)
    p.relative_gap_limit = 0.0
    p.absolute_gap_limit = 0.0
    status = solver.Solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, False, None, None, solver.StatusName(status)
    place = tuple(align * solver.Value(k[i]) if i in x and solver.Value(x[i]) else None
                  for i in range(len(program.tensors)))
    return (place, status == cp_model.OPTIMAL, round(solver.ObjectiveValue()),
            math.ceil(solver.BestObjectiveBound() - 1e-6), solver.StatusName(status))


def _highs(terms: _Terms, time_limit_s: float):
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    program, align = terms.program, terms.program.hierarchy.alignment_bytes
    cap = program.hierarchy.capacity_bytes
    nc, no, npair = len(terms.cand), len(terms.model.compute), len(terms.pairs)
    col = {i: n for n, i in enumerate(terms.cand)}  # x at col[i], k at nc + col[i]
    nt = 2 * nc  # t_j at nt + j; z_p at nt + no + p
    nvar = nt + no + npair
    rows, lo, hi = [], [], []

    def row(entries: dict[int, float], low: float, high: float) -> None:
        r = np.zeros(nvar)
        for c, v in entries.items():
            r[c] += v
        rows.append(r)
        lo.append(low)
        hi.append(high)

    for j, ops in enumerate(terms.model.operands):
        inside = [i for i in ops if i in col]
        row({nt + j: 1, **{col[i]: -terms.fast_coef(i) for i in inside}}, 0, np.inf)
        row({nt + j: 1, **{col[i]: terms.slow_coef(i) for i in inside}},
            terms.us * terms.op_total[j] // terms.g, np.inf)
    for p, (a, b) in enumerate(terms.pairs):
        za, xa, xb, ka, kb = nt + no + p, col[a], col[b], nc + col[a], nc + col[b]
        # z = 1: a below b; z = 0: b below a; relaxed unless both are fast
        row({ka: align, kb: -align, za: cap, xa: cap, xb: cap}, -np.inf,
            3 * cap - terms.sizes[a])
        row({kb: align, ka: -align, za: -cap, xa: cap, xb: cap}, -np.inf,
            2 * cap - terms.sizes[b])
    c = np.zeros(nvar)
    c[nt:nt + no] = 1
    lb = np.zeros(nvar)
    ub = np.ones(nvar)
    for i in terms.cand:
        ub[nc + col[i]] = terms.slots[i]
    lb[nt:nt + no] = terms.comp
    ub[nt:nt + no] = terms.ub
    integrality = np.ones(nvar)
    cons = [LinearConstraint(np.array(rows), lo, hi)] if rows else []
    res = milp(c, constraints=cons, integrality=integrality, bounds=Bounds(lb, ub),
               options={"time_limit": float(time_limit_s), "mip_rel_gap": 0.0,
                        "disp": False})
    if res.x is None:
        return None, False, None, None, res.message
    v = np.round(res.x).astype(np.int64)
    place = tuple(align * int(v[nc + col[i]]) if i in col and v[col[i]] else None
                  for i in range(len(program.tensors)))
    bound = getattr(res, "mip_dual_bound", None)
    return (place, res.status == 0, round(res.fun),
            None if bound is None else math.ceil(bound - 1e-6), res.message)


def optimal(program: Program, time_limit_s: float = 60.0, solver: str = "cp-sat",
            workers: int = 1, seed: int = 0, model: TimeModel | None = None) -> Solution:
    """Minimum-time placement of ``program`` by integer programming (module docstring).

    Parameters
    ----------
    time_limit_s
        Wall-clock limit of the solver; when it is hit the best placement found (at least
        the greedy) is returned with ``proven_optimal=False``.
    solver
        ``"cp-sat"`` (OR-Tools) or ``"highs"`` (scipy ``milp``).
    workers, seed
        CP-SAT search workers and random seed. One worker is deterministic when the search
        finishes within the limit; more workers are faster but may return a different
        placement of the same (proven) optimal time.
    """
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; solvers: {', '.join(SOLVERS)}")
    if not (isinstance(time_limit_s, int | float) and time_limit_s > 0):
        raise ValueError(f"time_limit_s must be a number > 0, got {time_limit_s!r}")
    model = model or TimeModel.of(program)
    terms = _Terms(program, model)
    hint = greedy(program, model)
    hint_units = model.total([o is not None for o in hint])
    t0 = time.perf_counter()
    if not terms.cand:  # nothing fits: all-slow is the only placement
        return Solution(hint, True, hint_units, hint_units, "OPTIMAL", solver, 0.0)
    if not terms.fits_int64():
        return Solution(hint, False, hint_units, 0, "TIME UNITS EXCEED 64 BITS", solver, 0.0)
    if solver == "cp-sat":
        place, proven, obj, bound, status = _cp_sat(terms, hint, time_limit_s, workers, seed)
    else:
        place, proven, obj, bound, status = _highs(terms, time_limit_s)
    wall = time.perf_counter() - t0
    if place is None:
        return Solution(hint, False, hint_units, 0, str(status), solver, wall)
    units = model.total([o is not None for o in place])
    if proven and (obj * terms.g != units or units > hint_units):
        raise RuntimeError(f"{solver} objective {obj * terms.g} disagrees with the cost model "
                           f"({units} units; greedy {hint_units}) on {program.name!r}")
    bound = units if proven else max(0, (bound or 0) * terms.g)
    if units > hint_units or (units == hint_units and not proven):
        return Solution(hint, False, hint_units, bound, str(status), solver, wall)
    return Solution(place, proven, units, bound, str(status), solver, wall)
