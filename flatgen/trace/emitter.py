"""The emitter: the equation list the trace writes, and where in the user's code it writes from.

Every part of the tracer emits through one `Emitter`, which owns the state they share about the
place being traced: the equations so far (`eqns`), the frames they run under (`frames`: a `Branch`
for each side of an `if` on data, a `Loop` for each rolled loop), the statement being traced
(`stmt`: its location and text go into each equation) and the iterations of the unrolled loops
around it (for the comments).  Changes to that state that must be undone come as context managers,
so no caller saves and restores it by hand: `under(frame)`, `into(eqns)` (a while loop's condition
goes to its header), `iteration(text)`, `elsewhere()` (a helper's body, a default value, a module
constant: the current statement comes back after) and `trial()` (equations traced to look at a
value, dropped when it is not wanted).
"""

from __future__ import annotations

import ast
from contextlib import contextmanager

from ..graph import Branch, Eqn, Var, is_loop
from ..parse import Source
from ..primitives import COPY, Op
from ..unparse import unparse


class Trial:
    """Equations emitted to find out what an expression is: `undo()` drops them; so does an exception
    leaving the `with` block.  Otherwise they stay."""

    def __init__(self, eqns: list[Eqn]):
        self.eqns = eqns
        self.start = len(eqns)

    def __enter__(self) -> Trial:
        return self

    def __exit__(self, kind, error, tb) -> None:
        if kind is not None:
            self.undo()

    @property
    def emitted(self) -> bool:
        """Did the expression emit any equation (it is not a trace-time constant)?"""
        return len(self.eqns) != self.start

    def undo(self) -> None:
        del self.eqns[self.start:]


class Emitter:
    def __init__(self, src: Source):
        self.src = src
        self.eqns: list[Eqn] = []
        self.frames: list = []  # the frames being traced: Branch (a side of an `if` on data), Loop (rolled)
        self.stmt: ast.stmt | None = None  # the statement being traced: each equation's location and text
        self.iterations: list[str] = []  # the unrolled loops' current iterations, for comments: ["t = 0"]
        self._texts: dict = {}
        self._here: tuple = ()  # self.frames as a tuple: what each equation carries

    def equation(self, out: Var, op: Op, ins: tuple, params: dict) -> None:
        """Emit `out = op(ins)` for the current statement, under the current frames."""
        key = (id(self.stmt), tuple(self.iterations)) if self.iterations else id(self.stmt)
        found = self._texts.get(key)
        if found is None or found[0] is not self.stmt:  # once per statement (and iteration), not per equation
            its = f"  ({', '.join(self.iterations)})" if self.iterations else ""
            found = self._texts[key] = (self.stmt, stmt_text(self.stmt) + its, self.src.loc(self.stmt))
        self.eqns.append(Eqn(out, op, ins, found[2], params, None, 0, found[1], self._here))

    def copy(self, out: Var, value, frames: tuple, op: Op = COPY) -> Eqn:
        """`out = value`, made by flatgen to close a branch or a loop body (not emitted: the caller puts it
        where it belongs).  No source text: it is not a line of the user's."""
        return Eqn(out, op, (value,), self.src.loc(self.stmt), frames=frames)

    def here(self) -> tuple:
        """The frames the next equation runs under."""
        return self._here

    @contextmanager
    def under(self, frame):
        """Trace under one more frame: a side of an `if` on data, a rolled loop's body."""
        self.frames.append(frame)
        self._here = tuple(self.frames)
        try:
            yield
        finally:
            self.frames.pop()
            self._here = tuple(self.frames)

    @contextmanager
    def into(self, eqns: list[Eqn]):
        """Emit into another list: a `while` loop's condition goes to the loop's header."""
        saved = self.eqns
        self.eqns = eqns
        try:
            yield
        finally:
            self.eqns = saved

    @contextmanager
    def iteration(self, text: str):
        """One iteration of an unrolled loop (`t = 0`), named in the comments of what it emits."""
        self.iterations.append(text)
        try:
            yield
        finally:
            self.iterations.pop()

    @contextmanager
    def elsewhere(self):
        """Trace code that is not the current statement (a helper's body, a default value, a module
        constant); the current statement is the current one again after."""
        saved = self.stmt
        try:
            yield
        finally:
            self.stmt = saved

    def trial(self) -> Trial:
        """`with emitter.trial() as trial:` trace an expression to see what it is, and `trial.undo()` its
        equations when they are not wanted (an `if` decided at trace time, a constant index)."""
        return Trial(self.eqns)


def replace(eqns: list[Eqn], old: Var, new: Var) -> None:
    """Every use and definition of `old` in `eqns` (inputs, outputs, conditions, loop headers) becomes `new`."""
    swap = lambda a: new if a is old else a  # noqa: E731
    loops = set()
    for e in eqns:
        e.ins = tuple(swap(a) for a in e.ins)
        e.out = swap(e.out)
        e.frames = tuple(f if is_loop(f) else Branch(swap(f.cond), f.want) for f in e.frames)
        loops.update(f for f in e.frames if is_loop(f))
    for loop in loops:
        loop.bounds = tuple(swap(b) for b in loop.bounds)
        loop.cond = swap(loop.cond)
        for e in loop.head:
            e.ins = tuple(swap(a) for a in e.ins)


def stmt_text(stmt: ast.stmt | None) -> str:
    """The user's statement for comments, printed from the AST (never raw text); loops by their header."""
    if stmt is None:
        return ""
    if isinstance(stmt, ast.For):
        return f"for {unparse(stmt.target)} in {unparse(stmt.iter)}:"
    if isinstance(stmt, ast.If):  # the header only: the branches have lines of their own
        return f"if {unparse(stmt.test)}:"
    if isinstance(stmt, ast.While):
        return f"while {unparse(stmt.test)}:"
    return unparse(stmt)
