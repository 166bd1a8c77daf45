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

from .graph import Atom, Branch, Eqn, Graph, Loop, Var, is_loop, runs
from .primitives import (ACC, COPY, INIT, INIT_SCALAR, MERGE, POP, SEED, SEED_K, SUM_LEAD, SUM_ONES, UNBROADCAST,
                         ZEROS)
from .shapes import unbroadcast_axes
from .tapes import MARK, Tapes

def active_vars(graph: Graph, wrt: list[Var]) -> set[Var]:
    """Variables that depend (differentiably) on a parameter in `wrt` and that the output depends on.
    (Repeated until nothing changes: in a loop, a value also depends on the iterations before.)"""
    depends = set(wrt)
    eqns = graph.eqns
    # In program order one pass is enough; a loop's body also reads values of later iterations.
    rolled = any(is_loop(f) for e in eqns for f in e.frames)
    while True:
        size = len(depends)
        for e in eqns:
            rules = e.op.rules
            if None not in rules and len(rules) == len(e.ins):  # every input differentiable: any of them
                if not depends.isdisjoint(e.ins):
                    depends.add(e.out)
                continue
            for a, rule in zip(e.ins, rules):
                if rule is not None and a in depends:  # constants are never in it
                    depends.add(e.out)
                    break
        if not rolled or len(depends) == size:
            break
    reaches = {o for o in graph.outs if isinstance(o, Var)}
    while True:
        size = len(reaches)
        for e in reversed(eqns):
            if e.out in reaches:
                reaches.update(e.ins)  # constants too: never in `depends`, so not in the result
        if not rolled or len(reaches) == size:
            break
    return depends & reaches


