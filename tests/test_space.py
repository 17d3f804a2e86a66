"""Design-space encodings round-trip exactly, sampling stays valid, errors name the field."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archgym.space import (
    Categorical,
    Constraint,
    DesignSpace,
    Integer,
    InvalidDesignError,
    Ordinal,
    Real,
)
from tests.toy import SPACE


@st.composite
def parameters(draw, i):
    kind = draw(st.sampled_from(["categorical", "ordinal", "integer", "real"]))
    name = f"p{i}"
    if kind == "categorical":
        values = draw(st.lists(st.text("abcxyz", min_size=1, max_size=4), min_size=1,
                               max_size=6, unique=True))
        return Categorical(name, tuple(values))
    if kind == "ordinal":
        values = draw(st.lists(st.integers(-1000, 1000), min_size=1, max_size=8, unique=True))
        return Ordinal(name, tuple(sorted(values)))
    if kind == "integer":
        low = draw(st.integers(1, 50))
        return Integer(name, low, low + draw(st.integers(0, 300)), log=draw(st.booleans()))
    low = draw(st.floats(0.01, 10.0))
    return Real(name, low, low * draw(st.floats(1.5, 100.0)), log=draw(st.booleans()),
                steps=draw(st.integers(2, 100)))


@st.composite
def spaces(draw):
    n = draw(st.integers(1, 6))
    return DesignSpace([draw(parameters(i)) for i in range(n)])


@st.composite
def space_and_config(draw):
    space = draw(spaces())
    seed = draw(st.integers(0, 2**32 - 1))
    return space, space.sample(np.random.default_rng(seed))


@settings(max_examples=200, deadline=None)
@given(space_and_config())
def test_index_round_trip(sc):
    space, config = sc
    index = space.to_index(config)
    assert np.all((index >= 0) & (index < space.nvec))
    back = space.from_index(index)
    for p in space:
        if p.finite:
            assert back[p.name] == config[p.name]
    # index -> config -> index is exact for every kind (Real grid points included)
    assert np.array_equal(space.to_index(back), index)


@settings(max_examples=200, deadline=None)
@given(space_and_config())
def test_unit_and_onehot_round_trip(sc):
    space, config = sc
    u = space.to_unit(config)
    assert np.all((u >= 0) & (u <= 1))
    for enc, dec in ((space.to_unit, space.from_unit), (space.to_onehot, space.from_onehot)):
        back = dec(enc(config))
        for p in space:
            if p.finite:
                assert back[p.name] == config[p.name], (p, enc.__name__)
            else:
                assert back[p.name] == pytest.approx(config[p.name], rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(spaces())
def test_serialisation_round_trip(space):
    assert DesignSpace.from_json(space.to_json()) == space
    assert DesignSpace.from_yaml(space.to_yaml()) == space
    assert json.loads(space.to_json()) == space.to_dict()


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_sample_respects_constraints(seed):
    config = SPACE.sample(np.random.default_rng(seed))
    assert SPACE.validate(config) == config
    assert config["assoc"] <= config["size_kb"] * 4


def test_sample_is_seeded():
    a = [SPACE.sample(np.random.default_rng(7)) for _ in range(3)]
    b = [SPACE.sample(np.random.default_rng(7)) for _ in range(3)]
    assert a == b


def test_enumerate_and_size():
    space = DesignSpace([Ordinal("a", (1, 2, 4)), Categorical("b", ("x", "y")),
                         Integer("c", 0, 2)], [Constraint("c_le_a", "c <= a")])
    assert space.size == 3 * 2 * 3
    designs = list(space.enumerate())
    # a=1 excludes c=2: 2 designs fewer than the grid
    assert len(designs) == 18 - 2
    assert all(d["c"] <= d["a"] for d in designs)
    assert len({space.key(d) for d in designs}) == len(designs)


def test_validate_names_parameter_value_and_allowed():
    with pytest.raises(InvalidDesignError, match=r"'assoc'.*3.*one of 1, 2, 4, 8"):
        SPACE.validate({**SPACE.default(), "assoc": 3})
    with pytest.raises(InvalidDesignError, match="unknown parameter 'colour'"):
        SPACE.validate({**SPACE.default(), "colour": 1})
    with pytest.raises(InvalidDesignError, match="missing parameter 'ports'"):
        SPACE.validate({k: v for k, v in SPACE.default().items() if k != "ports"})
    with pytest.raises(InvalidDesignError, match=r"'ports'.*integer in \[1, 4\]"):
        SPACE.validate({**SPACE.default(), "ports": 9})
    with pytest.raises(InvalidDesignError, match="constraint 'assoc_fits'"):
        SPACE.validate({**SPACE.default(), "size_kb": 1, "assoc": 8})
    with pytest.raises(InvalidDesignError, match="'ports'"):
        SPACE.validate({**SPACE.default(), "ports": True})


def test_callable_constraint_and_groups():
    space = DesignSpace([Integer("a", 0, 3), Integer("b", 0, 3)],
                        [Constraint("sum", lambda c: c["a"] + c["b"] <= 3)])
    assert not space.is_valid({"a": 3, "b": 3})
    assert space.is_valid({"a": 1, "b": 2})
    assert space.agent_groups() == {"a": ("a",), "b": ("b",)}
    assert SPACE.agent_groups()["geometry"] == ("size_kb", "assoc")
    with pytest.raises(ValueError, match="exactly once"):
        DesignSpace([Integer("a", 0, 1)], groups={"g": ["a", "a"]})
    with pytest.raises(Exception, match="cannot be serialised"):
        space.to_json()


def test_constraint_expression_is_sandboxed():
    with pytest.raises(ValueError, match="unsupported syntax"):
        Constraint("evil", "__import__('os').system('true')").holds({})


def test_default_is_declared_default():
    assert SPACE.default() == {"size_kb": 8, "assoc": 1, "policy": "LRU", "ports": 1}


@settings(max_examples=100, deadline=None)
@given(space_and_config(), st.integers(0, 2**32 - 1))
def test_point_is_equal_exactly_when_key_is(sc, seed):
    """``point`` (in-memory sets) and ``key`` (files) tell designs apart alike, and numpy
    scalars give the same point as Python values."""
    space, a = sc
    b = space.sample(np.random.default_rng(seed))
    assert (space.point(a) == space.point(b)) == (space.key(a) == space.key(b))
    assert hash(space.point(a)) == hash(space.point(space.validate(a)))
    as_numpy = {k: np.asarray(v)[()] for k, v in a.items()}
    assert space.point(as_numpy) == space.point(a)
    assert space.key(as_numpy) == space.key(a)


def test_validate_canonicalises_numpy_and_equal_numbers_and_refuses_bools():
    space = DesignSpace([Ordinal("a", (1, 2, 4)), Categorical("b", ("x", True))])
    clean = space.validate({"a": np.int64(2), "b": np.str_("x")})
    assert clean == {"a": 2, "b": "x"}
    assert type(clean["a"]) is int and type(clean["b"]) is str
    assert space.validate({"a": 4.0, "b": True}) == {"a": 4, "b": True}
    assert type(space.validate({"a": 4.0, "b": True})["a"]) is int  # the declared value
    for bad in ({"a": True, "b": "x"}, {"a": 2, "b": 1}, {"a": [2], "b": "x"},
                {"a": np.bool_(True), "b": "x"}):
        with pytest.raises(InvalidDesignError, match="is not allowed"):
            space.validate(bad)


def test_satisfies_agrees_with_validation_on_in_domain_designs():
    """What ``Memo.fresh`` relies on: for designs built from index vectors, checking the
    constraints alone gives the full validation's verdict."""
    rng = np.random.default_rng(0)
    verdicts = set()
    for _ in range(300):
        config = SPACE.from_index(rng.integers(SPACE.nvec))
        verdicts.add(SPACE.satisfies(config))
        assert SPACE.satisfies(config) == SPACE.is_valid(config)
    assert verdicts == {True, False}  # both kinds of design were met


def test_from_index_names_the_parameter_out_of_range():
    with pytest.raises(InvalidDesignError, match=r"'policy': index 3 out of range 0..2"):
        SPACE.from_index([0, 0, 3, 0])
    with pytest.raises(InvalidDesignError, match=r"'size_kb': index -1 out of range"):
        SPACE.from_index([-1, 0, 0, 0])
