"""Layer-by-layer evaluation of a systolic-array accelerator: the simulator's entry points.

:func:`simulate` runs a list of layers on one :class:`~simulators.accel.config.AccelConfig`
and returns an :class:`AccelResult` whose per-layer fields carry SCALE-Sim v3's names and
definitions (``COMPUTE_REPORT.csv`` and ``DETAILED_ACCESS_REPORT.csv``; see
``docs/accel.md``); :func:`simulate_files` does the same from a topology CSV and a ``.cfg``
(the ``archgym simulate accel`` command); :func:`evaluate_design` scores one design point on a
workload (latency, energy, area, EDP) for design-space exploration.

Timing. In ``CALC`` mode (SCALE-Sim's "estimate bandwidth" mode) the array never stalls:
``total_cycles == compute_cycles`` and ``dram_bw_stall_free`` reports the DRAM bandwidth that
keeps it so. In ``USER`` mode the DRAM interface moves ``bandwidth`` words per cycle and we
model double buffering per fold: while fold ``i`` computes (``fold_cycles``), the interface
fetches fold ``i + 1``'s operands and writes back fold ``i - 1``'s outputs, each fold taking an
equal share of the layer's DRAM traffic; the first fold's operands are fetched before it starts
and the last fold's outputs are written after it ends. A layer then takes
``r/B + (F - 1) * max(t, (r + w)/B) + t + w/B`` cycles (``F`` folds of ``t`` cycles, ``r`` and
``w`` words read and written per fold) and the excess over ``F * t`` is its stall count.
SCALE-Sim's own USER mode differs (it re-fetches its prefetch buffer as a ring and stalls on
every miss); ``docs/accel.md`` explains why we do not follow it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

from simulators.accel.config import DATAFLOWS, AccelConfig, read_config
from simulators.accel.dram import filter_dram_reads, ifmap_dram_reads, ofmap_dram_writes
from simulators.accel.energy import EnergyBreakdown, area_mm2, layer_energy
from simulators.accel.errors import AccelInputError
from simulators.accel.systolic import fold_counts
from simulators.accel.topology import Layer, read_topology

# The per-layer fields of the JSON report, in order (the CLI's contract).
REPORT_FIELDS = ("name", "compute_cycles", "stall_cycles", "total_cycles", "overall_util_pct",
                 "mapping_efficiency_pct", "compute_util_pct", "sram_ifmap_reads",
                 "sram_filter_reads", "sram_ofmap_writes", "dram_ifmap_reads",
                 "dram_filter_reads", "dram_ofmap_writes", "energy_pj")


@dataclass(frozen=True)
class LayerResult:
    """One layer on one array (names and definitions of SCALE-Sim's reports)."""

    name: str
    dataflow: str
    m: int
    n: int
    k: int
    macs: int
    folds: int
    compute_cycles: int
    stall_cycles: int
    total_cycles: int
    overall_util_pct: float
    mapping_efficiency_pct: float
    compute_util_pct: float
    sram_ifmap_reads: int
    sram_filter_reads: int
    sram_ofmap_writes: int
    dram_ifmap_reads: int
    dram_filter_reads: int
    dram_ofmap_writes: int
    dram_bw_stall_free: float
    energy: EnergyBreakdown

    @property
    def energy_pj(self) -> float:
        return self.energy.total_pj

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "energy"}
        out["energy_pj"] = self.energy_pj
        out["energy_breakdown_pj"] = self.energy.to_dict()
        return {k: out.pop(k) for k in REPORT_FIELDS} | out


