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
from rich.text import Text

import agents
import archgym
from archgym import registry
from archgym.app import collect, replay, report, simulate, sweep
from archgym.app import proxy as proxy_cli
from archgym.app.console import (
    EnvParams,
    JsonFlag,
    console,
    err_console,
    fail,
    parse_assignments,
    quantity,
    user_errors,
    warnings_as_lines,
)
from archgym.app.console import table as ui_table
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


@dataset_app.command("compact")
def compact_cmd(
    data: Annotated[Path, typer.Argument(help="Dataset directory.")],
) -> None:
    """Turn the write-ahead logs of killed runs into Parquet parts (for DuckDB and polars,
    which read the parts only; archgym reads both)."""
    from archgym.app.jobs import lock
    from archgym.dataset import compact

    with user_errors():
        if not data.is_dir():
            raise FileNotFoundError(f"dataset directory {data} does not exist")
        with lock(data):  # never under a sweep or collection still writing there
            n = compact(data)
    console.print(f"{data}: {n} log(s) compacted into Parquet parts", highlight=False,
                  soft_wrap=True)
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
        table = ui_table("id", "kind", "designs", "description", right=("designs",),
                         title="archgym environments (archgym envs ID describes one)")
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
    params = ui_table("name", "default", "accepts",
                      title="\nparameters (--env-param NAME=VALUE)")
    hints = registry.parameter_hints(env_id)
    for name, default in registry.env_parameters(env_id).items():
        params.add_row(name, Text(repr(default)), Text(hints[name]))
    console.print(params)
    view = base.design_point_view()
    if view is not None:
        space = ui_table("parameter", "default", "values",
                         title=f"\ndesign space ({view.space.size:,} designs)"
                         if view.space.finite else "\ndesign space")
        for p in view.space:
            space.add_row(p.name, Text(str(p.default_value())), Text(p.allowed()))
        console.print(space)
        if view.space.constraints:
            rules = ui_table("constraint", "rule", title="\nconstraints (a design breaking one "
                             "is an invalid step, not evaluated)")
            for c in view.space.constraints:
                rules.add_row(c.name, c.rule if isinstance(c.rule, str) else repr(c.rule))
            console.print(rules)
    metrics = ui_table("metric", "unit", "better", title="\nmetrics")
    for m in base.metric_specs:
        metrics.add_row(m.name, m.unit, "lower" if m.direction == "minimize" else "higher")
    console.print(metrics)
    default = registry.env_parameters(env_id).get("objective")
    objectives = ui_table("objective", "reward (higher is better)",
                          title="\nobjectives (--env-param objective=...)")
    for name in (*base.objective_aliases, *(m.name for m in base.metric_specs)):
        objectives.add_row(name + (" (default)" if name == default else ""),
                           Text(formula(base.parse_objective(name))))
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
    env_param: EnvParams = [],  # noqa: B006
    as_json: JsonFlag = False,
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
    with warnings_as_lines(), EvaluationProgress(f"{agent} on {env}", budget,
                                                 err_console) as bar:
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
    console.print(f"[bold]{agent}[/] on [bold]{env}[/]: {result.evaluations} evaluations, "
                  f"dataset in {out} (run {run_id})", highlight=False)
    console.print(f"workload {spec['workload']}, objective "
                  f"{spec['kwargs'].get('objective', spec['objective'].get('kind'))}",
                  highlight=False)
    console.print(f"reward = {summary['reward']}", highlight=False)
    if front:
        names = [o.partition(":")[0] for o in
                 ([objectives] if isinstance(objectives, str) else objectives)]
        table = ui_table(*names, "design", right=tuple(names),
                         title=f"Pareto front on {', '.join(names)} ({len(front)} designs)")
        units = {s.name: s.unit for s in base.metric_specs}
        for c, m in sorted(front, key=lambda cm: cm[1][names[0]]):
            table.add_row(*(quantity(m[n], units.get(n, "")) for n in names),
                          Text(", ".join(f"{k}={v}" for k, v in c.items())))
        console.print(table)
    best = result.best
    if best is None:
        console.print("no valid design was evaluated")
        return
    console.print(f"best design: evaluation {best.step}, reward {best.reward:.6g}",
                  highlight=False)
    table = ui_table("parameter / metric", "value", right=("value",))
    for k, v in best.config.items():
        table.add_row(k, Text(str(v)))
    specs = {s.name: s for s in base.metric_specs}
    for k, v in (best.metrics or {}).items():
        table.add_row(k, quantity(v, specs[k].unit if k in specs else ""))
    console.print(table)


@app.command("agents")
def agents_cmd() -> None:
    """List the searchers and env-shipped policies, with their hyper-parameters."""
    table = ui_table("name", "runs on", "hyper-parameters (defaults)",
                     title="archgym searchers and policies (--agent NAME --agent-param K=V)")
    for name in agents.available():
        cls = agents.searcher_class(name)
        kinds = agents.kinds(name)
        where = ("sequential envs (action masks)" if kinds == ("sequential",) else
                 "design-point envs and views")
        table.add_row(name, where, Text(", ".join(f"{k}={v!r}" for k, v in
                                                  cls.defaults.items())))
    for name in agents.policies():
        cls = agents.decision_class(name)
        table.add_row(name, "policy for " + ", ".join(registry.policy_envs(name)),
                      Text(", ".join(f"{k}={v!r}" for k, v in cls.defaults.items()) or "-"))
    console.print(table)


def main() -> None:  # pragma: no cover - console entry
    app()


__all__ = ["app", "archgym"]
