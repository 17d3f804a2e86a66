"""SoC descriptions (``archgym-soc/1``) and applications: round trips, design points, errors."""

from __future__ import annotations

import json

import pytest

from simulators.soc import SocInputError
from simulators.soc.apps import App, read_app
from simulators.soc.platform import Platform, read_platform
from simulators.soc.workload import app_to_graph
from workloads.soc import APPS, SOCS, load_app, load_soc, resolve_soc, soc_path


@pytest.mark.parametrize("name", SOCS)
def test_shipped_socs_round_trip(tmp_path, name):
    p = load_soc(name)
    (tmp_path / "s.json").write_text(json.dumps(p.to_dict()))
    back = read_platform(tmp_path / "s.json")
    assert back.to_dict() == p.to_dict() and back.bandwidth_matrix() == p.bandwidth_matrix()
    assert resolve_soc(name).to_dict() == resolve_soc(soc_path(name)).to_dict()


def test_reference_soc_matches_ds3():
    p = load_soc("ds3_reference")
    assert [(t.name, t.count) for t in p.pe_types] == [
        ("A7", 4), ("A15", 4), ("MM", 2), ("FFT", 4), ("VIT", 2), ("MEMORY", 1)]
    a15 = p.pe_types[1]
    # DS3 paper Table 4: inverse FFT 118 us on an A15, 16 us on the FFT accelerator
    assert a15.exec_us["ifft_1"] == 118 and p.pe_types[3].exec_us["ifft_1"] == 16
    assert a15.opps[-1] == (2000, 1362) and a15.slowdown == 1.0
    assert p.area_mm2 == pytest.approx(4 * 0.45 + 4 * 2.25 + 2 * 0.34 + 4 * 0.34 + 2 * 0.27)
    bw = p.bandwidth_matrix()
    assert bw[0][0] == 10000 and bw[0][1] == 1000 and bw[0][10] == 10  # A7 -> FFT link


@pytest.mark.parametrize("name", APPS)
def test_every_shipped_app_runs_on_its_soc(name):
    app = load_app(name)
    g = app_to_graph(app, load_soc("ds3_heft_example" if name == "heft_example"
                                   else "ds3_reference"))
    assert g.num_tasks == app.num_tasks and len(g.edges) == len(app.edges)


def test_design_points():
    p = load_soc("ds3_reference")
    q = p.with_design(counts={"FFT": 1, "VIT": 0}, opps={"A15": 0}, bandwidth=500)
    assert q.num_pes == p.num_pes - 3 - 2
    assert q.pe_types[1].exec_time("ifft_1") == pytest.approx(118 * 2000 / 600)
    assert all(bw == 500 for _, _, bw in q.interconnect.pair_bandwidth)
    with pytest.raises(SocInputError, match="unknown PE type 'GPU'"):
        p.with_design(counts={"GPU": 1})


def _soc(**over):
    d = {"schema": "archgym-soc/1", "name": "x",
         "pe_types": [{"name": "c", "kind": "CPU", "count": 2, "exec_us": {"f": 1}}],
         "interconnect": {"bandwidth": 10}}
    for key, value in over.items():
        target, field = (d["pe_types"][0], key[3:]) if key.startswith("pe_") else (d, key)
        target[field] = value
    return d


@pytest.mark.parametrize("over,pattern", [
    ({"pe_count": -1}, r"pe_types\[0\]\.count"),
    ({"pe_exec_us": {"f": -2}}, r"pe_types\[0\]\.exec_us\.f"),
    ({"pe_opps": [[1000, 900]], "pe_opp": 3}, r"pe_types\[0\]\.opp"),
    ({"pe_opps": [[2000, 900], [1000, 800]]}, "sorted"),
    ({"pe_colour": "red"}, "unknown field"),
    ({"interconnect": {"bandwidth": 0}}, "interconnect.bandwidth"),
    ({"interconnect": {"pair_bandwidth": [["c", "gpu", 5]]}}, "unknown PE type 'gpu'"),
    ({"interconnect": {"pe_bandwidth": [[1]]}}, "2 x 2"),
    ({"schema": "nope"}, "schema"),
])
def test_bad_soc_descriptions(tmp_path, over, pattern):
    path = tmp_path / "soc.json"
    path.write_text(json.dumps(_soc(**over)))
    with pytest.raises(SocInputError, match=pattern) as err:
        read_platform(path)
    assert str(path) in str(err.value)


def test_duplicate_type_and_empty_soc():
    d = _soc()
    d["pe_types"].append(dict(d["pe_types"][0]))
    with pytest.raises(SocInputError, match="duplicate PE type"):
        Platform.from_dict(d)
    with pytest.raises(SocInputError, match="no PE"):
        Platform.from_dict(_soc(pe_count=0))


def test_bad_apps(tmp_path):
    with pytest.raises(SocInputError, match="cycle"):
        App("a", ("f", "g"), ((0, 1, 1), (1, 0, 1)))
    with pytest.raises(SocInputError, match=r"edges\[0\]\.volume.*negative volume"):
        App("a", ("f", "g"), ((0, 1, -1),))
    path = tmp_path / "app.json"
    path.write_text(json.dumps({"schema": "archgym-soc-app/1", "tasks": []}))
    with pytest.raises(SocInputError, match="tasks"):
        read_app(path)
