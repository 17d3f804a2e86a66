"""Baselines: everything in slow memory, and a greedy in the spirit of XLA's memory-space
assignment.

The greedy, exactly:

1. *Benefit.* For every tensor that fits in fast memory (``size <= capacity_bytes``), its
   benefit is the program time with every tensor slow minus the time with only this tensor
   fast (exact integer time units, :class:`~simulators.memmap.cost.TimeModel`). Tensors with
   benefit <= 0 stay slow.
2. *Order.* Candidates are sorted by benefit per byte, ``benefit / size``, descending (exact
   rational comparison); ties go to the larger benefit, then to the lower tensor index.
3. *Placement.* In that order, each tensor gets the best-fit offset among the free gaps over
   its live range (:class:`~simulators.memmap.allocator.FastMemory`: the smallest gap
   ``[lo, hi)`` with ``align_up(lo) + size <= hi``, ties to the lowest address; offset
   ``align_up(lo)``). It is placed there only if that lowers the program time given the
   tensors placed so far (the cost is not monotone, so a tensor that helped alone may not
   help any more); otherwise, or if no gap fits, it stays slow. Nothing is moved once placed.

So the greedy is never slower than all-slow. This follows XLA's
``MemorySpaceAssignment``: buffers sorted by a memory-boundedness benefit per size
(``GetMemoryBoundedness``; current XLA divides by the square root of the size by default,
issue 11 asks for per byte) and allocated with a best-fit heap
(``GlobalDecreasingSizeBestFitHeap``), without XLA's prefetches, evictions and
buffer splitting (see :mod:`simulators.memmap.prefetch` for those).
"""

from __future__ import annotations

from fractions import Fraction

from simulators.memmap.allocator import FastMemory
from simulators.memmap.cost import TimeModel
from simulators.memmap.placement import Placement
from simulators.memmap.program import Program


def all_slow(program: Program) -> Placement:
    """Every tensor in slow memory."""
    return (None,) * len(program.tensors)


class OpLoads:
    """Per-op fast and slow operand bytes of a partial placement, with exact time deltas."""

    def __init__(self, program: Program, model: TimeModel | None = None):
        self.model = model or TimeModel.of(program)
        self.uses = program.uses
        self.sizes = program.sizes
        self.fast = [0] * len(program.ops)
        self.slow = [sum(self.sizes[t] for t in ops) for ops in self.model.operands]

    def delta(self, i: int) -> int:
        """Change of program time (units) if tensor ``i`` moves from slow to fast."""
        m, s = self.model, self.sizes[i]
        return sum(m.op_time(j, self.fast[j] + s, self.slow[j] - s)
                   - m.op_time(j, self.fast[j], self.slow[j]) for j in self.uses[i])

    def move_to_fast(self, i: int) -> None:
        s = self.sizes[i]
        for j in self.uses[i]:
            self.fast[j] += s
            self.slow[j] -= s

    def total(self) -> int:
        return sum(self.model.op_time(j, f, s)
                   for j, (f, s) in enumerate(zip(self.fast, self.slow, strict=True)))


def benefits(program: Program, model: TimeModel | None = None) -> list[int]:
    """Per tensor, all-slow time minus the time with only it fast (units; 0 if it cannot
    fit)."""
    loads = OpLoads(program, model)
    return [-loads.delta(i) if program.fits(i) else 0 for i in range(len(program.tensors))]


def priority_order(program: Program, model: TimeModel | None = None) -> list[int]:
    """Every tensor that fits, in the greedy's order (benefit per byte descending, then
    benefit descending, then index), whatever its benefit."""
    ben = benefits(program, model)
    fit = [i for i in range(len(program.tensors)) if program.fits(i)]
    return sorted(fit, key=lambda i: (-Fraction(ben[i], program.sizes[i]), -ben[i], i))


def greedy_order(program: Program, model: TimeModel | None = None) -> list[int]:
    """Candidate tensors (benefit > 0) in the greedy's order (see the module docstring)."""
    ben = benefits(program, model)
    return [i for i in priority_order(program, model) if ben[i] > 0]


def greedy(program: Program, model: TimeModel | None = None) -> Placement:
    """The greedy placement (module docstring); deterministic."""
    loads = OpLoads(program, model)
    mem = FastMemory(program)
    for i in greedy_order(program, loads.model):
        offset = mem.best_fit(i)
        if offset is not None and loads.delta(i) < 0:
            mem.place(i, offset)
            loads.move_to_fast(i)
    return tuple(mem.placed.get(i) for i in range(len(program.tensors)))
