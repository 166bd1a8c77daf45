"""What the tracer's parts share: `Part`, the base of each concern, and the values a name can hold
while tracing besides numbers and arrays.

The tracer is one walk over the function's AST, split by concern into small objects: statements,
branches, loops, expressions, calls and names.  A part holds the `Tracer` it belongs to (`self.t`)
and reaches the rest only through it: `t.emit` (the equation list and where in the user's code it
is written from), `t.views` (which arrays a name may share), the facts the whole trace keeps
(`t.ints`, `t.floats`, `t.assumed`, `t.decided_on_assumed`, `t.hashed`, `t.unroll`) and the other
parts (`t.statements`, `t.branches`, `t.loops`, `t.expressions`, `t.calls`, `t.names`).  The walk's
two recursive entry points, `expr` and `statement`, are on every part.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ShapeError, UnsupportedSyntax
from ..graph import Atom

if TYPE_CHECKING:
    from .tracer import Tracer


@dataclass(frozen=True)
class OneBranch:
    """A name assigned in only one branch of an `if` on data: it has no value after the `if`."""

    name: str
    stmt: ast.If


@dataclass(frozen=True)
class LoopLocal:
    """A name first assigned inside a rolled loop: it has no value after the loop (the loop may run
    zero times)."""

    name: str
    stmt: ast.stmt


@dataclass(frozen=True)
class Stale:
    """A name that sees an array numpy has since written into in place (`prev = h[t - 1]`, then
    `h[t] = ...`): its value changed in Python, so flatgen refuses to read it again (rebinding it is fine)."""

    name: str
    written: str  # the array written into
    node: ast.AST  # where


@dataclass(frozen=True)
class Closure:
    """A function defined inside the traced function: inlined where it is called, reading the
    enclosing function's names (never writing them: its assignments are its own)."""

    fn: ast.FunctionDef
    env: dict


class Part:
    """One concern of the tracer, sharing the tracer `t` with the others."""

    def __init__(self, t: Tracer):
        self.t = t
        self.src = t.src
        self.emit = t.emit

    def expr(self, node: ast.expr, env: dict[str, Atom], hint: str | None) -> Atom:
        """Trace an expression (expressions.py)."""
        return self.t.expressions.expr(node, env, hint)

    def statement(self, stmt: ast.stmt, env: dict[str, Atom], prefix: str) -> None:
        """Trace a statement (statements.py)."""
        self.t.statements.statement(stmt, env, prefix)

    def refuse(self, what: str, node: ast.AST, hint: str):
        """Refuse `node`; a ShapeError when a trace-time decision read a shape flatgen only assumed (a
        parameter traced as a scalar): the decorator then waits for the first call's shapes."""
        error = ShapeError if self.t.decided_on_assumed else UnsupportedSyntax
        raise error(what, self.src.loc(node), hint)

    def number(self, value, node):
        """A tuple where a number or an array belongs is refused."""
        if isinstance(value, tuple):
            raise UnsupportedSyntax("a tuple or list is not a number", self.src.loc(node),
                                    "unpack it first: a, b = ..., or index it with a constant: t[0]")
        return value


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def segment(src, fn: ast.FunctionDef) -> str:
    """A function's source, for the module's source hash: what ast.get_source_segment gives, without
    splitting the whole file into lines."""
    if fn.end_lineno is None or fn.end_col_offset is None:
        return ast.dump(fn)
    text = src.text
    starts = [0]  # where each line starts, up to the function's last line (Python's line ends)
    for m in _LINE_END.finditer(text):
        if len(starts) > fn.end_lineno:
            break
        starts.append(m.end())

    def at(line: int, col: int) -> int:  # col counts UTF-8 bytes, as in the tree
        start = starts[line - 1]
        end = starts[line] if line < len(starts) else len(text)
        return start + len(text[start:end].encode()[:col].decode())

    return text[at(fn.lineno, fn.col_offset):at(fn.end_lineno, fn.end_col_offset)] or ast.dump(fn)


_LINE_END = re.compile(r"\r\n|\n|\r")
