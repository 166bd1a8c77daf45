"""explain: the lecture's table, gate by gate in backward order, for the user's own function.

Each row is one gate application: the source line, the gate and its pattern (add distributes, mul
swaps, max routes, copy adds), the forward value it made, the gradient that reached it (upstream),
and for each input its local gradient and what it receives (downstream = upstream x local).  Where a
value feeds several gates, a copy row shows each share and their sum; the parameters close the table
with their whole gradients.  The numbers come from numbers.record (the interpreter running the
gradient graph the module is rendered from); this module only lays them out, as text and as HTML.
"""

from __future__ import annotations

import html
from typing import NamedTuple

import numpy as np

from .graph import Var
from .numbers import Gate, Run, record
from .render import Renderer, gate_text

# The lecture's names for what a gate does with the gradient, by gate label (the table's `gate`).
PATTERNS = {
    "add": "distributor", "sub": "distributor", "sum": "distributor", "mean": "distributor",
    "broadcast": "distributor",
    "mul": "swap multiplier", "matmul": "swap multiplier", "outer": "swap multiplier",
    "max": "router", "min": "router", "reduce_max": "router", "reduce_min": "router", "where": "router",
    "abs": "router", "index": "router", "setitem": "router",
    "copy": "adder", "assign": "pass-through", "layout": "pass-through", "neg": "sign flip",
    "compare": "no gradient", "const": "no gradient",
}
DEFAULT_PATTERN = "upstream x local"

GREEN, RED = "#1a7f37", "#cf222e"  # the lecture's colours: forward values green, gradients red


class Share(NamedTuple):
    """One contribution to a value's gradient: which gate sent it back, and how much."""

    via: str  # the gate's output name (and line), as the table shows it
    grad: object


class InputRow(NamedTuple):
    name: str  # the input's name (a constant as its number)
    value: object
    local: object  # number, array, formula text (str), or None
    grad: object  # the downstream gradient it receives from this gate (its share); None: none
    constant: bool = False  # a number written in the source: no gradient


class Row(NamedTuple):
    """One line of the table (`kind`: "gate", "copy" for a fan-out's sum, "input" for a parameter)."""

    kind: str
    name: str  # the value's name: the user's where there is one (t1, t2 for nested expressions)
    line: int | None
    gate: str  # the gate's label (mul, add, sigmoid, copy, input)
    pattern: str  # distributor, swap multiplier, router, adder, ...
    value: object  # the forward value
    grad: object  # the value's whole gradient (upstream of its gate)
    source: str = ""  # the statement, as Python prints it
    explains: str = ""  # the gate's sentence, as the generated module's comment says it
    inputs: tuple = ()  # InputRow per input (gate rows)
    shares: tuple = ()  # Share per contribution (copy rows, and parameters used more than once)
    iteration: str = ""  # "i=2" inside a loop

    def asdict(self) -> dict:
        return self._asdict()


class Explanation:
    """The table: prints as text, shows as HTML in a notebook, `.rows` for programs."""

    def __init__(self, title: str, rows: list[Row], digits: int = 4, note: str = ""):
        self.title = title
        self.rows = rows
        self.digits = digits
        self.note = note  # what the table assumed (an array output's upstream gradient), or ""

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def grads(self) -> dict:
        """Each parameter's whole gradient, by name."""
        return {r.name: r.grad for r in self.rows if r.kind == "input"}

    def __str__(self) -> str:
        return text_table(self)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return html_table(self)


def explain(g, args: tuple, seed=None, digits: int = 4) -> Explanation:
    """The table for the Generated `g` (lecture style) at `args`; `seed`, checked by the caller: the
    upstream gradient of an array output (or of several outputs), by default ones of its shape."""
    names = Renderer(g.graph, g.grad_graph)
    run = record(g.graph, g.grad_graph, args, seed, label=names.label, names=names.names.globals)
    return Explanation(title(run, names.label, digits), rows(run, names.label), digits, seed_note(run, names.label))


