"""The archgym command: runs, prints the best design, and refuses bad input with exit 2
and nothing written."""

import json

import pytest
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
    assert "best design" in r.stdout and "latency" in r.stdout and " ns" in r.stdout


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


# ------------------------------------------------------------ what a newcomer reads


def words(text):
    """Whitespace-normalised text (rich wraps long cells at 80 columns)."""
    return " ".join(text.split())


def test_envs_id_lists_parameters_space_metrics_and_objective_formulas():
    from archgym import registry
    from archgym.objectives import formula

    r = invoke("envs", "archgym/DRAM-v0")
    assert r.exit_code == 0, r.output
    text = words(r.stdout)
    hints = registry.parameter_hints("archgym/DRAM-v0")
    for name, default in registry.env_parameters("archgym/DRAM-v0").items():
        assert f"{name} {default!r} {hints[name]}" in text, name
    assert "trace_length None an integer or null" in text
    base = registry.make("archgym/DRAM-v0").unwrapped
    for p in base.space:
        assert f"{p.name} {p.default_value()} {p.allowed()}" in text
    for m in base.metric_specs:
        better = "lower" if m.direction == "minimize" else "higher"
        assert f"{m.name} {m.unit} {better}" in text
    for name in (*base.objective_aliases, *(m.name for m in base.metric_specs)):
        assert words(formula(base.parse_objective(name))) in text, name
    assert "latency_ns (default)" in text
    assert max(len(line) for line in r.stdout.splitlines()) <= 80


def test_run_says_workload_objective_and_reward(tmp_path):
    from archgym import registry
    from archgym.objectives import formula

    args = ["run", "--env", "archgym/DRAM-v0", "--budget", "3", "--env-param",
            "trace_length=300", "--env-param", "workload=random", "--env-param",
            "objective=power", "--out", str(tmp_path / "d")]
    r = invoke(*args, "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    env = registry.make("archgym/DRAM-v0", trace_length=300, workload="random",
                        objective="power").unwrapped
    assert summary["workload"] == "random[:300]"
    assert summary["objective"] == env.objective.describe()
    assert summary["reward"] == formula(env.objective)
    assert "latency_ns" in summary["objective"]["limits"]  # the power alias's limit
    r = invoke(*args)
    text = words(r.stdout)
    assert "workload random[:300], objective power" in text
    assert words("reward = " + formula(env.objective)) in text
    assert "latency_ns" in text and " µs" in text or " ns" in text


def test_help_lists_searchers_points_to_listings_and_shows_flags_as_flags():
    import agents

    r = invoke("run", "--help")
    text = words(r.stdout)
    for name in agents.available():
        assert name in text, name
    assert "archgym envs ID lists every parameter" in text
    assert "--json Print one JSON object." in text  # a flag, no <bool>
    for command in (["run"], ["sweep"], ["report"], ["simulate", "dram"],
                    ["dataset", "collect"], ["proxy", "train"], ["replay"]):
        out = invoke(*command, "--help").stdout
        assert "<bool>" not in out and "<list[str]>" not in out, command
        assert max(len(line) for line in out.splitlines()) <= 80, command


def test_env_param_errors_name_the_parameter_and_type(tmp_path):
    r = invoke("run", "--env-param", "trace_length=abc", "--out", str(tmp_path / "x"))
    assert r.exit_code == 2
    assert "'trace_length' must be an integer or null, got 'abc'" in r.output
    assert "not supported between" not in r.output and not (tmp_path / "x").exists()


