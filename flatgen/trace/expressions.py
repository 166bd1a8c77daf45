"""Expressions: one equation per operation, nested subexpressions in temporaries.

`expr` traces an expression into equations and returns the atom that holds its value: a `Var`, a
`Lit` (a number or another trace-time constant: operations on constants only are folded here, so
`2 * np.pi` is a number and `x.shape[0]` an int), or a tuple of atoms (which exists only while
tracing: it is unpacked, indexed or returned).  `apply` is where every equation is made: it checks
the inputs are numbers, folds constants, gives the output its shape from the table's shape rule,
and keeps the integer analysis (loop indices and arithmetic on them are never differentiated) and
the views (for in-place writes) up to date.  Indexing is here too: constant indices (`x[0, 1:]`)
and run-time integer ones (`x[i]` in a rolled loop).
"""

from __future__ import annotations

import ast

import numpy as np

from .. import fence
from ..errors import ShapeError, UnsupportedSyntax
from ..graph import Atom, Lit, Var
from ..primitives import TABLE, Op
from ..rows_linalg import matmul_row
from .indexing import Indexing
from .shared import Part, is_int, is_number

BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow", ast.MatMult: "matmul",
          ast.FloorDiv: "floordiv", ast.Mod: "mod"}  # // and %: rows_python.py
COMPARE = {ast.Gt: "gt", ast.Lt: "lt", ast.GtE: "ge", ast.LtE: "le", ast.Eq: "eq", ast.NotEq: "ne"}
LAID_OUT = {"reshape", "T", "transpose", "ravel", "flatten", "squeeze", "expand_dims", "atleast_1d", "atleast_2d",
            "array_copy", "astype_int"}  # the same numbers laid out again: integers stay integers
INT_OPS = {"add", "sub", "mul", "neg", "floordiv", "mod"}  # integer arithmetic on loop indices and counts stays integer


