"""``archgym/PIM-v0``: design a DRAM-PIM system for GPT decoding (PIM-GPT style).

Each step evaluates one design point with the event-driven simulator of
:mod:`simulators.pim`: a decoder model decodes ``tokens`` tokens after a ``prompt``-token
prompt, every GEMV on the PIM banks, the non-linear functions on the ASIC beside them.

**Design space**: the eleven knobs of :data:`simulators.pim.DESIGN_KNOBS` (5,400,000 designs):
channels, banks per channel, banks per PIM unit, SIMD width, output and input register
counts, PIM compute rate, tile shape (``tile_rows``), tile order, split-K and the ASIC's
lanes. Every other field of the system (device, precision, register widths, host baseline,
energies) comes from ``config`` (a shipped configuration, our YAML or a GeniePIM
``config.in``), whose knob values are the default design; ``values`` narrows a knob's
values. The special values follow GeniePIM: ``tile_rows`` -1 = largest shape without padding,
0 = one row per SIMD lane; ``tile_order`` -1 = as many row blocks per input chunk as the
registers allow; ``split_k`` -1 = enough slices to give every bank a row block.

**Feasibility**: the design rules of :func:`simulators.pim.design_rules` (split-K within the
channels, the model's weights and KV cache within the banks, the register files holding one
tile's inputs and ``tile_order`` row blocks' outputs) are the space's constraints, so
searchers sample, enumerate and check only designs that obey them; a design breaking one is
an invalid step and is not simulated. The few designs that obey them but that the simulator
still refuses for this workload (the adaptive tile shape with an explicit tile order, whose
register need depends on each GEMV's shape) are invalid steps too (the evaluator raises
:class:`~archgym.space.InvalidDesignError`; ``info["invalid_reason"]`` says why).

**Metrics**: ``tokens_per_s`` (decode throughput), ``energy_per_token_uj``, ``area_mm2`` (PIM
logic of every bank plus the ASIC), ``latency_per_token_ns``, ``speedup`` and
``energy_ratio`` against the configuration's roofline host. Scales (the value an observation
maps to 0.5) are the default design's own figures on the workload. The observation is
``[tokens_per_s, energy_per_token_uj, area_mm2]``.

**Objectives**: any string of :func:`archgym.objectives.parse` over the metrics, plus the
aliases ``throughput`` (the default), ``energy``, ``area``, ``latency``, ``balanced`` (the
three, each relative to the default design), ``targets`` (ArchGym's target reward on the
three) and ``pareto``; e.g. ``"throughput; area_mm2<=20"`` or
``"target:tokens_per_s=20000,area_mm2=10"``. Default targets are physical limits of the space
on the workload, so an unreachable target never hides progress: the tokens/s of the largest
design if its banks did nothing but stream the weights (one SIMD word per bank and command
slot), the energy of reading every weight once inside its bank and multiplying it, and the
area of the smallest design.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from archgym.contract import digest
from archgym.env import DesignEnv
from archgym.errors import ArchGymError
from archgym.evaluator import Evaluator, Metrics, MetricSpec
from archgym.objectives import parse
from archgym.space import Categorical, Constraint, DesignSpace, InvalidDesignError, Ordinal
from simulators.pim import (
    DESIGN_KNOBS,
    ModelConfig,
    PimConfig,
    PimInputError,
    design_rules,
    evaluate_design,
    model_names,
    read_config,
    read_model,
)
from simulators.pim.config import config_from_mapping, preset_names
from simulators.pim.energy import asic_area_mm2, pim_area_mm2
from simulators.pim.gpt import energy_floor_per_token_uj, streaming_bound_tokens_per_s

#: knobs whose special values (-1, 0) are modes rather than sizes: unordered
MODES = ("tile_rows", "tile_order", "split_k")
#: agents of the multi-agent view: one per part of the system
GROUPS = {"organisation": ("channels", "banks_per_channel"),
          "pim_unit": ("banks_per_pim_unit", "simd_width_bits", "orf_registers",
                       "irf_registers", "pim_compute_rate"),
          "mapping": ("tile_rows", "tile_order", "split_k"),
          "asic": ("asic_lanes",)}
#: metric -> (unit, direction); the first three are observed
METRICS = {"tokens_per_s": ("tokens/s", "maximize"),
           "energy_per_token_uj": ("uJ", "minimize"),
           "area_mm2": ("mm^2", "minimize"),
           "latency_per_token_ns": ("ns", "minimize"),
           "speedup": ("x", "maximize"),
           "energy_ratio": ("x", "maximize")}
OBSERVED = ("tokens_per_s", "energy_per_token_uj", "area_mm2")
ALIASES = {"throughput": "tokens_per_s", "energy": "energy_per_token_uj", "area": "area_mm2",
           "latency": "latency_per_token_ns",
           "balanced": "tokens_per_s+energy_per_token_uj+area_mm2",
           "targets": "target:tokens_per_s,energy_per_token_uj,area_mm2",
           "pareto": "pareto:tokens_per_s,energy_per_token_uj,area_mm2"}


def knob_values(values: Mapping[str, Sequence[Any]] | None) -> dict[str, tuple]:
    """``DESIGN_KNOBS`` with some knobs' values narrowed (each a non-empty subset)."""
    values = dict(values or {})
    out = {}
    for name in values:
        if name not in DESIGN_KNOBS:
            raise ArchGymError(f"unknown PIM knob {name!r}; knobs: {', '.join(DESIGN_KNOBS)}")
    for name, allowed in DESIGN_KNOBS.items():
        chosen = tuple(values.get(name, allowed))
        bad = [v for v in chosen if v not in allowed]
        if bad or not chosen:
            raise ArchGymError(f"values for {name}: {bad or 'empty'} not allowed; allowed: "
                               f"{', '.join(map(str, allowed))}")
        out[name] = tuple(dict.fromkeys(chosen))
    return out


