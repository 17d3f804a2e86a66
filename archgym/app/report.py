"""Summaries and plots of a dataset of runs: who found the best design, how fast, how sure we
can be of the ranking, and how much it depended on hyper-parameters (ArchGym's
"hyperparameter lottery").

Definitions (all from the dataset's rows; a run is one ``run_id``):

- a *problem* is an env id with its workload and (resolved) objective; its label drops the
  ``archgym/`` namespace and names the objective as the user wrote it
  (``DRAM-v0 stream[:2000] both``); a *setting* is a searcher's hyper-parameters;
- a run's *final best* is its highest reward over valid evaluations (as the runner's ``best``);
- the *best known* reward of a problem is the highest final best of any run in the dataset;
  a run's *gap* is ``(best known - final best) / |best known|`` in percent (0: it found the
  best known design; for ``min:`` objectives, how much worse its metric is), given for
  objectives without ArchGym targets (a target reward peaks at ``1 / eps`` on the target, so
  its relative gap says nothing; their goal is ``target_met``);
- a run *reaches the goal* at its first valid evaluation (``step``, 1-based) that meets the
  problem's goal: ``reward >= R`` where ``--target PROBLEM=R`` gives one; else, for
  objectives with ArchGym targets, the row's ``target_met``; else a reward within 1 % of the
  best known (``reward >= best - 0.01 |best|``);
- per problem x searcher the *tuned* setting is the one with the highest median final best
  over its seeds (ties: the first in sorted ``hparams`` order). The table reports, over the
  tuned setting's seeds, the median final best, the median gap and the median evaluations to
  the goal (``inf`` while at most half the seeds reach it), each with a 95 % percentile
  bootstrap interval (:func:`archgym.stats.median_ci`), the fraction of seeds reaching the
  goal, and the worst setting's median: the spread between tuned and worst is the lottery.

Searchers are ranked by median final best. Two whose intervals overlap are not separated by
these seeds, and the report says so; a ranking on fewer than :data:`archgym.stats.MIN_SEEDS`
seeds, or on unequal budgets, gets a warning.

Plots (PNG, written atomically), one panel per problem and one colour per searcher, the same
in every plot and every report (:func:`searcher_colours`): ``curves.png``, the best design
found so far against evaluations for each searcher's tuned setting, median over seeds (line)
and the median's 95 % bootstrap interval (band); ``lottery.png``, per searcher the median
final best of every hyper-parameter setting (points) with their box (black median line).
For ``min:``/``max:`` objectives the plots show the metric in its unit (the reward is just
``-/+ metric / scale``); otherwise the reward, with its formula in the panel title. When the
dataset holds sweep completion markers (``_done/``), runs without one (interrupted) are left
out and counted.

A dataset with more than one env (or ``--cross``) also gets the cross-environment report of
:mod:`archgym.app.report_cross`: quality normalised to the best known design, ranks across
problems, the lottery figure and one self-contained ``report.html``.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer

from archgym import dataset
from archgym.app.jobs import DONE_DIR
from archgym.io import atomic_path, write_text
from archgym.objectives import formula, has_targets
from archgym.stats import MIN_SEEDS, MedianCI, median_band, median_ci
from archgym.stats import overlapping as overlapping_pairs

PROBLEM = ["env_id", "workload", "objective"]
GROUP = ["problem", "searcher"]
NEAR = 0.01  #: "within 1 % of the best known reward", the goal of objectives without targets
#: colours for searchers: matplotlib's tab10 without grey, then tab20b's dark tones, then
#: tab20's light ones; black and grey are kept for medians and boxes
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173",
           "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2",
           "#dbdb8d", "#9edae5")
#: the searchers in the order they take colours (the most used first, so they get the
#: strongest); other registered searchers and policies follow in sorted order
COLOUR_ORDER = ("random", "random-walk", "ga", "aco", "bo", "ppo", "sobol", "tpe", "nsga2",
                "cmaes", "lhs", "grid", "sac", "a2c", "dqn", "td3", "marl-ppo",
                "maskable-ppo", "gp-optuna", "qmc-optuna")


def short_env(env_id: str) -> str:
    """``archgym/DRAM-v0`` -> ``DRAM-v0`` (other namespaces are kept)."""
    return env_id.removeprefix("archgym/")


def _objective_name(objective: dict[str, Any], spec: dict[str, Any]) -> str:
    """The objective as the user wrote it (``both``, ``latency_ns``), with explicit targets."""
    kwargs = spec.get("kwargs", {})
    name = kwargs.get("objective")
    if not isinstance(name, str):
        name = objective.get("metric") or objective.get("kind", "?")
    given = [f"{k}={v:g}" for k, v in sorted(kwargs.items())
             if k.startswith("target") and isinstance(v, int | float)]
    return " ".join([name, *given])


def problem_labels(df: pd.DataFrame) -> dict[tuple[str, str, str], str]:
    """Problem key (env id, workload, objective JSON) -> a short unique label."""
    labels: dict[tuple[str, str, str], str] = {}
    first = df.drop_duplicates(PROBLEM)
    specs = first["env_spec"] if "env_spec" in first else [None] * len(first)
    for key, spec in zip(first[PROBLEM].itertuples(index=False, name=None), specs,
                         strict=True):
        env_id, workload, objective = key
        try:
            obj = json.loads(objective)
        except ValueError:
            obj = {"kind": objective}
        spec = json.loads(spec) if isinstance(spec, str) else {}
        label = " ".join(x for x in (short_env(env_id), workload, _objective_name(obj, spec))
                         if x)
        while label in labels.values():  # same words, different resolved objectives
            label += "'"
        labels[key] = label
    return labels


def complete_runs(df: pd.DataFrame, root: str | Path) -> tuple[pd.DataFrame, int]:
    """Rows of runs a sweep marked complete (all rows when there are no markers)."""
    done = Path(root) / DONE_DIR
    if not done.is_dir():
        return df, 0
    finished = {p.stem for p in done.glob("*.json")}
    keep = df["run_id"].isin(finished)
    return df[keep], int(df.loc[~keep, "run_id"].nunique())


def _valid_reward(df: pd.DataFrame) -> pd.Series:
    ok = df["valid"].astype(bool) & np.isfinite(df["reward"].astype(float))
    return df["reward"].astype(float).where(ok)


def resolve_targets(targets: float | Mapping[str, float] | None,
                    problems: Sequence[str]) -> dict[str, float]:
    """Per-problem target rewards from ``--target`` (a bare number is every problem's; a key
    names a problem by its label or a part of it that matches only one)."""
    if targets is None:
        return {}
    if isinstance(targets, int | float):
        return dict.fromkeys(problems, float(targets))
    out: dict[str, float] = {}
    for key, value in targets.items():
        match = [key] if key in problems else [p for p in problems if key in p]
        if len(match) != 1:
            raise ValueError(f"--target {key}={value}: {'no' if not match else 'more than one'}"
                             f" problem matches {key!r}; problems: {'; '.join(problems)}")
        out[match[0]] = float(value)
    return out


def goals(df: pd.DataFrame, labels: Mapping[tuple, str],
          targets: Mapping[str, float]) -> pd.DataFrame:
    """Per problem: the goal a run must reach (see the module docstring), its description,
    the best known reward and the reward formula."""
    rows = []
    reward = _valid_reward(df)
    for key, g in df.groupby(PROBLEM, sort=False):
        label = labels[key]
        obj = json.loads(key[2]) if key[2].startswith("{") else {"kind": key[2]}
        best = float(reward.loc[g.index].max())
        if label in targets:
            kind, value, text = "reward", targets[label], f"reward >= {targets[label]:g}"
        elif has_targets(obj):
            kind, value, text = "target_met", math.nan, "the objective's targets (target_met)"
        else:
            kind = "reward"
            value = best - NEAR * abs(best) if math.isfinite(best) else math.inf
            text = f"within {NEAR:.0%} of the best known reward ({best:.4g})"
        try:
            what = formula(obj)
        except (KeyError, TypeError):
            what = obj.get("kind", "?")
        rows.append({"problem": label, "goal_kind": kind, "goal_reward": value, "goal": text,
                     "best_known": best, "formula": what, "objective": obj})
    return pd.DataFrame(rows)


def run_table(df: pd.DataFrame, target: float | Mapping[str, float] | None = None
              ) -> pd.DataFrame:
    """One row per run: problem, searcher, hparams, seed, evaluations, final best, gap to the
    best known (%) and the evaluations it took to reach the goal (``inf`` if never)."""
    runs, _ = _runs_and_goals(df, target)
    return runs


def _runs_and_goals(df: pd.DataFrame, target: float | Mapping[str, float] | None
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = df.sort_values(["run_id", "step"], kind="stable")
    labels = problem_labels(df)
    problem = pd.Series([labels[k] for k in df[PROBLEM].itertuples(index=False, name=None)],
                        index=df.index)
    goal = goals(df, labels, resolve_targets(target, list(dict.fromkeys(labels.values()))))
    by = goal.set_index("problem")
    reward = _valid_reward(df)
    need = problem.map(by["goal_reward"])
    reached = np.where(problem.map(by["goal_kind"]) == "target_met",
                       df["target_met"].astype(bool) & reward.notna(), reward >= need)
    work = df.assign(problem=problem, _reward=reward, _hit_step=df["step"].where(reached))
    runs = work.groupby("run_id", sort=True).agg(
        problem=("problem", "first"), env_id=("env_id", "first"),
        workload=("workload", "first"), objective=("objective", "first"),
        searcher=("searcher", "first"), hparams=("hparams", "first"), seed=("seed", "first"),
        evaluations=("step", "size"), final_best=("_reward", "max"),
        evals_to_target=("_hit_step", "min"))
    runs["evals_to_target"] = runs["evals_to_target"].fillna(math.inf)
    best = runs["problem"].map(by["best_known"])
    runs["gap_pct"] = 100 * (best - runs["final_best"]) / best.abs().where(best != 0)
    # a target reward peaks sharply at the target (1 / eps): its relative gap means nothing
    runs.loc[runs["problem"].map(by["objective"].map(has_targets)), "gap_pct"] = math.nan
    return runs.reset_index(), goal


def _ci(values: pd.Series, prefix: str) -> dict[str, float]:
    x = values.dropna().to_numpy(dtype=float)
    if x.size == 0:
        return {f"{prefix}_median": math.nan, f"{prefix}_ci_low": math.nan,
                f"{prefix}_ci_high": math.nan}
    ci = median_ci(x)
    return {f"{prefix}_median": ci.median, f"{prefix}_ci_low": ci.low,
            f"{prefix}_ci_high": ci.high}


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """The per problem x searcher table from :func:`run_table` (see the module docstring),
    ranked by median final best within each problem."""
    rows = []
    for (problem, searcher), g in runs.groupby(GROUP, sort=True):
        setting_medians = g.groupby("hparams", sort=True)["final_best"].median()
        tuned_hp = setting_medians.idxmax() if setting_medians.notna().any() \
            else setting_medians.index[0]
        tuned = g[g["hparams"] == tuned_hp]
        hits = tuned["evals_to_target"]
        rows.append({
            "problem": problem, "searcher": searcher, "runs": len(g),
            "settings": len(setting_medians), "seeds": tuned["seed"].nunique(),
            "budget": int(tuned["evaluations"].max()), "best_hparams": tuned_hp,
            **_ci(tuned["final_best"], "best_reward"),
            "best_reward_mean": tuned["final_best"].mean(),
            "best_reward_std": tuned["final_best"].std(ddof=1),
            **_ci(tuned["gap_pct"], "gap_pct"),
            **_ci(hits, "evals_to_target"),
            "target_hit_rate": float(np.isfinite(hits).mean()),
            "all_runs_median": g["final_best"].median(),
            "worst_setting_median": setting_medians.min(),
        })
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    order = table.sort_values(["problem", "best_reward_median", "searcher"],
                              ascending=[True, False, True], kind="stable")
    return order.reset_index(drop=True)


def overlapping(rows: pd.DataFrame) -> list[tuple[str, str]]:
    """Pairs of searchers (in ranking order) whose best-reward intervals overlap."""
    return overlapping_pairs({r.searcher: MedianCI(r.best_reward_median, r.best_reward_ci_low,
                                                   r.best_reward_ci_high, r.seeds)
                              for r in rows.itertuples()})


def warnings_for(rows: pd.DataFrame) -> list[str]:
    """What makes a problem's ranking weak: few seeds, unequal budgets."""
    out = []
    few = rows[rows["seeds"] < MIN_SEEDS]
    if len(rows) > 1 and len(few):
        out.append(f"the ranking rests on {int(few['seeds'].min())} seed(s) for "
                   f"{', '.join(few['searcher'])} (fewer than {MIN_SEEDS}): medians and "
                   "their order may change with more seeds")
    if rows["budget"].nunique() > 1:
        out.append("unequal budgets: " + ", ".join(
            f"{r.searcher} {r.budget}" for r in rows.itertuples()))
    return out


