"""The game's cost: program time of a placement, exactly, and the figures reported with it.

Each op ``j`` takes::

    t_j = max(flops_j / peak_flops,
              fast_bytes_j / fast_bandwidth,
              slow_bytes_j / slow_bandwidth)

where ``fast_bytes_j`` (``slow_bytes_j``) is the total size of the op's *distinct* operands
(reads and writes together, each tensor once) placed in that tier. Compute and the two
tiers' transfers overlap (a roofline per op whose two memory channels run in parallel), so
the cost is not monotone: moving one more operand to fast memory can slow an op down when
the fast tier becomes its bottleneck. The program's time is the sum over ops, executed one
after another in the given order. This is the per-op roofline of XLA's memory-space
assignment cost analysis (``GetInstructionElapsed``: max of compute and memory time) with
the two tiers' transfers overlapped instead of added, as issue 11 specifies.

Exactness: :class:`TimeModel` expresses every term in integer units of ``1 / L`` seconds,
``L`` the least common multiple of the denominators of ``flops_j / peak``, ``1 / fast_bw``
and ``1 / slow_bw`` (numbers read as the decimals the program gives). Sums, maxima and the
comparisons the solvers make are then exact integer arithmetic; floats appear only when a
time is reported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from simulators.memmap.placement import placement_to_json
from simulators.memmap.program import Program, exact


@dataclass(frozen=True)
class TimeModel:
    """Per-op cost terms of a program in integer time units of ``unit_s`` seconds."""

    unit_s: Fraction
    compute: tuple[int, ...]  #: per op, flops / peak in units
    fast_per_byte: int  #: units per byte at the fast tier's bandwidth
    slow_per_byte: int  #: units per byte at the slow tier's bandwidth
    operands: tuple[tuple[int, ...], ...]  #: per op, distinct tensor indices
    sizes: tuple[int, ...]

    @classmethod
    def of(cls, program: Program) -> TimeModel:
        h = program.hierarchy
        peak = exact(h.peak_flops)
        comp = [exact(o.flops) / peak for o in program.ops]
        uf, us = 1 / exact(h.fast_bandwidth), 1 / exact(h.slow_bandwidth)
        L = math.lcm(uf.denominator, us.denominator, *(c.denominator for c in comp))
        return cls(Fraction(1, L), tuple(int(c * L) for c in comp), int(uf * L),
                   int(us * L), tuple(o.operands for o in program.ops), program.sizes)

    def op_time(self, j: int, fast_bytes: int, slow_bytes: int) -> int:
        return max(self.compute[j], fast_bytes * self.fast_per_byte,
                   slow_bytes * self.slow_per_byte)

    def op_bytes(self, j: int, in_fast: Sequence[bool]) -> tuple[int, int]:
        """(fast, slow) bytes of op ``j``'s distinct operands."""
        f = s = 0
        for t in self.operands[j]:
            if in_fast[t]:
                f += self.sizes[t]
            else:
                s += self.sizes[t]
        return f, s

    def total(self, in_fast: Sequence[bool]) -> int:
        """Program time in units for the tier of every tensor."""
        return sum(self.op_time(j, *self.op_bytes(j, in_fast))
                   for j in range(len(self.compute)))

    def all_slow(self) -> int:
        return self.total([False] * len(self.sizes))

    def seconds(self, units: int) -> float:
        return float(units * self.unit_s)


