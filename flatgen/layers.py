"""The layer form: the course's forward/backward pair, `<name>_forward` and `<name>_backward`.

    out, cache = affine_forward(x, w, b)        # the forward pass, saving what the backward reads
    grad_x, grad_w, grad_b = affine_backward(dout, cache)

The gradient graph is the one the value_and_grad form has, with the upstream gradient always a
parameter (`dout`, of the output's shape; a tuple of them for several outputs; a number for a scalar
loss): the forward statements go into `_forward`, the backward statements into `_backward`, and
between them travels the cache, exactly the values the backward statements read, found the way a
rolled loop's tapes are (tapes.py): an equation's inputs (`np.shape(x)` of a known shape is a constant,
not a read) and the conditions and bounds of the frames it runs under, less what the backward pass
makes itself before it reads it.  So `_backward` never computes a forward value again.

Names: a function `affine` gives `affine_forward` and `affine_backward`; a function already named
`affine_forward` gives the same two (the suffix is not doubled).
"""

from __future__ import annotations

from .graph import Eqn, Graph, Var, frame_reads, is_loop
from .render import Header, Rendered, Renderer, _tuple, environment, last_uses
from .safety import one_line

SUFFIX = "_forward"


def pair_names(name: str) -> tuple[str, str]:
    """The forward and backward functions' names for a function called `name`."""
    stem = name[: -len(SUFFIX)] if name.endswith(SUFFIX) and len(name) > len(SUFFIX) else name
    return f"{stem}_forward", f"{stem}_backward"


def reads(e: Eqn) -> list[Var]:
    """The variables an equation's statement reads: its inputs (an input only measured, np.shape(x) of
    a known shape, is written as a constant) and what the frames it runs under read."""
    measured = e.op.expr.shape_only
    found = [a for s, a in zip(e.op.expr.slots, e.ins)
             if type(a) is Var and not (s in measured and a.shape is not None)]
    return found + [v for f in e.frames for v in frame_reads(f)]


def cache_vars(grad: Graph) -> list[Var]:
    """What the backward statements read of the forward pass (parameters included), in the order the
    forward pass has them.  A value the backward pass defines first (a loop's value taken back from its
    tape) is not read from the cache where that definition covers the read: the definition comes
    earlier and runs whenever the read runs (its frames are a prefix of the reader's)."""
    made = {v: k for k, v in enumerate([*grad.params, *(e.out for e in grad.forward)]) if v.role != "grad"}
    defined: dict[Var, list[tuple]] = {}
    needed: set[Var] = set()
    for e in grad.backward:
        for v in reads(e):
            if v not in made or v in needed or v.role in ("grad", "partial", "seed"):
                continue
            if any(is_loop(f) and f.index is v for f in e.frames):
                continue  # the backward loop's own index
            if not any(e.frames[: len(fr)] == fr for fr in defined.get(v, ())):
                needed.add(v)
        defined.setdefault(e.out, []).append(e.frames)
    return sorted(needed, key=made.__getitem__)


def surely_made(paths: list[tuple]) -> bool:
    """Does a value defined under these frames (one path per definition) exist at the end of the forward
    pass, whichever way its `if`s go?  A definition outside any frame does; so do definitions on both
    sides of one `if` that each surely exist there.  A loop may run no times: it proves nothing."""
    if any(not p for p in paths):
        return True
    sites = {id(p[0].site): p[0].site for p in paths if not is_loop(p[0])}
    for site in sites.values():
        sides = [[p[1:] for p in paths if not is_loop(p[0]) and p[0].site is site and p[0].want == want]
                 for want in (True, False)]
        if all(sides) and all(surely_made(side) for side in sides):
            return True
    return False


def maybe_unmade(grad: Graph, cached: list[Var]) -> list[Var]:
    """Cached values the forward pass makes on one side of an `if` only: they start as None, so the cache
    can hold them whichever side runs (the backward reads them only on the side that made them)."""
    paths: dict[Var, list[tuple]] = {}
    for e in grad.forward:
        paths.setdefault(e.out, []).append(e.frames)
    return [v for v in cached if v in paths and not surely_made(paths[v])]


class LayerRenderer(Renderer):
    """The module of the layer form: `Renderer`'s statements, laid out by templates/layer.py.j2."""

    def __init__(self, grad: Graph, free: bool = False):
        super().__init__(grad, grad, free, functions=pair_names(grad.name))
        # The upstream gradient is the course's `dout`, the cache `cache` (unless the user took those names).
        self.names.names[grad.seed] = self.names.fresh("dout")
        self.cache_name = self.names.fresh("cache")

    def upstream(self, out: str) -> str:
        text = environment().get_template("upstream.j2").render(out=out, name=self.names[self.grad.seed])
        return one_line(text.strip())

    def plan_frees_apart(self, cached: list[Var]) -> None:
        """With free=True, `del` in each function of what it no longer needs: the forward keeps its values
        and the cache; the backward deletes only what it made or unpacked (the forward's other values,
        an input it only measured, np.shape(x), are not there)."""
        grad = self.grad
        if not self.free:
            self._after = {}
            return
        values, grads = grad.outs[: grad.n_values], grad.outs[grad.n_values:]
        forward = last_uses(grad.forward, [*values, *cached])
        kept = set(cached)
        elsewhere = [e.out for e in grad.forward if e.out not in kept]
        backward = last_uses(grad.backward, [*grads, *elsewhere])
        self._after = {id(grad.forward[i]): vs for i, vs in forward.items()}
        self._after.update({id(grad.backward[i]): vs for i, vs in backward.items()})

    def module(self, header: Header) -> Rendered:
        grad, text = self.grad, self.text
        n = grad.n_values
        values, grads = grad.outs[:n], grad.outs[n:]
        value = text(values[0]) if n == 1 else _tuple([text(v) for v in values])
        cached = cache_vars(grad)
        self.plan_frees_apart(cached)
        forward_body = self.forward_lines(grad.forward)
        for v in reversed(maybe_unmade(grad, cached)):
            forward_body[:0] = [f"# the cache holds {self.names[v]} whichever branch runs (None where it is not made)",
                                f"{self.names[v]} = None"]
        backward_body = self.backward_lines()
        names = [self.names[v] for v in cached]
        forward, backward = self.own
        shape = values[0].shape if n == 1 else None
        context = dict(
            imports=self.imports(),
            support=self.support_functions(),
            name=grad.name,
            forward=forward,
            backward=backward,
            params=", ".join(self.names[p] for p in grad.params),
            checks=self.shape_checks(),
            seed_checks=self.seed_checks(),
            value=value,
            dout=self.names[grad.seed],
            dout_shape=" (a tuple, one per output)" if n > 1 else "" if shape in ((), None) else f", of shape {shape}",
            cache=self.cache_name,
            cached=_tuple(names),
            tapes=[self.names[v] for v in cached if v.role == "tape"],
            grads=_tuple([text(g) for g in grads]),
            wrt=", ".join(self.names[g.of] for g in grads),
        )
        return self.rendered("layer.py.j2", header, context, [forward_body, backward_body], tuple(names))
