"""The exact minimum makespan of a small task graph, by OR-Tools CP-SAT.

Model: per task a start, an end and one optional fixed-size interval per processor that can
run it (exactly one present); a no-overlap constraint per processor; for every edge
``s_dst >= e_src + comm * (1 - same)``, where ``same`` may be 1 only if both tasks share a
processor; minimise the latest end. The HEFT schedule is given as a hint. Zero-length tasks
occupy no processor time (CP-SAT's no-overlap ignores them, and so does the checker).

The result says whether optimality was proven (``proven_optimal``; the solver's status
``OPTIMAL``) or only a feasible schedule was found within the time limit, with the best
lower bound. With one worker (the default) and a search that finishes, the result is
reproducible bit for bit; a wall-clock time limit that cuts the search short may not be.
Times must be integers (scale a float graph first).
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from simulators.soc.errors import SocInputError
from simulators.soc.graph import TaskGraph
from simulators.soc.heuristics import heft
from simulators.soc.schedule import Schedule


def optimal(graph: TaskGraph, time_limit: float = 10.0, workers: int = 1,
            seed: int = 0) -> Schedule:
    """Minimum-makespan schedule (or the best found within ``time_limit`` seconds)."""
    if not graph.is_integral:
        raise SocInputError(f"{graph.source}: the optimal scheduler needs integer exec_time and "
                            "comm values; scale the graph to integers first")
    if time_limit <= 0:
        raise SocInputError(f"time_limit: {time_limit!r}; must be > 0 seconds")
    n, P = graph.num_tasks, graph.num_procs
    horizon = sum(max(t for t in row if t is not None) for row in graph.exec_time) \
        + sum(c for _, _, c in graph.edges)
    m = cp_model.CpModel()
    start = [m.NewIntVar(0, horizon, f"s{i}") for i in range(n)]
    end = [m.NewIntVar(0, horizon, f"e{i}") for i in range(n)]
    on: list[dict[int, cp_model.IntVar]] = []
    per_proc: list[list[cp_model.IntervalVar]] = [[] for _ in range(P)]
    for i in range(n):
        lits = {}
        for p in graph.allowed[i]:
            x = m.NewBoolVar(f"x{i}_{p}")
            d = graph.exec_time[i][p]
            per_proc[p].append(m.NewOptionalFixedSizeIntervalVar(start[i], d, x, f"iv{i}_{p}"))
            lits[p] = x
        m.AddExactlyOne(lits.values())
        m.Add(end[i] == start[i] + sum(graph.exec_time[i][p] * x for p, x in lits.items()))
        on.append(lits)
    for ivs in per_proc:
        m.AddNoOverlap(ivs)
    for s, d, c in graph.edges:
        if c == 0:
            m.Add(start[d] >= end[s])
            continue
        both = []
        for p in set(on[s]) & set(on[d]):
            b = m.NewBoolVar(f"same{s}_{d}_{p}")
            m.AddImplication(b, on[s][p])
            m.AddImplication(b, on[d][p])
            both.append(b)
        m.Add(start[d] >= end[s] + c - c * sum(both))
    makespan = m.NewIntVar(0, horizon, "makespan")
    m.AddMaxEquality(makespan, end)
    m.Minimize(makespan)
    hint = heft(graph)
    for i in range(n):
        m.AddHint(start[i], hint.start[i])
        for p, x in on[i].items():
            m.AddHint(x, int(hint.proc[i] == p))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = int(seed)
    status = solver.Solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Schedule("optimal", hint.proc, hint.start, hint.finish, hint.makespan,
                        extra={"proven_optimal": False, "status": solver.StatusName(status),
                               "lower_bound": None})
    proc = tuple(next(p for p, x in on[i].items() if solver.Value(x)) for i in range(n))
    st = tuple(solver.Value(v) for v in start)
    fin = tuple(s + graph.exec_time[i][proc[i]] for i, s in enumerate(st))
    return Schedule("optimal", proc, st, fin, max(fin),
                    extra={"proven_optimal": status == cp_model.OPTIMAL,
                           "status": solver.StatusName(status),
                           "lower_bound": int(solver.BestObjectiveBound())})