# ------------------------------------------------------------------------------- plots


def searcher_colours(names: Sequence[str]) -> dict[str, str]:
    """One colour per searcher, the same in every plot and every report: the searchers of
    :data:`COLOUR_ORDER`, then the other registered searchers and policies, take the palette
    in turn; a name registered nowhere takes a hash of itself."""
    import agents

    known = list(dict.fromkeys([*COLOUR_ORDER, *sorted({*agents.available(),
                                                        *agents.policies()})]))
    return {n: PALETTE[(known.index(n) if n in known else zlib.crc32(n.encode()))
                       % len(PALETTE)] for n in names}


def _axis(goal: Mapping[str, Any]) -> tuple[str, float]:
    """(y label, factor): what the plots show, from the reward (``y = factor * reward``)."""
    obj = goal["objective"]
    if obj.get("kind") == "optimize":
        sign = -1.0 if obj["direction"] == "minimize" else 1.0
        better = "lower" if sign < 0 else "higher"
        return f"{obj['metric']} ({better} is better)", sign * obj["scale"]
    return "reward (higher is better)", 1.0


def _unit_label(goal: Mapping[str, Any], units: Mapping[str, str]) -> str:
    label, _ = _axis(goal)
    metric = goal["objective"].get("metric")
    if metric and units.get(metric):
        label = label.replace(metric, f"{metric} [{units[metric]}]", 1)
    return label


