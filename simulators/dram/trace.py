"""DRAM request traces: the :class:`Trace` container, a reader and a writer.

Two text formats, one request per line, cycles in memory clock cycles:

- DRAMsim3: ``0x<addr> READ|WRITE <cycle>`` (``0x`` optional, op case-insensitive);
- DRAMSys ``.stl``: ``<cycle>: read|write 0x<addr>``, optionally followed by the write data
  (``0x<hex>``) that DRAMSys' trace player accepts; the timing model ignores it. A length in
  parentheses (``(64)``) before the address is accepted too (newer DRAMSys players).

Blank lines and ``#`` comments are skipped. Files may be gzip-compressed (recognised by their
magic bytes, whatever the name). The reader streams the file in blocks (:func:`iter_trace`)
and parses each with a compiled byte scanner (tens of millions of lines a second); only when
that scanner meets a line it does not accept does it take the regular-expression path, to name
the first bad line and what it expected.
"""

from __future__ import annotations

import gzip
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

FORMATS = ("dramsim3", "stl")
BLOCK_BYTES = 4 << 20  #: bytes of text parsed at a time
_GZIP_MAGIC = b"\x1f\x8b"

_HEX = r"(?:0[xX])?([0-9a-fA-F]+)"
_SP = r"[ \t]+"
_END = r"[ \t\r]*(?:#[^\n]*)?$"
_PATTERNS = {
    "dramsim3": re.compile(rf"^[ \t]*{_HEX}{_SP}([A-Za-z]+){_SP}([0-9]+){_END}", re.M),
    "stl": re.compile(
        rf"^[ \t]*([0-9]+)[ \t]*:[ \t]*([A-Za-z]+){_SP}(?:\([0-9]+\){_SP})?{_HEX}"
        rf"(?:{_SP}(?:0[xX])?[0-9a-fA-F]+)?{_END}", re.M),
}
# column of (addr, op, cycle) in each pattern's groups
_GROUPS = {"dramsim3": (0, 1, 2), "stl": (2, 1, 0)}
_EXPECTED = {
    "dramsim3": "'0x<hex address> READ|WRITE <cycle>'",
    "stl": "'<cycle>: read|write 0x<hex address> [0x<data>]'",
}
_CONTENT = re.compile(r"^[ \t\r]*[^\s#]", re.M)


class TraceFormatError(ValueError):
    """A trace file that cannot be read: names the file, the line and what was expected."""


@dataclass(frozen=True)
class Trace:
    """Requests in arrival order: byte address, write flag, arrival cycle (non-decreasing)."""

    addr: np.ndarray
    is_write: np.ndarray
    cycle: np.ndarray
    name: str = ""

    def __len__(self) -> int:
        return int(np.asarray(self.addr).size)


def _name(p: Path) -> str:
    n = p.name
    for suf in (".gz", ".stl", ".trace", ".txt"):
        if n.endswith(suf) and len(n) > len(suf):
            n = n[: -len(suf)]
    return n


def _open(p: Path):
    """The file as a binary stream, decompressed when it starts with the gzip magic."""
    try:
        f = open(p, "rb")  # noqa: SIM115 - returned to the caller's ``with``
    except FileNotFoundError:
        raise FileNotFoundError(f"trace file {p} does not exist") from None
    except IsADirectoryError:
        raise TraceFormatError(f"{p} is a directory, not a trace file") from None
    if f.read(2) == _GZIP_MAGIC:
        f.close()  # a GzipFile would not close a file object it was handed
        return gzip.open(p, "rb")
    f.seek(0)
    return f


def _readinto(p: Path, f, view) -> int:
    try:
        return f.readinto(view)
    except (OSError, EOFError) as e:
        raise TraceFormatError(f"{p}: corrupt gzip data ({e})") from None


def _text(p: Path, raw: bytes, line0: int = 0) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = line0 + raw[: e.start].count(b"\n") + 1
        raise TraceFormatError(f"{p}:{line}: not a text trace (byte {e.start} is not UTF-8)"
                               ) from None


def _detect(p: Path, text: str) -> str:
    n = p.name.lower()
    if n.endswith((".stl", ".stl.gz")):
        return "stl"
    m = _CONTENT.search(text)
    if m is None:
        return "dramsim3"
    stop = text.find("\n", m.start())
    line = text[m.start(): stop if stop >= 0 else len(text)]
    return "stl" if ":" in line.split("#")[0] else "dramsim3"


@njit(cache=True)
def _skip(b, i, n):
    while i < n and (b[i] == 32 or b[i] == 9):
        i += 1
    return i


