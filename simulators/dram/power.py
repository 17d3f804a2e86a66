"""DRAM energy by the IDD method (Micron TN-41-01 as implemented by DRAMsim3).

Each term is ``VDD * current * cycles * devices_per_rank`` (V * mA * cycles), converted to
picojoules by multiplying by ``tCK_ns``:

- ACT/PRE pair, per ACT: ``IDD0 * tRC - (IDD3N * tRAS + IDD2N * (tRC - tRAS))``;
- RD burst: ``(IDD4R - IDD3N) * burst``; WR burst: ``(IDD4W - IDD3N) * burst``;
- REF: ``(IDD5 - IDD3N) * tRFC``; same-bank REFsb: ``(IDD5sb - IDD3N) * tRFCsb``;
- background, per rank and cycle: ``IDD3N`` (active standby) while any bank of the rank is
  open, else ``IDD2N`` (precharge standby).

DDR5 (``power_model="drampower5"``) uses DRAMPower's DDR5 bank-wise terms instead, because a
DDR5 IDD0 below IDD3N would make the ACT term negative: per ACT/PRE pair
``(IDD0 - I1) * tRAS + (IDD0 - IDD2N) * tRP`` (DRAMPower's E_act + E_pre with IBeta = IDD0),
per REFsb ``(IDD5C - IBG) * tRFCsb``, where ``Irho = IDD2N + rho * (IDD3N - IDD2N)``
(rho = 0.5), ``I1 = (IDD3N + (banks - 1) * Irho) / banks`` (one bank open) and
``IBG = Irho + (I1 - Irho) * bankgroups`` (source: DRAMPower ``core_calculation_DDR5.cpp``,
tukl-msd/DRAMPower d8b980ab).

For DDR4_8Gb_x8_2400 the increments are 4156.8 (ACT), 3532.8 (RD), 3072 (WR), 834624 (REF),
412.8 / 326.4 (active / precharge standby per rank-cycle), as DRAMsim3 uses. Power-down and
self-refresh states are not modelled (DRAMsim3's default configuration does not use them).

Sources: Micron TN-41-01 "Calculating Memory System Power for DDR3"; DRAMsim3 (Li et al.,
IEEE CAL 2020); IDD values from the DeviceSpec.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from simulators.dram.device import DeviceSpec

#: DRAMPower's bank-wise factor: the share of IDD3N - IDD2N a single open bank draws
RHO = 0.5


def increments(d: DeviceSpec) -> dict[str, float]:
    """Energy per event in V * mA * cycles (multiply by tCK_ns for pJ)."""
    dev = d.devices_per_rank
    v = d.VDD
    if d.power_model == "drampower5":
        i_rho = RHO * (d.IDD3N - d.IDD2N) + d.IDD2N
        b = d.banks_per_rank
        i_1 = (d.IDD3N + (b - 1) * i_rho) / b  # one bank open
        i_bg = i_rho + (i_1 - i_rho) * d.bankgroups  # one bank open in every bank group
        act = ((d.IDD0 - i_1) * d.tRAS + (d.IDD0 - d.IDD2N) * d.tRP) * v * dev
        refsb = v * (d.IDD5sb - i_bg) * d.tRFCsb * dev
    else:
        act = v * (d.IDD0 * d.tRC - (d.IDD3N * d.tRAS + d.IDD2N * (d.tRC - d.tRAS))) * dev
        refsb = v * (d.IDD5sb - d.IDD3N) * d.tRFCsb * dev
    return {
        "act": act,
        "read": v * (d.IDD4R - d.IDD3N) * d.burst_cycles * dev,
        "write": v * (d.IDD4W - d.IDD3N) * d.burst_cycles * dev,
        "ref": v * (d.IDD5 - d.IDD3N) * d.tRFC * dev,
        "refsb": refsb,
        "act_standby": v * d.IDD3N * dev,
        "pre_standby": v * d.IDD2N * dev,
    }


@dataclass(frozen=True)
class EnergyBreakdown:
    """Energy in pJ by component; ``total_pj`` is their sum."""

    act_pj: float
    read_pj: float
    write_pj: float
    refresh_pj: float
    act_standby_pj: float
    pre_standby_pj: float

    @property
    def total_pj(self) -> float:
        return (self.act_pj + self.read_pj + self.write_pj + self.refresh_pj
                + self.act_standby_pj + self.pre_standby_pj)

    def to_dict(self) -> dict[str, float]:
        d = asdict(self)
        d["total_pj"] = self.total_pj
        return d


def energy(d: DeviceSpec, *, num_act: int, num_rd: int, num_wr: int, num_ref: int,
           active_rank_cycles: int, precharged_rank_cycles: int,
           num_refsb: int = 0) -> EnergyBreakdown:
    """Energy of a run from its command counts and per-rank standby cycles."""
    inc = increments(d)
    k = d.tCK_ns
    return EnergyBreakdown(
        act_pj=num_act * inc["act"] * k,
        read_pj=num_rd * inc["read"] * k,
        write_pj=num_wr * inc["write"] * k,
        refresh_pj=(num_ref * inc["ref"] + num_refsb * inc["refsb"]) * k,
        act_standby_pj=active_rank_cycles * inc["act_standby"] * k,
        pre_standby_pj=precharged_rank_cycles * inc["pre_standby"] * k,
    )
