"""Reverse transform: the forward graph -> a gradient graph (forward equations, then adjoints).

Walk the forward equations backwards.  Each equation's rule for each input (from the primitive
table) becomes an adjoint equation.  The first contribution to an input's gradient binds it
(`grad_x = ...`); later ones are written as visible accumulations (the copy gate), never
overwriting.  Where numpy broadcast an input, its contribution is summed back to its shape by an
explicit equation (`np.sum(grad_z, axis=0)`).  Only values on a path from a requested parameter to
the output get a gradient; a requested parameter the output ignores gets zeros of its shape.
"""

from __future__ import annotations

from collections import Counter

from .graph import Atom, Eqn, Graph, Var
from .primitives import ACC, INIT, INIT_SCALAR, MERGE, SCATTER, SCATTER_ADD, SEED, SEED_K, SUM_LEAD, SUM_ONES, UNBROADCAST, ZEROS
from .shapes import unbroadcast_axes


def active_vars(graph: Graph, wrt: list[Var]) -> set[Var]:
    """Variables that depend (differentiably) on a parameter in `wrt` and that the output depends on."""
    depends = set(wrt)
    for e in graph.eqns:
        if any(a in depends for a, rule in zip(e.ins, e.op.rules) if rule is not None and isinstance(a, Var)):
            depends.add(e.out)
    reaches = {o for o in graph.outs if isinstance(o, Var)}
    for e in reversed(graph.eqns):
        if e.out in reaches:
            reaches.update(a for a in e.ins if isinstance(a, Var))
    return depends & reaches


