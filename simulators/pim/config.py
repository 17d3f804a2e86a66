"""The PIM design: architecture, mapping, precision, host, ASIC and energy parameters.

One flat, frozen :class:`PimConfig` holds every knob, so a design point, a YAML file and a
``--set key=value`` override all name the same fields. Defaults describe a PIM-GPT-like
system: eight GDDR6 channels of 16 banks at 16 Gb/s, one PIM unit per bank with a 256-bit
bf16 SIMD MAC ALU (AiM's 16 bf16 multipliers per bank), a 2 KB input buffer per channel
(AiM's global buffer: 64 registers of 256 bits), fp32 accumulation, a T4 baseline.

Files: our YAML (a flat mapping of field names, ``timing_ns`` and ``host`` may be mappings)
or AMD GeniePIM's ``config.in`` (``geniepim.read_geniepim``); :func:`read_config` tells them
apart by content. Errors name the file and the key, and list what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

from simulators.dram.device import PRESETS
from simulators.pim.host import HOSTS, HostError, RooflineHost

TIMING_KEYS = ("tRP", "tRCD", "tCCD", "tRAS", "tRTW", "tWTR")


class PimInputError(ValueError):
    """A configuration, file or workload that the simulator cannot accept."""


def _pow2(v: int) -> bool:
    return v >= 1 and v & (v - 1) == 0


@dataclass(frozen=True)
class PimConfig:
    """Every parameter of a PIM system and of the way a GEMV is mapped onto it.

    Organisation: ``stacks`` x ``channels`` x ``banks_per_channel`` banks of ``row_bytes``
    rows; timings from the DRAM preset ``device`` unless ``timing_ns`` gives a GeniePIM tuple
    (tRP, tRCD, tCCD, tRAS, tRTW, tWTR in ns). A PIM unit serves ``banks_per_pim_unit`` banks
    with ``alus_per_pim_unit`` SIMD ALUs of ``simd_width_bits`` (one DRAM word per MAC), each
    with ``orf_registers`` output and ``irf_registers`` input registers; ``pim_compute_rate``
    scales the MAC rate (< 1: a MAC takes several slots; >= 2: one word serves several
    vectors). Mapping (PIMnast, Ibrahim et al., SC-W 2024): a tile of ``tile_rows`` matrix rows
    fills ``interleave_bytes``; row blocks of ``tile_rows`` rows go round-robin to the banks,
    padded when they do not divide (``mode="real"``); ``tile_order`` row blocks share each
    input chunk of ``vector_registers`` registers; ``split_k`` splits K over channel groups.
    Special values follow GeniePIM: tile_rows -1 = largest shape without padding, 0 = SIMD
    lanes; tile_order -1 = as many as the registers allow, 0 = all row blocks of a bank;
    split_k -1 = enough splits to give every bank a row block. ``blocking_controller``: the
    controller waits for every command's slot and bus turnaround before issuing the next
    (GeniePIM's additive accounting) instead of overlapping row commands with them.
    """

    name: str = "pim-gpt"
    device: str = "GDDR6_8Gb_x16_16000"
    timing_ns: tuple[tuple[str, float], ...] | None = None
    # organisation
    stacks: int = 1
    channels: int = 8
    banks_per_channel: int = 16
    row_bytes: int = 2048
    # PIM unit
    banks_per_pim_unit: int = 1
    alus_per_pim_unit: int = 1
    simd_width_bits: int = 256
    pim_compute_rate: float = 1.0
    orf_registers: int = 8
    irf_registers: int = 64
    orf_register_bits: int = 512
    irf_register_bits: int = 256
    # precision (bits)
    matrix_bits: int = 16
    vector_bits: int = 16
    accumulation_bits: int = 32
    # mapping
    mode: str = "real"
    interleave_bytes: int = 256
    tile_rows: int = 0
    tile_order: int = -1
    split_k: int = 1
    vector_registers: int = 64
    vector_register_file: str = "irf"
    check_output_registers: bool = True
    check_input_registers: bool = True
    single_input_register: bool = False
    # PIM command overheads
    free_cross_simd_reduction: bool = True
    shift_mode: str = "single"
    full_register_writes: bool = True
    spill_bits: int = 256
    mac_output_bits: int = 0
    acc_load_commands: int = 1
    acc_spill_commands: int = 0
    output_compact_commands: int = 0
    activation_commands: int = 0
    upcast_commands: int = 0
    host_turnaround_ns: float = 0.0
    vector_write_turnaround: bool = True
    hide_row_open: bool = False
    blocking_controller: bool = False
    readback: bool = True
    refresh: bool = True
    # baseline host
    host: str | RooflineHost = "T4"
    host_reads_vector: bool = True
    host_writes_output: bool = True
    # ASIC beside the PIM channels (PIM-GPT): non-linear functions and data movement
    asic_clock_ghz: float = 1.0
    asic_lanes: int = 32
    asic_pipeline_cycles: int = 12
    asic_buffer_kib: int = 64
    # energy (pJ) and area; None: the default of the device or precision (energy.py)
    io_pj_per_bit: float | None = None
    mac_pj: float | None = None
    alu_pj: float = 0.9
    asic_op_pj: float = 4.6
    dram_logic_area_factor: float = 1.0

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.type in ("int", "float") and (isinstance(v, bool)
                                               or not isinstance(v, int | float)):
                raise PimInputError(f"{f.name}={v!r}: a number is required")
            if f.type == "bool" and not isinstance(v, bool):
                raise PimInputError(f"{f.name}={v!r}: true or false is required")
        positive = ("stacks", "channels", "banks_per_channel", "row_bytes", "banks_per_pim_unit",
                    "alus_per_pim_unit", "simd_width_bits", "orf_registers", "irf_registers",
                    "orf_register_bits", "irf_register_bits", "matrix_bits", "vector_bits",
                    "accumulation_bits", "interleave_bytes", "asic_lanes")
        for n in positive:
            if getattr(self, n) < 1 or getattr(self, n) != int(getattr(self, n)):
                raise PimInputError(f"{n}={getattr(self, n)!r}: a positive integer is required")
        nonneg = ("spill_bits", "mac_output_bits", "acc_load_commands", "acc_spill_commands",
                  "output_compact_commands", "activation_commands", "upcast_commands",
                  "host_turnaround_ns", "asic_pipeline_cycles", "asic_buffer_kib", "alu_pj",
                  "asic_op_pj")
        for n in nonneg:
            if getattr(self, n) < 0:
                raise PimInputError(f"{n}={getattr(self, n)!r}: must be >= 0")
        for n in ("pim_compute_rate", "asic_clock_ghz", "dram_logic_area_factor"):
            if not getattr(self, n) > 0:
                raise PimInputError(f"{n}={getattr(self, n)!r}: must be > 0")
        for n in ("io_pj_per_bit", "mac_pj"):
            if getattr(self, n) is not None and getattr(self, n) < 0:
                raise PimInputError(f"{n}={getattr(self, n)!r}: must be >= 0")
        choices = {"mode": ("real", "optimistic"), "vector_register_file": ("irf", "orf",
                   "command"), "shift_mode": ("single", "minimum")}
        for n, allowed in choices.items():
            if getattr(self, n) not in allowed:
                raise PimInputError(f"{n}={getattr(self, n)!r}; allowed: {', '.join(allowed)}")
        if self.timing_ns is None and self.device not in PRESETS:
            raise PimInputError(f"device={self.device!r}; allowed: {', '.join(PRESETS)}")
        if self.timing_ns is not None:
            keys = tuple(k for k, _ in self.timing_ns)
            if sorted(keys) != sorted(TIMING_KEYS):
                raise PimInputError(f"timing_ns keys {keys}: exactly {', '.join(TIMING_KEYS)} "
                                    "are required")
            for k, v in self.timing_ns:
                if not isinstance(v, int | float) or v < 0 or (k == "tCCD" and v <= 0):
                    raise PimInputError(f"timing_ns {k}={v!r}: must be >= 0 (tCCD > 0)")
        if not isinstance(self.host, RooflineHost) and self.host not in HOSTS:
            raise PimInputError(f"host={self.host!r}; allowed: {', '.join(HOSTS)}")
        self._check_divisibility()
        if self.tile_rows not in (-1, 0) and not _pow2(self.tile_rows):
            raise PimInputError(f"tile_rows={self.tile_rows}: -1 (no padding), 0 (SIMD lanes) "
                                "or a power of two is required")
        if self.tile_rows > 0 and self.interleave_elements % self.tile_rows:
            raise PimInputError(f"tile_rows={self.tile_rows} must divide the "
                                f"{self.interleave_elements} elements of an interleave block")
        if self.tile_rows == -1 and self.mode == "optimistic":
            raise PimInputError("tile_rows=-1 (no padding) needs mode=real")
        if self.tile_order < -1:
            raise PimInputError(f"tile_order={self.tile_order}: -1, 0 or >= 1 is required")
        if self.tile_order == -1 and not (self.check_output_registers
                                          and self.check_input_registers):
            raise PimInputError("tile_order=-1 (fit the registers) needs "
                                "check_output_registers and check_input_registers true")
        if self.split_k not in (-1, 1) and (self.split_k < 1 or self.split_k % 2):
            raise PimInputError(f"split_k={self.split_k}: -1, 1 or an even number is required")
        if self.split_k > self.stacks * self.channels:
            raise PimInputError(f"split_k={self.split_k} exceeds the "
                                f"{self.stacks * self.channels} channels")
        if self.vector_register_file != "command" and self.vector_registers < 1:
            raise PimInputError(f"vector_registers={self.vector_registers}: >= 1 is required")

    def _check_divisibility(self) -> None:
        mb = self.matrix_bits
        rules = [
            (self.simd_width_bits % mb == 0, "simd_width_bits must be a multiple of matrix_bits"),
            (self.row_bytes * 8 % self.simd_width_bits == 0,
             "row_bytes x 8 must be a multiple of simd_width_bits"),
            (self.orf_register_bits % mb == 0,
             "orf_register_bits must be a multiple of matrix_bits"),
            (self.irf_register_bits % mb == 0,
             "irf_register_bits must be a multiple of matrix_bits"),
            (self.orf_registers % self.banks_per_pim_unit == 0,
             "orf_registers must be a multiple of banks_per_pim_unit"),
            (self.irf_registers % self.banks_per_pim_unit == 0,
             "irf_registers must be a multiple of banks_per_pim_unit"),
            (self.interleave_bytes * 8 % mb == 0 and self.interleave_bytes * 8 >= mb,
             "interleave_bytes must hold a whole number of matrix elements"),
            (self.interleave_bytes * 8 % self.simd_width_bits == 0,
             "interleave_bytes x 8 must be a multiple of simd_width_bits"),
            (self.accumulation_bits >= max(mb, self.vector_bits),
             "accumulation_bits must be >= matrix_bits and vector_bits"),
            (self.banks_per_channel % self.banks_per_pim_unit == 0,
             "banks_per_channel must be a multiple of banks_per_pim_unit"),
        ]
        for ok, msg in rules:
            if not ok:
                raise PimInputError(msg)

    # derived quantities -------------------------------------------------------------------
    @property
    def total_banks(self) -> int:
        return self.stacks * self.channels * self.banks_per_channel

    @property
    def total_channels(self) -> int:
        return self.stacks * self.channels

    @property
    def lanes(self) -> int:
        """Matrix elements in one SIMD word (one MAC command per bank)."""
        return self.simd_width_bits // self.matrix_bits

    @property
    def interleave_elements(self) -> int:
        return self.interleave_bytes * 8 // self.matrix_bits

    @property
    def words_per_row(self) -> int:
        return self.row_bytes * 8 // self.simd_width_bits

    @property
    def timing_dict(self) -> dict[str, float] | None:
        return None if self.timing_ns is None else dict(self.timing_ns)

    def replace(self, **changes: Any) -> PimConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "timing_ns" and v is not None:
                v = dict(v)
            elif isinstance(v, RooflineHost):
                v = v.to_dict()
            out[f.name] = v
        return out


FIELD_TYPES: dict[str, Any] = typing.get_type_hints(PimConfig)
KNOB_NAMES: tuple[str, ...] = tuple(f.name for f in fields(PimConfig))


def _coerce(name: str, value: Any, where: str) -> Any:
    """Convert a YAML or ``--set`` value to the type of field ``name``."""
    t = FIELD_TYPES[name]
    if name == "timing_ns":
        if value is None:
            return None
        if not isinstance(value, dict):
            raise PimInputError(f"{where}: key 'timing_ns' must map {', '.join(TIMING_KEYS)} "
                                "to ns")
        return tuple((k, value[k]) for k in TIMING_KEYS if k in value) + tuple(
            (k, v) for k, v in value.items() if k not in TIMING_KEYS)
    if name == "host":
        if isinstance(value, dict):
            try:
                tops = tuple(sorted((int(b), float(t)) for b, t in value["tops"].items()))
                return RooflineHost(name=str(value["name"]),
                                    matrix_gbps=float(value["matrix_gbps"]), tops=tops,
                                    power_w=float(value.get("power_w", 0.0)),
                                    vector_gbps=float(value.get("vector_gbps", 0.0)),
                                    output_gbps=float(value.get("output_gbps", 0.0)))
            except (KeyError, TypeError, ValueError, AttributeError, HostError) as e:
                raise PimInputError(f"{where}: key 'host': a host name or a mapping with name, "
                                    f"matrix_gbps, tops {{bits: TOPS}}, power_w ({e})") from e
        return str(value)
    optional = value is None or (isinstance(value, str) and value.lower() in ("none", "null"))
    if optional:
        if type(None) in typing.get_args(t):
            return None
        raise PimInputError(f"{where}: key {name!r} cannot be empty")
    base = [a for a in typing.get_args(t) if a is not type(None)] or [t]
    base_t = base[0]
    try:
        if base_t is bool:
            if isinstance(value, bool):
                return value
            s = str(value).strip().lower()
            if s in ("true", "1", "yes", "on"):
                return True
            if s in ("false", "0", "no", "off"):
                return False
            raise ValueError("true or false")
        if base_t is int:
            if isinstance(value, bool):
                raise ValueError("an integer")
            f = float(value)
            if f != int(f):
                raise ValueError("an integer")
            return int(f)
        if base_t is float:
            if isinstance(value, bool):
                raise ValueError("a number")
            f = float(value)
            if not math.isfinite(f):
                raise ValueError("a finite number")
            return f
        return str(value)
    except (TypeError, ValueError) as e:
        raise PimInputError(f"{where}: key {name!r} = {value!r}: {e} is required") from e


def config_from_mapping(data: dict[str, Any], where: str = "config",
                        base: PimConfig | None = None) -> PimConfig:
    """A config from a flat mapping of field names (our YAML), on top of ``base``."""
    if not isinstance(data, dict):
        raise PimInputError(f"{where}: a mapping of configuration keys is required")
    unknown = sorted(set(data) - set(KNOB_NAMES))
    if unknown:
        raise PimInputError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
                            f"allowed keys: {', '.join(KNOB_NAMES)}")
    changes = {k: _coerce(k, v, where) for k, v in data.items()}
    try:
        return (base or PimConfig()).replace(**changes)
    except PimInputError as e:
        raise PimInputError(f"{where}: {e}") from None


def apply_sets(config: PimConfig, sets: typing.Iterable[str]) -> PimConfig:
    """Apply ``key=value`` overrides (the CLI's ``--set``)."""
    changes: dict[str, Any] = {}
    for s in sets:
        key, sep, value = s.partition("=")
        key = key.strip()
        if not sep or not key:
            raise PimInputError(f"--set {s!r}: the form key=value is required")
        changes[key] = value.strip()
    return config_from_mapping(changes, where="--set", base=config) if changes else config


def shipped(folder: str) -> tuple[str, ...]:
    """Names of the YAML files shipped in ``simulators/pim/<folder>``."""
    d = resources.files("simulators.pim") / folder
    return tuple(sorted(p.name[:-5] for p in d.iterdir() if p.name.endswith(".yaml")))


def resolve(path: str | Path, folder: str, what: str) -> Path:
    """An existing file, else the shipped ``<folder>/<path>.yaml``; else a clear error."""
    p = Path(path)
    if p.exists():
        return p
    if str(path) in shipped(folder):
        return Path(str(resources.files("simulators.pim") / folder / f"{path}.yaml"))
    raise PimInputError(f"{path}: no such file or shipped {what} (shipped: "
                        f"{', '.join(shipped(folder))})")


def preset_names() -> tuple[str, ...]:
    """Names of the shipped YAML configurations."""
    return shipped("configs")


def read_config(path: str | Path) -> PimConfig:
    """Read our YAML configuration or a GeniePIM ``config.in`` file (or a shipped name)."""
    p = resolve(path, "configs", "configuration")
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise PimInputError(f"{p}: cannot read: {e}") from e
    from simulators.pim.geniepim import looks_like_geniepim, parse_geniepim

    if looks_like_geniepim(text):
        return parse_geniepim(text, str(p))
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise PimInputError(f"{p}: not valid YAML: {e}") from e
    return config_from_mapping(data if data is not None else {}, where=str(p))
