"""Optional prefetch/evict mode: asynchronous copies between the tiers that overlap compute
and contend for bandwidth. Off by default: the base game, its checker and its solvers never
use it.

In the base game a fast tensor is simply *there* for its whole live range, program inputs
(weights, KV cache) included. Here a fast tensor has a **residency**: an offset, a window
``[start, end]`` of ops (inside its live range) during which its accesses go to fast
memory, and the op ``prefetch_from`` at which its copy into fast memory starts. Rules:

- *Copy in.* If the tensor's value exists before ``start`` (an op before ``start`` wrote
  it, or its first use reads it: a program input starts in HBM), ``size`` bytes are copied
  slow -> fast during ops ``prefetch_from .. start - 1``; the copy cannot start before the
  op that last wrote the value before ``start`` has finished. ``prefetch_from == start``
  means no lead: op ``start`` waits for the whole copy.
- *Evict.* If an op inside the window writes the tensor and it is used after ``end``, its
  ``size`` bytes are copied back fast -> slow during the ops after ``end``, finishing before
  its next use. Clean data is dropped for free.
- *Space.* Fast memory is held from the copy's start (or ``start``) until ``end``, or until
  the write-back's deadline minus one; the base game's offset rules apply to these
  reservations (aligned, inside capacity, no overlap where reservations share an op).

Time (exact rational arithmetic): ops run in order; op ``j`` takes the base game's
``max(compute, fast bytes / Bf, slow bytes / Bs)`` with each operand in the tier its
residency says for op ``j``. Copies use what bandwidth the op leaves over on *both* tiers
(a copy reads one and writes the other) during that time, at most ``copy_bandwidth`` per
engine, earliest deadline first, ``copy_engines`` copies at a time. A copy not finished when
its deadline op is due stalls the program until it is, at ``min(Bs, Bf, copy_bandwidth)``.
This follows the shape of XLA's memory-space assignment (``CopyStart``/``CopyDone`` pairs,
prefetch intervals overlapped with compute, a cap on outstanding copies) with a fluid
bandwidth-sharing model instead of XLA's interval-picking heuristics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from simulators.memmap.cost import TimeModel
from simulators.memmap.placement import PlacementError
from simulators.memmap.program import Program, exact


@dataclass(frozen=True)
class Residency:
    """A fast tensor in prefetch mode (see the module docstring)."""

    offset: int
    start: int
    end: int
    prefetch_from: int


@dataclass(frozen=True)
class PrefetchResult:
    """Outcome of :func:`simulate_prefetch`; times in seconds, exact ones as fractions."""

    valid: bool
    violations: tuple[str, ...]
    total_time_s: float
    total_time_exact: str
    stall_time_s: float
    all_slow_time_s: float
    time_saved_s: float
    copy_in_bytes: int
    writeback_bytes: int
    copy_engines: int

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def _last_write_before(program: Program, i: int, j: int) -> int | None:
    for k in range(j - 1, -1, -1):
        if i in program.ops[k].writes:
            return k
    return None


def copy_in_needed(program: Program, i: int, start: int) -> bool:
    """Whether tensor ``i`` must be copied in before op ``start`` (its value exists)."""
    first = program.live_ranges[i][0]
    op = program.ops[first]
    return start > first or i in op.reads or i not in op.writes


def _writeback(program: Program, i: int, r: Residency) -> tuple[int, int] | None:
    """(release op, deadline op) of the eviction write-back, ``None`` if none is needed."""
    dirty = any(i in program.ops[j].writes for j in range(r.start, r.end + 1))
    later = [j for j in program.uses[i] if j > r.end]
    return (r.end + 1, later[0]) if dirty and later else None


def reservation(program: Program, i: int, r: Residency) -> tuple[int, int]:
    """Ops over which tensor ``i`` holds its fast-memory range."""
    a = r.prefetch_from if copy_in_needed(program, i, r.start) else r.start
    wb = _writeback(program, i, r)
    return min(a, r.start), (wb[1] - 1 if wb else r.end)


def check_prefetch(program: Program, residencies: Sequence[Residency | None]) -> list[str]:
    """Every prefetch-mode rule ``residencies`` breaks (empty when valid)."""
    n, h = len(program.tensors), program.hierarchy
    if len(residencies) != n:
        return [f"{len(residencies)} entries for {n} tensors"]
    bad: list[str] = []
    spans: list[tuple[int, int, int, int, int]] = []  # (first op, last op, lo, hi, tensor)
    for i, r in enumerate(residencies):
        if r is None:
            continue
        name = f"tensor {i} ({program.tensors[i].name!r})"
        first, last = program.live_ranges[i]
        size = program.tensors[i].size
        if not first <= r.start <= r.end <= last:
            bad.append(f"{name}: window [{r.start}, {r.end}] is not inside its live range "
                       f"[{first}, {last}]")
            continue
        w = _last_write_before(program, i, r.start)
        low = 0 if w is None else w + 1
        if copy_in_needed(program, i, r.start) and not low <= r.prefetch_from <= r.start:
            bad.append(f"{name}: prefetch_from {r.prefetch_from} must be in [{low}, "
                       f"{r.start}] (after the op that wrote the value)")
            continue
        if r.offset < 0 or r.offset % h.alignment_bytes or r.offset + size > h.capacity_bytes:
            bad.append(f"{name}: offset {r.offset} is negative, misaligned or out of capacity")
            continue
        a, b = reservation(program, i, r)
        spans.append((a, b, r.offset, r.offset + size, i))
    for x in range(len(spans)):
        a1, b1, lo1, hi1, i1 = spans[x]
        for a2, b2, lo2, hi2, i2 in spans[x + 1:]:
            if a1 <= b2 and a2 <= b1 and lo1 < hi2 and lo2 < hi1:
                bad.append(f"tensors {i1} and {i2} overlap in fast memory while both hold "
                           f"it (ops [{max(a1, a2)}, {min(b1, b2)}])")
    return bad


def simulate_prefetch(program: Program, residencies: Sequence[Residency | None],
                      copy_engines: int = 2, copy_bandwidth: float | None = None
                      ) -> PrefetchResult:
    """Exact program time in prefetch mode (module docstring).

    ``copy_bandwidth`` is per copy engine, bytes/s (default: no limit beyond the tiers').
    """
    if not isinstance(copy_engines, int) or copy_engines < 1:
        raise ValueError(f"copy_engines must be an integer >= 1, got {copy_engines!r}")
    if copy_bandwidth is not None and not copy_bandwidth > 0:
        raise ValueError(f"copy_bandwidth must be > 0 bytes/s, got {copy_bandwidth!r}")
    violations = check_prefetch(program, residencies)
    if violations and len(residencies) != len(program.tensors):
        raise PlacementError("; ".join(violations))
    h = program.hierarchy
    model = TimeModel.of(program)
    bf, bs = exact(h.fast_bandwidth), exact(h.slow_bandwidth)
    engine = exact(copy_bandwidth) if copy_bandwidth is not None else None
    stall_rate = min(bf, bs) if engine is None else min(bf, bs, engine)
    # copy jobs: [deadline, tensor, release, remaining bytes]
    jobs: list[list[Any]] = []
    copy_in = writeback = 0
    for i, r in enumerate(residencies):
        if r is None:
            continue
        size = program.tensors[i].size
        if copy_in_needed(program, i, r.start):
            jobs.append([r.start, i, r.prefetch_from, Fraction(size)])
            copy_in += size
        wb = _writeback(program, i, r)
        if wb:
            jobs.append([wb[1], i, wb[0], Fraction(size)])
            writeback += size
    jobs.sort(key=lambda job: (job[0], job[1], job[2]))
    total = stall = Fraction(0)
    for j, op in enumerate(program.ops):
        due = [job for job in jobs if job[0] == j and job[3] > 0]
        for job in due:  # the program waits for late copies
            wait = job[3] / stall_rate
            stall += wait
            job[3] = Fraction(0)
        fast = slow = 0
        for t in op.operands:
            r = residencies[t]
            if r is not None and r.start <= j <= r.end:
                fast += program.tensors[t].size
            else:
                slow += program.tensors[t].size
        t_op = model.op_time(j, fast, slow) * model.unit_s
        total += t_op
        spare = min(bs * t_op - slow, bf * t_op - fast)
        active = [job for job in jobs if job[2] <= j < job[0] and job[3] > 0]
        for job in active[:copy_engines]:
            share = spare if engine is None else min(spare, engine * t_op)
            moved = min(job[3], share)
            job[3] -= moved
            spare -= moved
    total += stall
    slow_time = model.all_slow() * model.unit_s
    return PrefetchResult(
        valid=not violations, violations=tuple(violations), total_time_s=float(total),
        total_time_exact=str(total), stall_time_s=float(stall),
        all_slow_time_s=float(slow_time), time_saved_s=float(slow_time - total),
        copy_in_bytes=copy_in, writeback_bytes=writeback, copy_engines=copy_engines)


def from_placement(program: Program, placement: Sequence[int | None],
                   lead_ops: int = 4) -> list[Residency | None]:
    """Residencies for a base-game placement: each fast tensor resident over its whole
    live range, its copy-in (program inputs only) started up to ``lead_ops`` ops early when
    its address range is free that long, else at its first use (a stall)."""
    out: list[Residency | None] = [None] * len(program.tensors)
    for i in sorted((i for i, o in enumerate(placement) if o is not None),
                    key=lambda i: (program.live_ranges[i][0], i)):
        first, last = program.live_ranges[i]
        offset = placement[i]
        for lead in range(min(lead_ops, first), -1, -1):
            trial = list(out)
            trial[i] = Residency(offset, first, last, first - lead)
            others = [k for k, r in enumerate(trial) if r is not None]
            if not _clash(program, trial, i, others):
                out[i] = trial[i]
                break
    return out


def _clash(program: Program, res: list[Residency | None], i: int, others: list[int]) -> bool:
    a, b = reservation(program, i, res[i])
    lo, hi = res[i].offset, res[i].offset + program.tensors[i].size
    for k in others:
        if k == i:
            continue
        c, d = reservation(program, k, res[k])
        klo = res[k].offset
        if a <= d and c <= b and lo < klo + program.tensors[k].size and klo < hi:
            return True
    return False


def prefetch_best(program: Program, placement: Sequence[int | None], copy_engines: int = 2,
                  copy_bandwidth: float | None = None, lead_ops: int = 4
                  ) -> tuple[list[Residency | None], PrefetchResult]:
    """A base-game placement run in prefetch mode by a mapper that knows copies cost time:
    :func:`from_placement` of ``placement`` as it is, and of ``placement`` without the
    tensors that would need a copy-in (program inputs), whichever runs faster (ties: fewer
    copies). A placement made for the base game treats inputs in fast memory as free; when
    the program leaves no spare bandwidth to hide their copies (a memory-bound decode
    step), copying them is slower than reading them from HBM where they are used."""
    with_inputs = from_placement(program, placement, lead_ops)
    without = [r if r is None or not copy_in_needed(program, i, r.start) else None
               for i, r in enumerate(with_inputs)]
    a = simulate_prefetch(program, with_inputs, copy_engines, copy_bandwidth)
    b = simulate_prefetch(program, without, copy_engines, copy_bandwidth)
    return (with_inputs, a) if Fraction(a.total_time_exact) < Fraction(b.total_time_exact) \
        else (without, b)
