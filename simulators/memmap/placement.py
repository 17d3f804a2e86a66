"""Placements: every tensor either in slow memory or at a byte offset in fast memory.

In code a placement is a tuple with one entry per tensor (tensor-index order): ``None`` for
slow memory, an ``int`` offset for fast memory. In JSON it is a list of
``{"tier": "slow"}`` or ``{"tier": "fast", "offset": o}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Placement = tuple[int | None, ...]


class PlacementError(ValueError):
    """A placement that is malformed or breaks the game's rules (names tensor and field)."""


def placement_to_json(placement: Sequence[int | None]) -> list[dict[str, Any]]:
    """The JSON list of a placement."""
    return [{"tier": "slow"} if o is None else {"tier": "fast", "offset": int(o)}
            for o in placement]


def placement_from_json(entries: Any, n_tensors: int, source: str = "placement") -> Placement:
    """Parse a JSON placement; structure only (the checker judges the rules).

    Raises
    ------
    PlacementError
        Naming the entry and the field when the list has the wrong length, a tier is not
        ``fast``/``slow`` or a fast entry lacks an integer ``offset``.
    """
    if not isinstance(entries, list) or len(entries) != n_tensors:
        got = len(entries) if isinstance(entries, list) else type(entries).__name__
        raise PlacementError(f"{source}: must be a list of {n_tensors} entries (one per "
                             f"tensor), got {got}")
    out: list[int | None] = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or e.get("tier") not in ("fast", "slow"):
            raise PlacementError(f"{source}[{i}]: field 'tier' must be 'fast' or 'slow', "
                                 f"got {e!r}")
        if e["tier"] == "slow":
            out.append(None)
            continue
        o = e.get("offset")
        if isinstance(o, bool) or not isinstance(o, int):
            raise PlacementError(f"{source}[{i}]: a fast entry needs an integer field "
                                 f"'offset', got {o!r}")
        out.append(o)
    return tuple(out)
