"""Small PyTorch model definitions for the importer's tests and benchmark (torch is
imported when a model is built, never by ``workloads.memmap``)."""

from __future__ import annotations

from typing import Any


def gpt_stack(layers: int, hidden: int, heads: int, dtype: Any = None,
              device: str = "meta") -> Any:
    """A stack of GPT-2-style pre-norm blocks (fused QKV split into heads, causal scaled
    dot-product attention, GELU MLP), built on ``device`` (meta: no weights allocated)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(hidden), nn.LayerNorm(hidden)
            self.qkv, self.proj = nn.Linear(hidden, 3 * hidden), nn.Linear(hidden, hidden)
            self.fc, self.fc2 = nn.Linear(hidden, 4 * hidden), nn.Linear(4 * hidden, hidden)

        def forward(self, x):
            b, t, d = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
            q, k, v = (z.view(b, t, heads, d // heads).transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))
            return x + self.fc2(F.gelu(self.fc(self.ln2(x))))

    class Stack(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = nn.ModuleList(Block() for _ in range(layers))

        def forward(self, x):
            for blk in self.blocks:
                x = blk(x)
            return x

    with torch.device(device):
        model = Stack()
    return model if dtype is None else model.to(dtype)
