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
- op cost: for an op with at most ``TABLE_MAX`` operands that may be fast, one binary per
  tier assignment of them, exactly one chosen, linked to the ``x_i``, costed exactly (the
  convex hull of the op's cost, much tighter than the max); otherwise ``t_j >=
  compute_j``, ``t_j >= fast_per_byte * sum(size_i x_i)`` and ``t_j >= slow_per_byte *
  (S_j - sum(size_i x_i))`` over the op's distinct operands (``S_j`` their total size);
- redundant per-op capacity rows: the aligned blocks of the fast tensors live at an op fit
  in ``align_up(capacity)``;
- minimise the sum of op costs.

With CP-SAT, a tier DP runs first (:func:`_tier_dp`): the exact minimum of the relaxation
that keeps only the per-op capacity rows, whose fast set, if it can be packed, is the
optimum without any search (:func:`optimal`'s ``decompose``).

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

import itertools
import math
import time
from dataclasses import dataclass
from functools import cached_property

from simulators.memmap.allocator import FastMemory
from simulators.memmap.cost import TimeModel
from simulators.memmap.greedy import greedy
from simulators.memmap.placement import Placement
from simulators.memmap.program import Program

SOLVERS = ("cp-sat", "highs")
_INT64_SAFE = 2**62
#: ops with at most this many operands that may be fast get the exact (table) cost model
TABLE_MAX = 6
#: most candidate tensors live at one op for the tier DP (2**width states per op)
DP_MAX_WIDTH = 14


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
        self.is_cand = set(self.cand)
        self.sizes = program.sizes
        self.slots = {i: (h.capacity_bytes - self.sizes[i]) // h.alignment_bytes
                      for i in self.cand}
        coeffs = [*model.compute, *(s * model.fast_per_byte for s in self.sizes),
                  *(s * model.slow_per_byte for s in self.sizes)]
        self.g = math.gcd(*coeffs) or 1
        self.op_total = [sum(self.sizes[t] for t in ops) for ops in model.operands]
        a = h.alignment_bytes
        self.blocks_cap = -(-h.capacity_bytes // a) * a
        self.ub = [self.op_cost(j, 0) + self.op_cost(j, self.op_total[j])
                   for j in range(len(model.compute))]

    @cached_property
    def pairs(self) -> list[tuple[int, int]]:
        """Candidate pairs whose live ranges meet (HiGHS's disjunctions)."""
        r = self.program.live_ranges
        return [(a, b) for n, a in enumerate(self.cand) for b in self.cand[n + 1:]
                if r[a][0] <= r[b][1] and r[b][0] <= r[a][1]]

    def op_cost(self, j: int, fast_bytes: int) -> int:
        """Op ``j``'s time (units / g) with ``fast_bytes`` of its operands in fast memory."""
        m = self.model
        return m.op_time(j, fast_bytes, self.op_total[j] - fast_bytes) // self.g

    def free(self, j: int) -> list[int]:
        """Op ``j``'s operands that may be fast."""
        return [i for i in self.model.operands[j] if i in self.is_cand]

    def table(self, j: int) -> list[tuple[tuple[int, ...], int]] | None:
        """Every tier assignment of op ``j``'s free operands with its exact cost, when there
        are at most ``TABLE_MAX`` of them (else ``None``): the convex hull of the op's cost,
        far tighter in the linear relaxation than ``t >= fast, t >= slow``."""
        free = self.free(j)
        if len(free) > TABLE_MAX:
            return None
        return [(bits, self.op_cost(j, sum(self.sizes[i] for i, b in zip(free, bits,
                                                                        strict=True) if b)))
                for bits in itertools.product((0, 1), repeat=len(free))]

    def crowded(self) -> list[list[int]]:
        """Per op, the candidates live there, where their aligned blocks exceed capacity."""
        live: list[list[int]] = [[] for _ in self.model.compute]
        for i in self.cand:
            a, b = self.program.live_ranges[i]
            for j in range(a, b + 1):
                live[j].append(i)
        return [ts for ts in live if sum(self.block(i) for i in ts) > self.blocks_cap]

    def block(self, i: int) -> int:
        """Aligned block of a fast tensor: ``[offset, align_up(offset + size))`` holds no
        other tensor's start, so live blocks are disjoint within ``align_up(capacity)``."""
        a = self.program.hierarchy.alignment_bytes
        return -(-self.sizes[i] // a) * a

    def fast_coef(self, t: int) -> int:
        return self.model.fast_per_byte * self.sizes[t] // self.g

    def slow_coef(self, t: int) -> int:
        return self.model.slow_per_byte * self.sizes[t] // self.g

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
    for live in terms.crowded():  # redundant, tightens the linear relaxation
        m.Add(sum(terms.block(i) * x[i] for i in live) <= terms.blocks_cap)
    objective = []
    for j in range(len(terms.model.compute)):
        free, table = terms.free(j), terms.table(j)
        if table is not None:
            y = [m.NewBoolVar(f"y{j}_{n}") for n in range(len(table))]
            m.AddExactlyOne(y)
            for n, i in enumerate(free):
                m.Add(x[i] == sum(yv for yv, (bits, _) in zip(y, table, strict=True)
                                  if bits[n]))
            objective += [cost * yv for yv, (_, cost) in zip(y, table, strict=True)]
            continue
        t = m.NewIntVar(terms.model.compute[j] // terms.g, terms.ub[j], f"t{j}")
        m.Add(t >= sum(terms.fast_coef(i) * x[i] for i in free))
        m.Add(t >= terms.model.slow_per_byte * terms.op_total[j] // terms.g
              - sum(terms.slow_coef(i) * x[i] for i in free))
        objective.append(t)
    m.Minimize(sum(objective))
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
    from scipy.sparse import coo_array

    program, align = terms.program, terms.program.hierarchy.alignment_bytes
    cap = program.hierarchy.capacity_bytes
    names: list[str] = []
    lb: list[float] = []
    ub: list[float] = []
    cost: list[float] = []

    def var(name: str, low: float, high: float, c: float = 0.0) -> int:
        names.append(name)
        lb.append(low)
        ub.append(high)
        cost.append(c)
        return len(names) - 1

    x = {i: var(f"x{i}", 0, 1) for i in terms.cand}
    k = {i: var(f"k{i}", 0, terms.slots[i]) for i in terms.cand}
    rows: list[dict[int, float]] = []
    lo: list[float] = []
    hi: list[float] = []

    def row(entries: dict[int, float], low: float, high: float) -> None:
        rows.append(entries)
        lo.append(low)
        hi.append(high)

    for j in range(len(terms.model.compute)):
        free, table = terms.free(j), terms.table(j)
        if table is not None:
            y = [var(f"y{j}_{n}", 0, 1, c) for n, (_, c) in enumerate(table)]
            row(dict.fromkeys(y, 1.0), 1, 1)
            for n, i in enumerate(free):
                row({x[i]: -1.0, **{yv: 1.0 for yv, (bits, _) in zip(y, table, strict=True)
                                    if bits[n]}}, 0, 0)
            continue
        t = var(f"t{j}", terms.model.compute[j] // terms.g, terms.ub[j], 1.0)
        row({t: 1.0, **{x[i]: -terms.fast_coef(i) for i in free}}, 0, np.inf)
        row({t: 1.0, **{x[i]: terms.slow_coef(i) for i in free}},
            terms.model.slow_per_byte * terms.op_total[j] // terms.g, np.inf)
    for a, b in terms.pairs:
        z = var(f"z{a}_{b}", 0, 1)
        # z = 1: a below b; z = 0: b below a; both rows slack unless both are fast
        row({k[a]: align, k[b]: -align, z: cap, x[a]: cap, x[b]: cap}, -np.inf,
            3 * cap - terms.sizes[a])
        row({k[b]: align, k[a]: -align, z: -cap, x[a]: cap, x[b]: cap}, -np.inf,
            2 * cap - terms.sizes[b])
    for live in terms.crowded():
        row({x[i]: terms.block(i) for i in live}, -np.inf, terms.blocks_cap)
    r = [n for n, e in enumerate(rows) for _ in e]
    c = [v for e in rows for v in e]
    d = [v for e in rows for v in e.values()]
    cons = [LinearConstraint(coo_array((d, (r, c)), shape=(len(rows), len(names))).tocsr(),
                             lo, hi)] if rows else []
    res = milp(np.array(cost), constraints=cons, integrality=np.ones(len(names)),
               bounds=Bounds(lb, ub), options={"time_limit": float(time_limit_s),
                                               "mip_rel_gap": 0.0, "disp": False})
    if res.x is None:
        return None, False, None, None, res.message
    v = np.round(res.x).astype(np.int64)
    place = tuple(align * int(v[k[i]]) if i in x and v[x[i]] else None
                  for i in range(len(program.tensors)))
    bound = getattr(res, "mip_dual_bound", None)
    return (place, res.status == 0, round(res.fun),
            None if bound is None else math.ceil(bound - 1e-6), res.message)


def _tier_dp(terms: _Terms) -> tuple[frozenset[int], int] | None:
    """Exact minimum over tier choices of the relaxation that keeps only a per-op capacity
    bound (the aligned blocks of the fast tensors live at an op fit in
    ``align_up(capacity)``), by dynamic programming over ops in order.

    The state after op ``j`` is the set of fast tensors among those live at both ``j`` and
    ``j + 1``; op ``j + 1``'s cost depends only on its operands, all live there. Returns
    ``(fast tensors, time in units / g)``, or ``None`` when more than ``DP_MAX_WIDTH``
    candidates are live at some op (too many states). Every valid placement satisfies the
    relaxation, so the value is a lower bound, and the optimum when the set can be packed.
    """
    ranges = terms.program.live_ranges
    n_ops = len(terms.model.compute)
    starts: list[list[int]] = [[] for _ in range(n_ops)]
    width = [0] * (n_ops + 1)
    for i in terms.cand:
        a, b = ranges[i]
        starts[a].append(i)
        width[a] += 1
        width[b + 1] -= 1
    run = 0
    for j in range(n_ops):
        run += width[j]
        if run > DP_MAX_WIDTH:
            return None
    sizes, ops = terms.sizes, terms.model.operands
    layer: dict[frozenset[int], int] = {frozenset(): 0}
    back: list[dict[frozenset[int], tuple[frozenset[int], frozenset[int]]]] = []
    for j in range(n_ops):
        new = starts[j]
        nxt: dict[frozenset[int], int] = {}
        how: dict[frozenset[int], tuple[frozenset[int], frozenset[int]]] = {}
        for state in sorted(layer, key=sorted):
            base = layer[state]
            for bits in itertools.product((0, 1), repeat=len(new)):
                chosen = frozenset(i for i, b in zip(new, bits, strict=True) if b)
                fast = state | chosen
                if sum(terms.block(i) for i in fast) > terms.blocks_cap:
                    continue
                cost = base + terms.op_cost(j, sum(sizes[i] for i in ops[j] if i in fast))
                key = frozenset(i for i in fast if ranges[i][1] > j)
                if key not in nxt or cost < nxt[key]:
                    nxt[key], how[key] = cost, (state, chosen)
        layer = nxt
        back.append(how)
    key = min(layer, key=lambda k: (layer[k], sorted(k)))
    best, fast = layer[key], set()
    for j in range(n_ops - 1, -1, -1):
        key, chosen = back[j][key]
        fast |= chosen
    return frozenset(fast), best


def _pack(terms: _Terms, fast: frozenset[int], time_limit_s: float, workers: int,
          seed: int) -> Placement | bool | None:
    """Offsets for exactly the tensors ``fast``: best fit in order of first use (largest
    first among equals), else a CP-SAT feasibility search. Returns the placement, ``False``
    when no packing exists (proven), ``None`` when the search ran out of time."""
    from ortools.sat.python import cp_model

    program, align = terms.program, terms.program.hierarchy.alignment_bytes
    mem = FastMemory(program)
    for i in sorted(fast, key=lambda i: (program.live_ranges[i][0], -terms.sizes[i], i)):
        offset = mem.best_fit(i)
        if offset is None:
            break
        mem.place(i, offset)
    else:
        return tuple(mem.placed.get(i) for i in range(len(program.tensors)))
    m = cp_model.CpModel()
    k = {i: m.NewIntVar(0, terms.slots[i], f"k{i}") for i in sorted(fast)}
    m.AddNoOverlap2D(
        [m.NewFixedSizeIntervalVar(align * k[i], terms.sizes[i], f"a{i}") for i in k],
        [m.NewFixedSizeIntervalVar(program.live_ranges[i][0],
                                   program.live_ranges[i][1] - program.live_ranges[i][0] + 1,
                                   f"l{i}") for i in k])
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = int(seed)
    status = solver.Solve(m)
    if status == cp_model.INFEASIBLE:
        return False
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return tuple(align * solver.Value(k[i]) if i in k else None
                 for i in range(len(program.tensors)))


def optimal(program: Program, time_limit_s: float = 60.0, solver: str = "cp-sat",
            workers: int = 1, seed: int = 0, decompose: bool = True,
            model: TimeModel | None = None) -> Solution:
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
    decompose
        With CP-SAT, first solve the tier choice exactly by dynamic programming under a
        per-op capacity bound (:func:`_tier_dp`) and pack its fast set (:func:`_pack`): if
        it packs, that is the optimum (the relaxation's minimum is achieved), proven
        without search. Programs whose ops have few tensors live at once (transformers,
        CNNs) are solved this way in well under a second; otherwise the full model runs.
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
    lower = 0
    if solver == "cp-sat" and decompose:
        dp = _tier_dp(terms)
        if dp is not None:
            fast, lower = dp
            packed = _pack(terms, fast, time_limit_s, workers, seed)
            if isinstance(packed, tuple):
                units = model.total([o is not None for o in packed])
                if units != lower * terms.g or units > hint_units:
                    raise RuntimeError(f"tier DP value {lower * terms.g} disagrees with the "
                                       f"cost model ({units}; greedy {hint_units}) on "
                                       f"{program.name!r}")
                return Solution(packed, True, units, units, "OPTIMAL (tier DP, packed)",
                                solver, time.perf_counter() - t0)
            time_limit_s = max(1e-3, time_limit_s - (time.perf_counter() - t0))
    if solver == "cp-sat":
        place, proven, obj, bound, status = _cp_sat(terms, hint, time_limit_s, workers, seed)
    else:
        place, proven, obj, bound, status = _highs(terms, time_limit_s)
    wall = time.perf_counter() - t0
    lower *= terms.g
    if place is None:
        return Solution(hint, False, hint_units, lower, str(status), solver, wall)
    units = model.total([o is not None for o in place])
    if proven and (obj * terms.g != units or units > hint_units):
        if solver == "cp-sat":  # exact integer arithmetic: a disagreement is a bug
            raise RuntimeError(f"cp-sat objective {obj * terms.g} disagrees with the cost "
                               f"model ({units} units; greedy {hint_units}) on "
                               f"{program.name!r}")
        # HiGHS works in floating point: on large time units its answer can be off
        proven, status = False, f"{status} (objective off by floating-point error)"
    bound = units if proven else max(lower, (bound or 0) * terms.g)
    if units > hint_units or (units == hint_units and not proven):
        return Solution(hint, False, hint_units, bound, str(status), solver, wall)
    return Solution(place, proven, units, bound, str(status), solver, wall)
