"""GPT decoding on PIM: the per-token operation sequence, ASIC timing, figures that add up,
workload scaling, entry functions and their errors."""

from __future__ import annotations

import math

import pytest

from simulators.pim import (
    DESIGN_KNOBS,
    PimConfig,
    PimInputError,
    evaluate_design,
    gemv_command,
    model_command,
    model_names,
    read_config,
    read_model,
    simulate_decoding,
    simulate_gemv,
)
from simulators.pim.gemv import pim_timing, run_channel
from simulators.pim.gpt import asic_cycles
from simulators.pim.host import HOSTS

SHIPPED = {"gpt2": (12, 768, 12, 3072), "gpt2-medium": (24, 1024, 16, 4096),
           "gpt2-large": (36, 1280, 20, 5120), "gpt2-xl": (48, 1600, 25, 6400),
           "opt-1.3b": (24, 2048, 32, 8192)}


def test_shipped_models():
    assert set(SHIPPED) <= set(model_names())
    for name, (layers, d, heads, f) in SHIPPED.items():
        m = read_model(name)
        assert (m.layers, m.hidden, m.heads, m.ffn) == (layers, d, heads, f)
    # GPT-2 small: 124 M parameters, of which position embeddings and biases are not GEMVs
    assert read_model("gpt2").parameters == pytest.approx(123.5e6, rel=0.01)
    assert read_model("opt-1.3b").activation == "relu"


def test_asic_cycles_by_hand():
    cfg = PimConfig(asic_lanes=32, asic_pipeline_cycles=12)
    assert asic_cycles("layernorm", 768, cfg) == 3 * 24 + 2 * 5 + 12
    assert asic_cycles("softmax", 100, cfg, groups=12) == 12 * (3 * 4 + 2 * 5 + 2 * 12)
    assert asic_cycles("gelu", 3072, cfg) == 96 + 12
    assert asic_cycles("argmax", 50257, cfg) == 1571 + 5


def test_one_token_is_the_sum_of_its_operations():
    cfg = read_config("pim-gpt")
    m = read_model("gpt2")
    r = simulate_decoding("gpt2", prompt=0, tokens=1, config=cfg)
    d, f, H, hd = m.hidden, m.ffn, m.heads, m.head_dim
    gemv = sum(simulate_gemv(M, K, 1, cfg).pim_time_ns
               for M, K in ((3 * d, d), (d, d), (f, d), (d, f)))
    # heads: 12 heads on 8 channels -> two rounds of one head per channel
    sub = cfg.replace(channels=1, split_k=1)
    attention = 2 * (simulate_gemv(1, hd, 1, sub).pim_time_ns
                     + simulate_gemv(hd, 1, 1, sub).pim_time_ns)
    t = pim_timing(cfg)
    kv = run_channel(cfg, t, (("wb", math.ceil(2 * d * 2 / 8 / 32), 0),)).time_ps / 1000
    asic = (2 * asic_cycles("layernorm", d, cfg) + asic_cycles("softmax", 1, cfg, H)
            + asic_cycles("gelu", f, cfg) + 2 * asic_cycles("residual", d, cfg))
    head = (asic_cycles("layernorm", d, cfg) + asic_cycles("argmax", m.vocab, cfg)
            + simulate_gemv(m.vocab, d, 1, cfg).pim_time_ns)
    expected = m.layers * (gemv + attention + kv + asic) + head
    assert r.decode_time_ns == pytest.approx(expected, rel=1e-12)
    assert sum(r.breakdown_ns.values()) == pytest.approx(r.decode_time_ns, rel=1e-12)
    assert r.breakdown_ns["lm_head"] == pytest.approx(
        simulate_gemv(m.vocab, d, 1, cfg).pim_time_ns)
    # host: the roofline of the same operations
    host = HOSTS["T4"]
    weights = sum(host.gemv_time_ns(M, K, 1, 16, 16)
                  for M, K in ((3 * d, d), (d, d), (f, d), (d, f)))
    assert r.host_latency_per_token_ns > m.layers * weights + host.gemv_time_ns(
        m.vocab, d, 1, 16, 16)


def test_figures_are_consistent():
    r = simulate_decoding("gpt2-medium", prompt=32, tokens=8)
    assert r.tokens_per_s * r.latency_per_token_ns == pytest.approx(1e9)
    assert r.energy_per_token_uj * 8 == pytest.approx(r.decode_energy_uj)
    assert sum(r.energy_breakdown_uj.values()) == pytest.approx(r.decode_energy_uj)
    assert r.speedup == pytest.approx(r.host_latency_per_token_ns / r.latency_per_token_ns)
    assert r.energy_ratio == pytest.approx(r.host_energy_per_token_uj / r.energy_per_token_uj)
    assert r.area_mm2["total"] == pytest.approx(r.area_mm2["pim_logic"] + r.area_mm2["asic"])
    assert r.prefill_time_ns > 0 and 0 < r.capacity_used < 1
    assert r.to_dict() == simulate_decoding("gpt2-medium", prompt=32, tokens=8).to_dict()


