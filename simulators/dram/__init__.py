"""Event-driven DRAM memory-controller simulator (a function call in, a dataclass out).

>>> from simulators.dram import simulate, ControllerConfig
>>> res = simulate(trace, device="DDR4_8Gb_x8_2400", controller="dramsim3_like")  # doctest: +SKIP
>>> res.to_dict()  # doctest: +SKIP

See ``run.simulate`` for the driver, ``engine_dramsim3`` / ``engine_dramsys`` for the models
and ``docs/dram-fidelity.md`` for how they compare with DRAMsim3 and DRAMSys.

The names below load on first use (PEP 562), so importing a light submodule such as
``simulators.dram.device`` (the device presets the PIM simulator reuses) does not compile the
numba engines of the controller model.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> the submodule that defines it
_EXPORTS = {
    "CMD_DTYPE": "commands",
    "CONTROLLER_PRESETS": "controller",
    "DEFAULTS": "controller",
    "KNOBS": "controller",
    "NUM_CONFIGS": "controller",
    "ControllerConfig": "controller",
    "ControllerOptionError": "controller",
    "Dramsim3Like": "controller",
    "simulate": "run",
    "PRESETS": "device",
    "DeviceSpec": "device",
    "AddressMapping": "mapping",
    "EnergyBreakdown": "power",
    "increments": "power",
    "DramResult": "result",
    "LatencyHistogram": "result",
    "Trace": "trace",
    "TraceFormatError": "trace",
    "read_trace": "trace",
    "write_trace": "trace",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