@njit(cache=True)
def _number(b, i, n, base, max_digits):
    """(value, next index, digits) of the number at ``b[i:]``; digits 0 or > max: invalid."""
    v = np.uint64(0)
    d = 0
    while i < n:
        c = b[i]
        if 48 <= c <= 57:
            x = c - 48
        elif base == 16 and 97 <= (c | 32) <= 102:
            x = (c | 32) - 87
        else:
            break
        v = v * np.uint64(base) + np.uint64(x)
        d += 1
        i += 1
        if d > max_digits:
            return v, i, 0
    return v, i, d


@njit(cache=True)
def _hex(b, i, n):
    if i + 1 < n and b[i] == 48 and (b[i + 1] | 32) == 120:  # 0x / 0X
        i += 2
    return _number(b, i, n, 16, 16)


@njit(cache=True)
def _op(b, i, n):
    """(1 write / 0 read / -1 other, next index) of the operation word at ``b[i:]``."""
    j = i
    while j < n and 97 <= (b[j] | 32) <= 122:
        j += 1
    w = j - i
    if w == 4 and (b[i] | 32) == 114 and (b[i + 1] | 32) == 101 and (b[i + 2] | 32) == 97 \
            and (b[i + 3] | 32) == 100:
        return 0, j
    if w == 5 and (b[i] | 32) == 119 and (b[i + 1] | 32) == 114 and (b[i + 2] | 32) == 105 \
            and (b[i + 3] | 32) == 116 and (b[i + 4] | 32) == 101:
        return 1, j
    return -1, j


@njit(cache=True)
def _parse_block(b, stl):
    """Parse whole lines of a trace block. Returns (addr, is_write, cycle, bad) where ``bad``
    is the 0-based line of the first line this parser does not accept (-1: none); the
    caller then takes the regular-expression path, which names what is wrong."""
    n = b.size
    lines = 1
    for k in range(n):
        if b[k] == 10:
            lines += 1
    addr = np.empty(lines, dtype=np.uint64)
    isw = np.empty(lines, dtype=np.bool_)
    cyc = np.empty(lines, dtype=np.int64)
    m = 0
    i = 0
    line = 0
    while i < n:
        i = _skip(b, i, n)
        while i < n and b[i] == 13:
            i += 1
        if i >= n or b[i] == 10 or b[i] == 35:  # blank or comment line
            while i < n and b[i] != 10:
                i += 1
            i += 1
            line += 1
            continue
        if stl:
            c, i, d = _number(b, i, n, 10, 18)
            if d == 0:
                return addr[:m], isw[:m], cyc[:m], line
            i = _skip(b, i, n)
            if i >= n or b[i] != 58:  # ':'
                return addr[:m], isw[:m], cyc[:m], line
            i = _skip(b, i + 1, n)
            w, i = _op(b, i, n)
            j = _skip(b, i, n)
            if w < 0 or j == i:
                return addr[:m], isw[:m], cyc[:m], line
            i = j
            if i < n and b[i] == 40:  # (length)
                _, i, d = _number(b, i + 1, n, 10, 18)
                if d == 0 or i >= n or b[i] != 41:
                    return addr[:m], isw[:m], cyc[:m], line
                j = _skip(b, i + 1, n)
                if j == i + 1:
                    return addr[:m], isw[:m], cyc[:m], line
                i = j
            a, i, d = _hex(b, i, n)
            if d == 0:
                return addr[:m], isw[:m], cyc[:m], line
            j = _skip(b, i, n)
            if j > i and j < n and b[j] != 10 and b[j] != 13 and b[j] != 35:  # write data
                if j + 1 < n and b[j] == 48 and (b[j + 1] | 32) == 120:
                    j += 2
                k = j
                while j < n and (48 <= b[j] <= 57 or 97 <= (b[j] | 32) <= 102):
                    j += 1
                if j == k:
                    return addr[:m], isw[:m], cyc[:m], line
            i = j
        else:
            a, i, d = _hex(b, i, n)
            j = _skip(b, i, n)
            if d == 0 or j == i:
                return addr[:m], isw[:m], cyc[:m], line
            w, i = _op(b, j, n)
            j = _skip(b, i, n)
            if w < 0 or j == i:
                return addr[:m], isw[:m], cyc[:m], line
            c, i, d = _number(b, j, n, 10, 18)
            if d == 0:
                return addr[:m], isw[:m], cyc[:m], line
        i = _skip(b, i, n)
        while i < n and b[i] == 13:
            i += 1
        if i < n and b[i] == 35:
            while i < n and b[i] != 10:
                i += 1
        if i < n and b[i] != 10:
            return addr[:m], isw[:m], cyc[:m], line
        addr[m] = a
        isw[m] = w == 1
        cyc[m] = np.int64(c)
        m += 1
        i += 1
        line += 1
    return addr[:m], isw[:m], cyc[:m], -1


