"""Shipped programs and generators: files equal the generators' output, known parameter
counts and FLOPs of the real models, loader errors."""

from __future__ import annotations

import json

import pytest

from simulators.memmap import ProgramError, read_program
from workloads import memmap as workloads
from workloads.memmap import mlp, resnet, transformer


def test_shipped_files_are_the_generated_programs():
    made = workloads.shipped_programs()
    assert sorted(made) == workloads.available()
    for name, program in made.items():
        on_disk = json.loads(workloads.program_path(name).read_text())
        assert on_disk == json.loads(json.dumps(program.to_dict())), name


def test_small_programs_have_8_to_20_tensors():
    small = [n for n in workloads.available() if n.startswith("small_")]
    assert len(small) >= 6
    for name in small:
        assert 8 <= len(workloads.load(name).tensors) <= 20, name


def weight_elements(p, dtype_bytes=2):
    return sum(t.size for t in p.tensors if t.kind == "weight") // dtype_bytes


def test_gpt2_small_parameter_count():
    """GPT-2 small has 124,439,808 parameters, 786,432 of them position embeddings (not
    modelled: a lookup); per layer 7,087,872."""
    p = workloads.load("gpt2_decode")
    assert weight_elements(p) == 124_439_808 - 1024 * 768
    one = transformer("decode", layers=1, hidden=768, heads=12, seq_len=10, final_norm=False)
    assert weight_elements(one) == 7_087_872
    caches = [t for t in p.tensors if t.kind == "kv_cache"]
    assert len(caches) == 24 and all(t.size == 1023 * 768 * 2 for t in caches)


def test_resnet18_parameters_and_flops():
    """torchvision's ResNet-18: 11,689,512 parameters, of which 9,600 are batch-norm scales
    and shifts over 4,800 channels; folding leaves one bias per channel. About 1.82 GMACs
    per 224x224 image."""
    p = resnet()
    assert weight_elements(p) == 11_689_512 - 4_800
    conv_flops = sum(o.flops for o in p.ops if "conv" in o.name or o.name == "fc")
    assert conv_flops / 2 == pytest.approx(1.82e9, rel=0.02)
    assert len([o for o in p.ops if "conv" in o.name]) == 20


def test_mlp_shapes_and_flops():
    p = mlp([8, 16, 4], batch=2, dtype_bytes=4)
    assert [t.size for t in p.tensors] == [64, 512, 64, 128, 128, 256, 16, 32, 32]
    assert [o.flops for o in p.ops] == [2 * 2 * 8 * 16 + 32, 8 * 32, 2 * 2 * 16 * 4 + 8, 40]


def test_prefill_attention_flops_are_causal():
    p = transformer("prefill", layers=1, hidden=64, heads=2, seq_len=8, kv_cache=True)
    qk = next(o for o in p.ops if o.name == "l0.qk")
    assert qk.flops == 2 * (8 * 9 // 2) * 64 + 2 * (8 * 9 // 2)
    assert any(o.name == "l0.kv_store" for o in p.ops)


def test_generator_arguments_are_checked():
    with pytest.raises(ValueError, match="hidden"):
        transformer("decode", layers=1, hidden=100, heads=3, seq_len=4)
    with pytest.raises(ValueError, match="phase"):
        transformer("train", layers=1, hidden=64, heads=2, seq_len=4)
    with pytest.raises(ValueError, match="KV cache"):
        transformer("decode", layers=1, hidden=64, heads=2, seq_len=4, kv_cache=False)
    with pytest.raises(ValueError, match="batch"):
        mlp([4, 4], batch=0)


def test_load_by_name_or_file(tmp_path):
    assert workloads.load("small_mlp").name == "small_mlp"
    f = tmp_path / "mine.json"
    f.write_text(workloads.program_path("small_mlp").read_text())
    assert workloads.load(str(f)) == read_program(f)
    with pytest.raises(ValueError, match="shipped: .*gpt2_decode"):
        workloads.load("gpt3")
    with pytest.raises(FileNotFoundError):
        workloads.load(str(tmp_path / "missing.json"))
    f.write_text("{}")
    with pytest.raises(ProgramError, match="mine.json"):
        workloads.load(str(f))
