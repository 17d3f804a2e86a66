"""Read DRAMSys v5 JSON configurations into the simulator's DeviceSpec, ControllerConfig and
address mapping, and simulate a trace with them.

The four DRAMSys v5.1 sub-configurations (``configs/{memspec,mcconfig,addressmapping,
simconfig}`` of DRAMSys; Steiner et al., "DRAMSys4.0", IJPP 2022) are read as DRAMSys reads
them: each file holds one object under its key (``{"memspec": {...}}``), C/C++ comments are
allowed, a missing mcconfig key takes DRAMSys's default (``McConfig.h``), a memspec key that
DRAMSys requires must be there. Every key that DRAMSys v5.1 knows is accepted; keys this
model does not simulate (power-down and self-refresh timings, the VPP rail, CmdMux
``Strict``...) are reported as :class:`DramsysConfigWarning` (and listed in
``DramsysSetup.warnings``); anything else that is wrong raises :class:`DramsysConfigError`
naming the file and the key. Memory types: DDR3, DDR4 and LPDDR4 (one channel's devices;
LPDDR4 with the simplifications of ``device.LPDDR4_8Gb_x16_3200``).

Units: memspec timings are in clock cycles and ``tCK`` in ps; a trace's cycles are memory
clock cycles unless ``clk_mhz`` gives the trace player's clock (DRAMSys's ``clkMhz``), in which
case a request at cycle c arrives at the first memory clock edge at or after c / clk_mhz us.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulators.dram.controller import INT_KNOBS, KNOBS, ControllerConfig
from simulators.dram.device import DeviceSpec
from simulators.dram.mapping import AddressMapping, BitMapping
from simulators.dram.run import simulate

__all__ = [
    "DramsysConfigError",
    "DramsysConfigWarning",
    "DramsysSetup",
    "load_setup",
    "read_addressmapping",
    "read_mcconfig",
    "read_memspec",
    "read_simconfig",
    "simulate_files",
]


class DramsysConfigError(ValueError):
    """A DRAMSys configuration that cannot be used: names the file, the key, what is allowed."""


class DramsysConfigWarning(UserWarning):
    """A DRAMSys configuration key (or value) that this model does not simulate."""


@dataclass(frozen=True)
class DramsysSetup:
    """What the four configuration files describe, ready for ``simulate``."""

    device: DeviceSpec
    controller: ControllerConfig
    mapping: AddressMapping | BitMapping
    address_offset: int = 0
    warnings: tuple[str, ...] = ()


# ---------------------------------------------------------------------------- JSON files
_COMMENT = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/', re.S)


def _strip_comments(text: str) -> str:
    """Blank out // and /* */ comments outside strings (nlohmann's ignore_comments)."""
    return _COMMENT.sub(lambda m: m.group(0) if m.group(0)[0] == '"'
                        else re.sub(r"[^\n]", " ", m.group(0)), text)


