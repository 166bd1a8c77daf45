"""Statements: a function body, one statement at a time, into the scope `env`.

The scope maps each name to what it holds now: a `Var` or a `Lit`, a tuple of them, or a marker
(shared.py) for a name that has no value here.  Rebinding a name makes a new variable (SSA inside,
the user's name kept as a hint outside).  Assignments, unpacking, augmented assignments and item
writes (`z[i] = v`, which numpy does in place: traced as a new version of z) are here; an `if` goes
to branches.py, `for` and `while` to loops.py, a block that may leave early (return, continue, break)
to flow.py, expression statements (print, xs.append(v), docstrings) and asserts to builtins.py.  Once
the body has returned, `outputs` checks what it returns: scalars, or a flat tuple of them.
"""

from __future__ import annotations

import ast

from ..errors import ShapeError, UnsupportedSyntax
from ..graph import Atom, Lit, Var
from .shared import Closure, Part


class Statements(Part):
    def body(self, fn: ast.FunctionDef, env: dict[str, Atom], prefix: str, result_hint: str) -> Atom:
        """Trace a function's body; its returned value gets `result_hint` (returns in branches: flow.py)."""
        return self.t.flow.function(fn.body, env, prefix, result_hint)

    def return_node(self, fn: ast.FunctionDef) -> ast.Return:
        """The function's last `return` (where a message about what it returns points)."""
        returns = [n for n in _own_statements(fn) if isinstance(n, ast.Return)]
        return max(returns, key=lambda n: (n.lineno, n.col_offset))

    def statement(self, stmt: ast.stmt, env: dict[str, Atom], prefix: str) -> None:
        self.emit.stmt = stmt
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            hint = prefix + targets[0].id if isinstance(targets[0], ast.Name) else None
            value = self.expr(stmt.value, env, hint)
            for target in targets:  # a = b = v: one value, bound left to right as Python binds it
                self.bind(target, value, env, prefix)
        elif isinstance(stmt, ast.FunctionDef):
            # A nested helper sees the enclosing function's names as they are when it is called.
            env[stmt.name] = Closure(stmt, env)
        elif isinstance(stmt, ast.If):
            self.t.branches.if_statement(stmt, env, prefix)
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Subscript):  # z[0] += v
            current = self.expr(stmt.target, env, None)
            value = self.t.expressions.binop(stmt.op, current, self.expr(stmt.value, env, None), None)
            self.setitem(stmt.target, value, env, prefix)
        elif isinstance(stmt, ast.AugAssign):
            self.augmented(stmt, env, prefix)
        elif isinstance(stmt, ast.For):
            self.t.loops.for_statement(stmt, env, prefix)
        elif isinstance(stmt, ast.While):
            self.t.loops.while_statement(stmt, env, prefix)
        elif isinstance(stmt, ast.Expr):
            self.t.builtins.expression_statement(stmt, env, prefix)
        elif isinstance(stmt, ast.Assert):
            self.t.builtins.assertion(stmt, env)
        # `pass` traces to nothing

    def bind(self, target: ast.expr, value, env: dict, prefix: str) -> None:
        """`x = v`, or `a, (b, c) = v` for a tuple value of the same structure."""
        if isinstance(target, ast.Name):
            env[target.id] = value
            return
        if isinstance(target, ast.Subscript):
            self.setitem(target, value, env, prefix)
            return
        items = value.value if isinstance(value, Lit) and isinstance(value.value, tuple) else value
        if isinstance(value, Var) and value.shape and value.shape[0] == len(target.elts):
            items = tuple(self.t.sequences.value(value, target).items)  # theta, omega = x.T: an array's rows
        if not isinstance(items, tuple):
            if isinstance(value, Var) and self.t.assumed:  # an array traced as a scalar: wait for its shape
                raise ShapeError("only a tuple or an array can be unpacked here", self.src.loc(target),
                                 "give example shapes: flatgen.flat(f, example=(...))")
            self.refuse("only a tuple (or an array, by its rows) can be unpacked here", target,
                        "unpack what a tuple-valued expression or helper returns: a, b = h(x)")
        if len(items) != len(target.elts):  # N, D = x.shape with x's shape only assumed: wait for it
            self.refuse(f"{len(target.elts)} names for a tuple of {len(items)}", target,
                        "unpack into as many names as the tuple has items")
        for t, v in zip(target.elts, items):
            if isinstance(v, Var) and isinstance(t, ast.Name) and v.role == "temp":
                v.hint, v.role = prefix + t.id, "value"  # a tuple item made here takes the name it is bound to
            self.bind(t, Lit(v) if isinstance(v, (int, float)) else v, env, prefix)

    def augmented(self, stmt: ast.AugAssign, env: dict, prefix: str) -> None:
        """`a += y`: a new version of `a` (numpy writes an array in place: only when no other name sees it)."""
        name = stmt.target.id
        left = self.number(self.t.names.lookup(name, stmt.target, env), stmt.target)
        if isinstance(left, Var) and left.shape != ():
            self.t.views.writable(name, env, stmt.target)
        right = self.expr(stmt.value, env, None)
        result = self.t.expressions.binop(stmt.op, left, right, prefix + name)
        if isinstance(left, Var) and left.shape not in ((), None) and result.shape != left.shape:
            sym = _op_symbol(stmt.op)
            raise ShapeError(f"`{name} {sym}= ...` would change {name}'s shape from {left.shape} "
                             f"to {result.shape}; numpy refuses that", self.src.loc(stmt),
                             f"write {name} = {name} {sym} ... to make a new array")
        env[name] = result

    def setitem(self, target: ast.Subscript, value, env: dict, prefix: str) -> None:
        """z[idx] = v: z becomes a new version, a copy of the old one with v written in."""
        name = target.value.id
        exprs = self.t.expressions
        self.t.views.writable(name, env, target)
        z = self.t.names.lookup(name, target.value, env)
        v = self.number(value, target)
        if not isinstance(z, Var) or z.shape in ((), None):
            raise UnsupportedSyntax(f"`{name}` is not a local array of known shape, so flatgen cannot write into it",
                                    self.src.loc(target), "write into a local array: z = np.zeros(3); z[0] = a * b")
        env[name] = exprs.index.write(name, z, v, target, env, prefix + name)  # indexing.py: broadcasts, index arrays

    def outputs(self, fn: ast.FunctionDef, out) -> list:
        """What the function returns, as a list of outputs (`return loss, aux`: several), each a scalar or
        an array (a layer's output, whose gradient function takes its upstream gradient: flatgen/vjp.py)."""
        if isinstance(out, Lit) and isinstance(out.value, tuple):  # return 1.0, 2.0: constants, still several
            out = tuple(Lit(v) for v in out.value)
        outs = list(out) if isinstance(out, tuple) else [out]  # `return loss, aux`: several outputs
        made_by = {e.out: e for e in self.emit.eqns}
        where = self.src.loc(self.return_node(fn).value)
        for i, o in enumerate(outs):
            if isinstance(o, tuple):
                raise UnsupportedSyntax(f"{fn.name}() returns a nested tuple", where, "return a flat tuple of values")
            if o in made_by and made_by[o].op.mask:
                raise UnsupportedSyntax(f"{fn.name}() returns a comparison (a mask), which has no gradient",
                                        where, "return a number computed from the values")
            if isinstance(o, Var) and o.role == "temp" and len(outs) > 1:
                o.hint, o.role = f"{fn.name}_{i}", "value"
        return outs


def _op_symbol(op: ast.operator) -> str:
    return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@",
            ast.FloorDiv: "//", ast.Mod: "%"}[type(op)]


def _own_statements(fn: ast.FunctionDef):
    """The statements of `fn` itself, nested blocks included (not those of functions defined in it)."""
    todo = list(fn.body)
    while todo:
        n = todo.pop()
        yield n
        if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            todo.extend(c for f in ("body", "orelse") for c in getattr(n, f, ()))
