"""Outputs that land whole or not at all: the project's one atomic-write helper.

Everything the gym writes for later reading (dataset parts, completion markers, reports,
plots, proxies, ground-truth tables) goes through :func:`atomic_path`: the writer fills a
hidden temporary sibling, which is renamed over the target only once it is complete. A
process killed at any moment leaves either the old file or the new one, never half of one;
the temporaries it may leave start with ``.`` and end with ``.tmp``.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def temp_sibling(path: Path) -> Path:
    """The temporary name :func:`atomic_path` fills for ``path`` (hidden, per process)."""
    return path.parent / f".{path.name}.{os.getpid()}.tmp"


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s content to (a file or a directory); it
    replaces ``path`` when the block exits normally and is deleted if it raises."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(path)
    _remove(tmp)
    try:
        yield tmp
        if tmp.is_dir() and path.is_dir():  # a directory cannot be renamed over another
            old = path.parent / f".{path.name}.{os.getpid()}.old"
            _remove(old)
            os.replace(path, old)
            os.replace(tmp, path)
            _remove(old)
        else:
            os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_json(path: str | Path, obj: Any, indent: int | None = 1) -> Path:
    """Write ``obj`` as JSON (keys sorted, non-JSON values as ``str``) atomically."""
    return write_text(path, json.dumps(obj, indent=indent, sort_keys=True, default=str) + "\n")
