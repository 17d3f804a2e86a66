"""SCALE-Sim topology CSVs and .cfg files: parsing, round trips, and errors that name the
file, the line and the field."""

import pytest

from simulators.accel import (
    AccelConfig,
    AccelInputError,
    Layer,
    format_config,
    format_topology,
    parse_config,
    parse_topology,
    read_config,
    read_topology,
    write_config,
    write_topology,
)

# SCALE-Sim v3's configs/scale.cfg, verbatim in content.
SCALE_CFG = """[general]
run_name = scale_example_run_32x32_ws

[architecture_presets]
ArrayHeight:    32
ArrayWidth:     32
IfmapSramSzkB:   64
FilterSramSzkB:  64
OfmapSramSzkB:   64
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10
Dataflow : ws
MemoryBanks:   1
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
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""


def test_scalesim_shipped_config():
    cfg = parse_config(SCALE_CFG)
    assert cfg == AccelConfig(32, 32, 64, 64, 64, "ws", "CALC", 10.0,
                              "scale_example_run_32x32_ws")


def test_eyeriss_style_keys_and_user_bandwidth_list():
    text = SCALE_CFG.replace("MemoryBanks:   1", "OnChipMemoryBanks: 1\nOnChipMemoryBankPorts: 2")
    text = text.replace("Bandwidth : 10", "Bandwidth : 25, 50").replace("CALC", "USER")
    cfg = parse_config(text)
    assert (cfg.interface_bandwidth, cfg.bandwidth) == ("USER", 25.0)


def test_config_round_trip(tmp_path):
    cfg = AccelConfig(12, 14, 3, 108, 7, "is", "USER", 2.5, "eyeriss_like")
    assert parse_config(format_config(cfg)) == cfg
    path = write_config(tmp_path / "x.cfg", cfg)
    assert read_config(path) == cfg
    assert [p.name for p in tmp_path.iterdir()] == ["x.cfg"]


@pytest.mark.parametrize(("edit", "message"), [
    (("ArrayHeight:    32", "ArrayHeight: 3x2"), "line 5: ArrayHeight must be a positive"),
    (("ArrayWidth:     32", "ArrayWidth: 0"), "line 6: ArrayWidth must be a positive"),
    (("Dataflow : ws", "Dataflow : rs"), "line 14: Dataflow must be one of os, ws, is"),
    (("MemoryBanks:   1", "Banks: 1"), "line 15: unknown key 'Banks' in [architecture_pre"),
    (("[layout]", "[layouts]"), "line 19: unknown section [layouts]"),
    (("CALC", "ESTIMATE"), "InterfaceBandwidth must be CALC or USER"),
    (("SparsitySupport : false", "SparsitySupport : true"), "sparsity is not modelled"),
    (("IfmapCustomLayout: False", "IfmapCustomLayout: maybe"), "line 20: IfmapCustomLayout must"),
    (("ArrayWidth:     32", "ArrayWidth: 32\nArrayWidth: 16"), "line 7: ArrayWidth is set twice"),
    (("ArrayWidth:     32\n", ""), "[architecture_presets] ArrayWidth is missing"),
    (("[general]", "ArrayHeight: 4\n[general]"), "line 1: key 'ArrayHeight' before any"),
    (("run_name = scale", "run_name scale"), "line 2: expected '[section]'"),
    (("Bandwidth : 10", "Bandwidth : fast"), "line 13: Bandwidth must be positive"),
])
def test_config_errors_name_file_and_line(edit, message):
    with pytest.raises(AccelInputError) as err:
        parse_config(SCALE_CFG.replace(*edit, 1), "my.cfg")
    assert str(err.value).startswith("my.cfg")
    assert message in str(err.value)


def test_layout_and_ramulator_flags_only_time_scalesims_user_mode():
    text = SCALE_CFG.replace("IfmapCustomLayout: False", "IfmapCustomLayout: True")
    text = text.replace("UseRamulatorTrace: False", "UseRamulatorTrace: True")
    assert parse_config(text) == parse_config(SCALE_CFG)


def test_user_mode_needs_bandwidth():
    text = SCALE_CFG.replace("Bandwidth : 10\n", "").replace("CALC", "USER")
    with pytest.raises(AccelInputError, match="Bandwidth is required when"):
        parse_config(text, "u.cfg")


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(AccelInputError, match="nope.cfg: cannot read config"):
        read_config(tmp_path / "nope.cfg")
    with pytest.raises(AccelInputError, match="nope.csv: cannot read topology"):
        read_topology(tmp_path / "nope.csv")


CONV = """Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, \
Num Filter, Strides,
Conv1,224,224,7,7,3,64,2,