def _save_atomic(fig: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _title(goal: Mapping[str, Any]) -> str:
    import textwrap

    text = goal["problem"]
    if goal["objective"].get("kind") != "optimize":
        text += "\nreward = " + goal["formula"]
    return "\n".join(textwrap.wrap(text, 70, break_on_hyphens=False))


def plot_curves(df: pd.DataFrame, runs: pd.DataFrame, table: pd.DataFrame,
                goal: pd.DataFrame, path: Path, units: Mapping[str, str] = {},  # noqa: B006
                ) -> Any:
    """Best so far vs evaluations, tuned setting per searcher: median and its 95 % CI.
    Returns the (closed) figure."""
    plt = _pyplot()
    colours = searcher_colours(sorted(table["searcher"].unique()))
    curves = best_so_far(df).merge(runs[["run_id", "problem"]], on="run_id")
    problems = list(table["problem"].unique())
    fig, axes = plt.subplots(1, len(problems), figsize=(6.4 * len(problems), 4.6),
                             squeeze=False)
    goals_by = goal.set_index("problem")
    for ax, problem in zip(axes[0], problems, strict=True):
        g = {**goals_by.loc[problem].to_dict(), "problem": problem}
        _, factor = _axis(g)
        for row in table[table["problem"] == problem].itertuples():
            mine = curves[(curves["problem"] == problem) & (curves["searcher"] == row.searcher)
                          & (curves["hparams"] == row.best_hparams)]
            wide = mine.pivot_table(index="step", columns="run_id", values="best_so_far",
                                    aggfunc="first").ffill() * factor
            steps, low, high = median_band(wide.reindex(range(1, wide.index.max() + 1))
                                           .ffill().to_numpy().T)
            colour = colours[row.searcher]
            ax.plot(wide.index, wide.median(axis=1), color=colour, lw=1.6,
                    label=f"{row.searcher} ({row.seeds} seeds)")
            ax.fill_between(steps, low, high, color=colour, alpha=0.2, linewidth=0)
        ax.set_title(_title(g), fontsize=8.5)
        ax.set_xlabel("evaluations (designs evaluated)")
        ax.set_ylabel("best so far: " + _unit_label(g, units))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Best design found so far, each searcher's tuned hyper-parameters: median "
                 "over seeds (line), 95 % bootstrap CI of the median (band)", fontsize=10)
    fig.tight_layout()
    _save_atomic(fig, path)
    plt.close(fig)
    return fig


