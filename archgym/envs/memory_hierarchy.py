"""``archgym/MemoryHierarchy-v0``: size the memory hierarchy a program runs on, with its
tensors mapped by the greedy (XLA-style) or the exact optimal placement
(:mod:`simulators.memmap`; ``docs/memmap.md``).

**Design space** (each value set also holds the program's own value, and the default design
is the program's own hierarchy):

- ``fast_capacity_bytes``: on-chip SRAM, 256 KiB to 128 MiB in powers of two (edge
  accelerators to TPUv4i's 128 MiB CMEM; Jouppi et al., ISCA 2021);
- ``fast_bandwidth_bytes_per_s``: 0.4 to 12.8 TB/s (TPUv4i-like VMEM: 3.2 TB/s);
- ``slow_bandwidth_bytes_per_s``: HBM stacks: one HBM2 stack at 2.4 Gb/s per pin (1024
  pins: 307.2 GB/s; JEDEC JESD235) or four, and one, two or four HBM3 stacks at 6.4 Gb/s
  per pin (819.2 GB/s each; JESD238);
- ``alignment_bytes``: 32 B (a GPU sector) to 4 KiB (a page);
- ``copy_engines`` (``prefetch=True`` only): 1 to 8 asynchronous copy engines.

**Evaluation.** The program is re-targeted to the design (its peak FLOP/s unchanged), its
tensors are placed by ``mapper`` (``greedy``: :func:`simulators.memmap.greedy`;
``optimal``: :func:`simulators.memmap.optimal` within ``time_limit_s``, deterministic when
the optimum is proven, which the tier DP does in well under a second on the shipped
programs), and the placement must pass the independent checker. With ``prefetch=True``
the placement runs in prefetch mode (:func:`simulators.memmap.simulate_prefetch`): program
inputs placed in fast memory are copied in, starting up to ``lead_ops`` ops ahead, by
``copy_engines`` engines of ``copy_bandwidth`` bytes/s each (default: only the tiers limit
them), and late copies stall the program; where copying the inputs is slower than leaving
them in HBM (no spare bandwidth to hide the copies), they stay there
(:func:`simulators.memmap.prefetch_best`).

**Metrics**: ``time_s`` (program time), ``time_saved_s`` (against all-slow on the same
hierarchy), ``area_mm2`` (fast SRAM macro area at 45 nm: 4.15 mm^2 per MiB,
:func:`simulators.memmap.sram_area_mm2`), ``energy_j`` (dynamic energy of accesses, copies
and FLOPs, :func:`simulators.memmap.hardware_cost`) and ``peak_fast_bytes``. Scales are the
default design's figures. Bandwidths and alignment cost neither area nor energy in this
model (no PHY or bank-count cost): they matter through time, and through limits in the
objective.

**Objectives**: any objective string over the metrics, with limits as constraints (``time_s;
area_mm2<=40; energy_j<=0.01``). Aliases: ``iso-area`` (the default: the fastest hierarchy
within the default design's SRAM area), ``time``, ``area``, ``energy`` and ``time-area``
(``0.5*time_s+0.5*area_mm2``, each over its default-design scale).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from archgym.contract import digest
from archgym.env import DesignEnv
from archgym.envs.memmap import load_program
from archgym.errors import ArchGymError
from archgym.evaluator import Evaluator, MetricSpec
from archgym.space import DesignSpace, Integer, Ordinal
from simulators.memmap import (
    Hierarchy,
    Placement,
    PrefetchResult,
    Program,
    evaluate,
    greedy,
    hardware_cost,
    optimal,
    prefetch_best,
    sram_area_mm2,
)

_KIB, _MIB = 1 << 10, 1 << 20
#: value sets of the hierarchy parameters (module docstring)
VALUES: dict[str, tuple[float, ...]] = {
    "fast_capacity_bytes": tuple(256 * _KIB << k for k in range(10)),
    "fast_bandwidth_bytes_per_s": (0.4e12, 0.8e12, 1.6e12, 3.2e12, 6.4e12, 12.8e12),
    "slow_bandwidth_bytes_per_s": (307.2e9, 819.2e9, 1228.8e9, 1638.4e9, 3276.8e9),
    "alignment_bytes": (32, 64, 128, 256, 512, 1024, 2048, 4096),
}
COPY_ENGINES = (1, 8, 2)  # low, high, default
_INTEGRAL = ("fast_capacity_bytes", "alignment_bytes", "copy_engines")


def _own(h: Hierarchy) -> dict[str, float]:
    return {"fast_capacity_bytes": h.capacity_bytes,
            "fast_bandwidth_bytes_per_s": h.fast_bandwidth,
            "slow_bandwidth_bytes_per_s": h.slow_bandwidth, "alignment_bytes": h.alignment_bytes}


def hierarchy_space(program: Program, prefetch: bool, fixed: Mapping[str, Any]
                    ) -> DesignSpace:
    """The design space for ``program`` minus the ``fixed`` parameters."""
    names = [*VALUES, *(["copy_engines"] if prefetch else [])]
    for name, value in fixed.items():
        if name not in names:
            raise ArchGymError(f"fixed: unknown parameter {name!r}; parameters: "
                               f"{', '.join(names)}")
        integral = name in _INTEGRAL
        if isinstance(value, bool) or not isinstance(value, int if integral else int | float) \
                or value <= 0:
            raise ArchGymError(f"fixed {name}={value!r}: must be "
                               f"{'an integer' if integral else 'a number'} > 0")
    params = []
    own = _own(program.hierarchy)
    for name, values in VALUES.items():
        if name not in fixed:
            params.append(Ordinal(name, tuple(sorted({*values, own[name]})), default=own[name]))
    if prefetch and "copy_engines" not in fixed:
        low, high, default = COPY_ENGINES
        params.append(Integer("copy_engines", low, high, default=default))
    if not params:
        raise ArchGymError("every hierarchy parameter is fixed: nothing left to search")
    return DesignSpace(params)


class HierarchyEvaluator(Evaluator):
    """Maps the program onto one hierarchy and reports time, area and energy."""

    def __init__(self, program: Program, space: DesignSpace, mapper: str, time_limit_s: float,
                 prefetch: bool, lead_ops: int, copy_bandwidth: float | None,
                 fixed: Mapping[str, Any]) -> None:
        super().__init__()
        self.program, self.space, self.mapper = program, space, mapper
        self.time_limit_s, self.prefetch = time_limit_s, prefetch
        self.lead_ops, self.copy_bandwidth = lead_ops, copy_bandwidth
        self.fixed = dict(fixed)
        self.metric_specs = ()  # set by the env from the default design

    def design(self, config: Mapping[str, Any]
               ) -> tuple[Program, Placement, PrefetchResult | None]:
        """The re-targeted program, the placement it runs with (in prefetch mode: the fast
        tensors that keep a residency) and, in prefetch mode, the prefetch result."""
        c = {**_own(self.program.hierarchy), **self.fixed, **config}
        h = Hierarchy(int(c["fast_capacity_bytes"]), float(c["fast_bandwidth_bytes_per_s"]),
                      int(c["alignment_bytes"]), float(c["slow_bandwidth_bytes_per_s"]),
                      self.program.hierarchy.peak_flops)
        p = self.program.with_hierarchy(h)
        placement = (greedy(p) if self.mapper == "greedy"
                     else optimal(p, time_limit_s=self.time_limit_s).placement)
        if not self.prefetch:
            return p, placement, None
        engines = int(c.get("copy_engines", COPY_ENGINES[2]))
        residencies, pre = prefetch_best(p, placement, engines, self.copy_bandwidth,
                                         self.lead_ops)
        if not pre.valid:
            raise RuntimeError(f"{p.name}: invalid prefetch residencies: "
                               f"{'; '.join(pre.violations[:3])}")
        kept = tuple(o if r is not None else None
                     for o, r in zip(placement, residencies, strict=True))
        return p, kept, pre

    def _evaluate(self, config: Mapping[str, Any]) -> dict[str, float]:
        p, placement, pre = self.design(config)
        r = evaluate(p, placement, self.mapper)
        if not r.valid:
            raise RuntimeError(f"{p.name}: the {self.mapper} mapper produced an invalid "
                               f"placement: {'; '.join(r.violations[:3])}")
        time_s, saved_s, copied = r.total_time_s, r.time_saved_s, 0
        if pre is not None:
            time_s, saved_s = pre.total_time_s, pre.time_saved_s
            copied = pre.copy_in_bytes + pre.writeback_bytes
        hw = hardware_cost(p, r, copied_bytes=copied)
        return {"time_s": time_s, "time_saved_s": saved_s, "area_mm2": hw["fast_area_mm2"],
                "energy_j": hw["energy_j"], "peak_fast_bytes": float(r.peak_fast_bytes)}


class MemoryHierarchyEnv(DesignEnv):
    """One step = one memory hierarchy, the program mapped onto it (module docstring)."""

    def __init__(self, program: str = "gpt2_decode",
                 mapper: Literal["greedy", "optimal"] = "greedy", time_limit_s: float = 10.0,
                 prefetch: bool = False, lead_ops: int = 4,
                 copy_bandwidth: float | None = None,
                 fixed: Mapping[str, Any] | None = None, objective: str = "iso-area",
                 max_steps: int = 100) -> None:
        if mapper not in ("greedy", "optimal"):
            raise ArchGymError(f"mapper must be 'greedy' or 'optimal', got {mapper!r}")
        if not time_limit_s > 0:
            raise ArchGymError(f"time_limit_s must be > 0 seconds, got {time_limit_s!r}")
        if lead_ops < 0:
            raise ArchGymError(f"lead_ops must be an integer >= 0, got {lead_ops}")
        if copy_bandwidth is not None and not copy_bandwidth > 0:
            raise ArchGymError(f"copy_bandwidth must be > 0 bytes/s or null (unlimited), got "
                               f"{copy_bandwidth!r}")
        prog = load_program(program)
        fixed = dict(fixed or {})
        space = hierarchy_space(prog, prefetch, fixed)
        evaluator = HierarchyEvaluator(prog, space, mapper, time_limit_s, prefetch, lead_ops,
                                       copy_bandwidth, fixed)
        evaluator.workload = prog.name
        evaluator.workload_hash = digest(prog.to_dict())
        evaluator.metric_specs = (MetricSpec("time_s", "s", "minimize"),
                                  MetricSpec("time_saved_s", "s", "maximize"),
                                  MetricSpec("area_mm2", "mm^2", "minimize"),
                                  MetricSpec("energy_j", "J", "minimize"),
                                  MetricSpec("peak_fast_bytes", "B", "minimize"))
        d = evaluator._evaluate(space.default())
        fallback = {"time_s": d["time_s"], "time_saved_s": d["time_s"],
                    "area_mm2": sram_area_mm2(_MIB), "energy_j": 1.0,
                    "peak_fast_bytes": float(_MIB)}
        evaluator.metric_specs = tuple(
            MetricSpec(s.name, s.unit, s.direction, scale=d[s.name] if d[s.name] > 0
                       else fallback[s.name]) for s in evaluator.metric_specs)
        area = d["area_mm2"] if d["area_mm2"] > 0 else fallback["area_mm2"]
        self.objective_aliases = {"iso-area": f"time_s; area_mm2<={area!r}", "time": "time_s",
                                  "area": "area_mm2", "energy": "energy_j",
                                  "time-area": "0.5*time_s+0.5*area_mm2"}
        self.default_metrics, self.mapping = d, evaluator
        self.metric_specs = evaluator.metric_specs
        super().__init__(evaluator, self.parse_objective(objective), max_steps=max_steps)

    def placement(self, config: Mapping[str, Any]) -> tuple[Program, Placement]:
        """The re-targeted program and the placement ``config`` runs with (what the
        independent checker is run on in the tests)."""
        p, placement, _ = self.mapping.design(self.space.complete(config))
        return p, placement
