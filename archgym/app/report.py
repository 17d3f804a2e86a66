"""Summaries and plots of a dataset of runs: who found the best design, how fast, and how
much that depended on hyper-parameters (ArchGym's "hyperparameter lottery").

Definitions (all from the dataset's rows; a run is one ``run_id``):

- a run's *final best* is its highest reward over valid evaluations (as the runner's ``best``);
- a run *reaches the target* at the first evaluation (``step``, 1-based) that is valid with
  ``reward >= target`` when a target reward is given, else whose ``target_met`` is true;
- a *problem* is an env id with its workload and objective (one env id can appear with
  several workloads in one sweep); a *setting* is a searcher's hyper-parameters (``hparams``);
- per problem x searcher the *tuned* setting is the one with the highest mean final best over
  its seeds (ties: the first in sorted ``hparams`` order). The table reports the tuned
  setting's mean/std (sample std, ``ddof=1``) over seeds, the median evaluations its seeds
  needed to reach the target (``inf`` when at most half reached it) and the fraction that
  did, next to the mean over all runs and the worst setting's mean: the spread between them
  is the lottery.

Plots (PNG, written atomically): ``curves.png``, best-so-far reward against evaluations for
each searcher's tuned setting, median line and inter-quartile band over seeds; ``lottery.png``,
per searcher the distribution over settings of the seed-mean final best (box and points).
When the dataset holds sweep completion markers (``_done/``), runs without one (interrupted)
are left out and counted.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from archgym import dataset
from archgym.app.jobs import DONE_DIR
from archgym.io import atomic_path, write_text

PROBLEM = ["env_id", "workload", "objective"]
GROUP = ["problem", "searcher"]


def _problem_label(env_id: str, workload: str, objective: str) -> str:
    try:
        obj = json.loads(objective)
        what = obj.get("metric") or obj.get("kind") or objective
        if isinstance(obj.get("targets"), dict):
            what = f"{what} {'+'.join(sorted(obj['targets']))}"
    except (ValueError, AttributeError):
        what = objective
    return f"{env_id} ({workload}, {what})" if workload else f"{env_id} ({what})"


def complete_runs(df: pd.DataFrame, root: str | Path) -> tuple[pd.DataFrame, int]:
    """Rows of runs a sweep marked complete (all rows when there are no markers)."""
    done = Path(root) / DONE_DIR
    if not done.is_dir():
        return df, 0
    finished = {p.stem for p in done.glob("*.json")}
    keep = df["run_id"].isin(finished)
    return df[keep], int(df.loc[~keep, "run_id"].nunique())


def run_table(df: pd.DataFrame, target: float | None = None) -> pd.DataFrame:
    """One row per run: problem, searcher, hparams, seed, evaluations, final best and the
    evaluations it took to reach the target (``inf`` if never)."""
    df = df.sort_values(["run_id", "step"], kind="stable")
    ok = df["valid"].astype(bool) & np.isfinite(df["reward"].astype(float))
    reward = df["reward"].where(ok)
    reached = (ok & (df["reward"] >= target)) if target is not None \
        else df["target_met"].astype(bool)
    work = df.assign(_reward=reward, _hit_step=df["step"].where(reached))
    runs = work.groupby("run_id", sort=True).agg(
        env_id=("env_id", "first"), workload=("workload", "first"),
        objective=("objective", "first"), searcher=("searcher", "first"),
        hparams=("hparams", "first"), seed=("seed", "first"), evaluations=("step", "size"),
        final_best=("_reward", "max"), evals_to_target=("_hit_step", "min"))
    runs["evals_to_target"] = runs["evals_to_target"].fillna(math.inf)
    runs["problem"] = [_problem_label(*k) for k in runs[PROBLEM].itertuples(index=False)]
    return runs.reset_index()


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """The per problem x searcher table from :func:`run_table` (see the module docstring)."""
    rows = []
    for (problem, searcher), g in runs.groupby(GROUP, sort=True):
        setting_means = g.groupby("hparams", sort=True)["final_best"].mean()
        tuned_hp = setting_means.idxmax() if setting_means.notna().any() \
            else setting_means.index[0]
        tuned = g[g["hparams"] == tuned_hp]
        hits = tuned["evals_to_target"]
        rows.append({
            "problem": problem, "searcher": searcher, "runs": len(g),
            "settings": len(setting_means), "seeds": tuned["seed"].nunique(),
            "best_hparams": tuned_hp,
            "best_reward_mean": tuned["final_best"].mean(),
            "best_reward_std": tuned["final_best"].std(ddof=1),
            "evals_to_target_median": float(np.median(hits.to_numpy())),
            "target_hit_rate": float(np.isfinite(hits).mean()),
            "all_runs_mean": g["final_best"].mean(),
            "worst_setting_mean": setting_means.min(),
        })
    return pd.DataFrame(rows)


def best_so_far(df: pd.DataFrame) -> pd.DataFrame:
    """Rows with ``best_so_far``: the running maximum of valid rewards within each run."""
    df = df.sort_values(["run_id", "step"], kind="stable")
    ok = df["valid"].astype(bool) & np.isfinite(df["reward"].astype(float))
    r = df["reward"].where(ok)
    return df.assign(best_so_far=r.groupby(df["run_id"]).cummax()
                     .groupby(df["run_id"]).ffill())


def _save_atomic(fig: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")


def plot_curves(df: pd.DataFrame, runs: pd.DataFrame, table: pd.DataFrame,
                path: Path) -> None:
    """Best-so-far vs evaluations, tuned setting per searcher, median and IQR over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = best_so_far(df).merge(runs[["run_id", "problem"]], on="run_id")
    problems = list(table["problem"].unique())
    fig, axes = plt.subplots(1, len(problems), figsize=(6 * len(problems), 4.2),
                             squeeze=False)
    for ax, problem in zip(axes[0], problems, strict=True):
        for row in table[table["problem"] == problem].itertuples():
            mine = curves[(curves["problem"] == problem) & (curves["searcher"] == row.searcher)
                          & (curves["hparams"] == row.best_hparams)]
            wide = mine.pivot_table(index="step", columns="run_id", values="best_so_far",
                                    aggfunc="first").ffill()
            q = wide.quantile([0.25, 0.5, 0.75], axis=1).T
            line, = ax.plot(q.index, q[0.5], label=f"{row.searcher} ({row.seeds} seeds)")
            ax.fill_between(q.index, q[0.25], q[0.75], color=line.get_color(), alpha=0.2,
                            linewidth=0)
        ax.set_title(problem, fontsize=9)
        ax.set_xlabel("evaluations")
        ax.set_ylabel("best reward so far")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("best-so-far reward, tuned setting per searcher (median, IQR over seeds)",
                 fontsize=10)
    _save_atomic(fig, path)
    plt.close(fig)


