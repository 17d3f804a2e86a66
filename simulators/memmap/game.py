"""The memory-mapping game as a steppable state, for sequential environments.

An episode visits the tensors in order of first use (ties: lower index) and decides each:
one of ``num_slots`` offset slots in fast memory, or slow. What the slots are:

    For the tensor to place, take every free gap ``[lo, hi)`` of fast memory over its live
    range (address ranges no already-placed fast tensor whose live range meets it occupies,
    :class:`~simulators.memmap.allocator.FastMemory`) in which it fits. Each gap offers two
    offsets: its lowest aligned start ``align_up(lo)`` (packed low, the best-fit choice) and
    its highest aligned start ``align_down(hi - size)`` (packed high, leaving the low part of
    the gap to later tensors). Sorted ascending without duplicates, these are the legal
    offsets; slot ``k`` is the ``k``-th of them (``k < num_slots``), further ones are not
    offered, and slots beyond the list are masked. Action ``num_slots`` is slow, always
    legal. A tensor larger than fast memory, or with no gap that fits, has only slow.

Offsets strictly inside a gap are not offered: they only fragment memory for the tensors
still to come, whose live ranges start at or after this one's (the game's order). The
slots do not provably reach every placement, but the game reaches the proven optimum of
every shipped program with 8 slots (:func:`actions_for` finds the moves;
``tests/memmap/test_game.py`` checks it).

The state exposes what an environment needs: the next tensor, the legal slot offsets and
the action mask, ``place``, a fixed-resolution (time x address) occupancy map, per-tensor
features of the next tensors, per-slot features (where each slot would put the tensor),
the time saved so far (exact, for shaped rewards) and the final
:class:`~simulators.memmap.cost.MemmapResult`.
"""

from __future__ import annotations

import math

import numpy as np

from simulators.memmap.allocator import FastMemory, align_up
from simulators.memmap.cost import MemmapResult, TimeModel, evaluate
from simulators.memmap.greedy import OpLoads, benefits
from simulators.memmap.placement import PlacementError
from simulators.memmap.program import Program

#: columns of :meth:`Game.features`
FEATURES = (
    "present",  # 1 for a tensor still to place, 0 for padding past the last one
    "log2_size_over_capacity",  # log2(size / capacity), clipped to [-20, 4]
    "fits",  # size <= capacity
    "first_use",  # first op / number of ops
    "last_use",  # last op / number of ops
    "live_length",  # (last - first + 1) / number of ops
    "benefit_alone",  # all-slow time minus time with only this tensor fast, / all-slow
    "benefit_now",  # time saved by making it fast given the tensors placed so far, / all-slow
    "largest_gap",  # largest free gap over its live range / capacity (0 if none fits)
    "progress",  # tensors decided / tensors
)

#: columns of :meth:`Game.slot_features`
SLOT_FEATURES = (
    "offered",  # 1 for a legal slot, 0 for a slot past the end of the list
    "offset",  # offset / capacity
    "end",  # (offset + size) / capacity
    "gap",  # size of the free gap the slot lies in / capacity
    "low_edge",  # 1 if the slot packs the tensor at the low end of its gap
    "best_fit",  # 1 if it is the best-fit offset (smallest gap, lowest address)
)


