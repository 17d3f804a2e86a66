"""``archgym proxy train|eval``: train a proxy on a dataset and score it on held-out designs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from archgym.app.console import (
    EnvParams,
    JsonFlag,
    check_choice,
    console,
    err_console,
    parse_assignments,
    user_errors,
)
from archgym.app.console import table as ui_table
from archgym.errors import ArchGymError

proxy_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                        help="Train proxy cost models on a dataset and score them.")


def scores_table(title: str, report: dict[str, dict[str, float]]) -> Any:
    table = ui_table("metric", "n", "RMSE", "nRMSE %", "MAPE %", "R^2", "Kendall tau",
                     right=("n", "RMSE", "nRMSE %", "MAPE %", "R^2", "Kendall tau"),
                     title=title)
    for metric, s in report.items():
        table.add_row(metric, str(s["n"]), f"{s['rmse']:.4g}", f"{100 * s['nrmse']:.3f}",
                      f"{100 * s['mape']:.3f}", f"{s['r2']:.4f}", f"{s['kendall_tau']:.4f}")
    return table


@proxy_app.command("train")
def train_cmd(
    dataset: Annotated[Path, typer.Argument(help="Dataset directory or Parquet file.")],
    env: Annotated[str, typer.Option(metavar="ID", help="Environment id the proxy stands in for.")],
    out: Annotated[Path, typer.Option(metavar="DIR", help="Directory to save the proxy in.")],
    model: Annotated[str, typer.Option(metavar="rf|gbt|mlp|gp", help="Model kind.")] = "rf",
    test_fraction: Annotated[float, typer.Option(
        metavar="X",         help="Share of the designs held out for scoring, in (0, 1).")] = 0.2,
    seed: Annotated[int, typer.Option(metavar="N", help="Seed of the split and the model.")] = 0,
    metric: Annotated[list[str], typer.Option(
        "--metric", metavar="NAME", help="A metric to model; repeatable (default: all).")]
    = [],  # noqa: B006
    env_param: EnvParams = [],  # noqa: B006
    workload: Annotated[str | None, typer.Option(metavar="NAME", help="Workload rows to use.")]
    = None,
    as_json: JsonFlag = False,
) -> None:
    """Train a proxy, print its held-out scores, save it with its metadata."""
    from archgym.app.progress import Phases
    from archgym.proxy.core import fit_and_score
    from archgym.proxy.models import MODELS

    env_kwargs = parse_assignments(env_param, "--env-param")
    phases = Phases(err_console)
    with user_errors():
        check_choice("--model", model, MODELS)
        if not 0.0 < test_fraction < 1.0:
            raise ArchGymError(f"--test-fraction must be in (0, 1), got {test_fraction}")
        proxy, report = fit_and_score(dataset, env, model=model, test_fraction=test_fraction,
                                      seed=seed, metrics=metric or None, env_kwargs=env_kwargs,
                                      workload=workload, progress=phases)
        phases(f"saving it to {out}")
        proxy.save(out)
        phases(None)
    if as_json:
        typer.echo(json.dumps({"proxy": str(out), "model": model, "env": env,
                               "n_train": proxy.meta["n_train"], "held_out": report}))
        return
    console.print(scores_table(f"{model} proxy of {env}: {proxy.meta['n_train']} training "
                               f"designs, held-out scores", report))
    console.print(f"saved to {out}")


@proxy_app.command("eval")
def eval_cmd(
    proxy_path: Annotated[Path, typer.Argument(metavar="PROXY", help="Saved proxy directory.")],
    dataset: Annotated[Path, typer.Argument(help="Dataset directory or Parquet file.")],
    workload: Annotated[str | None, typer.Option(metavar="NAME", help="Workload rows to use.")]
    = None,
    as_json: JsonFlag = False,
) -> None:
    """Score a saved proxy on (another) dataset of its env."""
    from archgym.proxy.core import evaluate, load

    with user_errors():
        proxy = load(proxy_path)
        report = evaluate(proxy, dataset, workload)
    if as_json:
        typer.echo(json.dumps({"proxy": str(proxy_path), "dataset": str(dataset),
                               "scores": report}))
        return
    console.print(scores_table(f"{proxy.kind} proxy of {proxy.meta['env_id']} on {dataset}",
                               report))