@dataclass(frozen=True)
class AccelResult:
    """All layers of a run, their totals and the accelerator's area."""

    config: AccelConfig
    layers: tuple[LayerResult, ...]

    @property
    def total_cycles(self) -> int:
        return sum(r.total_cycles for r in self.layers)

    @property
    def energy_pj(self) -> float:
        return sum(r.energy_pj for r in self.layers)

    @property
    def area(self) -> dict[str, float]:
        c = self.config
        return area_mm2(c.array_rows, c.array_cols,
                        (c.ifmap_sram_kb, c.filter_sram_kb, c.ofmap_sram_kb))

    def total(self) -> dict:
        """Sums over layers of every count, cycle and energy; the percentages over the whole
        run: overall utilisation from the summed MACs and cycles, mapping efficiency and
        compute utilisation averaged over layers weighted by their compute cycles."""
        sums = {f: sum(getattr(r, f) for r in self.layers) for f in REPORT_FIELDS[1:]
                if not f.endswith("_pct")}
        pes = self.config.array_rows * self.config.array_cols
        compute = sums["compute_cycles"]
        sums["overall_util_pct"] = (sum(r.macs for r in self.layers) * 100
                                    / (sums["total_cycles"] * pes))
        for f in ("mapping_efficiency_pct", "compute_util_pct"):
            sums[f] = sum(getattr(r, f) * r.compute_cycles for r in self.layers) / compute
        sums["macs"] = sum(r.macs for r in self.layers)
        sums["energy_breakdown_pj"] = EnergyBreakdown(*(
            sum(getattr(r.energy, f.name) for r in self.layers)
            for f in fields(EnergyBreakdown))).to_dict()
        return {k: sums.pop(k) for k in REPORT_FIELDS[1:]} | sums

    def to_dict(self) -> dict:
        return {"config": self.config.to_dict(), "layers": [r.to_dict() for r in self.layers],
                "total": self.total(), "area_mm2": self.area}


def _user_stalls(folds: int, fold_cycles: int, reads: int, writes: int,
                 bandwidth: float) -> int:
    """Stall cycles of the double-buffered prefetch model (module docstring)."""
    r, w = reads / folds, writes / folds
    cycles = (r / bandwidth + (folds - 1) * max(fold_cycles, (r + w) / bandwidth)
              + fold_cycles + w / bandwidth)
    return max(0, math.ceil(cycles - folds * fold_cycles - 1e-9))


def simulate_layer(layer: Layer, config: AccelConfig, dataflow: str | None = None
                   ) -> LayerResult:
    """One layer on ``config`` (``dataflow`` overrides the config's). Layers of the same
    shape on the same hardware are computed once (names aside)."""
    df = dataflow or config.dataflow
    if df not in DATAFLOWS:
        raise AccelInputError(f"layer {layer.name!r}: dataflow must be one of "
                              f"{', '.join(DATAFLOWS)}, got {df!r}")
    shape = (layer.ifmap_h, layer.ifmap_w, layer.filter_h, layer.filter_w, layer.channels,
             layer.num_filters, layer.stride)
    hw = (config.array_rows, config.array_cols, config.ifmap_sram_kb, config.filter_sram_kb,
          config.ofmap_sram_kb, config.interface_bandwidth, config.bandwidth)
    return LayerResult(name=layer.name, dataflow=df, **_figures(shape, hw, df))


@lru_cache(maxsize=1 << 16)
def _figures(shape: tuple, hw: tuple, df: str) -> dict:
    """Every :class:`LayerResult` field but the name and dataflow (see simulate_layer)."""
    h, w, fh, fw, ch, nf, s = shape
    rows, cols, kb_i, kb_f, kb_o, mode, bandwidth = hw
    layer = Layer("_", *shape)
    m, n, k = layer.m, layer.n, layer.k
    macs = m * n * k
    fc = fold_counts(m, n, k, rows, cols, df)
    dram_if = ifmap_dram_reads(h, w, fh, fw, ch, s, n, rows, cols, df, kb_i)
    dram_fi = filter_dram_reads(k, n, m, rows, cols, df, kb_f)
    dram_of = ofmap_dram_writes(fc.ofmap_valid_writes, kb_o, cols)
    stalls = 0
    if mode == "USER":
        stalls = _user_stalls(fc.folds, fc.fold_cycles, dram_if + dram_fi, dram_of, bandwidth)
    total = fc.compute_cycles + stalls
    energy = layer_energy(macs, (kb_i, kb_f, kb_o), fc.sram_ifmap_reads,
                          fc.sram_filter_reads, fc.ofmap_valid_writes,
                          fc.ofmap_valid_writes - m * n, dram_if, dram_fi, dram_of)
    return dict(
        m=m, n=n, k=k, macs=macs, folds=fc.folds, compute_cycles=fc.compute_cycles,
        stall_cycles=stalls, total_cycles=total,
        overall_util_pct=macs * 100 / (total * rows * cols),
        mapping_efficiency_pct=fc.mapping_efficiency_pct,
        compute_util_pct=fc.compute_util_pct, sram_ifmap_reads=fc.sram_ifmap_reads,
        sram_filter_reads=fc.sram_filter_reads, sram_ofmap_writes=fc.sram_ofmap_writes,
        dram_ifmap_reads=dram_if, dram_filter_reads=dram_fi, dram_ofmap_writes=dram_of,
        dram_bw_stall_free=(dram_if + dram_fi + dram_of) / (fc.folds * fc.fold_cycles),
        energy=energy)


