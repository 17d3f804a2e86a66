"""The README's commands, run as written, so that they cannot drift from the code.

Every fenced ``bash`` command and ``python`` block of README.md is extracted (continuation
lines joined, comments dropped) and run with the words ``bash`` would pass (``shlex``) in a
scratch directory where ``workloads`` is the repository's: ``archgym ...`` through its typer
app and ``python -c CODE`` as CODE, in this process (a fresh interpreter per command would
cost more than most commands). Two commands are not run here: the install (CI runs it
verbatim from ``.ci/run``, which a test below compares with the README) and the test suite
itself. To keep the suite fast, the expensive ones run with smaller numbers
(:data:`CHEAPER`, each fragment checked to be in the README) and the lottery sweep on a
shrunk copy of its config (its first env, every searcher with one setting, 1 seed, 4
evaluations), after a ``--dry-run`` of the real one. Every other character runs as the README
prints it, and the files it says a command writes must exist.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
#: commands not run here, and why
NOT_RUN = {
    "python3 -m venv": "the install: .ci/run runs it verbatim (test_setup_is_what_ci_runs)",
    ". .venv/bin/activate && python -m pytest": "the test suite itself",
}
#: expensive numbers -> what the test runs instead (nothing else is changed)
CHEAPER = {"--budget 30": "--budget 12", "--n 2000": "--n 60"}
LOTTERY = "experiments/configs/dram_lottery.yaml"


def fenced(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.M | re.S)


def _uncomment(line: str) -> str:
    """``line`` without a ``#`` comment (a ``#`` after a blank, outside quotes)."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def commands(block: str) -> list[str]:
    """The commands of a bash block: continuations joined, comments and blank lines gone."""
    out: list[str] = []
    pending = ""
    for raw in block.splitlines():
        line = _uncomment(raw)
        if not line.strip():
            continue
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        out.append((pending + line).strip())
        pending = ""
    return [re.sub(r"\s+", " ", c) if not c.startswith("python -c") else c for c in out]


ALL = [c for block in fenced("bash") for c in commands(block)]


def test_the_readme_has_the_commands_this_test_expects():
    assert any(c.startswith("python3 -m venv") for c in ALL)
    assert any("simulate dram --trace workloads/dram/traces/" in c for c in ALL)
    for fragment in (*CHEAPER, LOTTERY, "cost_model='multi-fidelity', proxy="):
        assert fragment in README, fragment
    assert "runs/lottery/report/" in README  # where the report's files are


def test_setup_is_what_ci_runs():
    """The two set-up commands are .ci/run's, character for character."""
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    setup = commands(fenced("bash")[0]) + commands(fenced("bash")[1])
    assert len(setup) == 2
    for command in setup:
        assert command in ci, command
    assert "--index-url https://download.pytorch.org/whl/cpu" in setup[0]


@pytest.fixture()
def scratch(tmp_path, monkeypatch):
    """A working directory with the repository's data and a shrunk lottery config."""
    (tmp_path / "workloads").symlink_to(ROOT / "workloads")
    configs = tmp_path / "experiments" / "configs"
    configs.mkdir(parents=True)
    config = yaml.safe_load((ROOT / LOTTERY).read_text())
    config.update(envs=config["envs"][:1], seeds=1, budget=4)
    for s in config["searchers"]:
        s["grid"] = {k: v[:1] for k, v in s.get("grid", {}).items()}
    (configs / "dram_lottery.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(command: str, capsys) -> str:
    """Run one README command in this process (``archgym ...`` through its typer app,
    ``python -c CODE`` as CODE) and return what it printed."""
    from typer.testing import CliRunner

    from archgym.app.cli import app

    words = shlex.split(command)
    if words[0] == "archgym":
        r = CliRunner().invoke(app, words[1:])
        assert r.exit_code == 0, f"{command}\n{r.output[-4000:]}"
        return r.stdout
    assert words[:2] == ["python", "-c"], command
    exec(compile(words[2], "<README.md>", "exec"), {"__name__": "__main__"})  # noqa: S102
    return capsys.readouterr().out


def cheaper(command: str) -> str:
    for fragment, instead in CHEAPER.items():
        command = command.replace(fragment, instead)
    return command


def test_every_readme_command_runs_as_written(scratch, capsys):
    ran = []
    for command in ALL:
        if any(command.startswith(prefix) for prefix in NOT_RUN):
            continue
        if command.startswith("archgym sweep " + LOTTERY):  # the real config, checked only
            real = command.replace(LOTTERY, str(ROOT / LOTTERY))
            assert json.loads(run(real + " --dry-run --json", capsys))["jobs"] >= 30
        out = run(cheaper(command), capsys)
        ran.append(command)
        if command.startswith("archgym simulate dram"):
            assert "avg_read_latency_ns" in out and " µs" in out
    assert len(ran) >= 12
    # the files the README says these commands write
    for name in ("summary.csv", "summary.json", "curves.png", "lottery.png"):
        assert (scratch / "runs" / "lottery" / "report" / name).is_file(), name
    assert (scratch / "runs" / "rf.proxy" / "meta.json").is_file()
    for out in ("rw", "bo", "data"):
        assert list((scratch / "runs" / out).glob("part-*.parquet")), out


def test_the_python_quickstart_runs(scratch, capsys):
    (block,) = fenced("python")
    exec(compile(block, "<README.md>", "exec"), {"__name__": "__main__"})  # noqa: S102
    assert "latency_ns" in capsys.readouterr().out
