"""Reader of AMD GeniePIM's ``config.in`` format (one value per list).

GeniePIM (AMD Research, v0.7.0; github.com/AMDResearch/AMDGeniePIM) describes a PIM system,
its host and its GEMV mapping in ``KEY_LIST=value`` lines; every list may hold several
comma-separated values that GeniePIM sweeps. We accept one value per list and map each key to
a :class:`~simulators.pim.config.PimConfig` field (the table below). Lines holding ``#`` are
comments, as in GeniePIM. Semantics we take from GeniePIM's accounting (``docs/pim-fidelity.md``
lists them): the DRAM tuple gives ns timings without refresh; every term adds up (a blocking
controller: no command overlaps another's slot or a bus turnaround); the final output
read-back is
not part of the PIM time (GeniePIM reports it but leaves it out of ``pim_time_ns``); the
split-K partial outputs are read at the host's memory bandwidth.

Block-scaled (MX) formats (``BLOCK_SIZE_LIST`` > 1) are not modelled: such a file is refused
with an error naming the key; their other keys are then irrelevant, as in GeniePIM.
"""

from __future__ import annotations

import re
from typing import Any

from simulators.pim.config import FIELD_TYPES, PimConfig, PimInputError, config_from_mapping
from simulators.pim.host import RooflineHost

#: GeniePIM key (without ``_LIST``) -> our field (None: accepted and checked, not used)
KEYS: dict[str, str | None] = {
    "STACK_COUNT": "stacks",
    "CHANNEL_PER_STACK": "channels",
    "BANKS_PER_CHANNEL": "banks_per_channel",
    "DRAM_ROW_SIZE": "row_bytes",
    "BANKS_PER_PIM_UNIT": "banks_per_pim_unit",
    "PIM_ALU_PER_PIM_UNIT": "alus_per_pim_unit",
    "ORF_REGISTERS_PER_PIM_ALU": "orf_registers",
    "IRF_REGISTERS_PER_PIM_ALU": "irf_registers",
    "SIMD_WIDTH": "simd_width_bits",
    "PIM_COMPUTE_RATE": "pim_compute_rate",
    "PIM_ORF_REGISTER_SIZE": "orf_register_bits",
    "PIM_IRF_REGISTER_SIZE": "irf_register_bits",
    "MEMORY_INTERLEAVING_GRANULARITY_SIZE": "interleave_bytes",
    "IGNORE_HOST_VECTOR_WRITE_OVERHEAD": "vector_write_turnaround",
    "HOST_PEAK_MEM_COMPUTE": "host",
    "GEMM_MATRIX_INPUT_SRC": None,
    "GEMM_VECTOR_INPUT_SRC": None,
    "GEMM_VECTOR_OUTPUT_DEST": None,
    "DRAM_PARAMTERS": "timing_ns",
    "OPERAND_SIZE": "matrix_bits",
    "ACT_OPERAND_SIZE": "vector_bits",
    "BLOCK_SIZE": None,
    "PROCESS_SCALE_FACTORS_AT_HOST_FLAG": None,
    "BLOCKED_INPUTS_FLAG": None,
    "SCALE_FACTOR_OPERAND_SIZE": None,
    "ASSUME_OPTIMIZED_SCALE_FACTORS_INTO_REGISTER_FLAG": None,
    "ACT_SCALE_FACTOR_OPERAND_SIZE": None,
    "ACCUMULATION_OPERAND_SIZE": "accumulation_bits",
    "SCALE_FACTOR_EXTRA_PIM_COMMANDS_OVERHEAD": None,
    "REGISTERS_MULT_REQUIRED_FOR_ACCUMULATION": None,
    "UPCASTING_PIM_COMMANDS_OVERHEAD": "upcast_commands",
    "IGNORE_HOST_READ_INPUT_FLAG_FOR_HOST_EXEC": "host_reads_vector",
    "IGNORE_HOST_WRITE_OUTPUT_FLAG_FOR_HOST_EXEC": "host_writes_output",
    "HIDE_ROW_OPEN_OVERHEAD_FLAG": "hide_row_open",
    "IGNORE_HOST_READ_INPUT_FLAG_FOR_PIM_EXEC": None,
    "IGNORE_HOST_READ_OUTPUT_FLAG_FOR_PIM_EXEC": None,
    "PIM_EXECUTION_MODE": "mode",
    "ACTIVATIONS_PIM_COMMANDS_OVERHEAD": "activation_commands",
    "REGISTERS_REQUIRED_FOR_VECTOR_SCALAR_DATA": "vector_registers",
    "REGISTERS_REQUIRED_FOR_VECTOR_SCALE_FACTOR_DATA": None,
    "REGISTERS_REQUIRED_FOR_MATRIX_SCALE_FACTOR_DATA": None,
    "IGNORE_OUTPUT_REGISTER_PRESSURE_FLAG": "check_output_registers",
    "IGNORE_INPUT_REGISTER_PRESSURE_FLAG": "check_input_registers",
    "PIM_TILE_SHAPE_DEGREE": "tile_rows",
    "PIM_TILE_ORDER_DEGREE": "tile_order",
    "SPLIT_K_DEGREE": "split_k",
    "SHIFT_LANE_MODE": "shift_mode",
    "ASSUME_FULL_REGISTER_BEFORE_WRITE_TO_MEM": "full_register_writes",
    "HOST_INDUCED_TURNAROUND_OVERHEAD": "host_turnaround_ns",
    "ACCUMULATION_REGISTER_LOAD_PIM_COMMANDS_OVERHEAD": "acc_load_commands",
    "ACCUMULATION_REGISTER_SPILL_PIM_COMMANDS_OVERHEAD": "acc_spill_commands",
    "MEM_SPILL_SIZE": "spill_bits",
    "MAC_UNIT_OUTPUT_SIZE": "mac_output_bits",
    "ASSUME_MATRIX_SCALE_FACTORS_SMART_PACKING": None,
    "OUTPUT_COMPACT_EXTRA_PIM_COMMANDS_OVERHEAD": "output_compact_commands",
    "ASSUME_FREE_CROSS_SIMD_REDUCTION": "free_cross_simd_reduction",
    "ASSUME_SINGLE_INPUT_REGISTER": "single_input_register",
}
NEGATED = {"IGNORE_HOST_VECTOR_WRITE_OVERHEAD", "IGNORE_HOST_READ_INPUT_FLAG_FOR_HOST_EXEC",
           "IGNORE_HOST_WRITE_OUTPUT_FLAG_FOR_HOST_EXEC", "IGNORE_OUTPUT_REGISTER_PRESSURE_FLAG",
           "IGNORE_INPUT_REGISTER_PRESSURE_FLAG"}
