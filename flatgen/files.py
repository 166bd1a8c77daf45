"""Writing and checking generated modules: atomic writes, and checks that never write."""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path

from .errors import UsageError


def write_atomic(path: Path, text: str) -> bool:
    """Write `text` to `path` unless it already holds exactly that; True when the file changed.

    The text goes to a temporary file in the same folder, which then replaces the target in one
    rename: a reader sees the old module or the new one, never a partial one, and a failure in
    between leaves the old module and no temporary file behind.
    """
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return False  # untouched, mtime included
    except FileNotFoundError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create the folder {path.parent}: {e.strerror}") from None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return True


def compare(path: Path, text: str, shown: str) -> str | None:
    """None when `path` holds `text`; else what `flatgen check` prints (MISSING, or a unified diff)."""
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return f"MISSING: {shown}\n"
    if old == text:
        return None
    diff = difflib.unified_diff(
        old.splitlines(keepends=True), text.splitlines(keepends=True), fromfile=f"a/{shown}", tofile=f"b/{shown}"
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in diff)
