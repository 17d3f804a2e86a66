"""Program format: reader/writer round trip, live ranges, and malformed programs (each
error names the file, the tensor or op, and the field)."""

from __future__ import annotations

import copy
import json

import pytest

from simulators.memmap import ProgramError, program_from_dict, read_program, write_program
from workloads import memmap as workloads

BASE = {
    "schema": "archgym-memmap-program/1",
    "name": "tiny",
    "tensors": [{"name": "a", "size": 1024}, {"name": "b", "size": 2048},
                {"name": "c", "size": 512}],
    "ops": [{"name": "op0", "flops": 100, "reads": [0], "writes": [1]},
            {"name": "op1", "flops": 0, "reads": [1], "writes": [2]},
            {"name": "op2", "flops": 1.5e3, "reads": [2, 0], "writes": []}],
    "hierarchy": {"fast": {"capacity_bytes": 4096, "bandwidth_bytes_per_s": 2e12,
                           "alignment_bytes": 256},
                  "slow": {"bandwidth_bytes_per_s": 1e11}, "peak_flops": 1e12},
}


def test_live_ranges_are_inclusive_first_to_last_use():
    p = program_from_dict(BASE)
    assert p.live_ranges == ((0, 2), (0, 1), (1, 2))
    assert p.uses == ((0, 2), (0, 1), (1, 2))


def test_round_trip(tmp_path):
    for name in ("s01", "gpt2_decode"):
        p = program_from_dict(BASE) if name == "s01" else workloads.load(name)
        write_program(p, tmp_path / "p.json")
        q = read_program(tmp_path / "p.json")
        assert q == p and q.to_dict() == p.to_dict()
    assert not list(tmp_path.glob(".*.tmp"))


def mutate(path, value):
    d = copy.deepcopy(BASE)
    *keys, last = path
    obj = d
    for k in keys:
        obj = obj[k]
    if value is KeyError:
        del obj[last]
    else:
        obj[last] = value
    return d


@pytest.mark.parametrize("path, value, expect", [
    (("schema",), "archgym-memmap-program/2", "field 'schema'"),
    (("tensors", 1, "size"), 0, "tensors[1] ('b'): field 'size' must be an integer >= 1"),
    (("tensors", 1, "size"), -5, "tensors[1] ('b'): field 'size'"),
    (("tensors", 1, "size"), 10.5, "tensors[1] ('b'): field 'size'"),
    (("tensors", 1, "size"), True, "tensors[1] ('b'): field 'size'"),
    (("tensors", 0, "name"), KeyError, "tensors[0]: missing field 'name'"),
    (("ops", 1, "reads"), [3], "ops[1] ('op1'): field 'reads'[0] = 3 is not a tensor index"),
    (("ops", 2, "writes"), [-1], "ops[2] ('op2'): field 'writes'[0] = -1"),
    (("ops", 0, "flops"), -1, "ops[0] ('op0'): field 'flops' must be a finite number >= 0"),
    (("ops", 0, "flops"), "many", "ops[0] ('op0'): field 'flops'"),
    (("ops", 0, "reads"), KeyError, "ops[0] ('op0'): missing field 'reads'"),
    (("hierarchy", "fast", "capacity_bytes"), -1, "hierarchy.fast: field 'capacity_bytes'"),
    (("hierarchy", "fast", "alignment_bytes"), 0, "hierarchy.fast: field 'alignment_bytes'"),
    (("hierarchy", "fast", "bandwidth_bytes_per_s"), 0,
     "hierarchy.fast: field 'bandwidth_bytes_per_s' must be a finite number > 0"),
    (("hierarchy", "slow", "bandwidth_bytes_per_s"), float("inf"), "hierarchy.slow"),
    (("hierarchy", "peak_flops"), -3, "hierarchy: field 'peak_flops'"),
    (("hierarchy", "slow"), KeyError, "hierarchy: missing field 'slow'"),
    (("ops",), [], "field 'ops' must be a non-empty list"),
])
def test_malformed_programs_name_file_element_and_field(tmp_path, path, value, expect):
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(mutate(path, value)))
    with pytest.raises(ProgramError) as e:
        read_program(f)
    assert str(e.value).startswith(str(f)) and expect in str(e.value)


def test_untouched_tensor_is_an_error(tmp_path):
    d = copy.deepcopy(BASE)
    d["tensors"].append({"name": "orphan", "size": 64})
    with pytest.raises(ProgramError, match=r"tensors\[3\] \('orphan'\): no op reads or writes"):
        program_from_dict(d, source="x.json")


def test_invalid_json_names_line(tmp_path):
    f = tmp_path / "broken.json"
    f.write_text('{\n "schema": "archgym-memmap-program/1",\n "name": \n}')
    with pytest.raises(ProgramError, match=r"broken.json: line 4 column 1: invalid JSON"):
        read_program(f)


def test_integral_floats_are_accepted_where_integers_are_required():
    d = mutate(("tensors", 1, "size"), 2048.0)
    assert program_from_dict(d).tensors[1].size == 2048
