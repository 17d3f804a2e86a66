"""``archgym simulate dram``: the DRAM controller simulator on a trace.

Three ways to name the system, one command:

- a device preset (``--preset``) and a controller: DRAMGym's knobs (the default,
  ``--controller knobs``, knobs set with ``--set PagePolicy=Closed``) or DRAMsim3's
  controller (``--controller dramsim3_like``, options set with DRAMsim3's names, e.g.
  ``--set row_buf_policy=CLOSE_PAGE``); the trace is streamed in chunks;
- a DRAMsim3 ``.ini`` (``--config FILE.ini``: device, organisation, controller, mapping);
- DRAMSys v5 JSON files (``--memspec``, ``--mcconfig``, optional ``--addressmapping``,
  ``--simconfig``, ``--clk-mhz``), reported with DRAMSys's figures (``controller_latency_ns``
  from the request reaching the controller to its response, ``sim_time_ns``, ...).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer

from archgym.app.console import (
    JsonFlag,
    check_choice,
    console,
    parse_assignments,
    result_table,
    user_errors,
    warnings_as_lines,
)
from archgym.errors import ArchGymError

CONTROLLERS = ("knobs", "dramsim3_like")


def command(
    trace: Annotated[Path, typer.Option(
        metavar="FILE",
        help="Trace file, plain or gzip: DRAMsim3 lines '0x<addr> READ|WRITE <cycle>' or "
             "DRAMSys .stl lines '<cycle>: read|write 0x<addr>' (cycles of the memory clock); "
             "shipped: workloads/dram/traces/*.trace.gz.")],
    format: Annotated[str | None, typer.Option(
        metavar="dramsim3|stl", help="Trace format (default: detect).")] = None,
    preset: Annotated[str | None, typer.Option(
        metavar="NAME", help="Device preset (default DDR4_8Gb_x8_2400).")] = None,
    controller: Annotated[str | None, typer.Option(
        metavar="knobs|dramsim3_like",
        help="DRAMGym's knobs (default; --set KNOB=VALUE) or DRAMsim3's controller "
             "(--set with DRAMsim3's option names, e.g. row_buf_policy=CLOSE_PAGE).")] = None,
    config: Annotated[Path | None, typer.Option(
        metavar="FILE.ini", help="A DRAMsim3 .ini: device, organisation, controller.")] = None,
    mapping: Annotated[str | None, typer.Option(
        metavar="MAP", help="Address mapping, six fields MSB to LSB (default rochrababgco).")]
    = None,
    set_: Annotated[list[str], typer.Option(
        "--set", metavar="KEY=VALUE", help="A controller knob or option (archgym envs "
        "archgym/DRAM-v0 lists the knobs); repeatable.")] = [],  # noqa: B006
    memspec: Annotated[Path | None, typer.Option(
        metavar="FILE.json", help="DRAMSys v5 memspec (with --mcconfig).")] = None,
    mcconfig: Annotated[Path | None, typer.Option(
        metavar="FILE.json", help="DRAMSys v5 mcconfig (with --memspec).")] = None,
    addressmapping: Annotated[Path | None, typer.Option(
        metavar="FILE.json", help="DRAMSys v5 addressmapping (default rochrababgco).")] = None,
    simconfig: Annotated[Path | None, typer.Option(
        metavar="FILE.json", help="DRAMSys v5 simconfig (AddressOffset).")] = None,
    clk_mhz: Annotated[float | None, typer.Option(
        metavar="MHZ", help="Trace cycles are of this clock (DRAMSys trace player's).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Simulate a DRAM channel and its controller on a trace."""
    from simulators.dram import PRESETS
    from simulators.dram.trace import FORMATS, TraceFormatError

    options = parse_assignments(set_, "--set")
    with user_errors(), warnings_as_lines():  # e.g. addresses folded onto the device
        check_choice("--format", format, FORMATS)
        check_choice("--preset", preset, PRESETS)
        check_choice("--controller", controller, CONTROLLERS)
        try:
            if memspec is not None or mcconfig is not None:
                out = _dramsys(trace, format, memspec, mcconfig, addressmapping, simconfig,
                               clk_mhz, clash={"--preset": preset, "--controller": controller,
                                               "--config": config, "--mapping": mapping,
                                               "--set": options or None})
                title = f"{trace.name} with {Path(memspec).name}"
            else:
                for flag, value in (("--addressmapping", addressmapping),
                                    ("--simconfig", simconfig), ("--clk-mhz", clk_mhz)):
                    if value is not None:
                        raise ArchGymError(f"{flag} belongs to DRAMSys files: add --memspec "
                                           "and --mcconfig")
                out = _simulate(trace, format, preset, controller, config, mapping, options)
                title = f"{trace.name} on {config.name if config else preset or PRESETS_DEFAULT}"
        except TraceFormatError as e:  # its hint names the Python keyword; say the flag
            raise ArchGymError(re.sub(r"pass format='(\w+)'", r"use --format \1", str(e))) \
                from None
    if as_json:
        typer.echo(json.dumps(out, default=str))
        return
    console.print(result_table(out, title=title))
    console.print("(--json prints every digit, in the keys' units: ns, pJ, mW)",
                  highlight=False)


PRESETS_DEFAULT = "DDR4_8Gb_x8_2400"


def _simulate(trace: Path, format: str | None, preset: str | None, controller: str | None,
              config: Path | None, mapping: str | None, options: dict) -> dict:
    """A preset or a DRAMsim3 .ini, with either controller; the trace streamed."""
    from simulators.dram import PRESETS
    from simulators.dram.mapping import AddressMapping
    from simulators.dram.run import simulate_file

    if config is not None and preset is not None:
        raise ArchGymError("give either --config (a DRAMsim3 .ini, which names the device) or "
                           "--preset, not both")
    if mapping is not None and config is None:
        try:
            AddressMapping(mapping, PRESETS[preset or PRESETS_DEFAULT])
        except ValueError as e:
            raise ArchGymError(f"--mapping {mapping!r}: {e}") from None
    # a DRAMsim3 .ini describes DRAMsim3's controller unless --controller knobs says otherwise
    chosen = controller or ("dramsim3_like" if config is not None else "knobs")
    if chosen == "knobs":
        from simulators.dram import KNOBS

        for knob, value in options.items():
            if knob not in KNOBS:
                raise ArchGymError(f"--set: unknown knob {knob!r}; knobs: {', '.join(KNOBS)} "
                                   "(DRAMsim3's options need --controller dramsim3_like)")
            check_choice(f"--set {knob}=", value, KNOBS[knob])
    result, _ = simulate_file(trace, device=preset, config=config, controller=chosen,
                              options=options, mapping=mapping, format=format)
    return result.to_dict()


def _dramsys(trace: Path, format: str | None, memspec: Path | None, mcconfig: Path | None,
             addressmapping: Path | None, simconfig: Path | None, clk_mhz: float | None,
             clash: dict) -> dict:
    """DRAMSys's own configuration files, DRAMSys's figures."""
    from simulators.dram.dramsys_config import simulate_files

    given = [flag for flag, value in clash.items() if value is not None]
    if given:
        raise ArchGymError(f"{', '.join(given)} cannot go with --memspec/--mcconfig: the "
                           "DRAMSys files name the device, controller and mapping")
    if memspec is None or mcconfig is None:
        raise ArchGymError("DRAMSys needs both --memspec and --mcconfig")
    return simulate_files(trace, memspec, mcconfig, addressmapping, simconfig,
                          trace_format=format, clk_mhz=clk_mhz)
