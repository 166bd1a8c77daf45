"""The gates: every gate flatgen knows, read from the primitive table itself (`flatgen gates`,
`flatgen.gates()`).

One record per row of the table (primitives.py, rows_numpy.py, rows_linalg.py): the forward
expression, the local-gradient rule of each input (over `g`, the upstream gradient, `out`, the output,
and the inputs), the gate label and the lecture's name for its pattern (explain.PATTERNS), the calls
that mean it, and the comment the generated code writes for it (templates/gates/<gate>.j2).  Then
the rows the transforms add that a lecture shows too: item assignment, assignment, and the copy gate
(a value used more than once: its gradients add up).  np.einsum has a row per subscripts, made when a
function uses it: one is shown, for 'ij,jk->ik'.  Nothing here is written by hand twice: change a rule
in the table and `flatgen gates` shows the new one.
"""

from __future__ import annotations

import html
from typing import NamedTuple

from .errors import UsageError


class GateRow(NamedTuple):
    name: str  # the table's row (mul, sum_axis, matmul_mv, ...)
    gate: str  # the gate label: which comment explains it (templates/gates/<gate>.j2)
    pattern: str  # distributor, swap multiplier, router, adder, ... (the lecture's names)
    inputs: tuple[str, ...]  # the forward's inputs, by slot name
    forward: str  # the forward expression
    rules: tuple[str | None, ...]  # per input: the gradient it receives (g: upstream, out: the output); None: none
    calls: tuple[str, ...]  # what a user writes for it: np.exp, math.exp, abs, ...
    comment: str  # the comment generated code writes for it
    kind: str = "primitive"  # "primitive", "per call" (a row made per use: einsum), "backward" (the copy gate)

    def rule_text(self) -> str:
        """`a: g * b; b: g * a` (a block rule on one line, its statements joined by `; `)."""
        parts = [f"{i}: {'no gradient' if r is None else r.replace(chr(10), '; ')}"
                 for i, r in zip(self.inputs, self.rules)]
        if self.kind == "backward":  # the copy gate adds what each use sends back
            parts[0] += " (a, b: the gradients its uses send back)"
        return "; ".join(parts) or "no inputs"


class Gates(list):
    """A list of GateRow, printed as a text table (str) and shown as an HTML table in a notebook."""

    COLUMNS = ("name", "gate (pattern)", "forward", "calls", "gradient to each input (g: upstream, out: output)")

    def cells(self, row: GateRow) -> tuple[str, ...]:
        return (row.name, f"{row.gate} ({row.pattern})", row.forward.replace("\n", "; "), ", ".join(row.calls) or "-",
                row.rule_text())

    def __str__(self) -> str:
        rows = [self.COLUMNS, *(self.cells(r) for r in self)]
        widths = [max(len(r[k]) for r in rows) for k in range(len(self.COLUMNS))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines) + "\n"

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text("Gates([...])" if cycle else str(self).rstrip("\n"))

    def _repr_html_(self) -> str:
        """The table, and the comment generated code writes for each gate as a last column."""
        head = "".join(f"<th>{html.escape(c)}</th>" for c in (*self.COLUMNS, "comment in the generated code"))
        body = "".join("<tr>" + "".join(f"<td><code>{html.escape(c)}</code></td>" for c in self.cells(r))
                       + f"<td>{html.escape(r.comment)}</td></tr>" for r in self)
        return f'<table class="flatgen-gates"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def gates(*names: str) -> Gates:
    """Every gate flatgen knows (or those named: a row, a gate label or a call, e.g. "mul", "max", "np.exp")."""
    rows = all_rows()
    if not names:
        return Gates(rows)
    picked = [r for r in rows if any(n in (r.name, r.gate, *r.calls) for n in names)]
    unknown = [n for n in names if not any(n in (r.name, r.gate, *r.calls) for r in rows)]
    if unknown:
        raise UsageError(f"no gate {', '.join(map(repr, unknown))}",
                         hint="name a row, a gate or a call: flatgen gates mul max np.exp (no names: all of them)")
    return Gates(picked)


def all_rows() -> list[GateRow]:
    from .primitives import ACC, COPY, SETITEM, TABLE
    from .rows_linalg import einsum_op

    rows = [_row(op) for op in TABLE.values()]
    rows += [_row(SETITEM), _row(COPY), _row(einsum_op("ij,jk->ik", ((2, 3), (3, 4))), "per call", ("np.einsum",))]
    rows.append(_row(ACC, "backward"))
    return rows


def _row(op, kind: str = "primitive", calls: tuple = ()) -> GateRow:
    from .explain import DEFAULT_PATTERN, PATTERNS
    from .render import gate_text

    if kind == "backward":  # the copy gate: a value's gradients, one per use, added (a + b)
        inputs, forward, rules = ("x",), "x", (op.expr.text,)
    else:
        inputs, forward = op.expr.slots, op.expr.text
        rules = tuple(None if r is None else r.expr.text for r in op.rules)
        inputs = inputs if len(inputs) == len(rules) else tuple(f"x{k}" for k in range(len(rules)))
    comment = gate_text(op.gate, out="out", ins=inputs, name=inputs[0] if inputs else "x", uses=2)
    return GateRow(op.name, op.gate, PATTERNS.get(op.gate, DEFAULT_PATTERN), tuple(inputs), forward, rules,
                   calls or tuple(_call(c) for c in op.calls), comment, kind)


def _call(dotted: str) -> str:
    """numpy.exp -> np.exp, builtins.abs -> abs: as people write them."""
    if dotted.startswith("numpy."):
        return "np." + dotted[len("numpy."):]
    return dotted.removeprefix("builtins.")

