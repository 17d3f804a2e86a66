"""Progress on stderr: one line per finished sweep job when stderr is not a terminal, an ETA
from per-searcher job times (none while a searcher's time is unknown), and periodic lines for
long runs and collections."""

import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from archgym.app.cli import app
from archgym.app.progress import Eta, EvaluationProgress, JobProgress, Phases, clock

ROOT = Path(__file__).resolve().parents[1]


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def log_console():
    return Console(record=True, width=200, force_terminal=False)


def test_eta_from_per_kind_means_and_none_while_a_kind_is_unknown():
    eta = Eta(workers=2)
    assert eta.remaining([]) == 0.0
    eta.add("random", 1.0)
    eta.add("random", 3.0)
    assert eta.remaining(["random"] * 4) == pytest.approx(4 * 2.0 / 2)
    assert eta.remaining(["random", "bo"]) is None  # a slow BO job has no time yet
    eta.add("bo", 100.0)
    assert eta.remaining(["random", "bo"]) == pytest.approx((2.0 + 100.0) / 2)


def test_job_progress_prints_a_line_per_job_with_an_honest_eta():
    """Fast random jobs finish first; while BO's jobs have no time, the ETA is '?', not the
    random jobs' mean times the jobs left (the 0:00:11 at 54/144 of the issue)."""
    fake, console = FakeClock(), log_console()
    kinds = ["random"] * 3 + ["bo"] * 2
    with JobProgress("sweep x", kinds, workers=1, console=console, clock_=fake) as bar:
        for seconds in (1.0, 1.0):
            fake.t += seconds
            bar.finished("random", "random seed 0 on Toy-v0", seconds, "best reward -1.5")
        fake.t += 60.0
        bar.finished("bo", "bo seed 0 on Toy-v0", 60.0, "best reward -0.5")
    lines = console.export_text().splitlines()
    assert len(lines) == 3
    assert lines[0] == ("[1/5] random seed 0 on Toy-v0: best reward -1.5 in 1.0 s; "
                        "elapsed 0:00:01, ETA ?")
    assert lines[1].endswith("ETA ?")
    assert lines[2].startswith("[3/5] bo seed 0") and lines[2].endswith("ETA 0:01:01")
    assert clock(61.0) == "0:01:01"  # one random job (1 s) and one BO job (60 s) left


def test_evaluation_progress_lines_every_interval_rate_eta_and_quiet_when_short():
    fake, console = FakeClock(), log_console()
    with EvaluationProgress("ga on DRAM-v0", 100, console, every=10.0, clock_=fake) as bar:
        bar(0)
        for done in range(1, 51):
            fake.t += 0.5  # 2 evaluations/s
            bar(done, best=-float(100 - done))
    lines = console.export_text().splitlines()
    assert len(lines) == 3  # at 10 s, 20 s and the end (25 s)
    assert lines[0] == ("ga on DRAM-v0: 20/100 evaluations, best reward -80; elapsed 0:00:10, "
                        "2/s, ETA 0:00:40 at that rate")
    assert lines[-1].startswith("ga on DRAM-v0: 50/100 evaluations")
    quiet = log_console()
    with EvaluationProgress("short", 5, quiet, every=10.0, clock_=FakeClock()) as bar:
        for done in range(1, 6):
            bar(done)
    assert quiet.export_text() == ""


def test_phases_report_each_phase_and_its_time():
    fake, console = FakeClock(), log_console()
    say = Phases(console, clock_=fake)
    say("reading the dataset")
    fake.t += 1.5
    say("training")
    fake.t += 3.0
    say(None)
    assert console.export_text().splitlines() == [
        "reading the dataset ...", "reading the dataset: done in 1.5 s", "training ...",
        "training: done in 3.0 s"]


def test_sweep_prints_one_line_per_finished_job_when_not_on_a_terminal(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))  # the config imports tests.toy
    r = CliRunner().invoke(app, ["sweep", str(ROOT / "experiments/configs/toy_smoke.yaml"),
                                 "--workers", "1", "--out", str(tmp_path / "d"), "--json"])
    assert r.exit_code == 0, r.output
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("[")]
    assert len(lines) == 6
    pattern = (r"^\[(\d)/6\] (random|random-walk)( num_changes=\d)? seed \d on Toy-v0 "
               r"objective=latency, max_steps=50: best reward -?[\d.]+ in [\d.]+ s; "
               r"elapsed \d:\d\d:\d\d, ETA (\?|\d:\d\d:\d\d)$")
    for k, line in enumerate(lines, start=1):
        m = re.match(pattern, line)
        assert m and int(m.group(1)) == k, line
    assert lines[-1].endswith("ETA 0:00:00")


def test_collect_reports_each_chunk(tmp_path, monkeypatch):
    import tests.toy  # noqa: F401  (registers archgym/Toy-v0)

    r = CliRunner().invoke(app, ["dataset", "collect", "--env", "archgym/Toy-v0", "--n", "20",
                                 "--chunk-size", "5", "--out", str(tmp_path / "c")])
    assert r.exit_code == 0, r.output
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("collect random")]
    assert [ln.split(": ")[1].split(";")[0] for ln in lines] == [
        f"{k}/20 designs" for k in (5, 10, 15, 20)]
