"""Reverse transform: the forward graph -> a gradient graph (forward equations, then adjoints).

Walk the forward equations backwards.  Each equation's rule for each input (from the primitive
table) becomes an adjoint equation.  The first contribution to an input's gradient binds it
(`grad_x = ...`); later ones are written as visible accumulations (`grad_x += ...`, the copy
gate), never overwriting.  Only values on a path from a requested parameter to the output get a
gradient; a requested parameter the output ignores gets zeros of its shape.
"""

from __future__ import annotations

from collections import Counter

from .graph import Eqn, Graph, Var
from .primitives import ACC, SEED, ZEROS


def active_vars(graph: Graph, wrt: list[Var]) -> set[Var]:
    """Variables that depend on a parameter in `wrt` and that the output depends on."""
    depends = set(wrt)
    for e in graph.eqns:
        if any(a in depends for a in e.ins if isinstance(a, Var)):
            depends.add(e.out)
    reaches = {o for o in graph.outs[:1] if isinstance(o, Var)}
    for e in reversed(graph.eqns):
        if e.out in reaches:
            reaches.update(a for a in e.ins if isinstance(a, Var))
    return depends & reaches


def reverse(graph: Graph, wrt: list[Var]) -> Graph:
    out = graph.outs[0]
    active = active_vars(graph, wrt)
    uses = Counter(a for e in graph.eqns if e.out in active for a in e.ins if a in active)
    backward: list[Eqn] = []
    grad: dict[Var, Var] = {}
    if out in active:
        grad[out] = Var(None, "grad", of=out)
        backward.append(Eqn(grad[out], SEED, ()))
    for e in reversed(graph.eqns):
        if e.out not in grad:
            continue
        slots = {"g": grad[e.out], "out": e.out, **dict(zip(e.op.expr.slots, e.ins))}
        for rule, x in zip(e.op.rules, e.ins):
            if x not in active:
                continue
            ins = tuple(slots[s] for s in rule.expr.slots)
            if x not in grad:
                grad[x] = Var(None, "grad", of=x)
                backward.append(Eqn(grad[x], rule, ins, e.loc, block=e, source=e.source))
            else:
                d = Var(None, "partial", of=x)
                backward.append(Eqn(d, rule, ins, e.loc, block=e, source=e.source))
                acc = Var(None, "grad", of=x)
                backward.append(Eqn(acc, ACC, (grad[x], d), e.loc, block=e, uses=uses[x], source=e.source))
                grad[x] = acc
    grads = []
    for p in wrt:
        if p not in grad:
            grad[p] = Var(None, "grad", of=p)
            backward.append(Eqn(grad[p], ZEROS, (p,)))
        grads.append(grad[p])
    return Graph(graph.name, graph.params, [*graph.eqns, *backward], [out, *grads], n_forward=len(graph.eqns))