FLAGS = NEGATED | {
    "HIDE_ROW_OPEN_OVERHEAD_FLAG", "IGNORE_HOST_READ_INPUT_FLAG_FOR_PIM_EXEC",
    "IGNORE_HOST_READ_OUTPUT_FLAG_FOR_PIM_EXEC", "PROCESS_SCALE_FACTORS_AT_HOST_FLAG",
    "ASSUME_OPTIMIZED_SCALE_FACTORS_INTO_REGISTER_FLAG", "ASSUME_FULL_REGISTER_BEFORE_WRITE_TO_MEM",
    "ASSUME_MATRIX_SCALE_FACTORS_SMART_PACKING", "ASSUME_FREE_CROSS_SIMD_REDUCTION",
    "ASSUME_SINGLE_INPUT_REGISTER"}
#: GeniePIM DRAM type -> our preset used for energy (GeniePIM models no energy)
DRAM_TYPES = {"LPDDR5X": "LPDDR5X_16Gb_x16_7500", "LPDDR5": "LPDDR5X_16Gb_x16_7500",
              "GDDR6": "GDDR6_8Gb_x16_16000", "HBM2": "HBM2_PC_2000", "HBM": "HBM2_PC_2000",
              "DDR4": "DDR4_8Gb_x8_2400", "LPDDR4": "LPDDR4_8Gb_x16_3200",
              "DDR3": "DDR3_4Gb_x8_1600"}
#: GeniePIM host ids whose power we know (for the energy ratio; 0 W otherwise)
HOST_POWER_W = {"IPU": 28.0, "NPU": 28.0, "CLIENT-SOC": 28.0, "T4": 70.0}

_LINE = re.compile(r"^\s*([A-Z0-9_]+)_LIST\s*=", re.M)


def looks_like_geniepim(text: str) -> bool:
    """True if ``text`` has GeniePIM ``KEY_LIST=value`` lines."""
    return bool(_LINE.search(text))


