"""PIM command timing in integer picoseconds, from a DRAM preset or a GeniePIM DRAM tuple.

All banks of a channel execute one broadcast command stream in lock-step, so the timing of a
channel is the timing of one bank plus the channel bus. The engine needs these relations
(command to command, in ps):

- ``ccd``: one PIM column command (an all-bank MAC or ALU command), tCCD_L: the banks of one
  bank group cannot take column commands faster, and an all-bank command uses every group;
- ``rcd``, ``rp``, ``ras``: ACT to MAC/WR, PRE to ACT (all-bank precharge), ACT to PRE;
- ``rtp``: MAC (an in-bank read) to PRE; ``wr_to_pre``: WR to PRE (WL + burst + tWR);
- ``wr_to_rd``: a WR on the bus to the next MAC or RD (WL + burst + tWTR_L);
- ``rd_to_wr``: a MAC or RD to the next WR (RL + burst - WL + tRTRS: the bus turns around);
- ``wr_gap``, ``rd_gap``: one write or read burst on the channel bus (max(tCCD_S, burst));
- ``rfc``, ``refi``: all-bank refresh (0: no refresh).

Integer picoseconds keep event times exact and results identical bit for bit.

Sources: JEDEC JESD79-4 / JESD250 / JESD209-5B command relations as the DRAM controller in
``simulators.dram.timing`` applies them; AMD GeniePIM v0.7.0 ``config.in`` for the meaning of
its DRAM tuple (tRP, tRCDRD, tCCDL, tRAS, tRTW, tWTR, in ns).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simulators.dram.device import DeviceSpec


def ps(ns: float) -> int:
    """Nanoseconds to integer picoseconds (nearest)."""
    return int(round(ns * 1000.0))


@dataclass(frozen=True)
class PimTiming:
    """Command-to-command relations of one channel in picoseconds (see the module docstring).

    ``write_burst_bytes`` is the data of one bus write: a register of more bits takes several
    writes; 0 means one write per register whatever its size (GeniePIM's accounting).
    ``read_burst_bytes`` is the data of one read-back burst.
    """

    name: str
    ccd: int
    rcd: int
    rp: int
    ras: int
    rtp: int
    wr_to_pre: int
    wr_to_rd: int
    rd_to_wr: int
    wr_gap: int
    rd_gap: int
    write_burst_bytes: int
    read_burst_bytes: int
    rfc: int = 0
    refi: int = 0

    def writes_per_register(self, bits: int) -> int:
        """Bus writes needed to fill one register of ``bits`` bits."""
        if self.write_burst_bytes == 0:
            return 1
        return math.ceil(bits / (8 * self.write_burst_bytes))

    @classmethod
    def from_device(cls, d: DeviceSpec, refresh: bool = True) -> PimTiming:
        """Relations of a DRAM preset: cycles of ``d.tCK_ns`` converted to ps."""
        k = d.tCK_ns
        burst = d.burst_cycles
        bus = max(d.tCCD_S, burst)
        return cls(
            name=d.name,
            ccd=ps(d.tCCD_L * k),
            rcd=ps(d.tRCD * k),
            rp=ps(d.tRP_all * k),
            ras=ps(d.tRAS * k),
            rtp=ps(d.tRTP * k),
            wr_to_pre=ps((d.WL + burst + d.tWR) * k),
            wr_to_rd=ps((d.WL + burst + d.tWTR_L) * k),
            rd_to_wr=ps(max(d.RL + burst - d.WL + d.tRTRS, d.tCCD_L) * k),
            wr_gap=ps(bus * k),
            rd_gap=ps(bus * k),
            write_burst_bytes=d.bytes_per_burst,
            read_burst_bytes=d.bytes_per_burst,
            rfc=ps(d.tRFC * k) if refresh else 0,
            refi=ps(d.tREFI * k) if refresh else 0,
        )

    @classmethod
    def from_geniepim(cls, name: str, tRP: float, tRCD: float, tCCD: float, tRAS: float,
                      tRTW: float, tWTR: float, read_gbps_per_channel: float) -> PimTiming:
        """Relations of a GeniePIM DRAM tuple (ns).

        GeniePIM charges every PIM or bus command one tCCDL and adds tRTW (MAC to WR) and tWTR
        (WR to MAC) on top of the command's own slot, so here WR->MAC = tCCDL + tWTR and
        MAC->WR = tCCDL + tRTW. It has no tRTP, tWR or refresh: MAC->PRE and WR->PRE are one
        slot and refresh is off. It charges the output read-back at the host's memory
        bandwidth, here split over the channels (``read_gbps_per_channel``, 32 B bursts).
        """
        slot = ps(tCCD)
        return cls(
            name=name,
            ccd=slot,
            rcd=ps(tRCD),
            rp=ps(tRP),
            ras=ps(tRAS),
            rtp=slot,
            wr_to_pre=slot,
            wr_to_rd=slot + ps(tWTR),
            rd_to_wr=slot + ps(tRTW),
            wr_gap=slot,
            rd_gap=ps(32 / read_gbps_per_channel),
            write_burst_bytes=0,
            read_burst_bytes=32,
        )
