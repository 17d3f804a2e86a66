"""The memory-mapping game (mallocGame): place an ML program's tensors in a two-tier
memory hierarchy (scarce fast on-chip SRAM, or slow HBM) to minimise its execution time.

>>> from simulators.memmap import read_program, greedy, evaluate  # doctest: +SKIP
>>> p = read_program("program.json")  # doctest: +SKIP
>>> evaluate(p, greedy(p), "greedy").to_dict()  # doctest: +SKIP

Modules: :mod:`.program` (format, reader/writer), :mod:`.cost` (exact cost and reported
figures), :mod:`.checker` (independent validity checker), :mod:`.greedy` (all-slow and
XLA-style greedy), :mod:`.optimal` (exact optimum, CP-SAT / HiGHS), :mod:`.game` (the
steppable game for sequential environments), :mod:`.hardware` (area and energy),
:mod:`.run` (``simulate``: one call, one result), :mod:`.torch_import` (PyTorch programs),
:mod:`.prefetch` (optional asynchronous copies). See ``docs/memmap.md``.
Follows Wang et al., "Optimizing Memory Mapping Using Deep Reinforcement Learning"
(arXiv:2305.07440, 2023) for the game and XLA's memory-space assignment for the baseline.
"""

from simulators.memmap.checker import assert_valid, check
from simulators.memmap.cost import MemmapResult, TimeModel, evaluate
from simulators.memmap.game import FEATURES, SLOT_FEATURES, Game, actions_for, greedy_action
from simulators.memmap.greedy import all_slow, greedy
from simulators.memmap.hardware import (
    TECH_45NM,
    TECH_N5_AREA,
    Technology,
    hardware_cost,
    sram_area_mm2,
    sram_pj_per_byte,
)
from simulators.memmap.optimal import Solution, optimal
from simulators.memmap.placement import (
    Placement,
    PlacementError,
    placement_from_json,
    placement_to_json,
)
from simulators.memmap.prefetch import (
    PrefetchResult,
    Residency,
    check_prefetch,
    from_placement,
    prefetch_best,
    simulate_prefetch,
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
from simulators.memmap.run import POLICIES, simulate

__all__ = [
    "FEATURES",
    "POLICIES",
    "SCHEMA",
    "SLOT_FEATURES",
    "TECH_45NM",
    "TECH_N5_AREA",
    "Game",
    "Technology",
    "actions_for",
    "greedy_action",
    "hardware_cost",
    "simulate",
    "sram_area_mm2",
    "sram_pj_per_byte",
    "Hierarchy",
    "MemmapResult",
    "Op",
    "Placement",
    "PlacementError",
    "PrefetchResult",
    "Residency",
    "check_prefetch",
    "from_placement",
    "prefetch_best",
    "simulate_prefetch",
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
