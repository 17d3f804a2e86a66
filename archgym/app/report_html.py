"""The cross-environment report as one self-contained HTML page: inline CSS and a few lines
of vanilla JavaScript (tables sort by clicking a header), PNGs as base64 data URIs, so the
file opens from disk or an e-mail with no server and no network.

A URL fragment ``#sort=TABLE_ID:COLUMN[:desc]`` opens the page with that table sorted (a
shareable view; the browser test uses it to check the sorting code).
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1200px;color:#222;
 padding:0 1em;line-height:1.4}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.6em 0;font-size:.85em}
th,td{border:1px solid #ccc;padding:.25em .55em;text-align:right;white-space:nowrap}
th{background:#f0f0f0;cursor:pointer;user-select:none;white-space:normal;max-width:11em;
 vertical-align:bottom}
th.asc::after{content:" \\25B2"}th.desc::after{content:" \\25BC"}
td:first-child,th:first-child{text-align:left}
tbody tr:nth-child(even){background:#fafafa}
img{max-width:100%;height:auto;border:1px solid #eee}
.note{color:#7a4b00}.small{font-size:.85em;color:#555}
nav a{margin-right:1em}
"""

# Sort a table's body by a column: numbers by value (cells carry data-v), text otherwise;
# empty cells last. A #sort=ID:COL[:desc] fragment applies one sort when the page opens.
JS = """
function sortTable(table, col, desc) {
  const key = (row) => {
    const cell = row.cells[col];
    const raw = cell.dataset.v !== undefined ? cell.dataset.v : cell.textContent.trim();
    const num = Number(raw);
    return raw === "" ? null : (Number.isNaN(num) ? raw.toLowerCase() : num);
  };
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = key(a), y = key(b);
    if (x === null || y === null) { return (x === null) - (y === null); }
    return (x < y ? -1 : x > y ? 1 : 0) * (desc ? -1 : 1);
  });
  rows.forEach((r) => body.appendChild(r));
  Array.from(table.tHead.rows[0].cells).forEach((th, i) => {
    th.classList.toggle("asc", i === col && !desc);
    th.classList.toggle("desc", i === col && desc);
  });
}
document.querySelectorAll("table.sortable").forEach((table) => {
  Array.from(table.tHead.rows[0].cells).forEach((th, col) => {
    th.addEventListener("click", () => sortTable(table, col, th.classList.contains("asc")));
  });
});
const wanted = /^#sort=([\\w-]+):(\\d+)(:desc)?$/.exec(window.location.hash);
if (wanted && document.getElementById(wanted[1])) {
  sortTable(document.getElementById(wanted[1]), Number(wanted[2]), Boolean(wanted[3]));
}
"""