class Expressions(Part):
    def __init__(self, t):
        super().__init__(t)
        self.index = Indexing(t)  # x[idx] read and z[idx] = v written (indexing.py)

    def expr(self, node: ast.expr, env: dict[str, Atom], hint: str | None) -> Atom:
        """Trace `node`; its own equation (if it makes one) gets `hint`, nested ones temporaries."""
        kind = type(node)
        if kind is ast.Name:  # the most frequent nodes first
            value = env.get(node.id)
            if type(value) is Var:  # a plain local value (lookup handles the rest: constants, branches, loops)
                return value
            return self.t.names.lookup(node.id, node, env)
        if kind is ast.BinOp:
            a, b = self.expr(node.left, env, None), self.expr(node.right, env, None)
            if type(a) is not Var or type(b) is not Var:  # a list, a tuple or a constant among them
                joined = self.t.lists.binop(node.op, a, b)  # [a] + [b], x.shape + (1,), [0.0] * 3 (lists.py)
                if joined is not None:
                    return joined
                a, b = self.number(a, node.left), self.number(b, node.right)
            return self.binop(node.op, a, b, hint, node)
        if isinstance(node, ast.Constant):
            return Lit(node.value)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, env, hint)
        if isinstance(node, ast.UnaryOp):
            x = self.number(self.expr(node.operand, env, None), node.operand)
            if isinstance(node.op, ast.UAdd):
                return x
            if isinstance(node.op, ast.USub):
                return self.apply(TABLE["neg"], (x,), hint, node)
            # `~` and `not` (in module constants): Python's own result on an int or a bool, nothing else
            if isinstance(x, Lit) and isinstance(x.value, int):
                return Lit(~x.value if isinstance(node.op, ast.Invert) else not x.value)
            raise UnsupportedSyntax(f"`{ast.unparse(node)}` is not arithmetic flatgen differentiates",
                                    self.src.loc(node), "use + - * / ** on numbers")
        if isinstance(node, ast.Compare):
            a, b = self.expr(node.left, env, None), self.expr(node.comparators[0], env, None)
            if isinstance(a, Lit) and isinstance(b, Lit) and not (is_number(a.value) and is_number(b.value)):
                # x.shape == (3,), mode == 'train': decided now
                return Lit(bool(TABLE[COMPARE[type(node.ops[0])]](a.value, b.value)))
            a, b = self.number(a, node.left), self.number(b, node.comparators[0])
            return self.apply(TABLE[COMPARE[type(node.ops[0])]], (a, b), hint, node)
        if isinstance(node, ast.IfExp):
            return self.if_exp(node, env, hint)
        if isinstance(node, ast.Call):
            return self.t.calls.call(node, env, hint)
        if isinstance(node, (ast.Tuple, ast.List)):  # a list of values is a tuple here: indexed, unpacked
            items = [self.expr(e, env, None) for e in node.elts]
            if isinstance(node, ast.List) and (not items or not all(isinstance(i, Lit) for i in items)):
                return self.t.lists.display(items)  # a list: it may grow (trace/lists.py)
            if all(isinstance(i, Lit) for i in items):
                return Lit(tuple(i.value for i in items))  # a constant: a shape, an axis tuple
            return tuple(items)  # a tuple of values exists only while tracing: unpacked, indexed or returned
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)):  # item by item (trace/lists.py)
            return self.t.lists.comprehension(node, env)
        if isinstance(node, ast.Subscript):
            return self.subscript(node, env, hint)
        if isinstance(node, ast.Slice):
            part = lambda p: None if p is None else self.static(p, env, "slice bounds")  # noqa: E731
            return Lit(slice(part(node.lower), part(node.upper), part(node.step)))
        fence.refuse(self.src, node)

    def if_exp(self, node: ast.IfExp, env: dict[str, Atom], hint: str | None) -> Atom:
        """`a if c else b`: the taken side when `c` is known now, else a select (both sides computed)."""
        known = self.t.branches.truth(node.test, env)
        if known is not None:  # decided when the module is generated: only the taken side
            return self.expr(node.body if known else node.orelse, env, hint)
        if isinstance(node.test, (ast.BoolOp, ast.UnaryOp)):
            error = ShapeError if self.t.decided_on_assumed else UnsupportedSyntax  # as in an `if` on data
            raise error("`and`/`or`/`not` on data are not in flatgen's subset yet", self.src.loc(node.test),
                        "write one comparison, or nest: a if c1 else (b if c2 else d)")
        c = self.expr(node.test, env, None)
        a = self.number(self.expr(node.body, env, None), node.body)
        b = self.number(self.expr(node.orelse, env, None), node.orelse)
        out = self.apply(TABLE["where"], (c, a, b), hint, node)  # a select: both sides are computed
        self.t.views.may_share(out, a, b)  # Python's `a if c else b` is a or b itself, not a copy
        return out

    def binop(self, op: ast.operator, a: Atom, b: Atom, hint: str | None, node: ast.AST | None = None) -> Atom:
        if isinstance(op, ast.MatMult):
            return self.matmul(a, b, hint, node)
        if isinstance(op, ast.Pow) and isinstance(b, Lit) and is_number(b.value) and b.value == 0 \
                and isinstance(a, Var):
            # x ** 0 is the constant 1: its gradient is 0 everywhere, where the power rule would give
            # 0 * x ** -1 (nan at x = 0)
            return Lit(1.0) if a.shape == () else self.apply(TABLE["ones_like"], (a,), hint, node)
        if type(op) not in BINOPS:  # << >> & | ^ (reached in module constants; the fence refuses them in code)
            raise UnsupportedSyntax(f"the operator `{ast.unparse(node) if node is not None else op}` is not "
                                    "arithmetic flatgen differentiates", self.src.loc(node or self.emit.stmt),
                                    "use + - * / ** (and compute integer sizes before calling the function)")
        return self.apply(TABLE[BINOPS[type(op)]], (a, b), hint, node)

    def matmul(self, a: Atom, b: Atom, hint: str | None, node) -> Atom:
        name, params = matmul_row(a.shape, b.shape)  # by rank: matrices, vectors, stacks of matrices
        return self.apply(TABLE[name], (a, b), hint, node, **params)

    def apply(self, op: Op, ins: tuple[Atom, ...], hint: str | None, node: ast.AST | None = None,
              **params) -> Atom:
        """Emit `hint = op(ins)` with its shape, or fold it when every input is a number."""
        for a in ins:
            if type(a) is not Var:  # constants (or a tuple) among the inputs
                folded = self.fold(op, ins, node, params)
                if folded is not None:
                    return folded
                break
        try:
            shape = op.shape(*[a.shape for a in ins], **({**op.defaults, **params} if params else op.defaults))
        except ValueError as e:
            raise ShapeError(str(e), self.src.loc(node or self.emit.stmt),
                             "check the shapes flatgen was given (example=, shapes in [tool.flatgen])") from None
        out = Var(hint, "value", shape=shape) if hint else Var(None, "temp", shape=shape)
        self.emit.equation(out, op, ins, params)
        ints = self.t.ints
        if ints and op.name in INT_OPS and any(a in ints for a in ins) and all(
                a in ints or (isinstance(a, Lit) and is_int(a.value)) for a in ins):
            ints.add(out)  # i + 1, n - 1: an integer (an index, a bound), never differentiated
        self.t.views.made(out, op, ins)
        if op.mask:
            self.index.masks.add(out)  # a boolean array: x[mask] picks where it is True
        elif op.name in LAID_OUT and isinstance(ins[0], Var):
            self.index.laid_out(out, ins[0])  # y.reshape(N * T) of labels y: an index if used as one
        return out

    def fold(self, op: Op, ins: tuple, node: ast.AST | None, params: dict) -> Lit | None:
        """Check the inputs are numbers; the folded value when every one is a constant, else None."""
        for a in ins:
            self.number(a, node or self.emit.stmt)
            if isinstance(a, Lit) and not (is_number(a.value) or isinstance(a.value, bool)):  # True is 1
                raise UnsupportedSyntax(f"{a.value!r} is not a number", self.src.loc(node or self.emit.stmt),
                                        "use numbers and arrays in arithmetic")
        if ins and all(isinstance(a, Lit) for a in ins):
            if op is TABLE["pow"] and all(isinstance(a.value, int) for a in ins) and ins[1].value > 0 and \
                    ins[1].value * max(abs(ins[0].value), 2).bit_length() > 1024:
                # 9 ** 9 ** 9 would take Python minutes (and a float cannot hold it)
                raise UnsupportedSyntax("this integer power is too large for a number flatgen writes",
                                        self.src.loc(node or self.emit.stmt), "use a float: 10.0 ** 400 is inf")
            try:
                value = op(*(a.value for a in ins), **params)
            except (ArithmeticError, ValueError) as e:  # 1 / 0, 0.0 ** -1, a math domain error
                error = ShapeError if self.t.decided_on_assumed else UnsupportedSyntax  # a shape assumed 0-d?
                raise error(f"this arithmetic on constants fails in Python: {e}", self.src.loc(node or self.emit.stmt),
                            "compute it with values that make sense; with arrays, give their shapes "
                            "(example=, shapes=)") from None
            if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 1024:
                raise UnsupportedSyntax("this integer is too large for a number flatgen writes",
                                        self.src.loc(node or self.emit.stmt), "use a float")
            if isinstance(value, np.generic):
                value = value.item()
            if is_number(value) or (op.mask and isinstance(value, bool)):
                return Lit(value)
        return None

    def attribute(self, node: ast.Attribute, env: dict[str, Atom], hint: str | None) -> Atom:
        names = self.t.names
        if names.is_module_path(node.value, env):
            dotted = names.dotted(node, env)
            return Lit(None) if dotted == "numpy.newaxis" else names.constant(dotted, node)  # x[:, np.newaxis]
        x = self.expr(node.value, env, None)
        if node.attr == "T" and isinstance(x, Var):
            return self.apply(TABLE["T"], (x,), hint, node)
        if node.attr in ("shape", "ndim", "size"):
            shape = self.shape_of(x, node)
            if isinstance(x, Var) and x.role == "param" and x.hint in self.t.assumed:
                self.t.decided_on_assumed = True
            return Lit({"shape": shape, "ndim": len(shape), "size": int(np.prod(shape))}[node.attr])
        raise UnsupportedSyntax(
            f"the attribute `.{node.attr}` of a value is not in flatgen's subset", self.src.loc(node),
            "on arrays: .T, .shape, .ndim, .size, and the methods .sum() .mean() .max() .min() .reshape() .transpose()",
        )

    def shape_of(self, x: Atom, node) -> tuple:
        if x.shape is None:
            raise ShapeError(
                "the shape of this array is not known when the module is generated", self.src.loc(node),
                "give example shapes: flatgen.flat(f, example=(...)), or `shapes` in [tool.flatgen]",
            )
        return x.shape

    # -- indexing (indexing.py) ---------------------------------------------------------------------

    def subscript(self, node: ast.Subscript, env: dict[str, Atom], hint: str | None) -> Atom:
        if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str) or (
                isinstance(node.value, ast.Name) and isinstance(env.get(node.value.id), dict)):
            return self.t.dicts.item(node, env)  # params["W1"] (trace/dicts.py)
        return self.index.read(node, env, hint)

    def static(self, node: ast.expr, env: dict[str, Atom], what: str):
        """A trace-time constant: a number, a tuple of them, None, a bool, a slice."""
        with self.emit.trial() as trial:
            value = self.expr(node, env, None)
            if not isinstance(value, Lit) or trial.emitted:  # the error undoes the trial's equations
                raise UnsupportedSyntax(f"{what} must be a constant known when the module is generated",
                                        self.src.loc(node), "write a number, a tuple of numbers, or use x.shape")
        return value.value
