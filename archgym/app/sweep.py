"""Sweeps: every env x searcher x hyper-parameter setting x seed of a YAML config, run on
local worker processes into one dataset, resumable after any interruption.

Config (YAML)::

    imports: [my_plugin]          # optional: modules that register extra envs / searchers
    envs:
      - id: archgym/DRAM-v0
        params: {workload: stream, trace_length: 2000}
    searchers:
      - name: random-walk
        grid: {num_changes: [1, 2, 4]}   # a scalar is one fixed value
      - name: heft                       # an env's policy: runs on the envs it is for
      - name: ga
        envs: [archgym/DRAM-v0]          # optional: only these of the sweep's envs
    seeds: 3                      # a count (0, 1, 2) or a list of seeds
    budget: 100                   # evaluations per run
    out: runs/my_sweep            # optional (``--out`` overrides); relative to the cwd
    workers: 4                    # optional (``--workers`` overrides); default: all cores

A searcher runs on every env it applies to: policies on the envs that ship them, black-box
searchers on design-point envs and on sequential envs' design-point views; other pairs are
left out. The whole config is checked before any work starts: an unknown env, env
parameter, searcher or hyper-parameter, or a value of the wrong type, is an
:class:`ArchGymError` naming the file, the line and what is allowed. Each env and each
searcher setting is constructed once in the parent for this, so errors found only by a
constructor (a missing workload) are caught too.

Each job writes its rows with its content-hash run id (:func:`archgym.runner.run_id_for`, the
same id ``archgym run`` gives the same run) and runs on the resumable executor of
:mod:`archgym.app.jobs` (completion markers ``OUT/_done/<run id>.json``): an interrupted sweep,
even one killed by SIGKILL, resumes without losing a finished job or duplicating a row.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.text import Text

import agents
from archgym import registry
from archgym.app import jobs as executor
from archgym.app.console import Backend, JsonFlag, RayAddress
from archgym.app.console import table as ui_table
from archgym.errors import ArchGymError
from archgym.runner import run_id_for

TOP_KEYS = ("envs", "searchers", "seeds", "budget", "out", "workers", "imports")
ENV_KEYS = ("id", "params")
SEARCHER_KEYS = ("name", "grid", "envs")


# --------------------------------------------------------------------------- YAML with lines


class _Map(dict):
    """A YAML mapping that remembers the line of each key (1-based)."""

    line = 0
    lines: dict[Any, int]


class _Seq(list):
    """A YAML sequence that remembers the line of each item (1-based)."""

    line = 0
    lines: list[int]


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    out = _Map()
    out.line, out.lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise ArchGymError(f"{loader.name}:{key_node.start_mark.line + 1}: duplicate key "
                               f"{key!r} (first on line {out.lines[key]})")
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> _Seq:
    out = _Seq(loader.construct_object(n, deep=True) for n in node.value)
    out.line, out.lines = node.start_mark.line + 1, [n.start_mark.line + 1 for n in node.value]
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


def _plain(value: Any) -> Any:
    """Line-tracking containers back to plain dicts and lists (for hashing and pickling)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Job:
    """One run of a sweep: what it is, and the run id its rows carry."""

    env_id: str
    env_params: dict[str, Any]
    searcher: str
    hparams: dict[str, Any]  # resolved: defaults overridden by ``setting``
    setting: dict[str, Any]  # the grid point as written in the config
    seed: int
    budget: int
    run_id: str

    def describe(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Sweep:
    """A validated config and its jobs (in config order, duplicates removed)."""

    path: Path
    jobs: list[Job]
    seeds: list[int]
    budget: int
    out: Path | None = None
    workers: int | None = None
    imports: list[str] = field(default_factory=list)


class _Checker:
    """Raises errors that start with ``file:line:``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, line: int, message: str) -> ArchGymError:
        return ArchGymError(f"{self.path}:{line}: {message}")

    def mapping(self, value: Any, line: int, what: str, keys: tuple[str, ...]) -> _Map:
        if not isinstance(value, dict):
            raise self.error(line, f"{what} must be a mapping with keys {', '.join(keys)}")
        for key in value:
            if key not in keys:
                raise self.error(value.lines[key], f"unknown key {key!r} in {what}; allowed: "
                                                   f"{', '.join(keys)}")
        return value

    def seq(self, value: Any, line: int, what: str) -> _Seq:
        if not isinstance(value, list) or not value:
            raise self.error(line, f"{what} must be a non-empty list")
        return value

    def integer(self, value: Any, line: int, what: str, low: int = 1) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.error(line, f"{what} must be an integer >= {low}, got {value!r}")
        return value

    def string(self, value: Any, line: int, what: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.error(line, f"{what} must be a non-empty string, got {value!r}")
        return value


def _why(e: Exception) -> str:
    """An exception as one line; the type is kept unless the message says it all."""
    return str(e) if isinstance(e, ArchGymError | ValueError) else f"{type(e).__name__}: {e}"


def load_config(path: str | Path) -> Sweep:
    """Read, check and expand a sweep config (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise ArchGymError(f"sweep config {path} does not exist")
    text = path.read_text()
    loader = _LineLoader(text)
    loader.name = str(path)
    try:
        doc = loader.get_single_data()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ArchGymError(f"{where}: not valid YAML ({getattr(e, 'problem', e)})") from None
    finally:
        loader.dispose()
    c = _Checker(path)
    if doc is None:
        raise c.error(1, f"empty config; expected a mapping with keys {', '.join(TOP_KEYS)}")
    top = c.mapping(doc, 1, "the sweep config", TOP_KEYS)
    for key in ("envs", "searchers", "seeds", "budget"):
        if key not in top:
            raise c.error(top.line, f"missing key {key!r}; a sweep needs envs, searchers, "
                                    "seeds and budget")
    lines = top.lines

    imports: list[str] = []
    if "imports" in top:
        mods = c.seq(top["imports"], lines["imports"], "imports")
        for m, line in zip(mods, mods.lines, strict=True):
            c.string(m, line, "an imports entry")
            try:
                executor.import_plugins([m])
            except ImportError as e:
                raise c.error(line, f"cannot import {m!r}: {e}") from None
            imports.append(m)

    budget = c.integer(top["budget"], lines["budget"], "budget")
    seeds_raw = top["seeds"]
    if isinstance(seeds_raw, list):
        seeds = [c.integer(s, ln, "a seed", low=0)
                 for s, ln in zip(c.seq(seeds_raw, lines["seeds"], "seeds"), seeds_raw.lines,
                                  strict=True)]
        if len(set(seeds)) != len(seeds):
            raise c.error(lines["seeds"], f"seeds repeat a value: {seeds}")
    else:
        if isinstance(seeds_raw, bool) or not isinstance(seeds_raw, int):
            raise c.error(lines["seeds"], "seeds must be a count (integer >= 1) or a list of "
                                          f"integers, got {seeds_raw!r}")
        seeds = list(range(c.integer(seeds_raw, lines["seeds"], "seeds (a count)")))
    out = Path(c.string(top["out"], lines["out"], "out")) if "out" in top else None
    workers = c.integer(top["workers"], lines["workers"], "workers") if "workers" in top \
        else None

    # environments: constructed once each, so bad values fail here
    envs: list[tuple[str, dict[str, Any], Any]] = []
    env_list = c.seq(top["envs"], lines["envs"], "envs")
    for item, line in zip(env_list, env_list.lines, strict=True):
        entry = c.mapping(item, line, "an envs entry", ENV_KEYS)
        if "id" not in entry:
            raise c.error(line, "an envs entry needs an id, e.g. id: archgym/DRAM-v0; "
                                f"registered: {', '.join(registry.env_ids()) or '(none)'}")
        env_id = c.string(entry["id"], entry.lines["id"], "env id")
        try:
            allowed = registry.env_parameters(env_id)
        except ArchGymError as e:
            raise c.error(entry.lines["id"], str(e)) from None
        params = entry.get("params") or _Map()
        pline = entry.lines.get("params", line)
        if not isinstance(params, dict):
            raise c.error(pline, f"params of {env_id} must be a mapping")
        for key in params:
            if key not in allowed:
                raise c.error(params.lines[key], f"{env_id} has no parameter {key!r}; "
                                                 f"parameters: {', '.join(allowed)}")
        params = _plain(params)
        try:
            env = registry.make(env_id, **params)
        except Exception as e:  # noqa: BLE001 - any constructor error is the config's fault
            raise c.error(pline, f"{env_id} with {params}: {_why(e)}") from None
        envs.append((env_id, params, env))

    # searchers: every grid value type-checked, every setting constructed once per env
    settings: list[tuple[str, dict[str, Any], int]] = []
    s_list = c.seq(top["searchers"], lines["searchers"], "searchers")
    for item, line in zip(s_list, s_list.lines, strict=True):
        entry = c.mapping(item, line, "a searchers entry", SEARCHER_KEYS)
        if "name" not in entry:
            raise c.error(line, "a searchers entry needs a name; available: "
                                f"{', '.join(agents.available())}")
        name = c.string(entry["name"], entry.lines["name"], "searcher name")
        try:
            cls = agents.decision_class(name)
        except ArchGymError as e:
            raise c.error(entry.lines["name"], str(e)) from None
        only = entry.get("envs")
        if only is not None:
            known = [e for e, _, _ in envs]
            for e_id, eline in zip(c.seq(only, entry.lines["envs"], f"envs of {name}"),
                                   only.lines, strict=True):
                if e_id not in known:
                    raise c.error(eline, f"{name}: env {e_id!r} is not in this sweep's envs "
                                         f"({', '.join(known)})")
        grid = entry.get("grid") or _Map()
        gline = entry.lines.get("grid", line)
        if not isinstance(grid, dict):
            raise c.error(gline, f"grid of {name} must be a mapping hyper-parameter -> list")
        axes: list[list[Any]] = []
        for key, values in grid.items():
            if not isinstance(values, list):
                values = _Seq([values])
                values.lines = [grid.lines[key]]
            if not values:
                raise c.error(grid.lines[key], f"grid {key!r} of {name} is an empty list")
            for v, vline in zip(values, values.lines, strict=True):
                try:
                    cls.resolve_hparams({key: _plain(v)})
                except ArchGymError as e:
                    raise c.error(vline, str(e)) from None
            axes.append(_plain(values))
        for point in itertools.product(*axes):
            settings.append((name, dict(zip(grid, point, strict=True)), gline,
                             None if only is None else list(only), entry.lines["name"]))

    jobs: list[Job] = []
    seen: set[str] = set()
    checked: dict[str, dict[str, Any]] = {}  # one construction per design space and setting
    for name, _, _, only, nline in settings:
        if not any(agents.applies(name, env.unwrapped) for e_id, _, env in envs
                   if only is None or e_id in only):
            raise c.error(nline, f"{name} applies to none of this sweep's envs (a policy "
                                 "for another env, or a black-box searcher on a sequential "
                                 "env without a design-point view)")
    for env_id, params, env in envs:
        base = env.unwrapped
        for name, setting, gline, only, _ in settings:
            if (only is not None and env_id not in only) or not agents.applies(name, base):
                continue  # pairs that cannot run are left out (`--dry-run` lists the jobs)
            space = getattr(base.design_point_view(), "space", None)
            key = json.dumps([env_id if space is None else space.to_dict(), name, setting],
                             sort_keys=True, default=str)
            if key not in checked:
                try:
                    checked[key] = agents.for_env(name, env, seed=seeds[0],
                                                  **setting)[0].hparams
                except Exception as e:  # noqa: BLE001 - a constructor refusing a setting
                    raise c.error(gline, f"{name} with {setting} on {env_id}: {_why(e)}") \
                        from None
            hparams = checked[key]
            for seed in seeds:
                run_id = run_id_for(env_id, params, name, hparams, seed, budget)
                if run_id in seen:
                    continue
                seen.add(run_id)
                jobs.append(Job(env_id, params, name, hparams, setting, seed, budget, run_id))
    for _, _, env in envs:
        env.close()
    return Sweep(path, jobs, seeds, budget, out, workers, imports)


def first_seeds(sweep: Sweep, n: int) -> Sweep:
    """The sweep restricted to its first ``n`` seeds (jobs and run ids unchanged)."""
    keep = sweep.seeds[:n]
    return replace(sweep, seeds=keep, jobs=[j for j in sweep.jobs if j.seed in keep])


# --------------------------------------------------------------------------- running


def run_job(job: Job, out: str | Path) -> dict[str, Any]:
    """Run one job and write its rows; returns its summary (the executor writes the marker)."""
    from archgym.dataset import DatasetWriter
    from archgym.runner import run as run_search

    start = time.perf_counter()
    env = registry.make(job.env_id, **job.env_params)
    try:
        searcher, target = agents.for_env(job.searcher, env, seed=job.seed, **job.hparams)
        # one part per job (up to dataset.PART_ROWS rows); an unfinished job is re-run whole
        writer = DatasetWriter(out, run_id=job.run_id)
        result = run_search(target, searcher, job.budget, seed=job.seed, logger=writer)
    finally:
        env.close()
    return {**job.describe(), **result.summary(), "rows": writer.rows_written,
            "seconds": round(time.perf_counter() - start, 3)}


def _plugin_modules(sweep: Sweep) -> list[str]:
    """What a fresh worker must import to know every env of the sweep."""
    import gymnasium

    modules = list(sweep.imports)
    for env_id in dict.fromkeys(j.env_id for j in sweep.jobs):
        entry = gymnasium.registry[env_id].entry_point
        if isinstance(entry, str):
            modules.append(entry.partition(":")[0])
    return list(dict.fromkeys(modules))


def run_sweep(sweep: Sweep, workers: int | None = None, out: str | Path | None = None,
              dry_run: bool = False, progress: bool = False, console: Any = None,
              backend: str = "local", address: str | None = None) -> dict[str, Any]:
    """Run the sweep's missing jobs on ``workers`` processes (or a Ray cluster); returns a
    summary.

    ``workers`` and ``out`` override the config's; the default worker count is the number of
    cores. With ``dry_run`` nothing is written: the summary lists the jobs and which are done.
    ``backend="ray"`` runs the jobs on the Ray cluster at ``address`` (default: a local one).
    ``progress`` reports each finished job on ``console`` (:class:`archgym.app.progress.
    JobProgress`: a bar on a terminal, one line per job otherwise).
    """
    out_dir = Path(out) if out is not None else sweep.out
    if out_dir is None:
        raise ArchGymError(f"{sweep.path}: no output directory; set out: in the config or "
                           "pass --out")
    if out_dir.exists() and not out_dir.is_dir():
        raise ArchGymError(f"output {out_dir} exists and is not a directory")
    n_workers = workers or sweep.workers or os.cpu_count() or 1
    if n_workers < 1:
        raise ArchGymError(f"--workers must be >= 1, got {n_workers}")
    pending = [j for j in sweep.jobs if not executor.is_done(out_dir, j.run_id)]
    summary: dict[str, Any] = {
        "config": str(sweep.path), "out": str(out_dir), "jobs": len(sweep.jobs),
        "skipped": len(sweep.jobs) - len(pending), "pending": len(pending), "ran": 0,
        "failed": [], "rows": 0, "workers": min(n_workers, max(len(pending), 1)),
        "dry_run": dry_run,
    }
    if dry_run:
        summary["job_list"] = [{**j.describe(), "done": executor.is_done(out_dir, j.run_id)}
                               for j in sweep.jobs]
        return summary
    from archgym.app.console import err_console
    from archgym.app.progress import JobProgress

    console = console or err_console

    def kind(job: Job) -> str:
        return json.dumps([job.env_id, job.env_params, job.searcher, job.budget],
                          sort_keys=True, default=str)

    with JobProgress(f"sweep {sweep.path.name}", [kind(j) for j in pending],
                     summary["workers"], console, enabled=bool(progress)) as bar:

        def on_result(t: executor.Task, result: dict[str, Any] | None, error: str | None) -> None:
            job = t.args[0]
            what = (f"{job.searcher}{' ' + _short(job.setting) if job.setting else ''} seed "
                    f"{job.seed} on {job.env_id.removeprefix('archgym/')}"
                    f"{' ' + _short(job.env_params) if job.env_params else ''}")
            if error is not None:
                summary["failed"].append({"run_id": job.run_id, "env_id": job.env_id,
                                          "searcher": job.searcher, "setting": job.setting,
                                          "seed": job.seed, "error": error})
                bar.finished(kind(job), what, None, f"FAILED: {error}")
            else:
                summary["ran"] += 1
                summary["rows"] += result["rows"]
                best = result.get("best_reward")
                bar.finished(kind(job), what, result.get("seconds"),
                             "no valid design" if best is None else f"best reward {best:.6g}")

        executor.execute([executor.Task(j.run_id, run_job, (j,)) for j in sweep.jobs], out_dir,
                         n_workers, _plugin_modules(sweep), on_result, backend, address)
    return summary


# --------------------------------------------------------------------------- command line


def cli(
    config: Annotated[Path, typer.Argument(help="Sweep config (YAML).")],
    workers: Annotated[int | None, typer.Option(
        min=1, metavar="N",
        help="Worker processes (default: the config's, else all cores).")] = None,
    out: Annotated[Path | None, typer.Option(
        metavar="DIR", help="Dataset directory (default: the config's out:).")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Check the config and list the jobs; run nothing.")] = False,
    seeds: Annotated[int | None, typer.Option(
        min=1, metavar="N",
        help="Only the config's first N seeds (a reduced study; the same run ids, so the "
             "full config run later adds only the other seeds).")] = None,
    backend: Backend = "local",
    address: RayAddress = None,
    as_json: JsonFlag = False,
) -> None:
    """Run every env x searcher x hyper-parameter setting x seed of a config into one
    dataset; started again, it runs only the jobs not yet complete."""
    from archgym.app.console import console, err_console, user_errors

    with user_errors():
        plan = load_config(config)
        if seeds is not None:
            plan = first_seeds(plan, seeds)
        summary = run_sweep(plan, workers=workers, out=out, dry_run=dry_run, progress=True,
                            console=err_console, backend=backend, address=address)
    if as_json:
        typer.echo(json.dumps(summary, default=str))
    else:
        if dry_run:
            table = ui_table("env", "searcher", "setting", "seeds", "budget", "done",
                             right=("budget", "done"),
                             title=f"{summary['jobs']} jobs in {config} ({summary['skipped']} "
                                   f"already complete in {summary['out']}; --json lists run "
                                   "ids)")
            envs: dict[str, str] = {}  # env and parameters -> a short name (E1, E2, ...)
            groups: dict[str, list[dict[str, Any]]] = {}
            for j in summary["job_list"]:  # one row per env x searcher setting
                env = " ".join(filter(None, [j["env_id"].removeprefix("archgym/"),
                                             _short(j["env_params"])]))
                envs.setdefault(env, f"E{len(envs) + 1}")
                key = json.dumps([env, j["searcher"], j["setting"], j["budget"]],
                                 sort_keys=True, default=str)
                groups.setdefault(key, []).append({**j, "env": envs[env]})
            for env, name in envs.items():
                console.print(f"{name}: {env}", highlight=False)
            for rows in groups.values():
                j = rows[0]
                table.add_row(j["env"], j["searcher"], Text(_short(j["setting"]) or "-"),
                              _ranges(r["seed"] for r in rows), str(j["budget"]),
                              f"{sum(r['done'] for r in rows)}/{len(rows)}")
            console.print(table)
            return
        console.print(f"sweep {config}: {summary['jobs']} jobs, {summary['ran']} run now "
                      f"({summary['rows']} rows), {summary['skipped']} already complete, "
                      f"{len(summary['failed'])} failed; dataset in {summary['out']}")
    for f in summary["failed"]:
        err_console.print(f"[bold red]failed:[/] {f['searcher']} {_short(f['setting'])} seed "
                          f"{f['seed']} on {f['env_id']} (run {f['run_id']}): {f['error']}",
                          highlight=False, soft_wrap=True)
    if summary["failed"]:
        raise typer.Exit(1)


def _short(d: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in d.items())


def _ranges(values: Any) -> str:
    """``[0, 1, 2, 5]`` -> ``0-2, 5``."""
    out: list[str] = []
    for v in sorted(set(values)):
        if out and isinstance(v, int) and out[-1].split("-")[-1] == str(v - 1):
            out[-1] = f"{out[-1].split('-')[0]}-{v}"
        else:
            out.append(str(v))
    return ", ".join(out)
