"""Event-driven DRAM memory-controller simulator (a function call in, a dataclass out).

>>> from simulators.dram import simulate, ControllerConfig
>>> res = simulate(trace, device="DDR4_8Gb_x8_2400", controller="dramsim3_like")  # doctest: +SKIP
>>> res.to_dict()  # doctest: +SKIP

See ``controller.simulate`` for the model and ``docs/dram-fidelity.md`` for how it compares
with DRAMsim3.
"""

from simulators.dram.commands import CMD_DTYPE
from simulators.dram.controller import (
    CONTROLLER_PRESETS,
    KNOBS,
    NUM_CONFIGS,
    ControllerConfig,
    Dramsim3Like,
    simulate,
)
from simulators.dram.device import PRESETS, DeviceSpec
from simulators.dram.mapping import AddressMapping
from simulators.dram.power import EnergyBreakdown, increments
from simulators.dram.result import DramResult
from simulators.dram.trace import Trace, TraceFormatError, read_trace, write_trace

__all__ = [
    "CMD_DTYPE",
    "CONTROLLER_PRESETS",
    "KNOBS",
    "NUM_CONFIGS",
    "PRESETS",
    "AddressMapping",
    "ControllerConfig",
    "DeviceSpec",
    "DramResult",
    "Dramsim3Like",
    "EnergyBreakdown",
    "Trace",
    "TraceFormatError",
    "increments",
    "read_trace",
    "simulate",
    "write_trace",
]
