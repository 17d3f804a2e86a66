"""How long a sweep config takes on N cores, extrapolated from a reduced run of it.

Each finished job of a sweep writes its wall time (``OUT/_done/<run id>.json``,
``seconds``). Every job of the full config is given the mean time of the measured jobs of
its kind (env x env parameters x searcher x setting); the total is scheduled on ``--cores``
workers longest first (the executor's pool takes the next job when a worker frees; LPT
bounds that schedule) and printed as JSON with the machine and its load. Times measured on a
loaded machine overestimate a quiet one.

Usage (from the repository root)::

    python -m experiments.study_time experiments/configs/all_envs.yaml runs/all_envs --cores 8
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import platform
from pathlib import Path

from archgym.app import sweep


def kind(env_id: str, env_params: dict, searcher: str, setting: dict) -> str:
    return json.dumps([env_id, env_params, searcher, setting], sort_keys=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--cores", type=int, default=8)
    args = parser.parse_args()
    plan = sweep.load_config(args.config)
    measured: dict[str, list[float]] = {}
    for path in (args.dataset / "_done").glob("*.json"):
        job = json.loads(path.read_text())
        measured.setdefault(kind(job["env_id"], job["env_params"], job["searcher"],
                                 job["setting"]), []).append(float(job["seconds"]))
    per_job, missing = [], set()
    for j in plan.jobs:
        k = kind(j.env_id, j.env_params, j.searcher, j.setting)
        if k in measured:
            per_job.append(sum(measured[k]) / len(measured[k]))
        else:
            missing.add(k)
    workers = [0.0] * args.cores
    for t in sorted(per_job, reverse=True):  # longest first onto the least-loaded worker
        heapq.heappush(workers, heapq.heappop(workers) + t)
    by_searcher: dict[str, float] = {}
    by_env: dict[str, float] = {}
    for j, t in zip((j for j in plan.jobs if kind(j.env_id, j.env_params, j.searcher,
                                                    j.setting) in measured), per_job,
                    strict=True):
        by_searcher[j.searcher] = by_searcher.get(j.searcher, 0.0) + t
        by_env[j.env_id] = by_env.get(j.env_id, 0.0) + t
    print(json.dumps({
        "config": str(args.config), "dataset": str(args.dataset),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_1_5_15": [round(x, 2) for x in os.getloadavg()]},
        "measured_jobs": sum(len(v) for v in measured.values()),
        "measured_seconds": round(sum(sum(v) for v in measured.values()), 1),
        "full_jobs": len(plan.jobs), "kinds_not_measured": len(missing),
        "full_core_seconds": round(sum(per_job), 1),
        "cores": args.cores, "full_wall_seconds_on_cores": round(max(workers), 1),
        "longest_job_seconds": round(max(per_job), 1),
        "core_seconds_by_searcher": {k: round(v) for k, v in
                                     sorted(by_searcher.items(), key=lambda x: -x[1])},
        "core_seconds_by_env": {k: round(v) for k, v in
                                sorted(by_env.items(), key=lambda x: -x[1])},
    }, indent=1))


if __name__ == "__main__":
    main()
