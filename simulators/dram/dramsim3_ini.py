"""Read a DRAMsim3 ``.ini`` configuration: the device, its organisation and the controller.

:func:`read_dramsim3_ini` returns what DRAMsim3 (commit 29817593, ``configuration.cc``)
would simulate with the file: a :class:`~simulators.dram.device.DeviceSpec`, a
:class:`~simulators.dram.controller.Dramsim3Like` controller and the address mapping, plus
warnings for keys it reads differently or not at all. It follows DRAMsim3's rules:

- every key has DRAMsim3's default when absent (named in a warning for the device sections);
- ranks are derived from ``channel_size`` (MB per channel) and the device organisation,
  one rank when a rank is larger than the channel;
- ``bankgroup_enable = false`` folds the bank groups into one; with a single bank group the
  ``_L`` timings take the ``_S`` values; a column-to-column gap is never shorter than a
  burst (DRAMsim3 takes ``max(burst, tCCD)``);
- ``write_buf_size`` and ``aggressive_precharging_enabled`` are read but, as in DRAMsim3,
  have no effect (a warning says so; ``--set`` gives them their named meaning);
- unknown sections and keys are ignored, as DRAMsim3 does, with a warning (a misspelt key
  such as ``REFI`` for ``tREFI`` then takes the default, which the warning makes visible).

Errors (:class:`Dramsim3IniError`, a ``ValueError``) name the file, line, section and key:
values that are not numbers, unknown protocols or policies, and features the model does not
implement (GDDR5/5X/6, HBM, HMC, BL = 0 ideal bandwidth, self-refresh), rather than
silently simulating something else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulators.dram.controller import Dramsim3Like
from simulators.dram.device import DeviceSpec
from simulators.dram.mapping import AddressMapping

#: protocols whose DRAMsim3 semantics the model follows (BL/2-cycle bursts, one command bus)
SUPPORTED = ("DDR3", "DDR4", "LPDDR", "LPDDR3", "LPDDR4")
_REFUSED = {
    "GDDR5": "GDDR bursts of BL/4 cycles, tRCDRD/tRCDWR and t32AW",
    "GDDR5X": "GDDR5X bursts of BL/8 cycles, tRCDRD/tRCDWR and t32AW",
    "GDDR6": "GDDR6 bursts of BL/16 cycles, tRCDRD/tRCDWR and t32AW",
    "HBM": "HBM's dual command issue, tRCDRD/tRCDWR and its column scaling",
    "HBM2": "HBM's dual command issue, tRCDRD/tRCDWR and its column scaling",
    "HMC": "HMC's link and vault model",
}

# DRAMsim3's defaults (configuration.cc), by section
_INT, _REAL, _STR, _BOOL = int, float, str, bool
_KEYS: dict[str, dict[str, tuple[type, Any]]] = {
    "dram_structure": {
        "protocol": (_STR, "DDR3"), "bankgroups": (_INT, 2), "banks_per_group": (_INT, 2),
        "bankgroup_enable": (_BOOL, True), "rows": (_INT, 1 << 16), "columns": (_INT, 1 << 10),
        "device_width": (_INT, 8), "BL": (_INT, 8), "num_dies": (_INT, 1),
        "hbm_dual_cmd": (_BOOL, True),
    },
    "timing": {
        "tCK": (_REAL, 1.0), "AL": (_INT, 0), "CL": (_INT, 12), "CWL": (_INT, 12),
        "tCCD_L": (_INT, 6), "tCCD_S": (_INT, 4), "tRTRS": (_INT, 2), "tRTP": (_INT, 5),
        "tWTR_L": (_INT, 5), "tWTR_S": (_INT, 5), "tWR": (_INT, 10), "tRP": (_INT, 10),
        "tRRD_L": (_INT, 4), "tRRD_S": (_INT, 4), "tRAS": (_INT, 24), "tRCD": (_INT, 10),
        "tRFC": (_INT, 74), "tCKE": (_INT, 6), "tCKESR": (_INT, 12), "tXS": (_INT, 432),
        "tXP": (_INT, 8), "tRFCb": (_INT, 20), "tREFI": (_INT, 7800), "tREFIb": (_INT, 1950),
        "tFAW": (_INT, 50), "tRPRE": (_INT, 1), "tWPRE": (_INT, 1), "tPPD": (_INT, 0),
        "t32AW": (_INT, 330), "tRCDRD": (_INT, 24), "tRCDWR": (_INT, 20),
        "ideal_memory_latency": (_INT, 10),
        # read by DRAMsim3's configs but not by its code
        "tRFC2": (_INT, 0), "tRFC4": (_INT, 0), "tWR2": (_INT, 0),
    },
    "power": {
        "VDD": (_REAL, 1.2), "IDD0": (_REAL, 48), "IPP0": (_REAL, 0), "IDD2P": (_REAL, 25),
        "IDD2N": (_REAL, 34), "IDD3P": (_REAL, 37), "IDD3N": (_REAL, 43), "IDD4W": (_REAL, 123),
        "IDD4R": (_REAL, 135), "IDD5AB": (_REAL, 250), "IDD5PB": (_REAL, 5),
        "IDD6x": (_REAL, 31),
    },
    "system": {
        "channel_size": (_INT, 1024), "channels": (_INT, 1), "bus_width": (_INT, 64),
        "address_mapping": (_STR, "chrobabgraco"), "queue_structure": (_STR, "PER_BANK"),
        "row_buf_policy": (_STR, "OPEN_PAGE"), "cmd_queue_size": (_INT, 16),
        "trans_queue_size": (_INT, 32), "unified_queue": (_BOOL, False),
        "write_buf_size": (_INT, 16), "refresh_policy": (_STR, "RANK_LEVEL_STAGGERED"),
        "enable_self_refresh": (_BOOL, False), "sref_threshold": (_INT, 1000),
        "aggressive_precharging_enabled": (_BOOL, False),
    },
    "other": {"epoch_period": (_INT, 100000), "output_level": (_INT, 1),
              "output_prefix": (_STR, "dramsim3")},
}
_IGNORED_SECTIONS = ("thermal", "hmc")  # DRAMsim3's thermal model / HMC links: not modelled
_DEVICE_SECTIONS = ("dram_structure", "timing", "power")
_LINE = re.compile(r"^\s*([^=:\s][^=:]*?)\s*[=:]\s*(.*?)\s*$")


class Dramsim3IniError(ValueError):
    """A DRAMsim3 ``.ini`` that cannot be read: names the file, line, section and key."""


@dataclass(frozen=True)
class Dramsim3Ini:
    """What DRAMsim3 would simulate with one ``.ini`` file."""

    path: Path
    device: DeviceSpec
    controller: Dramsim3Like
    mapping: str
    warnings: tuple[str, ...] = ()
    values: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)


def _parse(p: Path) -> dict[str, dict[str, tuple[str, int]]]:
    """Section -> key -> (raw value, line), the way inih reads it (``;`` / ``#`` comments)."""
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise FileNotFoundError(f"DRAMsim3 config {p} does not exist") from None
    except UnicodeDecodeError as e:
        raise Dramsim3IniError(f"{p}: not a text file ({e})") from None
    out: dict[str, dict[str, tuple[str, int]]] = {}
    section = ""
    for i, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in ";#":
            continue
        if line.startswith("["):
            if not line.endswith("]"):
                raise Dramsim3IniError(f"{p}:{i}: section header {line!r} lacks its ']'")
            section = line[1:-1].strip()
            out.setdefault(section, {})
            continue
        line = re.split(r"\s;", line, maxsplit=1)[0]  # inline comment
        m = _LINE.match(line)
        if m is None:
            raise Dramsim3IniError(f"{p}:{i}: [{section}] cannot read {raw.strip()!r}; "
                                   "expected 'key = value'")
        out.setdefault(section, {})[m.group(1)] = (m.group(2).rstrip(";").strip(), i)
    return out


def _value(p: Path, section: str, key: str, raw: str, line: int, kind: type):
    at = f"{p}:{line}: [{section}] {key} = {raw!r}"
    if kind is _STR:
        return raw
    if kind is _BOOL:
        low = raw.lower()
        if low in ("true", "yes", "on", "1"):
            return True
        if low in ("false", "no", "off", "0"):
            return False
        raise Dramsim3IniError(f"{at}: expected true or false")
    try:
        return int(raw, 0) if kind is _INT else float(raw)
    except ValueError:
        what = "an integer" if kind is _INT else "a number"
        raise Dramsim3IniError(f"{at}: expected {what}") from None


def read_dramsim3_ini(path) -> Dramsim3Ini:
    """Read a DRAMsim3 ``.ini`` (see the module docstring for the rules)."""
    p = Path(path)
    raw = _parse(p)
    warnings: list[str] = []
    v: dict[str, dict[str, Any]] = {}
    lines: dict[tuple[str, str], int] = {}
    for section, keys in raw.items():
        if section in _IGNORED_SECTIONS:
            warnings.append(f"{p}: [{section}] is not modelled (ignored)")
            continue
        if section not in _KEYS:
            warnings.append(f"{p}: unknown section [{section}] ignored, as DRAMsim3 does")
            continue
        for key, (val, line) in keys.items():
            if key not in _KEYS[section]:
                warnings.append(f"{p}:{line}: unknown key [{section}] {key} ignored, as "
                                "DRAMsim3 does")
                continue
            v.setdefault(section, {})[key] = _value(p, section, key, val, line,
                                                    _KEYS[section][key][0])
            lines[(section, key)] = line
    for section, keys in _KEYS.items():
        got = v.setdefault(section, {})
        missing = [k for k in keys if k not in got]
        for k in missing:
            got[k] = keys[k][1]
        shown = [k for k in missing if section in _DEVICE_SECTIONS and k in _USED[section]]
        if shown:
            warnings.append(f"{p}: [{section}] {', '.join(shown)} absent: DRAMsim3's "
                            f"defaults {', '.join(f'{k}={keys[k][1]}' for k in shown)}")

    def where(section: str, key: str) -> str:
        line = lines.get((section, key))
        return f"{p}:{line}: [{section}] {key}" if line else f"{p}: [{section}] {key}"

    ds, tm, pw, sy = v["dram_structure"], v["timing"], v["power"], v["system"]
    proto = ds["protocol"]
    if proto in _REFUSED:
        raise Dramsim3IniError(f"{where('dram_structure', 'protocol')} = {proto}: this model "
                               f"does not implement {_REFUSED[proto]}; supported protocols: "
                               f"{', '.join(SUPPORTED)}")
    if proto not in SUPPORTED:
        raise Dramsim3IniError(f"{where('dram_structure', 'protocol')} = {proto!r} is not a "
                               f"DRAMsim3 protocol; supported: {', '.join(SUPPORTED)}")
    if ds["BL"] == 0:
        raise Dramsim3IniError(f"{where('dram_structure', 'BL')} = 0 asks DRAMsim3 for ideal "
                               "bandwidth (no burst time), which this model does not simulate")
    if sy["enable_self_refresh"]:
        raise Dramsim3IniError(f"{where('system', 'enable_self_refresh')} = true: "
                               "self-refresh is not modelled; set it to false")
    for section, key in (("dram_structure", "bankgroups"), ("dram_structure", "banks_per_group"),
                         ("dram_structure", "rows"), ("dram_structure", "columns"),
                         ("dram_structure", "device_width"), ("dram_structure", "BL"),
                         ("system", "channels"), ("system", "bus_width")):
        val = v[section][key]
        if val < 1 or val & (val - 1):
            raise Dramsim3IniError(f"{where(section, key)} = {val}: must be a power of two")
    if tm["tCK"] <= 0:
        raise Dramsim3IniError(f"{where('timing', 'tCK')} = {tm['tCK']}: must be positive")
    for key in ("write_buf_size", "aggressive_precharging_enabled"):
        if (("system", key)) in lines:
            warnings.append(f"{where('system', key)}: read but unused by DRAMsim3 (29817593), "
                            "so ignored here too; --set gives it its named meaning")
    bankgroups, bpg = ds["bankgroups"], ds["banks_per_group"]
    if not ds["bankgroup_enable"]:
        bpg, bankgroups = bpg * bankgroups, 1
    burst = ds["BL"] // 2
    devices = sy["bus_width"] // ds["device_width"]
    if devices < 1:
        raise Dramsim3IniError(f"{where('system', 'bus_width')} = {sy['bus_width']} is "
                               f"narrower than device_width {ds['device_width']}")
    megs_per_rank = (ds["columns"] * ds["device_width"] // 8 * (ds["rows"] // 1024) // 1024
                     * bankgroups * bpg * devices)
    if megs_per_rank > sy["channel_size"]:
        ranks = 1
        warnings.append(f"{where('system', 'channel_size')} = {sy['channel_size']} MB is less "
                        f"than one rank ({megs_per_rank} MB): one rank, as DRAMsim3 does")
    else:
        ranks = sy["channel_size"] // megs_per_rank
    if ranks & (ranks - 1):
        raise Dramsim3IniError(f"{where('system', 'channel_size')} = {sy['channel_size']} MB "
                               f"makes {ranks} ranks of {megs_per_rank} MB; the address "
                               "mapping needs a power of two")
    one_group = bankgroups == 1
    device = DeviceSpec(
        name=p.stem, protocol=proto, source=f"DRAMsim3 config {p.name}",
        tCK_ns=tm["tCK"], CL=tm["CL"], CWL=tm["CWL"], AL=tm["AL"], BL=ds["BL"],
        tRCD=tm["tRCD"], tRP=tm["tRP"], tRAS=tm["tRAS"], tRTP=tm["tRTP"], tWR=tm["tWR"],
        tWTR_S=tm["tWTR_S"], tWTR_L=tm["tWTR_S"] if one_group else tm["tWTR_L"],
        tCCD_S=max(burst, tm["tCCD_S"]),
        tCCD_L=max(burst, tm["tCCD_S"] if one_group else tm["tCCD_L"]),
        tRRD_S=tm["tRRD_S"], tRRD_L=tm["tRRD_S"] if one_group else tm["tRRD_L"],
        tFAW=tm["tFAW"], tRTRS=tm["tRTRS"], tRFC=tm["tRFC"], tREFI=tm["tREFI"],
        bankgroups=bankgroups, banks_per_group=bpg, rows=ds["rows"], columns=ds["columns"],
        device_width=ds["device_width"], bus_width=sy["bus_width"], ranks=ranks,
        channels=sy["channels"], VDD=pw["VDD"], IDD0=pw["IDD0"], IDD2N=pw["IDD2N"],
        IDD3N=pw["IDD3N"], IDD4R=pw["IDD4R"], IDD4W=pw["IDD4W"], IDD5=pw["IDD5AB"],
        tPPD=tm["tPPD"] if proto == "LPDDR4" else 0,
    )
    opts = {k: sy[k] for k in ("row_buf_policy", "queue_structure", "cmd_queue_size",
                               "trans_queue_size", "unified_queue", "refresh_policy")}
    try:
        controller = Dramsim3Like().with_options(opts)
    except ValueError as e:
        key = next((k for k in opts if k in str(e)), "")
        raise Dramsim3IniError(f"{where('system', key)}: {e}") from None
    if controller.refresh_policy == "BANK_LEVEL_STAGGERED":
        raise Dramsim3IniError(
            f"{where('system', 'refresh_policy')} = BANK_LEVEL_STAGGERED: {proto} has no "
            "same-bank refresh in its JEDEC standard, and DRAMsim3's per-bank refresh keeps "
            "other banks from activating for the all-bank tRFC (see docs/dram-fidelity.md)")
    mapping = sy["address_mapping"]
    try:
        AddressMapping(mapping, device).shifts()
    except ValueError as e:
        raise Dramsim3IniError(f"{where('system', 'address_mapping')}: {e}") from None
    return Dramsim3Ini(p, device, controller, mapping, tuple(warnings), v)


#: device keys that change what DRAMsim3 simulates (a missing one is worth a warning)
_USED = {
    "dram_structure": ("protocol", "bankgroups", "banks_per_group", "rows", "columns",
                       "device_width", "BL"),
    "timing": ("tCK", "AL", "CL", "CWL", "tCCD_L", "tCCD_S", "tRTRS", "tRTP", "tWTR_L",
               "tWTR_S", "tWR", "tRP", "tRRD_L", "tRRD_S", "tRAS", "tRCD", "tRFC", "tREFI",
               "tFAW"),
    "power": ("VDD", "IDD0", "IDD2N", "IDD3N", "IDD4W", "IDD4R", "IDD5AB"),
}
