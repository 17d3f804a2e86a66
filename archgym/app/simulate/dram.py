"""``archgym simulate dram``: the DRAM controller simulator on a trace."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer

from archgym.app.console import (
    check_choice,
    console,
    parse_assignments,
    result_table,
    user_errors,
    warnings_as_lines,
)
from archgym.errors import ArchGymError


def command(
    trace: Annotated[Path, typer.Option(
        metavar="FILE",
        help="Trace file, plain or gzip: DRAMsim3 lines '0x<addr> READ|WRITE <cycle>' or "
             "DRAMSys .stl lines '<cycle>: read|write 0x<addr>' (cycles of the memory clock); "
             "shipped: workloads/dram/traces/*.trace.gz.")],
    format: Annotated[str | None, typer.Option(
        metavar="dramsim3|stl", help="Trace format (default: detect).")] = None,
    preset: Annotated[str, typer.Option(metavar="NAME", help="Device preset.")]
    = "DDR4_8Gb_x8_2400",
    controller: Annotated[str | None, typer.Option(
        metavar="NAME",
        help="A named controller (dramsim3_like); default: DRAMGym's knobs, set with --set.")]
    = None,
    mapping: Annotated[str, typer.Option(
        metavar="MAP", help="Address mapping, six fields MSB to LSB.")]
    = "rochrababgco",
    set_: Annotated[list[str], typer.Option(
        "--set", metavar="KNOB=VALUE", help="A DRAMGym controller knob (archgym envs "
        "archgym/DRAM-v0 lists them); repeatable.")] = [],  # noqa: B006
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Simulate a DRAM channel and its controller on a trace."""
    from archgym.envs.dram import DEFAULTS
    from simulators.dram import CONTROLLER_PRESETS, KNOBS, PRESETS, ControllerConfig, simulate
    from simulators.dram.mapping import AddressMapping
    from simulators.dram.trace import FORMATS, TraceFormatError, read_trace

    knobs = parse_assignments(set_, "--set")
    with user_errors():
        check_choice("--format", format, FORMATS)
        check_choice("--preset", preset, PRESETS)
        if controller is not None:
            check_choice("--controller", controller, CONTROLLER_PRESETS,
                         "or leave --controller out for DRAMGym's knobs, set with --set")
            if knobs:
                raise ArchGymError("--set knobs apply to the DRAMGym controller; drop "
                                   f"--controller {controller}")
        for knob, value in knobs.items():
            if knob not in KNOBS:
                raise ArchGymError(f"--set: unknown knob {knob!r}; knobs: {', '.join(KNOBS)}")
            check_choice(f"--set {knob}=", value, KNOBS[knob])
        try:
            AddressMapping(mapping, PRESETS[preset])
        except ValueError as e:
            raise ArchGymError(f"--mapping {mapping!r}: {e}") from None
        ctrl = controller or ControllerConfig.from_dict({**DEFAULTS, **knobs})
        try:
            the_trace = read_trace(trace, format)
        except TraceFormatError as e:  # its hint names the Python keyword; say the flag
            raise ArchGymError(re.sub(r"pass format='(\w+)'", r"use --format \1", str(e))) \
                from None
        with warnings_as_lines():  # e.g. addresses folded onto the device
            result = simulate(the_trace, device=preset, controller=ctrl, mapping=mapping)
    out = result.to_dict()
    if as_json:
        typer.echo(json.dumps(out, default=str))
        return
    console.print(result_table(out, title=f"{trace.name} on {preset}"))
    console.print("(--json prints every digit, in the keys' units: ns, pJ, mW)",
                  highlight=False)
