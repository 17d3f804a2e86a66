"""Program generators: transformer prefill and decode steps, ResNet-style CNNs, MLPs, and
seeded random small programs for exact optima.

Conventions (documented so a reader can check any number):

- Sizes are ``elements * dtype_bytes`` (default 2: fp16/bf16); FLOPs count a multiply-add
  as 2. Matmul ``[m, k] x [k, n]``: ``2 m k n``; convolution: ``2 * out_elements * (c_in /
  groups) * kh * kw``; a bias add, residual add or ReLU: 1 per output element; GELU (tanh
  form): 8 per element; layer norm: 7 per element (mean, subtract, square, sum, scale by
  the inverse deviation, gain, shift); softmax: 5 per element (max, subtract, exp, sum,
  divide); max/average pooling: one per input element in the window.
- Ops are fused the way XLA fuses them for an accelerator: a matmul or convolution with its
  bias (and, in CNNs, folded batch norm and ReLU) is one op; element-wise epilogues that
  XLA cannot fuse into a matmul (GELU, softmax, layer norm, residual add) are their own ops.
  Views (reshape, head split, transpose) are free and alias their input tensor.
- Program inputs (weights, input activations, KV cache) are ordinary tensors: their live
  range starts at their first use, as the game's rules say.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simulators.memmap.program import Hierarchy, Op, Program, Tensor

#: TPUv4i-like two-tier hierarchy (Jouppi et al., "Ten Lessons From Three Generations Shaped
#: Google's TPUv4i", ISCA 2021): 4 MXUs of 128x128 bf16 MACs at 1.05 GHz = 137.6 TFLOP/s;
#: HBM2 at 614 GB/s; the 16 MiB vector memory (VMEM) as the fast tier with 512 B alignment
#: (the chip's native 512 B access). VMEM bandwidth is not published: 3.2 TB/s is what the
#: four MXUs need to stream one 128-wide bf16 input vector (256 B) in and one fp32 result
#: vector (512 B) out per cycle each (4 x 768 B x 1.05 GHz = 3.23 TB/s, rounded down).
TPUV4I = Hierarchy(capacity_bytes=16 << 20, fast_bandwidth=3.2e12, alignment_bytes=512,
                   slow_bandwidth=614e9, peak_flops=137.6e12)


class ProgramBuilder:
    """Accumulates tensors and ops; :meth:`build` returns the :class:`Program`."""

    def __init__(self, name: str, dtype_bytes: int = 2):
        if dtype_bytes < 1:
            raise ValueError(f"dtype_bytes must be >= 1, got {dtype_bytes}")
        self.name, self.b = name, dtype_bytes
        self.tensors: list[Tensor] = []
        self.ops: list[Op] = []

    def tensor(self, name: str, elements: int, kind: str = "activation") -> int:
        self.tensors.append(Tensor(name, int(elements) * self.b, kind))
        return len(self.tensors) - 1

    def op(self, name: str, flops: float, reads: Sequence[int], writes: Sequence[int]) -> None:
        self.ops.append(Op(name, float(flops), tuple(reads), tuple(writes)))

    def build(self, hierarchy: Hierarchy, description: str = "") -> Program:
        return Program(self.name, tuple(self.tensors), tuple(self.ops), hierarchy,
                       description)


def _positive(**kw: int) -> None:
    for k, v in kw.items():
        if not isinstance(v, int | np.integer) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{k} must be an integer >= 1, got {v!r}")


def mlp(widths: Sequence[int], batch: int, *, dtype_bytes: int = 2,
        hierarchy: Hierarchy = TPUV4I, activation: str = "gelu", name: str | None = None
        ) -> Program:
    """An MLP forward pass: per layer a matmul with bias (one op) and an activation op
    (``gelu`` or ``relu``; none after the last layer), then a softmax.

    ``widths`` are the feature sizes ``[in, hidden..., out]``.
    """
    if len(widths) < 2:
        raise ValueError(f"widths needs at least [in, out], got {list(widths)}")
    _positive(batch=batch, **{f"widths[{i}]": w for i, w in enumerate(widths)})
    if activation not in ("gelu", "relu"):
        raise ValueError(f"activation must be 'gelu' or 'relu', got {activation!r}")
    act_flops = 8 if activation == "gelu" else 1
    g = ProgramBuilder(name or f"mlp_{'x'.join(map(str, widths))}_b{batch}", dtype_bytes)
    x = g.tensor("x", batch * widths[0], "input")
    for n, (k, m) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        w = g.tensor(f"W{n}", k * m, "weight")
        bias = g.tensor(f"b{n}", m, "weight")
        z = g.tensor(f"z{n}", batch * m)
        g.op(f"linear{n}", 2 * batch * k * m + batch * m, [x, w, bias], [z])
        if n < len(widths) - 2:
            a = g.tensor(f"a{n}", batch * m)
            g.op(f"{activation}{n}", act_flops * batch * m, [z], [a])
            x = a
        else:
            x = z
    probs = g.tensor("probs", batch * widths[-1], "output")
    g.op("softmax", 5 * batch * widths[-1], [x], [probs])
    return g.build(hierarchy, f"MLP forward {list(widths)}, batch {batch}, "
                              f"{dtype_bytes}-byte elements, {activation}.")


def resnet(blocks: Sequence[int] = (2, 2, 2, 2), widths: Sequence[int] = (64, 128, 256, 512),
           *, image: int = 224, batch: int = 1, classes: int = 1000, dtype_bytes: int = 2,
           hierarchy: Hierarchy = TPUV4I, name: str | None = None) -> Program:
    """A ResNet with basic blocks (He et al., CVPR 2016): 7x7/2 stem, 3x3/2 max pool,
    stages of ``blocks[s]`` two-conv residual blocks of ``widths[s]`` channels (stride 2
    and a 1x1 projection at the start of every stage after the first), global average
    pool, fully connected classifier. Inference: batch norm is folded into each
    convolution's weights and bias (one tensor per convolution), ReLU fused into the
    convolution; the residual add with its ReLU is one op. ``(2, 2, 2, 2)`` is ResNet-18.
    """
    _positive(batch=batch, image=image, classes=classes)
    if len(blocks) != len(widths) or not blocks:
        raise ValueError("blocks and widths need one entry per stage")
    g = ProgramBuilder(name or f"resnet{2 + 2 * sum(blocks)}_{image}_b{batch}", dtype_bytes)

    def conv(tag: str, x: int, cin: int, cout: int, k: int, stride: int, hw: int,
             relu: bool = True) -> tuple[int, int]:
        out_hw = (hw + stride - 1) // stride  # "same" padding
        w = g.tensor(f"{tag}.w", cout * cin * k * k + cout, "weight")
        y = g.tensor(f"{tag}.out", batch * cout * out_hw * out_hw)
        outs = batch * cout * out_hw * out_hw
        g.op(f"{tag}.conv{'_relu' if relu else ''}",
             2 * outs * cin * k * k + outs * (2 if relu else 1), [x, w], [y])
        return y, out_hw

    x = g.tensor("image", batch * 3 * image * image, "input")
    y, hw = conv("stem", x, 3, widths[0], 7, 2, image)
    pooled_hw = (hw + 1) // 2
    p = g.tensor("pool.out", batch * widths[0] * pooled_hw * pooled_hw)
    g.op("maxpool", 9 * batch * widths[0] * pooled_hw * pooled_hw, [y], [p])
    x, hw, cin = p, pooled_hw, widths[0]
    for s, (nb, c) in enumerate(zip(blocks, widths, strict=True)):
        _positive(**{f"blocks[{s}]": nb, f"widths[{s}]": c})
        for blk in range(nb):
            stride = 2 if s > 0 and blk == 0 else 1
            tag = f"s{s}b{blk}"
            h, out_hw = conv(f"{tag}.c1", x, cin, c, 3, stride, hw)
            h2, _ = conv(f"{tag}.c2", h, c, c, 3, 1, out_hw, relu=False)
            skip = x
            if stride != 1 or cin != c:
                skip, _ = conv(f"{tag}.proj", x, cin, c, 1, stride, hw, relu=False)
            out = g.tensor(f"{tag}.out", batch * c * out_hw * out_hw)
            g.op(f"{tag}.add_relu", 2 * batch * c * out_hw * out_hw, [h2, skip], [out])
            x, hw, cin = out, out_hw, c
    feat = g.tensor("avgpool.out", batch * cin)
    g.op("avgpool", batch * cin * hw * hw, [x], [feat])
    w = g.tensor("fc.w", cin * classes + classes, "weight")
    logits = g.tensor("logits", batch * classes, "output")
    g.op("fc", 2 * batch * cin * classes + batch * classes, [feat, w], [logits])
    return g.build(hierarchy, f"ResNet (basic blocks {list(blocks)}, widths {list(widths)}) "
                              f"inference, {image}x{image} images, batch {batch}, "
                              f"{dtype_bytes}-byte elements, batch norm folded.")


def transformer(phase: str, *, layers: int, hidden: int, heads: int, seq_len: int,
                batch: int = 1, kv_cache: bool = True, ffn_mult: int = 4,
                vocab: int | None = None, final_norm: bool = True, dtype_bytes: int = 2,
                hierarchy: Hierarchy = TPUV4I, name: str | None = None) -> Program:
    """A GPT-style pre-norm decoder stack (Radford et al., GPT-2, 2019), one step.

    ``phase="prefill"`` processes ``seq_len`` tokens with causal self-attention; with
    ``kv_cache`` it also stores each layer's keys and values (``kv_store`` ops write cache
    tensors of ``batch * seq_len * hidden`` elements each). ``phase="decode"`` processes one
    new token per sequence against a KV cache of ``seq_len`` earlier tokens (one cache
    tensor per layer for K and one for V, read by the attention ops together with the new
    token's key and value; appending the new row is left to the next step, so the step does
    not rewrite the whole cache). Per layer: layer norm, fused QKV matmul with bias,
    attention scores (``QK^T``, scaled), softmax, ``PV``, output projection with bias,
    residual add, layer norm, FFN up-projection with bias, GELU, down-projection with bias,
    residual add. A final layer norm (unless ``final_norm=False``), and with ``vocab`` the
    tied-embedding LM head (last position only in prefill), end the step. Token embedding
    lookups are not modelled (a gather reads rows, not the whole table).
    """
    if phase not in ("prefill", "decode"):
        raise ValueError(f"phase must be 'prefill' or 'decode', got {phase!r}")
    _positive(layers=layers, hidden=hidden, heads=heads, seq_len=seq_len, batch=batch,
              ffn_mult=ffn_mult)
    if hidden % heads:
        raise ValueError(f"hidden ({hidden}) must be a multiple of heads ({heads})")
    if phase == "decode" and not kv_cache:
        raise ValueError("decode without a KV cache recomputes the whole context: use "
                         "phase='prefill' with seq_len + 1 tokens")
    H, F, B = hidden, ffn_mult * hidden, batch
    T = seq_len if phase == "prefill" else 1  # tokens processed in this step
    C = seq_len if phase == "prefill" else seq_len + 1  # keys each query attends to
    # causal prefill: query t attends to t + 1 keys, sum_t (t + 1) = T (T + 1) / 2
    pairs = T * (T + 1) // 2 if phase == "prefill" else T * C
    g = ProgramBuilder(name or f"gpt_{phase}_l{layers}_h{hidden}_s{seq_len}_b{batch}",
                       dtype_bytes)
    x = g.tensor("x0", B * T * H, "input")

    def layer_norm(tag: str, x: int) -> int:
        gamma_beta = g.tensor(f"{tag}.w", 2 * H, "weight")
        y = g.tensor(f"{tag}.out", B * T * H)
        g.op(tag, 7 * B * T * H, [x, gamma_beta], [y])
        return y

    def linear(tag: str, x: int, k: int, n: int) -> int:
        w = g.tensor(f"{tag}.w", k * n + n, "weight")  # weight and bias
        y = g.tensor(f"{tag}.out", B * T * n)
        g.op(tag, 2 * B * T * k * n + B * T * n, [x, w], [y])
        return y

    for layer in range(layers):
        t = f"l{layer}"
        h = layer_norm(f"{t}.ln1", x)
        qkv = linear(f"{t}.qkv", h, H, 3 * H)
        keys, values = [qkv], [qkv]
        if phase == "decode":
            kc = g.tensor(f"{t}.k_cache", B * seq_len * H, "kv_cache")
            vc = g.tensor(f"{t}.v_cache", B * seq_len * H, "kv_cache")
            keys, values = [qkv, kc], [qkv, vc]
        elif kv_cache:
            kc = g.tensor(f"{t}.k_cache", B * seq_len * H, "kv_cache")
            vc = g.tensor(f"{t}.v_cache", B * seq_len * H, "kv_cache")
            g.op(f"{t}.kv_store", 0, [qkv], [kc, vc])
        scores = g.tensor(f"{t}.scores", B * heads * T * C)
        g.op(f"{t}.qk", 2 * B * pairs * H + B * heads * pairs, keys, [scores])
        probs = g.tensor(f"{t}.probs", B * heads * T * C)
        g.op(f"{t}.softmax", 5 * B * heads * pairs, [scores], [probs])
        ctx = g.tensor(f"{t}.ctx", B * T * H)
        g.op(f"{t}.pv", 2 * B * pairs * H, [probs, *values], [ctx])
        attn = linear(f"{t}.proj", ctx, H, H)
        x1 = g.tensor(f"{t}.res1", B * T * H)
        g.op(f"{t}.add1", B * T * H, [x, attn], [x1])
        h2 = layer_norm(f"{t}.ln2", x1)
        up = linear(f"{t}.fc", h2, H, F)
        act = g.tensor(f"{t}.gelu", B * T * F)
        g.op(f"{t}.gelu", 8 * B * T * F, [up], [act])
        down = linear(f"{t}.fc2", act, F, H)
        x = g.tensor(f"{t}.res2", B * T * H)
        g.op(f"{t}.add2", B * T * H, [x1, down], [x])
    h = layer_norm("ln_f", x) if final_norm else x
    if vocab:
        _positive(vocab=vocab)
        emb = g.tensor("wte", vocab * H, "weight")
        logits = g.tensor("logits", B * vocab, "output")
        g.op("lm_head", 2 * B * H * vocab, [h, emb], [logits])
    cache = "KV cache" if kv_cache else "no KV cache"
    what = (f"{seq_len}-token prefill" if phase == "prefill"
            else f"one-token decode against {seq_len} cached tokens")
    return g.build(hierarchy, f"GPT-style decoder, {layers} layers, hidden {H}, {heads} "
                              f"heads, FFN {F}, {what}, batch {B}, {cache}, "
                              f"{dtype_bytes}-byte elements"
                              + (f", LM head over {vocab} tokens." if vocab else "."))


def random_program(n_tensors: int, seed: int, *, n_ops: int | None = None,
                   capacity_fraction: float = 0.5, hierarchy: Hierarchy = TPUV4I,
                   name: str | None = None) -> Program:
    """A seeded random dataflow program for exact-optimum tests.

    Ops run in order; each reads one to three tensors produced earlier (biased towards
    recent ones, as in a real dataflow graph) or fresh inputs, and writes one new tensor
    until ``n_tensors`` exist. Sizes are 256 B multiples between 1 and 64 KiB (log-uniform);
    FLOPs per op are drawn so that ops range from memory- to compute-bound. The fast
    capacity is ``capacity_fraction`` of the most bytes live at any op (so the choice
    binds), rounded down to the alignment; bandwidths, peak and alignment come from
    ``hierarchy``.
    """
    _positive(n_tensors=n_tensors)
    if n_tensors < 2:
        raise ValueError("a random program needs at least 2 tensors")
    rng = np.random.default_rng(seed)
    sizes = (256 * np.round(2 ** rng.uniform(0, 8, size=n_tensors))).astype(int)
    ops: list[tuple[list[int], list[int]]] = []
    made = 0
    n_ops = n_ops or max(1, (2 * n_tensors) // 3)
    while made < n_tensors or len(ops) < n_ops:
        k = int(rng.integers(1, 4))
        reads: set[int] = set()
        for _ in range(k):
            if made and (made == n_tensors or rng.random() < 0.75):
                back = min(made, 1 + int(rng.geometric(0.35)))
                reads.add(made - back)
            elif made < n_tensors:
                reads.add(made)
                made += 1
        writes = []
        if made < n_tensors:
            writes.append(made)
            made += 1
        ops.append((sorted(reads), writes))
    tensors = tuple(Tensor(f"t{i}", int(s)) for i, s in enumerate(sizes))
    bytes_per_op = [sum(sizes[t] for t in set(r) | set(w)) for r, w in ops]
    # flops so that compute time ranges from 0.25x to 2x the op's all-slow memory time
    ratio = rng.uniform(0.25, 2.0, size=len(ops))
    flops = [float(round(r * b / hierarchy.slow_bandwidth * hierarchy.peak_flops))
             for r, b in zip(ratio, bytes_per_op, strict=True)]
    op_list = tuple(Op(f"op{j}", flops[j], tuple(r), tuple(w)) for j, (r, w) in enumerate(ops))
    prog = Program(name or f"random_{n_tensors}_s{seed}", tensors, op_list, hierarchy)
    live = np.zeros(len(ops) + 1, dtype=np.int64)
    for i, (a, b) in enumerate(prog.live_ranges):
        live[a] += sizes[i]
        live[b + 1] -= sizes[i]
    peak = int(np.cumsum(live).max())
    al = hierarchy.alignment_bytes
    cap = max(al, int(capacity_fraction * peak) // al * al)
    h = Hierarchy(cap, hierarchy.fast_bandwidth, al, hierarchy.slow_bandwidth,
                  hierarchy.peak_flops)
    return Program(prog.name, tensors, op_list, h,
                   f"random dataflow program, {n_tensors} tensors, {len(ops)} ops, seed "
                   f"{seed}; fast capacity {capacity_fraction:g} of the peak live bytes.")
