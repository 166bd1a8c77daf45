"""The graph IR: a flat list of equations `out = op(ins)`.

Variables carry a hint (the user's name, or None for a temporary) and a role, never a final name:
names are handed out in one place, by naming.Namer, when the graph is printed or rendered.  That
keeps the passes free to create and drop variables without ever producing a clash.

The same IR holds the forward graph and the gradient graph (forward equations, then backward
equations tagged with the forward equation they differentiate), so every pass, the interpreter and
the renderer work on both.  Equations carry `params` for what later primitives need (axis,
shapes).  Branches and loops stay flat too: each equation carries the frames it runs under
(`Eqn.branch`, outermost first), a condition `(c, want)` for a branch of an `if` on data, or a `Loop`.
Consecutive equations under the same frame are its body; a variable a loop updates is one variable,
defined before the loop and again in its body (as a variable assigned in both branches of an `if`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import Loc
from .primitives import Op


class Var:
    """A value.  role: param | value (named by the user) | temp (a nested expression's value) |
    grad (a gradient) | partial (one contribution to a gradient, written inline where it is used)."""

    __slots__ = ("hint", "role", "of", "shape")

    def __init__(self, hint: str | None, role: str = "value", of: "Var | None" = None, shape=()):
        self.hint = hint
        self.role = role
        self.of = of  # for gradients: the primal variable this is the gradient of
        self.shape = shape  # a tuple, () for scalars, None when unknown until run time

    def __repr__(self):
        return f"Var({self.hint!r}, {self.role}, {self.shape})"


@dataclass(frozen=True, eq=False)
class Lit:
    """A trace-time constant: a number (a literal, np.pi, a module constant), or a static value
    such as a shape tuple, an axis, a slice (equation params and indices)."""

    value: object

    @property
    def shape(self):
        return np.shape(self.value) if isinstance(self.value, (int, float)) else ()

    def __repr__(self):
        return repr(self.value)


Atom = Var | Lit


class Loop:
    """A loop frame: the equations of its body carry it in `Eqn.branch`.

    kind "for":   `for index in range(*bounds)` (reversed: the backward loop over the same range);
    kind "while": `while cond`, where the equations in `head` compute `cond` before every iteration.
    `count`: a while loop's number of iterations, counted when the backward pass needs it
    (its backward loop is `for _ in range(count)`).
    """

    __slots__ = ("kind", "index", "bounds", "head", "cond", "count", "reverse")

    def __init__(self, kind: str, index: "Var | None" = None, bounds: tuple = (), head: list | None = None,
                 cond: "Atom | None" = None, count: "Var | None" = None, reverse: bool = False):
        self.kind, self.index, self.bounds, self.head = kind, index, tuple(bounds), head or []
        self.cond, self.count, self.reverse = cond, count, reverse

    def reads(self) -> list["Var"]:
        """The variables the loop's header reads (bounds, the head's inputs and the condition)."""
        atoms = [*self.bounds, *(a for e in self.head for a in e.ins), self.cond]
        return [a for a in atoms if isinstance(a, Var)]

    def __repr__(self):
        return f"Loop({self.kind}, {self.index!r}, {self.bounds!r})"


def is_loop(frame) -> bool:
    return isinstance(frame, Loop)


def frame_text(frame, show) -> str:
    """A frame as printed IR shows it: `c`, `not c`, `for i in range(n)`, `while c`."""
    if not isinstance(frame, Loop):
        return ("" if frame[1] else "not ") + show(frame[0])
    if frame.kind == "while":
        return f"while {show(frame.cond)}"
    index = show(frame.index) if frame.index is not None else "_"
    bounds = f"range({', '.join(show(b) for b in frame.bounds)})"
    return f"for {index} in {'reversed(' + bounds + ')' if frame.reverse else bounds}"


def frame_reads(frame) -> list["Var"]:
    """What a frame's header reads: a branch's condition, or a loop's bounds and condition."""
    return frame.reads() if isinstance(frame, Loop) else [frame[0]]


@dataclass(eq=False)
class Eqn:
    out: Var
    op: Op
    ins: tuple[Atom, ...]
    loc: Loc | None = None  # the user's source line this equation comes from
    params: dict = field(default_factory=dict)
    block: "Eqn | None" = None  # backward equations: the forward equation they differentiate
    uses: int = 0  # acc equations: how many times the primal value is used (for the copy gate)
    source: str = ""  # the user's statement, as ast.unparse prints it (never raw text: no injection)
    # The frames it runs under, outermost first: ((c, True), (d, False)) is `if c:` ... `if not d:`,
    # and a Loop is the body of that loop.  A value assigned in either branch of an `if` is one
    # variable, defined once in each branch; a value a loop updates is defined before it and in it.
    branch: tuple = ()


@dataclass(eq=False)
class Graph:
    name: str  # the user's function name
    params: list[Var]
    eqns: list[Eqn]
    outs: list[Atom]
    n_forward: int | None = None  # in a gradient graph: how many leading equations are the forward pass
    math: bool = False  # plain Python floats: templates in their math form (math.exp, max, ...)
    style: str = "lecture"  # "compact": simplified (flatgen/simplify.py), `1.0 * x` written x
    seed: "Var | None" = None  # a gradient graph of several outputs: the tuple of upstream gradients
    n_values: int = 1  # a gradient graph: how many of `outs` are the function's values (then gradients)
    ints: frozenset = frozenset()  # integer parameters (loop bounds, indices): never differentiated

    @property
    def forward(self) -> list[Eqn]:
        return self.eqns if self.n_forward is None else self.eqns[: self.n_forward]

    @property
    def backward(self) -> list[Eqn]:
        return [] if self.n_forward is None else self.eqns[self.n_forward :]

    def __str__(self) -> str:
        from .naming import Namer

        names = Namer.for_graph(self)
        show = lambda a: names[a] if isinstance(a, Var) else repr(a)  # noqa: E731

        def typed(v: Var) -> str:  # shapes shown for arrays: `h:(64, 100)`, `x:?` when unknown
            return names[v] if v.shape == () else f"{names[v]}:{'?' if v.shape is None else v.shape}"

        lines = [f"{self.name}({', '.join(typed(p) for p in self.params)}):"]
        shown = set()
        for i, e in enumerate(self.eqns):
            for k, f in enumerate(e.branch):  # a while loop's condition, before its body
                if isinstance(f, Loop) and f.kind == "while" and id(f) not in shown:
                    shown.add(id(f))
                    outer = "".join(f"[{frame_text(g, show)}] " for g in e.branch[:k])
                    lines += [f"  {outer}(test) {names[h.out]} = {h.op.name} {' '.join(show(a) for a in h.ins)}"
                              for h in f.head]
            if i == self.n_forward:
                lines.append("  # backward")
            args = " ".join(show(a) for a in e.ins)
            params = "".join(f" [{k}={v!r}]" for k, v in sorted(e.params.items()) if v != e.op.defaults.get(k, ...))
            where = f"  # line {e.loc.line}" if e.loc and i < (self.n_forward or len(self.eqns)) else ""
            cond = "".join(f"[{frame_text(f, show)}] " for f in e.branch)
            lines.append(f"  {cond}{typed(e.out)} = {e.op.name} {args}{params}".rstrip() + where)
        lines.append(f"  return {', '.join(show(o) for o in self.outs)}")
        return "\n".join(lines) + "\n"
