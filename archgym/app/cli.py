"""The ``archgym`` command.

Bad input (unknown env or searcher, a bad parameter or value) prints one line on stderr and
exits with code 2, before anything is written. Sub-commands that live with their topic
(sweeps, reports, collection, proxies, replay, ``simulate <name>``) are wired here, one line
each.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

import agents
import archgym
from archgym import registry
from archgym.app import collect, replay, report, simulate, sweep
from archgym.app import proxy as proxy_cli
from archgym.app.console import console, err_console, fail, parse_assignments, user_errors
from archgym.app.progress import EvaluationProgress
from archgym.dataset import DatasetWriter
from archgym.objectives import formula
from archgym.runner import run as run_search
from archgym.runner import run_id_for

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="ArchGym: machine-learning-driven hardware design-space exploration.")
app.add_typer(simulate.app(), name="simulate")
dataset_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                          help="Build and inspect evaluation datasets.")
app.add_typer(dataset_app, name="dataset")
dataset_app.command("collect")(collect.collect_cmd)
app.add_typer(proxy_cli.proxy_app, name="proxy")
app.command("sweep")(sweep.cli)
app.command("report")(report.cli)
app.command("replay")(replay.cli)


@app.command()
def envs(
    env_id: Annotated[str | None, typer.Argument(
        help="An environment id: list its parameters, design space, metrics, objectives.")]
    = None,
) -> None:
    """List the registered environments, or describe one in full."""
    with user_errors():
        if env_id is not None:
            describe_env(env_id)
            return
        table = Table(title="archgym environments (archgym envs ID for details)")
        for col in ("id", "kind", "designs", "description"):
            table.add_column(col)
        for eid in registry.env_ids():
            env = registry.make(eid)
            base = env.unwrapped
            space = base.design_point_view().space if base.design_point_view() else None
            size = ("-" if space is None else f"{space.size:,}" if space.finite
                    else "continuous")
            table.add_row(eid, base.kind, size, registry.description(eid))
            env.close()
        console.print(table)


def describe_env(env_id: str) -> None:
    """Every parameter, design-space parameter, metric and objective of ``env_id``."""
    env = registry.make(env_id)
    base = env.unwrapped
    console.print(f"[bold]{env_id}[/] ({base.kind}): {registry.description(env_id)}")
    params = Table(title="parameters (--env-param NAME=VALUE)")
    for col in ("name", "default", "accepts"):
        params.add_column(col)
    hints = registry.parameter_hints(env_id)
    for name, default in registry.env_parameters(env_id).items():
        params.add_row(name, repr(default), hints[name])
    console.print(params)
    view = base.design_point_view()
    if view is not None:
        space = Table(title=f"design space ({view.space.size:,} designs)"
                      if view.space.finite else "design space")
        for col in ("parameter", "default", "values"):
            space.add_column(col)
        for p in view.space:
            space.add_row(p.name, str(p.default_value()), p.allowed())
        console.print(space)
    metrics = Table(title="metrics")
    for col in ("metric", "unit", "better"):
        metrics.add_column(col)
    for m in base.metric_specs:
        metrics.add_row(m.name, m.unit, "lower" if m.direction == "minimize" else "higher")
    console.print(metrics)
    objectives = Table(title="objectives (--env-param objective=...; reward, higher is better)")
    for col in ("objective", "reward"):
        objectives.add_column(col)
    for alias in base.objective_aliases:
        objectives.add_row(alias, formula(base.parse_objective(alias)))
    for m in base.metric_specs:
        objectives.add_row(m.name, formula(base.parse_objective(m.name)))
    console.print(objectives)
    console.print("Other forms: min:M, max:M, target:M=V, W*M+W*M, pareto:M,M, each with "
                  "optional '; M<=V' limits (archgym.objectives).", highlight=False)
    pols = agents.policies(env_id)
    if pols:
        console.print(f"Policies it ships (--agent): {', '.join(pols)}", highlight=False)
    env.close()


def _searcher_help() -> str:
    return ("Searcher or policy: " + ", ".join(agents.available()) +
            (f"; policies: {', '.join(agents.policies())}" if agents.policies() else "") +
            " (archgym agents lists their hyper-parameters).")


@app.command("run")
def run_cmd(
    env: Annotated[str, typer.Option(
        metavar="ID", help="Environment id (archgym envs lists them).")]
    = "archgym/DRAM-v0",
    agent: Annotated[str, typer.Option(metavar="NAME", help=_searcher_help())] = "random",
    budget: Annotated[int, typer.Option(
        min=1, metavar="N",
        help="Evaluations (designs; finished episodes of a sequential env).")] = 50,
    seed: Annotated[int, typer.Option(metavar="N", help="Seed of the searcher and the env.")] = 0,
    out: Annotated[Path, typer.Option(metavar="DIR", help="Dataset directory (Parquet parts).")]
    = Path("runs/latest"),
    agent_param: Annotated[list[str], typer.Option(
        "--agent-param", metavar="NAME=VALUE",
        help="A searcher hyper-parameter; repeatable (archgym agents lists them with their "
             "defaults).")]
    = [],  # noqa: B006
    env_param: Annotated[list[str], typer.Option(
        "--env-param", metavar="NAME=VALUE",
        help="An env parameter, e.g. workload=random or objective=power; repeatable "
             "(archgym envs ID lists every parameter with its default and accepted values, "
             "and every objective with its reward).")]
    = [],  # noqa: B006
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run a search, log every evaluation, print the best design."""
    hparams = parse_assignments(agent_param, "--agent-param")
    env_kwargs = parse_assignments(env_param, "--env-param")
    with user_errors():
        the_env = registry.make(env, **env_kwargs)
        searcher, target = agents.for_env(agent, the_env, seed=seed, **hparams)
        the_env.reset(seed=seed)  # bad workloads or configs fail here, before any output
    if out.exists() and not out.is_dir():
        fail(f"--out {out} exists and is not a directory")
    run_id = run_id_for(env, env_kwargs, agent, searcher.hparams, seed, budget)
    writer = DatasetWriter(out, run_id=run_id)
    base = target.unwrapped
    best: list[float] = []

    def track_best(ev: Any) -> None:
        if ev.valid and math.isfinite(ev.reward) and (not best or ev.reward > best[0]):
            best[:] = [ev.reward]

    untrack = base.subscribe(track_best)
    with EvaluationProgress(f"{agent} on {env}", budget, err_console) as bar:
        result = run_search(target, searcher, budget, seed=seed, logger=writer,
                            progress=lambda n: bar(n, best[0] if best else None))
    untrack()
    spec = base.env_spec()
    summary = {"env": env, "agent": agent, "hparams": searcher.hparams, "seed": seed,
               "budget": budget, "dataset": str(out), "workload": spec["workload"],
               "objective": spec["objective"], "reward": formula(base.objective),
               **result.summary()}
    the_env.close()
    objectives = searcher.hparams.get("objectives")
    front = searcher.pareto_front() if objectives and hasattr(searcher, "pareto_front") else []
    if front:  # multi-objective searchers: the non-dominated designs, not one best
        summary["pareto_front"] = [{"config": c, "metrics": m} for c, m in front]
    if as_json:
        typer.echo(json.dumps(summary, default=str))
        return
    console.print(f"[bold]{agent}[/] on [bold]{env}[/], workload {spec['workload']}: "
                  f"{result.evaluations} evaluations, dataset in {out} (run {run_id})",
                  highlight=False)
    console.print(f"reward = {summary['reward']}", highlight=False)
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
    if best is None:
        console.print("no valid design was evaluated")
        return
    table = Table(title=f"best design (evaluation {best.step}, reward {best.reward:.6g})")
    table.add_column("parameter / metric")
    table.add_column("value", justify="right")
    for k, v in best.config.items():
        table.add_row(k, str(v))
    specs = {s.name: s for s in base.metric_specs}
    for k, v in (best.metrics or {}).items():
        table.add_row(f"{k} ({specs[k].unit})", f"{v:.6g}")
    console.print(table)


@app.command("agents")
def agents_cmd() -> None:
    """List the searchers and env-shipped policies, with their hyper-parameters."""
    table = Table(title="archgym searchers and policies (--agent NAME --agent-param K=V)")
    for col in ("name", "runs on", "hyper-parameters (defaults)"):
        table.add_column(col)
    for name in agents.available():
        cls = agents.searcher_class(name)
        kinds = agents.kinds(name)
        where = ("sequential envs (action masks)" if kinds == ("sequential",) else
                 "design-point envs and views")
        table.add_row(name, where, ", ".join(f"{k}={v!r}" for k, v in cls.defaults.items()))
    for name in agents.policies():
        cls = agents.decision_class(name)
        table.add_row(name, "policy for " + ", ".join(registry.policy_envs(name)),
                      ", ".join(f"{k}={v!r}" for k, v in cls.defaults.items()) or "-")
    console.print(table)


def main() -> None:  # pragma: no cover - console entry
    app()


__all__ = ["app", "archgym"]