def seed_note(run: Run, label) -> str:
    """What the table says when it chose an array output's upstream gradient itself."""
    if not run.ones:
        return ""
    outs = run.graph.outs[: run.graph.n_values]
    first = label(outs[0]) if isinstance(outs[0], Var) else "out"
    others = " (the other outputs': zeros)" if len(outs) > 1 else ""
    return (f"upstream gradient of {first}: ones of its shape{others}, the gradient of sum({first}); "
            "give seed= (--seed) for another")


def title(run: Run, label, digits: int = 4) -> str:
    at = ", ".join(f"{label(p)}={fmt(v, digits)}" for p, v in zip(run.graph.params, run.args))
    outs = run.graph.outs[: run.graph.n_values]
    values = ", ".join(f"{label(o) if isinstance(o, Var) else 'out'} = {fmt(_value(run, o), digits)}" for o in outs)
    return f"{run.graph.name}({at}): {values}"


def _value(run: Run, atom):
    return atom.value if not isinstance(atom, Var) else run.env.get(atom)


def rows(run: Run, label) -> list[Row]:
    """The rows in backward order: a gate row per application with a backward group, a copy row before
    the gate of a value whose gradient came back in several shares, a row per parameter at the end."""
    out: list[Row] = []
    pending: dict = {}  # variable -> the shares its gradient has received since its gate last ran
    for app in run.events:
        if isinstance(app, Var):  # its gradient starts again at zero (a branch, a loop's variable)
            pending[app] = []
            continue
        f = app.eqn
        shares = pending.pop(f.out, [])
        where = _iteration(app, label)
        if len(shares) > 1:
            out.append(Row("copy", label(f.out), _line(f), "copy", PATTERNS["copy"], app.value, app.grad,
                           explains=f"{label(f.out)} is used {len(shares)} times: its gradients add up",
                           shares=tuple(shares), iteration=where))
        out.append(_gate_row(app, label, where))
        via = label(f.out) + (f" (line {f.loc.line})" if f.loc else "")
        for i in app.inputs:
            if i.share is not None and isinstance(i.atom, Var):
                if i.starts:  # the first contribution binds the gradient: what was pending belongs to an older value
                    pending[i.atom] = []
                pending.setdefault(i.atom, []).append(Share(via, i.share))
    values = run.param_values
    for p in run.wrt:
        shares = pending.pop(p, [])
        out.append(Row("input", label(p), None, "input", "parameter", values[p], run.gradient(p),
                       explains=f"{label(p)} is a parameter: its gradient is the sum of what came back",
                       shares=tuple(shares) if len(shares) > 1 else ()))
    return out


def _gate_row(app: Gate, label, where: str) -> Row:
    f = app.eqn
    names = [label(i.atom) if isinstance(i.atom, Var) else fmt(i.atom.value) for i in app.inputs]
    inputs = tuple(InputRow(n, i.value, i.local, i.share, not isinstance(i.atom, Var))
                   for n, i in zip(names, app.inputs))
    explains = gate_text(f.op.gate, out=label(f.out), ins=names, name=label(f.out))
    return Row("gate", label(f.out), _line(f), f.op.gate, PATTERNS.get(f.op.gate, DEFAULT_PATTERN), app.value,
               app.grad, f.source, explains, inputs, iteration=where)


def _line(f) -> int | None:
    return f.loc.line if f.loc is not None else None


def _iteration(app: Gate, label) -> str:
    return ", ".join(f"{label(v)}={k}" if v is not None else f"iteration {k}" for v, k in app.iteration)


