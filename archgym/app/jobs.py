"""Resumable jobs: the one executor and marker scheme behind sweeps, data collection and
ground-truth tables.

A job has a content-hash run id (:func:`archgym.runner.run_id_for`) and writes its rows as
``part-<run id>-*.parquet`` into the output directory. When it returns, its JSON summary is
written atomically to ``OUT/_done/<run id>.json``: the marker. A restarted execution skips
jobs with a marker and deletes whatever an unmarked job left (its part files and
temporaries) before running it again, so an execution killed at any moment, even by
SIGKILL, resumes without losing a completed job or duplicating a row.

Backends:

- ``local`` (default): worker processes started with ``spawn`` (never ``fork``: the parent
  may hold threads of numba, torch or LightGBM) that die with the parent (Linux
  ``PR_SET_PDEATHSIG``, plus a watchdog elsewhere), so an orphaned worker cannot write
  behind a restarted run. One worker runs the jobs in this process.
- ``ray``: one Ray task per job (``pip install -e ".[ray]"``), on the cluster at ``address``
  or on a local one started for the run with ``workers`` CPUs. Tasks are not retried (a
  job's rows are only trusted once its marker exists); the output directory must be on a
  file system every node sees (``docs/cluster.md``). Ray kills a dead driver's tasks, so a
  killed sweep leaves no writer behind either.

Either way the same jobs write the same rows: results do not depend on the backend. A lock
file stops two executions sharing one directory.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import importlib
import json
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archgym.errors import ArchGymError
from archgym.io import write_json

DONE_DIR = "_done"
LOCK_FILE = ".archgym.lock"
BACKENDS = ("local", "ray")


@dataclass(frozen=True)
class Task:
    """One job: ``fn(*args, out)`` must write only ``part-<run_id>-*`` files and return a
    JSON-able summary."""

    run_id: str
    fn: Callable[..., dict[str, Any]]
    args: tuple[Any, ...] = ()
    label: dict[str, Any] = field(default_factory=dict)  # what progress lines show


def done_path(out: Path, run_id: str) -> Path:
    return Path(out) / DONE_DIR / f"{run_id}.json"


def is_done(out: Path, run_id: str) -> bool:
    return done_path(out, run_id).is_file()


def read_done(out: Path, run_id: str) -> dict[str, Any]:
    return json.loads(done_path(out, run_id).read_text())


def remove_partial(out: Path, run_id: str) -> int:
    """Delete the part files (and temporaries) an unfinished job left; returns how many."""
    out = Path(out)
    files = [*out.glob(f"part-{run_id}-*"), *out.glob(f".part-{run_id}-*.tmp")]
    for f in files:
        f.unlink(missing_ok=True)
    return len(files)


def import_plugins(modules: Sequence[str]) -> None:
    """Import modules that register extra envs or searchers (installed, or on
    ``PYTHONPATH``; ``python -m`` puts the working directory there)."""
    for module in modules:
        importlib.import_module(module)


def _watch_parent(parent: int) -> None:
    """Exit as soon as the process that started this worker is gone."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        with contextlib.suppress(Exception):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # died before prctl took effect
        os._exit(1)

    def watchdog() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watchdog, daemon=True, name="jobs-parent-watchdog").start()


def _init_worker(parent: int, modules: list[str]) -> None:
    _watch_parent(parent)
    import_plugins(modules)


def _run(task: Task, out: str) -> dict[str, Any]:
    """Run one job and write its marker (in whichever process runs it)."""
    summary = task.fn(*task.args, out)
    write_json(done_path(Path(out), task.run_id), summary)
    return summary


def _run_on_ray(task: Task, out: str, modules: list[str]) -> dict[str, Any]:
    _watch_lock(Path(out) / LOCK_FILE)
    import_plugins(modules)
    return _run(task, out)


