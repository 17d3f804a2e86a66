"""Import a PyTorch ``nn.Module`` as a memory-mapping program, without allocating weights.

The module is traced with ``torch.export.export``, which propagates shapes and dtypes
through fake tensors: no op runs on data. Build the model under ``with
torch.device("meta"):`` and nothing is allocated at all (example inputs are created on
the module's device, meta then), so a 1B-parameter model imports on a laptop; a module
with real weights works too (they are only read for their shapes). torch is imported
inside :func:`from_torch` only; the rest of ``simulators.memmap`` works without it.

Mapping from the exported ATen graph:

- every parameter, buffer, lifted constant and user input that some op uses is a tensor
  (``kind`` ``weight`` or ``input``), every tensor an op produces is a tensor (``kind``
  ``activation``, or ``output`` for the graph's outputs); sizes are ``numel *
  element_size``; zero-size tensors are dropped;
- view ops (those whose schema returns an alias of an input: ``view``, ``permute``,
  ``transpose``, ``expand``, ``slice``...) and ``getitem`` of a multi-output op move no data:
  their result *is* the tensor they alias, so later readers read it;
- every other ``call_function`` node is one op, in graph (execution) order, reading the
  tensors among its arguments and writing its outputs (an in-place op also writes the
  tensor it mutates);
- FLOPs come from ``torch.utils.flop_counter.FlopCounterMode`` (matmul, convolution,
  attention: 2 per multiply-add), run on meta tensors of the node's shapes; ops it does not
  count are charged one FLOP per output element.

Data-dependent Python control flow must be exportable by ``torch.export`` (see its docs);
errors from tracing are re-raised as :class:`TorchImportError` naming the module.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

from simulators.memmap.program import Hierarchy, Op, Program, Tensor


class TorchImportError(ValueError):
    """A module or example input that cannot be imported (names what and why)."""


def _example(x: Any, dtype: Any, device: Any, k: int) -> Any:
    """An uninitialised example input on the module's device (meta: nothing allocated)."""
    import torch

    if isinstance(x, torch.Tensor):
        return torch.empty(x.shape, dtype=x.dtype, device=device)
    if (isinstance(x, tuple) and len(x) == 2 and isinstance(x[1], torch.dtype)
            and isinstance(x[0], Sequence)):
        return torch.empty(tuple(int(d) for d in x[0]), dtype=x[1], device=device)
    if isinstance(x, Sequence) and all(isinstance(d, int) and d >= 0 for d in x):
        return torch.empty(tuple(x), dtype=dtype, device=device)
    raise TorchImportError(f"example_inputs[{k}] must be a shape (tuple of ints), a "
                           f"(shape, dtype) pair or a tensor, got {x!r}")


def _to_meta(v: Any) -> Any:
    import torch

    if isinstance(v, torch.Tensor):
        return torch.empty_strided(tuple(v.shape), tuple(v.stride()), dtype=v.dtype,
                                   device="meta")
    if isinstance(v, list | tuple):
        return type(v)(_to_meta(x) for x in v)
    if isinstance(v, dict):
        return {k: _to_meta(x) for k, x in v.items()}
    return v


def _node_flops(node: Any) -> int | None:
    """FLOPs of ``node`` by FlopCounterMode on meta tensors, ``None`` if it counts none."""
    import torch
    from torch.fx import Node
    from torch.utils.flop_counter import FlopCounterMode

    def val(a: Any) -> Any:
        if isinstance(a, Node):
            return _to_meta(a.meta.get("val"))
        if isinstance(a, list | tuple):
            return type(a)(val(x) for x in a)
        return a

    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            node.target(*val(node.args), **{k: val(v) for k, v in node.kwargs.items()})
        flops = counter.get_total_flops()
    except Exception:  # an op meta tensors cannot run: fall back to element count
        return None
    return int(flops) or None


def _alias_kind(target: Any) -> str:
    """``view`` if the op returns an alias of an input, ``inplace`` if it mutates one."""
    schema = getattr(target, "_schema", None)
    if schema is None:
        return ""
    for r in schema.returns:
        if r.alias_info is not None:
            return "inplace" if r.alias_info.is_write else "view"
    return ""