def test_sb3_writes_nothing_outside_the_run(tmp_path, monkeypatch):
    """SB3's default logger makes an empty SB3-<timestamp> folder in the temp directory on
    every learn(); the searchers give it a logger without outputs."""
    import tempfile

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    r = invoke("run", "--env", "archgym/Toy-v0", "--agent", "ppo", "--budget", "20",
               "--agent-param", "n_steps=8", "--agent-param", "batch_size=8",
               "--out", str(tmp_path / "d"))
    assert r.exit_code == 0, r.output

    def sb3_folders():
        return [p for p in temp.iterdir() if p.name.startswith("SB3-")]

    assert sb3_folders() == []
    from stable_baselines3.common.utils import configure_logger

    configure_logger(0)  # what SB3 does by default: the test can see it
    assert len(sb3_folders()) == 1


def test_cli_errors_speak_in_flags(tmp_path):
    trace = tmp_path / "t.stl"
    trace.write_text("1: read 0x40\n")
    cases = [
        (["--format", "dramsim3"], "use --format stl"),
        (["--format", "xml"], "--format 'xml': not allowed; allowed: dramsim3, stl"),
        (["--controller", "fast"],
         "--controller 'fast': not allowed; allowed: knobs, dramsim3_like"),
        (["--preset", "DDR9"], "--preset 'DDR9': not allowed"),
        (["--set", "PagePolicy=Sometimes"], "--set PagePolicy='Sometimes': not allowed"),
        (["--set", "Colour=red"], "--set: unknown knob 'Colour'"),
        (["--mapping", "rorororororo"], "--mapping 'rorororororo'"),
    ]
    for args, message in cases:
        r = invoke("simulate", "dram", "--trace", str(trace), *args)
        assert r.exit_code == 2, (args, r.output)
        assert message in r.output, (args, r.output)
        for python_words in ("pass format=", "ControllerConfig", "knob dict"):
            assert python_words not in r.output
    r = invoke("dataset", "collect", "--env", "archgym/Toy-v0", "--n", "3", "--sampler", "x",
               "--out", str(tmp_path / "c"))
    assert r.exit_code == 2 and "--sampler 'x'" in r.output


def test_simulate_text_has_units_and_sensible_precision(tmp_path):
    import re

    from workloads import dram as dram_workloads

    path = dram_workloads.trace_path("cloud")
    full = json.loads(invoke("simulate", "dram", "--trace", str(path), "--json").stdout)
    r = invoke("simulate", "dram", "--trace", str(path))
    assert r.exit_code == 0, r.output
    rows = dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in r.stdout.splitlines()
                if re.match(r"^\w[\w.]*\s{2,}\S", line))
    assert rows["avg_read_total_latency_ns"].endswith(" µs")
    assert rows["energy_pj"].endswith(" µJ") and rows["avg_power_mw"].endswith(" W")
    assert rows["energy_breakdown_pj.act_pj"].endswith("J")  # nested dicts, one row each
    assert rows["controller.PagePolicy"] == "Open"
    for key, cell in rows.items():  # no float noise: at most 4 significant digits
        number = cell.split()[0].replace(",", "")
        if re.fullmatch(r"-?\d+\.\d+", number):
            assert len(number.replace("-", "").replace(".", "").lstrip("0")) <= 4, (key, cell)
    value, unit = rows["avg_read_total_latency_ns"].split()
    assert float(value) * 1000 == pytest.approx(full["avg_read_total_latency_ns"], rel=1e-3)
    assert full["avg_read_total_latency_ns"] != round(full["avg_read_total_latency_ns"], 3)


def test_numbers_and_quantities_known_answers():
    from archgym.app.console import number, quantity

    assert quantity(17593.343999999997, "ns") == "17.59 µs"
    assert quantity(1.4958e8, "pJ") == "149.6 µJ"
    assert quantity(1544.22, "mW") == "1.544 W"
    assert quantity(614.209, "ns") == "614.2 ns"
    assert quantity(0.0, "pJ") == "0 pJ"
    assert quantity(13.2144, "GB/s") == "13.21 GB/s"
    assert number(20000) == "20,000" and number(0.99216) == "0.9922"
    assert number(3.0e9) == "3,000,000,000" and number(2.5e9 + 0.5) == "2.5e+09"
