"""``archgym replay DATASET``: re-simulate logged rows and report any that differ."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from archgym.app.console import JsonFlag, console, user_errors


def cli(
    data: Annotated[Path, typer.Argument(help="Dataset directory (or one Parquet file).")],
    rows: Annotated[int | None, typer.Option(
        min=1, metavar="N",
        help="Replay a seeded sample of this many valid rows (default: all).")] = None,
    seed: Annotated[int, typer.Option(metavar="N", help="Seed of the sample.")] = 0,
    rtol: Annotated[float, typer.Option(
        min=0.0, metavar="X", help="Relative tolerance (default 0: bit for bit).")] = 0.0,
    as_json: JsonFlag = False,
) -> None:
    """Re-create logged designs from their rows alone, re-evaluate them, and report any
    whose metrics or reward differ (exit status 1 if any does)."""
    from archgym.replay import replay

    with user_errors():
        if not data.exists():
            raise FileNotFoundError(f"dataset {data} does not exist")
        report = replay(data, rows, seed, rtol)
    if as_json:
        typer.echo(json.dumps(report.summary(), default=str))
    else:
        console.print(f"replayed {report.rows} rows of {data}: {report.mismatches} differ"
                      f"{f', {report.skipped} invalid rows skipped' if report.skipped else ''}",
                      highlight=False)
        for d in report.details[:20]:
            console.print(f"  run {d['run_id']} step {d['step']}: {d['why']} "
                          f"{json.dumps(d.get('diffs', ''), default=str)}", highlight=False)
    if report.mismatches:
        raise typer.Exit(1)
