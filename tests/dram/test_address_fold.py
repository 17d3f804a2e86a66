"""Addresses beyond the device's capacity: folded onto it as DRAMsim3 folds them (each field
masked, i.e. address mod capacity), with one warning per device and mapping that says so."""

import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

from archgym.app.cli import app
from simulators.dram import PRESETS, AddressMapping, Trace, simulate
from simulators.dram import mapping as mapping_module
from simulators.dram.mapping import AddressFoldWarning


def trace(addr):
    addr = np.asarray(addr, dtype=np.uint64)
    return Trace(addr, np.zeros(addr.size, bool), np.arange(addr.size, dtype=np.int64) * 4, "t")


def test_beyond_capacity_is_folded_modulo_capacity_and_warned_once(monkeypatch):
    monkeypatch.setattr(mapping_module, "_FOLD_WARNED", set())
    bits = AddressMapping("rochrababgco", PRESETS["DDR4_8Gb_x8_2400"]).address_bits
    assert bits == 34  # 2 ranks x 8 devices x 8 Gb = 16 GiB
    rng = np.random.default_rng(0)
    inside = rng.integers(0, 1 << bits, size=200, dtype=np.uint64) & ~np.uint64(63)
    high = rng.integers(1, 1 << 20, size=200, dtype=np.uint64) << np.uint64(bits)
    with pytest.warns(AddressFoldWarning, match=r"16 GiB.*address mod 2\^34"):
        folded = simulate(trace(inside | high))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # in range: no warning; and the same pair: once only
        plain = simulate(trace(inside))
        simulate(trace(inside | high))
    assert folded.to_dict() == plain.to_dict()


def test_cli_says_how_the_address_is_folded(tmp_path, monkeypatch):
    monkeypatch.setattr(mapping_module, "_FOLD_WARNED", set())
    path = tmp_path / "big.trace"
    path.write_text("0xFFFFFFFFFFFFFF READ 0\n0x40 READ 4\n")
    r = CliRunner().invoke(app, ["simulate", "dram", "--trace", str(path)])
    assert r.exit_code == 0, r.output
    assert "warning: trace addresses reach beyond" in r.output
    assert "folded onto the device as address mod 2^34" in r.output
    assert "Traceback" not in r.output and "warnings.warn" not in r.output
