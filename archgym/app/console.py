"""What every ``archgym`` sub-command shares: consoles, the one-line error exit,
``key=value`` parsing, and how numbers and tables look.

Tables are compact (a rule under the header, no frame, cells fold rather than being cut) so
that they read at 80 columns. Numbers in text output have 4 significant digits, and a
quantity of time, energy or power is shown with the SI prefix that keeps it between 1 and
1000 (``15255.9 ns`` reads ``15.26 µs``); ``--json`` keeps every digit in the base unit.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any

import typer
import yaml
from rich import box
from rich.console import Console
from rich.table import Table

from archgym.errors import ArchGymError

console = Console()
err_console = Console(stderr=True)

#: ``--env-param NAME=VALUE`` (repeatable), the same option on every command that makes an env
EnvParams = Annotated[list[str], typer.Option(
    "--env-param", metavar="NAME=VALUE",
    help="An env parameter, e.g. workload=random or objective=power; repeatable (archgym "
         "envs ID lists every parameter with its default and accepted values, and every "
         "objective with its reward).")]

#: ``--json``: print the command's result as one JSON object (every command that has a result)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
#: ``--backend`` and ``--address``: where sweeps and collection run (``archgym/app/jobs.py``)
Backend = Annotated[str, typer.Option(
    help="local (worker processes) or ray (a Ray cluster; pip install -e '.[ray]').")]
RayAddress = Annotated[str | None, typer.Option(
    help="Address of a running Ray cluster (default: start a local one).")]

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


def check_choice(flag: str, value: Any, allowed: Any, hint: str = "") -> None:
    """Refuse a flag's value that is not among ``allowed``, in the command line's words
    (``--format 'x': not allowed; allowed: dramsim3, stl``); ``None`` (not given) passes."""
    if value is None or value in allowed:
        return
    sep = "" if flag.endswith("=") else " "
    raise ArchGymError(f"{flag}{sep}{value!r}: not allowed; allowed: "
                       f"{', '.join(map(str, allowed))}" + (f" ({hint})" if hint else ""))


@contextmanager
def warnings_as_lines() -> Iterator[None]:
    """Show the warnings raised inside as ``warning: ...`` lines on stderr (each once),
    instead of Python's file:line and source echo."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            yield
        finally:
            for message in dict.fromkeys(str(w.message) for w in caught):
                err_console.print(f"[yellow]warning:[/] {message}", highlight=False,
                                  soft_wrap=True)


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




# ------------------------------------------------------------------- numbers and tables

#: unit -> (base unit, power of ten of the unit): quantities shown with an SI prefix
_SI_UNITS = {"ps": ("s", -12), "ns": ("s", -9), "us": ("s", -6), "µs": ("s", -6),
             "ms": ("s", -3), "s": ("s", 0), "pJ": ("J", -12), "nJ": ("J", -9),
             "uJ": ("J", -6), "µJ": ("J", -6), "mJ": ("J", -3), "J": ("J", 0),
             "uW": ("W", -6), "µW": ("W", -6), "mW": ("W", -3), "W": ("W", 0)}
_PREFIXES = {-12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k"}
#: result-key suffix -> unit, the project's naming convention (latency_ns, power_mw, ...)
KEY_UNITS = {"_ns": "ns", "_us": "µs", "_ms": "ms", "_pj": "pJ", "_nj": "nJ", "_uj": "µJ",
             "_mj": "mJ", "_mw": "mW", "_w": "W", "_gbps": "GB/s", "_cycles": "cycles",
             "_bytes": "B", "_pct": "%"}


def number(value: Any) -> str:
    """A number with 4 significant digits (integers whole, with thousands separators)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or (float(value).is_integer() and abs(value) < 1e15):
        return f"{int(value):,}"
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    if abs(v) >= 1e6 or abs(v) < 1e-3:
        return f"{v:.4g}"
    return f"{v:.{max(0, 3 - math.floor(math.log10(abs(v))))}f}"


def quantity(value: Any, unit: str = "") -> str:
    """``value`` in ``unit``, with the SI prefix that keeps times, energies and powers
    between 1 and 1000."""
    if unit in _SI_UNITS and isinstance(value, int | float) and not isinstance(value, bool) \
            and math.isfinite(value) and value != 0:
        base, power = _SI_UNITS[unit]
        exp = power + 3 * math.floor(math.log10(abs(value)) / 3)
        exp = min(max(exp, min(_PREFIXES)), 3 if base == "W" else 0)
        return f"{number(value * 10.0 ** (power - exp))} {_PREFIXES[exp]}{base}"
    return f"{number(value)} {unit if unit != '1' else ''}".rstrip()  # '1': dimensionless


def key_unit(key: str) -> str:
    """The unit a result key names by its suffix (``latency_ns`` -> ``ns``), or ``""``."""
    return next((u for suffix, u in KEY_UNITS.items() if key.endswith(suffix)), "")


def table(*columns: str, title: str | None = None, right: tuple[str, ...] = ()) -> Table:
    """A table in the project's compact style; ``right`` columns are right-justified."""
    t = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False,
              title_justify="left", title_style="bold")
    for col in columns:
        t.add_column(col, justify="right" if col in right else "left", overflow="fold")
    return t


def result_table(result: Mapping[str, Any], title: str | None = None) -> Table:
    """A simulator's result dict as a two-column table: numbers with the units their keys
    name, nested dicts one row per entry (``energy_breakdown_pj.act_pj``)."""
    t = table("result", "value", title=title, right=("value",))

    def add(key: str, value: Any, unit: str) -> None:
        if isinstance(value, Mapping):
            inner = key_unit(key)
            for k, v in value.items():
                add(f"{key}.{k}", v, key_unit(k) or inner)
        elif key.endswith(("hit_rate", "_fraction")) and isinstance(value, float):
            t.add_row(key, f"{number(100 * value)} %")
        else:
            t.add_row(key, quantity(value, unit))

    for key, value in result.items():
        add(key, value, key_unit(key))
    return t
