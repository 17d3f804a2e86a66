"""Fidelity against DRAMsim3, and mutations of the engine that this test must catch.

Two reference files beside this one, both made by running DRAMsim3 itself (provenance
inside each):

- ``dramsim3_reference.json``: DRAMsim3's figures for DDR4_8Gb_x8_2400, open page, on
  ``stream_read``, ``random_read`` and ``strided`` (the team's ``shared/reference/dram``);
  the shipped ``stream``, ``random`` and ``strided`` traces are those traces bit for bit
  (checked here by SHA-256);
- ``dramsim3_options_reference.json``: DRAMsim3 with its controller options (close page,
  per-rank queues, unified queue, smaller queues, simultaneous rank refresh) and with its
  DDR3 and LPDDR4 configurations, on those traces and the shipped ``cloud`` trace (30 %
  writes), and on two traces made here (:func:`hotrow`, :func:`fairness`); the
  configurations are read back through ``read_dramsim3_ini``.

With the ``dramsim3_like`` controller the model must land within :data:`TOL` of every
record: what it achieves (at most 0.7 % latency, 0.2 % bandwidth, 0.2 % ACT) plus a margin.
The mutation tests then show that the check has teeth: an engine with 10 cycles added to
every read, without the row-hit cap, or without the round-robin across command queues
fails it on the two made traces alone.
"""

from __future__ import annotations

import gzip
import hashlib
import inspect
import json
import types
from pathlib import Path

import numpy as np
import pytest

from simulators.dram import PRESETS, AddressMapping, engine_dramsim3, run, simulate
from simulators.dram.dramsim3_ini import read_dramsim3_ini
from simulators.dram.trace import Trace, write_trace
from workloads import dram as dram_workloads

HERE = Path(__file__).parent
REFERENCE = json.loads((HERE / "dramsim3_reference.json").read_text())
OPTIONS = json.loads((HERE / "dramsim3_options_reference.json").read_text())
#: reference trace -> (shipped trace, SHA-256 of the reference trace file)
TRACES = {
    "stream_read": ("stream", "ee5624b50804135f6e3ded09c108093da15d5cb5a50c2e654f6bc4e8cae8a5b9"),
    "random_read": ("random", "340ccfb7cf57c096f311e3a79bd76ca4413a691806a8a5e63c4c05abaaf9e6bb"),
    "strided": ("strided", "12a22fa672a0aaa13d8dbe3443e8ff6ebf370f2ed9e4d11a5fd0c080eed0ac42"),
    "cloud": ("cloud", OPTIONS["provenance"]["traces"]["sha256"]["cloud"]),
}
DEV = PRESETS["DDR4_8Gb_x8_2400"]
MAP = AddressMapping("rochrababgco", DEV)


def hotrow(n: int = 20_000, seed: int = 7) -> Trace:
    """Reads to bank 0 of four bank groups of rank 0, three in four to row 0 and the rest to
    row 1, one every 2 cycles: rows close when the row-hit cap allows it."""
    rng = np.random.default_rng(seed)
    row = (rng.random(n) < 0.25).astype(int)
    z = np.zeros(n, dtype=int)
    addr = MAP.encode(row=row, rank=z, bankgroup=rng.integers(0, 4, n), bank=z,
                      column=rng.integers(0, DEV.columns_per_row, n))
    return Trace(addr, np.zeros(n, bool), np.arange(n) * 2, "hotrow")


def fairness(n: int = 20_000, seed: int = 8) -> Trace:
    """Random rows of sixteen banks (two ranks, four bank groups, two banks), 25 % writes,
    one request every 3 cycles: the memory saturates and the round-robin across command
    queues decides whom it serves."""
    rng = np.random.default_rng(seed)
    addr = MAP.encode(row=rng.integers(0, 1 << 16, n), rank=rng.integers(0, 2, n),
                      bankgroup=rng.integers(0, 4, n), bank=rng.integers(0, 2, n),
                      column=rng.integers(0, DEV.columns_per_row, n))
    return Trace(addr, rng.random(n) < 0.25, np.arange(n) * 3, "fairness")


MADE = {"hotrow": hotrow, "fairness": fairness}
#: relative tolerances (row-hit rate: absolute)
TOL = {"latency": 0.03, "bandwidth": 0.02, "act": 0.01, "energy": 0.02, "row_hit": 0.01}


def fidelity_errors(res, ref: dict) -> list[str]:
    """Every figure of ``res`` outside :data:`TOL` of the DRAMsim3 record ``ref``."""
    pairs = (("latency", res.avg_read_latency_ns, ref["avg_read_latency_ns"]),
             ("bandwidth", res.bandwidth_gbps, ref["average_bandwidth_GBps"]),
             ("act", res.num_act, ref["num_act_cmds"]),
             ("energy", res.energy_pj, ref["total_energy_pJ"]))
    out = [f"{k}: {got:.6g} vs DRAMsim3 {want:.6g} ({(got - want) / want:+.2%}, allowed "
           f"{TOL[k]:.0%})" for k, got, want in pairs if abs(got - want) > TOL[k] * want]
    if abs(res.row_hit_rate - ref["row_hit_rate"]) > TOL["row_hit"]:
        out.append(f"row_hit: {res.row_hit_rate:.4f} vs DRAMsim3 {ref['row_hit_rate']:.4f}")
    if res.num_reads != ref["trace_reads"]:
        out.append(f"reads: {res.num_reads} vs {ref['trace_reads']}")
    return out


