"""draw: the lecture's circuit picture of the user's function, as SVG (or Graphviz text).

`f.draw(*args)` and `flatgen graph FILE:FUNC --at ... -o circuit.svg`.  circuit.py finds what to
draw (gates, wires, boxes, the numbers from the interpreter's run); layout.py places it, left to
right with few crossings; svg.py writes it, by hand: no Graphviz binary and no new dependency, every
text escaped, and the same function and arguments give the same bytes.
"""

from __future__ import annotations

import os
import tempfile
from functools import cached_property
from pathlib import Path

from .circuit import Circuit, circuit
from .errors import UsageError
from .svg import DOT_MARK, MARK, svg_element, to_dot, to_svg

FORMATS = ("svg", "dot")


class Drawing:
    """A circuit picture: shows as SVG in a notebook; `.svg`, `.dot`, `.save(path)`."""

    def __init__(self, c: Circuit):
        self.circuit = c

    @cached_property
    def svg(self) -> str:
        """The SVG document (as `flatgen graph` writes it)."""
        return to_svg(self.circuit)

    @cached_property
    def dot(self) -> str:
        """Graphviz text, for `dot -Tpng`."""
        return to_dot(self.circuit)

    def _repr_svg_(self) -> str:
        return svg_element(self.circuit)

    def save(self, path, format: str | None = None) -> Path:
        """Write the picture to `path` (atomically); the format from `format` or the file's suffix."""
        path = Path(path)
        fmt = format or ("dot" if path.suffix.lower() in (".dot", ".gv") else "svg")
        write_picture(path, self.dot if fmt == "dot" else self.svg, fmt)
        return path

    def __str__(self) -> str:
        return self.svg

    def __repr__(self) -> str:
        c = self.circuit
        gates = sum(1 for n in c.nodes if n.kind == "gate")
        return f"<flatgen drawing of {c.name}: {gates} gates{', with values' if c.numbers else ''}>"


def draw(g, args: tuple | None = None, seed=None, digits: int = 3) -> Drawing:
    """The picture of the Generated `g` (lecture style), with its numbers at `args` when given."""
    return Drawing(circuit(g, args, seed, digits))


def write_picture(path: Path, text: str, fmt: str) -> bool:
    """Write `text` to `path` atomically (a temporary file in the same folder, then one rename).

    Only a file flatgen wrote (its mark in the first lines), or no file, is replaced: `-o model.py`
    by mistake refuses instead of destroying a source.  True when the file changed.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown picture format {fmt!r}", hint="--format svg or --format dot")
    mark = (MARK if fmt == "svg" else DOT_MARK).encode()
    data = text.encode("utf-8")
    try:
        if path.is_dir():
            raise UsageError(f"cannot write {path}: it is a folder", hint="-o names a file: -o circuit.svg")
        old = path.read_bytes() if path.exists() else None
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None
    if old == data:
        return False
    if old is not None and mark not in old[:200]:
        raise UsageError(f"{path} exists and was not written by flatgen: refusing to replace it",
                         hint="choose another file name, or move the file away")
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"cannot write {path}: no folder {folder}", hint="create the folder first")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise UsageError(f"cannot write into {folder}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(e, OSError):
            raise UsageError(f"cannot write {path}: {e.strerror or e}") from None
        raise
    return True
