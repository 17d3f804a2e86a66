"""Black-box searchers on the ask/tell interface, checked on the Toy cache problem.

Generic tests (determinism, validity, invalid results, unknown hyper-parameters) run for
every registered black-box searcher (RL searchers, which train through the env, are left
out); the rest test grid, LHS, Sobol, GA and ACO specifically.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

import agents
from archgym.errors import ArchGymError
from archgym.objectives import Optimize
from archgym.space import Categorical, DesignSpace, Integer, Ordinal, Real
from tests.toy import SPACE, ToyEvaluator

RL = {"ppo", "a2c", "dqn", "sac", "td3", "marl-ppo"}
#: too slow for these generic loops (a GP fit per step, up to seconds each on a busy 2-core
#: box); they have their own tests
EXPENSIVE = {"bo", "gp-optuna"}
BLACK_BOX = [n for n in agents.available() if n not in RL | EXPENSIVE]
OURS = ["grid", "lhs", "sobol", "ga", "aco"]

EVALUATOR = ToyEvaluator()
OBJECTIVE = Optimize(EVALUATOR.metric_specs[0])  # minimise latency
DESIGNS = list(SPACE.enumerate())
OPTIMUM = max(OBJECTIVE.reward(EVALUATOR.evaluate(c)) for c in DESIGNS)


def make(name, seed=0, **hp):
    cls = agents.searcher_class(name)
    if hasattr(cls, "learn"):
        pytest.skip(f"{name} trains through the env (RL), not ask/tell")
    return agents.make(name, SPACE, seed=seed, **hp)


def drive(searcher, steps):
    """Ask/tell on the Toy evaluator; returns the proposals and their rewards."""
    configs, rewards = [], []
    for _ in range(steps):
        c = searcher.ask()
        m = EVALUATOR.evaluate(c)
        r = OBJECTIVE.reward(m)
        searcher.tell(c, m, r)
        configs.append(c)
        rewards.append(r)
    return configs, rewards


@pytest.mark.parametrize("name", BLACK_BOX)
def test_same_seed_same_proposals(name):
    a, _ = drive(make(name, seed=3), 12)
    b, _ = drive(make(name, seed=3), 12)
    assert a == b
    if name in OURS or name == "random":
        c, _ = drive(make(name, seed=4), 12)
        assert a != c


@pytest.mark.parametrize("name", BLACK_BOX)
def test_proposals_are_valid_and_invalid_results_are_survived(name):
    """Every proposal satisfies the space (with its constraint); a searcher told that some
    designs were invalid (``metrics=None``) keeps proposing valid ones."""
    s = make(name, seed=1)
    for step in range(16):
        c = s.ask()
        assert SPACE.is_valid(c), c
        if step % 3 == 0:
            s.tell(c, None, -math.inf)
        else:
            m = EVALUATOR.evaluate(c)
            s.tell(c, m, OBJECTIVE.reward(m))


@pytest.mark.parametrize("name", BLACK_BOX)
def test_unknown_hyperparameter_is_refused(name):
    with pytest.raises(ArchGymError, match="no hyper-parameter 'bogus'"):
        agents.make(name, SPACE, bogus=1)


@pytest.mark.parametrize(("name", "hparams", "match"), [
    ("grid", {"points_per_dim": 0}, "points_per_dim must be >= 1"),
    ("grid", {"shuffle": "yes"}, "'shuffle' must be bool"),
    ("lhs", {"batch_size": 0}, "batch_size must be >= 1"),
    ("sobol", {"batch_size": 48}, "power of two"),
    ("ga", {"population_size": 1}, "population_size must be >= 2"),
    ("ga", {"crossover_prob": 1.5}, r"crossover_prob must be in \[0, 1\]"),
    ("ga", {"mutation_prob": 2.0}, "mutation_prob must be a number"),
    ("ga", {"mutation_prob": "often"}, "mutation_prob must be a number"),
    ("ga", {"elite": 20}, "elite must be in 0..19"),
    ("ga", {"tournament_size": 0}, "tournament_size must be >= 1"),
    ("aco", {"ants": 0}, "ants must be >= 1"),
    ("aco", {"evaporation": 0.0}, r"evaporation must be in \(0, 1\]"),
    ("aco", {"alpha": -1.0}, "alpha and beta must be >= 0"),
    ("aco", {"greediness": 2.0}, r"greediness must be in \[0, 1\]"),
])
def test_bad_hyperparameters_are_refused(name, hparams, match):
    with pytest.raises(ArchGymError, match=match):
        agents.make(name, SPACE, **hparams)


#: evaluations each searcher gets to hit the exact Toy optimum (324 designs): grid's is the
#: space's size (a guarantee); the others' are about twice the worst of seeds 0-9 measured.
TOY_BUDGET = {"grid": len(DESIGNS), "lhs": 400, "sobol": 400, "ga": 150, "aco": 150}


@pytest.mark.parametrize("name", OURS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_finds_the_toy_optimum_within_budget(name, seed):
    _, rewards = drive(agents.make(name, SPACE, seed=seed), TOY_BUDGET[name])
    assert max(rewards) == OPTIMUM


@pytest.mark.parametrize("shuffle", [True, False])
def test_grid_enumerates_every_design_exactly_once(shuffle):
    g = agents.make("grid", SPACE, seed=7, shuffle=shuffle)
    first = [SPACE.key(g.ask()) for _ in DESIGNS]
    assert Counter(first) == Counter(SPACE.key(c) for c in DESIGNS)
    if not shuffle:
        assert first == [SPACE.key(c) for c in DESIGNS]
    # a second pass starts over: every design again, once
    second = [SPACE.key(g.ask()) for _ in DESIGNS]
    assert sorted(second) == sorted(first)
    assert (second != first) == shuffle


def test_grid_discretises_reals_and_log_integers():
    space = DesignSpace([Real("r", 0.0, 1.0), Integer("n", 1, 1000, log=True),
                         Integer("k", 0, 2), Categorical("c", ("a", "b"))])
    g = agents.make("grid", space, points_per_dim=4)
    seen = [g.ask() for _ in range(g.size)]
    assert g.size == 4 * 4 * 3 * 2
    assert sorted({c["r"] for c in seen}) == pytest.approx([0, 1 / 3, 2 / 3, 1])
    assert sorted({c["n"] for c in seen}) == [1, 10, 100, 1000]
    assert len({space.key(c) for c in seen}) == g.size


@pytest.mark.parametrize("name", ["lhs", "sobol"])
def test_qmc_points_are_stratified_over_values(name):
    """64 points over 8 values x 4 values: a Latin hypercube or Sobol batch puts exactly
    64/8 and 64/4 points in each bin (uniform random would not)."""
    space = DesignSpace([Ordinal("a", tuple(range(8))), Categorical("b", tuple("wxyz"))])
    s = agents.make(name, space, seed=5, unique=False)
    seen = [s.ask() for _ in range(64)]
    assert set(Counter(c["a"] for c in seen).values()) == {8}
    assert set(Counter(c["b"] for c in seen).values()) == {16}


@pytest.mark.parametrize("name", ["lhs", "sobol", "ga", "aco"])
def test_no_design_is_proposed_twice_while_new_ones_remain(name):
    configs, _ = drive(agents.make(name, SPACE, seed=2), 150)
    assert len({SPACE.key(c) for c in configs}) == 150


@pytest.mark.parametrize("space", [SPACE, DesignSpace(list(SPACE.parameters))],
                         ids=["constrained", "free"])
def test_ga_hands_out_bred_children_as_memo_fresh_row_decides(space, monkeypatch):
    """``ask_rows`` (children by block, keys made per block) takes the decisions
    ``Memo.fresh_row`` takes child by child: a GA copied mid-run proposes the same rows
    either way, across generations and on until the toy space (336 designs) runs out, so
    that every bred child was proposed before and the 64-try fallback decides (the GA
    without constraints runs through ``_children``, with them through ``fresh_row``)."""
    import copy

    from agents.memo import Memo

    fallbacks = []
    inner = Memo.random_new_row
    monkeypatch.setattr(Memo, "random_new_row",
                        lambda self, *a, **k: fallbacks.append(1) or inner(self, *a, **k))
    ga = agents.make("ga", space, seed=3, population_size=6, elite=1)
    rng = np.random.default_rng(0)
    for _ in range(80):  # about 400 proposals
        twin = copy.deepcopy(ga)
        rows = ga.ask_rows(ga.batch_limit())
        ref = np.array([twin.memo.fresh_row(twin._draw, twin.rng)
                        for _ in range(twin.batch_limit())])
        assert np.array_equal(rows, ref) and twin.rng.random() == ga.rng.random()
        ga.tell_rows(rows, -rng.random(len(rows)), np.ones(len(rows), bool))
    assert ga.generation > 50 and len(fallbacks) > 10


def test_row_keys_are_each_rows_bytes():
    from agents.memo import row_keys

    rows = np.random.default_rng(1).integers(0, 9, size=(7, 4))
    assert row_keys(rows) == [r.astype(np.int64).tobytes() for r in rows]


def test_ga_told_many_at_once_is_told_one_by_one():
    """``tell_rows`` with more results than a generation holds forms each generation where
    single tells would: the same populations, generation count and proposals after."""
    rng = np.random.default_rng(2)
    rows = np.array([SPACE.to_index(SPACE.sample(rng)) for _ in range(23)])
    rewards = -rng.random(23)
    batch, single = (agents.make("ga", SPACE, seed=5, population_size=6, elite=1)
                     for _ in range(2))
    batch.tell_rows(rows, rewards, np.ones(23, bool))
    for row, r in zip(rows, rewards, strict=True):
        single.tell_rows(row[None, :], np.array([r]), np.ones(1, bool))
    assert batch.generation == single.generation == 3
    assert [(g.tolist(), f) for g, f in batch.population] == \
        [(g.tolist(), f) for g, f in single.population]
    assert batch._told == single._told == 2
    assert np.array_equal(batch.ask_rows(3), single.ask_rows(3))


def test_ga_mutation_respects_parameter_kinds():
    """Children of a one-design population (no crossover to hide behind) with every gene
    mutated: a categorical gene always changes, to each other choice about equally often;
    any other gene moves one step, both ways where both exist."""
    ga = agents.make("ga", SPACE, seed=0, mutation_prob=1.0, crossover_prob=0.0)
    for _ in range(20):
        genes = SPACE.to_index(SPACE.sample(ga.rng))
        ga.genes, ga.fit = np.array([genes] * 4), np.zeros(4)
        children = ga._breed(300)
        for i, p in enumerate(SPACE):
            moves = children[:, i] - genes[i]
            if p.kind == "categorical":
                counts = np.bincount(children[:, i], minlength=p.cardinality)
                assert counts[genes[i]] == 0
                assert counts.sum() - counts.max() >= 300 // p.cardinality  # spread out
            else:
                assert set(np.abs(moves)) == {1}
                inner = 0 < genes[i] < p.cardinality - 1
                assert set(moves) == ({-1, 1} if inner else {1 if genes[i] == 0 else -1})


def test_ga_elitism_never_loses_the_best():
    ga = agents.make("ga", SPACE, seed=4, population_size=10, elite=1)
    best_per_generation = []
    for _ in range(120):
        c = ga.ask()
        m = EVALUATOR.evaluate(c)
        ga.tell(c, m, OBJECTIVE.reward(m))
        if ga.population:
            best_per_generation.append(max(f for _, f in ga.population))
    assert ga.generation >= 10
    assert best_per_generation == sorted(best_per_generation)


def test_aco_pheromone_concentrates_on_the_best_design():
    aco = agents.make("aco", SPACE, seed=0)
    configs, rewards = drive(aco, 150)
    best = SPACE.to_index(configs[int(np.argmax(rewards))])
    assert aco.iterations == 15
    for i, tau in enumerate(aco.tau):
        assert int(np.argmax(tau)) == best[i]
    assert all(t.min() >= 0.01 for t in aco.tau)


@pytest.mark.parametrize("name", OURS)
def test_results_for_designs_outside_the_space_are_ignored(name):
    s = agents.make(name, SPACE, seed=0)
    s.tell({**SPACE.default(), "size_kb": 3}, None, -math.inf)
    s.tell({"size_kb": 8}, None, float("nan"))
    assert SPACE.is_valid(s.ask())
