"""Resumable jobs: the one executor and marker scheme behind sweeps, data collection and
ground-truth tables.

A job has a content-hash run id (:func:`archgym.runner.run_id_for`) and writes its rows as
``part-<run id>-*.parquet`` into the output directory. When it returns, its JSON summary is
written atomically to ``OUT/_done/<run id>.json``: the marker. A restarted execution skips
jobs with a marker and deletes whatever an unmarked job left (its part files and
temporaries) before running it again, so an execution killed at any moment, even by
SIGKILL, resumes without losing a completed job or duplicating a row.

Workers are started with ``spawn`` (never ``fork``: the parent may hold threads of numba,
torch or LightGBM) and die with the parent (Linux ``PR_SET_PDEATHSIG``, plus a watchdog
elsewhere), so an orphaned worker cannot write behind a restarted run; a lock file stops two
executions sharing one directory. One worker runs the jobs in this process.
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
            ) -> list[Task]:
    """Run the tasks without a marker in ``out``; returns the ones that were pending.

    ``on_result(task, summary, error)`` is called as each finishes (``error`` is one line
    when the job raised: its partial files are removed and the others go on). ``modules`` are
    imported in each worker first (plug-ins that register envs or searchers).
    """
    out = Path(out)
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
