"""Exact task priorities: upward and downward ranks (HEFT, CPOP) and the optimistic cost table
(PEFT), computed in rational arithmetic so that ties are real ties, not rounding artefacts.

Definitions (Topcuoglu, Hariri and Wu, IEEE TPDS 2002; Arabnejad and Barbosa, IEEE TPDS 2014):

- ``w(i)``: the mean of task ``i``'s execution times over the processors that can run it;
- the mean communication cost of edge ``(i, j)`` is its ``comm``;
- ``rank_u(i) = w(i) + max over successors j of (comm(i, j) + rank_u(j))`` (``w(i)`` at exits);
- ``rank_d(i) = max over predecessors j of (rank_d(j) + w(j) + comm(j, i))`` (0 at entries);
- ``OCT(i, p) = max over successors j of min over processors w of
  (OCT(j, w) + exec(j, w) + (comm(i, j) if w != p else 0))``, 0 for exit tasks;
  ``rank_oct(i)`` is the mean of ``OCT(i, p)`` over the processors that can run ``i``.

Integers stay integers where the value is integral; otherwise the value is a
:class:`fractions.Fraction`. Float inputs are converted exactly (``Fraction(x)``), so the
ranks of a float graph are the exact ranks of the binary values it holds.
"""

from __future__ import annotations

from fractions import Fraction

from simulators.soc.graph import TaskGraph

Rational = int | Fraction


def exact(x: int | float | Fraction) -> Rational:
    """``x`` as an exact rational (ints unchanged, floats to their exact binary value)."""
    return Fraction(x) if isinstance(x, float) else x


def ratio(num: Rational, den: int) -> Rational:
    """``num / den`` exactly: an int when it divides, else a Fraction."""
    if isinstance(num, int) and num % den == 0:
        return num // den
    q = Fraction(num) / den
    return q.numerator if q.denominator == 1 else q


def mean_exec(graph: TaskGraph) -> list[Rational]:
    """``w(i)`` for every task: the exact mean over the processors that can run it."""
    out = []
    for row, ok in zip(graph.exec_time, graph.allowed, strict=True):
        out.append(ratio(sum(exact(row[p]) for p in ok), len(ok)))
    return out


def upward_rank(graph: TaskGraph, w: list[Rational] | None = None) -> list[Rational]:
    """``rank_u`` of every task (the length of the longest path to an exit, exit included)."""
    w = mean_exec(graph) if w is None else w
    rank: list[Rational] = [0] * graph.num_tasks
    for i in reversed(graph.topo_order):
        best: Rational = 0
        for j, c in graph.succ[i]:
            v = exact(c) + rank[j]
            if v > best:
                best = v
        rank[i] = w[i] + best
    return rank


def downward_rank(graph: TaskGraph, w: list[Rational] | None = None) -> list[Rational]:
    """``rank_d`` of every task (the longest path from an entry, the task excluded)."""
    w = mean_exec(graph) if w is None else w
    rank: list[Rational] = [0] * graph.num_tasks
    for j in graph.topo_order:
        best: Rational = 0
        for i, c in graph.pred[j]:
            v = rank[i] + w[i] + exact(c)
            if v > best:
                best = v
        rank[j] = best
    return rank


def optimistic_cost_table(graph: TaskGraph) -> list[list[Rational | None]]:
    """PEFT's ``OCT[i][p]`` (``None`` where task ``i`` cannot run on ``p``)."""
    n, P = graph.num_tasks, graph.num_procs
    oct_: list[list[Rational | None]] = [[None] * P for _ in range(n)]
    # reach[j][w] = OCT(j, w) + exec(j, w): the optimistic remaining time once j starts on w
    reach: list[list[Rational | None]] = [[None] * P for _ in range(n)]
    for i in reversed(graph.topo_order):
        row = [0] * P
        for j, c in graph.succ[i]:
            rj = reach[j]
            best_any = min(v for v in rj if v is not None)
            cost = best_any + exact(c)
            for p in range(P):
                v = cost if rj[p] is None or rj[p] > cost else rj[p]
                if v > row[p]:
                    row[p] = v
        for p in graph.allowed[i]:
            oct_[i][p] = row[p]
            reach[i][p] = row[p] + exact(graph.exec_time[i][p])
    return oct_


def mean_oct(graph: TaskGraph, oct_: list[list[Rational | None]]) -> list[Rational]:
    """``rank_oct(i)``: the exact mean of ``OCT(i, p)`` over the processors that can run ``i``."""
    return [ratio(sum(oct_[i][p] for p in ok), len(ok)) for i, ok in enumerate(graph.allowed)]
