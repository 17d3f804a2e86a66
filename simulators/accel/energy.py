"""Per-access energies and per-component areas of an int8 systolic array at 45 nm.

SCALE-Sim's words are 1 byte; the array multiplies int8 operands and accumulates in 32 bits.
Every number below is a published 45 nm figure (0.9 V):

=========================  ===========  ===================================================
component                  value        source
=========================  ===========  ===================================================
8-bit integer multiply     0.2 pJ       M. Horowitz, "Computing's energy problem (and what
32-bit integer add         0.1 pJ       we can do about it)", ISSCC 2014 (Fig. 1.1.9)
8-bit multiplier area      282 um^2     Horowitz ISSCC 2014 (same table, area column)
32-bit adder area          137 um^2     Horowitz ISSCC 2014
32-bit register access     1 pJ         S. Han et al., "EIE", ISCA 2016, Table I (45 nm,
                                        from Horowitz); 8-bit access: 1/4 of it
SRAM read, 64-bit word     10 pJ (8 KB), Horowitz ISSCC 2014; other sizes interpolated
                           20 pJ (32 KB), linearly in log(size) / log(energy) and
                           100 pJ (1 MB) extrapolated with the end slopes; a 1-byte
                                        access costs 1/8 of the 64-bit one
DRAM access, 32-bit word   640 pJ       Han et al. ISCA 2016, Table I (20 pJ/bit, the low
                                        end of Horowitz's 1.3-2.6 nJ per 64 bits)
flip-flop area             4.522 um^2   Nangate FreePDK45 Open Cell Library, DFF_X1
SRAM area per bit          1.215 um^2   CACTI rule of thumb of 600 lambda^2 per bit with
                                        periphery (D. Greaves, SoC D/M notes, Cambridge),
                                        lambda = 45 nm; a 6T cell alone is 0.346 um^2
                                        (Intel 45 nm, Mistry et al., IEDM 2007)
=========================  ===========  ===================================================

A processing element holds an 8x8 multiplier, a 32-bit adder and three pipeline registers
(8-bit IFMAP, 8-bit weight, 32-bit partial sum): ``282 + 137 + 48 * 4.522 = 636 um^2``.
Each MAC latches its two operands and its partial sum, so it costs ``0.2 + 0.1`` pJ of
arithmetic and ``2 * 0.25 + 1`` pJ of register accesses. The area is the PE array plus the
three SRAMs (DRAM, interconnect and control are not counted; no leakage is modelled).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from functools import lru_cache

TECH_NODE_NM = 45
MAC_PJ = 0.2 + 0.1  # int8 multiply + int32 accumulate
REGISTER_PJ_PER_MAC = 2 * 0.25 + 1.0  # two 8-bit operand latches + 32-bit partial sum
DRAM_PJ_PER_BYTE = 640.0 / 4
PE_AREA_UM2 = 282 + 137 + (8 + 8 + 32) * 4.522
SRAM_AREA_UM2_PER_BIT = 600 * (TECH_NODE_NM * 1e-3) ** 2
# (size in KB, pJ per 64-bit read) from Horowitz ISSCC 2014
SRAM_POINTS = ((8, 10.0), (32, 20.0), (1024, 100.0))


@lru_cache(maxsize=256)
def sram_pj_per_byte(size_kb: float) -> float:
    """Energy of a 1-byte SRAM access for an SRAM of ``size_kb`` kB (see the table)."""
    if size_kb <= 0:
        raise ValueError(f"SRAM size must be positive, got {size_kb!r}")
    (s0, e0), (s1, e1) = SRAM_POINTS[:2] if size_kb < SRAM_POINTS[1][0] else SRAM_POINTS[1:]
    slope = math.log(e1 / e0) / math.log(s1 / s0)
    return e0 * (size_kb / s0) ** slope / 8


def sram_area_mm2(size_kb: float) -> float:
    """Area of an SRAM of ``size_kb`` kB (bit cells with periphery, see the table)."""
    return size_kb * 1024 * 8 * SRAM_AREA_UM2_PER_BIT * 1e-6


@dataclass(frozen=True)
class EnergyBreakdown:
    """Energy of one layer (or a sum of layers) in pJ, by component."""

    mac_pj: float
    register_pj: float
    sram_ifmap_pj: float
    sram_filter_pj: float
    sram_ofmap_pj: float
    dram_pj: float

    @property
    def total_pj(self) -> float:
        return (self.mac_pj + self.register_pj + self.sram_ifmap_pj + self.sram_filter_pj
                + self.sram_ofmap_pj + self.dram_pj)

    def __add__(self, other: EnergyBreakdown) -> EnergyBreakdown:
        # field by field (``asdict`` deep-copies, which dominated summing a 360-layer network)
        return EnergyBreakdown(*(getattr(self, f.name) + getattr(other, f.name)
                                 for f in fields(self)))

    def to_dict(self) -> dict:
        return {**asdict(self), "total_pj": self.total_pj}


def layer_energy(macs: int, sram_kb: tuple[int, int, int], sram_ifmap_reads: int,
                 sram_filter_reads: int, ofmap_writes: int, ofmap_accumulate_reads: int,
                 dram_ifmap_reads: int, dram_filter_reads: int,
                 dram_ofmap_writes: int) -> EnergyBreakdown:
    """Energy of one layer from its access counts.

    Each SRAM is charged for the array's reads of it and for its fills from DRAM (one write
    per DRAM word); the OFMAP SRAM for every partial-sum write, for the reads that accumulate
    partial sums across row folds and for the reads that drain outputs to DRAM.
    """
    e_if, e_fi, e_of = (sram_pj_per_byte(kb) for kb in sram_kb)
    return EnergyBreakdown(
        mac_pj=macs * MAC_PJ,
        register_pj=macs * REGISTER_PJ_PER_MAC,
        sram_ifmap_pj=(sram_ifmap_reads + dram_ifmap_reads) * e_if,
        sram_filter_pj=(sram_filter_reads + dram_filter_reads) * e_fi,
        sram_ofmap_pj=(ofmap_writes + ofmap_accumulate_reads + dram_ofmap_writes) * e_of,
        dram_pj=(dram_ifmap_reads + dram_filter_reads + dram_ofmap_writes) * DRAM_PJ_PER_BYTE)


def area_mm2(rows: int, cols: int, sram_kb: tuple[int, int, int]) -> dict[str, float]:
    """Area of the PE array and the three SRAMs in mm^2, and their total."""
    parts = {"pe_array_mm2": rows * cols * PE_AREA_UM2 * 1e-6,
             "sram_ifmap_mm2": sram_area_mm2(sram_kb[0]),
             "sram_filter_mm2": sram_area_mm2(sram_kb[1]),
             "sram_ofmap_mm2": sram_area_mm2(sram_kb[2])}
    return {**parts, "total_mm2": sum(parts.values())}
