"""``archgym simulate <name>``: one sub-command per simulator, from one registry.

Each simulator contributes a typer command function (``"module:function"``); the project's
own are listed in :data:`COMMANDS`, and a separate pip package adds one through the
entry-point group ``archgym.simulate`` (name -> ``"module:function"``). A command module
imports its simulator inside the function, so ``archgym --help`` stays fast.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

import typer

GROUP = "archgym.simulate"

#: the project's simulators
COMMANDS: dict[str, str] = {
    "accel": "archgym.app.simulate.accel:command",
    "dram": "archgym.app.simulate.dram:command",
    "pim": "archgym.app.simulate.pim:command",
    "memmap": "archgym.app.simulate.memmap:command",
    "soc": "archgym.app.simulate.soc:command",
}


def commands() -> dict[str, str]:
    """Sub-command name -> ``"module:function"``, plug-ins included."""
    out = dict(COMMANDS)
    for ep in entry_points(group=GROUP):
        out.setdefault(ep.name, ep.value)
    return out


def _load(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def app() -> typer.Typer:
    """The ``simulate`` command group with every registered sub-command."""
    group = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                        help="Run a simulator once on a workload.")
    for name, target in sorted(commands().items()):
        fn = _load(target)
        group.command(name, help=fn.__doc__)(fn)
    return group
