"""Configuration files: our YAML, GeniePIM's config.in, --set overrides; every malformed input
is refused with a message naming the file and the key."""

from __future__ import annotations

import pytest

from simulators.pim import PimConfig, PimInputError, apply_sets, read_config
from simulators.pim.config import KNOB_NAMES, preset_names
from simulators.pim.geniepim import KEYS
from simulators.pim.host import HOSTS

#: GeniePIM's config.in (v0.7.0) with its first host: the values, written by us.
GENIEPIM_BASE = {
    "STACK_COUNT": "1", "CHANNEL_PER_STACK": "8", "BANKS_PER_CHANNEL": "16",
    "DRAM_ROW_SIZE": "2048", "BANKS_PER_PIM_UNIT": "1", "PIM_ALU_PER_PIM_UNIT": "1",
    "ORF_REGISTERS_PER_PIM_ALU": "4", "IRF_REGISTERS_PER_PIM_ALU": "8", "SIMD_WIDTH": "256",
    "PIM_COMPUTE_RATE": "1", "PIM_ORF_REGISTER_SIZE": "512", "PIM_IRF_REGISTER_SIZE": "256",
    "MEMORY_INTERLEAVING_GRANULARITY_SIZE": "256", "IGNORE_HOST_VECTOR_WRITE_OVERHEAD": "False",
    "HOST_PEAK_MEM_COMPUTE":
        "IPU/MEM:120:1/4:66.352:1&6:44.235:1&8:33.176:1&16:16.588:1&32:8.294:1",
    "GEMM_MATRIX_INPUT_SRC": "MEM", "GEMM_VECTOR_INPUT_SRC": "MEM",
    "GEMM_VECTOR_OUTPUT_DEST": "MEM",
    "DRAM_PARAMTERS": "LPDDR5X/21/18/4.266667/42/18.13333333/12.00",
    "OPERAND_SIZE": "8", "ACT_OPERAND_SIZE": "8", "BLOCK_SIZE": "1",
    "PROCESS_SCALE_FACTORS_AT_HOST_FLAG": "False", "BLOCKED_INPUTS_FLAG": "True/True",
    "SCALE_FACTOR_OPERAND_SIZE": "16", "ASSUME_OPTIMIZED_SCALE_FACTORS_INTO_REGISTER_FLAG": "True",
    "ACT_SCALE_FACTOR_OPERAND_SIZE": "16", "ACCUMULATION_OPERAND_SIZE": "32",
    "SCALE_FACTOR_EXTRA_PIM_COMMANDS_OVERHEAD": "0",
    "REGISTERS_MULT_REQUIRED_FOR_ACCUMULATION": "1", "UPCASTING_PIM_COMMANDS_OVERHEAD": "0",
    "IGNORE_HOST_READ_INPUT_FLAG_FOR_HOST_EXEC": "True",
    "IGNORE_HOST_WRITE_OUTPUT_FLAG_FOR_HOST_EXEC": "True", "HIDE_ROW_OPEN_OVERHEAD_FLAG": "False",
    "IGNORE_HOST_READ_INPUT_FLAG_FOR_PIM_EXEC": "False",
    "IGNORE_HOST_READ_OUTPUT_FLAG_FOR_PIM_EXEC": "False", "PIM_EXECUTION_MODE": "REAL",
    "ACTIVATIONS_PIM_COMMANDS_OVERHEAD": "0", "REGISTERS_REQUIRED_FOR_VECTOR_SCALAR_DATA": "8/1",
    "REGISTERS_REQUIRED_FOR_VECTOR_SCALE_FACTOR_DATA": "1/1",
    "REGISTERS_REQUIRED_FOR_MATRIX_SCALE_FACTOR_DATA": "1/1",
    "IGNORE_OUTPUT_REGISTER_PRESSURE_FLAG": "True", "IGNORE_INPUT_REGISTER_PRESSURE_FLAG": "True",
    "PIM_TILE_SHAPE_DEGREE": "16", "PIM_TILE_ORDER_DEGREE": "4", "SPLIT_K_DEGREE": "1",
    "SHIFT_LANE_MODE": "0", "ASSUME_FULL_REGISTER_BEFORE_WRITE_TO_MEM": "True",
    "HOST_INDUCED_TURNAROUND_OVERHEAD": "0",
    "ACCUMULATION_REGISTER_LOAD_PIM_COMMANDS_OVERHEAD": "1",
    "ACCUMULATION_REGISTER_SPILL_PIM_COMMANDS_OVERHEAD": "0", "MEM_SPILL_SIZE": "256",
    "MAC_UNIT_OUTPUT_SIZE": "512", "ASSUME_MATRIX_SCALE_FACTORS_SMART_PACKING": "False",
    "OUTPUT_COMPACT_EXTRA_PIM_COMMANDS_OVERHEAD": "0", "ASSUME_FREE_CROSS_SIMD_REDUCTION": "True",
    "ASSUME_SINGLE_INPUT_REGISTER": "False",
}


