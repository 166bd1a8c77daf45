"""Tapes: what a rolled loop's forward pass saves for its backward pass, and where.

reverse.py sweeps the equations backwards and writes the adjoints; when it has written a loop's
backward body it hands it here.  `Tapes.save` finds what that body reads of the values the loop
computes, gives each a tape (a list made before the outermost loop), pushes the value in the forward
loop (right before the statement that overwrites it, or at the end of the region that makes it) and
pops it in the backward loop (where the sweep left a MARK).  `Tapes.forward` is the forward pass with
the tapes, pushes and while-loop counts put in.
"""

from __future__ import annotations

import dataclasses
import functools

from .graph import Eqn, Graph, Var, common_frames, frame_reads, is_loop
from .expr import Expr
from .primitives import COPY_ARRAY, COUNT, POP, PUSH, PUSH_COPY, STEP, TAPE, Op

# A place in the backward pass that a loop fills in once it knows what its backward reads: the start
# of a backward region (values taken back from tapes go there), or the end of an adjoint block of an
# equation that overwrote a loop's variable (its old value is taken back there).  Dropped at the end.
MARK = Op("mark", Expr("None", ()), "assign", elementwise=False)


class Tapes:
    def __init__(self, graph: Graph):
        self.graph = graph
        # What the loops add to the forward pass (tapes, saves, counts), by the equation they go
        # before or after; and the definitions of each variable (a loop's variables have several).
        self.before: dict[int, list[Eqn]] = {}
        self.after: dict[int, list[Eqn]] = {}
        self.defs: dict[Var, list[Eqn]] = {}
        for e in graph.eqns:
            self.defs.setdefault(e.out, []).append(e)
        self.counts: list[Var] = []  # the iteration counts of while loops

    @functools.cached_property
    def position(self) -> dict[int, int]:
        """Each forward equation's index (by id): needed only where loops are rolled."""
        return {id(e): k for k, e in enumerate(self.graph.eqns)}

    def save(self, body, depth, fwd, backward: list[Eqn], start: int, direct, carried, count) -> None:
        """Tapes for what the backward body reads of the values this loop computes.

        A loop's variable is saved just before an equation overwrites it, and taken back right after
        that equation's adjoint.  A value made in the body is saved at the end of the region that
        makes it (the body, or a branch of an `if` in it) and taken back at the start of that
        region's backward.  Tapes are made before the outermost loop, so one list serves every
        iteration of the loops around.  `backward[start:]` is the loop's backward body, where the
        values are taken back (each after the MARK the sweep left for it).
        """
        back_body = backward[start:]
        reads = {a for e in back_body for slot, a in zip(e.op.expr.slots, e.ins)
                 if isinstance(a, Var) and a.role not in ("grad", "partial", "seed", "tape")
                 and not (slot in e.op.expr.shape_only and a.shape is not None)}  # np.shape(x): a constant
        reads |= {v for e in back_body for f in e.frames[depth:] for v in frame_reads(f)}
        top_loop = _outermost(body[0].frames)
        outer = body[0].frames[:depth]
        first = next(e for e in self.graph.eqns if any(f is top_loop for f in e.frames))
        top = first.frames[: first.frames.index(top_loop)]
        tapes: dict[Var, Var] = {}

        def tape(v: Var) -> Var:
            if v not in tapes:
                tapes[v] = Var(None, "tape", of=v)
                self.before.setdefault(id(first), []).append(Eqn(tapes[v], TAPE, (), frames=top))
            return tapes[v]

        # A loop's variable is also taken back when an equation before the loop reads it (or made
        # it): that equation's adjoint comes after the backward loop and needs the value from then.
        # So is one read anywhere in the loops around this one: their earlier iterations' adjoints
        # run after this loop's backward.
        begin = self.position[id(body[0])]
        around = [e for e in self.graph.eqns[begin:] if any(f is top_loop for f in e.frames)]
        reads |= {v for e in [*self.graph.eqns[:begin], *around] for v in _rule_reads(e) if v in carried}
        marks = {id(m.params["restore"]): m for m in back_body if m.op is MARK and "restore" in m.params}
        for e in direct:
            m = marks.get(id(e))
            if e.out in carried and m is not None and e.out in reads:  # saved before it is overwritten
                t = tape(e.out)
                in_place = e.op is COPY_ARRAY or (e.ins and e.ins[0] is e.out)
                self.before.setdefault(id(self._statement_start(e)), []).append(
                    Eqn(t, PUSH_COPY if in_place and e.out.shape != () else PUSH, (t, e.out), frames=e.frames))
                m.out, m.op, m.ins, m.params = e.out, POP, (t,), {}
        # made in the body: the loop's own equations' values, and the counts of while loops inside
        made = list(dict.fromkeys([e.out for e in direct if e.out not in carried] +
                                  [c for c in self.counts if self.defs[c][0].frames == outer + (fwd,)]))
        for v in made:
            if v not in reads:
                continue
            region = common_frames([d.frames for d in self.defs[v]])
            last = [e for e in body if e.frames[: len(region)] == region][-1]
            t = tape(v)
            # a view (x[t], x.T) of an array the loop writes into in place is saved as a copy
            made = self.defs[v][0]
            if v.shape != () and len(self.defs[v]) == 1 and self._view_base(made) is not None:
                # a view (z[t], x.T) of an array the loop may write into in place: a copy, right away
                self.after.setdefault(id(made), []).append(Eqn(t, PUSH_COPY, (t, v), frames=made.frames))
            else:
                self.after.setdefault(id(last), []).append(Eqn(t, PUSH, (t, v), frames=region))
            mark = next(m for m in back_body if m.op is MARK and m.params.get("region") == region)
            backward.insert(backward.index(mark) + 1, Eqn(v, POP, (t,), frames=mark.frames))
        if count is not None:
            init, step = Eqn(count, COUNT, (), frames=outer), Eqn(count, STEP, (count,), frames=outer + (fwd,))
            self.before.setdefault(id(body[0]), []).append(init)
            self.after.setdefault(id(body[-1]), []).append(step)
            self.defs[count] = [init, step]
            self.counts.append(count)
            fwd.count = count

    def copy_views(self, backward: list[Eqn]) -> list[Eqn]:
        """A view (z[1:3], z.T) made outside the rolled loops, of an array a later rolled loop writes into
        in place (`z[i] = v`: numpy writes into z's own array), has changed by the time the backward pass
        reads it.  Such a view is copied right where it is made, and `backward` (returned) reads the copy;
        the forward pass reads the view itself, before the loop.  (Views made in a rolled loop are saved
        as copies by `save`.)"""
        writes: dict[Var, int] = {}  # an array a rolled loop writes into in place -> the last such write
        for k, e in enumerate(self.graph.eqns):
            if e.op.writes_item and e.ins and e.ins[0] is e.out and any(is_loop(f) for f in e.frames):
                writes[e.out] = k
        if not writes:
            return backward
        copies: dict[Var, Var] = {}
        for e in backward:
            for a in e.ins:
                if not isinstance(a, Var) or a in copies or not a.shape or len(self.defs.get(a, ())) != 1:
                    continue
                made = self.defs[a][0]
                if any(is_loop(f) for f in made.frames):
                    continue
                base = self._view_base(made)
                if base is not None and writes.get(base, -1) > self.position[id(made)]:
                    copies[a] = Var(a.hint, a.role, shape=a.shape)
                    self.after.setdefault(id(made), []).append(
                        Eqn(copies[a], COPY_ARRAY, (a,), made.loc, source=made.source, frames=made.frames))
        if not copies:
            return backward
        return [dataclasses.replace(e, ins=tuple(copies.get(a, a) if isinstance(a, Var) else a for a in e.ins))
                if any(isinstance(a, Var) and a in copies for a in e.ins) else e for e in backward]

    def _view_base(self, e: Eqn) -> Var | None:
        """The array computed here that `e` makes a view of (x[t], x.T; through views of views), if it
        makes one: None for a new array, or a view of a parameter (which nothing writes into)."""
        if e.op.expr.fresh or e.op.expr.block:
            return None
        while not e.op.expr.fresh and not e.op.expr.block:
            if not (e.ins and isinstance(e.ins[0], Var)) or e.ins[0] not in self.defs:
                return None  # a parameter (nothing writes into it) or a constant
            e = self.defs[e.ins[0]][0]
        return e.out if e.out.shape != () else None

    def _statement_start(self, e: Eqn) -> Eqn:
        """The first equation of the user's statement that `e` ends (`t1 = h * w` for `h = np.tanh(t1)`):
        a value saved there is saved before the statement, which overwrites it only at its end."""
        eqns = self.graph.eqns
        k = self.position[id(e)]
        if not e.source:  # a copy that closes a loop body: a statement of its own
            return e
        same = lambda d: (d.loc, d.source, d.frames) == (e.loc, e.source, e.frames) and d.out is not e.out  # noqa: E731
        while k > 0 and same(eqns[k - 1]):
            k -= 1
        return eqns[k]

    def forward(self) -> list[Eqn]:
        """The forward equations with what the loops added: tapes before, saves and counts inside."""
        if not self.before and not self.after:  # no rolled loop
            return list(self.graph.eqns)
        eqns = []
        for e in self.graph.eqns:
            eqns += sorted(self.before.get(id(e), ()), key=lambda x: len(x.frames))
            eqns.append(e)
            eqns += sorted(self.after.get(id(e), ()), key=lambda x: -len(x.frames))
        return eqns


def _rule_reads(e: Eqn) -> set:
    """The variables the rules of `e` read (its inputs by slot, and `out`)."""
    rules = [r for r, a in zip(e.op.rules, e.ins) if r is not None and isinstance(a, Var)]  # constants get none
    slots = {s for r in rules for s in r.expr.slots if not (s in r.expr.shape_only and s != "out")}
    found = {a for s, a in zip(e.op.expr.slots, e.ins) if s in slots and isinstance(a, Var) and a.shape is not None}
    found |= {a for s, a in zip(e.op.expr.slots, e.ins) if isinstance(a, Var) and a.shape is None
              and any(s in r.expr.slots for r in rules)}
    return found | ({e.out} if "out" in slots else set())


def _outermost(frames: tuple):
    return next(f for f in frames if is_loop(f))
