"""The cross-environment report's HTML page, opened in headless Chromium (Debian's
``chromium``; .ci/run installs it): it renders with no console message, every environment of
the dataset appears in the rendered DOM, the rank table sorts, and it needs no network."""

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archgym.app import report, sweep
from archgym.app.cli import app

CONFIG = """
imports: [tests.toy, tests.toy_seq]
envs:
  - id: archgym/Toy-v0
    params: {objective: latency}
  - id: archgym/ToySchedule-v0
    params: {n_jobs: 6}
searchers:
  - name: random
  - name: random-walk
  - name: toy-least-loaded
seeds: 3
budget: 6
"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("headless Chromium is needed for the report page test and was not found: "
                "install Debian's package (apt-get install -y chromium; .ci/run does)")


def render(page: Path, fragment: str = "") -> tuple[str, list[str]]:
    """The DOM after scripts ran, and the console messages Chromium logged."""
    with_profile = page.parent / "chromium-profile"
    r = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={with_profile}", "--enable-logging=stderr", "--v=0",
         "--dump-dom", page.resolve().as_uri() + fragment],
        capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    console = [line for line in r.stderr.splitlines() if ":CONSOLE" in line]
    return r.stdout, console


@pytest.fixture(scope="module")
def two_envs(tmp_path_factory):
    root = tmp_path_factory.mktemp("cross")
    config = root / "two_envs.yaml"
    config.write_text(CONFIG)
    summary = sweep.run_sweep(sweep.load_config(config), workers=1, out=root / "ds")
    assert not summary["failed"]
    return root / "ds"


def test_report_page_renders_without_console_errors_with_every_env(two_envs, tmp_path):
    r = CliRunner().invoke(app, ["report", str(two_envs), "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "Across problems" in r.output and "report.html" in r.output
    page = tmp_path / "report.html"
    text = page.read_text()
    # self-contained: no external script, style, image or link target
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", text)
    assert text.count('src="data:image/png;base64,') == 2 + 2  # lottery, quality, 2 curves
    dom, console = render(page)
    assert console == [], console
    for env in ("Toy-v0", "ToySchedule-v0"):
        sections = re.findall(r'<section class="problem" id="p-([^"]+)">\s*<h2>([^<]+)',
                              dom)
        assert any(h.startswith(env + " ") for _, h in sections), (env, sections)
    # the rank table names every searcher that ran, with the policy on one problem only
    names = rank_rows(dom)
    assert sorted(names) == ["random", "random-walk", "toy-least-loaded"]


def rank_rows(dom: str) -> list[str]:
    body = re.search(r'<table class="sortable" id="ranks">.*?<tbody>(.*?)</tbody>', dom,
                     re.S).group(1)
    return [html.unescape(m) for m in re.findall(r"<tr><td>([^<]*)</td>", body)]


def test_report_page_tables_sort(two_envs, tmp_path):
    result = report.report(two_envs, out=tmp_path, plots=False, cross=True)
    page = result["files"]["html"]
    ranks = result["cross"]["ranks"]
    by_name, _ = render(page, "#sort=ranks:0")
    assert rank_rows(by_name) == sorted(ranks["searcher"])
    by_name_desc, console = render(page, "#sort=ranks:0:desc")
    assert rank_rows(by_name_desc) == sorted(ranks["searcher"], reverse=True)
    assert console == []
    # numbers sort by value, not as text ("-0.5" < "-1.2" as text): each problem's final
    # best rewards, column 6
    for i in range(2):
        values = column_values(render(page, f"#sort=quality-{i}:6")[0], f"quality-{i}", 6)
        assert len(values) >= 2 and values == sorted(values)
        desc = column_values(render(page, f"#sort=quality-{i}:6:desc")[0], f"quality-{i}", 6)
        assert desc == sorted(values, reverse=True)
    assert 'class="desc"' in render(page, "#sort=ranks:1:desc")[0]


def column_values(dom: str, table_id: str, col: int) -> list[float]:
    body = re.search(rf'<table class="sortable" id="{table_id}">.*?<tbody>(.*?)</tbody>',
                     dom, re.S).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [float(re.findall(r"<td[^>]*?(?: data-v=\"([^\"]*)\")?>", r)[col]) for r in rows]
