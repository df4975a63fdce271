"""Atomic file writes: a result is either fully written or absent, never half-written."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp_path)` on a temporary file next to `path`, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes the file private; a result should be readable like any file
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    """The process's umask (reading it means setting it: it is set straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def ensure_writable_dir(path: str | os.PathLike, fix: str) -> Path:
    """Create `path` if missing and check it is writable, so a refusal comes before any work whose result would be
    lost; PermissionError naming the directory and `fix` otherwise."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise PermissionError(f"Cannot create the directory {path} ({err.strerror}): {fix}.") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise PermissionError(f"The directory {path} is not writable: {fix}.")
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=1, sort_keys=True, default=_json_default))


class NotJsonObject(ValueError):
    """A file meant to hold a JSON object that cannot be read (`cause`: why) or holds another JSON value (`found`: its
    type's name); callers say what the file is and how to mend it."""

    def __init__(self, path: Path, cause: Exception | None = None, found: str | None = None):
        self.path, self.cause, self.found = path, cause, found
        super().__init__(f"{path} cannot be read ({cause})" if cause is not None
                         else f"{path} holds a JSON {found}, not an object")


def read_json_object(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON object a file holds; NotJsonObject if it cannot be read or holds another JSON value."""
    path = Path(path)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise NotJsonObject(path, cause=err) from None
    if not isinstance(value, dict):
        raise NotJsonObject(path, found=type(value).__name__)
    return value


def _json_default(obj: Any) -> Any:
    """numpy scalars/arrays to plain Python for json."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serialisable")
