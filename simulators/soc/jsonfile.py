"""Reading and writing the SoC simulators' JSON files, with errors that name the file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from simulators.soc.errors import SocInputError


def read_json(path: str | os.PathLike, what: str) -> Any:
    """Parse a JSON file; unreadable or invalid files raise :class:`SocInputError` naming the
    file (and the line of a syntax error)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise SocInputError(f"{path}: cannot read {what} ({exc.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SocInputError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from None


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as JSON atomically (the file appears whole or not at all)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