def _section(path: str | Path, key: str) -> tuple[Path, dict[str, Any]]:
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise DramsysConfigError(f"{p}: no such {key} file") from None
    except (IsADirectoryError, UnicodeDecodeError) as e:
        raise DramsysConfigError(f"{p}: not a JSON {key} file ({e})") from None
    try:
        data = json.loads(_strip_comments(text))
    except json.JSONDecodeError as e:
        raise DramsysConfigError(f"{p}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get(key), dict):
        raise DramsysConfigError(f"{p}: expected a JSON object with the key {key!r} holding "
                                 f"the {key} (DRAMSys's sub-configuration format)")
    return p, data[key]


def _warn(out: list[str], msg: str) -> None:
    out.append(msg)
    warnings.warn(msg, DramsysConfigWarning, stacklevel=3)


def _unknown(p: Path, where: str, got, known) -> None:
    extra = sorted(set(got) - set(known))
    if extra:
        raise DramsysConfigError(f"{p}: {where} has unknown key(s) {extra}; DRAMSys v5.1 "
                                 f"knows {', '.join(sorted(known))}")


def _uint(p: Path, where: str, key: str, v, lo: int = 0) -> int:
    if isinstance(v, bool) or not isinstance(v, int | float) or v != int(v) or v < lo:
        raise DramsysConfigError(f"{p}: {where}.{key} = {v!r}: expected an integer >= {lo}")
    return int(v)


def _number(p: Path, where: str, key: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
        raise DramsysConfigError(f"{p}: {where}.{key} = {v!r}: expected a number >= 0")
    return float(v)


def _log2(p: Path, where: str, key: str, v: int) -> int:
    if v < 1 or v & (v - 1):
        raise DramsysConfigError(f"{p}: {where}.{key} = {v}: must be a power of two")
    return v.bit_length() - 1


# ---------------------------------------------------------------------------- memspec
_ARCH_KEYS = {"burstLength", "dataRate", "nbrOfBankGroups", "nbrOfBanks", "nbrOfColumns",
              "nbrOfRanks", "nbrOfRows", "width", "nbrOfDevices", "nbrOfChannels",
              "maxBurstLength", "nbrOfDevicesOnDIMM", "nbrOfPseudoChannels", "nbrOfStacks"}
_MODELLED_MEMORY_TYPES = ("DDR3", "DDR4", "LPDDR4")
_KNOWN_MEMORY_TYPES = ("DDR3", "DDR4", "DDR5", "LPDDR4", "LPDDR5", "WIDEIO_SDR", "WIDEIO2",
                       "HBM2", "HBM3", "GDDR5", "GDDR5X", "GDDR6", "STT-MRAM")
#: timing keys each memory type's DRAMSys MemSpec reads (required), and those modelled here
_TIMING_REQUIRED = {
    "DDR3": ("CKE", "CKESR", "RAS", "RC", "RCD", "RL", "RTP", "WL", "WR", "XP", "XS",
             "REFI", "RFC", "RP", "DQSCK", "CCD", "FAW", "RRD", "WTR", "AL", "XPDLL",
             "XSDLL", "ACTPDEN", "PRPDEN", "REFPDEN", "RTRS", "tCK"),
    "DDR4": ("CKE", "CKESR", "RAS", "RC", "RCD", "RL", "RPRE", "RTP", "WL", "WPRE", "WR",
             "XP", "XS", "REFM", "REFI", "RFC", "RP", "DQSCK", "CCD_S",
             "CCD_L", "FAW", "RRD_S", "RRD_L", "WTR_S", "WTR_L", "AL", "XPDLL", "XSDLL",
             "ACTPDEN", "PRPDEN", "REFPDEN", "RTRS", "tCK"),
    "LPDDR4": ("REFI", "REFIPB", "RFCAB", "RFCPB", "RAS", "RPAB", "RPPB", "RCAB", "RCPB",
               "PPD", "RCD", "FAW", "RRD", "CCD", "CCDMW", "RL", "RPST", "DQSCK", "RTP",
               "WL", "DQSS", "DQS2DQ", "WR", "WPRE", "WTR", "XP", "SR", "XSR", "ESCKE",
               "CKE", "CMDCKE", "RTRS", "tCK"),
}
_TIMING_MODELLED = {"CL", "RL", "WL", "AL", "RCD", "RP", "RAS", "RC", "RTP", "WR", "CCD",
                    "CCD_S", "CCD_L", "RRD", "RRD_S", "RRD_L", "WTR", "WTR_S", "WTR_L", "FAW",
                    "RTRS", "RFC", "RFC2", "RFC4", "REFM", "REFI", "RPRE", "WPRE", "tCK",
                    "RPAB", "RPPB", "RCAB", "RCPB", "RFCAB"}
_POWER = {"DDR3": ("idd0", "idd2n", "idd3n", "idd4r", "idd4w", "idd5", "vdd"),
          "DDR4": ("idd0", "idd2n", "idd3n", "idd4r", "idd4w", "idd5", "vdd"),
          "LPDDR4": ("idd02", "idd2n2", "idd3n2", "idd4r2", "idd4w2", "idd52", "vdd2")}


def read_memspec(path: str | Path, _warnings: list[str] | None = None) -> DeviceSpec:
    """A DRAMSys memspec file as a DeviceSpec (one channel; ``channels`` from the file)."""
    out = [] if _warnings is None else _warnings
    p, ms = _section(path, "memspec")
    _unknown(p, "memspec", ms, {"memarchitecturespec", "memoryId", "memoryType",
                                "mempowerspec", "memtimingspec"})
    for key in ("memarchitecturespec", "memoryId", "memoryType", "memtimingspec"):
        if key not in ms:
            raise DramsysConfigError(f"{p}: memspec.{key} is missing (DRAMSys requires it)")
    mtype = ms["memoryType"]
    if mtype not in _MODELLED_MEMORY_TYPES:
        known = ("a DRAMSys memory type" if mtype in _KNOWN_MEMORY_TYPES
                 else "not a DRAMSys v5.1 memory type")
        raise DramsysConfigError(f"{p}: memspec.memoryType = {mtype!r} ({known}) is not "
                                 f"modelled; allowed: {', '.join(_MODELLED_MEMORY_TYPES)}")
    arch, tim = ms["memarchitecturespec"], ms["memtimingspec"]
    pw = ms.get("mempowerspec")
    for where, sec in (("memarchitecturespec", arch), ("memtimingspec", tim),
                       ("mempowerspec", pw)):
        if sec is not None and not isinstance(sec, dict):
            raise DramsysConfigError(f"{p}: memspec.{where} must be an object")
    _unknown(p, "memspec.memarchitecturespec", arch, _ARCH_KEYS)

    def a(key, default=None, lo=1):
        if key not in arch:
            if default is None:
                raise DramsysConfigError(f"{p}: memspec.memarchitecturespec.{key} is missing "
                                         "(DRAMSys requires it)")
            return default
        return _uint(p, "memspec.memarchitecturespec", key, arch[key], lo)

    for key in _TIMING_REQUIRED[mtype]:
        if key not in tim:
            raise DramsysConfigError(f"{p}: memspec.memtimingspec.{key} is missing (DRAMSys "
                                     f"v5.1 requires it for {mtype})")
    t = {k: _uint(p, "memspec.memtimingspec", k, v) for k, v in tim.items()}
    bl, rate = a("burstLength"), a("dataRate")
    if rate != 2:
        raise DramsysConfigError(f"{p}: memspec.memarchitecturespec.dataRate = {rate}: only "
                                 "double data rate (2) is modelled")
    if a("maxBurstLength", bl) != bl:
        _warn(out, f"{p}: memspec.memarchitecturespec.maxBurstLength: burst-length changes "
                   f"are not modelled; every access is a BL{bl} burst")
    for key in ("nbrOfPseudoChannels", "nbrOfStacks"):
        if key in arch:
            raise DramsysConfigError(f"{p}: memspec.memarchitecturespec.{key} (HBM) is not "
                                     "modelled")
    if "nbrOfDevicesOnDIMM" in arch:
        _warn(out, f"{p}: memspec.memarchitecturespec.nbrOfDevicesOnDIMM is an old key that "
                   "DRAMSys v5.1 ignores (it reads nbrOfDevices); ignored")
    devices = a("nbrOfDevices")
    banks, groups = a("nbrOfBanks"), a("nbrOfBankGroups", 1)
    if banks % groups:
        raise DramsysConfigError(f"{p}: memspec.memarchitecturespec: nbrOfBanks {banks} is not "
                                 f"a multiple of nbrOfBankGroups {groups}")
    al = t.get("AL", 0)
    if mtype == "DDR4":
        refm = t["REFM"]
        if refm not in (1, 2, 4):
            raise DramsysConfigError(f"{p}: memspec.memtimingspec.REFM = {refm}: allowed 1, "
                                     "2, 4 (fine-granularity refresh mode)")
        if t["REFI"] % refm:
            raise DramsysConfigError(f"{p}: memspec.memtimingspec.REFI = {t['REFI']} is not "
                                     f"divisible by REFM = {refm}")
        rfc_key = {1: "RFC", 2: "RFC2", 4: "RFC4"}[refm]
        if rfc_key not in t:
            raise DramsysConfigError(f"{p}: memspec.memtimingspec.{rfc_key} is missing (DRAMSys "
                                     f"needs it with REFM = {refm})")
        rfc = t[rfc_key]
        trefi = t["REFI"] // refm
        s = {"tCCD_S": t["CCD_S"], "tCCD_L": t["CCD_L"], "tRRD_S": t["RRD_S"],
             "tRRD_L": t["RRD_L"], "tWTR_S": t["WTR_S"], "tWTR_L": t["WTR_L"], "tRP": t["RP"],
             "tWR": t["WR"], "tRFC": rfc, "tREFI": trefi, "tRPRE": t["RPRE"],
             "tWPRE": t["WPRE"]}
        rc = t["RC"]
    elif mtype == "DDR3":
        s = {"tCCD_S": t["CCD"], "tCCD_L": t["CCD"], "tRRD_S": t["RRD"], "tRRD_L": t["RRD"],
             "tWTR_S": t["WTR"], "tWTR_L": t["WTR"], "tRP": t["RP"], "tWR": t["WR"],
             "tRFC": t["RFC"], "tREFI": t["REFI"]}
        rc = t["RC"]
    else:  # LPDDR4: per-bank precharge, all-bank refresh; the extra WR clock folded in
        s = {"tCCD_S": t["CCD"], "tCCD_L": t["CCD"], "tRRD_S": t["RRD"], "tRRD_L": t["RRD"],
             "tWTR_S": t["WTR"] + 1, "tWTR_L": t["WTR"] + 1, "tRP": t["RPPB"],
             "tWR": t["WR"] + 1, "tRFC": t["RFCAB"], "tREFI": t["REFI"],
             "tWPRE": t["WPRE"]}
        rc = t["RCPB"]
    if "CL" in t and t["CL"] + al != t["RL"]:
        _warn(out, f"{p}: memspec.memtimingspec.CL = {t['CL']} disagrees with RL - AL = "
                   f"{t['RL'] - al}; DRAMSys and this model use RL")
    if rc != t["RAS"] + s["tRP"]:
        _warn(out, f"{p}: memspec.memtimingspec: tRC is taken as RAS + RP = "
                   f"{t['RAS'] + s['tRP']} cycles, not RC = {rc}")
    if not pw:
        _warn(out, f"{p}: memspec.mempowerspec is missing: energy and power will be 0")
        currents = dict.fromkeys(("IDD0", "IDD2N", "IDD3N", "IDD4R", "IDD4W", "IDD5"), 0.0)
        vdd = 0.0
    else:
        vals = {}
        for k, v in pw.items():
            vals[k] = _number(p, "memspec.mempowerspec", k, v)
        need = _POWER[mtype]
        for k in need:
            if k not in vals:
                raise DramsysConfigError(f"{p}: memspec.mempowerspec.{k} is missing (the IDD "
                                         f"energy model of {mtype} needs it)")
        currents = dict(zip(("IDD0", "IDD2N", "IDD3N", "IDD4R", "IDD4W", "IDD5"),
                            (vals[k] for k in need[:-1]), strict=True))
        vdd = vals[need[-1]]
        unused = sorted(k for k in vals if k not in need and vals[k] != 0)
        if unused:
            _warn(out, f"{p}: memspec.mempowerspec keys not modelled (power-down, self-"
                       f"refresh and other supply rails): {', '.join(unused)}")
    unused_t = sorted(k for k in t if k not in _TIMING_MODELLED)
    if unused_t:
        _warn(out, f"{p}: memspec.memtimingspec keys not modelled (power-down, self-refresh, "
                   f"DQS and per-bank refresh timings): {', '.join(unused_t)}")
    try:
        return DeviceSpec(
            name=str(ms["memoryId"]), protocol=mtype, source=f"DRAMSys memspec {p.name}",
            tCK_ns=t["tCK"] / 1000.0, CL=t["RL"] - al, CWL=t["WL"] - al, AL=al, BL=bl,
            tRCD=t["RCD"], tRAS=t["RAS"], tRTP=t["RTP"], tFAW=t["FAW"], tRTRS=t["RTRS"],
            bankgroups=groups, banks_per_group=banks // groups, rows=a("nbrOfRows"),
            columns=a("nbrOfColumns"), device_width=a("width"),
            bus_width=a("width") * devices, ranks=a("nbrOfRanks"),
            channels=a("nbrOfChannels"), VDD=vdd, **currents, **s)
    except TypeError as e:  # pragma: no cover - a key mapping above is wrong
        raise DramsysConfigError(f"{p}: {e}") from None


# ---------------------------------------------------------------------------- mcconfig
#: DRAMSys v5.1's McConfig defaults (``McConfig.h``)
MC_DEFAULTS: dict[str, Any] = {
    "PagePolicy": "Open", "Scheduler": "FrFcfs", "SchedulerBuffer": "Bankwise",
    "RequestBufferSize": 8, "RespQueue": "Fifo", "RefreshPolicy": "AllBank",
    "RefreshMaxPostponed": 0, "RefreshMaxPulledin": 0, "Arbiter": "Simple",
    "MaxActiveTransactions": 64,
}
#: keys DRAMSys v5.1 knows beyond the ten knobs: value -> (default, allowed values or type)
_MC_OTHER: dict[str, tuple[Any, Any]] = {
    "CmdMux": ("Oldest", ("Oldest", "Strict")),
    "PowerDownPolicy": ("NoPowerDown", ("NoPowerDown", "Staggered")),
    "RefreshManagement": (False, bool),
    "RequestBufferSizeRead": (8, int), "RequestBufferSizeWrite": (8, int),
    "LowWatermark": (0, int), "HighWatermark": (0, int),
    "ArbitrationDelayFw": (0, int), "ArbitrationDelayBw": (0, int),
    "ThinkDelayFw": (1, int), "ThinkDelayBw": (0, int),
    "PhyDelayFw": (0, int), "PhyDelayBw": (0, int),
    "BlockingReadDelay": (60, int), "BlockingWriteDelay": (60, int),
}
_MC_VALUES_NOT_MODELLED = {
    "Scheduler": ("GrpFrFcfs", "GrpFrFcfsWm"),
    "RefreshPolicy": ("PerBank", "Per2Bank", "SameBank"),
}
_REFRESH_ALIASES = {"Rankwise": "AllBank", "Bankwise": "PerBank", "Groupwise": "SameBank"}


def read_mcconfig(path: str | Path, _warnings: list[str] | None = None) -> ControllerConfig:
    """A DRAMSys mcconfig file as a ControllerConfig (missing keys: DRAMSys's defaults)."""
    out = [] if _warnings is None else _warnings
    p, mc = _section(path, "mcconfig")
    _unknown(p, "mcconfig", mc, set(KNOBS) | set(_MC_OTHER))
    knobs = dict(MC_DEFAULTS)
    for key in KNOBS:
        if key not in mc:
            continue
        v = mc[key]
        if key in INT_KNOBS:
            lo, hi = INT_KNOBS[key]
            v = _uint(p, "mcconfig", key, v, lo)
            if v > hi:
                raise DramsysConfigError(f"{p}: mcconfig.{key} = {v}: at most {hi}"
                                         + (" (JEDEC)" if hi == 8 else ""))
        else:
            if key == "RefreshPolicy":
                v = _REFRESH_ALIASES.get(v, v)
            if v in _MC_VALUES_NOT_MODELLED.get(key, ()):
                raise DramsysConfigError(f"{p}: mcconfig.{key} = {v!r} is not modelled; "
                                         f"allowed: {', '.join(KNOBS[key])}")
            if v not in KNOBS[key]:
                raise DramsysConfigError(f"{p}: mcconfig.{key} = {v!r}: allowed "
                                         f"{', '.join(KNOBS[key])}")
        knobs[key] = v
    other = {}
    for key, (default, allowed) in _MC_OTHER.items():
        v = mc.get(key, default)
        if allowed is bool:
            if not isinstance(v, bool):
                raise DramsysConfigError(f"{p}: mcconfig.{key} = {v!r}: expected true or false")
        elif allowed is int:
            v = _uint(p, "mcconfig", key, v)
        elif v not in allowed:
            raise DramsysConfigError(f"{p}: mcconfig.{key} = {v!r}: allowed "
                                     f"{', '.join(allowed)}")
        other[key] = v
    if knobs["SchedulerBuffer"] == "ReadWrite":
        if "RequestBufferSize" in mc:
            _warn(out, f"{p}: mcconfig.RequestBufferSize is ignored with the ReadWrite "
                       "SchedulerBuffer (DRAMSys v5.1 uses RequestBufferSizeRead/Write)")
        rd, wr = other["RequestBufferSizeRead"], other["RequestBufferSizeWrite"]
        if rd != wr or rd < 1:
            raise DramsysConfigError(
                f"{p}: mcconfig.RequestBufferSizeRead = {rd} and RequestBufferSizeWrite = "
                f"{wr}: the model needs them equal and >= 1 (one RequestBufferSize)")
        knobs["RequestBufferSize"] = rd
    else:
        for key in ("RequestBufferSizeRead", "RequestBufferSizeWrite"):
            if key in mc:
                _warn(out, f"{p}: mcconfig.{key} has no effect with the "
                           f"{knobs['SchedulerBuffer']} SchedulerBuffer")
    not_modelled = [f"{k} = {json.dumps(v)}" for k, v in other.items()
                    if v != _MC_OTHER[k][0] and not k.startswith("RequestBufferSize")
                    and not k.startswith("Blocking")]
    if not_modelled:
        _warn(out, f"{p}: mcconfig settings not modelled (simulated with DRAMSys's defaults "
                   f"CmdMux Oldest, no power-down, no RFM, ThinkDelayFw 1, other delays 0): "
                   f"{', '.join(not_modelled)}")
    return ControllerConfig(**knobs)


# ---------------------------------------------------------------------------- mapping
_AM_KEYS = ("BYTE_BIT", "COLUMN_BIT", "ROW_BIT", "BANK_BIT", "BANKGROUP_BIT", "RANK_BIT",
            "STACK_BIT", "PSEUDOCHANNEL_BIT", "CHANNEL_BIT")
_TO_DRAMSIM3 = {"ROW_BIT": "ro", "CHANNEL_BIT": "ch", "RANK_BIT": "ra", "BANK_BIT": "ba",
                "BANKGROUP_BIT": "bg", "COLUMN_BIT": "co"}


def read_addressmapping(path: str | Path, device: DeviceSpec,
                        _warnings: list[str] | None = None) -> AddressMapping | BitMapping:
    """A DRAMSys address-mapping file for ``device``: an AddressMapping when its fields are
    contiguous bit ranges (a DRAMsim3 string), else a BitMapping."""
    out = [] if _warnings is None else _warnings
    p, am = _section(path, "addressmapping")
    _unknown(p, "addressmapping", am, set(_AM_KEYS) | {"XOR"})
    if "XOR" in am:
        _warn(out, f"{p}: addressmapping.XOR is DRAMSys 4 syntax that v5.1 ignores (write "
                   "XORed bits as [bit, bit, ...] entries); ignored here too")
    for key in ("STACK_BIT", "PSEUDOCHANNEL_BIT"):
        if am.get(key):
            raise DramsysConfigError(f"{p}: addressmapping.{key} (HBM) is not modelled")
    bits = []
    for key in _AM_KEYS[:6] + ("CHANNEL_BIT",):
        entries = am.get(key, [])
        if not isinstance(entries, list):
            raise DramsysConfigError(f"{p}: addressmapping.{key} must be a list of bit "
                                     "positions")
        parsed = []
        for e in entries:
            group = e if isinstance(e, list) else [e]
            if not group:
                raise DramsysConfigError(f"{p}: addressmapping.{key} has an empty XOR entry")
            parsed.append(tuple(_uint(p, "addressmapping", key, b) for b in group))
        if parsed:
            bits.append((key, tuple(parsed)))
    try:
        bm = BitMapping(tuple(bits), device, spec=f"dramsys:{p.name}")
    except ValueError as e:
        raise DramsysConfigError(f"{p}: {e}") from None
    return _as_dramsim3(bm) or bm


def _as_dramsim3(bm: BitMapping) -> AddressMapping | None:
    """The equivalent DRAMsim3 mapping string, when there is one."""
    b = dict(bm.bits)
    if any(len(e) > 1 for entries in b.values() for e in entries):
        return None
    spans = []
    for key, name in _TO_DRAMSIM3.items():
        pos = [e[0] for e in b.get(key, ())]
        if pos and pos != list(range(pos[0], pos[0] + len(pos))):
            return None
        spans.append((pos[0] if pos else -1, name))
    order = [name for _, name in sorted(spans, reverse=True)]
    am = AddressMapping("".join(order), bm.device)
    # zero-width fields sort arbitrarily: compare decodes on every single-bit address
    top = max(e[0] for entries in b.values() for e in entries)
    probe = np.uint64(1) << np.arange(top + 1, dtype=np.uint64)
    got, want = am.decode(probe), bm.decode(probe)
    return am if all(np.array_equal(got[f], want[f]) for f in want) else None


# ---------------------------------------------------------------------------- simconfig
_SIM_KEYS = {"AddressOffset", "CheckTLM2Protocol", "DatabaseRecording", "Debug",
             "EnableWindowing", "PowerAnalysis", "SimulationName", "SimulationProgressBar",
             "StoreMode", "ThermalSimulation", "UseMalloc", "WindowSize", "SimulationTime"}


def read_simconfig(path: str | Path, _warnings: list[str] | None = None) -> int:
    """A DRAMSys simconfig file; returns its AddressOffset (the only key that changes what is
    simulated; output options are accepted and have no effect)."""
    out = [] if _warnings is None else _warnings
    p, sc = _section(path, "simconfig")
    _unknown(p, "simconfig", sc, _SIM_KEYS)
    if sc.get("StoreMode", "NoStorage") not in ("NoStorage", "Store"):
        raise DramsysConfigError(f"{p}: simconfig.StoreMode = {sc['StoreMode']!r}: allowed "
                                 "NoStorage, Store")
    if sc.get("SimulationTime") is not None:
        _warn(out, f"{p}: simconfig.SimulationTime is not modelled: the whole trace runs")
    if sc.get("ThermalSimulation"):
        _warn(out, f"{p}: simconfig.ThermalSimulation is not modelled")
    return _uint(p, "simconfig", "AddressOffset", sc.get("AddressOffset", 0))


# ---------------------------------------------------------------------------- together
def load_setup(memspec: str | Path, mcconfig: str | Path,
               addressmapping: str | Path | None = None,
               simconfig: str | Path | None = None) -> DramsysSetup:
    """Read the configuration files (no address mapping: the device's ``rochrababgco``)."""
    out: list[str] = []
    dev = read_memspec(memspec, out)
    ctrl = read_mcconfig(mcconfig, out)
    amap = (read_addressmapping(addressmapping, dev, out) if addressmapping is not None
            else AddressMapping("rochrababgco", dev))
    offset = read_simconfig(simconfig, out) if simconfig is not None else 0
    return DramsysSetup(dev, ctrl, amap, offset, tuple(out))


def simulate_files(trace: str | Path, memspec: str | Path, mcconfig: str | Path,
                   addressmapping: str | Path | None = None,
                   simconfig: str | Path | None = None, trace_format: str | None = None,
                   clk_mhz: float | None = None) -> dict[str, Any]:
    """Simulate a trace file with DRAMSys configuration files; a JSON-ready dict.

    Besides every ``DramResult`` figure it holds ``controller_latency_ns`` (mean over reads
    and writes from the request reaching the controller to its response: DRAMSys's
    REQ-to-RESP latency), ``sim_time_ns`` (the last response), ``bandwidth_gbps``,
    ``num_act``, ``energy_pj`` and the configuration ``warnings``.
    """
    from simulators.dram.trace import Trace, read_trace

    setup = load_setup(memspec, mcconfig, addressmapping, simconfig)
    tr = read_trace(trace, trace_format)
    addr = np.asarray(tr.addr, dtype=np.uint64)
    if setup.address_offset:
        if np.any(addr < np.uint64(setup.address_offset)):
            raise DramsysConfigError(f"{trace}: an address lies below the simconfig "
                                     f"AddressOffset {setup.address_offset:#x}")
        addr = addr - np.uint64(setup.address_offset)
    cycle = np.asarray(tr.cycle, dtype=np.int64)
    if clk_mhz is not None:
        if not clk_mhz > 0:
            raise DramsysConfigError(f"clk_mhz = {clk_mhz}: must be > 0")
        tck_ps = round(setup.device.tCK_ns * 1000)
        ps = np.round(cycle * (1e6 / clk_mhz)).astype(np.int64)
        cycle = -(-ps // tck_ps)
    res = simulate(Trace(addr, tr.is_write, cycle, tr.name), device=setup.device,
                   controller=setup.controller, mapping=setup.mapping)
    d = res.to_dict()
    d["controller_latency_ns"] = res.avg_latency_ns
    d["warnings"] = list(setup.warnings)
    return d
