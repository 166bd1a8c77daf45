"""The graph IR: a flat list of equations `out = op(ins)`.

Variables carry a hint (the user's name, or None for a temporary) and a role, never a final name:
names are handed out in one place, by naming.Namer, when the graph is printed or rendered.  That
keeps the passes free to create and drop variables without ever producing a clash.

The same IR holds the forward graph and the gradient graph (forward equations, then backward
equations tagged with the forward equation they differentiate), so every pass, the interpreter and
the renderer work on both.  Equations carry `params` for what later primitives need (axis,
shapes).  Branches and loops stay flat too: each equation carries the frames it runs under
(`Eqn.frames`, outermost first): a `Branch` (one side of an `if` on data), or a `Loop`.  Frames
are compared with `==`, and `runs` is the one place that finds the equations under a frame.
Consecutive equations under the same frame are its body; a variable a loop updates is one variable,
defined before the loop and again in its body (as a variable assigned in both branches of an `if`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import Loc
from .primitives import Op


# What a variable is, which decides how naming.Namer names it.
ROLES = {
    "param": "a parameter of the user's function (keeps its name)",
    "value": "a value the user named (s3), or a loop's count (n_iter)",
    "temp": "a nested expression's value (t1, t2, ...)",
    "grad": "a gradient (grad_s3)",
    "partial": "one contribution to a gradient, written inline where it is added",
    "seed": "the upstream gradients of a function with several outputs (the `seed=` keyword)",
    "tape": "a rolled loop's saved values (h_tape)",
    "tangent": "forward mode: a value's tangent, its directional derivative (dot_s3; flatgen/jvp.py)",
}


class Var:
    """A value, with a hint (the user's name, or None) and a role, one of ROLES."""

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
        return np.shape(self.value) if isinstance(self.value, (int, float, np.ndarray)) else ()  # not tuples: params

    def __repr__(self):
        return repr(self.value)


Atom = Var | Lit


class Loop:
    """A loop frame: the equations of its body carry it in `Eqn.frames`.

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

    @property
    def site(self):
        """A loop is its own site: its body is one run."""
        return self

    def text(self, show) -> str:
        if self.kind == "while":
            return f"while {show(self.cond)}"
        index = show(self.index) if self.index is not None else "_"
        bounds = f"range({', '.join(show(b) for b in self.bounds)})"
        return f"for {index} in {'reversed(' + bounds + ')' if self.reverse else bounds}"

    def __repr__(self):
        return f"Loop({self.kind}, {self.index!r}, {self.bounds!r})"


class Branch:
    """A branch frame: one side of an `if` on data, whose equations run when `cond` is `want`.

    Two branch frames are equal when they are the same side of the same `if` (the same condition
    variable, the same `want`); a Loop is equal only to itself.  So `==` is frame equality, and a
    tuple of frames compares as a path."""

    __slots__ = ("cond", "want")

    def __init__(self, cond: "Atom", want: bool):
        self.cond, self.want = cond, want

    def __eq__(self, other):
        return isinstance(other, Branch) and other.cond is self.cond and other.want == self.want

    def __hash__(self):
        return hash((id(self.cond), self.want))

    @property
    def site(self):
        """What both sides of one `if` share: its condition."""
        return self.cond

    def reads(self) -> list["Var"]:
        return [self.cond] if isinstance(self.cond, Var) else []

    def text(self, show) -> str:
        return ("" if self.want else "not ") + show(self.cond)

    def __repr__(self):
        return f"Branch({self.cond!r}, {self.want})"


Frame = Branch | Loop


def is_loop(frame) -> bool:
    return isinstance(frame, Loop)


def frame_text(frame: Frame, show) -> str:
    """A frame as printed IR shows it: `c`, `not c`, `for i in range(n)`, `while c`."""
    return frame.text(show)


def frame_reads(frame: Frame) -> list["Var"]:
    """What a frame's header reads: a branch's condition, or a loop's bounds and condition."""
    return frame.reads()


def runs(eqns: list["Eqn"], depth: int, by_site: bool = False):
    """The equations in order, as (frame, i, j): each maximal run eqns[i:j] under one frame at `depth`
    (by_site: one `if`, both its sides, as one run), and (None, i, i + 1) for an equation with no frame
    there.  The one place that says which equations are the body of a frame."""
    i, n = 0, len(eqns)
    while i < n:
        frames = eqns[i].frames
        if len(frames) <= depth:
            yield None, i, i + 1
            i += 1
            continue
        frame = frames[depth]
        key = frame.site if by_site else frame
        j = i + 1
        while j < n and len(eqns[j].frames) > depth and (
                (eqns[j].frames[depth].site is key) if by_site else eqns[j].frames[depth] == key):
            j += 1
        yield frame, i, j
        i = j


def common_frames(paths: list[tuple]) -> tuple:
    """The frames every one of `paths` starts with."""
    first = paths[0]
    k = 0
    while all(len(p) > k and p[k] == first[k] for p in paths):
        k += 1
    return first[:k]


@dataclass(eq=False, slots=True)
class Eqn:
    out: Var
    op: Op
    ins: tuple[Atom, ...]
    loc: Loc | None = None  # the user's source line this equation comes from
    params: dict = field(default_factory=dict)
    block: "Eqn | None" = None  # backward equations: the forward equation they differentiate
    uses: int = 0  # acc equations: how many times the primal value is used (for the copy gate)
    source: str = ""  # the user's statement, as ast.unparse prints it (never raw text: no injection)
    # The frames it runs under, outermost first: (Branch(c, True), Branch(d, False)) is `if c:` ...
    # `if not d:`, and a Loop is the body of that loop.  A value assigned in either branch of an `if`
    # is one variable, defined once in each branch; a value a loop updates is defined before it and in it.
    frames: tuple = ()


@dataclass(eq=False)
class Graph:
    name: str  # the user's function name
    params: list[Var]
    eqns: list[Eqn]
    outs: list[Atom]
    n_forward: int | None = None  # in a gradient graph: how many leading equations are the forward pass
    math: bool = False  # plain Python floats: templates in their math form (math.exp, max, ...)
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
            for k, f in enumerate(e.frames):  # a while loop's condition, before its body
                if isinstance(f, Loop) and f.kind == "while" and id(f) not in shown:
                    shown.add(id(f))
                    outer = "".join(f"[{frame_text(g, show)}] " for g in e.frames[:k])
                    lines += [f"  {outer}(test) {names[h.out]} = {h.op.name} {' '.join(show(a) for a in h.ins)}"
                              for h in f.head]
            if i == self.n_forward:
                lines.append("  # backward")
            args = " ".join(show(a) for a in e.ins)
            params = "".join(f" [{k}={v!r}]" for k, v in sorted(e.params.items()) if v != e.op.defaults.get(k, ...))
            where = f"  # line {e.loc.line}" if e.loc and i < (self.n_forward or len(self.eqns)) else ""
            cond = "".join(f"[{frame_text(f, show)}] " for f in e.frames)
            lines.append(f"  {cond}{typed(e.out)} = {e.op.name} {args}{params}".rstrip() + where)
        lines.append(f"  return {', '.join(show(o) for o in self.outs)}")
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        """The REPL shows what print() shows (one equation per line), not a dump of the fields."""
        return str(self).rstrip("\n")

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        """IPython and notebooks: the same text form, one equation per line."""
        printer.text(f"<Graph {self.name}>" if cycle else repr(self))
