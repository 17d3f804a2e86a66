"""PyTorch importer: expected tensors, sizes and FLOPs from hand counts; views alias; no
weights allocated; the simulator imports without torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from simulators.memmap import Hierarchy, check, evaluate, greedy
from simulators.memmap.torch_import import TorchImportError, from_torch
from workloads.memmap.torch_models import gpt_stack

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

H = Hierarchy(1 << 20, 3.2e12, 256, 6e11, 1e14)


def test_mlp_tensors_sizes_and_flops():
    m = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 8))
    p = from_torch(m, [(4, 16)], hierarchy=H, name="mlp")
    by_name = {t.name: t for t in p.tensors}
    assert {n: t.size for n, t in by_name.items()} == {
        "0.weight": 32 * 16 * 4, "0.bias": 32 * 4, "2.weight": 8 * 32 * 4, "2.bias": 8 * 4,
        "input": 4 * 16 * 4, "linear": 4 * 32 * 4, "relu": 4 * 32 * 4, "linear_1": 4 * 8 * 4}
    assert by_name["input"].kind == "input" and by_name["0.weight"].kind == "weight"
    assert by_name["linear_1"].kind == "output"
    assert [(o.name, o.flops) for o in p.ops] == [
        ("linear", 2 * 4 * 16 * 32), ("relu", 4 * 32), ("linear_1", 2 * 4 * 32 * 8)]
    names = [[p.tensors[i].name for i in o.operands] for o in p.ops]
    assert sorted(names[0]) == ["0.bias", "0.weight", "input", "linear"]
    assert check(p, greedy(p)) == []


@pytest.fixture(scope="module")
def block_program():
    m = gpt_stack(2, 64, 4, dtype=torch.bfloat16)
    return m, from_torch(m, [(2, 16, 64)], hierarchy=H, name="gpt2x")


def test_transformer_block_views_alias_and_counts(block_program):
    m, p = block_program
    weights = [t for t in p.tensors if t.kind == "weight"]
    assert len(weights) == 12 * 2  # 6 modules x (weight, bias) per block
    assert sum(t.size for t in weights) == 2 * sum(q.numel() for q in m.parameters())
    # per block: ln1, qkv, sdpa, proj, add, ln2, fc, gelu, fc2, add (views are not ops)
    assert len(p.ops) == 20
    sdpa = next(o for o in p.ops if o.name.startswith("scaled_dot_product_attention"))
    (qkv,) = sdpa.reads  # q, k and v are views of the fused QKV output
    assert p.tensors[qkv].size == 2 * 16 * 192 * 2
    assert sdpa.flops == 2 * (2 * 2 * 4 * 16 * 16 * 16)  # QK^T and PV, 2 FLOPs per MAC
    activations = [t for t in p.tensors if t.kind in ("activation", "output")]
    assert len(activations) == len(p.ops) and len(p.tensors) == 24 + 1 + 20
    assert all(t.size == 2 * 16 * 64 * 2 for t in activations
               if t.name.startswith(("add", "layer_norm")))
    r = evaluate(p, greedy(p))
    assert r.valid and r.time_saved_s > 0


def test_nothing_is_allocated(block_program):
    m, _ = block_program
    assert all(q.device.type == "meta" for q in m.parameters())


def test_cnn_with_batch_norm():
    m = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU()).eval()
    p = from_torch(m, [(1, 3, 8, 8)], hierarchy=H)
    conv = p.ops[0]
    assert conv.flops == 2 * (8 * 8 * 8) * 3 * 3 * 3
    assert all(t.size > 0 for t in p.tensors)
    assert {t.name for t in p.tensors if t.kind == "weight"} >= {
        "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var"}


def test_bad_inputs():
    with pytest.raises(TorchImportError, match="example_inputs\\[0\\]"):
        from_torch(nn.Linear(2, 2), ["x"], hierarchy=H)
    with pytest.raises(TorchImportError, match="torch.nn.Module"):
        from_torch(lambda x: x, [(2,)], hierarchy=H)
    with pytest.raises(TorchImportError, match="could not trace"):
        from_torch(nn.Linear(2, 2), [(3, 5)], hierarchy=H)


def test_simulator_imports_without_torch():
    code = ("import sys, simulators.memmap, workloads.memmap; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_one_billion_parameters_import_without_allocation():
    m = gpt_stack(24, 2048, 16, dtype=torch.bfloat16)
    n = sum(q.numel() for q in m.parameters())
    assert n > 1.2e9
    p = from_torch(m, [(1, 128, 2048)], hierarchy=H)
    assert sum(t.size for t in p.tensors if t.kind == "weight") == 2 * n
