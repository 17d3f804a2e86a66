"""Event-driven DRAM-PIM simulator for GEMV and GPT decoding (PIM-GPT style).

>>> from simulators.pim import simulate_gemv, simulate_decoding, read_config
>>> r = simulate_gemv(4096, 4096, 1, read_config("pim-gpt"))  # doctest: +SKIP
>>> r.pim_time_ns, r.speedup  # doctest: +SKIP
>>> simulate_decoding("gpt2-xl", prompt=64, tokens=64).tokens_per_s  # doctest: +SKIP

Entry points for the command line and the environment are in ``simulators.pim.entry``. See
``docs/pim.md`` for the model and ``docs/pim-fidelity.md`` for its agreement with AMD
GeniePIM.
"""

from simulators.pim.config import PimConfig, PimInputError, apply_sets, read_config
from simulators.pim.entry import (
    DESIGN_KNOBS,
    DESIGN_METRICS,
    design_rules,
    evaluate_design,
    gemv_command,
    model_command,
)
from simulators.pim.gemv import GemvResult, simulate_gemv
from simulators.pim.gpt import DecodeResult, ModelConfig, model_names, read_model, simulate_decoding
from simulators.pim.host import HOSTS, RooflineHost

__all__ = [
    "DESIGN_KNOBS",
    "DESIGN_METRICS",
    "HOSTS",
    "DecodeResult",
    "GemvResult",
    "ModelConfig",
    "PimConfig",
    "PimInputError",
    "RooflineHost",
    "apply_sets",
    "design_rules",
    "evaluate_design",
    "gemv_command",
    "model_command",
    "model_names",
    "read_config",
    "read_model",
    "simulate_decoding",
    "simulate_gemv",
]