def plot_lottery(runs: pd.DataFrame, goal: pd.DataFrame, path: Path,
                 units: Mapping[str, str] = {}) -> Any:  # noqa: B006
    """Per searcher, the median final best of each hyper-parameter setting. Returns the
    (closed) figure."""
    plt = _pyplot()
    medians = runs.groupby(["problem", "searcher", "hparams"], sort=True)["final_best"] \
        .median().reset_index()
    problems = list(dict.fromkeys(medians["problem"]))
    colours = searcher_colours(sorted(medians["searcher"].unique()))
    fig, axes = plt.subplots(1, len(problems), figsize=(6.4 * len(problems), 4.6),
                             squeeze=False)
    goals_by = goal.set_index("problem")
    rng = np.random.default_rng(0)  # jitter of the points only
    for ax, problem in zip(axes[0], problems, strict=True):
        g = {**goals_by.loc[problem].to_dict(), "problem": problem}
        _, factor = _axis(g)
        mine = medians[medians["problem"] == problem]
        names = sorted(mine["searcher"].unique())
        data = [mine.loc[mine["searcher"] == n, "final_best"].dropna().to_numpy() * factor
                for n in names]
        ax.boxplot(data, showfliers=False, medianprops={"color": "black", "linewidth": 1.6},
                   boxprops={"color": "0.45"}, whiskerprops={"color": "0.45"},
                   capprops={"color": "0.45"})
        ax.set_xticks(range(1, len(names) + 1), names, rotation=30, ha="right")
        for i, (name, values) in enumerate(zip(names, data, strict=True), start=1):
            ax.scatter(i + rng.uniform(-0.12, 0.12, len(values)), values, s=16, alpha=0.8,
                       zorder=3, color=colours[name])
        ax.set_title(_title(g), fontsize=8.5)
        ax.set_ylabel("final best: " + _unit_label(g, units) + "\nmedian over seeds")
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle("Hyper-parameter lottery: one point per setting (its median over seeds); "
                 "box: quartiles over settings, black line: their median", fontsize=10)
    fig.tight_layout()
    _save_atomic(fig, path)
    plt.close(fig)
    return fig


