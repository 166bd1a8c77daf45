"""draw: the lecture's circuit picture of the user's function, as SVG (or Graphviz text).

`f.draw(*args)` and `flatgen graph FILE:FUNC --at ... -o circuit.svg`.  circuit.py finds what to
draw (gates, wires, boxes, the numbers from the interpreter's run); layout.py places it, left to
right with few crossings; svg.py writes it, by hand: no Graphviz binary and no new dependency, every
text escaped, and the same function and arguments give the same bytes.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from .circuit import Circuit, circuit
from .errors import UsageError
from .files import write_atomic
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
        """Write the picture to `path` (atomically): .svg, or .dot/.gv for Graphviz text (`format`, if
        given, must agree with the suffix)."""
        path = Path(path)
        fmt = picture_format(path, format)
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


SUFFIXES = {".svg": "svg", ".dot": "dot", ".gv": "dot"}


def picture_format(path: Path, fmt: str | None) -> str:
    """The format a picture file gets: its suffix says it (.svg; .dot or .gv: Graphviz text); a `fmt`
    given must agree.  Any other suffix is refused: `-o c.png` would write SVG text into a .png."""
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"unknown picture format {fmt!r:.40}", hint="--format svg or --format dot")
    said = SUFFIXES.get(path.suffix.lower())
    if said is None:
        raise UsageError(f"cannot write {path}: flatgen writes pictures as .svg or .dot (.gv) files",
                         hint="-o circuit.svg, -o circuit.dot (Graphviz text: dot -Tpng circuit.dot), "
                              "or -o - for stdout")
    if fmt is not None and fmt != said:
        raise UsageError(f"--format {fmt}, but {path} is a .{said} file's name", hint=f"-o {path.stem}.{fmt}")
    return said


def write_picture(path: Path, text: str, fmt: str) -> bool:
    """Write `text` to `path` atomically, as modules are written (files.write_atomic): only a regular
    file flatgen wrote (its mark in the first lines), or no file, is replaced, so `-o model.py` by
    mistake refuses instead of destroying a source, and a FIFO or a device is never opened.  True when
    the file changed."""
    fmt = picture_format(path, fmt)
    mark = (MARK if fmt == "svg" else DOT_MARK).encode()
    return write_atomic(path, text, ours=lambda old: mark in old[:200], make_folder=False,
                        hint="choose another file name, or move the file away")