Inc5b_3x3, 7, 7, 3, 3, 192, 384, 1
FC,1,1,1,1,512,1000,1,1:1,
"""


def test_conv_topology_rows_trailing_commas_and_blank_lines():
    layers = parse_topology(CONV)
    assert layers == [Layer("Conv1", 224, 224, 7, 7, 3, 64, 2),
                      Layer("Inc5b_3x3", 7, 7, 3, 3, 192, 384, 1),
                      Layer("FC", 1, 1, 1, 1, 512, 1000, 1)]
    # ceil((224 - 7 + 2) / 2) = 110: the 110 x 110 = 12100 SCALE-Sim notes beside Conv1
    assert (layers[0].ofmap_h, layers[0].m, layers[0].k) == (110, 12100, 147)


def test_gemm_topology_is_scalesims_encoding():
    (g,) = parse_topology("Layer, M, N, K,\nQKT,1024,1024,64,\n")
    assert g == Layer("QKT", 1024, 64, 1, 64, 1, 1024, 1)
    assert (g.m, g.n, g.k, g.is_gemm) == (1024, 1024, 64, True)


def test_depthwise_rows_split_per_channel_like_scalesim():
    layers = parse_topology("h\nConvDP1,10,10,3,3,4,1,1,\n")
    assert [layer.name for layer in layers] == [f"ConvDP1Channel_{i}" for i in range(4)]
    assert {layer.channels for layer in layers} == {1}


def test_topology_round_trip(tmp_path):
    layers = [Layer("a", 16, 13, 3, 3, 5, 7, 2), Layer.gemm("g", 37, 29, 53)]
    assert parse_topology(format_topology(layers)) == layers
    assert parse_topology(format_topology(layers[1:], "gemm")) == layers[1:]
    path = write_topology(tmp_path / "t.csv", layers)
    assert read_topology(path) == layers
    with pytest.raises(AccelInputError, match="is a convolution"):
        format_topology(layers, "gemm")


@pytest.mark.parametrize(("row", "message"), [
    ("L,10,10,3,3,8,20,", "line 2: expected 8 fields"),
    ("L,10,10,3,3,8,x,1,", "line 2: Num Filter must be a positive integer, got 'x'"),
    ("L,10,10,3,3,8,-2,1,", "line 2: Num Filter must be a positive integer, got -2"),
    ("L,10,10,3,3,8,20,1,2:4,", "sparsity ratio '2:4' is not modelled"),
    ("L,10,10,3,3,8,20,1,1:1,7,", "unexpected field '7'"),
    ("L,2,10,3,3,8,20,1,", "line 2: layer 'L': the 3x3 filter is larger than the 2x10 IFMAP"),
    (",10,10,3,3,8,20,1,", "line 2: Layer name is empty"),
])
def test_topology_errors_name_file_and_line(row, message):
    with pytest.raises(AccelInputError) as err:
        parse_topology("header\n" + row + "\n", "net.csv")
    assert str(err.value).startswith("net.csv: ")
    assert message in str(err.value)


def test_empty_topologies_are_refused():
    with pytest.raises(AccelInputError, match="t.csv: line 1: expected a header"):
        parse_topology("", "t.csv")
    with pytest.raises(AccelInputError, match="t.csv: no layer rows"):
        parse_topology("Layer, M, N, K,\n\n", "t.csv")


def test_config_and_layer_validation():
    with pytest.raises(AccelInputError, match="dataflow must be one of"):
        AccelConfig(8, 8, 1, 1, 1, "rs")
    with pytest.raises(AccelInputError, match="bandwidth must be a positive"):
        AccelConfig(8, 8, 1, 1, 1, "os", "USER", 0)
    with pytest.raises(AccelInputError, match="GEMM 'g': K must be a positive"):
        Layer.gemm("g", 3, 4, 0)
