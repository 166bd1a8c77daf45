"""Branches: an `if` decided now, or an `if` on data.

An `if` whose test is known when the module is generated (`truth`: a constant, a shape, a loop's
unrolled index) traces only the taken branch.  An `if` on data traces both branches, each equation
under its `Branch` frame; a name either branch assigns becomes one variable after the `if`, defined
at the end of each branch: by the equation that computes it there when it can (renamed), else by a
copy that closes the branch.  A name assigned in one branch only has no value after (`OneBranch`).
"""

from __future__ import annotations

import ast
from collections import ChainMap

from ..errors import ShapeError, UnsupportedSyntax
from ..graph import Branch, Eqn, Lit, Var
from .emitter import replace
from .flow import RETURN
from .shared import Closure, LoopLocal, OneBranch, Part, Stale


class Branches(Part):
    def if_statement(self, stmt: ast.If, env, prefix: str, rest: list[ast.stmt] = ()) -> None:
        """`rest`: the statements after an `if` with an exit inside (flow.py), which each side runs on."""
        known = self.truth(stmt.test, env)
        if known is None:
            self.on_data(stmt, env, prefix, rest)
        else:  # decided now: only the taken branch
            self.emit.stmt = stmt
            self.t.flow.run([*(stmt.body if known else stmt.orelse), *rest], env, prefix)

    def truth(self, test: ast.expr, env: dict) -> bool | None:
        """True/False when known at trace time, None when it depends on the data."""
        if isinstance(test, ast.BoolOp):
            values = [self.truth(v, env) for v in test.values]
            if isinstance(test.op, ast.And):
                return False if False in values else (None if None in values else True)
            return True if True in values else (None if None in values else False)
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            v = self.truth(test.operand, env)
            return None if v is None else not v
        with self.emit.trial() as trial:
            value = self.expr(test, env, None)
            if isinstance(value, Lit) and not isinstance(value.value, (tuple, slice)):
                return bool(value.value)
            trial.undo()  # decided by the data: traced where the `if` is
        return None

    def on_data(self, stmt: ast.If, env, prefix: str, rest: list[ast.stmt] = ()) -> None:
        """An `if` on data: both branches are traced, each equation tagged with its condition; a name
        assigned in either branch becomes one variable, defined at the end of each (a copy, unless the
        branch computed it last)."""
        if isinstance(stmt.test, (ast.BoolOp, ast.UnaryOp)):  # and/or/not on data: nested ifs
            self.if_statement(_nested(stmt), env, prefix, rest)
            return
        self.emit.stmt = stmt
        c = self.expr(stmt.test, env, None)
        if not isinstance(c, Var) or c.shape != ():
            raise ShapeError("an `if` on data needs one true/false value: this condition is an array",
                             self.src.loc(stmt.test), "for arrays, select elementwise: np.where(c, a, b)")
        only = self.t.flow.only_returns(stmt)
        self.fork(c, stmt, env, prefix, ([*stmt.body, *rest], [*stmt.orelse, *rest]), only)

    def fork(self, c: Var, stmt: ast.stmt, env, prefix: str, sides: tuple, only: bool = False) -> None:
        """Trace the two sides of an `if` on `c`, then merge what they assign.  A side is a list of
        statements, or a function of its scope that traces it (an unrolled iteration that runs only
        while no `break` has been taken).  `only`: nothing but the returned value is read after."""
        traced = []
        for want, side in zip((True, False), sides):
            local = ChainMap({}, env)  # what the branch assigns stays in local.maps[0]
            start = len(self.emit.eqns)
            with self.emit.under(Branch(c, want)):
                if callable(side):
                    side(local)
                else:
                    self.t.flow.run(side, local, prefix)
            assigned = local.maps[0]
            if only:
                assigned = {k: v for k, v in assigned.items() if k == RETURN}
            traced.append((assigned, start, len(self.emit.eqns)))
        then_copies, else_copies = self._merge(stmt, env, prefix, traced)
        # the copies close each branch: the then-branch's go before the else-branch's equations
        self.emit.stmt = stmt
        (_, _, t1), (_, _, f1) = traced
        tail = [self._copy(p, v, Branch(c, False)) for p, v in else_copies]
        head = [self._copy(p, v, Branch(c, True)) for p, v in then_copies]
        self.emit.eqns[f1:f1] = tail
        self.emit.eqns[t1:t1] = head

    def _merge(self, stmt: ast.stmt, env, prefix: str, sides: list) -> tuple[list, list]:
        """Each name a branch assigns gets its value after the `if` in `env`; returns the copies that
        close each branch, (merged variable, the branch's value) for the then- and the else-branch."""
        (then_vals, t0, t1), (else_vals, f0, f1) = sides
        names = list(dict.fromkeys([*then_vals, *else_vals]))
        self._taken: set = set()
        self._renamed: dict = {}  # else-branch values now computed under their merged name
        copies = ([], [])  # copies to append at the end of each branch
        for name in names:
            v_t = then_vals.get(name, env.get(name))
            v_f = else_vals.get(name, env.get(name))
            if isinstance(v_t, (LoopLocal, Stale)) or isinstance(v_f, (LoopLocal, Stale)):
                # maybe never set, or changed in place on one path: no value after
                env[name] = v_t if isinstance(v_t, (LoopLocal, Stale)) else v_f
                continue
            if v_t is None or v_f is None or isinstance(v_t, OneBranch) or isinstance(v_f, OneBranch):
                env[name] = OneBranch(name, stmt)  # set on one path only: no value after the if
                continue
            env[name] = self._merged(name, v_t, v_f, self.t.flow.hint(name, prefix, env), stmt, sides, copies)
        return copies

    def _merged(self, name: str, v_t, v_f, hint: str | None, stmt, sides, copies):
        """The value after the `if` of a name that is `v_t` after one side and `v_f` after the other: one
        variable (a tuple or list of them, item by item, when both sides give one of the same length)."""
        (_, t0, t1), (_, f0, f1) = sides
        v_f = self._renamed.get(v_f, v_f) if isinstance(v_f, Var) else v_f
        if v_t is v_f:  # the same value either way (an alias, a constant): no merge needed
            return v_t
        if isinstance(v_t, tuple) and isinstance(v_f, tuple) and len(v_t) == len(v_f) and type(v_t) is type(v_f) \
                and not isinstance(v_t, Lit):
            return type(v_t)(tuple(self._merged(name, a, b, None, stmt, sides, copies) for a, b in zip(v_t, v_f)))
        for v in (v_t, v_f):
            if isinstance(v, tuple) and isinstance(v_t, tuple) != isinstance(v_f, tuple) or isinstance(v, Closure) \
                    or isinstance(v, Lit) and isinstance(v.value, tuple):
                what = "function" if isinstance(v, Closure) else "tuple or list"
                raise UnsupportedSyntax(f"`{name}` is a {what} in one branch of an `if` on data and not the same "
                                        "in the other", self.src.loc(stmt),
                                        "assign numbers and arrays in branches (tuples and lists: of the same "
                                        "length in both)")
            if isinstance(v, tuple):
                raise UnsupportedSyntax(f"`{name}` is a tuple or list of {len(v_t)} items in one branch of an `if` "
                                        f"on data and of {len(v_f)} in the other", self.src.loc(stmt),
                                        "a list's length must be known when the module is generated: append "
                                        "in both branches, or to an array")
        if v_t.shape != v_f.shape:
            raise ShapeError(f"`{name}` has shape {v_t.shape} in one branch and {v_f.shape} in the other",
                             self.src.loc(stmt), "give it the same shape in both branches")
        p = self._made_in(v_t, t0, t1, self._taken)
        if p is None:
            p = Var(hint, "value", shape=v_t.shape) if hint else Var(None, "temp", shape=v_t.shape)
            copies[0].append((p, v_t))
        self._taken.add(p)
        if self._made_in(v_f, f0, f1, self._taken | {v_t}) is v_f:
            replace(self.emit.eqns[f0:f1], v_f, p)  # the else branch computes p directly
            self._renamed[v_f] = p
        else:
            copies[1].append((p, v_f))
        self.t.views.may_share(p, v_t, v_f)
        return p

    def _made_in(self, v, start: int, end: int, taken: set):
        """`v` if it is a variable computed in eqns[start:end] and not already a merged name, else None."""
        if isinstance(v, Var) and v not in taken and any(e.out is v for e in self.emit.eqns[start:end]):
            return v
        return None

    def _copy(self, out: Var, value, frame: Branch) -> Eqn:
        return self.emit.copy(out, value, self.emit.here() + (frame,))  # the copy closes its branch


def _nested(stmt: ast.If) -> ast.If:
    """`if a and b:` as `if a: (if b: ... else: E) else: E`; `or` the other way round; `not c` swaps the
    branches.  Python evaluates the operands left to right and only as far as it needs: so do these."""
    test = stmt.test
    if isinstance(test, ast.UnaryOp):  # `not c`
        out = ast.If(test.operand, list(stmt.orelse), list(stmt.body))
    else:
        first, more = test.values[0], test.values[1:]
        inner = ast.If(more[0] if len(more) == 1 else ast.BoolOp(test.op, more), list(stmt.body), list(stmt.orelse))
        ast.copy_location(inner, stmt)
        if inner.test is not more[0]:
            ast.copy_location(inner.test, more[0])
        if isinstance(test.op, ast.And):
            out = ast.If(first, [inner], list(stmt.orelse))
        else:
            out = ast.If(first, list(stmt.body), [inner])
    return ast.copy_location(out, stmt)
