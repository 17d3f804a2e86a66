"""``archgym simulate soc``: one task graph scheduled statically, a job stream on a SoC, or a
DS3 configuration in ``ds3_compat`` mode.

Three modes, chosen by the input given (exactly one):

- ``--graph FILE.json --scheduler NAME [--time-limit S]``: a static schedule
  (:func:`simulators.soc.cli_api.static_json`), checked by the independent checker;
- ``--soc CONFIG --workload NAME --jobs N [--rate R]``: the exact dynamic simulator
  (:func:`~simulators.soc.cli_api.dynamic_json`);
- ``--ds3-config FILE.ini``: DS3's own files (:func:`~simulators.soc.cli_api.ds3_json`).

The work is done by the pure functions of :mod:`simulators.soc.cli_api`; this module only
checks the command line (every flag against the mode it belongs to) and prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from archgym.app.console import JsonFlag, console, fail, number, quantity, table, user_errors

#: the flags each mode takes besides --scheduler, --seed and --json
MODE_FLAGS = {"--graph": ("--time-limit",),
              "--soc": ("--workload", "--jobs", "--rate", "--warmup-us"),
              "--ds3-config": ()}


def command(
    graph: Annotated[Path | None, typer.Option(
        help="A task graph (archgym-soc-dag/1 JSON) to schedule statically.")] = None,
    soc: Annotated[str | None, typer.Option(
        help="Dynamic mode: a SoC (archgym-soc/1 JSON) or a shipped one (ds3_reference, "
             "ds3_heft_example).")] = None,
    ds3_config: Annotated[Path | None, typer.Option(
        "--ds3-config", help="A DS3 config_file.ini, run in ds3_compat mode.")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="--graph: heft (default), heft_noins, cpop, peft, etf, mct, met, minmin, maxmin, "
             "random, optimal; --soc: heft (default), met, mct, etf, peft; --ds3-config: "
             "the ini's (default) or MET, EFT, STF, ETF, ETF_LB, CPU_only, HEFT_RT.")] = None,
    workload: Annotated[str | None, typer.Option(
        help="--soc: an application mix (wifi, radar, ds3_mix or one application).")] = None,
    jobs: Annotated[int | None, typer.Option(help="--soc: jobs to inject.")] = None,
    rate: Annotated[float | None, typer.Option(
        help="--soc: Poisson arrival rate, jobs per ms (default 2).")] = None,
    warmup_us: Annotated[float | None, typer.Option(
        "--warmup-us", help="--soc: jobs arriving before this time (us) are left out of the "
                            "latency statistics (default 0).")] = None,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", help="--scheduler optimal: solver time limit in seconds (default "
                             "10).")] = None,
    seed: Annotated[int | None, typer.Option(
        help="--graph: the random/optimal scheduler's seed; --soc: the arrivals' seed "
             "(default 0); --ds3-config: run one iteration with this seed.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Schedule a task graph (--graph), stream jobs onto a SoC (--soc) or run a DS3
    configuration (--ds3-config)."""
    given = {"--graph": graph, "--soc": soc, "--ds3-config": ds3_config}
    modes = [flag for flag, v in given.items() if v is not None]
    if len(modes) != 1:
        fail(("conflicting modes: " + " and ".join(modes) if modes else "no input") +
             "; give exactly one of --graph FILE.json, --soc CONFIG (with --workload and "
             "--jobs) and --ds3-config FILE.ini")
    mode = modes[0]
    options = {"--time-limit": time_limit, "--workload": workload, "--jobs": jobs,
               "--rate": rate, "--warmup-us": warmup_us}
    stray = [f for f, v in options.items() if v is not None and f not in MODE_FLAGS[mode]]
    if stray:
        fail(f"{', '.join(stray)} does not apply to {mode}; {mode} takes "
             f"{', '.join(MODE_FLAGS[mode]) or 'no other option'} besides --scheduler, "
             "--seed and --json")
    with user_errors():
        if mode == "--graph":
            out = _static(graph, scheduler, time_limit, seed)
        elif mode == "--soc":
            out = _dynamic(soc, workload, jobs, rate, scheduler, seed, warmup_us)
        else:
            out = _ds3(ds3_config, scheduler, seed)
    if as_json:
        typer.echo(json.dumps(out))
    elif mode == "--graph":
        show_static(out, graph)
    elif mode == "--soc":
        show_dynamic(out)
    else:
        show_ds3(out)


