"""One report across environments: how good each searcher's final design is on every problem
of a dataset, relative to the best design known there, and how the searchers' ranking moves
from one problem to the next (issue 17).

Definitions (on top of :mod:`archgym.app.report`'s problems, runs and tuned settings):

- a problem's *reference* is the best reward known for it: the env's own
  :meth:`~archgym.contract.EnvBase.best_known` (a proven optimum, e.g. MemoryMapping-v0's
  minimum-time placement) when it has one, else (or when a run did better, which the report
  flags for a proven one) the best final reward of any run in the dataset;
- a run's *normalised quality* is its final best reward ``f`` against the reference ``b``:
  ``f / b`` when ``b > 0`` (a maximised metric: the share of the best throughput reached) and
  ``b / f`` when ``b < 0`` (a minimised metric, reward ``-metric / scale``: best latency over
  this run's latency), so 1 is the reference and 0.5 is "half as good" for every env's
  ``min:``/``max:`` objective, limits included (a design breaking a limit scores lower). With
  ``b == 0`` it is undefined (NaN). For target and weighted-sum rewards it is the same ratio
  of rewards, which is monotone but has no unit;
- per problem and searcher (its tuned setting's seeds): the median quality with a 95 %
  bootstrap CI (:func:`archgym.stats.median_ci`), the share of seeds that reached the
  reference, and the searcher's *rank* among the problem's searchers by median quality (1 is
  best; equal medians share the mean of their ranks);
- the *rank table*: per searcher, its rank on each problem, the mean over the problems it ran
  on (a searcher that runs on fewer problems, e.g. an env's own policy, is compared on those
  only: the count is given) and its median quality over problems. Searchers are sorted by
  mean rank;
- the *lottery figure*: each searcher's rank (y, 1 on top) on each problem (x), one line per
  searcher: crossing lines are the "lottery" of which searcher wins depends on the problem.

Plots (PNG): ``curves_<problem>.png`` (one per problem: the normalised quality of the best
design so far against evaluations, per searcher the median over seeds and the seeds'
interquartile range), ``quality.png`` (median quality, searcher x problem) and ``rank_lottery.png``;
``report.html`` holds the tables and the PNGs (:mod:`archgym.app.report_html`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from archgym.contract import BestKnown
from archgym.stats import median_ci

#: quality at or above this counts as "reached the reference" (float round-off)
REACHED = 1 - 1e-9


def normalised_quality(final_best: Any, reference: Any) -> np.ndarray:
    """``f / b`` where ``b > 0``, ``b / f`` where ``b < 0``, NaN where ``b == 0`` or either is
    missing (module docstring). Works elementwise on arrays."""
    f = np.asarray(final_best, dtype=float)
    b = np.broadcast_to(np.asarray(reference, dtype=float), f.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(b > 0, f / b, np.where(b < 0, b / f, np.nan))
    return np.where(np.isfinite(f) & np.isfinite(b), q, np.nan)


def env_best_known(df: pd.DataFrame, labels: Mapping[tuple, str]) -> dict[str, BestKnown]:
    """Problem label -> the env's :class:`BestKnown`, re-creating each problem's env once
    from a row's spec (an env that cannot be made here, e.g. a plug-in not installed, or
    that knows none, is left out)."""
    from archgym import registry

    out: dict[str, BestKnown] = {}
    if "env_spec" not in df:
        return out
    first = df.drop_duplicates(["env_id", "workload", "objective"])
    for key, spec in zip(first[["env_id", "workload", "objective"]].itertuples(
            index=False, name=None), first["env_spec"], strict=True):
        try:
            spec = {k: v for k, v in json.loads(spec).items() if k != "view"}
            env = registry.make_from_spec(spec)
            try:
                known = env.unwrapped.best_known()
            finally:
                env.close()
        except Exception:  # noqa: BLE001 - no reference from the env: the dataset's best
            continue
        if isinstance(known, BestKnown) and math.isfinite(known.reward):
            out[labels[key]] = known
    return out


def references(runs: pd.DataFrame, known: Mapping[str, BestKnown]) -> pd.DataFrame:
    """Per problem: the best final reward seen, the env's best known, the reference and where
    it comes from, and a note when a run beat a proven optimum (a bug to look at)."""
    rows = []
    for problem, g in runs.groupby("problem", sort=True):
        seen = float(g["final_best"].max())
        env = known.get(problem)
        note = ""
        if env is None or not seen <= env.reward:
            ref, source = seen, "best final reward in this dataset"
            if env is not None:
                source += f" (above the env's {env.source}: {env.reward:.6g})"
                if env.proven and seen > env.reward + 1e-9 * abs(env.reward):
                    note = (f"a run scored {seen:.6g}, above the proven optimum "
                            f"{env.reward:.6g}: the env's optimum or its cost model is wrong")
        else:
            ref = env.reward
            source = ("proven optimum: " if env.proven else "env's best known: ") + env.source
        rows.append({"problem": problem, "env_id": g["env_id"].iloc[0], "best_seen": seen,
                     "reference": ref, "reference_source": source,
                     "proven": bool(env is not None and env.proven and ref == env.reward),
                     "note": note})
    return pd.DataFrame(rows)


def quality_table(runs: pd.DataFrame, table: pd.DataFrame, refs: pd.DataFrame
                  ) -> pd.DataFrame:
    """Per problem x searcher (tuned setting, as in ``table``): median normalised quality
    with its 95 % CI, the share of seeds reaching the reference, and the rank."""
    ref = refs.set_index("problem")["reference"]
    rows = []
    for r in table.itertuples():
        mine = runs[(runs["problem"] == r.problem) & (runs["searcher"] == r.searcher)
                    & (runs["hparams"] == r.best_hparams)]
        q = normalised_quality(mine["final_best"], ref[r.problem])
        finite = q[np.isfinite(q)]
        ci = median_ci(finite) if finite.size else None
        rows.append({"problem": r.problem, "env_id": mine["env_id"].iloc[0],
                     "searcher": r.searcher, "seeds": int(mine["seed"].nunique()),
                     "budget": int(mine["evaluations"].max()),
                     "quality_median": ci.median if ci else math.nan,
                     "quality_ci_low": ci.low if ci else math.nan,
                     "quality_ci_high": ci.high if ci else math.nan,
                     "reached_reference": float((finite >= REACHED).mean()) if finite.size
                     else 0.0})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["rank"] = out.groupby("problem")["quality_median"].rank(ascending=False,
                                                                method="average")
    return out.sort_values(["problem", "rank", "searcher"], kind="stable") \
        .reset_index(drop=True)


def rank_table(quality: pd.DataFrame) -> pd.DataFrame:
    """Per searcher: mean rank over the problems it ran on, how many, its median quality over
    them, and its rank on each problem (one column per problem; NaN where it did not run)."""
    ranks = quality.pivot(index="searcher", columns="problem", values="rank")
    out = pd.DataFrame({
        "mean_rank": ranks.mean(axis=1),
        "problems": ranks.notna().sum(axis=1),
        "median_quality": quality.groupby("searcher")["quality_median"].median(),
    }).join(ranks)
    out = out.reset_index().sort_values(["mean_rank", "searcher"], kind="stable")
    return out.reset_index(drop=True)


def render_ranks(cross: Mapping[str, Any], console: Any) -> None:
    """The rank table as text: mean rank, problems, median quality (problems are numbered
    P1, P2, ... to fit 80 columns, their ranks follow; the HTML page names them)."""
    from archgym.app.console import table as ui_table

    ranks = cross["ranks"]
    problems = [c for c in ranks.columns if c not in ("searcher", "mean_rank", "problems",
                                                      "median_quality")]
    console.print("\n[bold]Across problems[/]: rank by median quality normalised to the "
                  "best known design (1 = best)", highlight=False)
    for i, (p, ref) in enumerate(zip(problems, cross["references"].set_index("problem")
                                     .loc[problems, "reference_source"], strict=True), 1):
        console.print(f"  P{i}: {p} (reference: {ref})", highlight=False, soft_wrap=True)
    columns = ["searcher", "mean rank", "probs", "quality",
               *[f"P{i}" for i in range(1, len(problems) + 1)]]
    out = ui_table(*columns, right=columns[1:])
    for _, r in ranks.iterrows():
        out.add_row(r["searcher"], f"{r['mean_rank']:.2f}", str(int(r["problems"])),
                    f"{r['median_quality']:.3f}",
                    *["-" if not math.isfinite(r[p]) else f"{r[p]:g}" for p in problems])
    console.print(out)


def slug(problem: str) -> str:
    """A file-name-safe form of a problem label."""
    return re.sub(r"[^A-Za-z0-9.]+", "_", problem).strip("_")


# ------------------------------------------------------------------------------- plots


def plot_quality_curves(so_far: pd.DataFrame, table: pd.DataFrame, refs: pd.DataFrame,
                        path: Path) -> None:
    """One problem: normalised quality of the best design so far against evaluations, per
    searcher's tuned setting: median over seeds (line) and the seeds' interquartile range
    (band)."""
    from archgym.app.report import _pyplot, _save_atomic, searcher_colours

    plt = _pyplot()
    problem = table["problem"].iloc[0]
    ref = refs.set_index("problem").loc[problem]
    colours = searcher_colours(sorted(table["searcher"]))
    fig, ax = plt.subplots(figsize=(7.2, 4.4))
    for r in table.itertuples():
        mine = so_far[(so_far["searcher"] == r.searcher) & (so_far["hparams"] == r.best_hparams)]
        wide = mine.pivot_table(index="step", columns="run_id", values="best_so_far",
                                aggfunc="first")
        wide = wide.reindex(range(1, int(wide.index.max()) + 1)).ffill()
        q = pd.DataFrame(normalised_quality(wide.to_numpy(), ref["reference"]),
                         index=wide.index)
        colour = colours[r.searcher]
        ax.plot(q.index, q.median(axis=1), color=colour, lw=1.6,
                label=f"{r.searcher} ({q.shape[1]} seeds)")
        ax.fill_between(q.index, q.quantile(0.25, axis=1), q.quantile(0.75, axis=1),
                        color=colour, alpha=0.15, linewidth=0)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("evaluations (designs evaluated)")
    ax.set_ylabel("quality of the best design so far\n(1 = reference)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.set_title(f"{problem}: median over seeds (line), interquartile range (band)\n"
                 f"reference: {_wrap(ref['reference_source'], 80)}", fontsize=8.5)
    fig.tight_layout()
    _save_atomic(fig, path)
    plt.close(fig)


def plot_quality(quality: pd.DataFrame, ranks: pd.DataFrame, path: Path) -> None:
    """Heat map of median normalised quality: searchers (rows, by mean rank) x problems."""
    from archgym.app.report import _pyplot, _save_atomic

    plt = _pyplot()
    grid = quality.pivot(index="searcher", columns="problem", values="quality_median") \
        .reindex(ranks["searcher"])
    fig, ax = plt.subplots(figsize=(1.6 + 1.5 * grid.shape[1], 0.9 + 0.38 * grid.shape[0]))
    image = ax.imshow(np.clip(grid.to_numpy(dtype=float), 0, 1), vmin=0, vmax=1,
                      cmap="viridis", aspect="auto")
    for (i, j), v in np.ndenumerate(grid.to_numpy(dtype=float)):
        if math.isfinite(v):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8,
                    color="black" if v > 0.6 else "white")
    ax.set_xticks(range(grid.shape[1]), [_wrap(p) for p in grid.columns], fontsize=8)
    ax.set_yticks(range(grid.shape[0]), grid.index, fontsize=8)
    fig.colorbar(image, ax=ax, label="median quality (1 = best known design)")
    ax.set_title("Final quality normalised to the best known design, median over seeds",
                 fontsize=10)
    fig.tight_layout()
    _save_atomic(fig, path)
    plt.close(fig)


def plot_rank_lottery(quality: pd.DataFrame, ranks: pd.DataFrame, path: Path) -> None:
    """Each searcher's rank on each problem, one line per searcher (1 on top)."""
    from archgym.app.report import _pyplot, _save_atomic, searcher_colours

    plt = _pyplot()
    problems = sorted(quality["problem"].unique())
    colours = searcher_colours(list(ranks["searcher"]))
    fig, ax = plt.subplots(figsize=(2.0 + 1.9 * len(problems), 5.2))
    for name in ranks["searcher"]:
        mine = quality[quality["searcher"] == name].set_index("problem")["rank"] \
            .reindex(problems)
        x = np.arange(len(problems))
        ax.plot(x, mine.to_numpy(dtype=float), marker="o", lw=1.6, color=colours[name],
                label=name)
    ax.set_xticks(range(len(problems)), [_wrap(p) for p in problems], fontsize=8)
    ax.invert_yaxis()
    ax.set_ylabel("rank by median normalised quality (1 = best)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.set_title("The lottery: each searcher's rank from one problem to the next",
                 fontsize=10)
    fig.tight_layout()
    _save_atomic(fig, path)
    plt.close(fig)


