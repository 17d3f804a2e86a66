"""``archgym simulate dram``: the DRAM controller simulator on a trace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from archgym.app.console import console, parse_assignments, user_errors
from archgym.errors import ArchGymError


def command(
    trace: Annotated[Path, typer.Option(help="Trace file (plain or gzip).")],
    format: Annotated[str | None, typer.Option(help="dramsim3 or stl (default: detect).")]
    = None,
    preset: Annotated[str, typer.Option(help="Device preset.")] = "DDR4_8Gb_x8_2400",
    controller: Annotated[str | None, typer.Option(
        help="Named controller (dramsim3_like); default: DRAMGym knobs with --set.")] = None,
    mapping: Annotated[str, typer.Option(help="Address mapping, MSB to LSB.")]
    = "rochrababgco",
    set_: Annotated[list[str], typer.Option("--set", help="Knob=Value")] = [],  # noqa: B006
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Simulate a DRAM channel and its controller on a trace."""
    from archgym.envs.dram import DEFAULTS
    from simulators.dram import ControllerConfig, simulate
    from simulators.dram.trace import read_trace

    knobs = parse_assignments(set_, "--set")
    with user_errors():
        if controller is not None and knobs:
            raise ArchGymError("--set knobs apply to the DRAMGym controller; drop --controller")
        ctrl = controller or ControllerConfig.from_dict({**DEFAULTS, **knobs})
        the_trace = read_trace(trace, format)
        result = simulate(the_trace, device=preset, controller=ctrl, mapping=mapping)
    out = result.to_dict()
    if as_json:
        typer.echo(json.dumps(out, default=str))
        return
    table = Table(title=f"{trace.name} on {preset}")
    table.add_column("result")
    table.add_column("value", justify="right")
    for k, v in out.items():
        table.add_row(k, f"{v:.6g}" if isinstance(v, float) else str(v))
    console.print(table)
