"""``archgym/DRAM-v0``: design a DRAM memory controller for a workload (ArchGym's DRAMGym).

The design space is DRAMGym's ten controller knobs with exactly its value sets (442,368
designs; Krishnan et al., "ArchGym", ISCA 2023), evaluated by the event-driven controller
model in :mod:`simulators.dram` on a memory trace.

Metrics: ``latency_ns`` (average read latency from the request's arrival to its last data
beat, as the requester sees it), ``p99_latency_ns`` (the same, 99th percentile),
``controller_latency_ns`` (from the controller accepting the request: DRAMSys' and DRAMsim3's
figure), ``power_mw`` (average DRAM power), ``energy_pj``, ``bandwidth_gbps``,
``row_hit_rate``. Latency counts from arrival because the acceptance-based figure can be
gamed: a controller that admits one transaction at a time (``MaxActiveTransactions=1``)
shows a near-unloaded latency while requests queue in front of it. The observation is
DRAMGym's ``[energy, power, latency]``, each mapped to ``v / (v + scale)``.

Objectives: any string of :func:`archgym.objectives.parse` over the metrics above, plus
ArchGym's aliases. The default, ``latency_ns``, minimises the average read latency (reward
``-latency_ns / scale``). ArchGym's target aliases keep its target formulation (reward
``t / (|v - t| + eps * t)``, met within 1 %) with targets derived from the *default design*
(DRAMSys' example controller, :data:`DEFAULTS`), which the constructor simulates once on
the env's own trace, device and mapping (the result is cached, so ``reset`` costs nothing
more): each default target is :data:`TARGET_FRACTION` (0.95) of the default design's value,
i.e. 5 % better than the baseline controller, on the same trace. On every shipped trace
some of 150 random designs reach such targets (on ``random`` and ``strided`` the best energy
is only 5.6 % below the default design's: a 10 % target was out of reach there), unlike the
unloaded latency or the standby power, which no loaded design reaches.

- ``latency``: ``target:latency_ns`` (``target_latency`` overrides it, ns);
- ``power``: ``target:power_mw; latency_ns<=L0`` with ``L0`` the default design's latency:
  without that limit a throttled design (one transaction at a time, the trace stretched out)
  wins on power while serving the trace at a fraction of its bandwidth; with it, a design
  must save power at no loss of latency (``target_power`` overrides the target, mW);
- ``energy``: ``target:energy_pj`` (``target_energy``, pJ; throttling raises energy, as the
  background power is paid for longer, so it needs no limit);
- ``both``: ``target:power_mw,latency_ns`` (ArchGym's product of the two).

A bare metric name optimises it in its direction (bandwidth and row-hit rate up).
``archgym envs archgym/DRAM-v0`` prints every objective's reward as one formula.

Observation scales are physical: the unloaded row-conflict read latency, the active-
standby power of all ranks, that power over the trace's duration, the peak bandwidth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from archgym.contract import digest
from archgym.env import DesignEnv
from archgym.errors import ArchGymError
from archgym.evaluator import Evaluator, MetricSpec
from archgym.objectives import parse
from archgym.space import Categorical, DesignSpace, Ordinal
from simulators.dram import DEFAULTS, KNOBS, PRESETS, ControllerConfig, simulate
from simulators.dram.trace import Trace, read_trace
from workloads import dram as dram_workloads


def knob_space(fixed: Mapping[str, Any] | None = None,
               values: Mapping[str, Sequence[Any]] | None = None) -> DesignSpace:
    """DRAMGym's knobs, minus the ``fixed`` ones, with value sets optionally narrowed; knobs
    not searched take :data:`simulators.dram.DEFAULTS` (DRAMSys' example configuration)."""
    fixed, values = dict(fixed or {}), dict(values or {})
    for name in (*fixed, *values):
        if name not in KNOBS:
            raise ArchGymError(f"unknown DRAM knob {name!r}; knobs: {', '.join(KNOBS)}")
    params = []
    for name, allowed in KNOBS.items():
        if name in fixed:
            if fixed[name] not in allowed:
                raise ArchGymError(f"fixed knob {name}={fixed[name]!r} is not allowed; allowed: "
                                   f"{', '.join(map(str, allowed))}")
            continue
        chosen = tuple(values.get(name, allowed))
        bad = [v for v in chosen if v not in allowed]
        if bad or not chosen:
            raise ArchGymError(f"values for {name}: {bad or 'empty'} not allowed; allowed: "
                               f"{', '.join(map(str, allowed))}")
        kind = Ordinal if all(isinstance(v, int) for v in allowed) else Categorical
        default = DEFAULTS[name] if DEFAULTS[name] in chosen else None
        params.append(kind(name, chosen, default=default))
    if not params:
        raise ArchGymError("every DRAM knob is fixed: nothing left to search")
    return DesignSpace(params)


def load_workload(workload: str | Path, trace_length: int | None) -> Trace:
    """A shipped workload by name, or a trace file (DRAMsim3 or DRAMSys .stl format)."""
    if str(workload) in dram_workloads.available():
        trace = dram_workloads.load(str(workload))
    elif Path(workload).is_file():
        trace = read_trace(workload)
    else:
        raise ArchGymError(f"workload {str(workload)!r} is neither a shipped trace "
                           f"({', '.join(dram_workloads.available())}) nor a file")
    if trace_length is not None:
        if trace_length < 1:
            raise ArchGymError("trace_length must be >= 1")
        trace = Trace(trace.addr[:trace_length], trace.is_write[:trace_length],
                      trace.cycle[:trace_length], trace.name)
    return trace


class DramEvaluator(Evaluator):
    """Runs the controller model for one knob setting on a fixed trace and device."""

    def __init__(self, space: DesignSpace, trace: Trace, workload: str, device: str,
                 mapping: str, fixed: Mapping[str, Any]) -> None:
        super().__init__()
        if device not in PRESETS:
            raise ArchGymError(f"unknown DRAM device {device!r}; presets: {', '.join(PRESETS)}")
        self.space, self.trace, self.workload = space, trace, workload
        self.workload_hash = digest(trace.addr.tobytes(), trace.is_write.tobytes(),
                                    trace.cycle.tobytes())
        self.device, self.mapping, self.fixed = PRESETS[device], mapping, dict(fixed)
        d = self.device
        floor_power = d.VDD * d.IDD3N * d.devices_per_rank * d.ranks * d.channels  # mW
        #: time the trace spans (its last arrival), the natural unit of its energy
        self.duration_ns = duration_ns = float(trace.cycle[-1] + 1) * d.tCK_ns
        self.metric_specs = (
            MetricSpec("latency_ns", "ns", "minimize",
                       scale=(d.tRP + d.tRCD + d.CL + d.burst_cycles) * d.tCK_ns),
            MetricSpec("p99_latency_ns", "ns", "minimize",
                       scale=(d.tRP + d.tRCD + d.CL + d.burst_cycles) * d.tCK_ns),
            MetricSpec("controller_latency_ns", "ns", "minimize",
                       scale=(d.tRP + d.tRCD + d.CL + d.burst_cycles) * d.tCK_ns),
            MetricSpec("power_mw", "mW", "minimize", scale=floor_power),
            MetricSpec("energy_pj", "pJ", "minimize", scale=floor_power * duration_ns),
            MetricSpec("bandwidth_gbps", "GB/s", "maximize", scale=d.peak_bandwidth_gbps),
            MetricSpec("row_hit_rate", "1", "maximize", scale=0.5),
        )

    def controller(self, config: Mapping[str, Any]) -> ControllerConfig:
        return ControllerConfig.from_dict({**DEFAULTS, **self.fixed, **config})

    def _evaluate(self, config: Mapping[str, Any]) -> dict[str, float]:
        r = simulate(self.trace, device=self.device, controller=self.controller(config),
                     mapping=self.mapping)
        return {"latency_ns": r.avg_read_total_latency_ns,
                "p99_latency_ns": r.p99_read_total_latency_ns,
                "controller_latency_ns": r.avg_read_latency_ns,
                "power_mw": r.avg_power_mw, "energy_pj": r.energy_pj,
                "bandwidth_gbps": r.bandwidth_gbps, "row_hit_rate": r.row_hit_rate}


#: ArchGym's objective names for DRAMGym (targets from the env's ``target_*`` parameters,
#: by default derived from the default design; ``{latency_limit}`` is its latency)
ALIASES = {"latency": "target:latency_ns", "power": "target:power_mw; latency_ns<={latency_limit}",
           "energy": "target:energy_pj", "both": "target:power_mw,latency_ns"}
#: default targets are this fraction of the default design's metrics (5 % better)
TARGET_FRACTION = 0.95


def workload_label(workload: str | Path, trace_length: int | None, device: str,
                   mapping: str) -> str:
    """What the dataset's ``workload`` column says, and what a proxy is checked against:
    the trace, cut (``stream[:2000]``), and a non-default device or mapping (``@HBM2_PC_2000``).
    """
    label = str(workload) + (f"[:{trace_length}]" if trace_length is not None else "")
    if (device, mapping) != ("DDR4_8Gb_x8_2400", "rochrababgco"):
        label += f"@{device}" + ("" if mapping == "rochrababgco" else f"/{mapping}")
    return label


class DramEnv(DesignEnv):
    """DRAM controller design: one step = one controller configuration simulated.

    ``cost_model="proxy"`` answers from a proxy saved by ``archgym proxy train`` (``proxy=``
    its path); ``"multi-fidelity"`` uses it where its ensemble's relative spread is below
    ``proxy_threshold`` and simulates elsewhere (the dataset's ``fidelity`` column says which).
    """

    objective_aliases = ALIASES

    def __init__(self, workload: str | Path = "stream", objective: str = "latency_ns",
                 target_latency: float | None = None, target_power: float | None = None,
                 target_energy: float | None = None, device: str = "DDR4_8Gb_x8_2400",
                 mapping: str = "rochrababgco", fixed: Mapping[str, Any] | None = None,
                 values: Mapping[str, Sequence[Any]] | None = None,
                 trace_length: int | None = None, max_steps: int = 100) -> None:
        space = knob_space(fixed, values)
        trace = load_workload(workload, trace_length)
        evaluator = DramEvaluator(space, trace, workload_label(workload, trace_length, device,
                                                              mapping), device, mapping,
                                  fixed or {})
        #: the default design's metrics, which the default targets derive from
        self.baseline = evaluator.evaluate(space.complete({}))
        given = {"latency_ns": target_latency, "power_mw": target_power,
                 "energy_pj": target_energy}
        self.targets = {m: t if t is not None else TARGET_FRACTION * self.baseline[m]
                        for m, t in given.items()}
        limit = repr(self.baseline["latency_ns"])  # exact: the default design is feasible
        self.objective_aliases = {k: v.replace("{latency_limit}", limit)
                                  for k, v in ALIASES.items()}
        objective_ = parse(objective, evaluator.metric_specs, self.objective_aliases,
                           self.targets)
        super().__init__(evaluator, objective_, max_steps=max_steps,
                         observation_metrics=("energy_pj", "power_mw", "latency_ns"))