def _content_lines(text: str) -> list[int]:
    """Line numbers (1-based) of the lines that hold a request."""
    return [i for i, ln in enumerate(text.split("\n"), 1)
            if ln.split("#", 1)[0].strip()]


def _first_bad(p: Path, text: str, fmt: str, line0: int = 0) -> TraceFormatError:
    pat = _PATTERNS[fmt]
    a_i, op_i, _ = _GROUPS[fmt]
    for i, ln in enumerate(text.split("\n"), line0 + 1):
        if not ln.split("#", 1)[0].strip():
            continue
        m = pat.match(ln)
        if m is None:
            hint = ""
            if fmt == "dramsim3" and ":" in ln:
                hint = " (looks like a DRAMSys .stl line: pass format='stl')"
            elif fmt == "stl" and ":" not in ln:
                hint = " (looks like a DRAMsim3 line: pass format='dramsim3')"
            return TraceFormatError(f"{p}:{i}: cannot parse {ln.strip()!r}; expected "
                                    f"{_EXPECTED[fmt]}{hint}")
        op = m.group(op_i + 1).upper()
        if op not in ("READ", "WRITE"):
            return TraceFormatError(f"{p}:{i}: unknown operation {m.group(op_i + 1)!r}; "
                                    f"expected READ or WRITE in {_EXPECTED[fmt]}")
        if len(m.group(a_i + 1)) > 16:
            return TraceFormatError(f"{p}:{i}: address 0x{m.group(a_i + 1)} does not fit "
                                    "in 64 bits")
    return TraceFormatError(f"{p}: cannot parse the trace; expected {_EXPECTED[fmt]}")


def _regex_block(p: Path, raw: bytes, fmt: str, line0: int):
    """The slow path: parse a block with the regular expressions, or raise naming the line."""
    text = _text(p, raw, line0)
    rows = _PATTERNS[fmt].findall(text)
    if len(rows) != len(_CONTENT.findall(text)):
        raise _first_bad(p, text, fmt, line0)
    if not rows:
        return (np.zeros(0, np.uint64), np.zeros(0, bool), np.zeros(0, np.int64)), text
    a_i, op_i, c_i = _GROUPS[fmt]
    cols = list(zip(*rows, strict=True))
    ops = np.char.upper(np.array(cols[op_i]))
    hexes = cols[a_i]
    if not np.all((ops == "WRITE") | (ops == "READ")) or max(map(len, hexes)) > 16:
        raise _first_bad(p, text, fmt, line0)
    addr = np.fromiter((int(a, 16) for a in hexes), dtype=np.uint64, count=len(hexes))
    cyc_s = cols[c_i]
    if max(map(len, cyc_s)) > 18:
        k = next(k for k, c in enumerate(cyc_s) if len(c) > 18)
        raise TraceFormatError(f"{p}:{line0 + _content_lines(text)[k]}: cycle {cyc_s[k]} is "
                               "too large (at most 18 digits)")
    return (addr, ops == "WRITE", np.array(cyc_s).astype(np.int64)), text