def _check_file(flag: str, path: Path) -> None:
    if not path.is_file():
        fail(f"{flag} {str(path)!r}: no such file")


def _static(graph: Path, scheduler: str | None, time_limit: float | None,
            seed: int | None) -> dict[str, Any]:
    from simulators.soc.cli_api import static_json
    from simulators.soc.static import SCHEDULERS, canonical_name

    _check_file("--graph", graph)
    name = scheduler or "heft"
    try:
        name = canonical_name(name)
    except ValueError:
        fail(f"--scheduler {name!r}: not a static scheduler; allowed with --graph: "
             f"{', '.join(SCHEDULERS)}")
    if time_limit is not None and name != "optimal":
        fail("--time-limit applies to --scheduler optimal only")
    if time_limit is not None and not time_limit > 0:
        fail(f"--time-limit {time_limit!r}: expected a positive number of seconds")
    return static_json(graph, name, time_limit, 0 if seed is None else seed)


def _dynamic(soc: str, workload: str | None, jobs: int | None, rate: float | None,
             scheduler: str | None, seed: int | None, warmup_us: float | None
             ) -> dict[str, Any]:
    from simulators.soc.cli_api import DEFAULT_DYNAMIC_SCHEDULER, DEFAULT_RATE_PER_MS, dynamic_json
    from simulators.soc.policies import DYNAMIC_SCHEDULERS
    from workloads.soc import MIXES, load_workload, resolve_soc

    missing = [f for f, v in (("--workload", workload), ("--jobs", jobs)) if v is None]
    if missing:
        fail(f"--soc needs {' and '.join(missing)} (--workload: {', '.join(MIXES)}; --jobs: "
             "an integer >= 1)")
    name = (scheduler or DEFAULT_DYNAMIC_SCHEDULER).strip().lower()
    if name not in DYNAMIC_SCHEDULERS:
        fail(f"--scheduler {scheduler!r}: not a dynamic scheduler; allowed with --soc: "
             f"{', '.join(DYNAMIC_SCHEDULERS)}")
    if jobs is not None and jobs < 1:
        fail(f"--jobs {jobs}: expected an integer >= 1")
    if rate is not None and not rate > 0:
        fail(f"--rate {rate!r}: expected a positive number of jobs per ms")
    if warmup_us is not None and not warmup_us >= 0:
        fail(f"--warmup-us {warmup_us!r}: expected a number >= 0")
    if workload not in MIXES:
        fail(f"--workload {workload!r}: unknown; allowed: {', '.join(MIXES)}")
    return dynamic_json(resolve_soc(soc), load_workload(workload), jobs,
                        DEFAULT_RATE_PER_MS if rate is None else rate, name,
                        0 if seed is None else seed, warmup_us or 0.0)


def _ds3(ini: Path, scheduler: str | None, seed: int | None) -> dict[str, Any]:
    from simulators.soc.cli_api import ds3_json
    from simulators.soc.ds3_compat import DS3_SCHEDULERS, canonical_ds3_scheduler

    _check_file("--ds3-config", ini)
    if scheduler is not None:
        try:
            scheduler = canonical_ds3_scheduler(scheduler)
        except ValueError as e:
            why = str(e) if scheduler.strip().upper() == "CP" else "not a DS3 scheduler"
            fail(f"--scheduler {scheduler!r}: {why}; allowed with --ds3-config: "
                 f"{', '.join(DS3_SCHEDULERS)}")
    return ds3_json(ini, scheduler, seed)


