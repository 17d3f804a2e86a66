"""What every ``archgym`` sub-command shares: consoles, the one-line error exit, and
``key=value`` parsing."""

from __future__ import annotations

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


