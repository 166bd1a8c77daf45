"""Lowering: rules and bookkeeping ops written as equations of the table's own primitives.

A gradient graph's equations apply local-gradient rules (`g * (1 - out**2)`) and bookkeeping ops
(accumulation, merges, seeds, zeros, sums back over broadcast axes, scatters).  Each is an `Expr`;
lowering reads that expression's syntax tree and writes one primitive equation per operation, the
way the tracer reads the user's code: `g * (1 - out**2)` becomes `t1 = pow out 2`, `t2 = sub 1 t1`,
`grad = mul g t2`.  Every primitive has rules of its own, so a lowered gradient graph is a forward
graph like any other: reverse.py can differentiate it again (second order: JAX and tinygrad get it
the same way, by writing rules in their primitives).

Needs the shapes (np.shape(x) becomes a constant).  Not lowered: a rolled loop's tapes (push, pop,
counts) and frames; `lower_graph` refuses a graph that has them (LoweringError).
"""

from __future__ import annotations

import ast

import numpy as np

from .expr import Expr
from .graph import Atom, Eqn, Graph, Lit, Var
from .primitives import COPY, SETITEM, TABLE, Op
from .shapes import unbroadcast_axes

_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
_COMPARE = {ast.Gt: "gt", ast.Lt: "lt", ast.GtE: "ge", ast.LtE: "le", ast.Eq: "eq", ast.NotEq: "ne"}
_CALLS = {f"np.{f}": f for f in ("exp", "log", "sqrt", "tanh", "sin", "cos", "abs", "maximum", "minimum", "where",
                                  "outer", "sign", "zeros_like", "ones_like")} | {"sigmoid": "sigmoid"}
_REDUCTIONS = {"np.sum": "sum", "np.mean": "mean", "np.max": "max", "np.min": "min"}
ROWS = {**TABLE, "setitem": SETITEM}  # the primitives lowered equations use: each has its rules


class LoweringError(Exception):
    """An expression or graph that lowering does not handle (a flatgen limitation, not a user error)."""


