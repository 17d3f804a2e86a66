"""DRAMsim3 ``.ini`` files: read as DRAMsim3 reads them, errors that name file, line, section
and key, warnings where DRAMsim3 silently does something else."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from simulators.dram import PRESETS, Dramsim3Like
from simulators.dram.dramsim3_ini import Dramsim3IniError, read_dramsim3_ini

CONFIGS = json.loads((Path(__file__).with_name("dramsim3_options_reference.json"))
                     .read_text())["configs"]


def write(tmp_path, sections: dict, name: str = "cfg.ini") -> Path:
    text = "".join(f"[{s}]\n" + "".join(f"{k} = {v}\n" for k, v in kv.items())
                   for s, kv in sections.items())
    p = tmp_path / name
    p.write_text(text)
    return p


def ddr4(**changes) -> dict:
    cfg = json.loads(json.dumps(CONFIGS["DDR4_8Gb_x8_2400.ini"]))
    for key, v in changes.items():
        section, k = key.split("__")
        if v is None:
            cfg[section].pop(k)
        else:
            cfg[section][k] = v
    return cfg


def test_dramsim3_ddr4_config_is_our_preset(tmp_path):
    ini = read_dramsim3_ini(write(tmp_path, ddr4()))
    preset = PRESETS["DDR4_8Gb_x8_2400"]
    assert dataclasses.replace(ini.device, name=preset.name, source=preset.source) == preset
    assert ini.controller == Dramsim3Like() and ini.mapping == "rochrababgco"
    assert not ini.warnings


def test_ranks_bank_groups_and_bursts_follow_dramsim3(tmp_path):
    # channel_size 8192 MB of 8 x 8 Gb devices (8 GB per rank): one rank
    one = read_dramsim3_ini(write(tmp_path, ddr4(system__channel_size=8192)))
    assert one.device.ranks == 1
    small = read_dramsim3_ini(write(tmp_path, ddr4(system__channel_size=1024)))
    assert small.device.ranks == 1 and "one rank" in " ".join(small.warnings)
    # no bank groups: the _L timings take the _S values; tCCD never below a burst
    flat = read_dramsim3_ini(write(tmp_path, ddr4(dram_structure__bankgroup_enable="false",
                                                  timing__tCCD_S=2)))
    d = flat.device
    assert (d.bankgroups, d.banks_per_group) == (1, 16)
    assert d.tCCD_L == d.tCCD_S == d.burst_cycles and d.tRRD_L == d.tRRD_S
    assert d.tWTR_L == d.tWTR_S


def test_ddr3_misspelt_key_takes_dramsim3s_default_and_says_so(tmp_path):
    ini = read_dramsim3_ini(write(tmp_path, CONFIGS["DDR3_4Gb_x8_1600.ini"], "ddr3.ini"))
    text = "\n".join(ini.warnings)
    assert "unknown key [timing] REFI" in text and "tREFI=7800" in text
    assert ini.device.tREFI == 7800  # DRAMsim3's default, since the file says REFI
    assert ini.device.bankgroups == 1 and ini.device.tCCD_L == ini.device.tCCD_S


def test_controller_section_and_ignored_keys(tmp_path):
    ini = read_dramsim3_ini(write(tmp_path, ddr4(
        system__row_buf_policy="CLOSE_PAGE", system__queue_structure="PER_RANK",
        system__unified_queue="True", system__cmd_queue_size="0x10",
        system__write_buf_size=4, system__aggressive_precharging_enabled="on")))
    c = ini.controller
    assert (c.row_buf_policy, c.queue_structure, c.unified_queue, c.cmd_queue_size) == (
        "CLOSE_PAGE", "PER_RANK", True, 16)
    # read but unused by DRAMsim3: ignored here too, with a warning naming the line
    assert c.write_buf_size is None and not c.aggressive_precharging_enabled
    assert sum("read but unused by DRAMsim3" in w for w in ini.warnings) == 2
    assert any(w.startswith(f"{tmp_path / 'cfg.ini'}:") and "[system] write_buf_size" in w
               for w in ini.warnings)


@pytest.mark.parametrize("changes, expect", [
    ({"timing__CL": "seventeen"}, r"cfg\.ini:\d+: \[timing\] CL = 'seventeen': expected an "
                                  r"integer"),
    ({"timing__tCK": "fast"}, r"\[timing\] tCK = 'fast': expected a number"),
    ({"system__unified_queue": "maybe"}, r"\[system\] unified_queue = 'maybe': expected true"),
    ({"dram_structure__protocol": "GDDR6"}, r"\[dram_structure\] protocol = GDDR6: .*BL/16"),
    ({"dram_structure__protocol": "HBM2"}, r"protocol = HBM2: .*dual command"),
    ({"dram_structure__protocol": "DDR9"}, r"protocol = 'DDR9' is not a DRAMsim3 protocol"),
    ({"dram_structure__BL": 0}, r"\[dram_structure\] BL = 0 asks DRAMsim3 for ideal"),
    ({"dram_structure__rows": 3000}, r"\[dram_structure\] rows = 3000: must be a power of two"),
    ({"system__enable_self_refresh": "true"}, r"\[system\] enable_self_refresh = true"),
    ({"system__row_buf_policy": "HALF_OPEN"}, r"\[system\] row_buf_policy: .*OPEN_PAGE, "
                                              r"CLOSE_PAGE"),
    ({"system__refresh_policy": "BANK_LEVEL_STAGGERED"}, r"refresh_policy = "
                                                         r"BANK_LEVEL_STAGGERED: DDR4 has no"),
    ({"system__address_mapping": "rorochrababg"}, r"\[system\] address_mapping: .*each of"),
    ({"system__channel_size": 24576}, r"channel_size = 24576 MB makes 3 ranks"),
])
def test_bad_values_name_file_line_section_and_key(tmp_path, changes, expect):
    with pytest.raises(Dramsim3IniError, match=expect):
        read_dramsim3_ini(write(tmp_path, ddr4(**changes)))


def test_missing_keys_take_dramsim3s_defaults(tmp_path):
    ini = read_dramsim3_ini(write(tmp_path, ddr4(timing__tFAW=None, power__IDD4R=None)))
    assert ini.device.tFAW == 50 and ini.device.IDD4R == 135  # configuration.cc defaults
    assert any("tFAW=50" in w for w in ini.warnings)


def test_syntax_errors_and_missing_file(tmp_path):
    p = tmp_path / "x.ini"
    p.write_text("[timing\nCL = 17\n")
    with pytest.raises(Dramsim3IniError, match=r"x\.ini:1: section header"):
        read_dramsim3_ini(p)
    p.write_text("[timing]\nCL 17\n")
    with pytest.raises(Dramsim3IniError, match=r"x\.ini:2: \[timing\] cannot read 'CL 17'"):
        read_dramsim3_ini(p)
    with pytest.raises(FileNotFoundError, match="nope.ini"):
        read_dramsim3_ini(tmp_path / "nope.ini")
    assert issubclass(Dramsim3IniError, ValueError)
