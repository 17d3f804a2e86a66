"""The memory-mapping game (mallocGame): place an ML program's tensors in a two-tier
memory hierarchy (scarce fast on-chip SRAM, or slow HBM) to minimise its execution time.

>>> from simulators.memmap import read_program, greedy, evaluate  # doctest: +SKIP
>>> p = read_program("program.json")  # doctest: +SKIP
>>> evaluate(p, greedy(p), "greedy").to_dict()  # doctest: +SKIP

Modules: :mod:`.program` (format, reader/writer), :mod:`.cost` (exact cost and reported
figures), :mod:`.checker` (independent validity checker), :mod:`.greedy` (all-slow and
XLA-style greedy), :mod:`.optimal` (exact optimum, CP-SAT / HiGHS). See ``docs/memmap.md``.
Follows Wang et al., "Optimizing Memory Mapping Using Deep Reinforcement Learning"
(arXiv:2305.07440, 2023) for the game and XLA's memory-space assignment for the baseline.
"""

from simulators.memmap.checker import assert_valid, check
from simulators.memmap.cost import MemmapResult, TimeModel, evaluate
from simulators.memmap.greedy import all_slow, greedy
from simulators.memmap.optimal import Solution, optimal
from simulators.memmap.placement import (
    Placement,
    PlacementError,
    placement_from_json,
    placement_to_json,
)
from simulators.memmap.program import (
    SCHEMA,
    Hierarchy,
    Op,
    Program,
    ProgramError,
    Tensor,
    program_from_dict,
    read_program,
    write_program,
)

__all__ = [
    "SCHEMA",
    "Hierarchy",
    "MemmapResult",
    "Op",
    "Placement",
    "PlacementError",
    "Program",
    "ProgramError",
    "Solution",
    "Tensor",
    "TimeModel",
    "all_slow",
    "assert_valid",
    "check",
    "evaluate",
    "greedy",
    "optimal",
    "placement_from_json",
    "placement_to_json",
    "program_from_dict",
    "read_program",
    "write_program",
]
