"""Simplify: optional passes, each a function graph -> graph, for the `compact` style.

The `lecture` style runs none of them: the code stays exactly the slide.  `compact` runs, in order:

    fold_constants   an equation of constants becomes a constant; the seed grad_L = 1.0 too
    identities       x * 1, 1 * x, x + 0, x - 0, x / 1, x ** 1 become copies (integer 1 and 0 only)
    copies           a copy (grad_s2 = grad_s3, and identity rules) disappears: its uses read the source
    common           two equations with the same op, inputs and params: the second reuses the first
    dead             equations no output needs are dropped

Passes only drop equations and substitute variables, never make new ones, so the namer's names
and the interpreter's reference stay valid.  tests/test_simplify.py checks each pass, and all of them
together, against the interpreter on the unsimplified graph.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from .graph import Atom, Graph, Lit, Var, frame_reads, is_loop
from .primitives import SEED


def substitute(graph: Graph, mapping: dict[Var, Atom], drop: set[int]) -> Graph:
    """The graph without the equations in `drop` (by id), every use of a key of `mapping` replaced."""
    def sub(a):
        while isinstance(a, Var) and a in mapping:
            a = mapping[a]
        return a

    eqns, n_forward = [], 0
    for i, e in enumerate(graph.eqns):
        if id(e) in drop:
            continue
        if graph.n_forward is not None and i < graph.n_forward:
            n_forward += 1
        ins = tuple(sub(a) for a in e.ins)
        eqns.append(e if ins == e.ins else replace(e, ins=ins))
    outs = [o for o in graph.outs]
    # A returned gradient keeps its own name: substitute inside, not in the return.
    outs[0] = sub(outs[0])
    return replace(graph, eqns=eqns, outs=outs, n_forward=n_forward if graph.n_forward is not None else None)


def _is_identity(text: str, slot: str) -> bool:
    return text.strip() == slot


def _accumulated(graph: Graph) -> set[Var]:
    """Variables the passes leave alone: those an in-place accumulation updates (`grad_x += d` keeps
    the name: merged with another variable, the update would change that one too), and everything an
    `if` on data or a loop touches (its conditions and bounds, what its body computes or reads)."""
    kept = {e.ins[0] for e in graph.eqns if e.op.inplace}
    for e in graph.eqns:
        if e.frames:
            kept.add(e.out)
            kept.update(a for a in e.ins if isinstance(a, Var))
            kept.update(v for f in e.frames for v in frame_reads(f))
    return kept


def fold_constants(graph: Graph) -> Graph:
    """Equations whose inputs are all numbers (the seed has none) become those numbers."""
    mapping, drop = {}, set()
    acc = _accumulated(graph)
    for e in graph.eqns:
        if e.out in acc or e.frames:
            continue
        ins = [mapping.get(a, a) for a in e.ins]
        if e.op is SEED or (ins and all(isinstance(a, Lit) and isinstance(a.value, (int, float)) for a in ins)
                            and not e.op.expr.block and not e.op.inplace):
            value = e.op(*(a.value for a in ins), math_mode=graph.math, **e.params)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and e.out not in graph.outs[1:]:
                mapping[e.out] = Lit(value)
                drop.add(id(e))
    return substitute(graph, mapping, drop)


IDENTITY = {  # op name -> (input slot that is the result, (other input, its neutral value))
    "mul": [(0, (1, 1)), (1, (0, 1))],
    "add": [(0, (1, 0)), (1, (0, 0))],
    "sub": [(0, (1, 0))],
    "div": [(0, (1, 1))],
    "pow": [(0, (1, 1))],
}


def identities(graph: Graph) -> Graph:
    """x * 1, x + 0, x - 0, x / 1, x ** 1 are x (when that does not change x's shape)."""
    mapping, drop = {}, set()
    acc = _accumulated(graph)
    masks = {e.out for e in graph.eqns if e.op.mask}  # 1 * (a < b) is a number, a < b a bool
    for e in graph.eqns:
        if e.frames:
            continue
        for keep, (other, neutral) in IDENTITY.get(e.op.name, ()):
            a, b = e.ins[keep], e.ins[other]
            # an int neutral only: x * 1.0 would be x for a float x but not for an int (3 * 1.0 is 3.0)
            if (isinstance(b, Lit) and type(b.value) is int and b.value == neutral
                    and isinstance(a, Var) and a.shape == e.out.shape and e.out not in graph.outs
                    and e.out not in acc and a not in acc and a not in masks):
                mapping[e.out] = a
                drop.add(id(e))
                break
    return substitute(graph, mapping, drop)


def copies(graph: Graph) -> Graph:
    """grad_s2 = grad_s3 (a rule that is just the upstream gradient, the add gate's) disappears."""
    mapping, drop = {}, set()
    acc = _accumulated(graph)
    for e in graph.eqns:
        if (len(e.ins) == 1 and e.op.expr.slots == ("g",) and _is_identity(e.op.expr.text, "g") and not e.frames
                and e.out not in graph.outs[1:] and e.out.role != "partial"
                and e.out not in acc and e.ins[0] not in acc):
            mapping[e.out] = e.ins[0]
            drop.add(id(e))
    return substitute(graph, mapping, drop)


def common(graph: Graph) -> Graph:
    """The same op on the same inputs with the same params, computed twice: compute it once."""
    seen: dict = {}
    mapping, drop = {}, set()
    acc = _accumulated(graph)
    # A variable defined more than once (a loop's variable) holds different values at different
    # times: `p * p` before the loop is not `p * p` after it.
    defs = Counter(e.out for e in graph.eqns)
    for e in graph.eqns:
        if (e.op.inplace or e.op.expr.block or e.out in graph.outs[1:] or e.out.role == "partial"
                or e.out in acc or e.frames or any(defs[a] > 1 for a in e.ins if isinstance(a, Var))):
            continue
        ins = tuple(mapping.get(a, a) for a in e.ins)
        key = (e.op, tuple(id(a) if isinstance(a, Var) else ("lit", repr(a.value)) for a in ins),
               repr(sorted(e.params.items())))
        if key in seen:
            mapping[e.out] = seen[key]
            drop.add(id(e))
        else:
            seen[key] = e.out
    return substitute(graph, mapping, drop)


def dead(graph: Graph) -> Graph:
    """Drop equations whose value no output needs (an in-place update counts as a use of its input)."""
    needed = {o for o in graph.outs if isinstance(o, Var)}
    keep = []
    for e in reversed(graph.eqns):
        # A loop's equations stay: the next iteration may read what an equation below computes.
        if e.out in needed or any(is_loop(f) for f in e.frames):
            needed.update(a for a in e.ins if isinstance(a, Var))
            needed.update(v for f in e.frames for v in frame_reads(f))  # conditions, loop bounds
            keep.append(e)
    kept = {id(e) for e in keep}
    return substitute(graph, {}, {id(e) for e in graph.eqns if id(e) not in kept})


PASSES = {
    "lecture": [],
    "compact": [fold_constants, identities, copies, common, dead],
}


def simplify(graph: Graph, style: str) -> Graph:
    for p in PASSES[style]:
        graph = p(graph)
    return graph
