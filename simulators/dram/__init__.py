"""Event-driven DRAM memory-controller simulator (a function call in, a dataclass out).

>>> from simulators.dram import simulate, ControllerConfig
>>> res = simulate(trace, device="DDR4_8Gb_x8_2400", controller="dramsim3_like")  # doctest: +SKIP
>>> res.to_dict()  # doctest: +SKIP

See ``run.simulate`` for the driver, ``engine_dramsim3`` / ``engine_dramsys`` for the models
and ``docs/dram-fidelity.md`` for how they compare with DRAMsim3.
"""

from simulators.dram.commands import CMD_DTYPE
from simulators.dram.controller import (
    CONTROLLER_PRESETS,
    DEFAULTS,
    KNOBS,
    NUM_CONFIGS,
    ControllerConfig,
    ControllerOptionError,
    Dramsim3Like,
)
from simulators.dram.device import PRESETS, DeviceSpec
from simulators.dram.mapping import AddressMapping
from simulators.dram.power import EnergyBreakdown, increments
from simulators.dram.result import DramResult, LatencyHistogram
from simulators.dram.run import simulate
from simulators.dram.trace import Trace, TraceFormatError, read_trace, write_trace

__all__ = [
    "CMD_DTYPE",
    "CONTROLLER_PRESETS",
    "DEFAULTS",
    "KNOBS",
    "NUM_CONFIGS",
    "PRESETS",
    "AddressMapping",
    "ControllerConfig",
    "ControllerOptionError",
    "DeviceSpec",
    "DramResult",
    "Dramsim3Like",
    "EnergyBreakdown",
    "LatencyHistogram",
    "Trace",
    "TraceFormatError",
    "increments",
    "read_trace",
    "simulate",
    "write_trace",
]
