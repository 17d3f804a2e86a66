"""Pure entry functions behind ``archgym simulate pim`` and the ``PIM-v0`` environment.

- :func:`gemv_command`: ``--gemv M,K[,N] --config FILE [--set k=v ...]``;
- :func:`model_command`: ``--model NAME --prompt P --tokens T [--config FILE] [--set k=v]``;
- :func:`evaluate_design`: one design point (the ``DESIGN_KNOBS`` below, any subset) on a
  (model, prompt, tokens) workload -> tokens/s, energy per token, area;
- :func:`design_rules`: the rules a simulable design point of ``DESIGN_KNOBS`` obeys, as
  expressions over the knobs (a design space's constraints).

Each returns a JSON-serialisable dict and raises :class:`~simulators.pim.config.PimInputError`
(a ``ValueError``) with a message naming the file, key or knob and what is allowed.
"""

from __future__ import annotations

import math
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
from simulators.pim.gpt import (
    ModelConfig,
    bank_bytes,
    memory_need_bytes,
    model_names,
    simulate_decoding,
)
from simulators.pim.mapping import input_registers, output_registers

#: A design space for PIM-v0: knob -> values (all legal alone; some combinations are not:
#: :func:`design_rules` writes down those that the knobs alone decide, the others raise
#: PimInputError). Tile order 0 ("all row blocks of a bank") is left out: where its
#: registers suffice it maps every GEMV exactly as -1 ("as many as the registers allow")
#: does, and elsewhere it is infeasible.
DESIGN_KNOBS: dict[str, tuple] = {
    "channels": (2, 4, 8, 16, 32),
    "banks_per_channel": (4, 8, 16, 32),
    "banks_per_pim_unit": (1, 2, 4),
    "simd_width_bits": (128, 256, 512),
    "orf_registers": (4, 8, 16, 32),
    "irf_registers": (8, 16, 32, 64, 128),
    "pim_compute_rate": (0.5, 1.0, 2.0),
    "tile_rows": (-1, 0, 4, 8, 16),
    "tile_order": (-1, 1, 2, 4, 8),
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


def evaluate_design(design: Mapping[str, Any], model: ModelConfig | str | Path = "gpt2",
                    prompt: int = 64, tokens: int = 64,
                    base: PimConfig | str | Path | None = None) -> dict[str, float]:
    """Tokens/s, energy per token (uJ) and area (mm^2) of one design point.

    ``design`` maps knobs (``DESIGN_KNOBS`` or any other ``PimConfig`` field) to values, on
    top of ``base`` (default: the PIM-GPT-like configuration). Unless given, the input-vector
    chunk fills the input registers (``vector_registers = irf_registers / banks_per_pim_unit``).
    """
    cfg = _base(base)
    d = dict(design)
    if "vector_registers" not in d and ("irf_registers" in d or "banks_per_pim_unit" in d):
        u = int(d.get("banks_per_pim_unit", cfg.banks_per_pim_unit))
        d["vector_registers"] = max(1, int(d.get("irf_registers", cfg.irf_registers)) // u)
    cfg = config_from_mapping(d, where="design", base=cfg)
    r = simulate_decoding(model, prompt, tokens, cfg)
    return {"tokens_per_s": r.tokens_per_s, "energy_per_token_uj": r.energy_per_token_uj,
            "area_mm2": r.area_mm2["total"], "latency_per_token_ns": r.latency_per_token_ns,
            "speedup": r.speedup, "energy_ratio": r.energy_ratio}


def _base(base: PimConfig | str | Path | None) -> PimConfig:
    return base if isinstance(base, PimConfig) else (read_config(base) if base else PimConfig())


def design_rules(values: Mapping[str, Sequence[Any]], model: ModelConfig | str | Path = "gpt2",
                 prompt: int = 64, tokens: int = 64,
                 base: PimConfig | str | Path | None = None) -> dict[str, str]:
    """Rules that every design point :func:`evaluate_design` can simulate obeys, as
    expressions (Python syntax: names, arithmetic, comparisons, ``and``/``or``/``not``,
    tuples with ``in``) over the knobs of ``values`` (every ``DESIGN_KNOBS`` name -> the
    values searched); name -> expression. Rules that every combination of ``values`` obeys
    are left out.

    - ``split_k_channels``: split-K gives each slice its own channels;
    - ``capacity``: the weights and the KV cache fit in the banks (the workload's bytes);
    - ``orf_tile_order`` (one per output-register need): the output registers of a PIM unit
      hold the outputs of one row block, and of ``tile_order`` row blocks sharing an input
      chunk. Tile shapes with explicit rows (``tile_rows`` > 0, or 0: one row per SIMD lane)
      fix the need; the adaptive shape (-1) needs at least one register per row block;
    - ``irf_tile`` (one per input-register need): the input registers hold one tile's
      columns. The adaptive shape reaches one-row tiles (all columns of an interleave block)
      in every decoding: attention over an odd context length has no other shape without
      padding.

    A design breaking a rule raises :class:`PimInputError`, except that a tile order larger
    than every GEMV's row-block count is clamped by the mapping; such a design maps every
    GEMV exactly as ``tile_order=-1`` does, so the rule loses no distinct design. Designs
    obeying every rule can still be refused for a workload: the adaptive shape with an
    explicit tile order (its output-register need depends on each GEMV's shape).
    """
    missing = [k for k in DESIGN_KNOBS if not values.get(k)]
    if missing:
        raise PimInputError(f"design_rules: no values for knob(s) {', '.join(missing)}")
    cfg = _base(base)
    v = {k: tuple(values[k]) for k in DESIGN_KNOBS}
    lo, hi = {k: min(v[k]) for k in v}, {k: max(v[k]) for k in v}
    rules: dict[str, str] = {}
    if hi["split_k"] > cfg.stacks * lo["channels"]:
        stacks = f"{cfg.stacks} * " if cfg.stacks > 1 else ""
        rules["split_k_channels"] = f"split_k <= {stacks}channels"
    banks = math.ceil(memory_need_bytes(model, prompt, tokens, cfg)
                      / (bank_bytes(cfg) * cfg.stacks))
    if lo["channels"] * lo["banks_per_channel"] < banks:
        rules["capacity"] = f"channels * banks_per_channel >= {banks}"
    if cfg.vector_register_file != "irf":  # inputs share the output registers: no rule
        return rules
    shapes = {(t, w): (t if t > 0 else w // cfg.matrix_bits if t == 0 else 1)
              for t in v["tile_rows"] for w in v["simd_width_bits"]}
    free = {"orf": (lo["orf_registers"] // hi["banks_per_pim_unit"],
                    "orf_registers // banks_per_pim_unit"),
            "irf": (lo["irf_registers"] // hi["banks_per_pim_unit"],
                    "irf_registers // banks_per_pim_unit")}
    orf_need = {c: output_registers(cfg, m, c[1] // cfg.matrix_bits)
                for c, m in shapes.items()}
    irf_need = {c: input_registers(cfg, m) for c, m in shapes.items()}
    for file, need, check in (("orf", orf_need, cfg.check_output_registers),
                              ("irf", irf_need, cfg.check_input_registers)):
        least, regs = free[file]
        for n in sorted(set(need.values())):
            parts = []
            if file == "orf" and n * hi["tile_order"] > least:
                parts.append(f"{n} * tile_order <= {regs}" if n > 1
                             else f"tile_order <= {regs}")
            if n > least:
                parts.append(f"{n} <= {regs}")
            if not parts or not check:
                continue
            rule = " and ".join(parts)
            shapes_ = _where({c for c, k in need.items() if k >= n}, v)
            if shapes_:
                rule = f"{shapes_} or ({rule})" if " and " in rule else f"{shapes_} or {rule}"
            rules[f"{file}_tile" + ("_order" if file == "orf" else "") + f"_{n}"] = rule
    return rules


def _where(chosen: set[tuple[int, int]], v: Mapping[str, tuple]) -> str:
    """An expression false exactly for the (tile_rows, simd_width_bits) pairs ``chosen`` (so
    ``<it> or rule`` applies the rule to them alone); "" when they are all the pairs."""
    widths = set(v["simd_width_bits"])
    if len(chosen) == len(v["tile_rows"]) * len(widths):
        return ""
    whole = sorted(t for t in set(v["tile_rows"]) if {(t, w) for w in widths} <= chosen)
    part = sorted(c for c in chosen if c[0] not in whole)
    terms = []
    if whole:
        terms.append(f"tile_rows != {whole[0]}" if len(whole) == 1
                     else f"tile_rows not in {tuple(whole)}")
    if part:
        terms.append(f"(tile_rows, simd_width_bits) != {part[0]}" if len(part) == 1
                     else f"(tile_rows, simd_width_bits) not in {tuple(part)}")
    return " and ".join(terms) if len(terms) == 1 else "(" + " and ".join(terms) + ")"


__all__ = ["DESIGN_KNOBS", "DESIGN_METRICS", "PimInputError", "design_rules", "evaluate_design",
           "gemv_command", "model_command", "model_names", "parse_gemv"]