def _wrap(text: str, width: int = 16) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False))


# ------------------------------------------------------------------------------ report


def cross_report(result: Mapping[str, Any], df: pd.DataFrame, out_dir: Path,
                 plots: bool = True, known: Mapping[str, BestKnown] | None = None
                 ) -> dict[str, Any]:
    """The cross-environment part of :func:`archgym.app.report.report`'s ``result`` (its
    runs, table and goals over ``df``): references, quality, ranks, PNGs and ``report.html``
    in ``out_dir``. ``known`` replaces the envs' own best-known values (tests)."""
    from archgym.app import report as single
    from archgym.app import report_html
    from archgym.io import write_text

    runs, table, goal = result["runs"], result["table"], result["goals"]
    if known is None:
        known = env_best_known(df, single.problem_labels(df))
    refs = references(runs, known)
    quality = quality_table(runs, table, refs)
    ranks = rank_table(quality)
    files: dict[str, Path] = {}
    images: dict[str, Path] = {}
    if plots:
        so_far = single.best_so_far(df).merge(runs[["run_id", "problem"]], on="run_id")
        for problem in sorted(table["problem"].unique()):
            path = out_dir / f"curves_{slug(problem)}.png"
            plot_quality_curves(so_far[so_far["problem"] == problem],
                                table[table["problem"] == problem], refs, path)
            images[problem] = path
        files["quality"] = out_dir / "quality.png"
        files["rank_lottery"] = out_dir / "rank_lottery.png"
        plot_quality(quality, ranks, files["quality"])
        plot_rank_lottery(quality, ranks, files["rank_lottery"])
    files["quality_csv"] = out_dir / "quality.csv"
    files["ranks_csv"] = out_dir / "ranks.csv"
    write_text(files["quality_csv"], quality.to_csv(index=False))
    write_text(files["ranks_csv"], ranks.to_csv(index=False))
    files["html"] = out_dir / "report.html"
    write_text(files["html"], report_html.page(
        title=f"ArchGym report: {result.get('source', '')}".rstrip(": "),
        refs=refs, quality=quality, ranks=ranks, table=table, goals=goal,
        notes=result.get("notes", {}), curves=images,
        figures={k: files[k] for k in ("rank_lottery", "quality") if k in files}))
    return {"references": refs, "quality": quality, "ranks": ranks,
            "files": {**files, **{f"curves {p}": f for p, f in images.items()}}}


__all__ = ["cross_report", "env_best_known", "normalised_quality", "quality_table",
           "rank_table", "references"]
