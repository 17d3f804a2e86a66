"""Layers and SCALE-Sim topology CSV files (convolution and GEMM formats).

A :class:`Layer` holds one row of a SCALE-Sim convolution topology: IFMAP height and width,
filter height and width, input channels, number of filters and one stride (SCALE-Sim uses the
same stride in both directions and has no padding parameter: the IFMAP rows and columns are
those the convolution reads, so zero padding is folded into them). A GEMM ``M x K`` times
``K x N`` is the convolution SCALE-Sim builds from a GEMM row: IFMAP ``M x K``, a ``1 x K``
filter, one channel, ``N`` filters, stride 1.

Lowering to a GEMM (SCALE-Sim's operand matrices): ``M`` = OFMAP pixels, ``N`` = filters,
``K`` = filter window ``Fh * Fw * C``, with SCALE-Sim's OFMAP size
``ceil((H - Fh + S) / S)`` (a last window that runs past the IFMAP reads padding addresses,
which are never fetched from DRAM).

File formats follow SCALE-Sim v3 (``scalesim/topology_utils.py``): a header line, then one
row per layer; the trailing comma SCALE-Sim writes is optional here; blank lines are skipped;
an optional ninth column holds an N:M sparsity ratio, of which only the dense ``1:1`` is
accepted. Names containing ``DP`` are depth-wise convolutions that SCALE-Sim splits into one
single-channel layer per channel (``<name>Channel_<i>``); so does :func:`read_topology`.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, fields
from pathlib import Path

from simulators.accel.errors import AccelInputError
from simulators.accel.fileio import write_text_atomic

CONV_HEADER = ("Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width",
               "Channels", "Num Filter", "Strides")
GEMM_HEADER = ("Layer", "M", "N", "K")


@dataclass(frozen=True)
class Layer:
    """One convolution (or GEMM) layer in SCALE-Sim's terms; see the module docstring."""

    name: str
    ifmap_h: int
    ifmap_w: int
    filter_h: int
    filter_w: int
    channels: int
    num_filters: int
    stride: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise AccelInputError(f"layer name must be a non-empty string, got {self.name!r}")
        for f in fields(self)[1:]:
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise AccelInputError(
                    f"layer {self.name!r}: {f.name} must be a positive integer, got {v!r}")
        if self.filter_h > self.ifmap_h or self.filter_w > self.ifmap_w:
            raise AccelInputError(
                f"layer {self.name!r}: the {self.filter_h}x{self.filter_w} filter is larger "
                f"than the {self.ifmap_h}x{self.ifmap_w} IFMAP (SCALE-Sim requires "
                "filter <= IFMAP in both dimensions)")

    @classmethod
    def gemm(cls, name: str, m: int, n: int, k: int) -> Layer:
        """The layer SCALE-Sim builds from a GEMM row ``name, M, N, K``."""
        for label, v in (("M", m), ("N", n), ("K", k)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise AccelInputError(f"GEMM {name!r}: {label} must be a positive integer, "
                                      f"got {v!r}")
        return cls(name, m, k, 1, k, 1, n, 1)

    @property
    def is_gemm(self) -> bool:
        """True when the layer is exactly SCALE-Sim's encoding of a GEMM."""
        return (self.filter_h == 1 and self.channels == 1 and self.stride == 1
                and self.filter_w == self.ifmap_w)

    @property
    def ofmap_h(self) -> int:
        return math.ceil((self.ifmap_h - self.filter_h + self.stride) / self.stride)

    @property
    def ofmap_w(self) -> int:
        return math.ceil((self.ifmap_w - self.filter_w + self.stride) / self.stride)

    @property
    def m(self) -> int:
        """GEMM rows: OFMAP pixels per filter."""
        return self.ofmap_h * self.ofmap_w

    @property
    def n(self) -> int:
        """GEMM columns: filters."""
        return self.num_filters

    @property
    def k(self) -> int:
        """GEMM depth: the filter window ``Fh * Fw * C``."""
        return self.filter_h * self.filter_w * self.channels

    @property
    def macs(self) -> int:
        return self.m * self.n * self.k

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _positive_int(text: str, where: str, field: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise AccelInputError(f"{where}: {field} must be a positive integer, "
                              f"got {text.strip()!r}") from None
    if value < 1:
        raise AccelInputError(f"{where}: {field} must be a positive integer, got {value}")
    return value


def _sparsity_ok(text: str, where: str) -> None:
    if text.strip().replace(" ", "") not in ("1:1", ""):
        raise AccelInputError(f"{where}: sparsity ratio {text.strip()!r} is not modelled "
                              "(only the dense 1:1 is allowed)")


def detect_format(header: str) -> str:
    """``"gemm"`` when the header reads ``Layer, M, N, K`` (any case), else ``"conv"``."""
    cells = [c.strip().lower() for c in header.split(",")]
    return "gemm" if cells[1:4] == ["m", "n", "k"] else "conv"


def parse_topology(text: str, source: str = "<topology>", fmt: str = "auto") -> list[Layer]:
    """Layers of a SCALE-Sim topology given as text (``fmt``: ``auto``, ``conv``, ``gemm``).

    Raises :class:`AccelInputError` naming ``source`` and the line of any malformed row.
    """
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise AccelInputError(f"{source}: line 1: expected a header line "
                              f"({', '.join(CONV_HEADER)} or {', '.join(GEMM_HEADER)})")
    if fmt == "auto":
        fmt = detect_format(lines[0])
    if fmt not in ("conv", "gemm"):
        raise AccelInputError(f"topology format must be 'auto', 'conv' or 'gemm', got {fmt!r}")
    names = CONV_HEADER if fmt == "conv" else GEMM_HEADER
    layers: list[Layer] = []
    for lineno, raw in enumerate(lines[1:], start=2):
        row = raw.strip()
        if not row:
            continue
        where = f"{source}: line {lineno}"
        cells = [c.strip() for c in row.split(",")]
        while cells and cells[-1] == "":
            cells.pop()
        if len(cells) < len(names):
            raise AccelInputError(f"{where}: expected {len(names)} fields "
                                  f"({', '.join(names)}), got {len(cells)}")
        if len(cells) > len(names) + 1:
            raise AccelInputError(f"{where}: unexpected field {cells[len(names) + 1]!r} "
                                  f"after the sparsity column (allowed: {', '.join(names)}, "
                                  "optional sparsity N:M)")
        if len(cells) == len(names) + 1:
            _sparsity_ok(cells[-1], where)
        name = cells[0]
        if not name:
            raise AccelInputError(f"{where}: {names[0]} is empty")
        values = [_positive_int(c, where, f) for c, f in zip(cells[1:], names[1:], strict=False)]
        try:
            if fmt == "gemm":
                layers.append(Layer.gemm(name, *values))
            elif "DP" in name:
                h, w, fh, fw, ch, nf, s = values
                layers += [Layer(f"{name}Channel_{i}", h, w, fh, fw, 1, nf, s)
                           for i in range(ch)]
            else:
                layers.append(Layer(name, *values))
        except AccelInputError as err:
            raise AccelInputError(f"{where}: {err}") from None
    if not layers:
        raise AccelInputError(f"{source}: no layer rows after the header")
    return layers


def read_topology(path: str | Path, fmt: str = "auto") -> list[Layer]:
    """Layers of the SCALE-Sim topology CSV at ``path`` (see :func:`parse_topology`)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise AccelInputError(f"{path}: cannot read topology: {err.strerror}") from None
    return parse_topology(text, str(path), fmt)


def format_topology(layers: list[Layer], fmt: str = "conv") -> str:
    """SCALE-Sim topology text for ``layers`` (``fmt="gemm"`` needs GEMM-shaped layers)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if fmt == "gemm":
        writer.writerow([*GEMM_HEADER, ""])
        for layer in layers:
            if not layer.is_gemm:
                raise AccelInputError(f"layer {layer.name!r} is a convolution; write it in the "
                                      "conv format")
            writer.writerow([layer.name, layer.ifmap_h, layer.num_filters, layer.ifmap_w, ""])
    elif fmt == "conv":
        writer.writerow([*CONV_HEADER, ""])
        for layer in layers:
            writer.writerow([*layer.to_dict().values(), ""])
    else:
        raise AccelInputError(f"topology format must be 'conv' or 'gemm', got {fmt!r}")
    return out.getvalue()


def write_topology(path: str | Path, layers: list[Layer], fmt: str = "conv") -> Path:
    """Write ``layers`` as a SCALE-Sim topology CSV (whole file or nothing)."""
    return write_text_atomic(path, format_topology(layers, fmt))