def plot_lottery(runs: pd.DataFrame, path: Path) -> None:
    """Per searcher, the seed-mean final best of each hyper-parameter setting."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    means = runs.groupby(["problem", "searcher", "hparams"], sort=True)["final_best"].mean() \
        .reset_index()
    problems = list(dict.fromkeys(means["problem"]))
    fig, axes = plt.subplots(1, len(problems), figsize=(6 * len(problems), 4.2),
                             squeeze=False)
    rng = np.random.default_rng(0)  # jitter of the points only
    for ax, problem in zip(axes[0], problems, strict=True):
        mine = means[means["problem"] == problem]
        names = sorted(mine["searcher"].unique())
        data = [mine.loc[mine["searcher"] == n, "final_best"].dropna().to_numpy()
                for n in names]
        ax.boxplot(data, showfliers=False)
        ax.set_xticks(range(1, len(names) + 1), names, rotation=30, ha="right")
        for i, values in enumerate(data, start=1):
            ax.scatter(i + rng.uniform(-0.12, 0.12, len(values)), values, s=14, alpha=0.7,
                       zorder=3)
        ax.set_title(problem, fontsize=9)
        ax.set_ylabel("final best reward (mean over seeds)")
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle("hyperparameter lottery: one point per hyper-parameter setting", fontsize=10)
    _save_atomic(fig, path)
    plt.close(fig)


def report(path: str | Path, target: float | None = None, out: str | Path | None = None,
           plots: bool = True) -> dict[str, Any]:
    """Summarise the dataset at ``path``; write ``summary.csv``, ``summary.json`` and the
    PNGs to ``out`` (default ``<dataset>/report``). Returns the table and the files."""
    path = Path(path)
    df = dataset.load(path)
    df, incomplete = complete_runs(df, path) if path.is_dir() else (df, 0)
    if df.empty:
        raise FileNotFoundError(f"no complete runs in {path}")
    runs = run_table(df, target)
    table = summarize(runs)
    out_dir = Path(out) if out is not None else (path if path.is_dir() else path.parent) \
        / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"csv": out_dir / "summary.csv", "json": out_dir / "summary.json"}
    write_text(files["csv"], table.to_csv(index=False))
    write_text(files["json"], json.dumps(to_records(table), indent=1))
    if plots:
        files["curves"] = out_dir / "curves.png"
        files["lottery"] = out_dir / "lottery.png"
        plot_curves(df, runs, table, files["curves"])
        plot_lottery(runs, files["lottery"])
    return {"table": table, "runs": runs, "files": files, "incomplete_runs": incomplete,
            "target": target}


def to_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe rows (NaN and inf become ``None``)."""
    out = []
    for rec in table.to_dict("records"):
        out.append({k: (None if isinstance(v, float) and not math.isfinite(v) else
                        (v.item() if hasattr(v, "item") else v)) for k, v in rec.items()})
    return out


