"""DRAM request traces: the :class:`Trace` container, a reader and a writer.

Two text formats, one request per line, cycles in memory clock cycles:

- DRAMsim3: ``0x<addr> READ|WRITE <cycle>`` (``0x`` optional, op case-insensitive);
- DRAMSys ``.stl``: ``<cycle>: read|write 0x<addr>``, optionally followed by the write data
  (``0x<hex>``) that DRAMSys' trace player accepts; the timing model ignores it. A length in
  parentheses (``(64)``) before the address is accepted too (newer DRAMSys players).

Blank lines and ``#`` comments are skipped. Files may be gzip-compressed (recognised by their
magic bytes, whatever the name). The reader parses the whole file with one regular expression
and vectorised numpy conversions (about a million lines a second); only when that fast path
finds a bad line does it scan line by line, to name the first bad line and what it expected.
"""

from __future__ import annotations

import gzip
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMATS = ("dramsim3", "stl")
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


def _bytes(p: Path) -> bytes:
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"trace file {p} does not exist") from None
    except IsADirectoryError:
        raise TraceFormatError(f"{p} is a directory, not a trace file") from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise TraceFormatError(f"{p}: corrupt gzip data ({e})") from None
    return raw


def _text(p: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
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


_WS = np.zeros(256, dtype=bool)
_WS[[9, 10, 13, 32]] = True  # tab, newline, CR, space (as the regex allows)
_HEXVAL = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEXVAL[_c] = _i
    _HEXVAL[bytes([_c]).upper()[0]] = _i
_PAD = 8


def _digits(b: np.ndarray, s: np.ndarray, e: np.ndarray, base: int, max_digits: int):
    """Values of the numbers spelt by bytes ``b[s:e]`` of each token, or None if any token
    holds a non-digit or has 0 or more than ``max_digits`` digits."""
    nd = e - s
    width = int(nd.max())
    if nd.min() < 1 or width > max_digits:
        return None
    dt = np.uint64 if base == 16 else np.int64
    val = np.zeros(nd.size, dtype=dt)
    first = e - width  # digit column j of a right-aligned number sits at first + j
    for j in range(width):  # Horner's rule, one digit column at a time
        d = _HEXVAL[b[np.maximum(first + j, 0)]]
        d[nd < width - j] = 0  # left of a shorter number
        if d.max() >= base:
            return None
        val = val * dt(base) + d.astype(dt)
    return val


def _fast_parse(raw: bytes, fmt: str):
    """Vectorised parse of a canonical trace (one request of three fields per line, no
    comments, ASCII). Returns (addr, is_write, cycle) or None to fall back to the regex."""
    b = np.frombuffer(raw + b"\n" * _PAD, dtype=np.uint8)
    if not raw or np.any(b >= 128) or np.any(b == ord("#")):
        return None
    ws = _WS[b]
    nonws = ~ws
    start = np.flatnonzero(nonws & np.concatenate(([True], ws[:-1])))
    end = np.flatnonzero(nonws & np.concatenate((ws[1:], [True]))) + 1
    if start.size == 0 or start.size % 3:
        return None
    line = np.searchsorted(np.flatnonzero(b == 10), start).reshape(-1, 3)
    if np.any(line[:, 1:] != line[:, :1]) or np.any(np.diff(line[:, 0]) <= 0):
        return None
    if fmt == "dramsim3":
        (sa, ea), (so, eo), (sc, ec) = ((start[k::3], end[k::3]) for k in range(3))
    else:
        (sc, ec), (so, eo), (sa, ea) = ((start[k::3], end[k::3]) for k in range(3))
        if np.any(b[ec - 1] != ord(":")):
            return None
        ec = ec - 1
    # operation: READ / WRITE, any case
    low = b[so[:, None] + np.arange(5)] | np.uint8(0x20)
    lo = eo - so
    is_read = (lo == 4) & np.all(low[:, :4] == np.frombuffer(b"read", np.uint8), axis=1)
    is_write = (lo == 5) & np.all(low == np.frombuffer(b"write", np.uint8), axis=1)
    if not np.all(is_read | is_write):
        return None
    has0x = (b[sa] == ord("0")) & ((b[sa + 1] | np.uint8(0x20)) == ord("x"))
    addr = _digits(b, sa + 2 * has0x, ea, 16, 16)
    cycle = _digits(b, sc, ec, 10, 18)
    if addr is None or cycle is None:
        return None
    return addr, is_write, cycle


def _content_lines(text: str) -> list[int]:
    """Line numbers (1-based) of the lines that hold a request."""
    return [i for i, ln in enumerate(text.split("\n"), 1)
            if ln.split("#", 1)[0].strip()]


def _first_bad(p: Path, text: str, fmt: str) -> TraceFormatError:
    pat = _PATTERNS[fmt]
    a_i, op_i, _ = _GROUPS[fmt]
    for i, ln in enumerate(text.split("\n"), 1):
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


def read_trace(path, format: str | None = None) -> Trace:  # noqa: A002 - public keyword
    """Read a DRAMsim3 or DRAMSys ``.stl`` trace, plain or gzip.

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
    """
    p = Path(path)
    if format is not None and format not in FORMATS:
        raise TraceFormatError(f"unknown trace format {format!r}; formats: "
                               f"{', '.join(FORMATS)}")
    raw = _bytes(p)
    head = raw[:4096].decode("utf-8", errors="replace")
    fmt = format or _detect(p, head)
    fast = _fast_parse(raw, fmt)
    if fast is not None:
        addr, is_write, cycle = fast
        dec = np.flatnonzero(np.diff(cycle) < 0)
        if not dec.size:
            return Trace(addr, is_write, cycle, _name(p))
    text = _text(p, raw)
    if format is None and len(raw) > 4096:
        fmt = _detect(p, text)
    rows = _PATTERNS[fmt].findall(text)
    n_content = len(_CONTENT.findall(text))
    if n_content == 0:
        raise TraceFormatError(f"{p}: the trace is empty (no request lines); expected lines "
                               f"like {_EXPECTED[fmt]}")
    if len(rows) != n_content:
        raise _first_bad(p, text, fmt)
    a_i, op_i, c_i = _GROUPS[fmt]
    cols = list(zip(*rows, strict=True))
    ops = np.char.upper(np.array(cols[op_i]))
    is_write = ops == "WRITE"
    hexes = cols[a_i]
    if not np.all(is_write | (ops == "READ")) or max(map(len, hexes)) > 16:
        raise _first_bad(p, text, fmt)
    addr = np.fromiter((int(a, 16) for a in hexes), dtype=np.uint64, count=len(hexes))
    cyc_s = np.array(cols[c_i])
    if max(map(len, cols[c_i])) > 18:
        k = int(np.argmax(np.char.str_len(cyc_s) > 18))
        raise TraceFormatError(f"{p}:{_content_lines(text)[k]}: cycle {cyc_s[k]} is too "
                               "large (at most 18 digits)")
    cycle = cyc_s.astype(np.int64)
    dec = np.flatnonzero(np.diff(cycle) < 0)
    if dec.size:
        k = int(dec[0]) + 1
        line = _content_lines(text)[k]
        raise TraceFormatError(f"{p}:{line}: cycle {cycle[k]} is earlier than the previous "
                               f"request's {cycle[k - 1]}; cycles must be non-decreasing")
    return Trace(addr, is_write, cycle, _name(p))


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
