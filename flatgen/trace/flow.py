"""Flow: a block of statements that may leave early: `return` in a branch, `continue`, `break`.

Flat code has no jumps, so an exit is written as what follows it not running.  A block is traced
statement by statement until one of them leaves it:

- `return v` ends the path: its value goes to the scope's RETURN (every path of a function returns;
  the fence checks that);
- `continue` ends the path: what the iteration has computed so far is its end;
- `break` ends the path too, and sets the loop's flag (`running`, a scope entry of its own) to
  False: loops.py runs the iterations after a possible break under `if running:` (a loop kept as a
  loop runs its whole body under it, and a `while` loop tests it in its header);
- an `if` with an exit inside (anywhere but in a nested loop's body) takes the rest of the block
  with it: each side runs its own statements and then the rest, as far as it goes.  Decided now,
  only the taken side is traced; on data, both sides are branches (branches.py) and what they
  assign is merged after, as for any `if` on data.  So `if x < 0: return 0.0` followed by the
  rest of the function becomes an `if` whose else-branch is that rest, and `if j == y[i]: continue`
  an `if` whose else-branch is the rest of the iteration.

The rest of a block is traced once per side that reaches it: nested exits can repeat code, never
change what it computes.
"""

from __future__ import annotations

import ast

from ..errors import UnsupportedSyntax
from ..graph import Lit, is_loop
from .shared import Part

RETURN = "return"  # the scope's entry for the value this path returns (a keyword: never a user's name)
RESULT = "return hint"  # the name the returned value gets (the function's, or the helper's `h_out`)
BREAK = "break {}"  # the entry for a loop's flag (`running`): True until the loop breaks


class Flow(Part):
    def __init__(self, t):
        super().__init__(t)
        self.levels: list[int] = []  # per function being traced (helpers inlined): loops around the block
        self.breaks: list[str] = []  # the scope entries of the enclosing loops' flags, innermost last

    def function(self, body: list[ast.stmt], env, prefix: str, result_hint: str):
        """Trace a function's body: the value it returns (on every path; merged where paths meet)."""
        env[RESULT] = result_hint
        self.levels.append(0)
        try:
            self.run(body, env, prefix)
        finally:
            self.levels.pop()
        return env[RETURN]

    @property
    def in_loop(self) -> bool:
        """Is the block being traced inside a loop of the function it belongs to?"""
        return bool(self.levels and self.levels[-1])

    def loop_body(self, body: list[ast.stmt], env, prefix: str) -> None:
        """Trace one iteration of a loop's body (continue and break end it)."""
        self.levels[-1] += 1
        try:
            self.run(body, env, prefix)
        finally:
            self.levels[-1] -= 1

    def run(self, stmts: list[ast.stmt], env, prefix: str) -> None:
        """Trace `stmts` until one of them leaves the block (see the module's docstring)."""
        for k, stmt in enumerate(stmts):
            if isinstance(stmt, ast.Return):
                self.emit.stmt = stmt
                env[RETURN] = self.expr(stmt.value, env, env.get(RESULT))
                return
            if isinstance(stmt, ast.Continue):
                return
            if isinstance(stmt, ast.Raise):
                self.raises(stmt)
            if isinstance(stmt, ast.Break):
                env[self.breaks[-1]] = Lit(False)
                return
            if isinstance(stmt, ast.If) and exits(stmt):
                self.t.branches.if_statement(stmt, env, prefix, rest=stmts[k + 1:])
                return
            self.statement(stmt, env, prefix)

    def raises(self, stmt: ast.Raise) -> None:
        """A `raise` the trace reaches: on data, flat code cannot raise on one path; decided now, the
        function raises for these shapes and settings."""
        if any(not is_loop(f) for f in self.emit.here()):
            raise UnsupportedSyntax("`raise` on a path chosen by the data: flat code has no exceptions",
                                    self.src.loc(stmt), "check the inputs before calling the function, or assert")
        self.refuse("this `raise` runs for the shapes and settings the module is generated for", stmt,
                    "check the arguments (example=, a dict of settings) or the condition that leads here")

    def hint(self, name: str, prefix: str, env) -> str:
        """The name a value merged after an `if` gets: the user's, the function's for its returned value,
        `running` for a loop's flag."""
        if name == RETURN:
            return env.get(RESULT) or prefix + "out"
        if name.startswith("break "):
            return prefix + "running"
        return prefix + name

    def only_returns(self, stmt: ast.If) -> bool:
        """After this `if`, does nothing but the returned value matter?  So for an `if` with an exit in
        a function's own block (not in a loop): it took the rest of the function with it."""
        return exits(stmt) and not self.in_loop


def exits(node: ast.stmt) -> bool:
    """Does `node` hold a `return`, or a `break`/`continue` of the loop around it (not of a loop inside)?"""
    todo = [node]
    while todo:
        n = todo.pop()
        if isinstance(n, (ast.Return, ast.Break, ast.Continue)):
            return True
        if isinstance(n, (ast.For, ast.While, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue  # a loop's own break and continue stay in it (and the fence refuses return there)
        todo.extend(c for f in ("body", "orelse") for c in getattr(n, f, ()))
    return False


def breaks(body: list[ast.stmt]) -> bool:
    """Does this loop body hold a `break` of its own loop?"""
    todo = list(body)
    while todo:
        n = todo.pop()
        if isinstance(n, ast.Break):
            return True
        if isinstance(n, (ast.For, ast.While, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        todo.extend(c for f in ("body", "orelse") for c in getattr(n, f, ()))
    return False