def best_so_far(df: pd.DataFrame) -> pd.DataFrame:
    """Rows with ``best_so_far``: the running maximum of valid rewards within each run."""
    df = df.sort_values(["run_id", "step"], kind="stable")
    r = _valid_reward(df)
    return df.assign(best_so_far=r.groupby(df["run_id"]).cummax()
                     .groupby(df["run_id"]).ffill())


def _units(df: pd.DataFrame) -> dict[str, str]:
    """Metric units from the envs' specs: each env re-created once from a row's spec (an env
    that cannot be made here, e.g. a plug-in not installed, contributes none)."""
    from archgym import registry

    out: dict[str, str] = {}
    if "env_spec" not in df:
        return out
    for spec in df.drop_duplicates("env_id")["env_spec"]:
        try:
            env = registry.make_from_spec(json.loads(spec))
        except Exception:  # noqa: BLE001 - no units is better than no report
            continue
        for m in env.unwrapped.metric_specs:
            out.setdefault(m.name, m.unit)
        env.close()
    return out


# ------------------------------------------------------------------------------ report


def report(path: str | Path, target: float | Mapping[str, float] | None = None,
           out: str | Path | None = None, plots: bool = True,
           units: Mapping[str, str] | None = None, cross: bool | None = None
           ) -> dict[str, Any]:
    """Summarise the dataset at ``path``; write ``summary.csv``, ``summary.json`` and the
    PNGs to ``out`` (default ``<dataset>/report``). ``target`` is a target reward for every
    problem or a mapping problem -> target reward. ``units`` names metric units for the plots.
    ``cross`` adds the cross-environment report (:mod:`archgym.app.report_cross`: normalised
    quality, ranks, the lottery figure, ``report.html``); by default when the dataset holds
    more than one env. Returns the table, the runs, the goals, the notes, the files and (with
    ``cross``) ``result["cross"]``."""
    path = Path(path)
    df = dataset.load(path)
    df, incomplete = complete_runs(df, path) if path.is_dir() else (df, 0)
    if df.empty:
        raise FileNotFoundError(f"no complete runs in {path}")
    runs, goal = _runs_and_goals(df, target)
    table = summarize(runs)
    notes = {p: {"overlaps": overlapping(rows), "warnings": warnings_for(rows)}
             for p, rows in table.groupby("problem", sort=False)}
    out_dir = Path(out) if out is not None else (path if path.is_dir() else path.parent) \
        / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"csv": out_dir / "summary.csv", "json": out_dir / "summary.json"}
    write_text(files["csv"], table.to_csv(index=False))
    write_text(files["json"], json.dumps(summary_json(table, goal, notes, target,
                                                      incomplete), indent=1))
    if plots:
        units = dict(units) if units is not None else _units(df)
        files["curves"] = out_dir / "curves.png"
        files["lottery"] = out_dir / "lottery.png"
        figures = {"curves": plot_curves(df, runs, table, goal, files["curves"], units),
                   "lottery": plot_lottery(runs, goal, files["lottery"], units)}
    result = {"table": table, "runs": runs, "goals": goal, "notes": notes, "files": files,
              "incomplete_runs": incomplete, "target": target, "source": str(path),
              "figures": figures if plots else {}}
    if cross if cross is not None else df["env_id"].nunique() > 1:
        from archgym.app.report_cross import cross_report

        result["cross"] = cross_report(result, df, out_dir, plots=plots)
        files.update(result["cross"]["files"])
    return result


