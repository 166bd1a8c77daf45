"""Lowering: rules and bookkeeping ops written as equations of the table's own primitives.

A gradient graph's equations apply local-gradient rules (`g * (1 - out**2)`) and bookkeeping ops
(accumulation, merges, seeds, zeros, sums back over broadcast axes, scatters).  Each is an `Expr`;
lowering reads that expression's syntax tree and writes one primitive equation per operation, the
way the tracer reads the user's code: `g * (1 - out**2)` becomes `t1 = pow out 2`, `t2 = sub 1 t1`,
`grad = mul g t2`.  Every primitive has rules of its own, so a lowered gradient graph is a forward
graph like any other: reverse.py can differentiate it again (second order: JAX and tinygrad get it
the same way, by writing rules in their primitives).  Needs the shapes (np.shape(x) becomes a constant).

What lowering does with each kind of equation:
- a primitive (an op with one rule per input: the table's rows, copies, item assignment, indexing
  by run-time integers, `constant`): kept as it is;
- a rule or an arithmetic bookkeeping op (acc, merge, seed, seed_k, zeros, init, sums back over
  broadcast axes, unbroadcast, scatters and their in-place adds, setitem's rules, a while loop's
  count and its step): lowered; `x[i]` and `z[i] = v` with a rolled loop's index become
  `index_at` / `setitem_at`, the primitives the tracer writes for them;
- memory, a rolled loop's tapes (`tape`, `push`, `push_copy`, `pop`): kept as they are.  They move
  values and compute none, and no primitive holds a list: lowering them would mean rewriting the
  loop (a tape as an array the loop writes into), a change of algorithm, not of notation.
- frames: every lowered equation runs under the frames of the equation it comes from (the same
  side of the same `if`, the same loop), so branches stay branches and rolled loops stay loops; a
  while loop's condition (`Loop.head`) is primitives already, and is kept.
So a lowered gradient graph evaluates (interpret.run) to what the gradient graph evaluates to; what
lowering cannot write (an expression with no primitive, a shape unknown until run time) is refused
with a LoweringError, never written wrong.

Differentiating again: `lower_graph(..., for_reverse=True)` also refuses (LoweringError) a gradient
graph with a rolled loop, which reverse.py cannot differentiate correctly: `push` and `pop` have no
rules, so the second-order terms that flow through the values the backward loop takes back would be
dropped without a word; and reverse.loop writes the backward of every `for` loop as
`reversed(range(...))`, also for a backward loop that already runs reversed.  Branches on data are
fine: their gradient graphs differentiate again (tests/test_lower_graphs.py).
"""

from __future__ import annotations

import ast

import numpy as np

from . import shapes as S
from .expr import Expr, constant
from .graph import Atom, Eqn, Graph, Lit, Var, is_loop
from .primitives import CALLS, COPY, SETITEM, TABLE, Op, index_at, setitem_at
from .rows_index import LOWERINGS
from .rows_linalg import einsum_row, matmul_row
from .rows_numpy import cumsum_row
from .shapes import unbroadcast_axes

_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
_COMPARE = {ast.Gt: "gt", ast.Lt: "lt", ast.GtE: "ge", ast.LtE: "le", ast.Eq: "eq", ast.NotEq: "ne"}
ROWS = {**TABLE, "setitem": SETITEM}  # the primitives lowered equations use: each has its rules


class LoweringError(Exception):
    """An expression or graph that lowering does not handle (a flatgen limitation, not a user error)."""


def _is_zero(a: Atom) -> bool:
    """A constant number 0 (not False, not an array)."""
    return isinstance(a, Lit) and type(a.value) in (int, float) and a.value == 0


def is_primitive(op: Op) -> bool:
    """A row of the table, or an op with one rule per input (copies, item assignment, run-time
    indexing, `constant`): what reverse.py differentiates, so what lowering keeps and writes."""
    return ROWS.get(op.name) is op or (bool(op.rules) and len(op.rules) == len(op.expr.slots))


def is_memory(e: Eqn) -> bool:
    """A rolled loop's tape made, pushed to or popped from: kept as it is (see the module docstring)."""
    return e.op.saves or e.op.restores or e.out.role == "tape"


