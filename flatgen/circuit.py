"""The circuit of the user's function, as the lecture draws it: what draw.py shows, before layout.

Gates are circles with their symbol; each wire is named after the value it carries, with the
forward value above it and the gradient below it.  At a fan-out each wire carries its own share of
the gradient, and an input used more than once shows their sum under its name.  With arguments
the numbers come from numbers.record (the interpreter on the gradient graph); only what ran is
drawn, so an `if` on data shows the branch taken, in a box that says so.  A rolled loop is drawn
as a loop box: its body once, with the values and gradients of its first iteration, and each value
it carries to the next iteration on a dashed wire back.  Without arguments: the graph alone.
geometry.py and svg.py lay it out and write it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .explain import fmt
from .graph import Branch, Eqn, Lit, Var, is_loop
from .numbers import Run, record
from .render import Renderer

# The symbol in each gate's circle, by the table's op name (others show the op's name).
SYMBOLS = {
    "add": "+", "sub": "\u2212", "mul": "\u00d7", "div": "\u00f7", "pow": "^", "neg": "\u2212", "exp": "exp",
    "log": "log", "sqrt": "\u221a", "tanh": "tanh", "sin": "sin", "cos": "cos", "abs": "|x|",
    "maximum": "max", "max2": "max", "minimum": "min", "min2": "min", "sigmoid": "\u03c3", "where": "where",
    "gt": ">", "lt": "<", "ge": "\u2265", "le": "\u2264", "eq": "==", "ne": "\u2260",
    "matmul": "@", "matmul_mv": "@", "matmul_vm": "@", "dot": "@", "outer": "\u2297",
    "sum": "\u03a3", "sum_axis": "\u03a3", "mean": "mean", "mean_axis": "mean", "max": "max", "max_axis": "max",
    "min": "min", "min_axis": "min", "T": "T", "transpose": "T", "reshape": "reshape", "expand_dims": "[None]",
    "broadcast_to": "bcast", "sign": "sign", "index": "[ ]", "index_at": "[i]", "setitem": "[ ]=",
    "setitem_at": "[i]=", "zeros_like": "0", "ones_like": "1", "zeros": "0", "ones": "1", "copy": "=",
    "copy_array": "copy",
}
# A gate with one constant operand shows it: `+1`, `x-1`, `1/x` (constant on the right, on the left).
WITH_CONSTANT = {
    "add": ("+{c}", "+{c}"), "sub": ("\u2212{c}", "{c}\u2212"), "mul": ("\u00d7{c}", "\u00d7{c}"),
    "div": ("\u00f7{c}", "{c}/x"), "pow": ("^{c}", "{c}^x"), "maximum": ("max {c}", "max {c}"),
    "max2": ("max {c}", "max {c}"), "minimum": ("min {c}", "min {c}"), "min2": ("min {c}", "min {c}"),
    "gt": (">{c}", "<{c}"), "lt": ("<{c}", ">{c}"), "ge": ("\u2265{c}", "\u2264{c}"),
    "le": ("\u2264{c}", "\u2265{c}"),
}
CHAR = 7.2  # the width of one character at the labels' font size (12 px, monospace)


@dataclass
class Node:
    kind: str  # "input" (a parameter), "gate", "output" (where a returned value leaves), "end" (a value no gate reads)
    label: str  # the gate's symbol, or the input's name
    title: str = ""  # the tooltip: the source line and statement
    frames: tuple = ()  # the boxes it sits in (loops, branches), outermost first
    note: str = ""  # an input used more than once: the sum of its shares
    radius: float = 0.0


@dataclass
class Wire:
    src: int
    dst: int
    name: str  # the value's name
    value: str = ""  # its forward value, as shown
    grad: str = ""  # the gradient it carries back (its share, at a fan-out)
    back: bool = False  # a loop's value going round to the next iteration


@dataclass
class Box:
    key: tuple  # the frames, outermost first, that make this box
    label: str
    kind: str  # "loop" or "branch"


@dataclass
class Circuit:
    """The picture's content, before layout: nodes, wires and boxes."""

    name: str
    nodes: list[Node] = field(default_factory=list)
    wires: list[Wire] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)
    numbers: bool = False  # were values given?

    def add(self, node: Node) -> int:
        self.nodes.append(node)
        return len(self.nodes) - 1