def _watch_lock(path: Path) -> None:
    """Exit as soon as the driver holding ``path``'s lock is gone. A driver killed with the
    local cluster it started takes the raylet down but not the running task, which would
    otherwise finish behind a restarted run (on a standing cluster Ray itself ends a dead
    driver's tasks)."""
    import fcntl

    def watchdog() -> None:
        with open(path, "a+") as fh:
            while True:
                time.sleep(0.5)
                try:
                    fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
                except OSError:
                    continue  # the driver still holds it
                os._exit(1)

    threading.Thread(target=watchdog, daemon=True, name="jobs-driver-watchdog").start()


def _ray(workers: int, address: str | None) -> Any:
    """The ``ray`` module, connected to ``address`` or to a local cluster of ``workers``
    CPUs started now (its workers see this process's import path)."""
    try:
        import ray
    except ImportError:
        raise ArchGymError("--backend ray needs Ray: pip install -e \".[ray]\" (or pip "
                           "install ray)") from None
    if not ray.is_initialized():
        if address is None:
            path = os.pathsep.join(p for p in [os.getcwd(), *sys.path] if p)
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                     logging_level="WARNING", runtime_env={"env_vars": {"PYTHONPATH": path}})
        else:
            ray.init(address=address, log_to_driver=False, logging_level="WARNING")
    return ray


@contextlib.contextmanager
def lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out`` (released by the kernel if the process dies)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    out.mkdir(parents=True, exist_ok=True)
    with open(out / LOCK_FILE, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ArchGymError(f"another archgym process is writing to {out}; wait for it or "
                               "use another output directory") from None
        yield


def execute(tasks: Sequence[Task], out: str | Path, workers: int = 1,
            modules: Sequence[str] = (),
            on_result: Callable[[Task, dict[str, Any] | None, str | None], None] | None = None,
            backend: str = "local", address: str | None = None) -> list[Task]:
    """Run the tasks without a marker in ``out``; returns the ones that were pending.

    ``on_result(task, summary, error)`` is called as each finishes (``error`` is one line
    when the job raised: its partial files are removed and the others go on). ``modules`` are
    imported in each worker first (plug-ins that register envs or searchers). ``backend``
    is ``"local"`` or ``"ray"`` (``address``: an existing Ray cluster; default: start one).
    """
    if backend not in BACKENDS:
        raise ArchGymError(f"unknown backend {backend!r}; allowed: {', '.join(BACKENDS)}")
    if address is not None and backend != "ray":
        raise ArchGymError("--address is the address of a Ray cluster: add --backend ray")
    out = Path(out).resolve() if backend == "ray" else Path(out)
    with lock(out):
        pending = [t for t in tasks if not is_done(out, t.run_id)]
        for t in pending:
            remove_partial(out, t.run_id)

        def finish(task: Task, get: Callable[[], dict[str, Any]]) -> None:
            try:
                summary, error = get(), None
            except Exception as e:  # noqa: BLE001 - one failed job must not stop the rest
                remove_partial(out, task.run_id)
                summary, error = None, f"{type(e).__name__}: {e}"
            if on_result is not None:
                on_result(task, summary, error)

        if backend == "ray" and pending:
            ray = _ray(workers, address)
            remote = ray.remote(num_cpus=1, max_retries=0)(_run_on_ray)
            refs = {remote.remote(t, str(out), list(modules)): t for t in pending}
            def get(ref: Any) -> dict[str, Any]:
                try:
                    return ray.get(ref)
                except ray.exceptions.RayTaskError as e:  # the job's own error, not Ray's
                    raise e.cause if isinstance(e.cause, Exception) else e from None

            while refs:
                (ref,), _ = ray.wait(list(refs), num_returns=1)
                finish(refs.pop(ref), lambda ref=ref: get(ref))
            return pending
        if workers <= 1 or len(pending) <= 1:
            for t in pending:
                finish(t, lambda t=t: _run(t, str(out)))
            return pending
        ctx = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(min(workers, len(pending)), mp_context=ctx,
                                    initializer=_init_worker,
                                    initargs=(os.getpid(), list(modules))) as pool:
            futures = {pool.submit(_run, t, str(out)): t for t in pending}
            for future in cf.as_completed(futures):
                finish(futures[future], future.result)
    return pending