class Game:
    """One episode of the memory-mapping game on ``program`` with ``num_slots`` slots."""

    def __init__(self, program: Program, num_slots: int = 8, model: TimeModel | None = None):
        if not isinstance(num_slots, int) or num_slots < 1:
            raise ValueError(f"num_slots must be an integer >= 1, got {num_slots!r}")
        self.program, self.num_slots = program, num_slots
        self.model = model or TimeModel.of(program)
        ranges = program.live_ranges
        self.order = sorted(range(len(program.tensors)), key=lambda i: (ranges[i][0], i))
        self.step_index = 0
        self.memory = FastMemory(program)
        self.loads = OpLoads(program, self.model)
        self.all_slow_units = self.loads.total()
        self.saved_units = 0  #: exact time saved so far (units of ``model.unit_s``)
        self._benefit = benefits(program, self.model)
        self._slots: list[int] | None = None
        self._occ: dict[tuple[int, int], np.ndarray] = {}

    # ---------------------------------------------------------------- state
    @property
    def done(self) -> bool:
        return self.step_index >= len(self.order)

    @property
    def next_tensor(self) -> int | None:
        """Index of the tensor to place next (``None`` when the episode is over)."""
        return None if self.done else self.order[self.step_index]

    @property
    def placement(self) -> tuple[int | None, ...]:
        """Offsets so far (``None`` for slow and for tensors not yet decided)."""
        return tuple(self.memory.placed.get(i) for i in range(len(self.program.tensors)))

    def slot_offsets(self) -> list[int]:
        """Offsets of the legal slots for the next tensor (at most ``num_slots``)."""
        if self._slots is None:
            i = self.next_tensor
            self._slots = ([] if i is None or not self.program.fits(i)
                           else self.memory.edge_offsets(i)[: self.num_slots])
        return self._slots

    def action_mask(self) -> np.ndarray:
        """Legal actions: ``num_slots`` slots then slow (always legal while playing)."""
        mask = np.zeros(self.num_slots + 1, dtype=bool)
        mask[: len(self.slot_offsets())] = True
        mask[-1] = not self.done
        return mask

    # ---------------------------------------------------------------- moves
    def place(self, action: int) -> int:
        """Play ``action`` (a slot index, or ``num_slots`` for slow); returns the time saved
        by this move in units (negative if it slowed the program down)."""
        if self.done:
            raise PlacementError("the episode is over: every tensor is placed")
        a = int(action)
        if a == self.num_slots:
            return self.place_offset(None)
        offsets = self.slot_offsets()
        if not 0 <= a < len(offsets):
            raise PlacementError(f"action {action} is illegal for tensor {self.next_tensor}: "
                                 f"legal slots 0..{len(offsets) - 1} and {self.num_slots} "
                                 f"(slow)")
        return self.place_offset(offsets[a])

    def place_offset(self, offset: int | None) -> int:
        """Place the next tensor at ``offset`` (``None``: slow), any legal offset."""
        if self.done:
            raise PlacementError("the episode is over: every tensor is placed")
        i = self.order[self.step_index]
        gain = 0
        if offset is not None:
            if not self.memory.is_free(i, offset):
                raise PlacementError(f"tensor {i} ({self.program.tensors[i].name!r}) cannot "
                                     f"go at offset {offset}: misaligned, out of capacity or "
                                     f"overlapping a live fast tensor")
            gain = -self.loads.delta(i)
            self.memory.place(i, offset)
            self.loads.move_to_fast(i)
            self.saved_units += gain
            self._paint(i, offset)
        self.step_index += 1
        self._slots = None
        return gain

    # ---------------------------------------------------------------- observations
    def occupancy(self, time_bins: int = 32, address_bins: int = 32) -> np.ndarray:
        """``(time_bins, address_bins)`` map of fast memory: the share of each cell (ops
        x bytes, ops split evenly over the rows, capacity over the columns) that placed
        tensors occupy, in [0, 1]. Kept up to date incrementally once asked for."""
        key = (int(time_bins), int(address_bins))
        if key not in self._occ:
            self._occ[key] = np.zeros(key, dtype=np.float32)
            for i, o in self.memory.placed.items():
                self._paint(i, o, only=key)
        return self._occ[key].copy()

    def _paint(self, i: int, offset: int, only: tuple[int, int] | None = None) -> None:
        n_ops, cap = len(self.program.ops), self.program.hierarchy.capacity_bytes
        a, b = self.program.live_ranges[i]
        if cap == 0:
            return
        for key in [only] if only else list(self._occ):
            rows, cols = key
            t_edges = np.linspace(0, n_ops, rows + 1)
            a_edges = np.linspace(0, cap, cols + 1)
            ct = np.maximum(np.minimum(t_edges[1:], b + 1) - np.maximum(t_edges[:-1], a), 0)
            ca = np.maximum(np.minimum(a_edges[1:], offset + self.program.sizes[i])
                            - np.maximum(a_edges[:-1], offset), 0)
            grid = self._occ[key]
            grid += np.outer(ct * (rows / n_ops), ca * (cols / cap)).astype(np.float32)
            np.minimum(grid, 1.0, out=grid)

    def features(self, lookahead: int = 4) -> np.ndarray:
        """``(lookahead, len(FEATURES))`` float32 rows for the next tensors in game order
        (the first row is the tensor to place now); rows past the end are zeros."""
        out = np.zeros((lookahead, len(FEATURES)), dtype=np.float32)
        p, n_ops = self.program, len(self.program.ops)
        cap = p.hierarchy.capacity_bytes
        slow = self.all_slow_units or 1
        for r, i in enumerate(self.order[self.step_index: self.step_index + lookahead]):
            a, b = p.live_ranges[i]
            size = p.sizes[i]
            fits = p.fits(i)
            gaps = self.memory.gaps(i) if fits else []
            out[r] = (
                1.0,
                min(4.0, max(-20.0, math.log2(size / cap))) if cap else 4.0,
                float(fits),
                a / n_ops, b / n_ops, (b - a + 1) / n_ops,
                self._benefit[i] / slow,
                -self.loads.delta(i) / slow if fits else 0.0,
                max((hi - lo for lo, hi in gaps), default=0) / cap if cap else 0.0,
                self.step_index / len(self.order),
            )
        return out

    def slot_features(self) -> np.ndarray:
        """``(num_slots, len(SLOT_FEATURES))`` float32 rows, one per slot of the tensor to
        place now, so a policy can tell the slots apart; rows of masked slots are zeros."""
        out = np.zeros((self.num_slots, len(SLOT_FEATURES)), dtype=np.float32)
        offsets = self.slot_offsets()
        if not offsets:
            return out
        i = self.next_tensor
        size, cap = self.program.sizes[i], self.program.hierarchy.capacity_bytes
        gaps, best = self.memory.gaps(i), self.memory.best_fit(i)
        for k, o in enumerate(offsets):
            lo, hi = next(g for g in gaps if g[0] <= o and o + size <= g[1])
            out[k] = (1.0, o / cap, (o + size) / cap, (hi - lo) / cap,
                      float(o == align_up(lo, self.memory.align)), float(o == best))
        return out

    # ---------------------------------------------------------------- outcome
    @property
    def saved_s(self) -> float:
        """Program time saved against all-slow by the moves so far, in seconds."""
        return self.model.seconds(self.saved_units)

    def result(self, policy: str = "game") -> MemmapResult:
        """Checked and costed final placement (undecided tensors count as slow)."""
        return evaluate(self.program, self.placement, policy, model=self.model)


