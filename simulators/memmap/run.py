"""One call in, one result out: place a program's tensors with a policy and cost them."""

from __future__ import annotations

import os

from simulators.memmap.cost import MemmapResult, TimeModel, evaluate
from simulators.memmap.greedy import all_slow, greedy
from simulators.memmap.optimal import optimal
from simulators.memmap.program import Program, read_program

POLICIES = ("slow", "greedy", "optimal")


def simulate(program: Program | str | os.PathLike, policy: str = "greedy",
             time_limit_s: float = 60.0, solver: str = "cp-sat",
             workers: int = 1) -> MemmapResult:
    """Place ``program`` (a :class:`Program` or a program JSON file) with ``policy``:
    ``slow`` (everything in HBM), ``greedy`` (XLA-style, :mod:`.greedy`) or ``optimal``
    (exact, :mod:`.optimal`, within ``time_limit_s``; the result's ``proven_optimal`` says
    whether optimality was proven, and ``bound_time_s`` gives the best lower bound).
    The placement is checked by the independent checker (``valid``)."""
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; policies: {', '.join(POLICIES)}")
    if not isinstance(program, Program):
        program = read_program(program)
    model = TimeModel.of(program)
    if policy == "slow":
        return evaluate(program, all_slow(program), policy, model=model)
    if policy == "greedy":
        return evaluate(program, greedy(program, model), policy, model=model)
    sol = optimal(program, time_limit_s=time_limit_s, solver=solver, workers=workers,
                  model=model)
    return evaluate(program, sol.placement, policy, proven_optimal=sol.proven_optimal,
                    model=model, extra={"bound_time_s": model.seconds(sol.bound_units),
                                        "solver": sol.solver,
                                        "solver_status": sol.status})