def test_decoding_scales_with_model_and_context():
    rates = [simulate_decoding(n, prompt=16, tokens=4).tokens_per_s
             for n in ("gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl")]
    assert rates == sorted(rates, reverse=True)
    short = simulate_decoding("gpt2", prompt=0, tokens=4)
    long = simulate_decoding("gpt2", prompt=900, tokens=4)
    # scores (ctx x 64 per head on 16 banks, 16-row tiles): 1 -> 4 row blocks per bank;
    # context (64 x ctx): every bank's row block grows with ctx
    b0, b1 = short.breakdown_ns, long.breakdown_ns
    assert 2.5 < b1["attention_scores"] / b0["attention_scores"] < 4.5
    assert b1["attention_context"] > 8 * b0["attention_context"]
    assert b1["softmax"] > 3 * b0["softmax"]
    assert long.latency_per_token_ns > short.latency_per_token_ns
    # the same weight GEMVs each token: decode time is linear in tokens at a fixed context
    for name in SHIPPED:
        assert simulate_decoding(name, prompt=8, tokens=2).speedup > 1


def test_workload_errors():
    with pytest.raises(PimInputError, match="exceeds gpt2's context of 1024"):
        simulate_decoding("gpt2", prompt=1000, tokens=100)
    with pytest.raises(PimInputError, match="tokens=0"):
        simulate_decoding("gpt2", prompt=1, tokens=0)
    with pytest.raises(PimInputError, match="gpt2-xl needs .* GiB .* holds"):
        simulate_decoding("gpt2-xl", 1, 1, PimConfig(channels=1, banks_per_channel=4))
    with pytest.raises(PimInputError, match="no such file or shipped model"):
        simulate_decoding("gpt5", 1, 1)


def test_model_files(tmp_path):
    p = tmp_path / "tiny.yaml"
    p.write_text("name: tiny\nlayers: 2\nhidden: 256\nheads: 4\nffn: 1024\nvocab: 1000\n"
                 "context: 128\n")
    r = model_command(str(p), prompt=4, tokens=2)
    assert r["model"] == "tiny" and r["tokens_per_s"] > 0
    p.write_text("name: tiny\nlayers: 2\nhidden: 250\nheads: 4\nffn: 1024\nvocab: 1000\n"
                 "context: 128\n")
    with pytest.raises(PimInputError, match="tiny.yaml: .*hidden=250 must be a multiple"):
        read_model(p)
    p.write_text("name: tiny\nlayers: 2\nhidden: 256\nheads: 4\nvocab: 1000\ncontext: 128\n"
                 "activation: swish\n")
    with pytest.raises(PimInputError, match=r"tiny.yaml: .*missing key\(s\) \['ffn'\]"):
        read_model(p)


def test_entry_functions():
    g = gemv_command("2048,1024,2", "pim-gpt", ["channels=4"])
    for key in ("pim_time_ns", "host_time_ns", "speedup", "commands", "breakdown_ns"):
        assert key in g
    assert g["N"] == 2 and g["speedup"] == pytest.approx(g["host_time_ns"] / g["pim_time_ns"])
    with pytest.raises(PimInputError, match="--gemv '2048': M,K or M,K,N"):
        gemv_command("2048")
    out = model_command("gpt2", 8, 2, sets=["asic_lanes=64"])
    assert out["tokens_per_s"] > 0 and out["config"] == "pim-gpt"


def test_evaluate_design():
    assert set(DESIGN_KNOBS) >= {"channels", "banks_per_channel", "banks_per_pim_unit",
                                 "simd_width_bits", "orf_registers", "irf_registers",
                                 "pim_compute_rate", "tile_rows", "tile_order", "split_k",
                                 "asic_lanes"}
    base = evaluate_design({}, "gpt2", 8, 2)
    more = evaluate_design({"channels": 16}, "gpt2", 8, 2)
    assert more["tokens_per_s"] > base["tokens_per_s"] and more["area_mm2"] > base["area_mm2"]
    slow_asic = evaluate_design({"asic_lanes": 8}, "gpt2", 8, 2)
    assert slow_asic["tokens_per_s"] < base["tokens_per_s"]
    assert slow_asic["area_mm2"] < base["area_mm2"]
    with pytest.raises(PimInputError, match=r"design: unknown key\(s\) 'lanes'"):
        evaluate_design({"lanes": 4})