class Lowering:
    """Writes the equations of one expression, bound to its equation's inputs and params."""

    def __init__(self, expr: Expr, ins: tuple[Atom, ...], params: dict, defaults: dict):
        self.env: dict[str, Atom] = dict(zip(expr.slots, ins))
        self.params = {**defaults, **params}
        self.eqns: list[Eqn] = []

    # -- one primitive equation ----------------------------------------------------------------------

    def apply(self, name: str, ins: tuple, **params) -> Atom:
        op = ROWS[name]
        if ins and all(isinstance(a, Lit) for a in ins):  # constants fold, as the tracer folds them
            value = op(*(a.value for a in ins), **params)
            return Lit(value.item() if isinstance(value, np.generic) else value)
        try:
            shape = op.shape(*(a.shape for a in ins), **{**op.defaults, **params})
        except ValueError as e:
            raise LoweringError(f"{name}: {e}") from None
        out = Var(None, "temp", shape=shape)
        self.eqns.append(Eqn(out, op, tuple(ins), params=dict(params)))
        return out

    # -- expressions ---------------------------------------------------------------------------------

    def static(self, node: ast.expr):
        """A trace-time value: a constant, a param, a tuple of them, np.shape / np.size of a slot."""
        value = self.expr(node)
        if not isinstance(value, Lit):
            raise LoweringError(f"`{ast.unparse(node)}` is not a constant")
        return value.value

    def expr(self, node: ast.expr) -> Atom:
        if isinstance(node, ast.Constant):
            return Lit(node.value)
        if isinstance(node, ast.Name):
            if node.id in self.env:
                return self.env[node.id]
            if node.id in self.params:
                return Lit(self.params[node.id])
            raise LoweringError(f"unknown name `{node.id}`")
        if isinstance(node, ast.Tuple):
            return Lit(tuple(self.static(e) for e in node.elts))
        if isinstance(node, ast.BinOp):
            a, b = self.expr(node.left), self.expr(node.right)
            if isinstance(node.op, ast.MatMult):
                return self.matmul(a, b)
            if type(node.op) not in _BINOPS:
                raise LoweringError(f"operator {ast.unparse(node)}")
            return self.apply(_BINOPS[type(node.op)], (a, b))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return self.apply("neg", (self.expr(node.operand),))
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return self.apply(_COMPARE[type(node.ops[0])], (self.expr(node.left), self.expr(node.comparators[0])))
        if isinstance(node, ast.Attribute) and node.attr == "T":
            return self.apply("T", (self.expr(node.value),))
        if isinstance(node, ast.Subscript):
            return self.apply("index", (self.expr(node.value),), idx=self.static(node.slice))
        if isinstance(node, ast.Call):
            return self.call(node)
        raise LoweringError(f"`{ast.unparse(node)}` has no primitive")

    def matmul(self, a: Atom, b: Atom) -> Atom:
        ranks = (len(a.shape), len(b.shape))
        row = {(2, 2): "matmul", (2, 1): "matmul_mv", (1, 2): "matmul_vm", (1, 1): "dot"}.get(ranks)
        if row is None:
            raise LoweringError(f"@ of ranks {ranks}")
        return self.apply(row, (a, b))

    def call(self, node: ast.Call) -> Atom:
        name = ast.unparse(node.func)
        kwargs = {k.arg: self.static(k.value) for k in node.keywords}
        if name in ("np.shape", "np.size", "np.ndim"):
            shape = self.expr(node.args[0]).shape
            if shape is None:
                raise LoweringError("the shape is not known")
            return Lit({"np.shape": shape, "np.size": int(np.prod(shape)), "np.ndim": len(shape)}[name])
        if name in _CALLS:
            return self.apply(_CALLS[name], tuple(self.expr(a) for a in node.args))
        if name in _REDUCTIONS:
            x = self.expr(node.args[0])
            axis = kwargs.get("axis", self.static(node.args[1]) if len(node.args) > 1 else None)
            keepdims = bool(kwargs.get("keepdims", False))
            every = axis is None or len(np.atleast_1d(axis)) == len(x.shape)
            row = _REDUCTIONS[name] if keepdims or every else f"{_REDUCTIONS[name]}_axis"
            return self.apply(row, (x,), axis=tuple(axis) if isinstance(axis, list) else axis, keepdims=keepdims)
        if name == "np.broadcast_to":
            x, shape = self.expr(node.args[0]), tuple(self.static(node.args[1]))
            if x.shape == shape:
                return x
            lead, ones = unbroadcast_axes(x.shape, shape)
            axes = lead + tuple(len(lead) + i for i in ones)
            return self.apply("broadcast_to", (x,), shape=shape, axes=axes)
        if name in ("np.reshape", "np.transpose", "np.expand_dims"):
            x, arg = self.expr(node.args[0]), self.static(node.args[1])
            key = {"np.reshape": "shape", "np.transpose": "axes", "np.expand_dims": "axis"}[name]
            if name == "np.reshape" and tuple(arg) == x.shape:
                return x
            params = {key: tuple(arg) if isinstance(arg, list) else arg}
            if name == "np.transpose":
                params["inverse"] = tuple(int(i) for i in np.argsort(arg))
            return self.apply(name.removeprefix("np."), (x,), **params)
        if name in ("np.zeros", "np.ones"):
            return self.apply(name.removeprefix("np."), (), shape=tuple(np.atleast_1d(self.static(node.args[0]))))
        if name == "unbroadcast":  # the support function: its shape is known here
            g, shape = self.expr(node.args[0]), tuple(self.static(node.args[1]))
            return self.sum_to(g, shape)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "copy" and not node.args:
            return self.expr(node.func.value)  # values are never written in place here: a copy is the value
        if name == "np.copy":
            return self.expr(node.args[0])
        raise LoweringError(f"`{name}(...)` has no primitive")

    def sum_to(self, g: Atom, shape: tuple) -> Atom:
        """g summed back to `shape` (the axes numpy broadcast), as reverse.py writes it."""
        lead, ones = unbroadcast_axes(shape, g.shape)
        if lead:
            g = self.apply("sum_axis", (g,), axis=lead if len(lead) > 1 else lead[0], keepdims=False)
        if ones:
            g = self.apply("sum", (g,), axis=ones if len(ones) > 1 else ones[0], keepdims=True)
        return g

    # -- statement blocks: OUT = ...; OUT[idx] = v; OUT[idx] += g --------------------------------------

    def block(self, tree: ast.Module) -> Atom:
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
                self.env[stmt.targets[0].id] = self.expr(stmt.value)
            elif isinstance(stmt, (ast.Assign, ast.AugAssign)) and isinstance(getattr(stmt, "target", None)
                                                                              or stmt.targets[0], ast.Subscript):
                target = stmt.target if isinstance(stmt, ast.AugAssign) else stmt.targets[0]
                z, idx = self.expr(target.value), self.static(target.slice)
                v = self.expr(stmt.value)
                if isinstance(stmt, ast.AugAssign):  # OUT[idx] += g: the item, plus g, written back
                    v = self.apply(_BINOPS[type(stmt.op)], (self.apply("index", (z,), idx=idx), v))
                slot = TABLE["index"].shape(z.shape, idx=idx)
                if v.shape != slot:  # OUT[idx] = 0.0: the value broadcast to the slot
                    v = self.apply("mul", (v, self.apply("ones", (), shape=slot))) if slot != () else v
                self.env[target.value.id] = self.apply("setitem", (z, v), idx=idx)
            else:
                raise LoweringError(f"statement `{ast.unparse(stmt)}`")
        return self.env["OUT"]


def lower_eqn(e: Eqn) -> list[Eqn]:
    """`e` as primitive equations, the last of which defines `e.out` (unchanged when `e` is one)."""
    if ROWS.get(e.op.name) is e.op or e.op is COPY:
        return [e]
    low = Lowering(e.op.expr, e.ins, e.params, e.op.defaults)
    tree = e.op.expr.tree
    result = low.block(tree) if e.op.expr.block else low.expr(tree)
    eqns = low.eqns
    if isinstance(result, Var) and eqns and eqns[-1].out is result:
        eqns[-1].out = e.out  # the last equation defines the value the graph refers to
    else:  # a slot or a constant itself (a merge, a seed, zeros): a copy, which has a rule, or a constant
        eqns.append(Eqn(e.out, COPY if isinstance(result, Var) else CONSTANT, (result,)))
    for d in eqns:
        d.loc, d.source, d.frames = e.loc, e.source, e.frames
    return eqns


# A constant as an equation, `out = c` (a seed, a scalar zero): nothing to differentiate.
CONSTANT = Op("constant", Expr("x", ("x",)), "const", (None,), elementwise=False)


def lower_graph(graph: Graph) -> Graph:
    """The graph with every equation a primitive of the table: a forward graph reverse.py can take."""
    eqns = []
    for e in graph.eqns:
        if e.frames:
            raise LoweringError("branches and rolled loops are not lowered yet")
        eqns += lower_eqn(e)
    return Graph(graph.name, graph.params, eqns, list(graph.outs), math=graph.math, ints=graph.ints)