class Reverse:
    def __init__(self, graph: Graph, wrt: list[Var]):
        self.graph = graph
        self.active = active_vars(graph, wrt)
        self.uses = Counter(a for e in graph.eqns if e.out in self.active
                            for a, r in zip(e.ins, e.op.rules) if r is not None and a in self.active)
        if len(graph.outs) > 1:  # being an output is a use too: its seed adds up with the rest
            self.uses.update(o for o in graph.outs if o in self.active)
        self.backward: list[Eqn] = []
        self.grad: dict[Var, Var] = {}
        # Gradient arrays made fresh here (a product, a sum, a scatter): safe to update in place.
        # Others may be views or aliases of other gradients (`grad_s2 = grad_s3`, np.broadcast_to).
        self.owned: set[Var] = set()
        self.wrt = wrt
        self.tag: tuple = ()  # the branch conditions the equations emitted now run under

    def emit(self, out: Var, op, ins: tuple[Atom, ...], block: Eqn | None, **extra) -> Var:
        loc, source = (block.loc, block.source) if block is not None else (None, "")
        self.backward.append(Eqn(out, op, ins, loc, extra.pop("params", {}), block=block, source=source,
                                 branch=self.tag, **extra))
        return out

    def sweep(self, eqns: list[Eqn], depth: int) -> None:
        """The adjoints of `eqns`, last first; a run of equations inside an `if` on data (at this
        depth) is one region, handled by `region`."""
        i = len(eqns) - 1
        while i >= 0:
            e = eqns[i]
            if len(e.branch) > depth:
                c = e.branch[depth][0]
                j = i
                while j > 0 and len(eqns[j - 1].branch) > depth and eqns[j - 1].branch[depth][0] is c:
                    j -= 1
                self.region(eqns[j : i + 1], depth, c)
                i = j - 1
                continue
            if e.out in self.grad:
                self.adjoint(e)
            i -= 1

    def region(self, eqns: list[Eqn], depth: int, c: Var) -> None:
        """The backward `if`: the same condition, each branch's adjoints from the same gradients.

        A value from outside that gets gradient inside either branch is given a zero gradient first
        (if it has none yet), so both branches accumulate into it (`grad_x += ...`) and it exists after
        the `if` whichever branch ran; after the branches the two versions are one (same name).
        """
        inside = {e.out for e in eqns}
        outside = tag = self.tag
        for e in eqns:
            for a, rule in zip(e.ins, e.op.rules):
                if rule is not None and a in self.active and a not in inside and a not in self.grad:
                    init = INIT_SCALAR if a.shape == () else INIT
                    self.grad[a] = self.emit(Var(None, "grad", of=a, shape=a.shape), init, (a,), None)
                    self.owned.add(self.grad[a])
        before = dict(self.grad)
        ends = []
        for want in (True, False):
            self.grad = dict(before)
            self.tag = tag + ((c, want),)
            self.sweep([e for e in eqns if e.branch[depth] == (c, want)], depth + 1)
            ends.append((dict(self.grad), len(self.backward)))
        self.tag = outside
        (g_then, then_end), (g_else, _) = ends
        self.grad = dict(before)
        merges_then = []
        for x, g0 in before.items():
            gt, gf = g_then.get(x, g0), g_else.get(x, g0)
            if gt is gf:
                self.grad[x] = gt
                continue
            merged = Var(None, "grad", of=x, shape=x.shape)
            merges_then.append(Eqn(merged, MERGE, (gt,), branch=tag + ((c, True),)))
            self.backward.append(Eqn(merged, MERGE, (gf,), branch=tag + ((c, False),)))
            self.grad[x] = merged
        self.backward[then_end:then_end] = merges_then

    def run(self) -> Graph:
        outs = self.graph.outs
        seed = Var("seed", "seed") if len(outs) > 1 else None  # several outputs: an upstream gradient each
        for k, out in enumerate(outs):
            if out not in self.active:
                continue
            if seed is None:
                g = self.emit(Var(None, "grad", of=out, shape=out.shape), SEED, (), None)
            else:
                g = self.emit(Var(None, "grad" if out not in self.grad else "partial", of=out, shape=out.shape),
                              SEED_K, (seed,), None, params={"k": k})
            if out in self.grad:  # the same value returned twice: its upstream gradients add up
                g = self.emit(Var(None, "grad", of=out, shape=out.shape), ACC, (self.grad[out], g), None, uses=2)
            self.grad[out] = g
        self.sweep(self.graph.eqns, 0)
        grads = []
        for p in self.wrt:
            if p not in self.grad:
                self.grad[p] = self.emit(Var(None, "grad", of=p, shape=p.shape), ZEROS, (p,), None)
            grads.append(self.grad[p])
        g = self.graph
        return Graph(g.name, g.params, [*g.eqns, *self.backward], [*outs, *grads], n_forward=len(g.eqns),
                     math=g.math, style=g.style, seed=seed, n_values=len(outs))

    def adjoint(self, e: Eqn) -> None:
        slots = {"g": self.grad[e.out], "out": e.out, **dict(zip(e.op.expr.slots, e.ins))}
        for rule, x in zip(e.op.rules, e.ins):
            if rule is None or x not in self.active:
                continue
            ins = tuple(slots[s] for s in rule.expr.slots)
            if rule is SCATTER and self.grad.get(x) in self.owned:  # grad_x[idx] += g, into our own array
                acc = Var(None, "grad", of=x, shape=x.shape)
                self.grad[x] = self.emit(acc, SCATTER_ADD, (self.grad[x], slots["g"]), e, params=e.params,
                                         uses=self.uses[x])
                self.owned.add(acc)
                continue
            first = x not in self.grad
            # A block (scatter) is a statement of its own; other contributions are written inline.
            role = "grad" if first or rule.expr.block else "partial"
            d = self.emit(Var(None, role, of=x, shape=e.out.shape if e.op.elementwise else x.shape), rule, ins, e,
                          params=e.params)
            if e.op.elementwise and (x.shape is None or e.out.shape is None or x.shape != e.out.shape):
                d = self.unbroadcast(d, x, e, role)
            if first:
                self.grad[x] = d
                if rule is SCATTER or self.backward[-1].op.expr.fresh:  # d is the last equation's output
                    self.owned.add(d)
            else:
                acc = Var(None, "grad", of=x, shape=x.shape)
                # `grad_x += d` writes into grad_x's array: only when that array is ours alone
                self.grad[x] = self.emit(acc, ACC, (self.grad[x], d), e, uses=self.uses[x],
                                         params={"fresh": True} if self.grad[x] in self.owned else {})
                self.owned.add(acc)

    def unbroadcast(self, d: Var, x: Atom, e: Eqn, role: str) -> Var:
        """Sum the contribution `d` (shaped like e's output) back to the shape of input `x`."""
        d.role = "partial"
        if x.shape is None or e.out.shape is None:
            if x.shape == ():
                return self.emit(Var(None, role, of=x, shape=()), SUM_LEAD, (d,), e)
            return self.emit(Var(None, role, of=x, shape=x.shape), UNBROADCAST, (d, x), e)
        lead, ones = unbroadcast_axes(x.shape, e.out.shape)
        if lead:
            shape = e.out.shape[len(lead):]
            d = self.emit(Var(None, role if not ones else "partial", of=x, shape=shape), SUM_LEAD, (d,), e,
                          params={"axis": lead if len(lead) > 1 else lead[0]})
        if ones:
            d = self.emit(Var(None, role, of=x, shape=x.shape), SUM_ONES, (d,), e,
                          params={"axis": ones if len(ones) > 1 else ones[0]})
        return d


def reverse(graph: Graph, wrt: list[Var]) -> Graph:
    return Reverse(graph, wrt).run()
