"""DRAM device and organisation presets, in memory-clock cycles.

Every preset cites where its numbers come from. Timings are JEDEC speed-bin values rounded up
to whole clock cycles of ``tCK_ns``; currents are datasheet IDD values in mA per device.

Sources
-------
- DDR4_8Gb_x8_2400: JEDEC JESD79-4 (DDR4 SDRAM), speed bin DDR4-2400R (17-17-17);
  Micron MT40A1G8 8Gb x8 datasheet (IDD0 48, IDD2N 34, IDD3N 43, IDD4R 135, IDD4W 123,
  IDD5B 250 mA at VDD 1.2 V); the same figures as DRAMsim3's ``DDR4_8Gb_x8_2400.ini``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class DeviceSpec:
    """One channel's devices and organisation. Timings in cycles of ``tCK_ns``."""

    name: str
    protocol: str
    source: str
    tCK_ns: float
    # column access
    CL: int
    CWL: int
    AL: int
    BL: int
    # same bank
    tRCD: int
    tRP: int
    tRAS: int
    tRTP: int
    tWR: int
    # same rank, bank-group aware (_S: different bank group, _L: same bank group)
    tWTR_S: int
    tWTR_L: int
    tCCD_S: int
    tCCD_L: int
    tRRD_S: int
    tRRD_L: int
    tFAW: int
    # rank to rank
    tRTRS: int
    # refresh
    tRFC: int
    tREFI: int
    # organisation
    bankgroups: int
    banks_per_group: int
    rows: int
    columns: int
    device_width: int
    bus_width: int
    ranks: int
    channels: int
    # power (mA per device, V)
    VDD: float
    IDD0: float
    IDD2N: float
    IDD3N: float
    IDD4R: float
    IDD4W: float
    IDD5: float

    @property
    def devices_per_rank(self) -> int:
        return self.bus_width // self.device_width

    @property
    def banks_per_rank(self) -> int:
        return self.bankgroups * self.banks_per_group

    @property
    def burst_cycles(self) -> int:
        """Data-bus cycles of one burst (double data rate: BL / 2)."""
        return self.BL // 2

    @property
    def RL(self) -> int:
        return self.CL + self.AL

    @property
    def WL(self) -> int:
        return self.CWL + self.AL

    @property
    def tRC(self) -> int:
        return self.tRAS + self.tRP

    @property
    def bytes_per_burst(self) -> int:
        return self.bus_width // 8 * self.BL

    @property
    def columns_per_row(self) -> int:
        """Bursts per row (the column field of an address counts bursts)."""
        return self.columns // self.BL

    @property
    def peak_bandwidth_gbps(self) -> float:
        return self.bytes_per_burst / (self.burst_cycles * self.tCK_ns)

    def replace(self, **changes) -> DeviceSpec:
        return dataclasses.replace(self, **changes)


DDR4_8Gb_x8_2400 = DeviceSpec(
    name="DDR4_8Gb_x8_2400",
    protocol="DDR4",
    source="JESD79-4 DDR4-2400R; Micron MT40A1G8 datasheet; DRAMsim3 DDR4_8Gb_x8_2400.ini",
    tCK_ns=0.83,
    CL=17, CWL=12, AL=0, BL=8,
    tRCD=17, tRP=17, tRAS=39, tRTP=9, tWR=18,
    tWTR_S=3, tWTR_L=9, tCCD_S=4, tCCD_L=6, tRRD_S=4, tRRD_L=6, tFAW=26,
    tRTRS=1, tRFC=420, tREFI=9360,
    bankgroups=4, banks_per_group=4, rows=65536, columns=1024,
    device_width=8, bus_width=64, ranks=2, channels=1,
    VDD=1.2, IDD0=48, IDD2N=34, IDD3N=43, IDD4R=135, IDD4W=123, IDD5=250,
)

PRESETS: dict[str, DeviceSpec] = {p.name: p for p in (DDR4_8Gb_x8_2400,)}
