"""DNN layer shapes for the accelerator simulator, as SCALE-Sim topology CSVs.

Shipped topologies (``<name>.csv``, SCALE-Sim's convolution format: every GEMM is written as
SCALE-Sim encodes one, IFMAP ``M x K``, filter ``1 x K``, one channel, ``N`` filters):

- ``resnet18``: ResNet-18 (He et al., "Deep Residual Learning for Image Recognition",
  CVPR 2016, Table 1) at 224x224, the 20 convolutions including the three 1x1 projection
  shortcuts, and the final fully connected layer; 1.814 G MACs.
- ``resnet50``: ResNet-50 v1.5 as in torchvision and MLPerf (stride 2 on the 3x3
  convolution of each first bottleneck), 53 convolutions and the FC layer; 4.089 G MACs.
- ``bert_base``: BERT-base encoder (Devlin et al., NAACL 2019: 12 layers, hidden 768,
  12 heads, FFN 3072) on a 128-token sequence: per layer the Q, K and V projections,
  per head ``Q K^T`` (128x128x64) and ``softmax(.) V`` (128x64x128), the output projection
  and the two FFN GEMMs; 11.2 G MACs.
- ``gpt2``: GPT-2 small (Radford et al., 2019: 12 layers, d_model 768, 12 heads, FFN 3072,
  context 1024, vocabulary 50257) prefilling 1024 tokens: per layer the fused QKV
  projection, per head attention GEMMs, the output projection and the two MLP GEMMs, then
  the (tied) LM head; 145.8 G MACs.

Convolutions follow SCALE-Sim's convention of folding zero padding into the IFMAP: a layer
with output ``E x E``, stride ``S`` and an ``F x F`` filter reads ``(E - 1) * S + F`` rows and
columns, which is what the CSVs list (so SCALE-Sim's OFMAP size formula returns ``E``).
The builders below produce the shipped files (``tests/accel/test_workloads.py`` checks it).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from simulators.accel.topology import Layer, read_topology

NAMES = ("resnet18", "resnet50", "bert_base", "gpt2")


def conv(name: str, out: int, cin: int, cout: int, f: int, s: int = 1) -> Layer:
    """A square convolution producing ``out x out`` pixels, padding folded into the IFMAP."""
    side = (out - 1) * s + f
    return Layer(name, side, side, f, f, cin, cout, s)


def resnet18() -> list[Layer]:
    """ResNet-18 at 224x224 (He et al. 2016), SCALE-Sim's layer names."""
    layers = [conv("Conv1", 112, 3, 64, 7, 2)]
    for b in (1, 2):
        layers += [conv(f"Conv2_{b}a", 56, 64, 64, 3), conv(f"Conv2_{b}b", 56, 64, 64, 3)]
    cin = 64
    for stage, (out, width) in enumerate(((28, 128), (14, 256), (7, 512)), start=3):
        layers += [conv(f"Conv{stage}_1a", out, cin, width, 3, 2),
                   conv(f"Conv{stage}_1b", out, width, width, 3),
                   conv(f"Conv{stage}_s", out, cin, width, 1, 2),
                   conv(f"Conv{stage}_2a", out, width, width, 3),
                   conv(f"Conv{stage}_2b", out, width, width, 3)]
        cin = width
    return layers + [Layer.gemm("FC", 1, 1000, 512)]


def resnet50() -> list[Layer]:
    """ResNet-50 v1.5 at 224x224 (torchvision / MLPerf)."""
    layers = [conv("Conv1", 112, 3, 64, 7, 2)]
    cin, size = 64, 56
    for stage, (blocks, width, stride) in enumerate(
            ((3, 64, 1), (4, 128, 2), (6, 256, 2), (3, 512, 2)), start=2):
        out = size // stride
        for b in range(blocks):
            s = stride if b == 0 else 1
            tag = f"Res{stage}{'abcdef'[b]}"
            layers += [conv(f"{tag}_1", size if b == 0 else out, cin, width, 1),
                       conv(f"{tag}_2", out, width, width, 3, s),
                       conv(f"{tag}_3", out, width, 4 * width, 1)]
            if b == 0:
                layers.append(conv(f"{tag}_s", out, cin, 4 * width, 1, s))
            cin = 4 * width
        size = out
    return layers + [Layer.gemm("FC", 1, 1000, 2048)]


def _attention(prefix: str, tokens: int, heads: int, head_dim: int) -> list[Layer]:
    out = []
    for h in range(heads):
        out += [Layer.gemm(f"{prefix}_h{h}_qk", tokens, tokens, head_dim),
                Layer.gemm(f"{prefix}_h{h}_av", tokens, head_dim, tokens)]
    return out


def bert_base(tokens: int = 128) -> list[Layer]:
    """The 12 encoder layers of BERT-base on ``tokens`` tokens (Devlin et al. 2019)."""
    d, ffn, heads = 768, 3072, 12
    layers = []
    for i in range(12):
        p = f"L{i}"
        layers += [Layer.gemm(f"{p}_q", tokens, d, d), Layer.gemm(f"{p}_k", tokens, d, d),
                   Layer.gemm(f"{p}_v", tokens, d, d),
                   *_attention(p, tokens, heads, d // heads),
                   Layer.gemm(f"{p}_out", tokens, d, d), Layer.gemm(f"{p}_ffn1", tokens, ffn, d),
                   Layer.gemm(f"{p}_ffn2", tokens, d, ffn)]
    return layers


def gpt2(tokens: int = 1024) -> list[Layer]:
    """GPT-2 small prefilling ``tokens`` tokens, LM head included (Radford et al. 2019)."""
    d, ffn, heads, vocab = 768, 3072, 12, 50257
    layers = []
    for i in range(12):
        p = f"L{i}"
        layers += [Layer.gemm(f"{p}_qkv", tokens, 3 * d, d),
                   *_attention(p, tokens, heads, d // heads),
                   Layer.gemm(f"{p}_proj", tokens, d, d), Layer.gemm(f"{p}_fc", tokens, ffn, d),
                   Layer.gemm(f"{p}_fc_proj", tokens, d, ffn)]
    return layers + [Layer.gemm("lm_head", tokens, vocab, d)]


BUILDERS = {"resnet18": resnet18, "resnet50": resnet50, "bert_base": bert_base, "gpt2": gpt2}


def available() -> list[str]:
    """Names of the shipped topologies."""
    return list(NAMES)


def topology_path(name: str) -> Path:
    """Path of a shipped topology CSV."""
    if name not in NAMES:
        raise ValueError(f"no shipped accelerator workload {name!r}; shipped: "
                         f"{', '.join(NAMES)}")
    return Path(str(resources.files(__name__) / f"{name}.csv"))


def load(name: str) -> list[Layer]:
    """The layers of a shipped topology by name."""
    return read_topology(topology_path(name))
