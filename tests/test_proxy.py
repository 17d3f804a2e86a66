"""Proxies: feature encoding, training on a known function, save/load with refusal of the
wrong env, proxies in the loop (proxy and multi-fidelity), and resumable data collection."""

import json
import math
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import gymnasium
import numpy as np
import pandas as pd
import pytest
from gymnasium.utils.env_checker import check_env
from typer.testing import CliRunner

import agents
import archgym  # noqa: F401
from archgym import dataset, proxy
from archgym.app.cli import app
from archgym.app.collect import collect, sample_designs
from archgym.dataset import DatasetWriter
from archgym.env import DesignEnv
from archgym.errors import ArchGymError
from archgym.objectives import Optimize
from archgym.proxy import FeatureEncoder, MultiFidelityEvaluator, ProxyEvaluator, wrap_evaluator
from archgym.runner import run, run_id_for
from archgym.space import Categorical, DesignSpace, Integer, Ordinal, Real
from tests.toy import SPACE, ToyEvaluator

ROOT = Path(__file__).resolve().parents[1]
TOY = "archgym/Toy-v0"


@pytest.fixture(scope="module")
def toy_data(tmp_path_factory):
    """300 of the Toy env's 324 valid designs, evaluated in this process."""
    out = tmp_path_factory.mktemp("toy") / "ds"
    collect(TOY, 300, "random", seed=0, workers=1, out=out)
    return out


@pytest.fixture(scope="module")
def toy_rf(toy_data, tmp_path_factory):
    p = proxy.train(toy_data, TOY, model="rf", seed=0)
    return p, p.save(tmp_path_factory.mktemp("proxy") / "rf")


# ---------------------------------------------------------------------- features


def test_encoding_schema_follows_the_space():
    enc = FeatureEncoder(SPACE)
    assert enc.columns == ["size_kb", "assoc", "policy=LRU", "policy=FIFO", "policy=Random",
                           "ports"]
    kinds = {b["parameter"]: b["encoding"] for b in enc.schema()}
    assert kinds == {"size_kb": "log", "assoc": "log", "policy": "onehot", "ports": "unit"}
    X = enc.encode([{"size_kb": 1, "assoc": 8, "policy": "FIFO", "ports": 4},
                    {"size_kb": 8, "assoc": 1, "policy": "LRU", "ports": 1}])
    # powers of two are evenly spaced in log: 8 KB is half way between 1 and 64
    np.testing.assert_allclose(X, [[0, 1, 0, 1, 0, 7 / 8], [0.5, 0, 1, 0, 0, 1 / 8]])


def test_encoding_round_trips_every_design_and_reads_dataframes():
    enc = FeatureEncoder(SPACE)
    designs = list(SPACE.enumerate())
    X = enc.encode(designs)
    assert X.shape == (len(designs), enc.n_features) and X.min() >= 0 and X.max() <= 1
    assert enc.decode(X) == designs
    df = pd.DataFrame({"param_" + k: [d[k] for d in designs] for k in SPACE.names})
    np.testing.assert_array_equal(enc.encode(df, prefix="param_"), X)


def test_encoding_round_trips_mixed_kinds():
    space = DesignSpace([Real("f", 0.1, 10.0, log=True), Integer("k", 1, 1000, log=True),
                         Integer("i", 0, 5), Ordinal("o", ("lo", "mid", "hi")),
                         Ordinal("v", (3, 4, 5)), Categorical("c", (True, "x"))])
    enc = FeatureEncoder(space)
    assert [b["encoding"] for b in enc.schema()] == ["unit", "unit", "unit", "index", "linear",
                                                     "onehot"]
    rng = np.random.default_rng(0)
    designs = [space.sample(rng) for _ in range(50)]
    back = enc.decode(enc.encode(designs))
    for d, b in zip(designs, back, strict=True):
        assert {k: v for k, v in b.items() if k != "f"} == {k: v for k, v in d.items()
                                                             if k != "f"}
        assert math.isclose(b["f"], d["f"], rel_tol=1e-9)


def test_index_rows_encode_as_their_configs():
    """The one-gather encoding of index rows gives the per-design encoding's numbers
    exactly, for every kind of finite parameter."""
    space = DesignSpace([Integer("k", 1, 1000, log=True), Integer("i", 0, 5),
                         Ordinal("o", ("lo", "mid", "hi")), Ordinal("v", (3, 4, 5)),
                         Categorical("c", (True, "x", 7)), Ordinal("s", (2, 64, 4096))])
    enc = FeatureEncoder(space)
    rng = np.random.default_rng(1)
    rows = rng.integers(0, space.nvec, size=(500, len(space)))
    X = enc.encode_index(rows)
    np.testing.assert_array_equal(X, enc.encode([space.from_index(r) for r in rows]))
    assert X.shape == (500, enc.n_features)
    # an encoder saved before the gather's plan was kept (older proxies) makes it on use
    old = pickle.loads(pickle.dumps(enc))
    del old.__dict__["_gather_at"]
    np.testing.assert_array_equal(old.encode_index(rows), X)