def from_torch(module: Any, example_inputs: Sequence[Any], *, hierarchy: Hierarchy,
               name: str | None = None, dtype: Any = None,
               kwargs: dict[str, Any] | None = None) -> Program:
    """The memory-mapping program of ``module`` run on ``example_inputs``.

    Parameters
    ----------
    module
        A ``torch.nn.Module`` (build it under ``torch.device("meta")`` to allocate nothing).
    example_inputs
        One entry per positional input: a shape (tuple of ints, using ``dtype``), a
        ``(shape, dtype)`` pair, or a tensor (only its shape and dtype are used).
    hierarchy
        The memory hierarchy of the program.
    dtype
        dtype of inputs given as bare shapes; default: the module's first parameter's dtype,
        else ``torch.float32``.
    """
    import torch
    from torch.export.graph_signature import InputKind

    if not isinstance(module, torch.nn.Module):
        raise TorchImportError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    name = name or type(module).__name__
    first = next(iter(module.parameters()), None)
    if dtype is None:
        dtype = torch.float32 if first is None else first.dtype
    device = torch.device("cpu") if first is None else first.device
    args = tuple(_example(x, dtype, device, k) for k, x in enumerate(example_inputs))
    try:
        exported = torch.export.export(module, args, kwargs=kwargs or {})
    except Exception as e:  # tracing errors are the user's to fix: say where
        raise TorchImportError(f"torch.export could not trace {name}: "
                               f"{type(e).__name__}: {e}") from e

    kinds = {s.arg.name: s.kind for s in exported.graph_signature.input_specs
             if hasattr(s.arg, "name")}
    targets = {s.arg.name: s.target for s in exported.graph_signature.input_specs
               if hasattr(s.arg, "name")}
    outputs = {s.arg.name for s in exported.graph_signature.output_specs
               if hasattr(s.arg, "name")}
    tensors: list[Tensor] = []
    numel: list[int] = []
    ref: dict[Any, Any] = {}  # node -> tensor index, or tuple of indices (multi-output)

    def new_tensor(label: str, v: Any, kind: str) -> int | None:
        if not isinstance(v, torch.Tensor):
            return None
        size = v.numel() * v.element_size()
        if size <= 0:
            return None
        tensors.append(Tensor(label, int(size), kind))
        numel.append(int(v.numel()))
        return len(tensors) - 1

    def tensor_args(a: Any) -> list[int]:
        if isinstance(a, torch.fx.Node):
            r = ref.get(a)
            return [r] if isinstance(r, int) else []
        if isinstance(a, list | tuple):
            return [t for x in a for t in tensor_args(x)]
        if isinstance(a, dict):
            return [t for x in a.values() for t in tensor_args(x)]
        return []

    ops: list[Op] = []
    for node in exported.graph.nodes:
        v = node.meta.get("val")
        if node.op == "placeholder":
            kind = kinds.get(node.name)
            label = targets.get(node.name) or node.name
            ref[node] = new_tensor(str(label), v, "input" if kind == InputKind.USER_INPUT
                                   else "weight")
            continue
        if node.op != "call_function":
            continue
        if node.target is operator.getitem:
            src, idx = node.args
            parts = ref.get(src)
            ref[node] = parts[idx] if isinstance(parts, tuple) and idx < len(parts) else None
            continue
        reads = tensor_args((node.args, node.kwargs))
        alias = _alias_kind(node.target)
        if alias == "view":  # split/unbind return several views of one tensor
            base = reads[0] if reads else None
            ref[node] = tuple(base for _ in v) if isinstance(v, list | tuple) else base
            continue
        if alias == "inplace":
            writes = reads[:1]
            ref[node] = writes[0] if writes else None
        else:
            kind = "output" if node.name in outputs else "activation"
            if isinstance(v, list | tuple):
                outs = tuple(new_tensor(f"{node.name}.{k}", x, kind) for k, x in enumerate(v))
                ref[node] = outs
                writes = [t for t in outs if t is not None]
            else:
                ref[node] = new_tensor(node.name, v, kind)
                writes = [] if ref[node] is None else [ref[node]]
        if not reads and not writes:
            continue
        flops = _node_flops(node)
        if flops is None:
            flops = sum(numel[t] for t in writes)
        ops.append(Op(str(node.name), float(flops), tuple(dict.fromkeys(reads)),
                      tuple(writes)))
    if not ops:
        raise TorchImportError(f"{name}: the exported graph has no op on tensors")
    used = sorted({t for o in ops for t in (*o.reads, *o.writes)})
    remap = {old: new for new, old in enumerate(used)}
    ops = [Op(o.name, o.flops, tuple(remap[t] for t in o.reads),
              tuple(remap[t] for t in o.writes)) for o in ops]
    shapes = ", ".join(str(tuple(a.shape)) for a in args)
    return Program(name, tuple(tensors[t] for t in used), tuple(ops), hierarchy,
                   f"Imported from PyTorch ({type(module).__name__}) with torch.export on "
                   f"meta inputs {shapes}; torch {torch.__version__}.")
