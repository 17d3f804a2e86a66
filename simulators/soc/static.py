"""The static scheduler registry: one name per published heuristic, plus the exact optimum."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulators.soc import heuristics
from simulators.soc.errors import SocInputError
from simulators.soc.graph import TaskGraph
from simulators.soc.schedule import Schedule

#: scheduler name -> function(graph, **options) -> Schedule
SCHEDULERS: dict[str, Callable[..., Schedule]] = {
    "heft": heuristics.heft,
    "heft_noins": heuristics.heft_noins,
    "cpop": heuristics.cpop,
    "peft": heuristics.peft,
    "etf": heuristics.etf,
    "mct": heuristics.mct,
    "met": heuristics.met,
    "minmin": heuristics.minmin,
    "maxmin": heuristics.maxmin,
    "random": heuristics.random_order,
    "optimal": None,  # imported lazily: OR-Tools is only loaded when asked for
}


def canonical_name(name: str) -> str:
    """``"HEFT-NOINS"``, ``"heft_noins"`` -> ``"heft_noins"``; ``"Min-Min"`` -> ``"minmin"``."""
    key = name.strip().lower().replace("-", "_")
    key = {"min_min": "minmin", "max_min": "maxmin"}.get(key, key)
    if key not in SCHEDULERS:
        raise SocInputError(f"unknown scheduler {name!r}; choose one of: "
                            f"{', '.join(SCHEDULERS)}")
    return key


def schedule(graph: TaskGraph, name: str, **options: Any) -> Schedule:
    """Schedule ``graph`` with the named scheduler (options: ``order``/``seed`` for random,
    ``time_limit``/``workers``/``seed`` for optimal)."""
    key = canonical_name(name)
    if key == "optimal":
        from simulators.soc.optimal import optimal

        return optimal(graph, **options)
    return SCHEDULERS[key](graph, **options)