def test_encoding_refuses_values_outside_the_space():
    with pytest.raises(ArchGymError, match="'policy'.*'MRU'"):
        FeatureEncoder(SPACE).encode([{"size_kb": 1, "assoc": 1, "policy": "MRU", "ports": 1}])
    with pytest.raises(ArchGymError, match="ports"):
        FeatureEncoder(SPACE).encode([{"size_kb": 1, "assoc": 1, "policy": "LRU"}])


# ---------------------------------------------------------------------- training


@pytest.mark.parametrize("model,hp,max_nrmse", [
    ("gp", {}, 0.01), ("gbt", {}, 0.03), ("mlp", {"steps": 1500}, 0.03), ("rf", {}, 0.12)])
def test_training_recovers_the_toy_function(toy_data, model, hp, max_nrmse):
    p, report = proxy.fit_and_score(toy_data, TOY, model=model, test_fraction=0.25, seed=1,
                                    **hp)
    for metric, s in report.items():
        assert s["n"] == 75
        assert s["nrmse"] < max_nrmse, (metric, s)
        assert s["kendall_tau"] > 0.8 and s["r2"] > 0.85, (metric, s)
    assert p.meta["n_train"] == 225 and p.meta["held_out"]["scores"] == report


def test_scores_are_the_textbook_definitions():
    y, yhat = np.array([1.0, 2.0, 3.0, 5.0]), np.array([1.0, 2.5, 2.5, 5.0])
    s = proxy.scores(y, yhat)
    assert math.isclose(s["rmse"], math.sqrt(0.5 / 4))
    assert math.isclose(s["nrmse"], s["rmse"] / 4)
    assert math.isclose(s["mape"], (0.5 / 2 + 0.5 / 3) / 4)
    assert math.isclose(s["r2"], 1 - 0.5 / np.sum((y - y.mean()) ** 2))
    assert s["kendall_tau"] < 1.0


def test_training_is_seeded_and_filters_unusable_rows(toy_data):
    df = dataset.load(toy_data)
    junk = df.iloc[:5].copy()
    junk["cost_model"] = "proxy"  # a proxy's own answers are not ground truth
    junk["metric_latency"] = 1e9
    mf = df.iloc[5:10].assign(cost_model="multi-fidelity", fidelity="proxy",
                              metric_latency=1e9)
    mixed = pd.concat([junk, mf, df], ignore_index=True)
    assert len(proxy.training_frame(mixed, TOY)) == 300
    assert (proxy.training_frame(mixed, TOY)["metric_latency"] < 1e9).all()
    a = proxy.train(mixed, TOY, model="gbt", seed=3)
    b = proxy.train(df, TOY, model="gbt", seed=3)
    configs = [SPACE.default(), {"size_kb": 64, "assoc": 8, "policy": "Random", "ports": 2}]
    for m in ("latency", "energy"):
        np.testing.assert_array_equal(a.predict(configs)[m], b.predict(configs)[m])
    assert a.meta["training_hash"] == b.meta["training_hash"]
    with pytest.raises(ArchGymError, match="no rows of env 'archgym/Other-v0'.*Toy-v0"):
        proxy.training_frame(df, "archgym/Other-v0")
    with pytest.raises(ArchGymError, match="unknown proxy model 'svm'.*rf, gbt, mlp, gp"):
        proxy.train(df, TOY, model="svm")
    with pytest.raises(ArchGymError, match="no metric 'area'"):
        proxy.train(df, TOY, metrics=["area"])


# ---------------------------------------------------------------------- save / load


