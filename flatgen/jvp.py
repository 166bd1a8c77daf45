"""Forward mode: a graph -> its JVP graph, each value's tangent computed right after the value.

The lectures' other mode of automatic differentiation.  Along one direction (a tangent `dot_x` per
differentiated parameter), each equation `out = op(ins)` is followed by the equation of its tangent,
`dot_out`, the directional derivative of out: the same walk as the forward pass, in the same order,
under the same frames (branches stay branches, loops stay loops).  Tangents are named after their
values, `dot_s3` (Newton's dot notation, as lectures write it).

How a row's tangent follows from its inputs' tangents (Op.tangent, in the table beside the rules):
- derived (elementwise rows): a rule is linear in g, `g * (1 - out**2)`; with g replaced by the
  input's tangent it is that input's share, `dot_t2 * (1 - out**2)`; the shares of the inputs add up;
- "linear" (sum, index, transpose, item assignment, np.where's two sides): the row itself, applied
  to the tangents, `np.sum(dot_h, axis=0)`;
- "multilinear" (a * b, a @ b, einsum): the row applied to one tangent at a time, added,
  `dot_W @ x + W @ dot_x`;
- "reduce" (max, var, norm, prod, ...): the rule's local gradient (g of ones) times the tangent,
  reduced the way the row reduces;
- explicit terms, one per input, for the other rows (inv, solve, det, slogdet, pad).
An input with no tangent (a constant, a parameter left out of wrt, a mask) contributes nothing.  A
value that needs a tangent but whose equation gets none from its inputs (a constant assigned in
one branch of an `if` whose other branch depends on x) gets zeros.

A rolled loop's tapes (in a gradient graph: second order, flatgen/hvp.py) carry tangents too: a
tangent tape beside each tape, the tangent pushed and popped beside its value.
"""

from __future__ import annotations

import ast
import copy
import functools

from .errors import UsageError
from .expr import Expr
from .graph import Atom, Eqn, Graph, Lit, Var, frame_reads, is_loop
from .primitives import COPY, INIT, INIT_SCALAR, POP, TAPE, Op
from .shapes import broadcast

# the zero tangent of a value no differentiated input reaches on this path: zeros in x's float type, as a
# gradient's zero-init (0.0 for a scalar)
ZERO_ARRAY, ZERO_SCALAR = INIT, INIT_SCALAR


def kind_of(op: Op) -> str:
    """How the table gives op's tangent: "derived", "linear", "multilinear", "reduce" or "terms"."""
    return op.tangent if isinstance(op.tangent, str) else "terms" if op.tangent is not None else "derived"


def has_tangent(op: Op) -> bool:
    """Can forward mode push a tangent through `op`: a rule for some input, and a way to its tangent."""
    if not any(r is not None for r in op.rules):
        return True  # no input moves the output: it has no tangent to compute
    return op.tangent is not None or op.elementwise


def _slot_tangent(slot: str) -> str:
    return f"t_{slot}"


class _Rename(ast.NodeTransformer):
    def __init__(self, names: dict):
        self.names = names

    def visit_Name(self, node):
        new = self.names.get(node.id)
        if new is None:
            return node
        return copy.deepcopy(new) if isinstance(new, ast.AST) else ast.Name(new, ast.Load())


def _tree(expr: Expr, names: dict) -> ast.expr:
    return _Rename(names).visit(copy.deepcopy(expr.tree))


def _added(terms: list[ast.expr]) -> ast.expr:
    """t1 + t2 + ...; a negated term is subtracted (`dot_a - dot_b`, not `dot_a + -dot_b`)."""
    total = terms[0]
    for t in terms[1:]:
        if isinstance(t, ast.UnaryOp) and isinstance(t.op, ast.USub):
            total = ast.BinOp(total, ast.Sub(), t.operand)
        else:
            total = ast.BinOp(total, ast.Add(), t)
    return total


def _zero_of(slot: str, scalar: bool) -> ast.expr:
    if scalar:
        return ast.Constant(0.0)
    return ast.parse(f"np.zeros(np.shape({slot}), np.result_type({slot}, 1.0))", mode="eval").body


