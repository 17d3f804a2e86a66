"""Layers of a PyTorch model, without allocating its weights.

:func:`layers_from_torch` runs the model once on a ``meta`` tensor (shapes only, no storage)
with its parameters and buffers swapped for ``meta`` copies through
``torch.func.functional_call`` (the model itself is left untouched), and records every
``nn.Conv2d`` and ``nn.Linear`` call in execution order through forward hooks:

* a convolution becomes SCALE-Sim's convolution row with the IFMAP rows and columns it reads,
  ``(out - 1) * stride + kernel`` (zero padding folded in, as SCALE-Sim expects); grouped
  convolutions become one row per group (``<name>.g<i>``), SCALE-Sim having no groups;
* a linear layer on an input ``(..., in_features)`` becomes the GEMM
  ``M = prod(...)``, ``K = in_features``, ``N = out_features``.

Other modules (pooling, normalisation, activations, attention score products computed with
``torch.matmul``) are not recorded. SCALE-Sim models one sample per convolution, so a
convolution input must have batch 1; different strides per dimension and dilation have no
SCALE-Sim equivalent and are refused.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from simulators.accel.errors import AccelInputError
from simulators.accel.topology import Layer


def layers_from_torch(model, input_shape: Sequence[int], example_kwargs: dict | None = None
                      ) -> list[Layer]:
    """SCALE-Sim layers of ``model`` (an ``nn.Module``) run on an input of ``input_shape``
    (see the module docstring). ``example_kwargs`` are passed to ``forward``."""
    import torch
    from torch import nn

    if not isinstance(model, nn.Module):
        raise AccelInputError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    names = {mod: name or type(mod).__name__ for name, mod in model.named_modules()}
    layers: list[Layer] = []

    def on_conv(mod, args, out):
        name = names[mod]
        if mod.stride[0] != mod.stride[1]:
            raise AccelInputError(f"{name}: stride {tuple(mod.stride)} differs between "
                                  "height and width; SCALE-Sim has one stride")
        if tuple(mod.dilation) != (1, 1):
            raise AccelInputError(f"{name}: dilation {tuple(mod.dilation)} is not modelled "
                                  "(SCALE-Sim convolutions are dense)")
        x = args[0]
        if x.dim() == 4 and x.shape[0] != 1:
            raise AccelInputError(f"{name}: batch {x.shape[0]}; SCALE-Sim convolutions take "
                                  "one sample, pass an input shape with batch 1")
        (fh, fw), s = mod.kernel_size, mod.stride[0]
        eh, ew = out.shape[-2:]
        g = mod.groups
        rows = [(f"{name}.g{i}" if g > 1 else name) for i in range(g)]
        layers.extend(Layer(r, (eh - 1) * s + fh, (ew - 1) * s + fw, fh, fw,
                            mod.in_channels // g, mod.out_channels // g, s) for r in rows)

    def on_linear(mod, args, out):
        x = args[0]
        layers.append(Layer.gemm(names[mod], math.prod(x.shape[:-1]), mod.out_features,
                                 mod.in_features))

    hooks = []
    for mod in model.modules():
        if isinstance(mod, nn.Conv2d):
            hooks.append(mod.register_forward_hook(on_conv))
        elif isinstance(mod, nn.Linear):
            hooks.append(mod.register_forward_hook(on_linear))
    meta = {n: torch.empty_like(t, device="meta")
            for n, t in (*model.named_parameters(), *model.named_buffers())}
    try:
        x = torch.empty(tuple(input_shape), device="meta")
        with torch.no_grad():
            torch.func.functional_call(model, meta, (x,), example_kwargs or {})
    finally:
        for h in hooks:
            h.remove()
    if not layers:
        raise AccelInputError("the model ran no nn.Conv2d or nn.Linear layer")
    return layers
