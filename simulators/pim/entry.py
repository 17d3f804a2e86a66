"""Pure entry functions behind ``archgym simulate pim`` and the ``PIM-v0`` environment.

- :func:`gemv_command`: ``--gemv M,K[,N] --config FILE [--set k=v ...]``;
- :func:`model_command`: ``--model NAME --prompt P --tokens T [--config FILE] [--set k=v]``;
- :func:`evaluate_design`: one design point (the ``DESIGN_KNOBS`` below, any subset) on a
  (model, prompt, tokens) workload -> tokens/s, energy per token, area.

Each returns a JSON-serialisable dict and raises :class:`~simulators.pim.config.PimInputError`
(a ``ValueError``) with a message naming the file, key or knob and what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from simulators.pim.config import (
    PimConfig,
    PimInputError,
    apply_sets,
    config_from_mapping,
    read_config,
)
from simulators.pim.gemv import simulate_gemv
from simulators.pim.gpt import model_names, simulate_decoding

#: A design space for PIM-v0: knob -> values (all legal alone; some combinations are not,
#: e.g. banks_per_pim_unit must divide the register counts; those raise PimInputError).
DESIGN_KNOBS: dict[str, tuple] = {
    "channels": (2, 4, 8, 16, 32),
    "banks_per_channel": (4, 8, 16, 32),
    "banks_per_pim_unit": (1, 2, 4),
    "simd_width_bits": (128, 256, 512),
    "orf_registers": (4, 8, 16, 32),
    "irf_registers": (8, 16, 32, 64, 128),
    "pim_compute_rate": (0.5, 1.0, 2.0),
    "tile_rows": (-1, 0, 4, 8, 16),
    "tile_order": (-1, 0, 1, 2, 4),
    "split_k": (-1, 1, 2, 4),
    "asic_lanes": (8, 16, 32, 64, 128),
}
#: Metrics of :func:`evaluate_design` and whether larger is better.
DESIGN_METRICS: dict[str, str] = {"tokens_per_s": "maximize", "energy_per_token_uj": "minimize",
                                  "area_mm2": "minimize", "speedup": "maximize",
                                  "energy_ratio": "maximize"}


def parse_gemv(text: str) -> tuple[int, int, int]:
    """``"M,K"`` or ``"M,K,N"`` -> (M, K, N)."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        nums = []
    if len(nums) not in (2, 3) or min(nums, default=0) < 1:
        raise PimInputError(f"--gemv {text!r}: M,K or M,K,N with positive integers is required")
    return nums[0], nums[1], nums[2] if len(nums) == 3 else 1


def _config(config: str | Path | PimConfig | None, sets: Sequence[str]) -> PimConfig:
    cfg = config if isinstance(config, PimConfig) else (
        read_config(config) if config is not None else PimConfig())
    return apply_sets(cfg, sets)


def gemv_command(gemv: str, config: str | Path | PimConfig | None = None,
                 sets: Sequence[str] = ()) -> dict[str, Any]:
    """One GEMV: ``pim_time_ns``, ``host_time_ns``, ``speedup``, energies, ``commands``,
    ``bank_operations``, ``breakdown_ns`` (adds up to the PIM time), ``mapping``."""
    M, K, N = parse_gemv(gemv)
    return simulate_gemv(M, K, N, _config(config, sets)).to_dict()


def model_command(model: str | Path, prompt: int, tokens: int,
                  config: str | Path | PimConfig | None = None,
                  sets: Sequence[str] = ()) -> dict[str, Any]:
    """Whole decoding of a shipped model (``model_names()``) or a model YAML file."""
    return simulate_decoding(model, prompt, tokens, _config(config, sets)).to_dict()


def evaluate_design(design: Mapping[str, Any], model: str | Path = "gpt2", prompt: int = 64,
                    tokens: int = 64, base: PimConfig | str | Path | None = None
                    ) -> dict[str, float]:
    """Tokens/s, energy per token (uJ) and area (mm^2) of one design point.

    ``design`` maps knobs (``DESIGN_KNOBS`` or any other ``PimConfig`` field) to values, on
    top of ``base`` (default: the PIM-GPT-like configuration). Unless given, the input-vector
    chunk fills the input registers (``vector_registers = irf_registers / banks_per_pim_unit``).
    """
    cfg = base if isinstance(base, PimConfig) else (read_config(base) if base else PimConfig())
    d = dict(design)
    if "vector_registers" not in d and ("irf_registers" in d or "banks_per_pim_unit" in d):
        u = int(d.get("banks_per_pim_unit", cfg.banks_per_pim_unit))
        d["vector_registers"] = max(1, int(d.get("irf_registers", cfg.irf_registers)) // u)
    cfg = config_from_mapping(d, where="design", base=cfg)
    r = simulate_decoding(model, prompt, tokens, cfg)
    return {"tokens_per_s": r.tokens_per_s, "energy_per_token_uj": r.energy_per_token_uj,
            "area_mm2": r.area_mm2["total"], "latency_per_token_ns": r.latency_per_token_ns,
            "speedup": r.speedup, "energy_ratio": r.energy_ratio}


__all__ = ["DESIGN_KNOBS", "DESIGN_METRICS", "PimInputError", "evaluate_design", "gemv_command",
           "model_command", "model_names", "parse_gemv"]
