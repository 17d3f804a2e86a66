"""GPT decoding on the PIM system: per-token GEMVs on PIM, non-linear functions on the ASIC.

Each token passes through every decoder layer (GPT-2 / OPT, pre-layer-norm):

1. ASIC: layer norm (hidden ``d``);
2. PIM: QKV GEMV (``3d x d``); the new key and value (``2d`` elements) are written into the
   KV cache rows (ASIC -> DRAM);
3. PIM: attention scores, one GEMV per head over the cached keys (``ctx x d_head``), heads
   spread over the channels (a channel group per head, or several heads per channel run one
   after the other);
4. ASIC: softmax over ``ctx`` scores of every head;
5. PIM: attention context, one GEMV per head over the cached values (``d_head x ctx``);
6. PIM: output projection (``d x d``); ASIC: residual add; ASIC: layer norm;
7. PIM: FFN up (``f x d``); ASIC: GELU (GPT-2) or ReLU (OPT); PIM: FFN down (``d x f``);
   ASIC: residual add.

After the last layer: ASIC layer norm, PIM LM head (``vocab x d``), ASIC argmax. Every GEMV's
input vector is written into the PIM registers and its output read back by the ASIC (inside
the GEMV simulation); split-K partial sums are added on the ASIC. Steps run one after the
other (a token's operations depend on each other).

Workload: ``prompt`` P and ``tokens`` T. The prompt is fed one token per pass (a GEMV engine
has no GEMM mode), building the KV cache: P passes over contexts 1..P without the LM head.
Each generated token costs one full pass over its context P + t (t = 1..T) with the LM head.
Decode figures (tokens/s, latency and energy per token) are over the T generated tokens; the
prefill is reported apart.

ASIC (PIM-GPT's synthesized ASIC is not public; this is our documented stand-in): a vector
unit of ``asic_lanes`` fp32 lanes at ``asic_clock_ghz``, with pipelined function units
(exp, divide, reciprocal square root) of ``asic_pipeline_cycles`` latency and adder trees of
``log2(lanes)`` levels. Passes over n elements take ``ceil(n / lanes)`` cycles each:
layer norm 3 passes (mean, variance, normalise) + two trees + one rsqrt latency; softmax per
head 3 passes (max, exp and sum, scale) + two trees + exp and divide latencies; GELU/ReLU,
residual add and split-K reduction 1 pass + one latency; argmax 1 pass + one tree.
Element operations for energy: layer norm 5, softmax 11 (an exp is ~8 multiply-adds), GELU 12
(tanh form), ReLU, residual, reduction and argmax 1 each.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from simulators.pim.config import PimConfig, PimInputError, resolve, shipped
from simulators.pim.energy import asic_area_mm2, command_energy, pim_area_mm2
from simulators.pim.engine import COMMANDS
from simulators.pim.gemv import energy_of, pim_timing, run_channel, simulate_gemv
from simulators.pim.host import get_host

ACTIVATIONS = ("gelu", "relu")
ELEMENT_OPS = {"layernorm": 5, "softmax": 11, "gelu": 12, "relu": 1, "residual": 1,
               "reduce": 1, "argmax": 1}


@dataclass(frozen=True)
class ModelConfig:
    """A decoder-only transformer: layer count and sizes."""

    name: str
    layers: int
    hidden: int
    heads: int
    ffn: int
    vocab: int
    context: int
    activation: str = "gelu"

    def __post_init__(self) -> None:
        for f in ("layers", "hidden", "heads", "ffn", "vocab", "context"):
            v = getattr(self, f)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise PimInputError(f"model {self.name!r}: {f}={v!r}: a positive integer is "
                                    "required")
        if self.hidden % self.heads:
            raise PimInputError(f"model {self.name!r}: hidden={self.hidden} must be a multiple "
                                f"of heads={self.heads}")
        if self.activation not in ACTIVATIONS:
            raise PimInputError(f"model {self.name!r}: activation={self.activation!r}; "
                                f"allowed: {', '.join(ACTIVATIONS)}")

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    @property
    def parameters(self) -> int:
        """Weights of the GEMVs (embedding tied to the LM head; biases and norms omitted)."""
        d, f = self.hidden, self.ffn
        return self.layers * (4 * d * d + 2 * d * f) + self.vocab * d


MODEL_KEYS = tuple(f.name for f in fields(ModelConfig))


def model_names() -> tuple[str, ...]:
    """Names of the shipped model configurations."""
    return shipped("models")


def read_model(path: str | Path) -> ModelConfig:
    """A model config from a YAML file (keys: ``MODEL_KEYS``) or a shipped model's name."""
    p = resolve(path, "models", "model")
    import yaml

    try:
        data = yaml.safe_load(p.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise PimInputError(f"{p}: cannot read a model config: {e}") from e
    if not isinstance(data, dict):
        raise PimInputError(f"{p}: a mapping with keys {', '.join(MODEL_KEYS)} is required")
    unknown = sorted(set(data) - set(MODEL_KEYS))
    missing = [k for k in MODEL_KEYS if k not in data and k != "activation"]
    if unknown or missing:
        raise PimInputError(f"{p}: unknown key(s) {unknown} / missing key(s) {missing}; "
                            f"keys: {', '.join(MODEL_KEYS)}")
    try:
        return ModelConfig(**{k: (str(v) if k in ("name", "activation") else v)
                              for k, v in data.items()})
    except PimInputError as e:
        raise PimInputError(f"{p}: {e}") from None


def _as_model(model: ModelConfig | str | Path) -> ModelConfig:
    return model if isinstance(model, ModelConfig) else read_model(model)


# ------------------------------------------------------------------------------------ ASIC
def asic_cycles(kind: str, n: int, cfg: PimConfig, groups: int = 1) -> int:
    """Cycles of one ASIC function over ``groups`` vectors of ``n`` elements."""
    lanes, lat = cfg.asic_lanes, cfg.asic_pipeline_cycles
    tree = max(1, math.ceil(math.log2(lanes)))
    per = math.ceil(n / lanes)
    cycles = {
        "layernorm": 3 * per + 2 * tree + lat,
        "softmax": 3 * per + 2 * tree + 2 * lat,
        "gelu": per + lat, "relu": per + 1, "residual": per + 1, "reduce": per + 1,
        "argmax": per + tree,
    }[kind]
    return groups * cycles


@dataclass
class _Step:
    """Accumulated cost of a sequence of operations."""

    time_ns: float = 0.0
    host_ns: float = 0.0
    asic_element_ops: float = 0.0
    kv_bursts: int = 0

    def __post_init__(self) -> None:
        self.parts: dict[str, float] = {}
        self.counts: dict[str, int] = dict.fromkeys(COMMANDS, 0)

    def add(self, part: str, ns: float) -> None:
        self.time_ns += ns
        self.parts[part] = self.parts.get(part, 0.0) + ns

    def scaled(self, k: int) -> _Step:
        out = _Step(self.time_ns * k, self.host_ns * k, self.asic_element_ops * k,
                    self.kv_bursts * k)
        out.parts = {p: v * k for p, v in self.parts.items()}
        out.counts = {c: v * k for c, v in self.counts.items()}
        return out

    def merge(self, other: _Step) -> None:
        self.time_ns += other.time_ns
        self.host_ns += other.host_ns
        self.asic_element_ops += other.asic_element_ops
        self.kv_bursts += other.kv_bursts
        for p, v in other.parts.items():
            self.parts[p] = self.parts.get(p, 0.0) + v
        for c, v in other.counts.items():
            self.counts[c] += v


class _Decoder:
    """Costs of a model's operations on one configuration (GEMVs cached by shape)."""

    def __init__(self, model: ModelConfig, cfg: PimConfig) -> None:
        self.m, self.cfg = model, cfg
        self.host = get_host(cfg.host)
        self.vbytes = cfg.vector_bits / 8

    def asic(self, step: _Step, kind: str, n: int, groups: int = 1) -> None:
        step.add(kind if kind not in ("gelu", "relu") else "activation",
                 asic_cycles(kind, n, self.cfg, groups) / self.cfg.asic_clock_ghz)
        step.asic_element_ops += ELEMENT_OPS[kind] * n * groups
        # the host streams the vector in and out of its memory
        step.host_ns += self.host.stream_time_ns(2 * n * groups * self.vbytes)

    def gemv(self, step: _Step, part: str, M: int, K: int) -> None:
        r = _weight_gemv(self.cfg, M, K)
        step.add(part, r.pim_time_ns)
        for c, v in r.commands.items():
            step.counts[c] += v
        step.host_ns += r.host_time_ns
        s = r.mapping["split_k"]
        if s > 1:
            self.asic(step, "reduce", M * (s - 1))

    def attention(self, step: _Step, part: str, M: int, K: int) -> None:
        """One GEMV per head: heads spread over channel groups (see the module docstring)."""
        H, C = self.m.heads, self.cfg.total_channels
        if H >= C:
            width, rounds = 1, math.ceil(H / C)
        else:
            width, rounds = C // H, 1
        sub = self.cfg.replace(stacks=1, channels=width, split_k=1)
        r = _weight_gemv(sub, M, K)
        step.add(part, rounds * r.pim_time_ns)
        for c, v in r.commands.items():
            step.counts[c] += H * v
        step.host_ns += H * self.host.gemv_time_ns(M, K, 1, self.cfg.matrix_bits,
                                                   self.cfg.vector_bits)

    def kv_write(self, step: _Step) -> None:
        """Append the token's key and value (2d elements) to the cache rows of every channel:
        timed as one row opened per channel and its bursts written (the engine's write-back),
        charged as single-bank writes, each with its own row activation (``wr_burst``)."""
        cfg = self.cfg
        t = pim_timing(cfg)
        per_channel = math.ceil(2 * self.m.hidden * self.vbytes / cfg.total_channels)
        bursts = math.ceil(per_channel / t.read_burst_bytes)
        stats = run_channel(cfg, t, (("wb", bursts, 0),))
        step.add("kv_write", stats.time_ps / 1000.0)
        step.kv_bursts += bursts * cfg.total_channels
        step.host_ns += self.host.stream_time_ns(2 * self.m.hidden * self.vbytes)

    def layer(self, ctx: int) -> _Step:
        m, d = self.m, self.m.hidden
        s = _Step()
        self.asic(s, "layernorm", d)
        self.gemv(s, "qkv", 3 * d, d)
        self.kv_write(s)
        self.attention(s, "attention_scores", ctx, m.head_dim)
        self.asic(s, "softmax", ctx, m.heads)
        self.attention(s, "attention_context", m.head_dim, ctx)
        self.gemv(s, "projection", d, d)
        self.asic(s, "residual", d)
        self.asic(s, "layernorm", d)
        self.gemv(s, "ffn_up", m.ffn, d)
        self.asic(s, m.activation, m.ffn)
        self.gemv(s, "ffn_down", d, m.ffn)
        self.asic(s, "residual", d)
        return s

    def head(self) -> _Step:
        s = _Step()
        self.asic(s, "layernorm", self.m.hidden)
        self.gemv(s, "lm_head", self.m.vocab, self.m.hidden)
        self.asic(s, "argmax", self.m.vocab)
        return s

    def token(self, ctx: int, with_head: bool) -> _Step:
        s = self.layer(ctx).scaled(self.m.layers)
        if with_head:
            s.merge(self.head())
        return s


@lru_cache(maxsize=4096)
def _weight_gemv(cfg: PimConfig, M: int, K: int):
    return simulate_gemv(M, K, 1, cfg)


@dataclass(frozen=True)
class DecodeResult:
    """Whole-decoding figures: PIM, the host baseline and their ratios.

    Times in ns, energies in uJ, areas in mm^2. Per-token figures are over the generated
    tokens (decode); the prompt's passes are in ``prefill_*``. ``breakdown_ns`` splits the
    decode time by operation, ``energy_breakdown_uj`` its energy by component.
    """

    model: str
    prompt: int
    tokens: int
    config: str
    host: str
    tokens_per_s: float
    latency_per_token_ns: float
    energy_per_token_uj: float
    decode_time_ns: float
    decode_energy_uj: float
    prefill_time_ns: float
    prefill_energy_uj: float
    host_tokens_per_s: float
    host_latency_per_token_ns: float
    host_energy_per_token_uj: float
    speedup: float
    energy_ratio: float
    area_mm2: dict[str, float]
    breakdown_ns: dict[str, float]
    energy_breakdown_uj: dict[str, float]
    commands: dict[str, int]
    capacity_used: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _energy_uj(cfg: PimConfig, step: _Step) -> dict[str, float]:
    e = energy_of(cfg, step.counts, step.time_ns)
    e["asic"] = step.asic_element_ops * cfg.asic_op_pj
    e["kv_write"] = step.kv_bursts * command_energy(cfg).wr_burst
    return {k: v / 1e6 for k, v in e.items()}


def capacity_bytes(cfg: PimConfig) -> int:
    """DRAM capacity of the PIM system (the device's rows of ``row_bytes`` in every bank)."""
    return bank_bytes(cfg) * cfg.total_banks


def bank_bytes(cfg: PimConfig) -> int:
    """DRAM capacity of one bank (the device's rows of ``row_bytes``)."""
    from simulators.dram.device import PRESETS

    return PRESETS[cfg.device].rows * cfg.row_bytes


def memory_need_bytes(model: ModelConfig | str | Path, prompt: int, tokens: int,
                      cfg: PimConfig) -> float:
    """DRAM the decoding needs: the GEMV weights and the KV cache of ``prompt + tokens``."""
    m = _as_model(model)
    return (m.parameters * cfg.matrix_bits
            + 2 * m.layers * (prompt + tokens) * m.hidden * cfg.vector_bits) / 8


def streaming_bound_tokens_per_s(model: ModelConfig | str | Path, cfg: PimConfig) -> float:
    """Tokens/s if every PIM unit only streamed its share of the weights at one SIMD word per
    PIM command slot (tCCD_L, or the GeniePIM tuple's tCCD) with no row opens, padding,
    register traffic, attention or ASIC work: an upper bound for ``cfg``."""
    m = _as_model(model)
    units = cfg.total_banks // cfg.banks_per_pim_unit * cfg.alus_per_pim_unit
    bytes_per_ns = units * cfg.simd_width_bits / 8 / (pim_timing(cfg).ccd / 1000.0)
    return bytes_per_ns / (m.parameters * cfg.matrix_bits / 8) * 1e9


def energy_floor_per_token_uj(model: ModelConfig | str | Path, cfg: PimConfig) -> float:
    """Energy per token of reading every weight once inside its bank and multiplying it
    (the MAC command's energy per weight), with no row activation, I/O, background or ASIC
    energy: a lower bound that no SIMD width, bank or channel count changes."""
    m = _as_model(model)
    e = command_energy(cfg)
    per_weight = e.mac / (cfg.banks_per_channel // cfg.banks_per_pim_unit * cfg.lanes)
    return m.parameters * per_weight / 1e6


def simulate_decoding(model: ModelConfig | str | Path, prompt: int, tokens: int,
                      config: PimConfig | None = None) -> DecodeResult:
    """Decode ``tokens`` tokens after a ``prompt``-token prompt (see the module docstring)."""
    cfg = config or PimConfig()
    m = _as_model(model)
    for name, v, low in (("prompt", prompt, 0), ("tokens", tokens, 1)):
        if not isinstance(v, int) or isinstance(v, bool) or v < low:
            raise PimInputError(f"{name}={v!r}: an integer >= {low} is required")
    if prompt + tokens > m.context:
        raise PimInputError(f"prompt + tokens = {prompt + tokens} exceeds {m.name}'s context "
                            f"of {m.context}")
    need = memory_need_bytes(m, prompt, tokens, cfg)
    cap = capacity_bytes(cfg)
    if need > cap:
        raise PimInputError(f"{m.name} needs {need / 2**30:.2f} GiB (weights and KV cache), the "
                            f"PIM system holds {cap / 2**30:.2f} GiB")
    dec = _Decoder(m, cfg)
    prefill, decode = _Step(), _Step()
    for ctx in range(1, prompt + 1):
        prefill.merge(dec.token(ctx, with_head=False))
    for t in range(1, tokens + 1):
        decode.merge(dec.token(prompt + t, with_head=True))
    host = get_host(cfg.host)
    e_dec = _energy_uj(cfg, decode)
    e_dec_total = sum(e_dec.values())
    host_e = host.energy_pj(decode.host_ns) / 1e6
    pim_area, asic_area = pim_area_mm2(cfg), asic_area_mm2(cfg)
    return DecodeResult(
        model=m.name, prompt=prompt, tokens=tokens, config=cfg.name, host=host.name,
        tokens_per_s=tokens / decode.time_ns * 1e9,
        latency_per_token_ns=decode.time_ns / tokens,
        energy_per_token_uj=e_dec_total / tokens,
        decode_time_ns=decode.time_ns, decode_energy_uj=e_dec_total,
        prefill_time_ns=prefill.time_ns,
        prefill_energy_uj=sum(_energy_uj(cfg, prefill).values()) if prompt else 0.0,
        host_tokens_per_s=tokens / decode.host_ns * 1e9,
        host_latency_per_token_ns=decode.host_ns / tokens,
        host_energy_per_token_uj=host_e / tokens,
        speedup=decode.host_ns / decode.time_ns,
        energy_ratio=host_e / e_dec_total if e_dec_total else float("inf"),
        area_mm2={"pim_logic": pim_area, "asic": asic_area, "total": pim_area + asic_area},
        breakdown_ns=dict(sorted(decode.parts.items())),
        energy_breakdown_uj=e_dec, commands=dict(decode.counts),
        capacity_used=need / cap)
