"""The MARL question at scale (issue 17): marl-ppo vs single-agent PPO and SAC (random search
as the reference) at the MARL paper's budgets, through a proxy, with the final designs
re-simulated.

At 300 evaluations per run (``experiments/marl_study.py``) one agent per DRAM knob did not
beat PPO or SAC. The paper's runs were far longer; simulating 20,000 designs per run for
every method and seed is out of reach here, so the learners search a cost model trained on
data, and what counts is the truth: each run's best design (the highest reward it logged
within the budget, the design it would hand over) is re-simulated, and methods are ranked by
that design's simulated distance to the target. One command does everything, each phase
skipped when its output exists:

1. collect ``dataset.n`` random designs with the simulator (``archgym dataset collect``);
2. train each cost model's proxy on 80 % of them, score it on the other 20 % (R², MAPE,
   Kendall tau per metric: ``prepare.json``), save it under ``OUT/proxy_<cost model>``;
   set the target to the ``target.quantile`` of the target metric over the dataset;
3. run every method x seed x cost model as one resumable sweep (``OUT/study``; the generated
   ``sweep_<cost model>_<budget>.yaml`` configs are ordinary ``archgym sweep`` configs).
   Seeds run to the largest budget and their first evaluations stand for the smaller
   budgets: a run's first N evaluations do not depend on its budget (the learners' schedules
   are constant; ``tests/test_marl_at_scale.py`` checks it), so a 20,000 run holds
   a 5,000 run. Other seeds run to the smaller budget only;
4. re-simulate each run's best design per budget (``resimulated.csv``) and report medians with
   bootstrap 95 % intervals (:func:`experiments.marl_study.table`) per cost model x budget x
   method: ``table.md`` / ``table.csv``, ``study.json`` (wall times, machine load).

    nice -n 5 python -m experiments.marl_at_scale --out runs/marl_at_scale
    python -m experiments.marl_at_scale --out runs/marl_at_scale --report-only
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from archgym.errors import ArchGymError
from experiments.marl_study import METRIC, markdown, table

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "experiments" / "configs" / "marl_at_scale.yaml"
KEYS = {"problem": ("env", "params", "target"), "dataset": ("n", "sampler", "seed"),
        "proxies": None, "methods": None, "budgets": None, "seeds": None, "workers": None}
BY = ("cost_model", "budget")


# --------------------------------------------------------------------------- config


def load_config(path: Path) -> dict[str, Any]:
    """The study config, checked: unknown or missing keys and inconsistent seed counts are
    errors naming the file and the key."""
    cfg = yaml.safe_load(Path(path).read_text())
    if not isinstance(cfg, dict):
        raise ArchGymError(f"{path}: expected a mapping with keys {', '.join(KEYS)}")
    for key in set(KEYS) ^ set(cfg):
        raise ArchGymError(f"{path}: {'unknown' if key in cfg else 'missing'} key {key!r}; "
                           f"keys: {', '.join(KEYS)}")
    for key, sub in KEYS.items():
        if sub is not None and set(sub) - {"sampler"} - set(cfg[key] or {}):
            raise ArchGymError(f"{path}: {key} needs keys {', '.join(sub)}")
    objective = cfg["problem"]["params"].get("objective")
    if objective not in METRIC:
        raise ArchGymError(f"{path}: problem.params.objective must be one of "
                           f"{', '.join(METRIC)} (a target objective), got {objective!r}")
    budgets = sorted(int(b) for b in cfg["budgets"])
    if not budgets or budgets[0] < 1 or len(set(budgets)) != len(budgets):
        raise ArchGymError(f"{path}: budgets must be distinct positive integers, got "
                           f"{cfg['budgets']}")
    cfg["budgets"] = budgets
    if set(cfg["seeds"]) != set(cfg["proxies"]):
        raise ArchGymError(f"{path}: seeds must give counts for each cost model of proxies "
                           f"({', '.join(cfg['proxies'])}), got {', '.join(cfg['seeds'])}")
    for cm, counts in cfg["seeds"].items():
        counts = {int(b): int(n) for b, n in counts.items()}
        if set(counts) != set(budgets):
            raise ArchGymError(f"{path}: seeds.{cm} needs a count for each budget {budgets}")
        if any(counts[a] < counts[b] for a, b in itertools.pairwise(budgets)):
            raise ArchGymError(f"{path}: seeds.{cm}: a larger budget cannot have more seeds "
                               f"(its runs also stand for the smaller budgets), got {counts}")
        cfg["seeds"][cm] = counts
    return cfg


def seed_plan(counts: dict[int, int]) -> dict[int, list[int]]:
    """Budget -> the seeds that run to exactly that budget: the first ``counts[largest]``
    seeds run to the largest, the next ones to the next smaller budget, and so on."""
    plan, start = {}, 0
    for budget in sorted(counts, reverse=True):
        plan[budget] = list(range(start, max(start, counts[budget])))
        start = max(start, counts[budget])
    return plan


# --------------------------------------------------------------------------- phases 1-2


def prepare(cfg: dict[str, Any], out: Path, workers: int) -> dict[str, Any]:
    """Collect the dataset, train and score the proxies, set the target (``prepare.json``;
    skipped when it exists)."""
    from archgym import dataset
    from archgym.app.collect import collect
    from archgym.proxy.core import fit_and_score

    done = out / "prepare.json"
    if done.exists():
        return json.loads(done.read_text())
    prob, ds = cfg["problem"], cfg["dataset"]
    params = dict(prob["params"])
    start = time.perf_counter()
    collect(prob["env"], int(ds["n"]), ds.get("sampler", "random"), int(ds["seed"]),
            workers, out / "data", env_kwargs=params)
    collect_s = time.perf_counter() - start
    data = dataset.load(out / "data")
    objective = prob["params"]["objective"]
    metric = METRIC[objective]
    target = float(np.quantile(data["metric_" + metric], float(prob["target"]["quantile"])))
    proxies = {}
    for cm, spec in cfg["proxies"].items():
        spec = dict(spec)
        model = spec.pop("model")
        t0 = time.perf_counter()
        proxy, scores = fit_and_score(out / "data", prob["env"], model=model, seed=0,
                                      env_kwargs=params, **spec)
        path = out / f"proxy_{cm}"
        proxy.save(path)
        proxies[cm] = {"path": str(path), "model": model, "hparams": spec,
                       "n_train": proxy.meta["n_train"], "held_out": scores,
                       "seconds": round(time.perf_counter() - t0, 1)}
    prep = {"designs": len(data), "collect_seconds": round(collect_s, 1),
            "target_param": f"target_{objective}", "target_metric": metric,
            "target": round(target, 3), "proxies": proxies}
    done.write_text(json.dumps(prep, indent=1))
    return prep


# --------------------------------------------------------------------------- phase 3


def sweep_files(cfg: dict[str, Any], prep: dict[str, Any], out: Path) -> list[Path]:
    """One ``archgym sweep`` config per cost model x budget (``OUT/sweep_*.yaml``)."""
    paths = []
    for cm, counts in cfg["seeds"].items():
        params = {**cfg["problem"]["params"], prep["target_param"]: prep["target"],
                  "cost_model": cm, "proxy": prep["proxies"][cm]["path"]}
        for budget, seeds in seed_plan(counts).items():
            if not seeds:
                continue
            doc = {"envs": [{"id": cfg["problem"]["env"], "params": params}],
                   "searchers": [{"name": m} for m in cfg["methods"]],
                   "seeds": seeds, "budget": budget}
            path = out / f"sweep_{cm}_{budget}.yaml"
            path.write_text(yaml.safe_dump(doc, sort_keys=False))
            paths.append(path)
    return paths


def run_study(paths: list[Path], out: Path, workers: int, cost_models: list[str],
              methods: list[str]) -> dict:
    """All jobs of all sweep files as one resumable sweep into ``OUT/study``: the cost models
    in config order, within one seed by seed (a study stopped early has the first cost
    models complete and equal seed counts per method), longest jobs of a seed first (larger
    budget, costlier learners listed first in the config) so that the workers finish
    together."""
    from archgym.app.sweep import Sweep, run_sweep
    from archgym.app.sweep import load_config as load_sweep

    sweeps = [load_sweep(p) for p in paths]
    jobs = sorted((j for s in sweeps for j in s.jobs),
                  key=lambda j: (cost_models.index(j.env_params["cost_model"]), j.seed,
                                 -j.budget, methods.index(j.searcher)))
    merged = Sweep(out / "sweeps", jobs, sorted({j.seed for j in jobs}),
                   max(j.budget for j in jobs))
    return run_sweep(merged, workers=workers, out=out / "study", progress=True)


# --------------------------------------------------------------------------- phase 4


def best_within(rows: pd.DataFrame, budget: int) -> pd.Series:
    """The design a run hands over after its first ``budget`` evaluations: the first one
    with the highest logged reward."""
    head = rows.sort_values("step").head(budget)
    return head.loc[head["reward"].idxmax()]


def resimulate(df: pd.DataFrame, budgets: list[int], evaluate: Any, target: float,
               metric: str, feasible: Any) -> pd.DataFrame:
    """Per run and budget (up to the run's length): its best design, re-simulated with
    ``evaluate(config) -> metrics``; ``true_distance`` is that design's relative distance to
    ``target`` (inf when ``feasible(metrics)`` is false), ``claimed_distance`` the one the
    run logged (the cost model's answer)."""
    params = [c for c in df.columns if c.startswith("param_")]
    out = []
    for run_id, g in df.groupby("run_id", sort=True):
        for budget in budgets:
            if budget > len(g):
                continue
            best = best_within(g, budget)
            config = {c.removeprefix("param_"): best[c].item() if hasattr(best[c], "item")
                      else best[c] for c in params}
            true = evaluate(config)
            head = g.sort_values("step").head(budget)
            row = {"run_id": run_id, "cost_model": g["cost_model"].iloc[0], "budget": budget,
                   "method": g["searcher"].iloc[0], "seed": int(g["seed"].iloc[0]),
                   "evaluations": budget, "best_step": int(best["step"]),
                   "config_key": best["config_key"],
                   "claimed_" + metric: float(best["metric_" + metric]),
                   "true_" + metric: float(true[metric]),
                   "claimed_distance": abs(float(best["metric_" + metric]) - target) / target,
                   "true_distance": (abs(float(true[metric]) - target) / target
                                     if feasible(true) else np.inf),
                   "unique_designs": int(head["config_key"].nunique())}
            if "target_met" in head:  # as the run logged it (the cost model's answer)
                met = head.loc[head["target_met"].astype(bool), "step"]
                row["claimed_evals_to_target"] = float(met.min()) if len(met) else np.inf
            if "fidelity" in head:
                row["simulated_share"] = float((head["fidelity"] == "simulator").mean())
            out.append(row)
    return pd.DataFrame(out)


def job_seconds(out: Path) -> pd.DataFrame:
    """Wall seconds of the finished runs (their completion markers), per cost model x
    budget x method: how many, median and total."""
    rows = [json.loads(f.read_text()) for f in (out / "study" / "_done").glob("*.json")]
    df = pd.DataFrame([{"cost_model": r["env_params"]["cost_model"], "budget": r["budget"],
                        "method": r["searcher"], "seconds": r["seconds"]} for r in rows])
    return df.groupby(["cost_model", "budget", "method"])["seconds"].agg(
        ["count", "median", "sum"]).reset_index()


def report(cfg: dict[str, Any], prep: dict[str, Any], out: Path) -> pd.DataFrame:
    from archgym import dataset
    from archgym.registry import make
    from archgym.stats import median_ci

    job_seconds(out).to_csv(out / "job_seconds.csv", index=False)

    df = dataset.load(out / "study")
    finished = {f.stem for f in (out / "study" / "_done").glob("*.json")}
    df = df[df["run_id"].isin(finished)]  # a run stopped mid-way counts for nothing
    params = {**cfg["problem"]["params"], prep["target_param"]: prep["target"]}
    env = make(cfg["problem"]["env"], **params).unwrapped  # the simulator
    runs = resimulate(df, cfg["budgets"], env.evaluator.evaluate, prep["target"],
                      prep["target_metric"], env.objective.feasible)
    # a seed moved to a larger budget when counts were raised left its shorter run behind:
    # the same designs (a run's start does not depend on its budget), counted once
    runs = runs.sort_values("run_id").drop_duplicates([*BY, "method", "seed"])
    runs.to_csv(out / "resimulated.csv", index=False)
    t = table(runs, by=BY, distance="true_distance")
    extra = runs.groupby([*BY, "method"]).agg(
        claimed_distance_pct_median=("claimed_distance", lambda x: 100 * x.median()),
        **({"simulated_share_mean": ("simulated_share", "mean")}
           if "simulated_share" in runs else {})).reset_index()
    t = t.merge(extra, on=[*BY, "method"])
    if "claimed_evals_to_target" in runs:
        cis = {k: median_ci(g["claimed_evals_to_target"])
               for k, g in runs.groupby([*BY, "method"])}
        t["claimed_evals_to_target"] = [str(cis[k]) for k in
                                        zip(*(t[c] for c in [*BY, "method"]), strict=True)]
    t.to_csv(out / "table.csv", index=False)
    (out / "table.md").write_text(markdown(t, by=BY) + "\n" + claims_markdown(t))
    return t


def claims_markdown(t: pd.DataFrame) -> str:
    """What the runs themselves logged (the cost model's answers), next to the truth."""
    cols = [c for c in ("claimed_distance_pct_median", "claimed_evals_to_target",
                        "simulated_share_mean") if c in t]
    lines = ["| " + " | ".join([*BY, "method", *cols]) + " |", "|" + "---|" * (3 + len(cols))]
    for r in t.to_dict("records"):
        cells = [str(r[c]) for c in (*BY, "method")]
        cells += [f"{r[c]:.3g}" if isinstance(r[c], float) else str(r[c]) for c in cols]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", type=Path, default=CONFIG)
    ap.add_argument("--out", type=Path, default=Path("runs/marl_at_scale"))
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    workers = args.workers or int(cfg["workers"])
    args.out.mkdir(parents=True, exist_ok=True)
    study: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python":
                                         platform.python_version(),
                                         "processor": platform.processor()},
                             "load_start": os.getloadavg()}
    start = time.perf_counter()
    prep = prepare(cfg, args.out, workers)
    print(json.dumps({k: v for k, v in prep.items() if k != "proxies"}))
    if not args.report_only:
        t0 = time.perf_counter()
        summary = run_study(sweep_files(cfg, prep, args.out), args.out, workers,
                            list(cfg["proxies"]), cfg["methods"])
        study["sweep"] = {k: summary[k] for k in ("jobs", "skipped", "ran", "failed", "rows")}
        study["sweep_seconds"] = round(time.perf_counter() - t0, 1)
    t = report(cfg, prep, args.out)
    study |= {"seconds": round(time.perf_counter() - start, 1), "load_end": os.getloadavg()}
    with open(args.out / "study.json", "a") as f:  # one line per invocation
        f.write(json.dumps(study) + "\n")
    print(json.dumps(study))
    print(markdown(t, by=BY))


if __name__ == "__main__":
    main()