@pytest.mark.parametrize("model", ["rf", "mlp", "gbt"])
def test_save_load_round_trip_gives_identical_predictions(toy_data, tmp_path, model):
    p = proxy.train(toy_data, TOY, model=model, seed=0, **({"steps": 200} if model == "mlp"
                                                           else {}))
    path = p.save(tmp_path / "p")
    p.save(path)  # overwriting an existing proxy is atomic too
    assert sorted(os.listdir(tmp_path)) == ["p"]
    q = proxy.load(path, env_id=TOY, space=SPACE)
    designs = list(SPACE.enumerate())
    a, b = p.predict(designs), q.predict(designs)
    for m in ("latency", "energy"):
        np.testing.assert_array_equal(a[m], b[m])
    meta = json.loads((path / "meta.json").read_text())
    assert meta["env_id"] == TOY and meta["model"] == model and meta["env_version"] == 0
    assert DesignSpace.from_dict(meta["space"]) == SPACE
    assert meta["feature_schema"] == FeatureEncoder(SPACE).schema()
    assert len(meta["training_hash"]) == 64 and meta["n_train"] == 300
    assert {"numpy", "scikit-learn", "lightgbm", "torch"} <= set(meta["libraries"])
    assert meta["metrics"] == ["latency", "energy"]


def test_loading_into_another_env_or_space_is_refused(toy_rf):
    _, path = toy_rf
    with pytest.raises(ArchGymError, match="trained for env 'archgym/Toy-v0', not "
                                           "'archgym/DRAM-v0'"):
        proxy.load(path, env_id="archgym/DRAM-v0")
    narrowed = DesignSpace([Ordinal("size_kb", (1, 2, 4, 8), default=8), *list(SPACE)[1:]],
                           SPACE.constraints, SPACE.groups)
    with pytest.raises(ArchGymError, match="parameter.*size_kb differ"):
        proxy.load(path, space=narrowed)
    with pytest.raises(ArchGymError, match="workload 'toy', not 'other'"):
        proxy.load(path, workload="other")
    with pytest.raises(ArchGymError, match="not a saved proxy"):
        proxy.load(path.parent)


def test_wrap_evaluator_names_allowed_cost_models(toy_rf):
    _, path = toy_rf
    sim = ToyEvaluator()
    assert wrap_evaluator(sim, "simulator", None) is sim
    with pytest.raises(ArchGymError, match="'surrogate'.*simulator, proxy, multi-fidelity"):
        wrap_evaluator(sim, "surrogate", path)
    with pytest.raises(ArchGymError, match="needs proxy="):
        wrap_evaluator(sim, "proxy", None)


# ---------------------------------------------------------------------- in the loop


def toy_env(evaluator):
    return DesignEnv(evaluator, Optimize(evaluator.metric_specs[0]), max_steps=20)


def test_proxy_env_passes_check_env_and_answers_with_the_proxy(toy_rf):
    p, path = toy_rf
    env = toy_env(wrap_evaluator(ToyEvaluator(), "proxy", path))
    assert isinstance(env.evaluator, ProxyEvaluator)
    check_env(env, skip_render_check=True)
    assert env.env_spec()["cost_model"] == "proxy"
    designs = list(SPACE.enumerate())[:40]
    expected = p.predict(designs)
    for i, d in enumerate(designs):
        _, _, _, _, info = env.step_config(d)
        assert info["metrics"] == {m: expected[m][i] for m in ("latency", "energy")}
    batch = ProxyEvaluator(p).evaluate_batch(designs)
    assert [b["latency"] for b in batch] == expected["latency"].tolist()


@pytest.mark.parametrize("threshold,expect", [(0.0, "simulator"), (math.inf, "proxy")])
def test_multi_fidelity_extremes_and_the_logged_fidelity(toy_rf, tmp_path, threshold, expect):
    p, path = toy_rf
    sim = ToyEvaluator()
    ev = wrap_evaluator(sim, "multi-fidelity", path, threshold=threshold)
    assert isinstance(ev, MultiFidelityEvaluator)
    env = toy_env(ev)
    result = run(env, agents.make("random", SPACE, seed=4), 30, seed=0,
                 logger=DatasetWriter(tmp_path, run_id="mf"))
    df = dataset.load(tmp_path)
    assert set(df["fidelity"]) == {expect} and set(df["cost_model"]) == {"multi-fidelity"}
    configs = [r.config for r in result.history]
    truth = [ToyEvaluator()._evaluate(c) for c in configs]
    pred = p.predict(configs)
    for i, r in enumerate(result.history):
        want = truth[i] if expect == "simulator" else {m: pred[m][i] for m in pred}
        assert r.metrics == pytest.approx(want, rel=1e-12)
    assert (sim.calls > 0) == (expect == "simulator")


