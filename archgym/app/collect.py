"""``archgym dataset collect``: evaluate N distinct designs of an env, in parallel, into the
standard Parquet dataset (training data for proxies).

Designs are drawn once, up front, from the env's :class:`DesignSpace` with a seeded
sampler: ``random`` (uniform, :meth:`DesignSpace.sample`), ``lhs`` (Latin hypercube) or
``sobol`` (scrambled Sobol), the latter two in the unit cube mapped by
:meth:`DesignSpace.from_unit`. Invalid designs (constraints) and repeats are dropped and
more points drawn; if a quasi-random sequence keeps repeating designs (a small discrete
space) the rest is topped up with uniform samples. The same arguments give the same designs.

The designs are cut into chunks of ``chunk_size`` (a function of ``n`` only, never of the
worker count). Chunk ``i`` is one dataset run with a deterministic id
(:func:`archgym.runner.run_id_for` of env, env parameters, ``collect-<sampler>``, ``n``,
chunk index and size, seed), written as one Parquet part, and runs on the resumable executor
of :mod:`archgym.app.jobs` (the same markers as sweeps), so a collection killed at any moment
and restarted holds every design exactly once. A sequential env is sampled through its
design-point view.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from archgym.app.console import Backend, EnvParams, JsonFlag, RayAddress
from archgym.errors import ArchGymError
from archgym.space import DesignSpace

SAMPLERS = ("random", "lhs", "sobol")


def sample_designs(space: DesignSpace, n: int, sampler: str = "random", seed: int = 0,
                   max_rounds: int = 32) -> list[dict[str, Any]]:
    """``n`` distinct valid designs of ``space`` (deterministic in ``seed``)."""
    if sampler not in SAMPLERS:
        raise ArchGymError(f"unknown sampler {sampler!r}; allowed: {', '.join(SAMPLERS)}")
    if n < 1:
        raise ArchGymError(f"n must be >= 1, got {n}")
    if space.finite and n > space.size:
        raise ArchGymError(f"n={n} exceeds the {space.size} designs of the space")
    rng = np.random.default_rng(seed)
    out: dict[str, dict[str, Any]] = {}

    def add(config: dict[str, Any]) -> None:
        if len(out) < n and space.is_valid(config):
            out.setdefault(space.key(config), space.validate(config))

    if sampler != "random":
        from scipy.stats import qmc

        engine = (qmc.LatinHypercube(len(space), seed=rng) if sampler == "lhs"
                  else qmc.Sobol(len(space), scramble=True, seed=rng))
        for _ in range(max_rounds):
            need = n - len(out)
            if need <= 0:
                break
            m = need if sampler == "lhs" else 1 << max(need - 1, 1).bit_length()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Sobol balance warnings
                points = engine.random(m)
            before = len(out)
            for u in points:
                add(space.from_unit(u))
            if len(out) - before < max(1, need // 20):
                break  # mostly repeats: the quasi-random sequence is exhausted here
    misses = 0
    while len(out) < n:
        before = len(out)
        add(space.sample(rng))
        misses = 0 if len(out) > before else misses + 1
        if misses > 10 * n + 1000:
            raise ArchGymError(f"found only {len(out)} distinct valid designs of {n} asked "
                               "(the constraints may leave fewer)")
    return list(out.values())


def default_chunk_size(n: int) -> int:
    return max(1, min(100, n))


@dataclass
class CollectResult:
    out: Path
    n: int
    chunks: int
    skipped: int
    evaluated: int
    seconds: float
    run_ids: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"out": str(self.out), "n": self.n, "chunks": self.chunks,
                "chunks_skipped": self.skipped, "evaluated": self.evaluated,
                "seconds": round(self.seconds, 3),
                "evaluations_per_second": (round(self.evaluated / self.seconds, 3)
                                           if self.seconds > 0 else None)}


def _run_chunk(env_id: str, env_kwargs: dict[str, Any], configs: list[dict[str, Any]],
               run_id: str, searcher: str, hparams: dict[str, Any], seed: int,
               out: str) -> dict[str, Any]:
    """Evaluate one chunk as one dataset run (one Parquet part)."""
    from archgym import registry
    from archgym.contract import design_env
    from archgym.dataset import DatasetRecorder, DatasetWriter

    env = registry.make(env_id, **env_kwargs)
    base = design_env(env)
    writer = DatasetWriter(out, run_id=run_id)
    recorder = DatasetRecorder(base, writer, searcher, hparams, seed)
    try:
        base.step_batch(configs)
    finally:
        recorder.detach()  # flushes the chunk's single part
        env.close()
    return {"run_id": run_id, "rows": len(configs)}


def collect(env_id: str, n: int, sampler: str = "random", seed: int = 0, workers: int = 1,
            out: str | Path = "runs/collect", env_kwargs: Mapping[str, Any] | None = None,
            chunk_size: int | None = None,
            progress: Callable[[int, int], None] | None = None,
            backend: str = "local", address: str | None = None) -> CollectResult:
    """Evaluate ``n`` distinct designs of ``env_id`` into the dataset directory ``out``.

    ``progress(done, n)`` is called as chunks complete. ``workers > 1`` runs chunks in that
    many processes; ``workers == 1`` runs them in this process.
    """
    import gymnasium

    from archgym import registry
    from archgym.app import jobs
    from archgym.contract import design_env
    from archgym.runner import run_id_for

    env_kwargs = dict(env_kwargs or {})
    if workers < 1:
        raise ArchGymError(f"workers must be >= 1, got {workers}")
    env = registry.make(env_id, **env_kwargs)  # bad ids or parameters fail before any work
    space = design_env(env).space
    env.close()
    entry = gymnasium.registry[env_id].entry_point
    modules = [entry.partition(":")[0]] if isinstance(entry, str) else []
    configs = sample_designs(space, n, sampler, seed)
    size = chunk_size or default_chunk_size(n)
    if size < 1:
        raise ArchGymError(f"chunk size must be >= 1, got {size}")
    searcher = f"collect-{sampler}"
    root = Path(out)
    if root.exists() and not root.is_dir():
        raise ArchGymError(f"--out {root} exists and is not a directory")
    tasks = []
    for i, start in enumerate(range(0, n, size)):
        chunk = configs[start:start + size]
        hparams = {"sampler": sampler, "n": n, "chunk": i, "chunk_size": size}
        run_id = run_id_for(env_id, env_kwargs, searcher, hparams, seed, len(chunk))
        tasks.append(jobs.Task(run_id, _run_chunk, (env_id, env_kwargs, chunk, run_id,
                                                    searcher, hparams, seed)))
    done = sum(len(t.args[2]) for t in tasks if jobs.is_done(root, t.run_id))
    skipped = sum(jobs.is_done(root, t.run_id) for t in tasks)
    if progress is not None:
        progress(done, n)
    t0 = time.perf_counter()
    evaluated = 0

    def on_result(task: jobs.Task, summary: dict[str, Any] | None, error: str | None) -> None:
        nonlocal evaluated
        if error is not None:
            raise ArchGymError(f"collection chunk {task.run_id} failed: {error}")
        evaluated += summary["rows"]
        if progress is not None:
            progress(done + evaluated, n)

    jobs.execute(tasks, root, workers, modules, on_result, backend, address)
    return CollectResult(root, n, len(tasks), skipped, evaluated,
                         time.perf_counter() - t0, [t.run_id for t in tasks])


# ------------------------------------------------------------------------------ command


def collect_cmd(
    env: Annotated[str, typer.Option(metavar="ID", help="Environment id, e.g. archgym/DRAM-v0.")],
    n: Annotated[int, typer.Option(
        "--n", min=1, metavar="N", help="Distinct designs to evaluate.")],
    sampler: Annotated[str, typer.Option(
        metavar="random|lhs|sobol", help="How designs are drawn.")] = "random",
    seed: Annotated[int, typer.Option(metavar="N", help="Seed of the sampler.")] = 0,
    workers: Annotated[int, typer.Option(min=1, metavar="N", help="Worker processes.")] = 1,
    out: Annotated[Path, typer.Option(metavar="DIR", help="Dataset directory (Parquet parts).")]
    = Path("runs/collect"),
    env_param: EnvParams = [],  # noqa: B006
    chunk_size: Annotated[int | None, typer.Option(
        min=1, metavar="N",
        help="Designs per chunk (the unit of resumption); default min(100, n).")] = None,
    backend: Backend = "local",
    address: RayAddress = None,
    as_json: JsonFlag = False,
) -> None:
    """Evaluate N distinct sampled designs in parallel into a dataset (resumable)."""
    import json

    from archgym.app.console import (
        check_choice,
        console,
        err_console,
        parse_assignments,
        user_errors,
    )
    from archgym.app.progress import EvaluationProgress

    env_kwargs = parse_assignments(env_param, "--env-param")
    with user_errors():
        check_choice("--sampler", sampler, SAMPLERS)
    with user_errors(), EvaluationProgress(f"collect {sampler} on {env}", n, err_console,
                                           every=0.0, recent=False, unit="designs") as bar:
        result = collect(env, n, sampler, seed, workers, out, env_kwargs, chunk_size,
                         progress=lambda done, total: bar(done),
                         backend=backend, address=address)
    summary = {"env": env, "env_kwargs": env_kwargs, "sampler": sampler, "seed": seed,
               **result.summary()}
    if as_json:
        typer.echo(json.dumps(summary, default=str))
        return
    console.print(f"[bold]{n}[/] designs of [bold]{env}[/] ({sampler}, seed {seed}) in {out}: "
                  f"{result.evaluated} evaluated, {result.skipped} of {result.chunks} chunks "
                  f"already done, {result.seconds:.1f} s")