def pim_space(values: Mapping[str, tuple], base: PimConfig,
              rules: Mapping[str, str]) -> DesignSpace:
    """The knobs (defaults: ``base``'s values where allowed) under the design ``rules``."""
    params = []
    for name, chosen in values.items():
        kind = Categorical if name in MODES else Ordinal
        default = getattr(base, name)
        params.append(kind(name, chosen, default=default if default in chosen else None))
    return DesignSpace(params, [Constraint(n, e) for n, e in rules.items()], GROUPS)


def load_base(config: str) -> PimConfig:
    try:
        return read_config(config)
    except PimInputError as e:
        raise ArchGymError(f"config: {e} (shipped: {', '.join(preset_names())})") from None


def load_model(model: str) -> ModelConfig:
    try:
        return read_model(model)
    except PimInputError as e:
        raise ArchGymError(f"model: {e} (shipped: {', '.join(model_names())})") from None


class PimEvaluator(Evaluator):
    """Decodes the workload on one design point; infeasible designs raise
    :class:`InvalidDesignError` naming the workload and what the simulator refused."""

    def __init__(self, space: DesignSpace, model: ModelConfig, prompt: int, tokens: int,
                 base: PimConfig, workload: str) -> None:
        super().__init__()
        self.space, self.model, self.prompt, self.tokens = space, model, prompt, tokens
        self.base, self.workload = base, workload
        self.workload_hash = digest(asdict(model), prompt, tokens, base.to_dict())
        default = space.default()
        try:
            first = self._evaluate(space.validate(default))
        except InvalidDesignError as e:
            raise ArchGymError(f"PIM-v0: the default design (config {base.name!r}) is "
                               f"infeasible: {e}; choose another config or narrow `values`"
                               ) from None
        #: the default design's metrics: the metric scales
        self.default_metrics = {n: float(first[n]) for n in METRICS}
        self.metric_specs = tuple(MetricSpec(n, unit, d, scale=self.default_metrics[n])
                                  for n, (unit, d) in METRICS.items())
        self._remember(space.key(default), dict(self.default_metrics))

    def _evaluate(self, config: Mapping[str, Any]) -> Metrics:
        try:
            return evaluate_design(config, self.model, self.prompt, self.tokens, self.base)
        except PimInputError as e:
            raise InvalidDesignError(f"{self.workload}: {e}") from None