@dataclass(frozen=True)
class MemmapResult:
    """Figures of one placement of one program.

    ``total_time_s`` is the program's time; ``time_saved_s`` the all-slow time minus it
    (negative when the placement is slower than leaving everything in HBM);
    ``*_exact`` give both as exact fractions of a second. ``fast_tensor_bytes`` /
    ``slow_tensor_bytes`` add the sizes of the tensors placed in each tier;
    ``fast_traffic_bytes`` / ``slow_traffic_bytes`` the bytes each tier moves (per op, its
    distinct operands in that tier, summed over ops). ``peak_fast_bytes`` is the most
    fast-memory bytes live at any op (a tensor is live over its whole inclusive live range).
    ``address_span_bytes`` is ``max(offset + size)`` over fast tensors (the fast memory the
    placement needs; 0 when nothing is fast) and ``highest_address_used`` the last byte
    address, ``address_span_bytes - 1`` (-1 when nothing is fast).

    ``fragmentation = 1 - peak_fast_bytes / address_span_bytes`` (0 when nothing is fast):
    the share of the address range the placement occupies that is idle even at its fullest
    op. No placement of the same tensors can need less than ``peak_fast_bytes`` of address
    space, so 0 means perfectly packed at the peak; alignment padding, and gaps left between
    tensors that never coexist, raise it. (This is the usual figure of merit of dynamic
    storage allocation: address space used over maximum load.)

    ``valid`` and ``violations`` come from the independent checker
    (:mod:`simulators.memmap.checker`); the times of an invalid placement are those of its
    tiers as given and are not achievable. ``proven_optimal`` is set by the exact solver
    only (``None`` for other policies).
    """

    program: str
    policy: str
    valid: bool
    violations: tuple[str, ...]
    total_time_s: float
    all_slow_time_s: float
    time_saved_s: float
    total_time_exact: str
    time_saved_exact: str
    num_fast: int
    fast_tensor_bytes: int
    slow_tensor_bytes: int
    fast_traffic_bytes: int
    slow_traffic_bytes: int
    peak_fast_bytes: int
    address_span_bytes: int
    highest_address_used: int
    fragmentation: float
    placement: tuple[int | None, ...]
    proven_optimal: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: every figure, ``placement`` as issue 11's list of tiers."""
        out: dict[str, Any] = {
            "program": self.program, "policy": self.policy, "valid": self.valid,
            "violations": list(self.violations),
            "total_time_s": self.total_time_s, "all_slow_time_s": self.all_slow_time_s,
            "time_saved_s": self.time_saved_s, "total_time_exact": self.total_time_exact,
            "time_saved_exact": self.time_saved_exact, "num_fast": self.num_fast,
            "fast_tensor_bytes": self.fast_tensor_bytes,
            "slow_tensor_bytes": self.slow_tensor_bytes,
            "fast_traffic_bytes": self.fast_traffic_bytes,
            "slow_traffic_bytes": self.slow_traffic_bytes,
            "peak_fast_bytes": self.peak_fast_bytes,
            "address_span_bytes": self.address_span_bytes,
            "highest_address_used": self.highest_address_used,
            "fragmentation": self.fragmentation,
        }
        if self.proven_optimal is not None:
            out["proven_optimal"] = self.proven_optimal
        out.update(self.extra)
        out["placement"] = placement_to_json(self.placement)
        return out


def peak_fast_bytes(program: Program, placement: Sequence[int | None]) -> int:
    """The most fast-memory bytes live at any op (difference array over op indices)."""
    delta = [0] * (len(program.ops) + 1)
    for i, o in enumerate(placement):
        if o is not None:
            a, b = program.live_ranges[i]
            delta[a] += program.tensors[i].size
            delta[b + 1] -= program.tensors[i].size
    best = run = 0
    for d in delta:
        run += d
        best = max(best, run)
    return best


def evaluate(program: Program, placement: Sequence[int | None], policy: str = "",
             proven_optimal: bool | None = None, model: TimeModel | None = None,
             extra: dict[str, Any] | None = None) -> MemmapResult:
    """Check and cost ``placement`` (one offset or ``None`` per tensor) on ``program``."""
    from simulators.memmap.checker import check

    placement = tuple(placement)
    violations = check(program, placement)
    model = model or TimeModel.of(program)
    in_fast = [o is not None for o in placement]
    per_op = [model.op_bytes(j, in_fast) for j in range(len(program.ops))]
    total = sum(model.op_time(j, f, s) for j, (f, s) in enumerate(per_op))
    slow = model.all_slow()
    sizes = program.sizes
    fast_idx = [i for i, f in enumerate(in_fast) if f]
    span = max((placement[i] + sizes[i] for i in fast_idx), default=0)
    peak = peak_fast_bytes(program, placement)
    return MemmapResult(
        program=program.name, policy=policy, valid=not violations,
        violations=tuple(violations),
        total_time_s=model.seconds(total), all_slow_time_s=model.seconds(slow),
        time_saved_s=model.seconds(slow - total),
        total_time_exact=str(total * model.unit_s),
        time_saved_exact=str((slow - total) * model.unit_s),
        num_fast=len(fast_idx),
        fast_tensor_bytes=sum(sizes[i] for i in fast_idx),
        slow_tensor_bytes=sum(sizes) - sum(sizes[i] for i in fast_idx),
        fast_traffic_bytes=sum(f for f, _ in per_op),
        slow_traffic_bytes=sum(s for _, s in per_op),
        peak_fast_bytes=peak, address_span_bytes=span, highest_address_used=span - 1,
        fragmentation=1.0 - peak / span if span else 0.0,
        placement=placement, proven_optimal=proven_optimal, extra=dict(extra or {}),
    )
