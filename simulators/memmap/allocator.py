"""Fast-memory bookkeeping shared by the greedy heuristic and the game: free gaps over a
tensor's live range, the offsets one may pick in them, and placing a tensor.

A *gap* for tensor ``i`` is a maximal address range ``[lo, hi)`` inside
``[0, capacity_bytes)`` that no already-placed fast tensor whose live range meets ``i``'s
occupies. Tensor ``i`` fits in a gap when ``align_up(lo) + size <= hi``.
"""

from __future__ import annotations

import numpy as np

from simulators.memmap.program import Program


def align_up(x: int, a: int) -> int:
    return -(-x // a) * a


def align_down(x: int, a: int) -> int:
    return x // a * a


class FastMemory:
    """The fast tensors placed so far, and the free space each new tensor would see."""

    def __init__(self, program: Program):
        self.program = program
        self.capacity = program.hierarchy.capacity_bytes
        self.align = program.hierarchy.alignment_bytes
        self.ranges = program.live_ranges
        self.sizes = program.sizes
        self.placed: dict[int, int] = {}  #: tensor -> offset
        self._gaps: dict[int, list[tuple[int, int]]] = {}  # until the next place()
        # placed tensors' first op, last op, low and high address (first len(placed) rows)
        self._spans = np.zeros((4, len(program.tensors)), dtype=np.int64)

    def occupied(self, i: int) -> list[tuple[int, int]]:
        """Address ranges taken by placed tensors whose live ranges meet ``i``'s, merged."""
        a, b = self.ranges[i]
        first, last, lo_, hi_ = self._spans[:, : len(self.placed)]
        meet = (first <= b) & (last >= a)
        lows, highs = lo_[meet], hi_[meet]
        order = np.argsort(lows, kind="stable")
        merged: list[tuple[int, int]] = []
        for lo, hi in zip(lows[order].tolist(), highs[order].tolist(), strict=True):
            if merged and lo <= merged[-1][1]:
                if hi > merged[-1][1]:
                    merged[-1] = (merged[-1][0], hi)
            else:
                merged.append((lo, hi))
        return merged

    def gaps(self, i: int) -> list[tuple[int, int]]:
        """Free ``[lo, hi)`` ranges over ``i``'s live range where ``i`` fits, ascending
        (remembered until the next :meth:`place`: a game step asks several times)."""
        if i not in self._gaps:
            size, cap, al = self.sizes[i], self.capacity, self.align
            out, lo = [], 0
            for a, b in [*self.occupied(i), (cap, cap)]:
                if a > lo and align_up(lo, al) + size <= min(a, cap):
                    out.append((lo, min(a, cap)))
                lo = max(lo, b)
            self._gaps[i] = out
        return list(self._gaps[i])

    def edge_offsets(self, i: int) -> list[int]:
        """Legal offsets at the edges of every gap: the lowest aligned offset in the gap and
        the highest one at which ``i`` still ends inside it, ascending, no duplicates."""
        size, al = self.sizes[i], self.align
        out: list[int] = []
        for lo, hi in self.gaps(i):
            for o in (align_up(lo, al), align_down(hi - size, al)):
                if not out or o > out[-1]:
                    out.append(o)
        return out

    def best_fit(self, i: int) -> int | None:
        """Offset in the smallest gap that fits (ties: lowest address), at its aligned
        start; ``None`` when no gap fits."""
        gaps = self.gaps(i)
        if not gaps:
            return None
        lo, _ = min(gaps, key=lambda g: (g[1] - g[0], g[0]))
        return align_up(lo, self.align)

    def is_free(self, i: int, offset: int) -> bool:
        """Whether ``i`` may go at ``offset`` (aligned, inside capacity, no overlap)."""
        end = offset + self.sizes[i]
        if offset < 0 or offset % self.align or end > self.capacity:
            return False
        return all(hi <= offset or end <= lo for lo, hi in self.occupied(i))

    def place(self, i: int, offset: int) -> None:
        a, b = self.ranges[i]
        self._spans[:, len(self.placed)] = (a, b, offset, offset + self.sizes[i])
        self.placed[i] = offset
        self._gaps.clear()
