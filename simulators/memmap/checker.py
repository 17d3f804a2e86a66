"""Independent validity checker for placements (its own code path).

It shares nothing with the cost model, the greedy heuristic, the exact solver or the game
state beyond the parsed :class:`~simulators.memmap.program.Program`: live ranges are
recomputed here from the ops' ``reads``/``writes``, and overlaps are found by a sweep over
ops (at each op, the fast tensors live there sorted by offset, each compared with the
furthest-reaching one before it) rather than by the pairwise interval tests the solvers
use. The rules (issue 11, section 2):

- one entry per tensor: ``None`` (slow) or an ``int`` offset (fast);
- ``offset >= 0``, ``offset % alignment_bytes == 0`` and ``offset + size <= capacity_bytes``
  (so a tensor larger than fast memory can only be slow);
- two fast tensors whose inclusive live ranges share an op do not overlap in
  ``[offset, offset + size)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from simulators.memmap.placement import PlacementError
from simulators.memmap.program import Program


def _live_ranges(program: Program) -> list[tuple[int, int]]:
    n = len(program.tensors)
    first, last = [None] * n, [None] * n
    for j, op in enumerate(program.ops):
        for t in (*op.reads, *op.writes):
            if first[t] is None:
                first[t] = j
            last[t] = j
    return list(zip(first, last, strict=True))


def check(program: Program, placement: Sequence[int | None]) -> list[str]:
    """Every rule ``placement`` breaks, as messages naming the tensors; empty when valid."""
    tensors = program.tensors
    if len(placement) != len(tensors):
        return [f"placement has {len(placement)} entries, the program has {len(tensors)} "
                f"tensors"]
    h = program.hierarchy
    bad: list[str] = []
    fast: list[int] = []
    for i, off in enumerate(placement):
        if off is None:
            continue
        name = f"tensor {i} ({tensors[i].name!r})"
        if isinstance(off, bool) or not isinstance(off, int):
            bad.append(f"{name}: offset must be an integer or None (slow), got {off!r}")
            continue
        ok = True
        if off < 0:
            bad.append(f"{name}: offset {off} is negative")
            ok = False
        if off % h.alignment_bytes:
            bad.append(f"{name}: offset {off} is not a multiple of alignment_bytes "
                       f"{h.alignment_bytes}")
            ok = False
        if off + tensors[i].size > h.capacity_bytes:
            bad.append(f"{name}: [{off}, {off + tensors[i].size}) exceeds capacity_bytes "
                       f"{h.capacity_bytes}")
            ok = False
        if ok:
            fast.append(i)

    ranges = _live_ranges(program)
    live_at: list[list[int]] = [[] for _ in program.ops]
    for i in fast:
        a, b = ranges[i]
        for j in range(a, b + 1):
            live_at[j].append(i)
    seen: set[tuple[int, int]] = set()
    for j, live in enumerate(live_at):
        live.sort(key=lambda i: (placement[i], i))
        reach, reacher = -1, -1
        for i in live:
            if placement[i] < reach and (reacher, i) not in seen:
                seen.add((reacher, i))
                bad.append(
                    f"tensors {reacher} ({tensors[reacher].name!r}) at "
                    f"[{placement[reacher]}, {placement[reacher] + tensors[reacher].size}) and "
                    f"{i} ({tensors[i].name!r}) at [{placement[i]}, "
                    f"{placement[i] + tensors[i].size}) overlap in fast memory and are both "
                    f"live at op {j} ({program.ops[j].name!r})")
            end = placement[i] + tensors[i].size
            if end > reach:
                reach, reacher = end, i
    return bad


def assert_valid(program: Program, placement: Sequence[int | None]) -> None:
    """Raise :class:`PlacementError` listing the broken rules, if any."""
    bad = check(program, placement)
    if bad:
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        raise PlacementError(f"{program.source}: invalid placement: " + "; ".join(bad[:5])
                             + more)
