"""BoTorch BO and the Optuna searchers: valid, reproducible proposals; they find the Toy
optimum; multi-objective fronts are right; Optuna storage persists and resumes."""

import json

import gymnasium
import optuna
import pytest
from typer.testing import CliRunner

import agents
from archgym import dataset
from archgym.app.cli import app
from archgym.errors import ArchGymError
from archgym.objectives import pareto_front
from archgym.runner import run
from archgym.space import Categorical, DesignSpace, Ordinal
from tests.toy import SPACE

OPTUNA = ["tpe", "nsga2", "cmaes", "gp-optuna", "qmc-optuna"]


def toy_run(name, budget, seed=0, **hp):
    env = gymnasium.make("archgym/Toy-v0", max_steps=1000)
    searcher = agents.make(name, env.unwrapped.space, seed=seed, **hp)
    return searcher, run(env, searcher, budget, seed=seed)


def toy_optimum():
    env = gymnasium.make("archgym/Toy-v0")
    base = env.unwrapped
    return max(base.objective.reward(base.evaluator.evaluate(c)) for c in SPACE.enumerate())


@pytest.mark.parametrize("name,hp", [("bo", {"batch_size": 2}), ("bo", {"max_enumerate": 0}),
                                     *[(n, {}) for n in OPTUNA]])
def test_valid_and_reproducible(name, hp):
    budget = 14
    _, a = toy_run(name, budget, seed=3, **hp)
    _, b = toy_run(name, budget, seed=3, **hp)
    assert a.evaluations == budget
    assert all(r.valid for r in a.history)  # constraint-breaking proposals never returned
    assert [r.config for r in a.history] == [r.config for r in b.history]
    if name == "bo":  # BO never re-proposes an evaluated design
        assert len({SPACE.key(r.config) for r in a.history}) == budget


def test_bo_seeds_differ():
    _, a = toy_run("bo", 12, seed=0)
    _, b = toy_run("bo", 12, seed=1)
    assert [r.config for r in a.history] != [r.config for r in b.history]


def test_bo_finds_toy_optimum():
    best = toy_optimum()
    _, result = toy_run("bo", 30, seed=0)
    assert result.best.reward == pytest.approx(best)


def test_tpe_finds_toy_optimum():
    best = toy_optimum()
    _, result = toy_run("tpe", 150, seed=0)
    assert result.best.reward == pytest.approx(best)


# A small bi-objective problem with a known front: c="a", y=0 and every x (8 of 128 designs).
MO_SPACE = DesignSpace([Ordinal("x", tuple(range(8))), Ordinal("y", tuple(range(8))),
                        Categorical("c", ("a", "b"))])


def mo_metrics(c):
    penalty = 0.5 * (c["c"] == "b") + 0.1 * c["y"]
    return {"f1": c["x"] + penalty, "f2": (7 - c["x"]) ** 1.5 + penalty, "other": 1.0}


TRUE_FRONT = [{"x": x, "y": 0, "c": "a"} for x in range(8)]


@pytest.mark.parametrize("name,budget,min_hits", [("bo", 40, 8), ("nsga2", 100, 5),
                                                  ("tpe", 100, 5)])
def test_multi_objective_front(name, budget, min_hits):
    searcher = agents.make(name, MO_SPACE, seed=0, objectives=["f1", "f2"])
    seen = []
    for _ in range(budget):
        c = searcher.ask()
        m = mo_metrics(c)
        searcher.tell(c, m, 0.0)
        seen.append((c, m))
    front = searcher.pareto_front()
    costs = [[m["f1"], m["f2"]] for _, m in seen]
    on_front = {MO_SPACE.key(seen[i][0]) for i in pareto_front(costs)}
    assert {MO_SPACE.key(c) for c, _ in front} == on_front  # exactly the observed front
    keys = {MO_SPACE.key(c) for c, _ in front}
    assert sum(MO_SPACE.key(t) in keys for t in TRUE_FRONT) >= min_hits


def test_maximised_objective_flips_direction():
    searcher = agents.make("nsga2", MO_SPACE, seed=0, objectives=["f1:max", "f2"])
    for c in MO_SPACE.enumerate():
        searcher.tell(c, mo_metrics(c), 0.0)  # told designs it never proposed (warm start)
    front = {MO_SPACE.key(c) for c, _ in searcher.pareto_front()}
    # maximising f1 = x + penalty and minimising f2: x=7 with the biggest penalty wins f2=penalty
    assert MO_SPACE.key({"x": 7, "y": 0, "c": "a"}) in front
    assert MO_SPACE.key({"x": 0, "y": 0, "c": "a"}) not in front


def test_bad_hyper_parameters_are_refused():
    with pytest.raises(ArchGymError, match="single-objective"):
        agents.make("cmaes", MO_SPACE, objectives=["f1", "f2"])
    with pytest.raises(ArchGymError, match="warp"):
        agents.make("bo", MO_SPACE, warp="cube")
    with pytest.raises(ArchGymError, match="direction"):
        agents.make("bo", MO_SPACE, objectives=["f1:up"])
    s = agents.make("bo", MO_SPACE, objectives=["f1", "nope"])
    c = s.ask()
    with pytest.raises(ArchGymError, match="'nope'.*f1, f2, other"):
        s.tell(c, mo_metrics(c), 0.0)


def test_optuna_storage_persists_and_resumes(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    _, first = toy_run("tpe", 8, seed=1, storage=url, study_name="toy")
    study = optuna.load_study(study_name="toy", storage=url)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(done) == 8
    assert [t.user_attrs["config"] for t in done] == [r.config for r in first.history]
    assert max(t.value for t in done) == pytest.approx(first.best.reward)
    toy_run("tpe", 5, seed=1, storage=url, study_name="toy")  # a restarted run goes on
    study = optuna.load_study(study_name="toy", storage=url)
    assert len([t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]) == 13


def test_bad_storage_is_a_clear_error(tmp_path):
    with pytest.raises(ArchGymError, match="cannot open Optuna storage"):
        agents.make("tpe", SPACE, storage="nosuchdb://x")


@pytest.mark.parametrize("agent,params", [
    ("bo", ["batch_size=2", "n_init=4"]),
    ("nsga2", ["objectives=[latency, energy]", "population_size=4"]),
    ("qmc-optuna", ["qmc_type=halton"]),
])
def test_cli_run(tmp_path, agent, params):
    args = ["run", "--env", "archgym/Toy-v0", "--agent", agent, "--budget", "8",
            "--out", str(tmp_path / "ds"), "--json"]
    for p in params:
        args += ["--agent-param", p]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["evaluations"] == 8 and summary["agent"] == agent
    if agent == "nsga2":  # the Pareto front of what was evaluated, on the named metrics
        rows = dataset.load(tmp_path / "ds")
        costs = rows[["metric_latency", "metric_energy"]].to_numpy()
        front = {(p["metrics"]["latency"], p["metrics"]["energy"])
                 for p in summary["pareto_front"]}
        assert front == {tuple(c) for c in costs[pareto_front(costs)]}