def fmt(v, digits: int = 4) -> str:
    """A value for people: numbers with `digits` significant digits, arrays as shape and a few entries."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(fmt(x, digits) for x in v) + ")"
    a = np.asarray(v)
    if a.ndim == 0:
        x = a.item()
        if isinstance(x, (bool, int)):
            return str(x)
        if isinstance(x, float):
            return f"{x:.{digits}g}"
        return str(x)
    flat = a.ravel()
    shown = ", ".join(fmt(x, digits) for x in flat[:4]) + (", ..." if flat.size > 4 else "")
    return f"{tuple(a.shape)} [{shown}]"


SHOWN_SHARES = 4  # a value used more often shows its first shares, "...", the last, and how many


def _shares_text(r: Row, digits: int) -> str:
    """`a + b + c = total`; for many shares the first few, `...`, the last and their count (a value used
    a thousand times in a loop would otherwise make a cell of a thousand terms)."""
    shares = r.shares
    if len(shares) <= SHOWN_SHARES + 1:
        terms = [fmt(s.grad, digits) for s in shares]
        count = ""
    else:
        terms = [fmt(s.grad, digits) for s in shares[:SHOWN_SHARES - 1]] + ["...", fmt(shares[-1].grad, digits)]
        count = f" ({len(shares)} shares)"
    return " + ".join(terms) + count + " = " + fmt(r.grad, digits)


HEADER = ("line", "gate", "value", "upstream", "input", "local", "downstream")


def _cells(r: Row, digits: int) -> list[tuple]:
    """The row as table lines: (line, gate, value, upstream, input, local, downstream)."""
    line = ("" if r.line is None else str(r.line)) + (f" {r.iteration}" if r.iteration else "")
    gate = f"{r.gate} ({r.pattern})"
    value = f"{r.name} = {fmt(r.value, digits)}"
    upstream = _shares_text(r, digits) if r.shares else fmt(r.grad, digits)
    if not r.inputs:
        return [(line, gate, value, upstream, "", "", "")]
    lines = []
    for k, i in enumerate(r.inputs):
        none = "(a constant)" if i.constant else "(no gradient)"
        cells = (i.name, fmt(i.local, digits) if i.grad is not None else "", fmt(i.grad, digits) if i.grad is not None
                 else none)
        lines.append(((line, gate, value, upstream) if k == 0 else ("", "", "", "")) + cells)
    return lines


WIDEST = 60  # no column is padded wider: a longer cell runs over, on its own line only


def text_table(e: Explanation) -> str:
    body = [line for r in e.rows for line in _cells(r, e.digits)]
    widths = [max((len(c[k]) for c in [HEADER, *body] if len(c[k]) <= WIDEST), default=WIDEST)
              for k in range(len(HEADER))]

    def show(cells):
        return "  ".join(c.rjust(w) if k == 0 else c.ljust(w) for k, (c, w) in enumerate(zip(cells, widths))).rstrip()

    lines = [e.title, *([e.note] if e.note else []), "backward, gate by gate: downstream = upstream x local",
             show(HEADER), show(tuple("-" * w for w in widths))]
    return "\n".join(lines + [show(c) for c in body]) + "\n"


def html_table(e: Explanation) -> str:
    """The table as HTML: every text escaped (names, values, statements), colours as inline styles."""
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in HEADER)
    caption = esc(e.title) + (f"<br>{esc(e.note)}" if e.note else "")
    parts = ['<table class="flatgen-explain">', f"<caption>{caption}</caption>", f"<thead><tr>{head}</tr></thead>",
             "<tbody>"]
    colours = (None, None, GREEN, RED, None, None, RED)
    for r in e.rows:
        tip = f"line {r.line}: {r.source}\n{r.explains}" if r.source else r.explains
        for k, cells in enumerate(_cells(r, e.digits)):
            tds = []
            for c, (text, colour) in enumerate(zip(cells, colours)):
                if k and c < 4:
                    continue  # spanned by the first line of the row
                span = f' rowspan="{len(r.inputs)}"' if c < 4 and len(r.inputs) > 1 else ""
                style = f' style="color:{colour}"' if colour else ""
                title_attr = f' title="{esc(tip)}"' if c == 1 and tip else ""
                tds.append(f"<td{span}{style}{title_attr}>{esc(text)}</td>")
            parts.append("<tr>" + "".join(tds) + "</tr>")
    parts += ["</tbody>", "</table>"]
    return "\n".join(parts)