def _us(x: float) -> str:
    return quantity(x, "us")


def show_static(out: dict[str, Any], graph: Path) -> None:
    from simulators.soc.graph import read_graph

    g = read_graph(graph)
    console.print(f"[bold]{out['graph']}[/]: {out['num_tasks']} tasks on {out['num_procs']} "
                  f"processors, scheduled by {out['scheduler']}", highlight=False)
    summary = table("result", "value", right=("value",))
    summary.add_row("makespan", number(out["makespan"]))
    summary.add_row("valid (independent checker)", "yes" if out["valid"] else
                    "NO: " + "; ".join(out["violations"][:3]))
    if "proven_optimal" in out:
        summary.add_row("proven optimal", "yes" if out["proven_optimal"] else
                        f"no ({out['status']}, {number(out['time_limit'])} s limit)")
        summary.add_row("lower bound", number(out["lower_bound"]))
    console.print(summary)
    rows = table("task", "processor", "start", "finish", title="schedule",
                 right=("start", "finish"))
    for k, (p, s, f) in enumerate(out["schedule"]):
        rows.add_row(f"{k} {g.tasks[k]}", f"{p} {g.processors[p]}", number(s), number(f))
    console.print(rows)


def show_dynamic(out: dict[str, Any]) -> None:
    console.print(f"[bold]{out['workload']}[/] on {out['soc']}: {out['jobs']} jobs, "
                  f"{number(out['rate_jobs_per_ms'])} jobs/ms (seed {out['seed']}), "
                  f"scheduler {out['scheduler']}, exact event-driven", highlight=False)
    area = out["area_mm2"]
    summary = table("metric", "value", right=("value",))
    for name, value in (
            ("completed jobs", number(out["completed_jobs"])),
            ("mean job latency", _us(out["mean_job_latency_us"])),
            ("p95 job latency", _us(out["p95_job_latency_us"])),
            ("throughput", f"{number(out['throughput_jobs_per_ms'])} jobs/ms"),
            ("energy", quantity(out["energy_uj"], "uJ")),
            ("energy per job", quantity(out["energy_per_job_uj"], "uJ")),
            ("EDP (energy per job x mean latency)", f"{number(out['edp_uj_us'])} uJ us"),
            ("mean PE utilisation", f"{number(100 * out['mean_pe_utilisation'])} %"),
            ("area", "n/a" if area is None else f"{number(area)} mm^2"),
            ("makespan", _us(out["makespan_us"])),
            ("tasks", number(out["tasks"]))):
        summary.add_row(name, value)
    console.print(summary)
    util = table("PE", "utilisation", title="PE utilisation", right=("utilisation",))
    for pe, u in out["pe_utilisation"].items():
        util.add_row(pe, f"{number(100 * u)} %")
    console.print(util)


def show_ds3(out: dict[str, Any]) -> None:
    console.print(f"[bold]{out['config']}[/]: DS3 {out['simulation_mode']} mode, scheduler "
                  f"{out['scheduler']}, ds3_compat", highlight=False)
    summary = table("result", "value", right=("value",))
    summary.add_row("mean job latency", _us(out["mean_job_latency_us"]))
    summary.add_row("completed jobs", number(out["completed_jobs"]))
    summary.add_row("injected jobs", number(out["injected_jobs"]))
    console.print(summary)
    runs = table("seed", "scale", "mean latency", "completed", "injected", "execution time",
                 "energy", title="runs", right=("mean latency", "completed", "injected",
                                                "execution time", "energy"))
    for r in out["runs"]:
        runs.add_row(str(r["seed"]), number(r["scale"]), _us(r["mean_job_latency_us"]),
                     number(r["completed_jobs"]), number(r["injected_jobs"]),
                     _us(r["execution_time_us"]), quantity(r["energy_j"], "J"))
    console.print(runs)