@functools.cache
def tangent_op(op: Op, active: tuple[bool, ...], scalars: tuple[bool, ...], spread: bool) -> Op:
    """The op that computes op's output tangent from the tangents of the `active` inputs (slot t_<slot>),
    the inputs and `out`.  `scalars`: which inputs are scalars (their zero is 0.0); `spread`: the result
    may have fewer axes than out (an elementwise row's input that was broadcast): spread it over out's shape."""
    slots = op.expr.slots
    tangents = tuple(_slot_tangent(s) for s, a in zip(slots, active) if a)
    kind = kind_of(op)
    block = False
    if kind == "linear":
        diff = [r is not None for r in op.rules]
        names = {s: (_slot_tangent(s) if a else _zero_of(s, sc)) for s, a, d, sc in zip(slots, active, diff, scalars)
                 if d}
        tree = _tree(op.expr, names)
        block = op.expr.block
    elif kind == "multilinear":
        tree = _added([_tree(op.expr, {s: _slot_tangent(s)}) for s, a in zip(slots, active) if a])
    elif kind == "reduce":
        (x,) = slots
        local = _tree(op.rules[0].expr, {"g": ast.parse("np.ones_like(out)", mode="eval").body})
        tree = ast.parse("np.sum(_t * _local, axis=axis, keepdims=keepdims)", mode="eval").body
        tree = _Rename({"_t": _slot_tangent(x), "_local": local}).visit(tree)
    elif kind == "terms":
        tree = _added([_tree(term, {"t": _slot_tangent(s)}) for s, a, term in zip(slots, active, op.tangent) if a])
    else:
        if not op.elementwise:
            raise ValueError(f"{op.name} has no tangent rule (Op.tangent)")
        tree = _added([_tree(rule.expr, {"g": _slot_tangent(s)}) for s, a, rule in zip(slots, active, op.rules) if a])
    if spread:
        tree = ast.BinOp(tree, ast.Mult(), ast.parse("np.ones_like(out)", mode="eval").body)
    text = "\n".join(ast.unparse(s) for s in tree.body) if block else ast.unparse(tree)
    params = tuple(op.defaults)
    expr = Expr(text, (*tangents, "out", *slots), params, block=block)
    return Op(f"{op.name}.jvp", expr, op.gate, defaults=op.defaults, elementwise=False,
              writes_item=op.writes_item and block)


def _inputs_of(op: Op, e: Eqn) -> list[int]:
    """The inputs of `e` a tangent flows through."""
    if op.saves:
        return [1]  # push: the value pushed
    if op.restores:
        return [0]  # pop: from the tape
    return [i for i, r in enumerate(op.rules) if r is not None]


def active_vars(graph: Graph, wrt: list[Var], outs: list[Atom]) -> set[Var]:
    """Variables that depend on a parameter in `wrt` (through inputs with rules, and through tapes) and
    that `outs` depend on: the ones that get a tangent."""
    eqns = graph.eqns
    rolled = any(is_loop(f) for e in eqns for f in e.frames)
    depends = set(wrt)
    while True:
        size = len(depends)
        for e in eqns:
            if any(type(e.ins[i]) is Var and e.ins[i] in depends for i in _inputs_of(e.op, e)):
                depends.add(e.out)
        if not rolled or len(depends) == size:
            break
    reaches = {o for o in outs if type(o) is Var}
    while True:
        size = len(reaches)
        for e in reversed(eqns):
            if e.out in reaches:
                reaches.update(e.ins[i] for i in _inputs_of(e.op, e) if type(e.ins[i]) is Var)
        if not rolled or len(reaches) == size:
            break
    return depends & reaches


