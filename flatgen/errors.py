"""The one exception type users see, and how it points at their source.

Every refusal names file:line:col, shows the offending line with a caret under the construct and
ends with a one-line hint of what to write instead.  Internal errors are never dressed up as
FlatgenError: a bug should look like a bug.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Loc:
    """A span in the user's source: 1-based line, 0-based columns (as the ast module gives them)."""

    file: str
    line: int
    col: int = 0
    end_col: int | None = None
    text: str = ""  # the whole source line

    def caret(self) -> str:
        """The source line and a caret (^^^) under the span."""
        line = self.text.rstrip("\n")
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        col = max(self.col - indent, 0)
        end = self.end_col if self.end_col and self.end_col > self.col else self.col + 1
        width = max(min(end, len(line)) - self.col, 1)
        return f"    {stripped}\n    {' ' * col}{'^' * width}"


class FlatgenError(Exception):
    """A function (or a request) that flatgen refuses, with where and what to do instead."""

    kind = "error"

    def __init__(self, message: str, loc: Loc | None = None, hint: str | None = None):
        self.message = message
        self.loc = loc
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        parts = []
        if self.loc is not None:
            where = f"{self.loc.file}:{self.loc.line}:{self.loc.col + 1}"
            parts.append(f"{where}: {self.kind}: {self.message}")
            if self.loc.text.strip():
                parts.append(self.loc.caret())
        else:
            parts.append(f"{self.kind}: {self.message}")
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)

    def _render_traceback_(self) -> list[str]:
        """What IPython (a notebook, the IPython prompt) shows for it: the message with its caret and
        hint, and the line of the user's code that called flatgen, not the frames of flatgen inside."""
        lines = self.render().splitlines()
        lines[0] = f"FlatgenError: {lines[0]}"
        called = _calling_line(self.__traceback__)
        return lines + ([f"(called from {called})"] if called else [])


class UnsupportedSyntax(FlatgenError):
    """A statement or expression outside the subset (the fence)."""

    kind = "unsupported"


class ShapeError(FlatgenError):
    """Shapes that do not fit together, or that are needed and not known."""

    kind = "shape"


class NameResolutionError(FlatgenError):
    """A name, call or attribute that flatgen cannot resolve to a value, primitive or helper."""

    kind = "unresolved"


class SourceNotFound(FlatgenError):
    """The function's source cannot be read (lambda, exec, REPL) or the target does not exist."""

    kind = "source"


class UsageError(FlatgenError):
    """A bad request: unknown target, bad option, bad configuration."""

    kind = "usage"


class InternalError(FlatgenError):
    """A flatgen bug, reported as such (the original exception is chained as __cause__)."""

    kind = "internal error (a flatgen bug: please report it)"

    @property
    def _render_traceback_(self):
        """A bug shows every frame: IPython renders its full traceback when this attribute is missing."""
        raise AttributeError("_render_traceback_")


def guard(fn):
    """Let FlatgenError through; turn any other exception into an InternalError (chained)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (FlatgenError, BrokenPipeError):
            raise
        except RecursionError as e:
            raise FlatgenError(
                "the function is nested too deeply for flatgen to walk",
                hint="split long expressions into several assignments",
            ) from e
        except Exception as e:  # noqa: BLE001 - the point is to catch everything else
            raise InternalError(f"{type(e).__name__}: {e}") from e

    return wrapper


def loc_of(node, file: str, lines: list[str], line_offset: int = 0) -> Loc:
    """The Loc of an ast node whose lines are numbered within `lines` (plus an offset)."""
    lineno = getattr(node, "lineno", 1)
    text = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    end_col = getattr(node, "end_col_offset", None)
    if getattr(node, "end_lineno", lineno) != lineno:
        end_col = len(text.rstrip("\n"))
    return Loc(file, lineno + line_offset, getattr(node, "col_offset", 0), end_col, text)


def _calling_line(tb) -> str | None:
    """`Cell In[3], line 5` (or `file.py, line 5`): the last frame outside flatgen before the traceback
    enters flatgen, where the user's code called it.  None when the traceback has no such frame."""
    import os
    import traceback

    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    called = None
    for frame in traceback.extract_tb(tb):
        if os.path.abspath(frame.filename).startswith(package):
            break
        called = frame
    if called is None:
        return None
    from .notebook import cell_label

    return f"{cell_label(called.filename) or called.filename}, line {called.lineno}"