def test_multi_fidelity_uses_the_simulator_exactly_where_the_ensemble_is_unsure(toy_rf):
    p, path = toy_rf
    designs = list(SPACE.enumerate())
    _, std = p.predict(designs, return_std=True)
    mean = p.predict(designs)
    rel = np.maximum(std["latency"] / mean["latency"], std["energy"] / mean["energy"])
    threshold = float(np.median(rel))
    ev = MultiFidelityEvaluator(ToyEvaluator(), p, threshold)
    out = ev.evaluate_batch(designs)
    used = [ev.fidelity_of(d) for d in designs]
    assert used == ["proxy" if r < threshold else "simulator" for r in rel]
    assert 0 < used.count("proxy") < len(designs)
    assert ev.simulator_calls == used.count("simulator") == ev.simulator.calls
    for d, o, u, i in zip(designs, out, used, range(len(designs)), strict=True):
        want = ToyEvaluator()._evaluate(d) if u == "simulator" else {m: mean[m][i] for m in mean}
        assert o == pytest.approx(want, rel=1e-12)


def test_multi_fidelity_needs_an_ensemble(toy_data, tmp_path):
    path = proxy.train(toy_data, TOY, model="mlp", steps=50).save(tmp_path / "mlp")
    with pytest.raises(ArchGymError, match="'mlp' has none"):
        wrap_evaluator(ToyEvaluator(), "multi-fidelity", path)


def test_dram_env_with_cost_model_proxy(tmp_path):
    kw = {"trace_length": 300, "fixed": {"RespQueue": "Fifo"}}
    collect("archgym/DRAM-v0", 40, "lhs", seed=0, out=tmp_path / "ds", env_kwargs=kw)
    p = proxy.train(tmp_path / "ds", "archgym/DRAM-v0", model="rf", env_kwargs=kw,
                    n_estimators=10)
    path = p.save(tmp_path / "rf")
    env = gymnasium.make("archgym/DRAM-v0", cost_model="proxy", proxy=str(path), **kw)
    check_env(env.unwrapped, skip_render_check=True)
    space = env.unwrapped.space
    designs = sample_designs(space, 20, "random", seed=5)
    got = env.unwrapped.evaluator.evaluate_batch(designs)
    want = p.predict(designs)
    assert [g["latency_ns"] for g in got] == want["latency_ns"].tolist()
    ev = env.unwrapped.evaluator
    # designs as index rows: the same features and predictions, in the env's metric order
    rows = np.array([space.to_index(d) for d in designs])
    np.testing.assert_array_equal(p.encoder.encode_index(rows), p.encoder.encode(designs))
    assert ev.evaluate_rows(rows).tolist() == [[g[m] for m in ev.metric_names] for g in got]
    with pytest.raises(ArchGymError, match="unknown parameter 'bogus'"):
        ev.evaluate_batch([{**designs[0], "bogus": 1}])
    with pytest.raises(ArchGymError, match="'RequestBufferSize': value 3"):
        ev.evaluate_batch([{**designs[0], "RequestBufferSize": 3}])
    with pytest.raises(ArchGymError, match="design space does not match.*PagePolicy"):
        gymnasium.make("archgym/DRAM-v0", cost_model="proxy", proxy=str(path),
                       trace_length=300, fixed={"RespQueue": "Fifo", "PagePolicy": "Open"})
    with pytest.raises(ArchGymError, match=r"stream\[:300\]"):  # trained on another trace cut
        gymnasium.make("archgym/DRAM-v0", cost_model="proxy", proxy=str(path), trace_length=500,
                       fixed={"RespQueue": "Fifo"})
    # the same space, but a knob fixed at another value: the env's full spec differs
    with pytest.raises(ArchGymError, match="fixed=.*Fifo.* in training.*Reorder"):
        gymnasium.make("archgym/DRAM-v0", cost_model="proxy", proxy=str(path),
                       trace_length=300, fixed={"RespQueue": "Reorder"})
    # reward-only parameters may differ: the proxy still applies
    gymnasium.make("archgym/DRAM-v0", cost_model="proxy", proxy=str(path), objective="power",
                   max_steps=7, **kw)


# ---------------------------------------------------------------------- collection


@pytest.mark.parametrize("sampler", ["random", "lhs", "sobol"])
def test_samplers_give_distinct_valid_seeded_designs(sampler):
    a = sample_designs(SPACE, 200, sampler, seed=7)
    assert a == sample_designs(SPACE, 200, sampler, seed=7)
    assert a != sample_designs(SPACE, 200, sampler, seed=8)
    assert len({SPACE.key(c) for c in a}) == 200 and all(SPACE.is_valid(c) for c in a)
    # the whole finite space can be asked for; one more design cannot
    assert len(sample_designs(SPACE, 324, sampler, seed=1)) == 324
    with pytest.raises(ArchGymError, match="only 324"):
        sample_designs(SPACE, 325, sampler, seed=1)
    with pytest.raises(ArchGymError, match="exceeds the 336 designs"):
        sample_designs(SPACE, 337, sampler)