def summary_json(table: pd.DataFrame, goal: pd.DataFrame, notes: Mapping[str, Any],
                 target: Any, incomplete: int) -> dict[str, Any]:
    problems = [{**{k: v for k, v in rec.items() if k != "objective"},
                 **notes.get(rec["problem"], {})} for rec in to_records(goal)]
    return {"target": target, "incomplete_runs": incomplete, "min_seeds": MIN_SEEDS,
            "problems": problems, "table": to_records(table)}


def to_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe rows (NaN and inf become ``None``)."""
    out = []
    for rec in table.to_dict("records"):
        out.append({k: (None if isinstance(v, float) and not math.isfinite(v) else
                        (v.item() if hasattr(v, "item") else v)) for k, v in rec.items()})
    return out


# ------------------------------------------------------------------------ command line


def _fmt(v: float | None, digits: int = 3) -> str:
    """A number for a table cell: ``digits`` significant digits, or whole from 10**digits
    up."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float) and math.isinf(v):
        return "never" if v > 0 else "-inf"
    if 10 ** digits <= abs(v) < 1e7:  # whole numbers rather than 2.1e+02
        return f"{v:.0f}"
    return f"{v:.{digits}g}"


def _with_ci(r: Any, prefix: str) -> str:
    med = getattr(r, f"{prefix}_median")
    if med is None or (isinstance(med, float) and math.isnan(med)):
        return "-"
    # the interval's bounds to 2 digits: enough to read, and the table fits 80 columns
    return (f"{_fmt(med)} [{_fmt(getattr(r, f'{prefix}_ci_low'), 2)}, "
            f"{_fmt(getattr(r, f'{prefix}_ci_high'), 2)}]")


def _hparams_text(hparams: str) -> str:
    try:
        return ", ".join(f"{k}={v}" for k, v in json.loads(hparams).items())
    except (ValueError, AttributeError):
        return str(hparams)