def circuit(g, args: tuple | None = None, seed=None, digits: int = 3) -> Circuit:
    """The circuit of the Generated `g` (lecture style); with `args`, its numbers at those arguments."""
    label = Renderer(g.graph, g.grad_graph).label
    run = record(g.graph, g.grad_graph, args, seed, label=label) if args is not None else None
    return _Builder(g.graph, label, run, digits).build()


class _Builder:
    def __init__(self, forward, label, run: Run | None, digits: int):
        self.forward, self.label, self.run, self.digits = forward, label, run, digits
        self.eqns = forward.eqns
        self.first: dict[int, object] = {}  # id(eqn) -> its first application
        self.count: dict[int, int] = {}
        for app in run.applications if run is not None else ():
            self.first.setdefault(id(app.eqn), app)
            self.count[id(app.eqn)] = self.count.get(id(app.eqn), 0) + 1
        self.drawn = [k for k, e in enumerate(self.eqns) if run is None or id(e) in self.first]
        self.defs: dict[Var, list[int]] = {}
        for k in self.drawn:
            self.defs.setdefault(self.eqns[k].out, []).append(k)
        self.c = Circuit(forward.name, numbers=run is not None)

    def show(self, a) -> str:
        return self.label(a) if isinstance(a, Var) else fmt(a.value if isinstance(a, Lit) else a, self.digits)

    def build(self) -> Circuit:
        c, label = self.c, self.label
        inputs = {p: c.add(Node("input", label(p))) for p in self.forward.params}
        gates = {}
        for k in self.drawn:
            e = self.eqns[k]
            where = f"line {e.loc.line}: " if e.loc is not None else ""
            gates[k] = c.add(Node("gate", symbol(e, self.digits), f"{where}{e.source}" if e.source else label(e.out),
                                  frames=e.frames))
        self.inputs, self.gates = inputs, gates
        for k in self.drawn:
            self._inputs_of(k)
        self._outputs()
        self._ends()
        self._notes()
        self._boxes()
        return c

    def _wire(self, x: Var, sources: list[int], dst: int, value: str, grad: str) -> None:
        if not sources and x in self.inputs:
            self.c.wires.append(Wire(self.inputs[x], dst, self.label(x), value, grad))
        for d in sources:
            self.c.wires.append(Wire(self.gates[d], dst, self.label(x), value, grad))

    def _inputs_of(self, k: int) -> None:
        e = self.eqns[k]
        app = self.first.get(id(e))
        for s, a in enumerate(e.ins):
            if not isinstance(a, Var):
                continue
            i = app.inputs[s] if app is not None else None
            value = fmt(i.value, self.digits) if i is not None else ""
            grad = fmt(i.share, self.digits) if i is not None and i.share is not None else ""
            sources = self.reaching(a, k, e.frames)
            self._wire(a, sources, self.gates[k], value, grad)
            back = self.back(a, k, sources)
            if back is not None:
                self.c.wires.append(Wire(self.gates[back], self.gates[k], self.label(a), back=True))

    def _outputs(self) -> None:
        run = self.run
        seeds = run.seeds if run is not None else ()  # the upstream gradient of each output
        for k, (o, seed) in enumerate(zip(self.forward.outs, list(seeds) + [None] * len(self.forward.outs))):
            if not isinstance(o, Var):
                continue
            node = self.c.add(Node("output", self.label(o)))
            # the gradient graph's outputs: the values as returned (a loop's backward takes its variables back)
            value = fmt(_atom_value(run, run.graph.outs[k]), self.digits) if run is not None else ""
            self._wire(o, self.reaching(o, len(self.eqns), ()), node, value,
                       fmt(seed, self.digits) if run is not None and seed is not None else "")

    def _ends(self) -> None:
        """A value no gate reads and that is not returned (a branch's condition): a short wire of its own."""
        leaving = {w.src for w in self.c.wires if not w.back}
        for k in self.drawn:
            n = self.gates[k]
            if n in leaving:
                continue
            e = self.eqns[k]
            app = self.first.get(id(e))
            end = self.c.add(Node("end", "", frames=e.frames))  # in the gate's box
            self.c.wires.append(Wire(n, end, self.label(e.out), fmt(app.value, self.digits) if app else "",
                                     fmt(app.grad, self.digits) if app is not None and app.grad is not None else ""))

    def _notes(self) -> None:
        """Under an input used more than once: the sum of the shares its wires carry back."""
        if self.run is None:
            return
        leaving: dict[int, int] = {}
        for w in self.c.wires:
            leaving[w.src] = leaving.get(w.src, 0) + 1
        for p, n in self.inputs.items():
            total = self.run.gradient(p)
            if leaving.get(n, 0) > 1 and total is not None:
                self.c.nodes[n].note = "\u03a3 " + fmt(total, self.digits)

    def reaching(self, x: Var, k: int, frames: tuple) -> list[int]:
        """The drawn equations whose value of `x` the equation at `k` (with `frames`) may read: the latest
        definition before it, and, while that one is conditional (inside a branch or a loop the reader
        is not in), the ones before it on other paths, back to one that always runs."""
        found: list[tuple] = []
        out = []
        for d in reversed(self.defs.get(x, ())):
            if d >= k:
                continue
            path = _relative(self.eqns[d].frames, frames)
            if not path:
                if not out:
                    out.append(d)
                break
            if not any(path[: len(p)] == p for p in found):
                found.append(path)
                out.append(d)
        return out[::-1]

    def back(self, x: Var, k: int, sources: list[int]) -> int | None:
        """A loop's value read in its body before the body sets it: the wire back from where it is set."""
        loops = [f for f in self.eqns[k].frames if is_loop(f)]
        if not loops:
            return None
        inside = lambda d: any(f is L for f in self.eqns[d].frames for L in loops)  # noqa: E731
        if any(inside(d) and d < k for d in sources):
            return None
        for d in reversed(self.defs.get(x, ())):
            if d < k:
                break
            if inside(d):
                return d
        return None

    def _boxes(self) -> None:
        seen = set()
        for k in self.drawn:
            frames = self.eqns[k].frames
            for j in range(len(frames)):
                key = tuple(_key(f) for f in frames[: j + 1])
                if key in seen:
                    continue
                seen.add(key)
                self.c.boxes.append(Box(key, self._box_label(frames[j], k), "loop" if is_loop(frames[j]) else "branch"))

    def _box_label(self, f, k: int) -> str:
        text = f.text(self.show)
        if isinstance(f, Branch):
            return f"if {text}: the branch taken" if self.run is not None else f"if {text}"
        if self.run is None:
            return f"{text}: the body, once"
        first = self.first[id(self.eqns[k])]
        depth = [g for g in self.eqns[k].frames if is_loop(g)].index(f)
        n = sum(1 for a in self.run.applications
                if a.eqn is self.eqns[k] and a.iteration[:depth] == first.iteration[:depth])
        return f"{text}: {n} iteration{'s' if n != 1 else ''}, the first shown"


def _atom_value(run: Run, a):
    return a.value if isinstance(a, Lit) else run.env.get(a)


def _key(f) -> tuple:
    return ("branch", id(f.cond), f.want) if isinstance(f, Branch) else ("loop", id(f))


def _relative(frames: tuple, reader: tuple) -> tuple:
    """The frames of a definition that its reader is not under."""
    k = 0
    while k < len(frames) and k < len(reader) and frames[k] == reader[k]:
        k += 1
    return frames[k:]


def symbol(e: Eqn, digits: int = 3) -> str:
    """The gate's symbol, with its constant operand if it has one (`+1`, `x-1`, `1/x`)."""
    name = e.op.name
    lits = [k for k, a in enumerate(e.ins) if isinstance(a, Lit)]
    if name in WITH_CONSTANT and len(e.ins) == 2 and len(lits) == 1:
        right, left = WITH_CONSTANT[name]
        return (right if lits[0] == 1 else left).format(c=fmt(e.ins[lits[0]].value, digits))
    return SYMBOLS.get(name, name)