def greedy_action(game: Game) -> int:
    """A game-native greedy policy: the slot of the best-fit offset (smallest gap, lowest
    address) if making the tensor fast saves time given the placement so far, else slow.
    Unlike :func:`~simulators.memmap.greedy.greedy` it decides in the game's order."""
    i, offsets = game.next_tensor, game.slot_offsets()
    if i is None or not offsets or game.loads.delta(i) >= 0:
        return game.num_slots
    best = game.memory.best_fit(i)
    return offsets.index(best) if best in offsets else game.num_slots


def actions_for(program: Program, fast: set[int] | frozenset[int], num_slots: int = 8,
                node_limit: int = 20_000) -> list[int] | None:
    """Actions that make exactly ``fast`` fast memory's tensors (the time depends only on
    that set), found by depth-first search over the slots in game order (lowest slot
    first); ``None`` if no such play exists, or none within ``node_limit`` tried moves."""
    budget = [node_limit]

    def replay(actions: list[int]) -> Game:
        g = Game(program, num_slots)
        for a in actions:
            g.place(a)
        return g

    def dfs(g: Game, actions: list[int]) -> list[int] | None:
        while not g.done and g.next_tensor not in fast:
            g.place(num_slots)
            actions = [*actions, num_slots]
        if g.done:
            return actions
        for slot in range(len(g.slot_offsets())):
            budget[0] -= 1
            if budget[0] < 0:
                return None
            if slot:  # the first try changed g: rebuild this node's state
                g = replay(actions)
            g.place(slot)
            found = dfs(g, [*actions, slot])
            if found is not None:
                return found
        return None

    return dfs(Game(program, num_slots), [])
