"""The archgym command: runs, prints the best design, and refuses bad input with exit 2
and nothing written."""

import json

from typer.testing import CliRunner

from archgym import dataset
from archgym.app.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def test_run_json_logs_and_reports_best(tmp_path):
    out = tmp_path / "ds"
    r = invoke("run", "--env", "archgym/Toy-v0", "--agent", "random-walk", "--budget", "15",
               "--seed", "2", "--out", str(out), "--agent-param", "num_changes=2",
               "--env-param", "max_steps=5", "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    df = dataset.load(out)
    assert summary["evaluations"] == len(df) == 15
    assert summary["hparams"]["num_changes"] == 2
    best = df.loc[df["reward"].idxmax()]
    assert summary["best_reward"] == best["reward"]
    assert summary["best_config"]["size_kb"] == best["param_size_kb"]


def test_run_human_output(tmp_path):
    r = invoke("run", "--env", "archgym/Toy-v0", "--budget", "5", "--out", str(tmp_path / "d"))
    assert r.exit_code == 0, r.output
    assert "best design" in r.stdout and "latency (ns)" in r.stdout


def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "never"
    cases = [
        (["--env", "archgym/Nope-v0"], "unknown environment"),
        (["--env", "archgym/Toy-v0", "--agent", "nope"], "unknown searcher"),
        (["--env", "archgym/Toy-v0", "--agent-param", "bogus=1"], "no hyper-parameter"),
        (["--env", "archgym/Toy-v0", "--env-param", "bogus=1"], "no parameter 'bogus'"),
        (["--env", "archgym/Toy-v0", "--env-param", "objective=area"], "area"),
        (["--env", "archgym/Toy-v0", "--agent-param", "novalue"], "key=value"),
    ]
    for args, message in cases:
        r = invoke("run", *args, "--out", str(out), "--budget", "3")
        assert r.exit_code == 2, (args, r.output)
        assert message in r.output, (args, r.output)
        assert "Traceback" not in r.output
        assert not out.exists()


def test_envs_and_agents_list():
    r = invoke("envs")
    assert r.exit_code == 0 and "archgym/Toy-v0" in r.stdout
    r = invoke("agents")
    assert r.exit_code == 0 and "random-walk" in r.stdout and "num_changes" in r.stdout
