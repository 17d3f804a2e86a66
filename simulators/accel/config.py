"""Accelerator configuration and SCALE-Sim ``.cfg`` files.

The knobs SCALE-Sim v3 models for a systolic array (``scalesim/scale_config.py``):
``[architecture_presets]`` ArrayHeight, ArrayWidth, IfmapSramSzkB, FilterSramSzkB,
OfmapSramSzkB (kB of 1-byte words), Dataflow (``os``, ``ws``, ``is``), Bandwidth (DRAM words
per cycle, used in USER mode; SCALE-Sim accepts a comma list and so do we, keeping the first
value), and ``[run_presets]`` InterfaceBandwidth: ``CALC`` (report the traffic of a
stall-free run) or ``USER`` (stall under the given bandwidth; see ``docs/accel.md`` for how
our model of it differs from SCALE-Sim's).

Every other key of SCALE-Sim's shipped configs is accepted and checked for its type:
``[general]`` run_name; the address offsets, ``MemoryBanks``, ``OnChipMemoryBanks``,
``OnChipMemoryBankPorts``, ``ReadRequestBuffer``, ``WriteRequestBuffer`` (Ramulator queues);
``[layout]`` custom SRAM layouts and bank geometry and ``[run_presets]`` UseRamulatorTrace,
which only change the timing of SCALE-Sim's own USER mode (its CALC-mode counts ignore them,
and our USER mode is a different model, see ``docs/accel.md``); ``[sparsity]``, whose
SparsitySupport must be false because sparse operands change every count;
``[network_presets]`` TopologyCsvLoc. Keys are case-insensitive, as in SCALE-Sim's
``configparser``; unknown sections or keys are errors naming file and line.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from simulators.accel.errors import AccelInputError
from simulators.accel.fileio import write_text_atomic

DATAFLOWS = ("os", "ws", "is")
MODES = ("CALC", "USER")

_BOOL = {"1": True, "yes": True, "true": True, "on": True,
         "0": False, "no": False, "false": False, "off": False}

# section -> canonical key -> kind ("int": integer >= 0, "pos": integer >= 1, "bool", "str",
# "df": dataflow, "mode": CALC|USER, "bw": positive number list, "off": must be false)
SCHEMA: dict[str, dict[str, str]] = {
    "general": {"run_name": "str"},
    "architecture_presets": {
        "ArrayHeight": "pos", "ArrayWidth": "pos", "IfmapSramSzkB": "pos",
        "FilterSramSzkB": "pos", "OfmapSramSzkB": "pos", "IfmapOffset": "int",
        "FilterOffset": "int", "OfmapOffset": "int", "Bandwidth": "bw", "Dataflow": "df",
        "MemoryBanks": "pos", "OnChipMemoryBanks": "pos", "OnChipMemoryBankPorts": "pos",
        "ReadRequestBuffer": "pos", "WriteRequestBuffer": "pos"},
    "layout": {
        "IfmapCustomLayout": "bool", "IfmapSRAMBankBandwidth": "pos", "IfmapSRAMBankNum": "pos",
        "IfmapSRAMBankPort": "pos", "FilterCustomLayout": "bool",
        "FilterSRAMBankBandwidth": "pos", "FilterSRAMBankNum": "pos",
        "FilterSRAMBankPort": "pos"},
    "sparsity": {"SparsitySupport": "off", "SparseRep": "str", "OptimizedMapping": "bool",
                 "BlockSize": "pos", "RandomNumberGeneratorSeed": "int", "NonZeroElems": "pos"},
    "run_presets": {"InterfaceBandwidth": "mode", "UseRamulatorTrace": "bool"},
    "network_presets": {"TopologyCsvLoc": "str", "LayoutCsvLoc": "str"},
}
REQUIRED = {"architecture_presets": ("ArrayHeight", "ArrayWidth", "IfmapSramSzkB",
                                     "FilterSramSzkB", "OfmapSramSzkB", "Dataflow"),
            "run_presets": ("InterfaceBandwidth",)}
_WHY_OFF = {"SparsitySupport": "sparsity is not modelled"}


@dataclass(frozen=True)
class AccelConfig:
    """A systolic-array accelerator as SCALE-Sim describes it.

    ``bandwidth`` is the DRAM interface in words (bytes) per cycle; it only limits the run
    when ``interface_bandwidth == "USER"``.
    """

    array_rows: int
    array_cols: int
    ifmap_sram_kb: int
    filter_sram_kb: int
    ofmap_sram_kb: int
    dataflow: str = "ws"
    interface_bandwidth: str = "CALC"
    bandwidth: float = 10.0
    run_name: str = "archgym_accel"

    def __post_init__(self) -> None:
        for name in ("array_rows", "array_cols", "ifmap_sram_kb", "filter_sram_kb",
                     "ofmap_sram_kb"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise AccelInputError(f"{name} must be a positive integer, got {v!r}")
        if self.dataflow not in DATAFLOWS:
            raise AccelInputError(f"dataflow must be one of {', '.join(DATAFLOWS)}, "
                                  f"got {self.dataflow!r}")
        if self.interface_bandwidth not in MODES:
            raise AccelInputError(f"interface_bandwidth must be CALC or USER, "
                                  f"got {self.interface_bandwidth!r}")
        bw = self.bandwidth
        if isinstance(bw, bool) or not isinstance(bw, int | float) or not bw > 0:
            raise AccelInputError(f"bandwidth must be a positive number of words per cycle, "
                                  f"got {bw!r}")
        if not isinstance(self.run_name, str) or not self.run_name.strip():
            raise AccelInputError(f"run_name must be a non-empty string, got {self.run_name!r}")

    def to_dict(self) -> dict:
        return asdict(self)


_SECTION = re.compile(r"^\[([^\]]*)\]$")
_KEY = re.compile(r"^([^:=\s][^:=]*?)\s*[:=]\s*(.*)$")


def _value(kind: str, key: str, text: str, where: str):
    if kind == "str":
        return text
    if kind in ("int", "pos"):
        try:
            v = int(text)
        except ValueError:
            v = None
        if v is None or v < (1 if kind == "pos" else 0):
            what = "a positive integer" if kind == "pos" else "a non-negative integer"
            raise AccelInputError(f"{where}: {key} must be {what}, got {text!r}")
        return v
    if kind in ("bool", "off"):
        v = _BOOL.get(text.lower())
        if v is None:
            raise AccelInputError(f"{where}: {key} must be True or False, got {text!r}")
        if kind == "off" and v:
            raise AccelInputError(f"{where}: {key} = {text}: {_WHY_OFF[key]}; set it to False")
        return v
    if kind == "df":
        if text.lower() not in DATAFLOWS:
            raise AccelInputError(f"{where}: Dataflow must be one of os, ws, is, got {text!r}")
        return text.lower()
    if kind == "mode":
        if text not in MODES:
            raise AccelInputError(f"{where}: InterfaceBandwidth must be CALC or USER, "
                                  f"got {text!r}")
        return text
    # "bw": SCALE-Sim's comma list of words per cycle; the first value is the interface's
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if not values or min(values) <= 0:
        raise AccelInputError(f"{where}: Bandwidth must be positive words per cycle "
                              f"(a comma list is allowed), got {text!r}")
    return values[0]


def parse_config(text: str, source: str = "<config>") -> AccelConfig:
    """The :class:`AccelConfig` of a SCALE-Sim ``.cfg`` given as text (see the module)."""
    canon = {s: {k.lower(): k for k in keys} for s, keys in SCHEMA.items()}
    values: dict[str, dict[str, object]] = {}
    section = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        where = f"{source}: line {lineno}"
        m = _SECTION.match(line)
        if m:
            section = m.group(1).strip()
            if section not in SCHEMA:
                raise AccelInputError(f"{where}: unknown section [{section}]; allowed: "
                                      + ", ".join(f"[{s}]" for s in SCHEMA))
            if section in values:
                raise AccelInputError(f"{where}: section [{section}] appears twice")
            values[section] = {}
            continue
        m = _KEY.match(line)
        if not m:
            raise AccelInputError(f"{where}: expected '[section]', 'key: value' or "
                                  f"'key = value', got {line!r}")
        if section is None:
            raise AccelInputError(f"{where}: key {m.group(1).strip()!r} before any [section]")
        key = canon[section].get(m.group(1).strip().lower())
        if key is None:
            raise AccelInputError(f"{where}: unknown key {m.group(1).strip()!r} in "
                                  f"[{section}]; allowed: {', '.join(SCHEMA[section])}")
        if key in values[section]:
            raise AccelInputError(f"{where}: {key} is set twice in [{section}]")
        values[section][key] = _value(SCHEMA[section][key], key, m.group(2).strip(), where)
    for sec, keys in REQUIRED.items():
        for key in keys:
            if key not in values.get(sec, {}):
                raise AccelInputError(f"{source}: [{sec}] {key} is missing")
    arch, run = values["architecture_presets"], values["run_presets"]
    if run["InterfaceBandwidth"] == "USER" and "Bandwidth" not in arch:
        raise AccelInputError(f"{source}: [architecture_presets] Bandwidth is required when "
                              "InterfaceBandwidth is USER")
    kwargs = dict(array_rows=arch["ArrayHeight"], array_cols=arch["ArrayWidth"],
                  ifmap_sram_kb=arch["IfmapSramSzkB"], filter_sram_kb=arch["FilterSramSzkB"],
                  ofmap_sram_kb=arch["OfmapSramSzkB"], dataflow=arch["Dataflow"],
                  interface_bandwidth=run["InterfaceBandwidth"])
    if "Bandwidth" in arch:
        kwargs["bandwidth"] = arch["Bandwidth"]
    if values.get("general", {}).get("run_name", "").strip():
        kwargs["run_name"] = values["general"]["run_name"].strip()
    try:
        return AccelConfig(**kwargs)
    except AccelInputError as err:
        raise AccelInputError(f"{source}: {err}") from None


def read_config(path: str | Path) -> AccelConfig:
    """The :class:`AccelConfig` of the SCALE-Sim ``.cfg`` file at ``path``."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise AccelInputError(f"{path}: cannot read config: {err.strerror}") from None
    return parse_config(text, str(path))


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def format_config(cfg: AccelConfig) -> str:
    """A complete ``.cfg`` for ``cfg`` that SCALE-Sim v3 itself runs (every section its
    reader requires, with SCALE-Sim's default values for the knobs this model ignores)."""
    return f"""[general]
run_name = {cfg.run_name}

[architecture_presets]
ArrayHeight: {cfg.array_rows}
ArrayWidth: {cfg.array_cols}
IfmapSramSzkB: {cfg.ifmap_sram_kb}
FilterSramSzkB: {cfg.filter_sram_kb}
OfmapSramSzkB: {cfg.ofmap_sram_kb}
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth: {_number(cfg.bandwidth)}
Dataflow: {cfg.dataflow}
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport: false
SparseRep: ellpack_block
OptimizedMapping: false
BlockSize: 8
RandomNumberGeneratorSeed: 40

[run_presets]
InterfaceBandwidth: {cfg.interface_bandwidth}
UseRamulatorTrace: False
"""


def write_config(path: str | Path, cfg: AccelConfig) -> Path:
    """Write ``cfg`` as a SCALE-Sim ``.cfg`` (whole file or nothing)."""
    return write_text_atomic(path, format_config(cfg))