def write_geniepim(path, values: dict[str, str], comment: bool = True) -> str:
    """Write ``values`` in GeniePIM's config.in format (KEY_LIST=value)."""
    lines = ["# PIM parameters", ""] if comment else []
    lines += [f"{k}_LIST={v}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_geniepim_reader_maps_every_key(tmp_path):
    assert set(GENIEPIM_BASE) == set(KEYS)
    cfg = read_config(write_geniepim(tmp_path / "config.in", GENIEPIM_BASE))
    assert (cfg.stacks, cfg.channels, cfg.banks_per_channel, cfg.row_bytes) == (1, 8, 16, 2048)
    assert (cfg.simd_width_bits, cfg.matrix_bits, cfg.accumulation_bits) == (256, 8, 32)
    assert (cfg.tile_rows, cfg.tile_order, cfg.split_k, cfg.mode) == (16, 4, 1, "real")
    assert (cfg.vector_registers, cfg.vector_register_file) == (8, "irf")
    assert not cfg.check_output_registers and not cfg.host_reads_vector
    assert cfg.timing_dict == {"tRP": 21, "tRCD": 18, "tCCD": 4.266667, "tRAS": 42,
                               "tRTW": 18.13333333, "tWTR": 12}
    assert cfg.device == "LPDDR5X_16Gb_x16_7500" and not cfg.refresh and not cfg.readback
    assert cfg.host.matrix_gbps == 120 and dict(cfg.host.tops)[8] == 33.176


@pytest.mark.parametrize("key,value,match", [
    ("SIMD_WIDTH", "256,512", r"line \d+: key SIMD_WIDTH_LIST lists 2 values"),
    ("BLOCK_SIZE", "32", "BLOCK_SIZE_LIST = 32: block-scaled"),
    ("HIDE_ROW_OPEN_OVERHEAD_FLAG", "maybe", "HIDE_ROW_OPEN_OVERHEAD_FLAG_LIST = 'maybe'"),
    ("DRAM_PARAMTERS", "SRAM/1/2/3/4/5/6", "DRAM_PARAMTERS_LIST: memory type 'SRAM'"),
    ("DRAM_PARAMTERS", "LPDDR5X/21/18", "DRAM_PARAMTERS_LIST.*type/tRP/tRCDRD"),
    ("SIMD_WIDTH", "100", "SIMD_WIDTH_LIST must be a multiple of OPERAND_SIZE_LIST"),
    ("BANKS_PER_CHANNEL", "sixteen", "BANKS_PER_CHANNEL_LIST = 'sixteen': a number"),
    ("PIM_TILE_SHAPE_DEGREE", "3", "PIM_TILE_SHAPE_DEGREE_LIST=3"),
    ("PIM_EXECUTION_MODE", "FAST", "PIM_EXECUTION_MODE_LIST = 'FAST'; allowed: REAL, OPTIM"),
    ("GEMM_MATRIX_INPUT_SRC", "L3", "GEMM_MATRIX_INPUT_SRC_LIST = 'L3'"),
    ("HOST_PEAK_MEM_COMPUTE", "IPU/DDR:1:1/8:1:1", "a MEM memory source is required"),
])
def test_malformed_geniepim_files_name_the_file_and_key(tmp_path, key, value, match):
    path = write_geniepim(tmp_path / "bad.in", {**GENIEPIM_BASE, key: value})
    with pytest.raises(PimInputError, match=match) as e:
        read_config(path)
    assert "bad.in" in str(e.value)


def test_geniepim_missing_unknown_and_repeated_keys(tmp_path):
    values = dict(GENIEPIM_BASE)
    del values["SPLIT_K_DEGREE"]
    with pytest.raises(PimInputError, match="missing key.*SPLIT_K_DEGREE_LIST"):
        read_config(write_geniepim(tmp_path / "a.in", values))
    with pytest.raises(PimInputError, match="unknown key FOO_LIST"):
        read_config(write_geniepim(tmp_path / "b.in", {**GENIEPIM_BASE, "FOO": "1"}))
    text = (tmp_path / "b.in").read_text() + "SIMD_WIDTH_LIST=256\n"
    (tmp_path / "c.in").write_text(text.replace("FOO_LIST=1\n", ""))
    with pytest.raises(PimInputError, match="c.in: line .*SIMD_WIDTH_LIST given twice"):
        read_config(tmp_path / "c.in")


def test_yaml_presets_and_errors(tmp_path):
    assert {"pim-gpt", "client-lpddr5x"} <= set(preset_names())
    assert read_config("pim-gpt") == PimConfig().replace(name="pim-gpt")
    lp = read_config("client-lpddr5x")
    assert lp.device == "LPDDR5X_16Gb_x16_7500" and lp.host == "client-soc"
    bad = tmp_path / "bad.yaml"
    bad.write_text("channels: 8\nbankz: 16\n")
    with pytest.raises(PimInputError, match=r"bad.yaml: unknown key\(s\) 'bankz'; allowed keys"):
        read_config(bad)
    bad.write_text("channels: many\n")
    with pytest.raises(PimInputError, match="bad.yaml: key 'channels' = 'many'"):
        read_config(bad)
    bad.write_text("tile_rows: 12\n")
    with pytest.raises(PimInputError, match="bad.yaml: tile_rows=12"):
        read_config(bad)
    bad.write_text("- a list\n")
    with pytest.raises(PimInputError, match="bad.yaml: a mapping"):
        read_config(bad)
    bad.write_text("channels: [8\n")
    with pytest.raises(PimInputError, match="bad.yaml: not valid YAML"):
        read_config(bad)
    bad.write_text("host: {name: x, matrix_gbps: 100}\n")
    with pytest.raises(PimInputError, match="bad.yaml: key 'host'"):
        read_config(bad)
    with pytest.raises(PimInputError, match="no such file or shipped configuration"):
        read_config(tmp_path / "missing.yaml")


def test_yaml_inline_host_and_timing(tmp_path):
    p = tmp_path / "h.yaml"
    p.write_text("host: {name: mygpu, matrix_gbps: 900, tops: {16: 100}, power_w: 300}\n"
                 "timing_ns: {tRP: 15, tRCD: 15, tCCD: 2, tRAS: 30, tRTW: 5, tWTR: 8}\n"
                 "refresh: false\n")
    cfg = read_config(p)
    assert cfg.host.matrix_gbps == 900 and cfg.timing_dict["tCCD"] == 2


def test_sets_are_typed_and_unknown_keys_list_the_allowed_ones():
    cfg = apply_sets(PimConfig(), ["channels=16", "refresh=false", "pim_compute_rate=0.5",
                                   "host=client-soc"])
    assert (cfg.channels, cfg.refresh, cfg.pim_compute_rate, cfg.host) == \
        (16, False, 0.5, "client-soc")
    with pytest.raises(PimInputError, match=r"--set: unknown key\(s\) 'chanels'") as e:
        apply_sets(PimConfig(), ["chanels=4"])
    assert all(k in str(e.value) for k in KNOB_NAMES)
    with pytest.raises(PimInputError, match="key=value"):
        apply_sets(PimConfig(), ["channels"])
    with pytest.raises(PimInputError, match="host='GPU'; allowed: " + ", ".join(HOSTS)):
        apply_sets(PimConfig(), ["host=GPU"])
    with pytest.raises(PimInputError, match="key 'channels' = '2.5': an integer"):
        apply_sets(PimConfig(), ["channels=2.5"])