def simulate(layers: Sequence[Layer], config: AccelConfig,
             dataflows: Sequence[str] | None = None) -> AccelResult:
    """Run ``layers`` in order on ``config``; ``dataflows`` optionally gives each layer's
    dataflow (one per layer), overriding ``config.dataflow``."""
    layers = list(layers)
    if not layers:
        raise AccelInputError("no layers to simulate")
    if dataflows is not None and len(dataflows) != len(layers):
        raise AccelInputError(f"dataflows has {len(dataflows)} entries for {len(layers)} "
                              "layers; give one per layer")
    dfs = dataflows if dataflows is not None else [None] * len(layers)
    return AccelResult(config, tuple(simulate_layer(layer, config, df)
                                     for layer, df in zip(layers, dfs, strict=True)))


def simulate_files(topology: str | Path, config: str | Path, fmt: str = "auto") -> AccelResult:
    """:func:`simulate` on a SCALE-Sim topology CSV and ``.cfg`` (``fmt``: ``auto``,
    ``conv`` or ``gemm`` topology)."""
    return simulate(read_topology(topology, fmt), read_config(config))


def evaluate_design(layers: Sequence[Layer], *, array_rows: int, array_cols: int,
                    dataflow: str, ifmap_sram_kb: int, filter_sram_kb: int,
                    ofmap_sram_kb: int, dram_bandwidth: float | None,
                    layer_dataflows: Sequence[str] | None = None,
                    clock_ghz: float = 1.0) -> dict[str, float]:
    """Latency, energy, area and energy-delay product of one design on a workload.

    ``dram_bandwidth`` is in bytes (words) per cycle; ``None`` means the stall-free
    bandwidth (SCALE-Sim's CALC mode). Latency counts every layer's cycles back to back at
    ``clock_ghz``. Returns ``latency_cycles``, ``latency_ms``, ``energy_mj``, ``area_mm2``,
    ``edp_mj_ms``, ``stall_cycles``, ``overall_util_pct``, ``dram_bytes`` and
    ``dram_bw_stall_free`` (the largest per-layer stall-free bandwidth, bytes per cycle).
    """
    if not clock_ghz > 0:
        raise AccelInputError(f"clock_ghz must be positive, got {clock_ghz!r}")
    cfg = AccelConfig(array_rows, array_cols, ifmap_sram_kb, filter_sram_kb, ofmap_sram_kb,
                      dataflow, "CALC" if dram_bandwidth is None else "USER",
                      10.0 if dram_bandwidth is None else dram_bandwidth)
    res = simulate(layers, cfg, layer_dataflows)
    total = res.total()
    latency_ms = total["total_cycles"] / (clock_ghz * 1e6)
    energy_mj = total["energy_pj"] * 1e-9
    return {"latency_cycles": float(total["total_cycles"]), "latency_ms": latency_ms,
            "energy_mj": energy_mj, "area_mm2": res.area["total_mm2"],
            "edp_mj_ms": energy_mj * latency_ms, "stall_cycles": float(total["stall_cycles"]),
            "overall_util_pct": total["overall_util_pct"],
            "dram_bytes": float(total["dram_ifmap_reads"] + total["dram_filter_reads"]
                                + total["dram_ofmap_writes"]),
            "dram_bw_stall_free": max(r.dram_bw_stall_free for r in res.layers)}