class Reverse:
    def __init__(self, graph: Graph, wrt: list[Var], seeded: bool = False):
        self.graph = graph
        self.seeded = seeded  # the upstream gradients are a parameter (vjp.takes_seed), else 1.0
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
        self.frames: tuple = ()  # the frames (Branch, backward Loop) the equations emitted now run under
        # Rolled loops: what they add to the forward pass (tapes, saves, counts), by the equation they
        # go before or after; and the definitions of each variable (a loop's variables have several).
        self.tapes = Tapes(graph)
        self.defs = self.tapes.defs  # each variable's definitions (a loop's variables have several)
        self.overwrites: set[int] = set()  # equations that overwrite a loop's variable (by id)

    def emit(self, out: Var, op, ins: tuple[Atom, ...], block: Eqn | None, params: dict | None = None,
             uses: int = 0) -> Var:
        if block is None:
            self.backward.append(Eqn(out, op, ins, None, {} if params is None else params, None, uses, "", self.frames))
        else:
            self.backward.append(Eqn(out, op, ins, block.loc, {} if params is None else params, block, uses,
                                     block.source, self.frames))
        return out

    def sweep(self, eqns: list[Eqn], depth: int) -> None:
        """The adjoints of `eqns`, last first; a run of equations inside an `if` on data (at this
        depth) is one region, handled by `region`."""
        if all(len(e.frames) <= depth for e in eqns):  # straight-line code (at this depth): one by one
            overwrites = self.overwrites
            for e in reversed(eqns):
                g = self.grad.get(e.out)
                if id(e) in overwrites:
                    self.overwrite(e, g)
                elif g is not None:
                    self.adjoint(e, g)
            return
        for frame, j, end in reversed(list(runs(eqns, depth, by_site=True))):
            if frame is not None:
                if is_loop(frame):
                    self.loop(eqns[j:end], depth, frame)
                else:
                    self.region(eqns[j:end], depth, frame.cond)
                continue
            e = eqns[j]
            g = self.grad.get(e.out)
            if id(e) in self.overwrites:
                self.overwrite(e, g)
            elif g is not None:
                self.adjoint(e, g)

    def overwrite(self, e: Eqn, g: Var | None) -> None:
        """The adjoint of an equation that overwrites a loop's variable: it gets its old value back (if
        the backward reads it) before the adjoint when a rule reads that old value (`s * w` for w), else
        after (a rule may read the new one, `1 - h**2`); the tracer never lets one equation need both.
        The gradient of the old value starts at zero."""
        own = {s for s, a in zip(e.op.expr.slots, e.ins) if a is e.out}
        reads_old = any(own & set(r.expr.slots) for r in e.op.rules if r is not None)
        if reads_old:
            self.emit(e.out, MARK, (), e, params={"restore": e})
        self.grad[e.out] = None
        if g is not None:
            self.adjoint(e, g)
        if not reads_old:
            self.emit(e.out, MARK, (), e, params={"restore": e})

    def region(self, eqns: list[Eqn], depth: int, c: Var) -> None:
        """The backward `if`: the same condition, each branch's adjoints from the same gradients.

        A value from outside that gets gradient inside either branch is given a zero gradient first
        (if it has none yet), so both branches accumulate into it (`grad_x += ...`) and it exists after
        the `if` whichever branch ran; after the branches the two versions are one (same name).
        """
        inside = {e.out for e in eqns}
        outside = self.frames
        for e in eqns:
            for a, rule in zip(e.ins, e.op.rules):
                if rule is not None and a in self.active and a not in inside and self.grad.get(a) is None:
                    self.zero(a)
        before = dict(self.grad)
        ends = []
        for want in (True, False):
            self.grad = dict(before)
            self.frames = outside + (Branch(c, want),)
            arm = [e for e in eqns if e.frames[depth] == Branch(c, want)]
            if arm:
                self.emit(Var(None, "temp"), MARK, (), None, params={"region": arm[0].frames[: depth + 1]})
            self.sweep(arm, depth + 1)
            for x, g in before.items():  # a gradient this arm reset to zero (a loop's variable) is written out
                if self.grad.get(x) is None and g is not None:
                    self.zero(x)
            ends.append((dict(self.grad), len(self.backward)))
        self.frames = outside
        (g_then, then_end), (g_else, _) = ends
        self.grad = dict(before)
        merges_then = []
        for x, g0 in before.items():
            gt, gf = g_then.get(x, g0), g_else.get(x, g0)
            if gt is gf:
                self.grad[x] = gt
                continue
            merged = Var(None, "grad", of=x, shape=x.shape)
            merges_then.append(Eqn(merged, MERGE, (gt,), frames=outside + (Branch(c, True),)))
            self.backward.append(Eqn(merged, MERGE, (gf,), frames=outside + (Branch(c, False),)))
            self.grad[x] = merged
        self.backward[then_end:then_end] = merges_then

    def zero(self, x: Var) -> Var:
        """`grad_x = 0.0` (or zeros of x's shape): a gradient that contributions will be added to."""
        init = INIT_SCALAR if x.shape == () else INIT
        self.grad[x] = self.emit(Var(None, "grad", of=x, shape=x.shape), init, (x,), None)
        self.owned.add(self.grad[x])
        return self.grad[x]

    def loop(self, body: list[Eqn], depth: int, fwd: Loop) -> None:
        """The backward loop: the body's adjoints, last first, once per iteration in reverse order.

        Gradients of values from outside the loop (its variables, and what it only reads) are
        zero-initialised first if they have none, accumulated inside, and renamed back at the end of
        each iteration.  When an equation in the body overwrites one of the loop's variables, the
        gradient of its old value starts at zero.  Afterwards the forward pass gets its tapes: a value
        the backward body reads is saved on a list per iteration and taken back, last first.
        """
        outer = body[0].frames[:depth]
        count = Var("n_iter", "value") if fwd.kind == "while" else None
        back = Loop("for", fwd.index, fwd.bounds, reverse=True) if count is None else Loop("for", bounds=(count,))
        inside = {e.out for e in body}
        under = lambda d: any(f is fwd for f in d.frames)  # noqa: E731
        # in the body's order (never a set's: the order decides the generated code)
        carried = list(dict.fromkeys(e.out for e in body if not all(under(d) for d in self.defs[e.out])))
        # the loop's own equations: those not in a loop nested in this one
        direct = [e for e in body if not any(is_loop(f) for f in e.frames[depth + 1:])]
        updates = [e for e in direct if e.out in carried]
        self.overwrites.update(id(e) for e in updates)
        for e in body:
            for a, rule in zip(e.ins, e.op.rules):
                reaches = rule is not None and a in self.active and (a not in inside or a in carried)
                if reaches and self.grad.get(a) is None:
                    self.zero(a)
        for v in carried:
            if v in self.active and self.grad.get(v) is None:
                self.zero(v)
        entry = dict(self.grad)
        self.owned -= {entry[v] for v in carried if v in entry}
        outside, self.frames = self.frames, self.frames + (back,)
        start = len(self.backward)
        self.emit(Var(None, "temp"), MARK, (), None, params={"region": outer + (fwd,)})
        self.sweep(body, depth + 1)
        for x, g in entry.items():  # the next iteration (or what comes before the loop) reads the same name
            current = self.grad.get(x)
            if current is g:
                continue
            if current is None:
                current = self.zero(x)
            self.emit(g, MERGE, (current,), None, params={"carry": True})
        self.frames = outside
        self.grad = entry
        self.owned -= {entry[v] for v in carried if v in entry}
        self.tapes.save(body, depth, fwd, self.backward, start, direct, carried, count)

    def run(self) -> Graph:
        outs = self.graph.outs
        # The upstream gradients as a parameter: a tuple of them for several outputs (`seed[k]`), the
        # array itself for one (`grad_out = seed`, an output's VJP); else the base case, 1.0.
        seed = None
        if self.seeded:
            seed = Var("seed", "seed", shape=outs[0].shape if len(outs) == 1 else ())
        for k, out in enumerate(outs):
            if out not in self.active:
                continue
            if seed is None:
                g = self.emit(Var(None, "grad", of=out, shape=out.shape), SEED, (), None)
            elif len(outs) == 1:
                g = self.emit(Var(None, "grad", of=out, shape=out.shape), COPY, (seed,), None)
            else:
                g = self.emit(Var(None, "grad" if out not in self.grad else "partial", of=out, shape=out.shape),
                              SEED_K, (seed,), None, params={"k": k})
            if out in self.grad:  # the same value returned twice: its upstream gradients add up
                g = self.emit(Var(None, "grad", of=out, shape=out.shape), ACC, (self.grad[out], g), None, uses=2)
            self.grad[out] = g
        self.sweep(self.graph.eqns, 0)
        grads = []
        for p in self.wrt:
            if self.grad.get(p) is None:
                self.grad[p] = self.emit(Var(None, "grad", of=p, shape=p.shape), ZEROS, (p,), None)
            grads.append(self.grad[p])
        g = self.graph
        backward = self.tapes.copy_views([e for e in self.backward if e.op is not MARK])
        forward = self.tapes.forward()
        restored = {e.out for e in backward if e.op is POP}
        outs = list(outs)
        for k, o in enumerate(outs):  # a returned value the backward loop takes back: kept under its own name
            if o in restored:
                kept = Var(f"{o.hint or g.name}_out", "value", shape=o.shape)
                forward.append(Eqn(kept, COPY, (o,)))
                outs = [kept if x is o else x for x in outs]
        return Graph(g.name, g.params, [*forward, *backward], [*outs, *grads], n_forward=len(forward),
                     math=g.math, seed=seed, n_values=len(outs), ints=g.ints)

    def adjoint(self, e: Eqn, g: Var) -> None:
        op, ins, out = e.op, e.ins, e.out
        slots = {"g": g, "out": out}
        slots.update(zip(op.expr.slots, ins))  # an input slot named g or out wins, as it always has
        # `z[i] = v` in a loop updates z: the contribution to z's old value (which takes the loop's
        # gradient name) comes last, once every rule has read g
        pairs = zip(op.rules, ins)
        if out in ins:
            pairs = sorted(pairs, key=lambda p: p[1] is out)
        active, grad, owned = self.active, self.grad, self.owned
        for rule, x in pairs:
            if rule is None or x not in active:
                continue
            rule_ins = tuple([slots[s] for s in rule.expr.slots])
            gx = grad.get(x)
            if rule.accumulate is not None and gx in owned:  # grad_x[idx] += g, into our own array
                acc = Var(None, "grad", of=x, shape=x.shape)
                grad[x] = self.emit(acc, rule.accumulate, (gx, slots["g"], *ins[1:]), e, e.params, self.uses[x])
                owned.add(acc)
                continue
            first = gx is None
            # A block (scatter) is a statement of its own; other contributions are written inline.
            role = "grad" if first or rule.expr.block else "partial"
            d = self.emit(Var(None, role, of=x, shape=out.shape if op.elementwise else x.shape), rule, rule_ins, e,
                          e.params)
            if op.elementwise and (x.shape is None or out.shape is None or x.shape != out.shape):
                d = self.unbroadcast(d, x, e, role)
            if first:
                grad[x] = d
                if rule.accumulate is not None or self.backward[-1].op.expr.fresh:  # d is the last equation's output
                    owned.add(d)
            else:
                acc = Var(None, "grad", of=x, shape=x.shape)
                # `grad_x += d` writes into grad_x's array: only when that array is ours alone
                grad[x] = self.emit(acc, ACC, (gx, d), e, {"fresh": True} if gx in owned else {}, self.uses[x])
                owned.add(acc)

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


def reverse(graph: Graph, wrt: list[Var], seeded: bool = False) -> Graph:
    """The gradient graph; `seeded`: the upstream gradients are a parameter (`seed`), not 1.0."""
    return Reverse(graph, wrt, seeded).run()
