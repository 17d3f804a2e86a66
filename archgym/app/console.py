"""What every ``archgym`` sub-command shares: consoles, the one-line error exit, and
``key=value`` parsing."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
import yaml
from rich.console import Console

from archgym.errors import ArchGymError

console = Console()
err_console = Console(stderr=True)


def fail(message: str) -> None:
    """One line on stderr, exit code 2, no traceback."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can fix into :func:`fail`."""
    try:
        yield
    except (ArchGymError, ValueError, TypeError, KeyError, FileNotFoundError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        fail(str(msg))


def parse_assignments(items: list[str], what: str) -> dict[str, Any]:
    """``["k=v", ...]`` -> dict, values parsed as YAML scalars (``4`` -> int, ``x`` -> str)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"{what} {item!r} must look like key=value")
        try:
            out[key.strip()] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            out[key.strip()] = value
    return out




_PREFIXES = {-12: "p", -9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G"}


def si(value: float, unit: str, exponent: int = 0) -> str:
    """``value`` x 10^``exponent`` ``unit`` with the SI prefix that puts it in [1, 1000),
    four significant digits: ``si(190317.0, "s", -9)`` -> ``"190.3 us"``."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g} {_PREFIXES[exponent]}{unit}"
    e = exponent + 3 * math.floor(math.log10(abs(value)) / 3)
    e = min(max(e, min(_PREFIXES)), max(_PREFIXES))
    return f"{value / 10 ** (e - exponent):.4g} {_PREFIXES[e]}{unit}"


def number(value: float, digits: int = 4) -> str:
    """``digits`` significant digits without float noise or exponents (thousands
    separators from ``10**digits`` up): ``number(4.0793)`` -> ``"4.079"``."""
    if isinstance(value, int) or abs(value) >= 10 ** digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"