def iter_trace(path, format: str | None = None,  # noqa: A002 - public keyword
               block_bytes: int = BLOCK_BYTES) -> Iterator[Trace]:
    """Stream a DRAMsim3 or DRAMSys ``.stl`` trace (plain or gzip) in chunks of requests.

    Reads ``block_bytes`` of text at a time, so memory stays bounded whatever the file's
    length; ``simulate`` accepts the iterator directly. Raises :class:`TraceFormatError`
    naming ``file:line`` for a malformed line or decreasing cycles, and for an empty trace.
    See :func:`read_trace` for the formats.
    """
    p = Path(path)
    if format is not None and format not in FORMATS:
        raise TraceFormatError(f"unknown trace format {format!r}; formats: "
                               f"{', '.join(FORMATS)}")
    fmt = format
    name = _name(p)
    total = 0
    last = -1
    line0 = 0
    buf = bytearray(block_bytes)  # one buffer for the whole file: no per-block allocations
    filled = 0
    eof = False
    with _open(p) as f:
        while not eof:
            with memoryview(buf) as view:
                got = _readinto(p, f, view[filled:])
            filled += got
            eof = got == 0
            if not eof and filled < len(buf):
                continue
            cut = filled if eof else buf.rfind(b"\n", 0, filled) + 1
            if cut == 0:  # a line longer than the buffer: make room
                buf.extend(bytes(len(buf)))
                continue
            if cut:
                if fmt is None:
                    fmt = _detect(p, bytes(buf[:min(cut, 4096)]).decode("utf-8", "replace"))
                addr, isw, cyc, bad = _parse_block(np.frombuffer(buf, np.uint8, cut),
                                                   fmt == "stl")
                text = None
                if bad >= 0:
                    (addr, isw, cyc), text = _regex_block(p, bytes(buf[:cut]), fmt, line0)
                if cyc.size:
                    dec = np.flatnonzero(np.diff(cyc) < 0) + 1
                    k = 0 if cyc[0] < last else (int(dec[0]) if dec.size else -1)
                    if k >= 0:
                        text = text if text is not None else _text(p, bytes(buf[:cut]), line0)
                        prev = last if k == 0 else cyc[k - 1]
                        raise TraceFormatError(
                            f"{p}:{line0 + _content_lines(text)[k]}: cycle {cyc[k]} is "
                            f"earlier than the previous request's {prev}; cycles must be "
                            "non-decreasing")
                    last = int(cyc[-1])
                    total += cyc.size
                    yield Trace(addr, isw, cyc, name)
                line0 += buf.count(b"\n", 0, cut)
            buf[:filled - cut] = buf[cut:filled]  # the unfinished line moves to the front
            filled -= cut
    if total == 0:
        raise TraceFormatError(f"{p}: the trace is empty (no request lines); expected lines "
                               f"like {_EXPECTED[fmt or 'dramsim3']}")


def read_trace(path, format: str | None = None) -> Trace:  # noqa: A002 - public keyword
    """Read a DRAMsim3 or DRAMSys ``.stl`` trace, plain or gzip, into memory.

    Parameters
    ----------
    path : the trace file.
    format : ``"dramsim3"``, ``"stl"`` or None to detect it (``.stl``/``.stl.gz`` names are
        DRAMSys; otherwise a first request line with a ``cycle:`` prefix is DRAMSys).

    Raises
    ------
    TraceFormatError
        (a ValueError) naming ``file:line`` for a malformed line, decreasing cycles or an
        empty trace.

    Long traces need not fit in memory: :func:`iter_trace` streams them in chunks.
    """
    parts = list(iter_trace(path, format))
    if len(parts) == 1:
        return parts[0]
    return Trace(np.concatenate([t.addr for t in parts]),
                 np.concatenate([t.is_write for t in parts]),
                 np.concatenate([t.cycle for t in parts]), parts[0].name)


def _format_lines(trace: Trace, fmt: str) -> str:
    addr = np.asarray(trace.addr, dtype=np.uint64).tolist()
    cyc = np.asarray(trace.cycle, dtype=np.int64).tolist()
    wr = np.asarray(trace.is_write, dtype=bool).tolist()
    if fmt == "dramsim3":
        ops = ("READ", "WRITE")
        lines = [f"0x{a:x} {ops[w]} {c}" for a, w, c in zip(addr, wr, cyc, strict=True)]
    else:
        ops = ("read", "write")
        lines = [f"{c}:\t{ops[w]}\t0x{a:x}" for a, w, c in zip(addr, wr, cyc, strict=True)]
    lines.append("")
    return "\n".join(lines)


def write_trace(trace: Trace, path, format: str = "dramsim3") -> Path:  # noqa: A002
    """Write ``trace`` as a DRAMsim3 or ``.stl`` file (gzip when ``path`` ends ``.gz``).

    The file is written to a temporary name next to ``path`` and renamed into place, so a
    reader never sees half a trace. Returns the path.
    """
    if format not in FORMATS:
        raise TraceFormatError(f"unknown trace format {format!r}; formats: "
                               f"{', '.join(FORMATS)}")
    n = len(np.asarray(trace.addr))
    if not (len(np.asarray(trace.is_write)) == n == len(np.asarray(trace.cycle))):
        raise ValueError("trace arrays addr, is_write and cycle must have the same length")
    if n == 0:
        raise ValueError("cannot write an empty trace (readers reject empty traces)")
    cyc = np.asarray(trace.cycle, dtype=np.int64)
    if np.any(np.diff(cyc) < 0) or cyc[0] < 0:
        raise ValueError("trace cycles must be non-negative and non-decreasing")
    p = Path(path)
    data = _format_lines(trace, format).encode("ascii")
    if p.name.endswith(".gz"):
        data = gzip.compress(data, compresslevel=6, mtime=0)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p
