"""Event-driven DRAM-PIM simulator for GEMV and GPT decoding (PIM-GPT style).

>>> from simulators.pim import simulate_gemv, PimConfig
>>> r = simulate_gemv(4096, 4096, 1, PimConfig())  # doctest: +SKIP
>>> r.pim_time_ns, r.speedup  # doctest: +SKIP

See ``docs/pim.md`` for the model and ``docs/pim-fidelity.md`` for how it compares with AMD
GeniePIM.
"""

from simulators.pim.config import PimConfig, PimInputError, apply_sets, read_config
from simulators.pim.gemv import GemvResult, simulate_gemv
from simulators.pim.host import HOSTS, RooflineHost

__all__ = [
    "HOSTS",
    "GemvResult",
    "PimConfig",
    "PimInputError",
    "RooflineHost",
    "apply_sets",
    "read_config",
    "simulate_gemv",
]
