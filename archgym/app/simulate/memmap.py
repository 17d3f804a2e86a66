"""``archgym simulate memmap``: place a program's tensors with a baseline policy and cost it."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from archgym.app.console import JsonFlag, console, user_errors


def _seconds(x: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if abs(x) >= scale or unit == "ns":
            return f"{x / scale:.6g} {unit}"
    return f"{x:.6g} s"  # unreachable


def _bytes(n: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= scale:
            return f"{n / scale:.4g} {unit} ({n:,} B)"
    return f"{n:,} B"


def command(
    program: Annotated[str, typer.Option(
        help="A shipped program's name (e.g. gpt2_decode) or a program JSON file.")],
    policy: Annotated[str, typer.Option(help="slow, greedy or optimal.")] = "greedy",
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", help="Seconds the exact solver may take (policy optimal; "
                             "default 60).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Place a program's tensors in fast SRAM or HBM (memory-mapping game) and cost it."""
    from workloads.memmap import simulate_json

    with user_errors():
        out = simulate_json(program, policy, time_limit)
    if as_json:
        typer.echo(json.dumps(out))
        return
    fast = sum(1 for e in out["placement"] if e["tier"] == "fast")
    slow_time = out["all_slow_time_s"]
    rows = [
        ("total time", _seconds(out["total_time_s"])),
        ("all-slow time", _seconds(slow_time)),
        ("time saved", f"{_seconds(out['time_saved_s'])} "
                       f"({100 * out['time_saved_s'] / slow_time:.3g} % of all-slow)"),
        ("valid (independent checker)", "yes" if out["valid"] else
         "NO: " + "; ".join(out["violations"][:3])),
    ]
    if "proven_optimal" in out:
        rows += [("proven optimal", "yes" if out["proven_optimal"] else "no (time limit)"),
                 ("lower bound", _seconds(out["bound_time_s"]))]
    rows += [
        ("fast tensors", f"{fast} of {len(out['placement'])} "
                         f"({_bytes(out['fast_tensor_bytes'])})"),
        ("peak fast bytes", _bytes(out["peak_fast_bytes"])),
        ("highest address used", f"{out['highest_address_used']:,}"),
        ("fragmentation", f"{100 * out['fragmentation']:.3g} %"),
        ("traffic fast / slow", f"{_bytes(out['fast_traffic_bytes'])} / "
                                f"{_bytes(out['slow_traffic_bytes'])}"),
    ]
    table = Table(title=f"{out['program']} placed by {out['policy']}")
    table.add_column("result")
    table.add_column("value", justify="right")
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)