def _num(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if isinstance(v, float) and v == int(v) and abs(v) < 1e6:
        return str(int(v)) if digits == 0 else f"{v:.{digits}g}"
    return f"{v:.{digits}g}" if isinstance(v, float) else str(v)


def _cell(v: Any, text: str | None = None) -> str:
    """A table cell; numbers carry their value for sorting."""
    if isinstance(v, int | float) and not isinstance(v, bool):
        value = "" if not math.isfinite(float(v)) else repr(float(v))
        return f'<td data-v="{value}">{html.escape(text if text is not None else _num(v))}</td>'
    return f"<td>{html.escape(str(v) if text is None else text)}</td>"


def _table(table_id: str, header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "\n".join("<tr>" + "".join(r) + "</tr>" for r in rows)
    return (f'<table class="sortable" id="{table_id}"><thead><tr>{head}</tr></thead>'
            f"<tbody>\n{body}\n</tbody></table>")


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _ci_text(med: float, low: float, high: float) -> str:
    if not math.isfinite(med):
        return "-"
    return f"{med:.3f} [{low:.3f}, {high:.3f}]"


def rank_html(ranks: pd.DataFrame, problems: list[str]) -> str:
    header = ["searcher", "mean rank", "problems", "median quality", *problems]
    rows = [[_cell(r["searcher"]), _cell(r["mean_rank"], _num(r["mean_rank"])),
             _cell(int(r["problems"]), str(int(r["problems"]))),
             _cell(r["median_quality"], _num(r["median_quality"])),
             *[_cell(r[p], _num(r[p])) for p in problems]]
            for _, r in ranks.iterrows()]
    return _table("ranks", header, rows)


def quality_html(table_id: str, quality: pd.DataFrame, table: pd.DataFrame) -> str:
    merged = quality.merge(table[["problem", "searcher", "best_reward_median",
                                  "best_reward_ci_low", "best_reward_ci_high"]],
                           on=["problem", "searcher"], how="left")
    header = ["searcher", "rank", "seeds", "budget", "quality median [95 % CI]",
              "reached best", "final best reward [95 % CI]"]
    rows = [[_cell(r.searcher), _cell(r.rank, _num(r.rank)), _cell(r.seeds, str(r.seeds)),
             _cell(r.budget, str(r.budget)),
             _cell(r.quality_median, _ci_text(r.quality_median, r.quality_ci_low,
                                                r.quality_ci_high)),
             _cell(r.reached_reference, f"{r.reached_reference:.0%}"),
             _cell(r.best_reward_median, _ci_text(r.best_reward_median, r.best_reward_ci_low,
                                                  r.best_reward_ci_high))]
            for r in merged.itertuples()]
    return _table(table_id, header, rows)


def page(title: str, refs: pd.DataFrame, quality: pd.DataFrame, ranks: pd.DataFrame,
         table: pd.DataFrame, goals: pd.DataFrame, notes: Mapping[str, Any],
         curves: Mapping[str, Path], figures: Mapping[str, Path]) -> str:
    """The whole page (:mod:`archgym.app.report_cross` computes what it shows)."""
    from archgym.app.report_cross import slug
    from archgym.stats import MIN_SEEDS

    problems = sorted(quality["problem"].unique())
    formula = goals.set_index("problem")["formula"]
    parts = [f"<h1>{html.escape(title)}</h1>",
             "<p class=small>Each searcher's tuned hyper-parameters on each problem; "
             "<b>quality</b> = final best reward normalised to the problem's best known "
             "design (1 = the best known; for a minimised metric, best value / this run's "
             "value); medians over seeds with 95 % percentile-bootstrap intervals. Click a "
             "column header to sort.</p>",
             "<nav>" + "".join(f'<a href="#p-{slug(p)}">{html.escape(p)}</a>'
                               for p in problems) + "</nav>",
             "<h2>Ranks across problems</h2>",
             "<p class=small>Rank 1 = highest median quality on that problem (ties share the "
             "mean rank). Mean rank is over the problems a searcher ran on.</p>",
             rank_html(ranks, problems)]
    few = quality[quality["seeds"] < MIN_SEEDS]
    if len(few):
        low, high = int(few["seeds"].min()), int(quality["seeds"].max())
        seeds = f"{low}" if low == high else f"{low} to {high}"
        parts.append(f"<p class=note>Warning: {seeds} seeds per searcher (fewer than "
                     f"{MIN_SEEDS}): ranks may change with more seeds.</p>")
    for key, alt in (("rank_lottery", "rank of each searcher per problem"),
                     ("quality", "median normalised quality, searcher x problem")):
        if key in figures:
            parts.append(f"<figure>{_img(figures[key], alt)}</figure>")
    ref = refs.set_index("problem")
    for i, problem in enumerate(problems):
        r = ref.loc[problem]
        parts += [f'<section class="problem" id="p-{slug(problem)}">',
                  f"<h2>{html.escape(problem)}</h2>",
                  f"<p class=small>reward = {html.escape(str(formula.get(problem, '?')))}"
                  f"<br>reference (quality 1): {r['reference']:.6g}, "
                  f"{html.escape(r['reference_source'])}</p>"]
        if r["note"]:
            parts.append(f"<p class=note>{html.escape(r['note'])}</p>")
        note = notes.get(problem, {})
        if note.get("overlaps"):
            parts.append("<p class=small>Not separated (their final-reward CIs overlap): "
                         + html.escape(", ".join(f"{a} ~ {b}" for a, b in note["overlaps"]))
                         + "</p>")
        parts.append(quality_html(f"quality-{i}", quality[quality["problem"] == problem],
                                  table))
        if problem in curves:
            parts.append(f"<figure>{_img(curves[problem], 'best so far: ' + problem)}"
                         "</figure>")
        parts.append("</section>")
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head>\n<body>\n"
            f"{body}\n<script>{JS}</script>\n</body></html>\n")
