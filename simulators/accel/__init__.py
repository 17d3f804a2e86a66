"""Systolic-array DNN accelerator simulator that reproduces SCALE-Sim v3's counts.

>>> from simulators.accel import AccelConfig, Layer, simulate
>>> cfg = AccelConfig(32, 32, 64, 64, 64, dataflow="ws")
>>> res = simulate([Layer("conv", 58, 58, 3, 3, 64, 64, 1)], cfg)  # doctest: +SKIP
>>> res.to_dict()["total"]["compute_cycles"]  # doctest: +SKIP

The model (``systolic``: folding, cycles, utilisation, SRAM traffic; ``dram``: DRAM traffic;
``energy``: 45 nm energy and area table) and its agreement with SCALE-Sim are described in
``docs/accel.md``.
"""

from simulators.accel.config import (
    AccelConfig,
    format_config,
    parse_config,
    read_config,
    write_config,
)
from simulators.accel.errors import AccelInputError
from simulators.accel.model import (
    REPORT_FIELDS,
    AccelResult,
    LayerResult,
    evaluate_design,
    simulate,
    simulate_files,
    simulate_layer,
)
from simulators.accel.topology import (
    Layer,
    format_topology,
    parse_topology,
    read_topology,
    write_topology,
)
from simulators.accel.torch_layers import layers_from_torch

__all__ = ["REPORT_FIELDS", "AccelConfig", "AccelInputError", "AccelResult", "Layer",
           "LayerResult", "evaluate_design", "format_config", "format_topology",
           "layers_from_torch", "parse_config", "parse_topology", "read_config",
           "read_topology", "simulate", "simulate_files", "simulate_layer", "write_config",
           "write_topology"]
