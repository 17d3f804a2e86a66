"""Trace reader and writer: both formats, plain and gzip, errors that name file and line."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulators.dram.trace import Trace, TraceFormatError, read_trace, write_trace


def _trace(n=200, seed=0) -> Trace:
    rng = np.random.default_rng(seed)
    addr = rng.integers(0, 1 << 40, n, dtype=np.uint64)
    addr[0] = np.uint64(0)
    addr[-1] = np.uint64((1 << 64) - 1)  # the full 64-bit range survives
    return Trace(addr, rng.random(n) < 0.4, np.cumsum(rng.integers(0, 5, n)), "t")


def _same(a: Trace, b: Trace) -> None:
    assert a.addr.dtype == np.uint64 and a.cycle.dtype == np.int64 and a.is_write.dtype == bool
    assert np.array_equal(a.addr, b.addr)
    assert np.array_equal(a.is_write, b.is_write)
    assert np.array_equal(a.cycle, b.cycle)


@pytest.mark.parametrize("name, fmt", [
    ("x.trace", "dramsim3"), ("x.trace.gz", "dramsim3"), ("x.stl", "stl"), ("x.stl.gz", "stl"),
])
def test_round_trip(tmp_path, name, fmt):
    tr = _trace()
    p = write_trace(tr, tmp_path / name, format=fmt)
    raw = p.read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == name.endswith(".gz")
    text = gzip.decompress(raw).decode() if name.endswith(".gz") else raw.decode()
    first = text.splitlines()[0]
    if fmt == "stl":
        assert first == f"{tr.cycle[0]}:\t{'write' if tr.is_write[0] else 'read'}\t0x0"
    else:
        assert first == f"0x0 {'WRITE' if tr.is_write[0] else 'READ'} {tr.cycle[0]}"
    back = read_trace(p)  # format detected from the name / content
    _same(back, tr)
    assert back.name == "x" and len(back) == len(tr)
    _same(read_trace(p, format=fmt), tr)
    assert not list(tmp_path.glob(".*tmp"))  # atomic write leaves no temporary behind


def test_format_detected_from_content_and_gzip_from_magic(tmp_path):
    tr = _trace(50)
    p = write_trace(tr, tmp_path / "a.stl", format="stl")
    q = tmp_path / "renamed.txt"
    q.write_bytes(gzip.compress(p.read_bytes()))  # gzip without .gz, stl without .stl
    _same(read_trace(q), tr)


def test_lenient_forms_parse_like_canonical(tmp_path):
    # comments, blank lines, CRLF, no 0x, lower-case ops, DRAMSys data and length fields
    d3 = tmp_path / "a.trace"
    d3.write_text("# header\n\n0x40 READ 0\r\n  80\twrite  3  # tail\n0XfF read 3\n")
    t = read_trace(d3)
    assert t.addr.tolist() == [0x40, 0x80, 0xFF]
    assert t.is_write.tolist() == [False, True, False]
    assert t.cycle.tolist() == [0, 3, 3]
    stl = tmp_path / "b.stl"
    stl.write_text("0: read 0x40\n5:\twrite\t0x80\t0x0123456789abcdef\n7 : read (64) 0x100\n")
    t = read_trace(stl)
    assert t.addr.tolist() == [0x40, 0x80, 0x100]
    assert t.is_write.tolist() == [False, True, False]
    assert t.cycle.tolist() == [0, 5, 7]


@pytest.mark.parametrize("content, fmt, line, expect", [
    ("0x0 READ 0\n0x40 FETCH 1\n", "dramsim3", 2, "unknown operation 'FETCH'"),
    ("0x0 READ 0\n\n0x40 READ\n", "dramsim3", 3, "expected '0x<hex address> READ|WRITE"),
    ("0x0 READ 0\n0xZZ READ 4\n", "dramsim3", 2, "cannot parse"),
    ("0x0 READ 5\n0x40 READ 4\n", "dramsim3", 2, "cycle 4 is earlier than the previous"),
    ("1: read 0x0\n2: read\n", "stl", 2, "expected '<cycle>: read|write 0x<hex address>"),
    ("1: read 0x0\n0x40 READ 4\n", "stl", 2, "looks like a DRAMsim3 line"),
    ("0x0 READ 0\n3: read 0x40\n", "dramsim3", 2, "looks like a DRAMSys .stl line"),
    ("0x10000000000000000 READ 0\n", "dramsim3", 1, "does not fit in 64 bits"),
])
def test_malformed_lines_name_file_and_line(tmp_path, content, fmt, line, expect):
    p = tmp_path / "bad.trace"
    p.write_text(content)
    with pytest.raises(TraceFormatError, match=rf"bad\.trace:{line}: .*{expect}"):
        read_trace(p, format=fmt)
    g = tmp_path / "bad.trace.gz"
    g.write_bytes(gzip.compress(content.encode()))
    with pytest.raises(TraceFormatError, match=rf"bad\.trace\.gz:{line}: "):
        read_trace(g, format=fmt)


def test_empty_bad_format_and_errors_are_value_errors(tmp_path):
    p = tmp_path / "empty.trace"
    p.write_text("# only a comment\n\n")
    with pytest.raises(TraceFormatError, match="empty"):
        read_trace(p)
    with pytest.raises(TraceFormatError, match="dramsim3, stl"):
        read_trace(p, format="csv")
    with pytest.raises(FileNotFoundError, match="nope.trace"):
        read_trace(tmp_path / "nope.trace")
    bad_gz = tmp_path / "x.trace.gz"
    bad_gz.write_bytes(b"\x1f\x8b" + b"garbage")
    with pytest.raises(TraceFormatError, match="gzip"):
        read_trace(bad_gz)
    assert issubclass(TraceFormatError, ValueError)
    with pytest.raises(ValueError, match="empty"):
        write_trace(Trace(np.zeros(0, np.uint64), np.zeros(0, bool), np.zeros(0, np.int64)),
                    tmp_path / "e.trace")
    with pytest.raises(ValueError, match="non-decreasing"):
        write_trace(Trace(np.zeros(2, np.uint64), np.zeros(2, bool), np.array([3, 1])),
                    tmp_path / "e.trace")


def test_cli_user_errors_turn_trace_errors_into_one_line(tmp_path):
    import typer

    from archgym.app.console import user_errors

    p = tmp_path / "bad.trace"
    p.write_text("0x0 READ x\n")
    with pytest.raises(typer.Exit) as ei, user_errors():
        read_trace(p)
    assert ei.value.exit_code == 2


_traces = st.integers(1, 60).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, (1 << 64) - 1), min_size=n, max_size=n),
    st.lists(st.booleans(), min_size=n, max_size=n),
    st.lists(st.integers(0, 10**6), min_size=n, max_size=n),
))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_traces, fmt=st.sampled_from(["dramsim3", "stl"]), gz=st.booleans())
def test_round_trip_property(tmp_path, data, fmt, gz):
    addr, wr, gaps = data
    tr = Trace(np.array(addr, dtype=np.uint64), np.array(wr, dtype=bool),
               np.cumsum(np.array(gaps, dtype=np.int64)))
    p = write_trace(tr, tmp_path / f"h.{'stl' if fmt == 'stl' else 'trace'}{'.gz' * gz}", fmt)
    _same(read_trace(p), tr)


def test_million_lines_vectorised(tmp_path):
    # the fast path handles a large canonical file (correctness only; speed is a benchmark)
    n = 200_000
    rng = np.random.default_rng(1)
    tr = Trace(rng.integers(0, 1 << 36, n, dtype=np.uint64), rng.random(n) < 1 / 3,
               np.arange(n, dtype=np.int64) * 3)
    _same(read_trace(write_trace(tr, tmp_path / "big.trace.gz")), tr)