def _flag(value: str, key: str, where: str) -> bool:
    v = value.strip().lower()
    if v not in ("true", "false"):
        raise PimInputError(f"{where}: key {key}_LIST = {value!r}: True or False is required")
    return v == "true"


def _number(value: str, key: str, where: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise PimInputError(f"{where}: key {key}_LIST = {value!r}: a number is required") from None


def _host(value: str, srcs: dict[str, str], where: str) -> RooflineHost:
    """``id/MEM:peak:util&.../bits:TOPS:eff&...`` -> a roofline host."""
    key = "HOST_PEAK_MEM_COMPUTE"
    parts = value.split("/")
    if len(parts) != 3:
        raise PimInputError(f"{where}: key {key}_LIST = {value!r}: the form "
                            "id/MEM:peak:util&.../bits:TOPS:eff&... is required")

    def table(text: str, what: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for item in text.split("&"):
            f = item.split(":")
            if len(f) != 3 or f[0] in out:
                raise PimInputError(f"{where}: key {key}_LIST: {what} entry {item!r} must be "
                                    "name:peak:utilisation, each name once")
            out[f[0]] = _number(f[1], key, where) * _number(f[2], key, where)
            if out[f[0]] <= 0:
                raise PimInputError(f"{where}: key {key}_LIST: {what} entry {item!r} must be "
                                    "> 0")
        return out

    mems = table(parts[1], "memory")
    comp = table(parts[2], "compute")
    if "MEM" not in mems:
        raise PimInputError(f"{where}: key {key}_LIST: a MEM memory source is required")
    bw = {}
    for role, src_key in (("matrix", "GEMM_MATRIX_INPUT_SRC"), ("vector", "GEMM_VECTOR_INPUT_SRC"),
                          ("output", "GEMM_VECTOR_OUTPUT_DEST")):
        src = srcs[src_key]
        if src not in mems:
            raise PimInputError(f"{where}: key {src_key}_LIST = {src!r}: allowed sources "
                                f"(from HOST_PEAK_MEM_COMPUTE_LIST): {', '.join(mems)}")
        bw[role] = mems[src]
    try:
        tops = tuple(sorted((int(b), t) for b, t in comp.items()))
    except ValueError:
        raise PimInputError(f"{where}: key {key}_LIST: compute entries must start with operand "
                            "bits") from None
    hid = parts[0]
    return RooflineHost(name=hid, matrix_gbps=bw["matrix"], vector_gbps=bw["vector"],
                        output_gbps=bw["output"], tops=tops,
                        power_w=HOST_POWER_W.get(hid.upper(), 0.0))


def parse_geniepim(text: str, where: str = "config.in") -> PimConfig:
    """A :class:`PimConfig` from the text of a GeniePIM ``config.in`` file."""
    raw: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or "#" in s:
            continue
        name, sep, value = s.partition("=")
        name = name.strip()
        if not sep or not name.endswith("_LIST"):
            raise PimInputError(f"{where}: line {n}: {s!r} is not a KEY_LIST=value line")
        key = name[: -len("_LIST")]
        if key not in KEYS:
            raise PimInputError(f"{where}: line {n}: unknown key {name}; allowed keys: "
                                f"{', '.join(k + '_LIST' for k in KEYS)}")
        if key in raw:
            raise PimInputError(f"{where}: line {n}: key {name} given twice")
        values = [v.strip() for v in value.split(",")]
        if len(values) != 1 or not values[0]:
            raise PimInputError(f"{where}: line {n}: key {name} lists {len(values)} values "
                                f"({value.strip()!r}); one value per list is required")
        raw[key] = values[0]
    missing = [k + "_LIST" for k in KEYS if k not in raw]
    if missing:
        raise PimInputError(f"{where}: missing key(s) {', '.join(missing)} (GeniePIM has no "
                            "defaults)")
    if _number(raw["BLOCK_SIZE"], "BLOCK_SIZE", where) != 1:
        raise PimInputError(f"{where}: key BLOCK_SIZE_LIST = {raw['BLOCK_SIZE']}: block-scaled "
                            "(MX) formats are not modelled; allowed: 1")
    for k in FLAGS:
        _flag(raw[k], k, where)
    out: dict[str, Any] = {"name": where.rsplit("/", 1)[-1], "refresh": False,
                           "readback": False, "blocking_controller": True}
    for key, field in KEYS.items():
        if field is None or key in ("HOST_PEAK_MEM_COMPUTE", "DRAM_PARAMTERS"):
            continue
        v = raw[key]
        if key in FLAGS:
            flag = _flag(v, key, where)
            out[field] = (not flag) if key in NEGATED else flag
        elif key == "PIM_EXECUTION_MODE":
            modes = {"REAL": "real", "OPTIM": "optimistic"}
            if v not in modes:
                raise PimInputError(f"{where}: key {key}_LIST = {v!r}; allowed: REAL, OPTIM")
            out[field] = modes[v]
        elif key == "SHIFT_LANE_MODE":
            if v not in ("0", "1"):
                raise PimInputError(f"{where}: key {key}_LIST = {v!r}; allowed: 0, 1")
            out[field] = "single" if v == "0" else "minimum"
        elif key == "REGISTERS_REQUIRED_FOR_VECTOR_SCALAR_DATA":
            count, _, kind = v.partition("/")
            files = {"0": "orf", "1": "irf"}
            out["vector_register_file"] = files.get(kind.strip(), "command")
            out[field] = int(_number(count, key, where))
        else:
            num = _number(v, key, where)
            if FIELD_TYPES[field] is int and num != int(num):
                raise PimInputError(f"{where}: key {key}_LIST = {v!r}: an integer is required")
            out[field] = num
    srcs = {k: raw[k] for k in ("GEMM_MATRIX_INPUT_SRC", "GEMM_VECTOR_INPUT_SRC",
                                "GEMM_VECTOR_OUTPUT_DEST")}
    out["host"] = _host(raw["HOST_PEAK_MEM_COMPUTE"], srcs, where)
    d = raw["DRAM_PARAMTERS"].split("/")
    if len(d) != 7:
        raise PimInputError(f"{where}: key DRAM_PARAMTERS_LIST = {raw['DRAM_PARAMTERS']!r}: "
                            "the form type/tRP/tRCDRD/tCCDL/tRAS/tRTW/tWTR is required")
    kind = d[0].strip().upper()
    if kind not in DRAM_TYPES:
        raise PimInputError(f"{where}: key DRAM_PARAMTERS_LIST: memory type {d[0]!r}; allowed: "
                            f"{', '.join(DRAM_TYPES)}")
    out["device"] = DRAM_TYPES[kind]
    vals = [_number(x, "DRAM_PARAMTERS", where) for x in d[1:]]
    out["timing_ns"] = dict(zip(("tRP", "tRCD", "tCCD", "tRAS", "tRTW", "tWTR"), vals,
                                strict=True))
    host = out.pop("host")
    try:
        return config_from_mapping(out, where=where).replace(host=host)
    except PimInputError as e:
        raise PimInputError(_geniepim_names(str(e))) from None


def _geniepim_names(message: str) -> str:
    """Name GeniePIM's keys instead of our fields in an error message."""
    for key, field in KEYS.items():
        if field and field not in ("host", "timing_ns"):
            message = re.sub(rf"\b{field}\b", f"{key}_LIST", message)
    return message


def reference_pim_time(row: dict, mapping: dict, total_banks: int) -> float:
    """GeniePIM's ``pim_time_ns`` with its split-K padding rescaled to the rows really held.

    With split-K ``s`` and padding, GeniePIM pads to ``pim_gemm_m = M + (R - s M/(m B)) m B``
    rows at the full K width, where a bank of a split-K group holds ``R m`` rows K/s wide; its
    row-open and MAC parts scale with the rows, so they are rescaled by
    ``R m B / (s pim_gemm_m)`` (``docs/pim-fidelity.md``). ``row`` is a reference record
    (``pim_time_ns``, ``pim_rows`` = ``pim_gemm_m``, ``M``, ``parts_ns``), ``mapping`` our
    mapping of the same GEMV.
    """
    if mapping["split_k"] == 1 or row["pim_rows"] == row["M"]:
        return row["pim_time_ns"]
    true_rows = mapping["row_blocks"] * mapping["tile_rows"] * total_banks / mapping["split_k"]
    parts = row["parts_ns"]
    rescaled = parts.get("pim_row_overhead_time_ns", 0) + parts.get("pim_gemm_time_ns", 0)
    return row["pim_time_ns"] - rescaled * (1 - true_rows / row["pim_rows"])