class Lowering:
    """Writes the equations of one expression, bound to its equation's inputs and params."""

    def __init__(self, expr: Expr, ins: tuple[Atom, ...], params: dict, defaults: dict):
        self.env: dict[str, Atom] = dict(zip(expr.slots, ins))
        self.params = {**defaults, **params}
        self.eqns: list[Eqn] = []

    # -- one primitive equation ----------------------------------------------------------------------

    def apply(self, row: str | Op, ins: tuple, out_shape=None, **params) -> Atom:
        """`row` (a name in ROWS, or an op) applied to `ins`; `out_shape` when the row's shape rule
        cannot tell (run-time indexing, an item of the tuple of upstream gradients)."""
        op = ROWS[row] if isinstance(row, str) else row
        if ins and all(isinstance(a, Lit) for a in ins):  # constants fold, as the tracer folds them
            value = op(*(a.value for a in ins), **params)
            return Lit(value.item() if isinstance(value, np.generic) else value)
        if op is ROWS["pow"] and isinstance(ins[0], Var) and _is_zero(ins[1]):
            # x ** 0 is the constant 1, as the tracer reads it (the power rule's `a ** (b - 1)` for b = 1):
            # differentiated again, the power rule would give 0 * x ** -1, nan at x = 0
            return Lit(1.0) if ins[0].shape == () else self.apply("ones_like", (ins[0],))
        shape = out_shape
        if shape is None:
            try:
                shape = op.shape(*(a.shape for a in ins), **{**op.defaults, **params})
            except ValueError as e:
                raise LoweringError(f"{op.name}: {e}") from None
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
        if isinstance(node, ast.Slice):
            part = lambda n: None if n is None else self.static(n)  # noqa: E731
            return Lit(slice(part(node.lower), part(node.upper), part(node.step)))
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
            return self.item(self.expr(node.value), node.slice)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise LoweringError(f"`{ast.unparse(node)}` has no primitive")

    def index(self, node: ast.expr):
        """An index: (idx, None, idx) when it is a constant; (signature, run-time integers, an index for
        the shape rule) when it holds a rolled loop's index (`OUT[:, i0]`): the index patterns of
        index_at / setitem_at, with 0 standing for each run-time integer in the shape's index."""
        parts = node.elts if isinstance(node, ast.Tuple) else [node]
        values = [self.expr(p) for p in parts]
        ints = tuple(v for v in values if isinstance(v, Var))
        static = tuple(0 if isinstance(v, Var) else v.value for v in values)
        static = static if isinstance(node, ast.Tuple) else static[0]
        if not ints:
            return static, None, static
        sig = tuple("#" if isinstance(v, Var) else ast.unparse(constant(v.value)) for v in values)
        return sig, ints, static

    def slot_shape(self, z: Atom, idx) -> tuple:
        """The shape of z[idx]."""
        try:
            return S.index(z.shape, idx=idx)
        except ValueError as e:
            raise LoweringError(str(e)) from None

    def item(self, x: Atom, node: ast.expr) -> Atom:
        idx, ints, shape_idx = self.index(node)
        if ints is not None:
            return self.apply(index_at(idx), (x, *ints), out_shape=self.slot_shape(x, shape_idx))
        if isinstance(x, Var) and x.role == "seed":  # the tuple of upstream gradients: one scalar per output
            return self.apply("index", (x,), out_shape=(), idx=idx)
        return self.apply("index", (x,), idx=idx)

    def matmul(self, a: Atom, b: Atom) -> Atom:
        if not a.shape or not b.shape:
            raise LoweringError(f"@ of shapes {a.shape} and {b.shape}")
        row, params = matmul_row(a.shape, b.shape)  # by rank, as the tracer picks it: stacks of matrices too
        return self.apply(row, (a, b), **params)

    def call(self, node: ast.Call) -> Atom:
        name = ast.unparse(node.func)
        kwargs = {k.arg: self.static(k.value) for k in node.keywords}
        if name in ("np.shape", "np.size", "np.ndim"):
            shape = self.expr(node.args[0]).shape
            if shape is None:
                raise LoweringError("the shape is not known")
            return Lit({"np.shape": shape, "np.size": int(np.prod(shape)), "np.ndim": len(shape)}[name])
        row = _row_of_call(name)
        if row is not None and row.shape is S.reduce:  # np.sum(x, axis=..., keepdims=...): a reduction's two rows
            x = self.expr(node.args[0])
            axis = kwargs.get("axis", self.static(node.args[1]) if len(node.args) > 1 else None)
            keepdims = bool(kwargs.get("keepdims", False))
            every = axis is None or len(np.atleast_1d(axis)) == len(x.shape)
            row = row if keepdims or every else ROWS.get(f"{row.name}_axis", row)
            return self.apply(row, (x,), axis=tuple(axis) if isinstance(axis, list) else axis, keepdims=keepdims)
        if row is not None and row.shape is not S.matmul and len(node.args) == len(row.expr.slots) and not kwargs:
            return self.apply(row, tuple(self.expr(a) for a in node.args))  # np.exp(x), np.where(c, g, 0.0), ...
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
        if name == "np.cumsum":  # a running sum along one axis, or flattened: the row (and flip) the tracer picks
            x = self.expr(node.args[0])
            row, params = cumsum_row(x.shape, kwargs.get("axis"))
            return self.apply(row, (x,), **params)
        if name == "np.einsum":
            operands = [self.expr(a) for a in node.args[1:]]
            kind, row = einsum_row(self.static(node.args[0]), tuple(x.shape for x in operands))
            if kind == "transpose":
                inverse = tuple(int(i) for i in np.argsort(row))
                return self.apply("transpose", tuple(operands), axes=row, inverse=inverse)
            return self.apply(row, tuple(operands))
        if name == "np.eye":  # an identity of the sizes in the rule: a constant
            return Lit(np.eye(*(self.static(a) for a in node.args)))
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
            target = stmt.target if isinstance(stmt, ast.AugAssign) else getattr(stmt, "targets", [None])[0]
            if isinstance(stmt, ast.Assign) and isinstance(target, ast.Name):
                self.env[target.id] = self.expr(stmt.value)
            elif isinstance(stmt, (ast.Assign, ast.AugAssign)) and isinstance(target, ast.Subscript):
                z, v = self.expr(target.value), self.expr(stmt.value)
                if isinstance(stmt, ast.AugAssign):  # OUT[idx] += g: the item, plus g, written back
                    v = self.apply(_BINOPS[type(stmt.op)], (self.item(z, target.slice), v))
                idx, ints, shape_idx = self.index(target.slice)
                slot = self.slot_shape(z, shape_idx)
                if v.shape != slot and slot != ():  # OUT[idx] = 0.0: the value broadcast to the slot
                    v = self.apply("mul", (v, self.apply("ones", (), shape=slot)))
                if ints is not None:
                    self.env[target.value.id] = self.apply(setitem_at(idx), (z, v, *ints))
                else:
                    self.env[target.value.id] = self.apply("setitem", (z, v), idx=idx)
            else:
                raise LoweringError(f"statement `{ast.unparse(stmt)}`")
        return self.env["OUT"]


