"""Searcher registry, hyper-parameter checking, and the two simplest searchers."""

import numpy as np
import pytest

import agents
from archgym.errors import ArchGymError
from tests.toy import SPACE


def test_registry_lists_and_makes():
    assert {"random", "random-walk"} <= set(agents.available())
    s = agents.make("random", SPACE, seed=0)
    assert SPACE.is_valid(s.ask())
    with pytest.raises(ArchGymError, match="unknown searcher 'nope'.*random"):
        agents.make("nope", SPACE)


def test_unknown_or_mistyped_hyperparameters_are_refused():
    with pytest.raises(ArchGymError, match="no hyper-parameter 'steps'.*num_changes"):
        agents.make("random-walk", SPACE, steps=3)
    with pytest.raises(ArchGymError, match="'num_changes' must be int"):
        agents.make("random-walk", SPACE, num_changes="two")
    assert agents.make("random-walk", SPACE, restart_prob=1).hparams["restart_prob"] == 1.0


@pytest.mark.parametrize("name", ["random", "random-walk"])
def test_same_seed_same_proposals(name):
    a, b, c = (agents.make(name, SPACE, seed=s) for s in (5, 5, 6))
    pa = [a.ask() for _ in range(30)]
    assert pa == [b.ask() for _ in range(30)]
    assert pa != [c.ask() for _ in range(30)]


def test_random_walk_moves_to_neighbours():
    walk = agents.make("random-walk", SPACE, seed=1, num_changes=1)
    prev = walk.ask()
    assert prev == SPACE.default()
    for _ in range(200):
        cur = walk.ask()
        assert SPACE.is_valid(cur)
        diff = SPACE.to_index(cur) - SPACE.to_index(prev)
        changed = np.flatnonzero(diff)
        assert len(changed) == 1
        p = SPACE.parameters[changed[0]]
        if p.kind != "categorical":
            assert abs(diff[changed[0]]) == 1
        prev = cur


def test_random_search_covers_the_space():
    s = agents.make("random", SPACE, seed=0)
    seen = {SPACE.key(s.ask()) for _ in range(2000)}
    assert len(seen) > 0.8 * len(list(SPACE.enumerate()))
