"""``archgym simulate pim``: GEMV and decoding, JSON and text, our YAML and GeniePIM files,
and errors that name what is wrong."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archgym.app.cli import app
from simulators.pim import gemv_command, model_command

REFERENCE = Path(__file__).with_name("geniepim_reference.json")


def run(*args: str):
    return CliRunner().invoke(app, ["simulate", "pim", *args])


def test_gemv_json_is_the_simulators_result():
    r = run("--gemv", "4000,1000,2", "--set", "tile_order=2", "--set", "split_k=2", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out == json.loads(json.dumps(gemv_command("4000,1000,2", "pim-gpt",
                                                     ["tile_order=2", "split_k=2"])))
    for key in ("pim_time_ns", "host_time_ns", "speedup", "commands", "breakdown_ns"):
        assert key in out
    assert out["speedup"] == pytest.approx(out["host_time_ns"] / out["pim_time_ns"])
    assert sum(out["breakdown_ns"].values()) == pytest.approx(out["pim_time_ns"])
    assert out["mapping"]["split_k"] == 2 and out["mapping"]["tile_order"] == 2


def test_gemv_on_a_geniepim_config_file(tmp_path):
    """GeniePIM's own base configuration (its config.in, one value per list) read from a
    file: our PIM time is within 15 % of GeniePIM's for its 8192 x 8192 GEMV."""
    case = json.loads(REFERENCE.read_text())["cases"][0]
    row = next(r for r in case["results"] if (r["M"], r["K"], r["N"]) == (8192, 8192, 1))
    path = tmp_path / "config.in"
    path.write_text("".join(f"{k}={v}\n" for k, v in case["config"].items()))
    r = run("--gemv", "8192,8192", "--config", str(path), "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["pim_time_ns"] == pytest.approx(row["pim_time_ns"], rel=0.15)
    assert out["host_time_ns"] == pytest.approx(row["host_time_ns"], rel=1e-9)


def test_model_json_is_the_simulators_result():
    r = run("--model", "gpt2", "--prompt", "4", "--tokens", "3", "--set", "asic_lanes=64",
            "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out == json.loads(json.dumps(model_command("gpt2", 4, 3, sets=["asic_lanes=64"])))
    assert out["tokens"] == 3 and out["tokens_per_s"] > out["host_tokens_per_s"]


def test_model_from_a_file(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text("name: tiny\nlayers: 2\nhidden: 256\nheads: 4\nffn: 1024\nvocab: 1000\n"
                    "context: 64\nactivation: relu\n")
    r = run("--model", str(path), "--prompt", "2", "--tokens", "2", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["model"] == "tiny"


#: a number with more than five significant digits after the point: float noise
NOISE = re.compile(r"\d\.\d{5,}|\d{2,}\.\d{4,}")


@pytest.mark.parametrize("args, expect", [
    (("--gemv", "4096,4096,2"), ("PIM time", " µs", "speed-up", "row_open", "mac", "wr_vector",
                                 "tiles of 16 rows x 8 columns")),
    (("--model", "gpt2", "--prompt", "4", "--tokens", "2"),
     ("tokens/s", "latency per token", " mJ", "mm^2", "ffn_down", "lm_head", "mac_array")),
])
def test_text_mode_has_units_and_no_float_noise(args, expect):
    r = run(*args)
    assert r.exit_code == 0, r.output
    for text in expect:
        assert text in r.stdout, text
    assert not NOISE.search(r.stdout), NOISE.search(r.stdout)


@pytest.mark.parametrize("args, message", [
    ((), "exactly one of --gemv"),
    (("--gemv", "8,8", "--model", "gpt2"), "exactly one of --gemv"),
    (("--gemv", "8"), "M,K or M,K,N"),
    (("--gemv", "8,8", "--set", "lanes=4"), "unknown key(s) 'lanes'"),
    (("--gemv", "8,8", "--set", "tile_rows=3"), "tile_rows=3"),
    (("--gemv", "8,8", "--config", "nosuch"), "shipped: client-lpddr5x, pim-gpt"),
    (("--model", "gpt5"), "shipped: gpt2"),
    (("--model", "gpt2", "--prompt", "1000", "--tokens", "100"), "exceeds gpt2's context"),
])
def test_errors_name_what_is_wrong(args, message):
    r = run(*args)
    assert r.exit_code == 2 and message in r.output, r.output


def test_malformed_config_file_names_the_file_and_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("channels: 8\nbanks_per_channel: many\n")
    r = run("--gemv", "8,8", "--config", str(path))
    assert r.exit_code == 2 and str(path) in r.output and "banks_per_channel" in r.output


def test_envs_describes_pim_v0_with_its_design_rules():
    r = CliRunner().invoke(app, ["envs", "archgym/PIM-v0"])
    assert r.exit_code == 0, r.output
    for text in ("5,400,000 designs", "constraints", "split_k_channels", "split_k <= channels",
                 "tokens_per_s", "throughput", "targets", "pareto"):
        assert text in r.stdout, text
