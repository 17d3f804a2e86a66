"""Area and energy of a memory hierarchy running a placed program.

All figures of the default technology are for one node, 45 nm, so that they can be
compared with each other:

- **SRAM area**: a 6T bit cell of 0.346 um^2 (Intel 45 nm; Mistry et al., IEDM 2007) over
  an array efficiency of 0.70 (bit cells / macro area). The efficiency is the one TSMC's
  high-density SRAM shows: a 0.021 um^2 cell (N5 and N3E) gives macros of about
  31.8 Mib/mm^2 with assist circuits (TSMC at IEDM 2022, as reported by WikiChip Fuse,
  "IEDM 2022: Did We Just Witness The Death Of SRAM?"), i.e. ``0.021 um^2 x 31.8 Mi/mm^2
  = 0.70``. Result: 4.15 mm^2 per MiB at 45 nm (0.25 mm^2 per MiB with the N5 preset).
- **SRAM access energy**: Horowitz, "Computing's energy problem (and what we can do about
  it)", ISSCC 2014, 45 nm: a 64-bit read costs 10 pJ from an 8 KB array, 20 pJ from 32 KB
  and 100 pJ from 1 MB. Up to 1 MiB, energy per byte is the power law through the 8 KB and
  1 MB points, ``1.25 pJ/B x (C / 8 KiB)^0.4746`` (2.4 pJ/B at 32 KB; Horowitz: 2.5).
  Larger SRAMs are built of 1 MiB banks: an access costs one bank's 12.5 pJ/B plus the wire
  to reach it, half the side of the SRAM's square footprint at 0.195 pJ/bit/mm (Keckler et
  al., "GPUs and the Future of Parallel Computing", IEEE Micro 2011, 40 nm: moving 256 bits
  20 mm across a chip costs about 1 nJ). Reads and writes cost the same.
- **HBM access energy**: 3.9 pJ/bit for HBM2 (O'Connor et al., "Fine-Grained DRAM:
  Energy-Efficient DRAM for Extreme Bandwidth Systems", MICRO 2017).
- **Compute**: a 16-bit floating-point multiply (1.1 pJ) and add (0.4 pJ) per 2 FLOPs
  (Horowitz, ISSCC 2014, 45 nm): 0.75 pJ/FLOP.

Energy = fast-tier traffic x SRAM energy per byte at the fast capacity + slow-tier traffic
x HBM energy per byte + FLOPs x energy per FLOP: dynamic energy only (leakage, which grows
with SRAM capacity and run time, is not modelled; neither are the HBM PHY's static power
nor the interconnect). Traffic is the cost model's (per op, each distinct operand once);
copies between the tiers (prefetch mode) add one HBM and one SRAM access per byte.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from simulators.memmap.cost import MemmapResult
from simulators.memmap.program import Program

_MIB = 1 << 20


@dataclass(frozen=True)
class Technology:
    """Process figures for area and energy (see the module docstring for sources)."""

    name: str
    sram_bitcell_um2: float
    sram_array_efficiency: float
    sram_pj_per_byte_8kib: float
    sram_energy_exponent: float
    sram_bank_bytes: int
    wire_pj_per_bit_mm: float
    hbm_pj_per_bit: float
    pj_per_flop: float


#: 45 nm: Intel's 0.346 um^2 cell, Horowitz's energies, HBM2 per O'Connor et al.
TECH_45NM = Technology("45nm", sram_bitcell_um2=0.346, sram_array_efficiency=0.70,
                       sram_pj_per_byte_8kib=1.25, sram_energy_exponent=0.4746,
                       sram_bank_bytes=1 << 20, wire_pj_per_bit_mm=0.195,
                       hbm_pj_per_bit=3.9, pj_per_flop=0.75)
#: Area only at N5 (0.021 um^2 cell); energies are the 45 nm ones, not scaled (no public
#: source gives them all at one modern node), so use this preset for area, not energy.
TECH_N5_AREA = replace(TECH_45NM, name="N5-area", sram_bitcell_um2=0.021)


def sram_area_mm2(capacity_bytes: int, tech: Technology = TECH_45NM) -> float:
    """Macro area of ``capacity_bytes`` of SRAM."""
    return capacity_bytes * 8 * tech.sram_bitcell_um2 / tech.sram_array_efficiency * 1e-6


def sram_pj_per_byte(capacity_bytes: int, tech: Technology = TECH_45NM) -> float:
    """Access energy per byte of an SRAM of ``capacity_bytes`` (0 for no SRAM): one array
    (or bank) access plus, beyond one bank, the wire across half the macro's side."""
    if capacity_bytes <= 0:
        return 0.0
    array = min(capacity_bytes, tech.sram_bank_bytes)
    pj = tech.sram_pj_per_byte_8kib * (array / 8192) ** tech.sram_energy_exponent
    if capacity_bytes > tech.sram_bank_bytes:
        pj += 8 * tech.wire_pj_per_bit_mm * sram_area_mm2(capacity_bytes, tech) ** 0.5 / 2
    return pj


def hardware_cost(program: Program, result: MemmapResult, tech: Technology = TECH_45NM,
                  copied_bytes: int = 0) -> dict[str, Any]:
    """Area (mm^2) of the fast tier and energy (J) of running ``result``'s placement.

    ``copied_bytes`` are moved between the tiers by copies (prefetch mode: copy-ins and
    write-backs); each byte is read from one tier and written to the other, so it costs
    one HBM and one SRAM access on top of the ops' traffic.
    """
    cap = program.hierarchy.capacity_bytes
    sram, hbm = sram_pj_per_byte(cap, tech), tech.hbm_pj_per_bit * 8
    fast = result.fast_traffic_bytes * sram * 1e-12
    slow = result.slow_traffic_bytes * hbm * 1e-12
    copies = copied_bytes * (sram + hbm) * 1e-12
    compute = sum(o.flops for o in program.ops) * tech.pj_per_flop * 1e-12
    return {
        "technology": tech.name,
        "fast_area_mm2": sram_area_mm2(cap, tech),
        "fast_area_mm2_per_mib": sram_area_mm2(_MIB, tech),
        "energy_j": fast + slow + copies + compute,
        "fast_access_energy_j": fast,
        "slow_access_energy_j": slow,
        "copy_energy_j": copies,
        "compute_energy_j": compute,
    }
