"""``archgym simulate memmap``: the JSON issue 11 section 4 asks for (placements accepted
by the independent checker), readable text, and clear errors with exit code 2."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from archgym.app.cli import app
from simulators.memmap import check, evaluate, placement_from_json
from workloads import memmap as workloads

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, ["simulate", "memmap", *args])


def as_json(*args) -> dict:
    r = invoke(*args, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@pytest.mark.parametrize("name", ["small_random14", "small_resnet"])
def test_json_per_policy_is_checked_and_ordered(name):
    p = workloads.load(name)
    out = {pol: as_json("--program", name, "--policy", pol, "--time-limit", "20")
           for pol in ("slow", "greedy", "optimal")}
    for pol, o in out.items():
        for key in ("total_time_s", "time_saved_s", "peak_fast_bytes", "valid", "placement"):
            assert key in o
        assert ("proven_optimal" in o) == (pol == "optimal")
        placement = placement_from_json(o["placement"], len(p.tensors))
        assert o["valid"] and check(p, placement) == []
        assert o["total_time_s"] == evaluate(p, placement).total_time_s
    assert out["optimal"]["proven_optimal"] is True
    assert out["slow"]["placement"] == [{"tier": "slow"}] * len(p.tensors)
    assert out["optimal"]["total_time_s"] <= out["greedy"]["total_time_s"] \
        <= out["slow"]["total_time_s"]


def test_a_program_file_gives_what_its_name_gives(tmp_path):
    f = tmp_path / "prog.json"
    f.write_text(workloads.program_path("small_mlp").read_text())
    assert as_json("--program", str(f)) == as_json("--program", "small_mlp")


def test_text_prints_units_without_float_noise():
    r = invoke("--program", "small_mlp", "--policy", "optimal")
    assert r.exit_code == 0, r.output
    o = as_json("--program", "small_mlp", "--policy", "optimal")
    assert f"{o['total_time_s'] * 1e6:.6g} us" in r.stdout
    assert "proven optimal" in r.stdout and "yes" in r.stdout
    assert not re.search(r"\d\.\d{7,}", r.stdout)  # no 17-digit floats


def test_errors_name_the_problem_and_exit_2(tmp_path):
    r = invoke("--program", "nope")
    assert r.exit_code == 2 and "shipped: gpt2_decode" in r.output
    r = invoke("--program", "small_mlp", "--policy", "random")
    assert r.exit_code == 2 and "policies: slow, greedy, optimal" in r.output
    r = invoke("--program", "small_mlp", "--policy", "optimal", "--time-limit", "0")
    assert r.exit_code == 2 and "--time-limit" in r.output
    bad = tmp_path / "bad.json"
    d = workloads.load("small_mlp").to_dict()
    d["ops"][1]["reads"] = [99]
    bad.write_text(json.dumps(d))
    r = invoke("--program", str(bad))
    assert r.exit_code == 2 and "bad.json" in r.output and "ops[1]" in r.output \
        and "'reads'" in r.output