def render(result: Mapping[str, Any], console: Any) -> None:
    """The report as text: per problem a ranking table and, where searchers had several
    settings, a lottery table; both fit 80 columns. Then the notes."""
    from rich.text import Text

    from archgym.app.console import table as ui_table

    table, goal = result["table"], result["goals"].set_index("problem")

    def new_table(*columns: str) -> Any:
        return ui_table(*columns, right=columns[1:])

    for problem, rows in table.groupby("problem", sort=False):
        g = goal.loc[problem]
        console.print(f"\n[bold]{problem}[/]", highlight=False)
        console.print(f"  reward = {g['formula']}", highlight=False)
        console.print(f"  goal: {g['goal']}", highlight=False)
        rank = new_table("searcher", "seeds", "best reward [CI]", "gap %",
                         "evals to goal [CI]", "hit")
        for r in rows.itertuples():
            rank.add_row(r.searcher, str(r.seeds), Text(_with_ci(r, "best_reward")),
                         _fmt(r.gap_pct_median), Text(_with_ci(r, "evals_to_target")),
                         f"{r.target_hit_rate:.0%}")
        console.print(rank)
        if (rows["settings"] > 1).any():
            lottery = new_table("lottery", "settings", "tuned", "all runs", "worst",
                                "tuned setting")
            lottery.columns[-1].justify = "left"
            for r in rows.itertuples():
                lottery.add_row(r.searcher, str(r.settings), _fmt(r.best_reward_median),
                                _fmt(r.all_runs_median), _fmt(r.worst_setting_median),
                                Text(_hparams_text(r.best_hparams) if r.settings > 1 else ""))
            console.print(lottery)
        note = result["notes"][problem]
        if note["overlaps"]:
            console.print("  not separated (their CIs overlap): " + ", ".join(
                f"{a} ~ {b}" for a, b in note["overlaps"]), highlight=False)
        for w in note["warnings"]:
            console.print(f"  [yellow]warning:[/] {w}", highlight=False)


def _parse_targets(items: list[str]) -> float | dict[str, float] | None:
    if not items:
        return None
    out: dict[str, float] = {}
    for item in items:
        key, sep, value = item.rpartition("=")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"--target {item!r}: expected PROBLEM=REWARD or REWARD (a "
                             "number)") from None
        if not sep:
            if len(items) > 1:
                raise ValueError("--target: a bare number applies to every problem; give "
                                 "PROBLEM=REWARD for each when there are several")
            return number
        out[key.strip()] = number
    return out


def cli(
    path: Annotated[Path, typer.Argument(help="Dataset directory or Parquet file.")],
    target: Annotated[list[str], typer.Option(
        "--target", metavar="PROBLEM=REWARD",
        help="Target reward of a problem (its label or a unique part of it, e.g. "
             "stream=25); repeatable. A bare number applies to every problem. Default: the "
             "objective's targets, else within 1 % of the best known reward.")]
    = [],  # noqa: B006
    out: Annotated[Path | None, typer.Option(
        metavar="DIR", help="Directory for the table and PNGs (default: DATASET/report).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]
    = False,
    cross: Annotated[bool | None, typer.Option(
        "--cross/--no-cross",
        help="Cross-environment report (quality normalised to the best known design, ranks "
             "across problems, the lottery figure, report.html). Default: when the dataset "
             "holds more than one env.")] = None,
) -> None:
    """Summary table (median best reward with 95 % CIs, evaluations to the goal, the
    hyper-parameter lottery) and plots of a dataset."""
    from archgym.app.console import console, user_errors

    with user_errors():
        if not path.exists():
            raise FileNotFoundError(f"dataset {path} does not exist")
        targets = _parse_targets(target)
        result = report(path, target=targets, out=out, cross=cross)
    if as_json:
        extra = {}
        if "cross" in result:
            extra = {"quality": to_records(result["cross"]["quality"]),
                     "ranks": to_records(result["cross"]["ranks"]),
                     "references": to_records(result["cross"]["references"])}
        typer.echo(json.dumps({**summary_json(result["table"], result["goals"],
                                              result["notes"], targets,
                                              result["incomplete_runs"]), **extra,
                               "files": {k: str(v) for k, v in result["files"].items()}}))
        return
    console.print(f"{path}: each searcher's tuned setting, ranked by its median best reward "
                  "over seeds, with [95 % bootstrap CI]; gap: % below the best known reward; "
                  "hit: share of seeds reaching the goal", highlight=False)
    render(result, console)
    if "cross" in result:
        from archgym.app.report_cross import render_ranks

        render_ranks(result["cross"], console)
    if result["incomplete_runs"]:
        console.print(f"left out {result['incomplete_runs']} incomplete run(s) (no sweep "
                      "completion marker)")
    console.print("wrote " + ", ".join(str(f) for f in result["files"].values()),
                  soft_wrap=True)


__all__ = ["best_so_far", "cli", "render", "report", "run_table", "searcher_colours",
           "summarize"]
