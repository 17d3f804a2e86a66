"""Reading DRAMSys v5 configuration files: every key DRAMSys v5.1 knows is accepted, keys the
model does not simulate are warned about, anything wrong names the file and the key."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from simulators.dram import PRESETS, AddressMapping, ControllerConfig, simulate
from simulators.dram.dramsys_config import (
    MC_DEFAULTS,
    DramsysConfigError,
    DramsysConfigWarning,
    load_setup,
    read_addressmapping,
    read_mcconfig,
    read_memspec,
    read_simconfig,
    simulate_files,
)
from simulators.dram.mapping import BitMapping
from simulators.dram.trace import Trace, write_trace

CFG = Path(__file__).with_name("dramsys_configs")
MEMSPEC = CFG / "memspec_DDR4_8Gb_x8_2400_2rank.json"
AM = CFG / "am_DDR4_2rank_rochrababgco.json"
DEV = PRESETS["DDR4_8Gb_x8_2400"]

#: the thirteen keys of DRAMSys v5.1's example mcconfigs (configs/mcconfig/*.json)
EXAMPLE_MC = {"PagePolicy": "Open", "Scheduler": "FrFcfs", "SchedulerBuffer": "Bankwise",
              "RequestBufferSize": 8, "CmdMux": "Oldest", "RespQueue": "Fifo",
              "RefreshPolicy": "AllBank", "RefreshMaxPostponed": 0, "RefreshMaxPulledin": 0,
              "PowerDownPolicy": "NoPowerDown", "Arbiter": "Simple",
              "MaxActiveTransactions": 128, "RefreshManagement": False}
#: the keys of DRAMSys v5.1's example simconfigs
EXAMPLE_SIM = {"AddressOffset": 0, "CheckTLM2Protocol": False, "DatabaseRecording": True,
               "Debug": False, "EnableWindowing": False, "PowerAnalysis": False,
               "SimulationName": "example", "SimulationProgressBar": True,
               "StoreMode": "NoStorage", "UseMalloc": False, "WindowSize": 1000}
#: a DDR3 memspec with the keys DRAMSys v5.1's DDR3 examples hold (Micron 1 Gb x8 DDR3-1600)
DDR3 = {"memspec": {
    "memarchitecturespec": {"burstLength": 8, "dataRate": 2, "nbrOfBanks": 8,
                            "nbrOfColumns": 1024, "nbrOfRanks": 1, "nbrOfRows": 16384,
                            "width": 8, "nbrOfDevices": 8, "nbrOfChannels": 1},
    "memoryId": "ddr3-test", "memoryType": "DDR3",
    "mempowerspec": {"idd0": 70.0, "idd2n": 45.0, "idd2p0": 12.0, "idd2p1": 30.0,
                     "idd3n": 45.0, "idd3p0": 35.0, "idd3p1": 35.0, "idd4r": 140.0,
                     "idd4w": 145.0, "idd5": 170.0, "idd6": 8.0, "vdd": 1.5},
    "memtimingspec": {"AL": 0, "CCD": 4, "CKE": 3, "CKESR": 4, "CL": 11, "DQSCK": 0,
                      "FAW": 24, "RAS": 28, "RC": 39, "RCD": 11, "REFI": 6240, "RFC": 88,
                      "RL": 11, "RP": 11, "RRD": 5, "RTP": 6, "WL": 8, "WR": 12, "WTR": 6,
                      "XP": 5, "XPDLL": 20, "XS": 96, "XSDLL": 512, "ACTPDEN": 1,
                      "PRPDEN": 1, "REFPDEN": 1, "RTRS": 1, "tCK": 1250}}}


def write(tmp_path, name, obj) -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(obj) if not isinstance(obj, str) else obj)
    return p


def quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DramsysConfigWarning)
        return fn(*a, **k)


def test_memspec_maps_onto_the_preset():
    """The shipped DDR4-2400 memspec describes DDR4_8Gb_x8_2400 (tCK 833 ps, not 830)."""
    d = quiet(read_memspec, MEMSPEC)
    want = DEV.replace(name=d.name, source=d.source, tCK_ns=0.833)
    assert d == want
    assert d.RL == 17 and d.WL == 12 and d.tRC == 56 and d.bytes_per_burst == 64


def test_ddr3_memspec_and_its_warnings(tmp_path):
    out: list[str] = []
    with pytest.warns(DramsysConfigWarning, match="XSDLL"):
        d = read_memspec(write(tmp_path, "ddr3.json", DDR3), out)
    assert (d.protocol, d.bankgroups, d.banks_per_group, d.tCCD_S, d.tCCD_L) == \
        ("DDR3", 1, 8, 4, 4)
    assert d.tWTR_S == d.tWTR_L == 6 and d.tRRD_S == d.tRRD_L == 5 and d.VDD == 1.5
    assert d.tRC == 28 + 11 == DDR3["memspec"]["memtimingspec"]["RC"]
    assert not any("tRC is taken" in w for w in out)
    other = json.loads(json.dumps(DDR3))
    other["memspec"]["memtimingspec"]["RC"] = 40
    with pytest.warns(DramsysConfigWarning, match=r"tRC is taken as RAS \+ RP = 39.*RC = 40"):
        assert read_memspec(write(tmp_path, "rc.json", other)).tRC == 39


def test_fine_granularity_refresh(tmp_path):
    ms = json.loads(MEMSPEC.read_text())
    ms["memspec"]["memtimingspec"]["REFM"] = 4
    d = quiet(read_memspec, write(tmp_path, "m.json", ms))
    assert d.tREFI == 9360 // 4 and d.tRFC == 192


@pytest.mark.parametrize("edit, match", [
    (lambda m: m["memtimingspec"].pop("RCD"), r"m\.json: memspec\.memtimingspec\.RCD is missing"),
    (lambda m: m["memarchitecturespec"].pop("nbrOfDevices"),
     r"memarchitecturespec\.nbrOfDevices is missing"),
    (lambda m: m.update(memoryType="HBM2"), r"memoryType = 'HBM2'.*allowed: DDR3, DDR4, LPDDR4"),
    (lambda m: m["memtimingspec"].update(RAS=-3), r"memtimingspec\.RAS = -3: expected an integ"),
    (lambda m: m["memtimingspec"].update(REFM=3), r"REFM = 3: allowed 1, 2, 4"),
    (lambda m: m["memarchitecturespec"].update(dataRate=1), r"dataRate = 1"),
    (lambda m: m["memarchitecturespec"].update(nbrOfBanks=10), r"multiple of nbrOfBankGroups"),
    (lambda m: m.update(mempowerspecs={}), r"unknown key\(s\) \['mempowerspecs'\]"),
    (lambda m: m["mempowerspec"].pop("idd4w"), r"mempowerspec\.idd4w is missing"),
])
def test_memspec_errors_name_file_and_key(tmp_path, edit, match):
    ms = json.loads(MEMSPEC.read_text())
    edit(ms["memspec"])
    with pytest.raises(DramsysConfigError, match=match):
        quiet(read_memspec, write(tmp_path, "m.json", ms))


def test_json_errors_and_comments(tmp_path):
    text = MEMSPEC.read_text()
    bad = text.replace('"nbrOfChannels": 1', '"nbrOfChannels": 1,', 1)  # trailing comma
    line = bad[:bad.index('"nbrOfChannels": 1,')].count("\n") + 2
    with pytest.raises(DramsysConfigError, match=rf"m\.json:{line}:\d+: invalid JSON"):
        read_memspec(write(tmp_path, "m.json", bad))
    commented = "// DRAMSys (nlohmann::json) ignores comments\n" + text.replace(
        '"width": 8,', '"width": 8, /* bits, "per device" */')
    assert quiet(read_memspec, write(tmp_path, "c.json", commented)) == \
        quiet(read_memspec, MEMSPEC).replace(source="DRAMSys memspec c.json")
    with pytest.raises(DramsysConfigError, match="key 'memspec'"):
        read_memspec(write(tmp_path, "w.json", json.loads(text)["memspec"]))
    with pytest.raises(DramsysConfigError, match="no such memspec file"):
        read_memspec(tmp_path / "missing.json")


def test_mcconfig_example_keys_and_defaults(tmp_path):
    out: list[str] = []
    c = read_mcconfig(write(tmp_path, "mc.json", {"mcconfig": EXAMPLE_MC}), out)
    assert c == ControllerConfig(RefreshMaxPostponed=0, RefreshMaxPulledin=0)
    assert out == []
    # missing keys take DRAMSys v5.1's defaults (McConfig.h), e.g. 64 active transactions
    d = read_mcconfig(write(tmp_path, "empty.json", {"mcconfig": {}}))
    assert d.to_dict() == MC_DEFAULTS and d.MaxActiveTransactions == 64
    assert read_mcconfig(write(tmp_path, "alias.json", {"mcconfig": {
        "RefreshPolicy": "Rankwise"}})).RefreshPolicy == "AllBank"


def test_mcconfig_not_modelled_settings_warn(tmp_path):
    mc = {**EXAMPLE_MC, "CmdMux": "Strict", "PowerDownPolicy": "Staggered",
          "ThinkDelayFw": 2, "BlockingReadDelay": 10}
    with pytest.warns(DramsysConfigWarning) as rec:
        read_mcconfig(write(tmp_path, "mc.json", {"mcconfig": mc}))
    msg = " ".join(str(r.message) for r in rec)
    assert 'CmdMux = "Strict"' in msg and 'PowerDownPolicy = "Staggered"' in msg
    assert "ThinkDelayFw = 2" in msg and "BlockingReadDelay" not in msg  # no effect on traces


def test_mcconfig_readwrite_buffer_sizes(tmp_path):
    mc = {**EXAMPLE_MC, "SchedulerBuffer": "ReadWrite"}
    with pytest.warns(DramsysConfigWarning, match="RequestBufferSize is ignored"):
        c = read_mcconfig(write(tmp_path, "a.json", {"mcconfig": mc}))
    assert c.RequestBufferSize == 8  # DRAMSys's RequestBufferSizeRead/Write default
    mc.pop("RequestBufferSize")
    c = read_mcconfig(write(tmp_path, "b.json", {"mcconfig": {
        **mc, "RequestBufferSizeRead": 16, "RequestBufferSizeWrite": 16}}))
    assert c.RequestBufferSize == 16
    with pytest.raises(DramsysConfigError, match=r"c\.json: mcconfig\.RequestBufferSizeRead"):
        read_mcconfig(write(tmp_path, "c.json", {"mcconfig": {
            **mc, "RequestBufferSizeRead": 16, "RequestBufferSizeWrite": 8}}))


@pytest.mark.parametrize("key, value, match", [
    ("PagePolicy", "Opened", r"mc\.json: mcconfig\.PagePolicy = 'Opened': allowed Open"),
    ("Scheduler", "GrpFrFcfs", r"'GrpFrFcfs' is not modelled; allowed: Fifo"),
    ("RefreshPolicy", "PerBank", r"'PerBank' is not modelled"),
    ("RequestBufferSize", 0, r"RequestBufferSize = 0: expected an integer >= 1"),
    ("RefreshMaxPostponed", 9, r"RefreshMaxPostponed = 9: at most 8 \(JEDEC\)"),
    ("MaxActiveTransactions", True, r"expected an integer"),
    ("CmdMux", "Newest", r"CmdMux = 'Newest': allowed Oldest, Strict"),
    ("RefreshManagement", "no", r"expected true or false"),
    ("Pagepolicy", "Open", r"unknown key\(s\) \['Pagepolicy'\]"),
])
def test_mcconfig_errors(tmp_path, key, value, match):
    with pytest.raises(DramsysConfigError, match=match):
        quiet(read_mcconfig, write(tmp_path, "mc.json", {"mcconfig": {**EXAMPLE_MC,
                                                                     key: value}}))


def test_simconfig(tmp_path):
    assert read_simconfig(write(tmp_path, "s.json", {"simconfig": EXAMPLE_SIM})) == 0
    with pytest.warns(DramsysConfigWarning, match="SimulationTime"):
        off = read_simconfig(write(tmp_path, "t.json", {"simconfig": {
            **EXAMPLE_SIM, "AddressOffset": 4096, "SimulationTime": 1e-3}}))
    assert off == 4096
    with pytest.raises(DramsysConfigError, match="StoreMode = 'ErrorModel'"):
        read_simconfig(write(tmp_path, "u.json", {"simconfig": {"StoreMode": "ErrorModel"}}))


def test_contiguous_mapping_becomes_the_dramsim3_string():
    m = read_addressmapping(AM, DEV)
    assert isinstance(m, AddressMapping)
    probe = np.uint64(1) << np.arange(34, dtype=np.uint64)
    got, want = m.decode(probe), AddressMapping("rochrababgco", DEV).decode(probe)
    assert all(np.array_equal(got[k], want[k]) for k in want)


def test_bit_mapping_with_xor_decodes_like_dramsys(tmp_path):
    # DRAMSys v5 XOR entry: bank bit 0 = address bit 15 XOR bit 18 (the row's lowest bit)
    am = json.loads(AM.read_text())
    am["addressmapping"]["BANK_BIT"] = [[15, 18], 16]
    out: list[str] = []
    m = read_addressmapping(write(tmp_path, "x.json", am), DEV, out)
    assert isinstance(m, BitMapping) and not out
    rng = np.random.default_rng(0)
    a = rng.integers(0, 1 << 34, 2000, dtype=np.uint64)
    f = m.decode(a)
    bit = lambda k: ((a >> np.uint64(k)) & np.uint64(1)).astype(np.int64)  # noqa: E731
    assert np.array_equal(f["bank"], (bit(15) ^ bit(18)) | (bit(16) << 1))
    assert np.array_equal(f["row"], (a >> np.uint64(18)).astype(np.int64) & 0xFFFF)
    assert np.array_equal(f["column"], (a >> np.uint64(6)).astype(np.int64) & 0x7F)
    # the same mapping without XOR simulates exactly as its DRAMsim3 string
    plain = BitMapping(tuple((k, tuple((p,) for p in v))
                             for k, v in json.loads(AM.read_text())["addressmapping"].items()),
                       DEV)
    tr = Trace(a[:400] & np.uint64(~63 & ((1 << 34) - 1)), np.zeros(400, bool),
               np.arange(400) * 7)
    ctrl = ControllerConfig(RefreshPolicy="NoRefresh")
    assert simulate(tr, controller=ctrl, mapping=plain).to_dict() | {"mapping": "-"} == \
        simulate(tr, controller=ctrl, mapping="rochrababgco").to_dict() | {"mapping": "-"}


@pytest.mark.parametrize("edit, match", [
    (lambda a: a.update(ROW_BIT=a["ROW_BIT"][:-1]), r"ROW_BIT has 15 bits; the device needs 16"),
    (lambda a: a.update(BANK_BIT=[15, 15]), "used by two fields"),
    (lambda a: a.update(BYTE_BIT=[1, 2, 3], COLUMN_BIT=[0] + a["COLUMN_BIT"][1:]),
     "BYTE_BIT must be the lowest"),
    (lambda a: a.update(STACK_BIT=[34]), r"STACK_BIT \(HBM\) is not modelled"),
    (lambda a: a.update(ROW_BITS=[1]), r"unknown key\(s\) \['ROW_BITS'\]"),
])
def test_mapping_errors(tmp_path, edit, match):
    am = json.loads(AM.read_text())
    edit(am["addressmapping"])
    with pytest.raises(DramsysConfigError, match=match):
        read_addressmapping(write(tmp_path, "am.json", am), DEV)


def test_old_xor_key_is_ignored_with_a_warning(tmp_path):
    am = json.loads(AM.read_text())
    am["addressmapping"]["XOR"] = [{"FIRST": 15, "SECOND": 18}]
    with pytest.warns(DramsysConfigWarning, match="XOR is DRAMSys 4 syntax"):
        m = read_addressmapping(write(tmp_path, "am.json", am), DEV)
    assert isinstance(m, AddressMapping)


def test_simulate_files_prints_the_cli_figures(tmp_path):
    rng = np.random.default_rng(3)
    n = 600
    addr = rng.integers(0, 1 << 26, n, dtype=np.uint64) * np.uint64(64)
    tr = Trace(addr, rng.random(n) < 0.3, np.cumsum(rng.integers(0, 20, n)))
    write_trace(tr, tmp_path / "t.trace")
    mc = write(tmp_path, "mc.json", {"mcconfig": EXAMPLE_MC})
    with pytest.warns(DramsysConfigWarning):
        out = simulate_files(tmp_path / "t.trace", MEMSPEC, mc, AM)
    json.dumps(out)
    setup = quiet(load_setup, MEMSPEC, mc, AM)
    ref = simulate(tr, device=setup.device, controller=setup.controller, mapping=setup.mapping)
    for key in ("sim_time_ns", "bandwidth_gbps", "num_act", "energy_pj"):
        assert out[key] == getattr(ref, key)
    assert out["controller_latency_ns"] == ref.avg_latency_ns
    assert out["warnings"] and all("not modelled" in w for w in out["warnings"])
    # the trace player's clock: at 600 MHz cycle c arrives at ceil(c / 0.6 GHz / tCK)
    slow = simulate_files(tmp_path / "t.trace", MEMSPEC, mc, AM, clk_mhz=600)
    tck_ps = 833
    cyc = -(-np.round(tr.cycle * (1e6 / 600)).astype(np.int64) // tck_ps)
    ref = simulate(Trace(tr.addr, tr.is_write, cyc), device=setup.device,
                   controller=setup.controller, mapping=setup.mapping)
    assert slow["sim_time_ns"] == ref.sim_time_ns > out["sim_time_ns"]
    # simconfig AddressOffset is subtracted from every address
    sim = write(tmp_path, "sim.json", {"simconfig": {**EXAMPLE_SIM, "AddressOffset": 1 << 30}})
    write_trace(Trace(tr.addr + np.uint64(1 << 30), tr.is_write, tr.cycle), tmp_path / "o.trace")
    shifted = quiet(simulate_files, tmp_path / "o.trace", MEMSPEC, mc, AM, sim)
    assert shifted["sim_time_ns"] == out["sim_time_ns"] and shifted["num_act"] == out["num_act"]
    with pytest.raises(DramsysConfigError, match="below the simconfig AddressOffset"):
        quiet(simulate_files, tmp_path / "t.trace", MEMSPEC, mc, AM, sim)
