"""DRAM device and organisation presets, in memory-clock cycles.

Every preset cites where its numbers come from. Timings are JEDEC speed-bin values rounded up
to whole clock cycles of ``tCK_ns``; currents are datasheet IDD values in mA per device.

Sources
-------
- DDR4_8Gb_x8_2400: JEDEC JESD79-4 (DDR4 SDRAM), speed bin DDR4-2400R (17-17-17);
  Micron MT40A1G8 8Gb x8 datasheet (IDD0 48, IDD2N 34, IDD3N 43, IDD4R 135, IDD4W 123,
  IDD5B 250 mA at VDD 1.2 V); the same figures as DRAMsim3's ``DDR4_8Gb_x8_2400.ini``.
- DDR3_4Gb_x8_1600: JEDEC JESD79-3F speed bin DDR3-1600K (11-11-11, tCK 1.25 ns); Micron
  MT41J512M8 4Gb x8 datasheet: tRCD = tRP = 13.75 ns (11), tRAS 35 ns (28), tRTP and tWTR
  max(4 nCK, 7.5 ns) (6), tWR 15 ns (12), tRRD max(4 nCK, 6 ns) (5, 1 KB page), tFAW 30 ns
  (24), tRFC 260 ns (208, 4 Gb), tREFI 7.8 us (6240); 8 banks of 65,536 rows x 1024
  columns; IDD0 55, IDD2N 32, IDD3N 38, IDD4R 157, IDD4W 125, IDD5B 235 mA (the figures
  DRAMsim3's ``DDR3_4Gb_x8_1600.ini`` uses) at the MT41J's VDD 1.5 V. DDR3 has no bank
  groups: one group of 8 banks, so the _L and _S figures are equal. Two ranks of 8 devices
  on a 64-bit bus (a 8 GB dual-rank DIMM). Simplification: RD->WR uses the generic
  RL + BL/2 - WL + tRTRS (JEDEC DDR3 asks RL + tCCD + 2 - WL, one cycle more).
- LPDDR4_8Gb_x16_3200: JEDEC JESD209-4 LPDDR4-3200 (tCK 0.625 ns), one x16 channel of
  8 Gb (8 banks x 65,536 rows x 1024 columns, 2 KB page), BL16: RL 28 (no DBI), WL 14
  (set A), tRCD 18 ns (29), tRPpb 18 ns (29), tRAS 42 ns (68), tRTP 7.5 ns / 8 nCK (12),
  tWR 18 ns (29) + 1, tWTR 10 ns (16) + 1, tCCD 8 (BL16 / 2), tRRD 10 ns (16), tFAW 40 ns
  (64), tRFCab 280 ns (448), tREFI 3.904 us (6246); VDD2 1.1 V currents of DRAMSys' memspec
  ``JEDEC_8Gb_LPDDR4-3200_16bit`` (IDD02 45, IDD2N2 27, IDD3N2 30, IDD4R2 275, IDD4W2 210,
  IDD52 90 mA). Simplifications: a single channel and rank, no bank groups (one group of 8
  banks); the extra clock LPDDR4 adds to WR->PRE and WR->RD is folded into tWR and tWTR;
  PREA uses tRPpb (real devices need tRPab 21 ns = 34 for an all-bank precharge); only the
  VDD2 rail is counted (VDD1 and VDDQ ignored); no per-bank refresh.
- HBM2_PC_2000: one HBM2 pseudo channel (JEDEC JESD235A pseudo-channel mode: 64-bit, BL4,
  2 Gb/s per pin, tCK 1 ns) of an 8 Gb channel: 4 bank groups x 4 banks, 32,768 rows of
  1 KB (128 columns of 64 bits); timings of DRAMsim3's ``HBM2_8Gb_x128.ini``: CL 14, CWL 4,
  tRCD 14, tRP 14, tRAS 34, tRTP 6 (its tRTP_L), tWR 16, tWTR_S/L 6/8, tRRD_S/L 4/6,
  tFAW 30, tRFC 260, tREFI 3900; tCCD_S/L 2/2 (DRAMsim3 lists 1/2, but a BL4 burst holds the
  data bus for 2 cycles); IDD0 65, IDD2N 40, IDD3N 55, IDD4R 390, IDD4W 500, IDD5 250 mA at
  1.2 V for a legacy 128-bit channel, halved for a pseudo channel (half the page and I/O).
  Simplifications: one pseudo channel (its sibling and the other channels are independent and
  not modelled); the single-cycle-per-command bus stands for HBM's separate row and column
  command buses (a conservative choice).
- GDDR6_8Gb_x16_16000: one x16 channel of an 8 Gb two-channel GDDR6 SGRAM (JEDEC JESD250;
  Micron MT61K256M32 8Gb datasheet: 16 banks in 4 bank groups per channel, R[13:0] = 16,384
  rows, 2 KB page, refresh 16k per 32 ms, so tREFI = 1.953 us), at 16 Gb/s per pin, the
  speed of SK hynix's GDDR6-AiM (Lee et al., ISSCC 2022), on which PIM-GPT builds. CK runs at
  1/8 of the data rate (Micron's clocking figure), so tCK = 0.5 ns and a BL16 burst takes
  2 tCK (``transfers_per_clock`` = 8). JESD250 leaves AC timings to vendors: the core timings
  are DRAMsim3's ``GDDR6_8Gb_x16.ini`` (tCK 0.66 ns) converted to ns and rounded up to this
  clock: CL 15.84 ns (32), CWL 10.56 (22), tRCDRD 15.84 (32), tRP 15.84 (32), tRAS 35.64
  (72), tRTP 1.98 (4), tWR 10.56 (22), tWTR 4.62 (10), tRRD 5.94 (12), tFAW 21.12 (43),
  tRFC 83.2 (167); tCCD_S = one burst (2); tCCD_L = 2 tCK = 1 ns, the column rate at which
  AiM's all-bank MAC reaches its published 1 TFLOPS (2 channels x 16 banks x 16 bf16 MACs at
  1 GHz); IDD0 71, IDD2N 60, IDD3N 61, IDD4R 248, IDD4W 231, IDD5 286 mA at VDD 1.35 V
  (DRAMsim3's file). Simplifications: tRCDWR (shorter than tRCDRD in GDDR6) is taken equal to
  tRCDRD; one channel of the two on a die.
- LPDDR5X_16Gb_x16_7500: one x16 LPDDR5X channel (JEDEC JESD209-5B) at 7500 MT/s in bank-group
  mode, WCK:CK = 4:1, so CK = 937.5 MHz (tCK 1.0667 ns) and a BL16 burst takes 2 tCK
  (``transfers_per_clock`` = 8); 16 Gb: 4 bank groups x 4 banks, 65,536 rows, 2 KB page.
  Timings in ns from JESD209-5B rounded up: tRCD 18 (17), tRPpb 18 (17), tRPab 21 (20), tRAS
  42 (40), tRTP 7.5 (8), tWR 34 (32), tWTR_S 6.25 (6), tWTR_L 12 (12), tCCD_S 2 tCK, tCCD_L
  4 tCK (BG mode), tRRD 5 (5), tFAW 20 (19), tRFCab 280 ns (263, 16 Gb), tREFI 3.906 us
  (3661, rounded down); RL 20, WL 11 (BG mode, DBI off, WL set A). The same tRP/tRCD/tCCD_L/tRAS/tWTR
  values (in ns) are AMD GeniePIM's default LPDDR5X DRAM tuple (``config.in``), and a 128-bit
  bus of eight such channels gives the 120 GB/s of GeniePIM's default client-SoC host.
  Currents: the LPDDR5 specification shipped with DRAMPower v6.2.0's test resources
  (``lpddr5.json``: IDD0 56.25, IDD2N 33.75, IDD3N 35, IDD4R 157.5, IDD4W 135, IDD5 118 mA,
  one 1.2 V rail), a representative set rather than a vendor datasheet: LPDDR5X's VDD1/VDD2H/
  VDD2L/VDDQ rails are folded into one. ``tRPab`` (all-bank precharge) is what a PREA and a
  PIM all-bank precharge take; the controller engines keep using tRP.
- DDR5_16Gb_x8_4800: one DDR5 DIMM of 16 Gb x8 devices, 2 ranks (2Rx8, 32 GB): JEDEC
  JESD79-5 splits it into two independent 32-bit sub-channels (``channels=2``, four x8
  devices each, own command bus), BL16 (64 B per burst, 8 clock cycles), 8 bank groups x 4
  banks, 65,536 rows x 1024 columns (1 KB page). DDR5-4800B speed bin (JESD79-5, as tabled in
  AnandTech's "Insights into DDR5 Sub-timings and Latencies", 2020): tCK 0.416 ns, CL 40,
  tRCD = tRP = 16 ns (39), CWL = CL - 2 (38); tRAS 32 ns (77); tRTP max(12 nCK, 7.5 ns)
  (18); tWR 30 ns (72); tCCD_S 8 nCK; tCCD_L max(8 nCK, 5 ns) (12); tCCD_L_WR max(16 nCK,
  10 ns) (24, x8 without read-modify-write); tWTR_S max(4 nCK, 2.5 ns) (6), tWTR_L max(16
  nCK, 10 ns) (24); tRRD_S 8 nCK, tRRD_L max(8 nCK, 5 ns) (12); tFAW (1 KB page) max(32
  nCK, 13.333 ns) (32); tRFC1 295 ns (708), tREFI 3.9 us (9360) for all-bank REF in normal
  refresh mode; same-bank REFsb (fine-granularity mode, tREFI2 = 1.95 us): tRFCsb 130 ns
  (312), one REFsb per bank index per tREFI2, so tREFIsb = tREFI2 / 4 = 487.5 ns (1170)
  between REFsb of one rank; the same figures as Ramulator 2's ``DDR5.cpp`` (tRFC1, tRFCsb,
  tREFI tables; its rank switch nCS = 2 gives tRTRS). Currents: VDD 1.1 V, IDD0 122,
  IDD2N 92, IDD3N 142, IDD4R 530, IDD4W 479, IDD5B 277, IDD5C (same-bank refresh) 135 mA:
  Micron's 16Gb DDR5 die-revision-A data sheet at DDR5-4800 as quoted in gem5's
  ``dram_interfaces/ddr5.py``. DDR5's IDD0 is below its IDD3N, so the Micron TN-41-01 ACT
  term would be negative: energy uses DRAMPower's DDR5 bank-wise terms (``power.py``).
  Simplifications: the VPP and VDDQ rails are not counted; tREFSBRD (REFsb to ACT of another
  bank) is not modelled (Ramulator 2 omits it too); no RFM / DRFM.
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
    # data transfers per tCK on the DQ bus: 2 for DDR; 8 for GDDR6 (data at 8x CK) and for
    # LPDDR5X with WCK:CK = 4:1
    transfers_per_clock: int = 2
    # all-bank precharge time where it differs from the per-bank tRP (LPDDR5X); 0: tRP
    tRPab: int = 0
    # read / write DQS preamble (JEDEC DDR4 1 tCK mode; used by the "jedec" turnaround rules)
    tRPRE: int = 1
    tWPRE: int = 1
    # PRE to PRE of another bank of the rank (LPDDR4); 0 where the standard has none
    tPPD: int = 0
    # WR to WR in the same bank group when longer than tCCD_L (DDR5 tCCD_L_WR); 0: tCCD_L
    tCCD_L_WR: int = 0
    # same-bank refresh (REFsb): 0 where the standard has none
    tRFCsb: int = 0
    tREFIsb: int = 0
    IDD5sb: float = 0.0
    # "micron": Micron TN-41-01 / DRAMsim3 increments; "drampower5": DRAMPower's DDR5
    # bank-wise ACT/PRE and REFsb terms (see power.py)
    power_model: str = "micron"

    @property
    def tCCD_L_WR_eff(self) -> int:
        """WR to WR in the same bank group: tCCD_L_WR where the standard has it."""
        return max(self.tCCD_L, self.tCCD_L_WR)

    @property
    def devices_per_rank(self) -> int:
        return self.bus_width // self.device_width

    @property
    def banks_per_rank(self) -> int:
        return self.bankgroups * self.banks_per_group

    @property
    def burst_cycles(self) -> int:
        """Data-bus cycles of one burst (BL / 2 at double data rate)."""
        return self.BL // self.transfers_per_clock

    @property
    def tRP_all(self) -> int:
        """Precharge time of an all-bank precharge."""
        return self.tRPab or self.tRP

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
        """Peak data rate of all channels together."""
        return self.channels * self.bytes_per_burst / (self.burst_cycles * self.tCK_ns)

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

DDR3_4Gb_x8_1600 = DeviceSpec(
    name="DDR3_4Gb_x8_1600",
    protocol="DDR3",
    source="JESD79-3F DDR3-1600K; Micron MT41J512M8 datasheet; DRAMsim3 DDR3_4Gb_x8_1600.ini",
    tCK_ns=1.25,
    CL=11, CWL=8, AL=0, BL=8,
    tRCD=11, tRP=11, tRAS=28, tRTP=6, tWR=12,
    tWTR_S=6, tWTR_L=6, tCCD_S=4, tCCD_L=4, tRRD_S=5, tRRD_L=5, tFAW=24,
    tRTRS=1, tRFC=208, tREFI=6240,
    bankgroups=1, banks_per_group=8, rows=65536, columns=1024,
    device_width=8, bus_width=64, ranks=2, channels=1,
    VDD=1.5, IDD0=55, IDD2N=32, IDD3N=38, IDD4R=157, IDD4W=125, IDD5=235,
)

LPDDR4_8Gb_x16_3200 = DeviceSpec(
    name="LPDDR4_8Gb_x16_3200",
    protocol="LPDDR4",
    source="JESD209-4 LPDDR4-3200; DRAMSys memspec JEDEC_8Gb_LPDDR4-3200_16bit (IDD, VDD2)",
    tCK_ns=0.625,
    CL=28, CWL=14, AL=0, BL=16,
    tRCD=29, tRP=29, tRAS=68, tRTP=12, tWR=30,
    tWTR_S=17, tWTR_L=17, tCCD_S=8, tCCD_L=8, tRRD_S=16, tRRD_L=16, tFAW=64,
    tRTRS=1, tRFC=448, tREFI=6246,
    bankgroups=1, banks_per_group=8, rows=65536, columns=1024,
    device_width=16, bus_width=16, ranks=1, channels=1,
    VDD=1.1, IDD0=45, IDD2N=27, IDD3N=30, IDD4R=275, IDD4W=210, IDD5=90,
)

HBM2_PC_2000 = DeviceSpec(
    name="HBM2_PC_2000",
    protocol="HBM2",
    source="JESD235A pseudo-channel mode; DRAMsim3 HBM2_8Gb_x128.ini timings and IDD",
    tCK_ns=1.0,
    CL=14, CWL=4, AL=0, BL=4,
    tRCD=14, tRP=14, tRAS=34, tRTP=6, tWR=16,
    tWTR_S=6, tWTR_L=8, tCCD_S=2, tCCD_L=2, tRRD_S=4, tRRD_L=6, tFAW=30,
    tRTRS=1, tRFC=260, tREFI=3900,
    bankgroups=4, banks_per_group=4, rows=32768, columns=128,
    device_width=64, bus_width=64, ranks=1, channels=1,
    VDD=1.2, IDD0=32.5, IDD2N=20, IDD3N=27.5, IDD4R=195, IDD4W=250, IDD5=125,
)

GDDR6_8Gb_x16_16000 = DeviceSpec(
    name="GDDR6_8Gb_x16_16000",
    protocol="GDDR6",
    source="JESD250; Micron MT61K256M32 datasheet; DRAMsim3 GDDR6_8Gb_x16.ini; AiM ISSCC 2022",
    tCK_ns=0.5,
    CL=32, CWL=22, AL=0, BL=16,
    tRCD=32, tRP=32, tRAS=72, tRTP=4, tWR=22,
    tWTR_S=10, tWTR_L=10, tCCD_S=2, tCCD_L=2, tRRD_S=12, tRRD_L=12, tFAW=43,
    tRTRS=1, tRFC=167, tREFI=3906,
    bankgroups=4, banks_per_group=4, rows=16384, columns=1024,
    device_width=16, bus_width=16, ranks=1, channels=1,
    VDD=1.35, IDD0=71, IDD2N=60, IDD3N=61, IDD4R=248, IDD4W=231, IDD5=286,
    transfers_per_clock=8,
)

LPDDR5X_16Gb_x16_7500 = DeviceSpec(
    name="LPDDR5X_16Gb_x16_7500",
    protocol="LPDDR5X",
    source="JESD209-5B LPDDR5X-7500 (BG mode); DRAMPower v6.2.0 lpddr5.json currents",
    tCK_ns=1 / 0.9375,
    CL=20, CWL=11, AL=0, BL=16,
    tRCD=17, tRP=17, tRAS=40, tRTP=8, tWR=32,
    tWTR_S=6, tWTR_L=12, tCCD_S=2, tCCD_L=4, tRRD_S=5, tRRD_L=5, tFAW=19,
    tRTRS=1, tRFC=263, tREFI=3661,
    bankgroups=4, banks_per_group=4, rows=65536, columns=1024,
    device_width=16, bus_width=16, ranks=1, channels=1,
    VDD=1.2, IDD0=56.25, IDD2N=33.75, IDD3N=35, IDD4R=157.5, IDD4W=135, IDD5=118,
    transfers_per_clock=8, tRPab=20,
)

PRESETS: dict[str, DeviceSpec] = {
    p.name: p for p in (DDR4_8Gb_x8_2400, DDR3_4Gb_x8_1600, LPDDR4_8Gb_x16_3200, HBM2_PC_2000,
                        GDDR6_8Gb_x16_16000, LPDDR5X_16Gb_x16_7500)
}

DDR5_16Gb_x8_4800 = DeviceSpec(
    name="DDR5_16Gb_x8_4800",
    protocol="DDR5",
    source="JESD79-5 DDR5-4800B (40-39-39); Micron 16Gb DDR5 die rev. A IDD (as gem5 quotes)",
    tCK_ns=0.416,
    CL=40, CWL=38, AL=0, BL=16,
    tRCD=39, tRP=39, tRAS=77, tRTP=18, tWR=72,
    tWTR_S=6, tWTR_L=24, tCCD_S=8, tCCD_L=12, tRRD_S=8, tRRD_L=12, tFAW=32,
    tRTRS=2, tRFC=708, tREFI=9360,
    bankgroups=8, banks_per_group=4, rows=65536, columns=1024,
    device_width=8, bus_width=32, ranks=2, channels=2,
    VDD=1.1, IDD0=122, IDD2N=92, IDD3N=142, IDD4R=530, IDD4W=479, IDD5=277,
    tCCD_L_WR=24, tRFCsb=312, tREFIsb=1170, IDD5sb=135, power_model="drampower5",
)
PRESETS[DDR5_16Gb_x8_4800.name] = DDR5_16Gb_x8_4800