def _row_of_call(name: str) -> Op | None:
    """The row a call in a rule means (`np.exp`, `np.linalg.norm`, `sigmoid`), by the calls the table's
    rows list: a row added later is found here too."""
    return CALLS.get("numpy." + name[3:] if name.startswith("np.") else f"flatgen.{name}")


# A constant as an equation, `out = c` (a seed, a scalar zero): nothing to differentiate.
CONSTANT = Op("constant", Expr("x", ("x",)), "const", (None,), elementwise=False)


def lower_eqn(e: Eqn) -> list[Eqn]:
    """`e` as primitive equations, the last of which defines `e.out`, under e's frames (`[e]` itself
    when it is a primitive, or memory: a tape)."""
    if is_primitive(e.op) or is_memory(e):
        return [e]
    low = Lowering(e.op.expr, e.ins, e.params, e.op.defaults)
    tree = e.op.expr.tree
    own = LOWERINGS.get(e.op)  # indexing by index arrays: np.add.at is a statement, rows_index writes it
    result = own(low) if own is not None else low.block(tree) if e.op.expr.block else low.expr(tree)
    eqns = low.eqns
    if isinstance(result, Var) and eqns and eqns[-1].out is result:
        eqns[-1].out = e.out  # the last equation defines the value the graph refers to
    else:  # a slot or a constant itself (a merge, a seed, zeros): a copy, which has a rule, or a constant
        eqns.append(Eqn(e.out, COPY if isinstance(result, Var) else CONSTANT, (result,)))
    for d in eqns:
        d.loc, d.source, d.frames = e.loc, e.source, e.frames
    return eqns


def lower_graph(graph: Graph, for_reverse: bool = False) -> Graph:
    """The graph with every equation a primitive of the table, or memory (a tape), each under the
    frames of the equation it comes from: it evaluates to what `graph` evaluates to.

    `for_reverse`: the result is to be differentiated again by reverse.py; then a gradient graph with
    a rolled loop is refused (LoweringError: see the module docstring for why)."""
    if for_reverse:
        looped = [e for e in graph.backward if any(is_loop(f) for f in e.frames)]
        if looped:
            line = next((e.loc.line for e in looped if e.loc), "?")
            raise LoweringError(
                "a gradient graph with a rolled loop cannot be differentiated again: reverse.py has no rules "
                "for the tapes (push, pop), so the gradient of a value the backward loop takes back would not "
                "reach the value the forward loop saved, and it would run the backward of the backward loop "
                f"reversed again (the loop of line {line})")
    for f in {id(f): f for e in graph.eqns for f in e.frames if is_loop(f)}.values():
        if not all(is_primitive(h.op) for h in f.head):
            raise LoweringError("a while loop's condition that is not primitives")
    eqns, n_forward = [], None
    for k, e in enumerate(graph.eqns):
        if k == graph.n_forward:
            n_forward = len(eqns)
        eqns += lower_eqn(e)
    if graph.n_forward == len(graph.eqns):
        n_forward = len(eqns)
    return Graph(graph.name, graph.params, eqns, list(graph.outs), n_forward=n_forward, math=graph.math,
                 seed=graph.seed, n_values=graph.n_values, ints=graph.ints)
