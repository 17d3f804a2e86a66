"""DRAM energy by the IDD method (Micron TN-41-01 as implemented by DRAMsim3).

Each term is ``VDD * current * cycles * devices_per_rank`` (V * mA * cycles), converted to
picojoules by multiplying by ``tCK_ns``:

- ACT/PRE pair, per ACT: ``IDD0 * tRC - (IDD3N * tRAS + IDD2N * (tRC - tRAS))``;
- RD burst: ``(IDD4R - IDD3N) * burst``; WR burst: ``(IDD4W - IDD3N) * burst``;
- REF: ``(IDD5 - IDD3N) * tRFC``; same-bank REFsb: ``(IDD5sb - IDD3N) * tRFCsb``;
- background, per rank and cycle: ``IDD3N`` (active standby) while any bank of the rank is
  open, else ``IDD2N`` (precharge standby).

For DDR4_8Gb_x8_2400 the increments are 4156.8 (ACT), 3532.8 (RD), 3072 (WR), 834624 (REF),
412.8 / 326.4 (active / precharge standby per rank-cycle), as DRAMsim3 uses. Power-down and
self-refresh states are not modelled (DRAMsim3's default configuration does not use them).

Sources: Micron TN-41-01 "Calculating Memory System Power for DDR3"; DRAMsim3 (Li et al.,
IEEE CAL 2020); IDD values from the DeviceSpec.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from simulators.dram.device import DeviceSpec


def increments(d: DeviceSpec) -> dict[str, float]:
    """Energy per event in V * mA * cycles (multiply by tCK_ns for pJ)."""
    dev = d.devices_per_rank
    v = d.VDD
    return {
        "act": v * (d.IDD0 * d.tRC - (d.IDD3N * d.tRAS + d.IDD2N * (d.tRC - d.tRAS))) * dev,
        "read": v * (d.IDD4R - d.IDD3N) * d.burst_cycles * dev,
        "write": v * (d.IDD4W - d.IDD3N) * d.burst_cycles * dev,
        "ref": v * (d.IDD5 - d.IDD3N) * d.tRFC * dev,
        "refsb": v * (d.IDD5sb - d.IDD3N) * d.tRFCsb * dev,
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