def default_targets(values: Mapping[str, tuple], model: ModelConfig, base: PimConfig
                    ) -> dict[str, float]:
    """Physical limits of the space on the workload (see the module docstring); a limit
    whose extreme design is not a valid configuration is left out."""
    largest = {"channels": max(values["channels"]),
               "banks_per_channel": max(values["banks_per_channel"]),
               "banks_per_pim_unit": min(values["banks_per_pim_unit"]),
               "simd_width_bits": max(values["simd_width_bits"])}
    smallest = {"channels": min(values["channels"]),
                "banks_per_channel": min(values["banks_per_channel"]),
                "banks_per_pim_unit": max(values["banks_per_pim_unit"]),
                "simd_width_bits": min(values["simd_width_bits"]),
                "orf_registers": min(values["orf_registers"]),
                "irf_registers": min(values["irf_registers"]),
                "asic_lanes": min(values["asic_lanes"])}
    targets = {"energy_per_token_uj": energy_floor_per_token_uj(model, base)}
    try:
        big = config_from_mapping(largest, base=base)
        targets["tokens_per_s"] = streaming_bound_tokens_per_s(model, big)
    except PimInputError:
        pass
    try:
        small = config_from_mapping(smallest, base=base)
        targets["area_mm2"] = pim_area_mm2(small) + asic_area_mm2(small)
    except PimInputError:
        pass
    return targets


def workload_label(model: str, prompt: int, tokens: int, config: str) -> str:
    """What the dataset's ``workload`` column says: ``gpt2[16+16]``, ``@config`` when not
    the default configuration."""
    return f"{model}[{prompt}+{tokens}]" + ("" if config == "pim-gpt" else f"@{config}")


class PimEnv(DesignEnv):
    """DRAM-PIM system design for GPT decoding: one step = one design point decoded."""

    objective_aliases = ALIASES

    def __init__(self, model: str = "gpt2", prompt: int = 16, tokens: int = 16,
                 config: str = "pim-gpt", objective: str = "throughput",
                 target_tokens_per_s: float | None = None,
                 target_energy_per_token_uj: float | None = None,
                 target_area_mm2: float | None = None,
                 values: Mapping[str, Sequence[Any]] | None = None,
                 max_steps: int = 100) -> None:
        base, the_model = load_base(config), load_model(model)
        for name, v, low in (("prompt", prompt, 0), ("tokens", tokens, 1)):
            if v < low:
                raise ArchGymError(f"{name} must be >= {low}, got {v}")
        if prompt + tokens > the_model.context:
            raise ArchGymError(f"prompt + tokens = {prompt + tokens} exceeds the context of "
                               f"{the_model.name} ({the_model.context})")
        knobs = knob_values(values)
        try:
            rules = design_rules(knobs, the_model, prompt, tokens, base)
        except PimInputError as e:
            raise ArchGymError(f"PIM-v0: {e}") from None
        space = pim_space(knobs, base, rules)
        evaluator = PimEvaluator(space, the_model, prompt, tokens, base,
                                 workload_label(model, prompt, tokens, config))
        self.targets = default_targets(knobs, the_model, base)
        given = {"tokens_per_s": target_tokens_per_s,
                 "energy_per_token_uj": target_energy_per_token_uj,
                 "area_mm2": target_area_mm2}
        self.targets.update({k: v for k, v in given.items() if v is not None})
        objective_ = parse(objective, evaluator.metric_specs, ALIASES, self.targets)
        super().__init__(evaluator, objective_, max_steps=max_steps,
                         observation_metrics=OBSERVED)