def _fmt(v: float, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float) and math.isinf(v):
        return "not reached"
    return f"{v:.{digits}g}"


def cli(
    path: Annotated[Path, typer.Argument(help="Dataset directory or Parquet file.")],
    target: Annotated[float | None, typer.Option(
        help="Target reward (default: each row's target_met).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Directory for the table and PNGs (default: DATASET/report).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
) -> None:
    """Summary table (best reward, evaluations to target) and plots of a dataset."""
    from archgym.app.console import console, user_errors

    with user_errors():
        if not path.exists():
            raise FileNotFoundError(f"dataset {path} does not exist")
        result = report(path, target=target, out=out)
    table = result["table"]
    if as_json:
        typer.echo(json.dumps({"target": target, "incomplete_runs": result["incomplete_runs"],
                               "files": {k: str(v) for k, v in result["files"].items()},
                               "table": to_records(table)}))
        return
    goal = f"reward >= {target:g}" if target is not None else "target_met"
    console.print(f"{path}: final best reward of each searcher's tuned setting over seeds; "
                  f"target: {goal}", soft_wrap=True)
    for problem, rows in table.groupby("problem", sort=False):
        rt = Table(title=problem)
        for col in ("searcher", "runs", "settings", "best (mean ± std)", "evals to target",
                    "hit rate", "all runs mean", "worst setting"):
            rt.add_column(col, justify="left" if col == "searcher" else "right",
                          no_wrap=col == "searcher", overflow="fold")
        for r in rows.itertuples():
            rt.add_row(r.searcher, str(r.runs), str(r.settings),
                       f"{_fmt(r.best_reward_mean)} ± {_fmt(r.best_reward_std, 2)}",
                       _fmt(r.evals_to_target_median), f"{r.target_hit_rate:.0%}",
                       _fmt(r.all_runs_mean), _fmt(r.worst_setting_mean))
        console.print(rt)
    if result["incomplete_runs"]:
        console.print(f"left out {result['incomplete_runs']} incomplete run(s) (no sweep "
                      "completion marker)")
    console.print("wrote " + ", ".join(str(f) for f in result["files"].values()),
                  soft_wrap=True)


__all__ = ["best_so_far", "cli", "report", "run_table", "summarize"]
