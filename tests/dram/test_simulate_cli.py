"""``archgym simulate dram`` in each of its three forms (preset and controller, a DRAMsim3
``.ini``, DRAMSys files) gives the simulator's own figures, and refuses mixed forms in the
command line's words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archgym.app.cli import app
from simulators.dram.dramsys_config import simulate_files
from simulators.dram.run import simulate_file
from tests.dram.test_dramsim3_ini import ddr4, write

ROOT = Path(__file__).resolve().parents[2]
TRACE = ROOT / "workloads" / "dram" / "traces" / "stream.trace.gz"
CONFIGS = ROOT / "tests" / "dram" / "dramsys_configs"
runner = CliRunner()


def sim(*args):
    return runner.invoke(app, ["simulate", "dram", "--trace", str(TRACE), *map(str, args)])


def test_dramsim3_options_with_dramsim3_names():
    r = sim("--controller", "dramsim3_like", "--set", "row_buf_policy=CLOSE_PAGE", "--json")
    assert r.exit_code == 0, r.output
    want, _ = simulate_file(TRACE, controller="dramsim3_like",
                            options={"row_buf_policy": "CLOSE_PAGE"})
    got = json.loads(r.stdout)
    assert got["num_act"] == want.num_act and got["avg_read_latency_ns"] == \
        want.avg_read_latency_ns
    open_page = json.loads(sim("--controller", "dramsim3_like", "--json").stdout)
    assert got["num_act"] > 10 * open_page["num_act"]  # close page: an ACT per access


def test_a_dramsim3_ini_names_device_and_controller(tmp_path):
    ini = write(tmp_path, ddr4())
    r = sim("--config", ini, "--json")
    assert r.exit_code == 0, r.output
    want, _ = simulate_file(TRACE, config=ini)
    assert json.loads(r.stdout)["avg_read_latency_ns"] == want.avg_read_latency_ns


def test_dramsys_files_give_dramsys_figures():
    files = (CONFIGS / "memspec_DDR4_8Gb_x8_2400_2rank.json",
             CONFIGS / "mcconfig_dram_v0_defaults.json")
    r = sim("--memspec", files[0], "--mcconfig", files[1], "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    want = simulate_files(TRACE, *files)
    for key in ("controller_latency_ns", "sim_time_ns", "bandwidth_gbps", "num_act",
                "energy_pj"):
        assert got[key] == want[key], key


@pytest.mark.parametrize("args, message", [
    (("--memspec", "m.json", "--preset", "DDR4_8Gb_x8_2400"), "--preset cannot go with"),
    (("--memspec", "m.json"), "needs both --memspec and --mcconfig"),
    (("--simconfig", "s.json"), "--simconfig belongs to DRAMSys files"),
    (("--config", "a.ini", "--preset", "DDR4_8Gb_x8_2400"), "either --config"),
    (("--controller", "dramsim3"), "--controller 'dramsim3': not allowed"),
    (("--controller", "dramsim3_like", "--set", "bogus=1"), "unknown dramsim3_like option"),
    (("--set", "PagePolicy=Foo"), "--set PagePolicy='Foo': not allowed"),
])
def test_mixed_or_bad_forms_are_refused_in_one_line(args, message):
    r = sim(*args)
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output, r.output
