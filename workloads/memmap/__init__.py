"""Memory-mapping programs: the shipped ones by name, any program file, and generators.

Shipped (``programs/<name>.json``, all on the TPUv4i-like hierarchy of
:data:`~workloads.memmap.generators.TPUV4I` unless said otherwise), made by
:func:`shipped_programs` (``tests/memmap/test_workloads.py`` checks the files are exactly
what the generators give):

- ``mlp_small``: MLP forward ``[1024, 4096, 4096, 1024]``, batch 256;
- ``resnet18``: ResNet-18 inference, 224x224, batch 8;
- ``gpt2_decode``: GPT-2 small (12 layers, hidden 768, 12 heads) one-token decode step
  against a 1023-token KV cache, batch 1, LM head over 50257 tokens;
- ``small_*``: programs of 8 to 20 tensors whose exact optima are quick to prove (slices
  of real models with a fast capacity that binds, and seeded random dataflow programs).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from simulators.memmap.program import Hierarchy, Program, read_program
from simulators.memmap.run import simulate
from workloads.memmap.generators import (
    TPUV4I,
    mlp,
    random_program,
    resnet,
    transformer,
)

__all__ = ["TPUV4I", "available", "load", "mlp", "program_path", "random_program", "resnet",
           "shipped_programs", "simulate_json", "transformer"]


def _scaled(program: Program, fraction: float) -> Program:
    """``program`` with its fast capacity cut to ``fraction`` of its peak live bytes."""
    delta = [0] * (len(program.ops) + 1)
    for (a, b), s in zip(program.live_ranges, program.sizes, strict=True):
        delta[a] += s
        delta[b + 1] -= s
    peak = run = 0
    for d in delta:
        run += d
        peak = max(peak, run)
    h = program.hierarchy
    cap = max(h.alignment_bytes, int(fraction * peak) // h.alignment_bytes * h.alignment_bytes)
    return Program(program.name, program.tensors, program.ops,
                   Hierarchy(cap, h.fast_bandwidth, h.alignment_bytes, h.slow_bandwidth,
                             h.peak_flops),
                   program.description + f" Fast capacity cut to {fraction:g} of the peak "
                                         f"live bytes ({cap} B) so that it binds.")


def shipped_programs() -> dict[str, Program]:
    """Every shipped program, generated afresh (the files are these, written as JSON)."""
    progs = {
        "mlp_small": mlp([1024, 4096, 4096, 1024], batch=256, name="mlp_small"),
        "resnet18": resnet(batch=8, name="resnet18"),
        "gpt2_decode": transformer("decode", layers=12, hidden=768, heads=12, seq_len=1023,
                                   vocab=50257, name="gpt2_decode"),
        "small_mlp": _scaled(mlp([256, 512, 512, 256], batch=64, name="small_mlp"), 0.5),
        "small_attention": _scaled(transformer("prefill", layers=1, hidden=256, heads=4,
                                               seq_len=128, kv_cache=False, final_norm=False,
                                               name="small_attention"), 0.4),
        "small_resnet": _scaled(resnet((1, 1), (16, 32), image=32, classes=10,
                                       name="small_resnet"), 0.4),
    }
    for seed, n in enumerate((8, 11, 14, 17, 20), start=1):
        name = f"small_random{n}"
        progs[name] = random_program(n, seed, name=name)
    return progs


def available() -> list[str]:
    """Names of the shipped programs."""
    root = resources.files(__name__) / "programs"
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".json"))


def program_path(name: str) -> Path:
    """Path of a shipped program."""
    if name not in available():
        raise ValueError(f"no shipped memory-mapping program {name!r}; shipped: "
                         f"{', '.join(available())}")
    return Path(str(resources.files(__name__) / "programs" / f"{name}.json"))


def load(name_or_file: str | os.PathLike) -> Program:
    """A shipped program by name, or a program JSON file by path."""
    p = Path(name_or_file)
    if str(name_or_file) in available() and not p.exists():
        return read_program(program_path(str(name_or_file)))
    if p.exists() or p.suffix == ".json" or os.sep in str(name_or_file):
        return read_program(p)
    raise ValueError(f"{name_or_file!r} is neither a program file nor a shipped program; "
                     f"shipped: {', '.join(available())}")


def simulate_json(program: str | os.PathLike, policy: str = "greedy",
                  time_limit_s: float | None = None) -> dict:
    """What ``archgym simulate memmap --program FILE|NAME --policy P [--time-limit S]
    --json`` prints: the result of :func:`simulators.memmap.simulate` as a JSON-ready dict
    with ``total_time_s``, ``time_saved_s``, ``peak_fast_bytes``, ``valid``,
    ``proven_optimal`` (policy ``optimal`` only) and ``placement`` (one entry per tensor, in
    tensor-index order: ``{"tier": "fast", "offset": o}`` or ``{"tier": "slow"}``), among
    the other figures. ``time_limit_s`` (default 60) bounds the exact solver.

    Raises ``ValueError`` (unknown name or policy, bad time limit), ``ProgramError``
    (malformed file) or ``FileNotFoundError``, with messages for the user.
    """
    if time_limit_s is not None and not (isinstance(time_limit_s, int | float)
                                         and time_limit_s > 0):
        raise ValueError(f"--time-limit must be a number of seconds > 0, got {time_limit_s!r}")
    return simulate(load(program), policy,
                    time_limit_s=60.0 if time_limit_s is None else time_limit_s).to_dict()
