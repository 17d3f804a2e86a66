"""Per-command energies and the area of the PIM logic and of the ASIC.

DRAM array energies come from the device's IDD currents by the method of
``simulators.dram.power`` (Micron TN-41-01, as DRAMsim3 implements it):

- all-bank ACT/PRE pair: one bank's ``VDD (IDD0 tRC - IDD3N tRAS - IDD2N tRP)`` per bank;
- an in-bank read of one SIMD word (a MAC operand): ``VDD (IDD4R - IDD3N)`` over one burst,
  scaled by word bits / burst bits, per bank; no I/O energy (the data stays in the bank);
- a write of a spilled output register into the array: the same with IDD4W;
- REF: ``VDD (IDD5 - IDD3N) tRFC``; background: ``VDD IDD3N`` per channel over the time;
- a bus write of one burst into one bank (a KV-cache append): its row activation, the burst
  (IDD4W) and the I/O energy.

Bus transfers (input-vector writes, output read-back) add the I/O energy per bit: GDDR6
5.5 pJ/bit (the DQ energy of the GDDR6-AiM power model of Gu et al., "PIM is All You Need",
ASPLOS 2025); LPDDR5X 2.0 pJ/bit, our estimate for its unterminated 0.5 V VDDQ interface
(C V^2 of a few pF plus the PHY); other protocols take the GDDR6 figure unless
``io_pj_per_bit`` is set.

Arithmetic (M. Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm): a MAC is one
multiply at the matrix precision plus one accumulate add: 8-bit integer 0.2 + 0.1 pJ (32-bit
add), bf16/fp16 1.1 + 0.9 pJ (fp32 add), fp32 3.7 + 0.9 pJ; narrower integers scale the
multiply with bits squared. Other PIM ALU operations cost ``alu_pj`` (an fp32 add, 0.9 pJ) per
lane; an ASIC element operation costs ``asic_op_pj`` (an fp32 multiply-add, 4.6 pJ).

Area (45 nm logic; multiply by ``dram_logic_area_factor`` for a DRAM process, whose logic is
less dense): Horowitz's adder and multiplier areas (8-bit multiply 282 um^2, 32-bit add 137,
fp16 multiply 1640, fp32 add 4184, fp32 multiply 7700); one register bit is a NanGate
FreePDK45 DFF_X1 flip-flop (4.522 um^2); one SRAM bit of the ASIC buffer is Intel's 45 nm
6T cell (0.346 um^2, bit cells only).
"""

from __future__ import annotations

from dataclasses import dataclass

from simulators.dram.device import PRESETS, DeviceSpec
from simulators.dram.power import increments
from simulators.pim.config import PimConfig

IO_PJ_PER_BIT = {"GDDR6": 5.5, "LPDDR5X": 2.0, "LPDDR5": 2.0}
DFF_UM2 = 4.522
SRAM_BIT_UM2 = 0.346
FP32_MUL_UM2, FP32_ADD_UM2 = 7700.0, 4184.0


def mac_pj(bits: int) -> float:
    """Energy of one MAC at ``bits``-bit operands (Horowitz 45 nm)."""
    if bits <= 8:
        return 0.2 * (bits / 8) ** 2 + 0.1
    if bits <= 16:
        return 1.1 + 0.9
    return 3.7 + 0.9


def mac_um2(bits: int) -> float:
    """Area of one MAC lane at ``bits``-bit operands (Horowitz 45 nm)."""
    if bits <= 8:
        return 282.0 * (bits / 8) ** 2 + 137.0
    if bits <= 16:
        return 1640.0 + FP32_ADD_UM2
    return FP32_MUL_UM2 + FP32_ADD_UM2


@dataclass(frozen=True)
class CommandEnergy:
    """Energy (pJ) of one command on one channel, and the background power (mW)."""

    act: float
    mac: float
    mac_array: float
    alu: float
    wr_vector: float
    wr_output: float
    rd_output: float
    ref: float
    background_mw: float
    wr_burst: float


def device_of(cfg: PimConfig) -> DeviceSpec:
    return PRESETS[cfg.device]


def command_energy(cfg: PimConfig, concurrent_vectors: int = 1) -> CommandEnergy:
    """Per-command energies of ``cfg``'s channel (see the module docstring)."""
    d = device_of(cfg)
    inc = increments(d)
    k = d.tCK_ns
    burst_bits = d.bytes_per_burst * 8
    banks = cfg.banks_per_channel
    units = banks // cfg.banks_per_pim_unit
    io = cfg.io_pj_per_bit if cfg.io_pj_per_bit is not None \
        else IO_PJ_PER_BIT.get(d.protocol, IO_PJ_PER_BIT["GDDR6"])
    e_mac = cfg.mac_pj if cfg.mac_pj is not None else mac_pj(cfg.matrix_bits)
    word = cfg.simd_width_bits / burst_bits
    read_bank = inc["read"] * k * word
    spill_bits = cfg.spill_bits or cfg.orf_register_bits
    write_bank = inc["write"] * k * spill_bits / burst_bits
    vec_bits = d.bytes_per_burst * 8 if cfg.timing_ns is None else cfg.irf_register_bits
    return CommandEnergy(
        act=inc["act"] * k * banks,
        mac=units * (read_bank + cfg.lanes * concurrent_vectors * e_mac),
        mac_array=units * read_bank,
        alu=units * cfg.lanes * cfg.alu_pj,
        wr_vector=vec_bits * io,
        wr_output=units * write_bank,
        rd_output=inc["read"] * k + burst_bits * io,
        ref=inc["ref"] * k,
        background_mw=inc["act_standby"],
        wr_burst=(inc["act"] + inc["write"]) * k + burst_bits * io,
    )


def pim_area_mm2(cfg: PimConfig) -> float:
    """Logic area of all PIM units: SIMD MAC lanes and register files."""
    per_alu = (cfg.lanes * mac_um2(cfg.matrix_bits)
               + (cfg.orf_registers * cfg.orf_register_bits
                  + cfg.irf_registers * cfg.irf_register_bits) * DFF_UM2)
    units = cfg.total_banks // cfg.banks_per_pim_unit
    return units * cfg.alus_per_pim_unit * per_alu * cfg.dram_logic_area_factor / 1e6


def asic_area_mm2(cfg: PimConfig) -> float:
    """ASIC: fp32 multiply-add lanes, four fp32-multiplier-sized function units (exp, divide,
    reciprocal square root, compare tree) and its SRAM buffer."""
    lanes = cfg.asic_lanes * (FP32_MUL_UM2 + FP32_ADD_UM2)
    functions = 4 * FP32_MUL_UM2
    sram = cfg.asic_buffer_kib * 1024 * 8 * SRAM_BIT_UM2
    return (lanes + functions + sram) / 1e6
