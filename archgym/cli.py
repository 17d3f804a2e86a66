"""The ``archgym`` command.

Bad input (unknown env or searcher, a bad parameter or value) prints one line on stderr and
exits with code 2, before anything is written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

import agents
import archgym
from archgym import collect, registry, report, sweep
from archgym.cliutil import console, err_console, fail, parse_assignments, user_errors
from archgym.dataset import DatasetWriter
from archgym.errors import ArchGymError
from archgym.proxy import cli as proxy_cli
from archgym.runner import run as run_search
from archgym.runner import run_id_for

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="ArchGym: machine-learning-driven hardware design-space exploration.")
simulate_app = typer.Typer(no_args_is_help=True, help="Run a simulator once on a workload.")
app.add_typer(simulate_app, name="simulate")

# Commands that live with their topic are wired here, one line each.
dataset_app = typer.Typer(no_args_is_help=True, help="Build and inspect evaluation datasets.")
app.add_typer(dataset_app, name="dataset")
dataset_app.command("collect")(collect.collect_cmd)
app.add_typer(proxy_cli.proxy_app, name="proxy")
app.command("sweep")(sweep.cli)
app.command("report")(report.cli)
@app.command()
def envs() -> None:
    """List the registered environments and their design spaces."""
    table = Table(title="archgym environments")
    for col in ("id", "description", "parameters", "designs"):
        table.add_column(col)
    for env_id in registry.env_ids():
        env = registry.make(env_id)
        space = env.unwrapped.space
        size = f"{space.size:,}" if space.finite else "continuous"
        params = ", ".join(f"{p.name}[{p.cardinality}]" for p in space)
        table.add_row(env_id, registry.description(env_id), params, size)
        env.close()
    console.print(table)


@app.command("run")
def run_cmd(
    env: Annotated[str, typer.Option(help="Environment id, e.g. archgym/DRAM-v0.")]
    = "archgym/DRAM-v0",
    agent: Annotated[str, typer.Option(help="Searcher name (see --help of 'agents').")]
    = "random",
    budget: Annotated[int, typer.Option(min=1, help="Evaluations.")] = 50,
    seed: Annotated[int, typer.Option(help="Seed of the searcher and the env.")] = 0,
    out: Annotated[Path, typer.Option(help="Dataset directory (Parquet parts).")]
    = Path("runs/latest"),
    agent_param: Annotated[list[str], typer.Option("--agent-param", help="k=v")] = [],  # noqa: B006
    env_param: Annotated[list[str], typer.Option("--env-param", help="k=v")] = [],  # noqa: B006
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run a search, log every evaluation, print the best design."""
    hparams = parse_assignments(agent_param, "--agent-param")
    env_kwargs = parse_assignments(env_param, "--env-param")
    with user_errors():
        the_env = registry.make(env, **env_kwargs)
        searcher = agents.make(agent, the_env.unwrapped.space, seed=seed, **hparams)
        the_env.reset(seed=seed)  # bad workloads or configs fail here, before any output
    if out.exists() and not out.is_dir():
        fail(f"--out {out} exists and is not a directory")
    run_id = run_id_for(env, env_kwargs, agent, searcher.hparams, seed, budget)
    writer = DatasetWriter(out, run_id=run_id)
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=err_console,
                  transient=True, disable=as_json or not sys.stderr.isatty()) as bar:
        task = bar.add_task(f"{agent} on {env}", total=budget)
        result = run_search(the_env, searcher, budget, seed=seed, logger=writer,
                            progress=lambda n: bar.update(task, completed=n))
    the_env.close()
    summary = {"env": env, "agent": agent, "hparams": searcher.hparams, "seed": seed,
               "budget": budget, "dataset": str(out), **result.summary()}
    objectives = searcher.hparams.get("objectives")
    front = searcher.pareto_front() if objectives and hasattr(searcher, "pareto_front") else []
    if front:  # multi-objective searchers: the non-dominated designs, not one best
        summary["pareto_front"] = [{"config": c, "metrics": m} for c, m in front]
    if as_json:
        typer.echo(json.dumps(summary, default=str))
        return
    if front:
        names = [o.partition(":")[0] for o in
                 ([objectives] if isinstance(objectives, str) else objectives)]
        table = Table(title=f"Pareto front on {', '.join(names)} ({len(front)} designs)")
        for col in (*names, "design"):
            table.add_column(col)
        for c, m in sorted(front, key=lambda cm: cm[1][names[0]]):
            table.add_row(*(f"{m[n]:.6g}" for n in names),
                          ", ".join(f"{k}={v}" for k, v in c.items()))
        console.print(table)
    best = result.best
    console.print(f"[bold]{agent}[/] on [bold]{env}[/]: {result.evaluations} evaluations, "
                  f"dataset in {out} (run {run_id})")
    if best is None:
        console.print("no valid design was evaluated")
        return
    table = Table(title=f"best design (step {best.step}, reward {best.reward:.6g})")
    table.add_column("parameter / metric")
    table.add_column("value", justify="right")
    for k, v in best.config.items():
        table.add_row(k, str(v))
    specs = {s.name: s for s in the_env.unwrapped.evaluator.metric_specs}
    for k, v in (best.metrics or {}).items():
        table.add_row(f"{k} ({specs[k].unit})", f"{v:.6g}")
    console.print(table)


@app.command("agents")
def agents_cmd() -> None:
    """List the searchers and their hyper-parameters with defaults."""
    table = Table(title="archgym searchers")
    table.add_column("name")
    table.add_column("hyper-parameters (defaults)")
    for name in agents.available():
        cls = agents.searcher_class(name)
        table.add_row(name, ", ".join(f"{k}={v!r}" for k, v in cls.defaults.items()))
    console.print(table)


@simulate_app.command("dram")
def simulate_dram(
    trace: Annotated[Path, typer.Option(help="Trace file (plain or gzip).")],
    format: Annotated[str | None, typer.Option(help="dramsim3 or stl (default: detect).")]
    = None,
    preset: Annotated[str, typer.Option(help="Device preset.")] = "DDR4_8Gb_x8_2400",
    controller: Annotated[str | None, typer.Option(
        help="Named controller (dramsim3_like); default: DRAMGym knobs with --set.")] = None,
    mapping: Annotated[str, typer.Option(help="Address mapping, MSB to LSB.")]
    = "rochrababgco",
    set_: Annotated[list[str], typer.Option("--set", help="Knob=Value")] = [],  # noqa: B006
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Simulate a DRAM channel and its controller on a trace."""
    from archgym.envs.dram import DEFAULTS
    from simulators.dram import ControllerConfig, simulate
    from simulators.dram.trace import read_trace

    knobs = parse_assignments(set_, "--set")
    with user_errors():
        if controller is not None and knobs:
            raise ArchGymError("--set knobs apply to the DRAMGym controller; drop --controller")
        ctrl = controller or ControllerConfig.from_dict({**DEFAULTS, **knobs})
        the_trace = read_trace(trace, format)
        result = simulate(the_trace, device=preset, controller=ctrl, mapping=mapping)
    out = result.to_dict()
    if as_json:
        typer.echo(json.dumps(out, default=str))
        return
    table = Table(title=f"{trace.name} on {preset}")
    table.add_column("result")
    table.add_column("value", justify="right")
    for k, v in out.items():
        table.add_row(k, f"{v:.6g}" if isinstance(v, float) else str(v))
    console.print(table)


def main() -> None:  # pragma: no cover - console entry
    app()


__all__ = ["app", "archgym"]
