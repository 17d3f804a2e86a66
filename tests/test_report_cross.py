"""The cross-environment report's numbers on hand-made data (known answers): normalised
quality, references (the env's proven optimum vs the dataset's best), ranks with ties, the
rank table's means; the env hook on MemoryMapping-v0; the shipped all_envs.yaml."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import agents
from archgym import registry
from archgym.app import report, sweep
from archgym.app.report_cross import (
    normalised_quality,
    quality_table,
    rank_table,
    references,
)
from archgym.contract import BestKnown

ROOT = Path(__file__).resolve().parents[1]


def test_normalised_quality_known_answers():
    # a maximised metric (reward > 0): share of the best
    assert normalised_quality([10, 5, 0, -2], 10).tolist() == [1.0, 0.5, 0.0, -0.2]
    # a minimised metric (reward = -metric / scale): best metric / this run's metric
    assert normalised_quality([-2.0, -4.0, -8.0], -2.0).tolist() == [1.0, 0.5, 0.25]
    q = normalised_quality([1.0, np.nan, -1.0], [0.0, 3.0, np.inf])
    assert np.isnan(q).all()  # undefined at b == 0, for a missing run, an infinite b


def _runs(spec):
    """Runs from {(problem, searcher): [final best per seed]} with the columns summarize
    reads."""
    rows = []
    for (problem, searcher), finals in spec.items():
        for seed, f in enumerate(finals):
            rows.append({"run_id": f"{problem}-{searcher}-{seed}", "problem": problem,
                         "env_id": f"archgym/{problem}", "searcher": searcher,
                         "hparams": "{}", "seed": seed, "evaluations": 10,
                         "final_best": float(f), "gap_pct": math.nan,
                         "evals_to_target": math.inf})
    return pd.DataFrame(rows)


# P maximises (best 10), Q minimises (best -1); D runs on P only and ties A there
SPEC = {("P", "A"): [10, 10, 10], ("P", "B"): [5, 5, 5], ("P", "C"): [8, 8, 8],
        ("P", "D"): [10, 10, 10],
        ("Q", "A"): [-2, -2, -2], ("Q", "B"): [-1, -1, -1], ("Q", "C"): [-4, -4, -4]}


def test_quality_ranks_and_rank_table_known_answers():
    runs = _runs(SPEC)
    refs = references(runs, {})
    assert refs.set_index("problem")["reference"].to_dict() == {"P": 10.0, "Q": -1.0}
    assert (refs["reference_source"] == "best final reward in this dataset").all()
    quality = quality_table(runs, report.summarize(runs), refs)
    got = {(r.problem, r.searcher): (r.quality_median, r.rank, r.reached_reference)
           for r in quality.itertuples()}
    assert got == {("P", "A"): (1.0, 1.5, 1.0), ("P", "D"): (1.0, 1.5, 1.0),
                   ("P", "C"): (0.8, 3.0, 0.0), ("P", "B"): (0.5, 4.0, 0.0),
                   ("Q", "B"): (1.0, 1.0, 1.0), ("Q", "A"): (0.5, 2.0, 0.0),
                   ("Q", "C"): (0.25, 3.0, 0.0)}
    ranks = rank_table(quality)
    assert list(ranks["searcher"]) == ["D", "A", "B", "C"]  # by mean rank
    assert ranks["mean_rank"].tolist() == [1.5, 1.75, 2.5, 3.0]
    assert ranks["problems"].tolist() == [1, 2, 2, 2]
    assert ranks.set_index("searcher")["median_quality"].to_dict() == \
        {"A": 0.75, "B": 0.75, "C": 0.525, "D": 1.0}
    assert math.isnan(ranks.set_index("searcher").loc["D", "Q"])


def test_quality_median_and_ci_over_seeds():
    runs = _runs({("P", "A"): [10, 5, 8, 4, 2], ("P", "B"): [1, 1, 1, 1, 1]})
    quality = quality_table(runs, report.summarize(runs), references(runs, {}))
    a = quality.set_index("searcher").loc["A"]
    assert a["quality_median"] == 0.5 and a["reached_reference"] == 0.2
    assert 0.2 <= a["quality_ci_low"] <= 0.5 <= a["quality_ci_high"] <= 1.0
    assert quality["rank"].tolist() == [1.0, 2.0]


def test_reference_from_env_proven_optimum_and_a_run_above_it():
    runs = _runs(SPEC)
    refs = references(runs, {"P": BestKnown(20.0, True, "exact solver"),
                             "Q": BestKnown(-1.5, True, "broken solver")}).set_index("problem")
    assert refs.loc["P", "reference"] == 20.0 and refs.loc["P", "proven"]
    assert refs.loc["P", "reference_source"] == "proven optimum: exact solver"
    assert refs.loc["P", "note"] == ""
    quality = quality_table(runs, report.summarize(runs), refs.reset_index())
    assert quality.set_index(["problem", "searcher"]).loc[("P", "A"), "quality_median"] == 0.5
    # a run at -1 beat the "proven" optimum -1.5: the dataset's best is used, and flagged
    assert refs.loc["Q", "reference"] == -1.0 and not refs.loc["Q", "proven"]
    assert "above the proven optimum" in refs.loc["Q", "note"]


def test_memory_mapping_best_known_is_reached_by_a_played_episode_and_bounds_the_view():
    from simulators.memmap import actions_for, optimal

    env = registry.make("archgym/MemoryMapping-v0", program="small_mlp")
    base = env.unwrapped
    known = base.best_known()
    assert known.proven and "small_mlp" in known.source and known.reward > 1.0  # > greedy
    # the minimum-time placement, played through the slots, scores exactly that reward
    b = base.source.baseline(0)
    fast = {i for i, o in enumerate(optimal(b.program, model=b.model).placement)
            if o is not None}
    env.reset(seed=0)
    plan = actions_for(base.game.program, fast, base.num_slots)
    for action in plan:
        _, reward, terminated, _, info = env.step(action)
    assert terminated and info["valid"] and reward == pytest.approx(known.reward, rel=1e-12)
    # the design-point view is the same problem; none of its 4,096 designs beats the optimum
    # (its greedy packer cannot reach it on this program: a ceiling for black-box searchers)
    view = base.design_point_view().unwrapped
    assert view.best_known() == known
    rewards = [view.objective.reward(view.evaluate(c)) for c in view.space.enumerate()]
    assert 1.0 <= max(rewards) < known.reward
    # an objective the minimum-time placement does not decide: no claim
    assert registry.make("archgym/MemoryMapping-v0", program="small_mlp",
                         objective="energy_j").unwrapped.best_known() is None
    assert registry.make("archgym/Toy-v0").unwrapped.best_known() is None


def test_policies_and_sequential_searchers_apply_only_where_they_run():
    design = registry.make("archgym/Toy-v0")
    seq = registry.make("archgym/MemoryMapping-v0")
    assert not agents.applies("maskable-ppo", design)  # it drives sequential envs only
    assert agents.applies("maskable-ppo", seq) and agents.applies("random", seq)
    assert agents.applies("random", design)
    assert not agents.applies("greedy-placement", design)


def test_shipped_all_envs_config_covers_every_env_and_family():
    plan = sweep.load_config(ROOT / "experiments" / "configs" / "all_envs.yaml")
    envs = {j.env_id for j in plan.jobs}
    assert envs == {e for e in registry.env_ids() if e.startswith("archgym/")
                    and "Toy" not in e}
    pairs = {(j.env_id, j.searcher) for j in plan.jobs}
    for env_id in envs:
        env = registry.make(env_id)
        for name in ("random", "bo", "ppo", "marl-ppo", "maskable-ppo",
                     *registry.policy_names(env_id)):
            assert ((env_id, name) in pairs) == agents.applies(name, env), (env_id, name)
    assert len(plan.seeds) >= 30 and len({j.budget for j in plan.jobs}) == 1
    reduced = sweep.first_seeds(plan, 2)
    assert reduced.seeds == plan.seeds[:2]
    assert {j.run_id for j in reduced.jobs} == {j.run_id for j in plan.jobs
                                                if j.seed in plan.seeds[:2]}