class Forward:
    """Writes the JVP graph: the equations of `graph`, each active one followed by its tangent's."""

    def __init__(self, graph: Graph, wrt: list[Var], outs: list[Atom]):
        self.graph, self.wrt, self.outs = graph, wrt, outs
        self.active = active_vars(graph, wrt, outs)
        self.dot: dict[Var, Var] = {p: Var(None, "tangent", of=p, shape=p.shape) for p in wrt}
        self.eqns: list[Eqn] = []

    def tangent(self, v: Var) -> Var:
        if v not in self.dot:
            self.dot[v] = Var(None, "tangent", of=v, shape=v.shape)
        return self.dot[v]

    def emit(self, e: Eqn, out: Var, op: Op, ins: tuple, before: bool = False) -> None:
        t = Eqn(out, op, ins, e.loc, dict(e.params), e, 0, e.source, e.frames)  # block: the value's equation
        if before:
            self.eqns.insert(len(self.eqns) - 1, t)
        else:
            self.eqns.append(t)

    def zero(self, e: Eqn, v: Var) -> None:
        self.emit(e, self.tangent(v), ZERO_SCALAR if v.shape == () else ZERO_ARRAY, (v,))

    def run(self) -> list[Eqn]:
        active = self.active
        for e in self.graph.eqns:
            self.eqns.append(e)
            if e.out not in active:
                continue
            op = e.op
            if op is TAPE:
                self.emit(e, self.tangent(e.out), TAPE, ())
            elif op.saves:
                tape, x = e.ins
                if x not in active:
                    self.zero(e, x)  # a value with no tangent on this path, beside one that has
                self.emit(e, self.tangent(tape), op, (self.tangent(tape), self.tangent(x)))
            elif op.restores:
                self.emit(e, self.tangent(e.out), POP, (self.tangent(e.ins[0]),))
            else:
                self.equation(e)
        return self.eqns

    def equation(self, e: Eqn) -> None:
        op, ins, out = e.op, e.ins, e.out
        flows = set(_inputs_of(op, e))
        on = tuple(k in flows and type(a) is Var and a in self.active for k, a in enumerate(ins))
        if not any(on):
            self.zero(e, out)
            return
        if not (op.tangent is not None or op.elementwise):
            raise UsageError(f"forward mode has no tangent rule for {op.name}", hint="a flatgen limitation")
        scalars = tuple(a.shape == () for a in ins)
        spread = op.elementwise and op.tangent is None and not self.graph.math and _spreads(op, ins, on, out)
        top = tangent_op(op, on, scalars, spread)
        slot = dict(zip(op.expr.slots, ins))
        env = {"out": out, **slot, **{f"t_{s}": self.tangent(a) for s, a, o in zip(op.expr.slots, ins, on) if o}}
        reads = set(top.expr.slots)
        overwritten = [s for s, a in slot.items() if a is out and s in reads]
        before = False
        if overwritten:  # the equation overwrites an input its tangent reads (a loop's variable)
            if "out" in reads:  # both the old and the new value: keep the old one under a name
                old = Var(None, "temp", shape=out.shape)
                self.eqns.insert(len(self.eqns) - 1, Eqn(old, COPY, (out,), e.loc, {}, None, 0, e.source, e.frames))
                env.update({s: old for s in overwritten})
            else:
                before = True
        self.emit(e, self.tangent(out), top, tuple(env[s] for s in top.expr.slots), before=before)


def _spreads(op: Op, ins: tuple, on: tuple, out: Var) -> bool:
    """Do the shares of an elementwise row's tangent have fewer axes than out (`x + b`, only b's tangent)?
    Each share has the shape of its tangent broadcast with what its rule reads."""
    if out.shape is None or any(a.shape is None for a in ins):
        return True
    shares = []
    for i, rule in enumerate(op.rules):
        if not on[i]:
            continue
        reads = rule.expr.slots
        if "out" in reads:
            return False
        shares.append(broadcast(*[a.shape for k, a in enumerate(ins) if k == i or op.expr.slots[k] in reads]))
    return broadcast(*shares) != out.shape  # added up, the shares broadcast to each other


def live(eqns: list[Eqn], outs: list[Var]) -> list[Eqn]:
    """The equations `outs` need (a gradient the Hessian-vector product does not read is not computed),
    with what the frames they run under read (conditions, bounds, a while loop's test) and the tapes."""
    needed = set(outs)
    keep: set[int] = set()
    rolled = any(is_loop(f) for e in eqns for f in e.frames)
    while True:
        size = len(keep)
        for e in reversed(eqns):
            if id(e) in keep or e.out not in needed:
                continue
            keep.add(id(e))
            needed.update(a for a in e.ins if type(a) is Var)
            needed.update(v for f in e.frames for v in frame_reads(f))
        if not rolled or len(keep) == size:
            break
    return [e for e in eqns if id(e) in keep]


def jvp_graph(graph: Graph, wrt: list[Var], outs: list[Atom], values: list[Atom], name: str | None = None) -> Graph:
    """The JVP graph of `graph` along tangents of `wrt`: its parameters are graph's, then the tangents of
    wrt; its outputs `values` (values of graph returned as they are), then the tangents of `outs`."""
    fwd = Forward(graph, wrt, outs)
    eqns = fwd.run()
    dots: list[Atom] = []
    for o in outs:
        if type(o) is Var and o in fwd.active:
            dots.append(fwd.dot[o])
        elif type(o) is Var:  # an output no differentiated input reaches: a zero tangent, at the end
            z = Var(None, "tangent", of=o, shape=o.shape)
            eqns.append(Eqn(z, ZERO_SCALAR if o.shape == () else ZERO_ARRAY, (o,)))
            dots.append(z)
        else:
            dots.append(Lit(0.0))
    if not values:  # only tangents are returned (second order): what they do not need is dropped
        eqns = live(eqns, [d for d in dots if type(d) is Var])
    return Graph(name or graph.name, [*graph.params, *(fwd.dot[p] for p in wrt)], eqns, [*values, *dots],
                 math=graph.math, n_values=len(values), ints=graph.ints)
