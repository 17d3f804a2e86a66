"""``archgym/Accelerator-v0``: design a systolic-array DNN accelerator for a network.

One step evaluates one design with the SCALE-Sim-faithful cost model of
:mod:`simulators.accel` (:func:`~simulators.accel.evaluate_design`): every layer of the
workload runs back to back on an ``R x C`` array with three SRAMs in front of a DRAM interface
of ``dram_bandwidth`` bytes per cycle (the model's USER mode: double-buffered, stalls when the
interface cannot keep up).

Design space (the value sets a hardware engineer would sweep; ``values`` narrows or replaces
them, ``fixed`` pins parameters outside the search):

================  ===============================  ===================================
parameter         values                           why
================  ===============================  ===================================
array_rows/cols   8, 16, ..., 256 (powers of two)  edge arrays (8x8, Gemmini's 16x16)
                                                   to TPU v1's 256x256
ifmap/filter/     16, 32, ..., 1024 kB             Eyeriss' 108 kB to NVDLA's 512 kB;
ofmap_sram_kb                                      the range the SRAM energy table
                                                   measures (8 kB - 1 MB, Horowitz 2014)
dram_bandwidth    8, 16, ..., 256 bytes/cycle      at 1 GHz: an LPDDR4-4266 x16 channel
                                                   (8.5 GB/s) to an HBM2 stack (256 GB/s)
dataflow          os, ws, is                       SCALE-Sim's three dataflows
================  ===============================  ===================================

The default design is SCALE-Sim's own example accelerator (32x32, 64 kB per SRAM), weight
stationary like the TPU, with 16 bytes/cycle (16 GB/s at 1 GHz, one DDR4-2133 x64 channel).
With ``per_layer_dataflow=True`` the single ``dataflow`` becomes one choice per distinct layer
shape, ``dataflow_<first layer of that shape>`` (a reconfigurable array like MAERI or Eyeriss
v2): latency and energy are sums over layers, so layers of equal shape gain nothing from
different choices, and BERT-base's 360 layers need 5 parameters instead of 360.

Workloads: the shipped topologies (``resnet18``, ``resnet50``, ``bert_base``, ``gpt2``; see
:mod:`workloads.accel`) or any SCALE-Sim topology CSV (convolution or GEMM format). The default
is ``bert_base``: its GEMM layers cost microseconds each, about 10 ms per design, where
convolutions with overlapping windows replay SCALE-Sim's request stream (ResNet-18: 40 ms per
design at the median, seconds for a few designs).

Metrics: ``latency_ms`` (at ``clock_ghz``), ``latency_cycles``, ``stall_cycles``,
``energy_mj``, ``power_w`` (energy over latency), ``area_mm2`` (PE array and SRAMs, 45 nm),
``edp_mj_ms``, ``overall_util_pct``, ``dram_bytes``, ``dram_bw_stall_free`` (bytes per cycle
the design would need not to stall) and ``dram_bandwidth_gbps`` (what it provisions: a cost
that objectives can cap). Observation scales are the default design's values on the workload
(``fixed`` parameters take their fixed values in it).

Objectives: any string of :func:`archgym.objectives.parse` over the metrics, plus the aliases
``latency``, ``energy``, ``area``, ``edp``, ``power`` and the default ``budget``: the lowest
latency within the default design's area and DRAM bandwidth (without a budget, the largest
array with the fastest DRAM always wins). ``target:METRIC`` without a value aims at a physical
floor no design of the space can pass: latency at 100 % utilisation of the largest array,
energy of the MACs plus every operand moved across the DRAM interface once, the smallest
design's area, and their product for EDP.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from archgym.contract import digest
from archgym.env import DesignEnv
from archgym.errors import ArchGymError
from archgym.evaluator import Evaluator, MetricSpec
from archgym.objectives import parse
from archgym.space import Categorical, DesignSpace, Ordinal
from simulators.accel import AccelInputError, Layer, evaluate_design, read_topology
from simulators.accel.config import DATAFLOWS
from simulators.accel.dram import compulsory_dram_bytes
from simulators.accel.energy import DRAM_PJ_PER_BYTE, MAC_PJ, REGISTER_PJ_PER_MAC, area_mm2
from workloads import accel as accel_workloads

#: parameter -> (value set, default design's value); ``dataflow`` is categorical
VALUES: dict[str, tuple[tuple[Any, ...], Any]] = {
    "array_rows": ((8, 16, 32, 64, 128, 256), 32),
    "array_cols": ((8, 16, 32, 64, 128, 256), 32),
    "ifmap_sram_kb": ((16, 32, 64, 128, 256, 512, 1024), 64),
    "filter_sram_kb": ((16, 32, 64, 128, 256, 512, 1024), 64),
    "ofmap_sram_kb": ((16, 32, 64, 128, 256, 512, 1024), 64),
    "dram_bandwidth": ((8, 16, 32, 64, 128, 256), 16),
    "dataflow": (DATAFLOWS, "ws"),
}
DEFAULTS = {name: default for name, (_, default) in VALUES.items()}
SIZES = ("array_rows", "array_cols", "ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb")


def load_layers(workload: str | Path) -> list[Layer]:
    """A shipped topology by name, or a SCALE-Sim topology CSV."""
    if str(workload) in accel_workloads.available():
        return accel_workloads.load(str(workload))
    if not Path(workload).is_file():
        raise ArchGymError(f"workload {str(workload)!r} is neither a shipped topology "
                           f"({', '.join(accel_workloads.available())}) nor a file")
    try:
        return read_topology(workload)
    except AccelInputError as err:
        raise ArchGymError(str(err)) from None


def dataflow_groups(layers: Sequence[Layer]) -> list[str]:
    """Per layer, the name of its dataflow parameter: ``dataflow_<first layer of its shape>``
    (``_2``, ``_3``... appended if two shapes' first layers share a name)."""
    by_shape: dict[tuple, str] = {}
    out = []
    for layer in layers:
        shape = tuple(layer.to_dict().values())[1:]
        if shape not in by_shape:
            name, i = f"dataflow_{layer.name}", 1
            while name in by_shape.values():
                i += 1
                name = f"dataflow_{layer.name}_{i}"
            by_shape[shape] = name
        out.append(by_shape[shape])
    return out


def _check_value(name: str, value: Any) -> bool:
    if name.startswith("dataflow"):
        return value in DATAFLOWS
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return False
    return name == "dram_bandwidth" or isinstance(value, int)


def design_space(dataflow_params: Sequence[str], fixed: Mapping[str, Any],
                 values: Mapping[str, Sequence[Any]]) -> DesignSpace:
    """The searched parameters: every size, the DRAM bandwidth and the dataflow parameter(s),
    minus ``fixed`` ones, with ``values`` replacing a parameter's value set."""
    names = [*SIZES, "dram_bandwidth", *dataflow_params]
    for name in (*fixed, *values):
        if name not in names:
            raise ArchGymError(f"unknown accelerator parameter {name!r}; parameters: "
                               f"{', '.join(names)}")
    for name, value in fixed.items():
        if not _check_value(name, value):
            raise ArchGymError(f"fixed {name}={value!r} is not allowed; {_allowed(name)}")
    params = []
    for name in names:
        if name in fixed:
            continue
        base = "dataflow" if name.startswith("dataflow") else name
        given = values.get(name, VALUES[base][0])
        if isinstance(given, str) or not isinstance(given, Sequence):
            raise ArchGymError(f"values for {name} must be a list, got {given!r}")
        chosen = list(given)
        bad = [v for v in chosen if not _check_value(name, v)]
        if bad or not chosen or len(set(chosen)) != len(chosen):
            raise ArchGymError(f"values for {name}: {bad or chosen} not allowed (need distinct "
                               f"values); {_allowed(name)}")
        default = DEFAULTS[base] if DEFAULTS[base] in chosen else None
        if base == "dataflow":
            params.append(Categorical(name, tuple(chosen), default=default))
        else:
            params.append(Ordinal(name, tuple(sorted(chosen)), default=default))
    if not params:
        raise ArchGymError("every accelerator parameter is fixed: nothing left to search")
    return DesignSpace(params)


def _allowed(name: str) -> str:
    if name.startswith("dataflow"):
        return f"allowed: {', '.join(DATAFLOWS)}"
    if name == "dram_bandwidth":
        return "allowed: positive numbers of bytes per cycle"
    return "allowed: positive integers"


class AccelEvaluator(Evaluator):
    """One design on a fixed list of layers (see the module docstring for the metrics)."""

    def __init__(self, space: DesignSpace, layers: Sequence[Layer], workload: str,
                 fixed: Mapping[str, Any], layer_params: Sequence[str] | None,
                 clock_ghz: float) -> None:
        super().__init__()
        if not clock_ghz > 0:
            raise ArchGymError(f"clock_ghz must be positive, got {clock_ghz!r}")
        self.space, self.layers, self.workload = space, list(layers), workload
        self.workload_hash = digest([layer.to_dict() for layer in self.layers])
        self.fixed, self.layer_params = dict(fixed), layer_params
        self.clock_ghz = clock_ghz
        #: the default design (``fixed`` parameters included): scales and the budget
        self.reference = reference = self.metrics_of(
            {**DEFAULTS, **dict.fromkeys(layer_params or (), DEFAULTS["dataflow"]), **fixed})
        scale = {k: v for k, v in reference.items() if v > 0}
        self.metric_specs = (
            MetricSpec("latency_ms", "ms", "minimize", scale["latency_ms"]),
            MetricSpec("latency_cycles", "cycles", "minimize", scale["latency_cycles"]),
            MetricSpec("stall_cycles", "cycles", "minimize", scale["latency_cycles"]),
            MetricSpec("energy_mj", "mJ", "minimize", scale["energy_mj"]),
            MetricSpec("power_w", "W", "minimize", scale["power_w"]),
            MetricSpec("area_mm2", "mm^2", "minimize", scale["area_mm2"]),
            MetricSpec("edp_mj_ms", "mJ*ms", "minimize", scale["edp_mj_ms"]),
            MetricSpec("overall_util_pct", "%", "maximize", 50.0),
            MetricSpec("dram_bytes", "B", "minimize", scale["dram_bytes"]),
            MetricSpec("dram_bw_stall_free", "B/cycle", "minimize",
                       float(DEFAULTS["dram_bandwidth"])),
            MetricSpec("dram_bandwidth_gbps", "GB/s", "minimize",
                       scale["dram_bandwidth_gbps"]),
        )

    def metrics_of(self, design: Mapping[str, Any]) -> dict[str, float]:
        """The metrics of a whole design (every parameter given)."""
        flows = [design[p] for p in self.layer_params] if self.layer_params else None
        m = evaluate_design(self.layers, **{k: design[k] for k in SIZES},
                            dataflow=flows[0] if flows else design["dataflow"],
                            dram_bandwidth=design["dram_bandwidth"], layer_dataflows=flows,
                            clock_ghz=self.clock_ghz)
        return {**m, "power_w": m["energy_mj"] / m["latency_ms"],
                "dram_bandwidth_gbps": design["dram_bandwidth"] * self.clock_ghz}

    def _evaluate(self, config: Mapping[str, Any]) -> dict[str, float]:
        return self.metrics_of({**self.fixed, **config})

    def floors(self) -> dict[str, float]:
        """Bounds no design of the space passes (the default ``target:`` values)."""
        def extreme(name: str, pick) -> Any:
            return self.fixed[name] if name in self.fixed else pick(self.space[name].values)

        macs = sum(layer.macs for layer in self.layers)
        pes = extreme("array_rows", max) * extreme("array_cols", max)
        latency_ms = math.ceil(macs / pes) / (self.clock_ghz * 1e6)
        moved = sum(compulsory_dram_bytes(layer) for layer in self.layers)
        energy_mj = (macs * (MAC_PJ + REGISTER_PJ_PER_MAC) + moved * DRAM_PJ_PER_BYTE) * 1e-9
        area = area_mm2(extreme("array_rows", min), extreme("array_cols", min),
                        tuple(extreme(f"{s}_sram_kb", min) for s in ("ifmap", "filter",
                                                                      "ofmap")))
        return {"latency_ms": latency_ms, "energy_mj": energy_mj,
                "area_mm2": area["total_mm2"], "edp_mj_ms": latency_ms * energy_mj}


def aliases(reference: Mapping[str, float]) -> dict[str, str]:
    """Objective words: one per main metric, and ``budget`` (the default design's area,
    rounded up to 0.001 mm^2, and its DRAM bandwidth)."""
    area = math.ceil(reference["area_mm2"] * 1000) / 1000
    return {"budget": f"latency_ms; area_mm2<={area:.3f}; "
                      f"dram_bandwidth_gbps<={reference['dram_bandwidth_gbps']:g}",
            "latency": "latency_ms", "energy": "energy_mj", "area": "area_mm2",
            "edp": "edp_mj_ms", "power": "power_w"}


class AcceleratorEnv(DesignEnv):
    """Systolic-array accelerator design: one step = one design run on the whole workload."""

    def __init__(self, workload: str | Path = "bert_base", objective: str = "budget",
                 per_layer_dataflow: bool = False, clock_ghz: float = 1.0,
                 fixed: Mapping[str, Any] | None = None,
                 values: Mapping[str, Sequence[Any]] | None = None,
                 max_steps: int = 100) -> None:
        layers = load_layers(workload)
        groups = dataflow_groups(layers) if per_layer_dataflow else None
        params = list(dict.fromkeys(groups)) if groups else ["dataflow"]
        space = design_space(params, fixed or {}, values or {})
        evaluator = AccelEvaluator(space, layers, str(workload), fixed or {}, groups,
                                   clock_ghz)
        self.objective_aliases = aliases(evaluator.reference)
        self.targets = evaluator.floors()
        objective_ = parse(objective, evaluator.metric_specs, self.objective_aliases,
                           self.targets)
        super().__init__(evaluator, objective_, max_steps=max_steps,
                         observation_metrics=("latency_ms", "energy_mj", "area_mm2",
                                              "power_w", "overall_util_pct"))