@pytest.fixture(scope="module")
def traces():
    out = {name: dram_workloads.load(shipped) for name, (shipped, _) in TRACES.items()}
    out.update({name: make() for name, make in MADE.items()})
    return out


@pytest.fixture(scope="module")
def configs(tmp_path_factory):
    """DRAMsim3's configuration files, written back from the reference and read as .ini."""
    out = {}
    d = tmp_path_factory.mktemp("dramsim3_configs")
    for name, sections in OPTIONS["configs"].items():
        text = "".join(f"[{s}]\n" + "".join(f"{k} = {v}\n" for k, v in kv.items())
                       for s, kv in sections.items())
        (d / name).write_text(text)
        out[name] = read_dramsim3_ini(d / name)
    return out


def _run(record: dict, traces, configs):
    ini = configs[record["config"]]
    return simulate(traces[record["trace"]], device=ini.device, controller=ini.controller,
                    mapping=ini.mapping, options=record["options"])


def _cases():
    cases = [("open", r) for r in REFERENCE["records"]]
    cases += [("options", r) for r in OPTIONS["records"]]
    return cases


def _id(case) -> str:
    kind, r = case
    opts = ",".join(f"{k}={v}" for k, v in r.get("options", {}).items()) or "default"
    return f"{r.get('config', 'DDR4_8Gb_x8_2400.ini')[:-4]}-{r['trace']}-{opts}"


CASES = _cases()


@pytest.mark.parametrize("name", TRACES)
def test_shipped_trace_is_the_reference_trace(name):
    shipped, sha = TRACES[name]
    text = gzip.decompress(dram_workloads.trace_path(shipped).read_bytes())
    assert hashlib.sha256(text).hexdigest() == sha


@pytest.mark.parametrize("name", MADE)
def test_made_trace_is_the_one_dramsim3_ran(name, tmp_path):
    path = write_trace(MADE[name](), tmp_path / f"{name}.trace")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == \
        OPTIONS["provenance"]["traces"]["sha256"][name]


@pytest.mark.parametrize("kind", ["stream", "random", "strided", "cloud"])
def test_generator_reproduces_shipped_trace(kind):
    shipped, made = dram_workloads.load(kind), dram_workloads.generate(kind, 20_000)
    assert (shipped.addr == made.addr).all() and (shipped.cycle == made.cycle).all()
    assert (shipped.is_write == made.is_write).all()


def test_config_of_the_open_page_reference_is_the_preset(configs):
    """The shared reference ran DDR4_8Gb_x8_2400.ini: the same device as our preset."""
    from dataclasses import replace

    ini = configs["DDR4_8Gb_x8_2400.ini"]
    preset = PRESETS["DDR4_8Gb_x8_2400"]
    assert replace(ini.device, name=preset.name, source=preset.source) == preset
    assert ini.controller == simulate.__globals__["controller_config"]("dramsim3_like")[0]
    assert ini.mapping == REFERENCE["config_params"]["system"]["address_mapping"]


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_matches_dramsim3(case, traces, configs):
    kind, ref = case
    if kind == "open":
        res = simulate(traces[ref["trace"]], device="DDR4_8Gb_x8_2400",
                       controller="dramsim3_like", mapping="rochrababgco")
    else:
        res = _run(ref, traces, configs)
    assert not fidelity_errors(res, ref)


# ---------------------------------------------------------------- mutations of the engine
MUTATIONS = {
    "extra_read_delay": ("rd_delay = P[P_RL] + P[P_BURST]\n",
                         "rd_delay = P[P_RL] + P[P_BURST] + 10\n"),
    "no_row_hit_cap": ("((not hitpend[b]) or hits[b] >= hit_cap)", "(not hitpend[b])"),
    "no_round_robin": ("q = rr + 1 + k\n", "q = k\n"),
}


def _mutant(old: str, new: str) -> types.ModuleType:
    """The engine module compiled from its own source with one edit (not cached)."""
    src = inspect.getsource(engine_dramsim3)
    assert src.count(old) == 1, f"mutation target {old!r} not found once in the engine"
    src = src.replace(old, new).replace("@njit(cache=True)", "@njit(cache=False)")
    mod = types.ModuleType("engine_dramsim3_mutant")
    exec(compile(src, engine_dramsim3.__file__, "exec"), mod.__dict__)  # noqa: S102
    return mod


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_mutated_engine_fails_fidelity(mutation, traces, configs, monkeypatch):
    monkeypatch.setattr(run, "engine_dramsim3", _mutant(*MUTATIONS[mutation]))
    failures = []
    for _, ref in CASES:
        if ref["trace"] not in MADE:
            continue  # the two traces made to exercise the cap and the round-robin suffice
        failures += fidelity_errors(_run(ref, traces, configs), ref)
    assert failures, f"the {mutation} mutant passes every DRAMsim3 record"