def test_lhs_spreads_better_than_chance():
    space = DesignSpace([Real("x", 0, 1), Real("y", 0, 1)])
    for sampler in ("lhs", "sobol"):
        pts = np.array([[c["x"], c["y"]] for c in sample_designs(space, 64, sampler, seed=0)])
        counts = np.histogram(pts[:, 0], bins=8, range=(0, 1))[0]
        assert counts.tolist() == [8] * 8, sampler  # stratified margins


def test_collect_resumes_after_sigkill_without_duplicates(tmp_path):
    out = tmp_path / "ds"
    args = ["dataset", "collect", "--env", TOY, "--n", "200", "--sampler", "lhs", "--seed",
            "3", "--workers", "2", "--chunk-size", "10", "--env-param", "delay=0.01",
            "--out", str(out)]
    script = textwrap.dedent(f"""
        import sys, tests.toy
        from archgym.app.cli import app
        sys.argv = ["archgym", *{args!r}]
        app()
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "_done").glob("*.json"))) < 3:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the parent and its workers, mid-chunk
    proc.wait()
    done = {f.stem for f in (out / "_done").glob("*.json")}
    assert 3 <= len(done) < 20
    kept = {f.name: f.read_bytes() for f in out.glob("part-*.parquet")
            if f.name.split("-")[1] in done}
    # a chunk killed half-way: a part without a marker, and a temporary file
    ids = [run_id_for(TOY, {"delay": 0.01}, "collect-lhs",
                      {"sampler": "lhs", "n": 200, "chunk": i, "chunk_size": 10}, 3, 10)
           for i in range(20)]
    assert done <= set(ids)
    victim = next(i for i in ids if i not in done)
    bogus = dataset.load(out / next(iter(kept))).assign(run_id=victim)
    bogus["metric_latency"] = -1.0
    bogus.to_parquet(out / f"part-{victim}-000000.parquet")
    (out / f".part-{victim}-000001.parquet.999.tmp").write_bytes(b"half")

    res = collect(TOY, 200, "lhs", seed=3, workers=2, out=out, env_kwargs={"delay": 0.01},
                  chunk_size=10)
    assert res.skipped == len(done) and res.evaluated == 200 - 10 * len(done)
    df = dataset.load(out)
    assert len(df) == 200 and df["config_key"].nunique() == 200
    assert set(df["config_key"]) == {SPACE.key(c) for c in sample_designs(SPACE, 200, "lhs", 3)}
    assert (df["metric_latency"] > 0).all() and not list(out.glob(".*.tmp"))
    assert set(df["run_id"]) == set(ids) and set(df["searcher"]) == {"collect-lhs"}
    assert (df.groupby("run_id")["step"].apply(list) == [list(range(1, 11))] * 20).all()
    assert {f.name: f.read_bytes() for f in out.glob("part-*.parquet")
            if f.name in kept} == kept  # completed chunks were not redone
    again = collect(TOY, 200, "lhs", seed=3, workers=2, out=out, env_kwargs={"delay": 0.01},
                    chunk_size=10)
    assert again.skipped == 20 and again.evaluated == 0


def test_cli_collect_train_and_eval(tmp_path):
    cli = CliRunner()
    ds = tmp_path / "ds"
    r = cli.invoke(app, ["dataset", "collect", "--env", TOY, "--n", "120", "--sampler",
                         "sobol", "--out", str(ds), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["evaluated"] == 120 and len(dataset.load(ds)) == 120
    r = cli.invoke(app, ["proxy", "train", str(ds), "--env", TOY, "--model", "gbt",
                         "--out", str(tmp_path / "p"), "--test-fraction", "0.25"])
    assert r.exit_code == 0, r.output
    assert "nRMSE" in r.stdout and "latency" in r.stdout and "Kendall" in r.stdout
    r = cli.invoke(app, ["proxy", "eval", str(tmp_path / "p"), str(ds), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["scores"]["energy"]["n"] == 120
    r = cli.invoke(app, ["proxy", "train", str(ds), "--env", TOY, "--model", "svm",
                         "--out", str(tmp_path / "q")])
    assert r.exit_code == 2 and "allowed: rf, gbt, mlp, gp" in r.output
    assert not (tmp_path / "q").exists()
    r = cli.invoke(app, ["dataset", "collect", "--env", TOY, "--n", "5", "--sampler", "grid",
                         "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "allowed: random, lhs, sobol" in r.output
