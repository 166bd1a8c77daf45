"""Rendering forward mode: the module's `<name>_jvp` and `<name>_hvp` functions.

A JVP graph (flatgen/jvp.py) is straight-line code with frames, like a forward graph: each value's
statement, then its tangent's under a comment in forward-mode language (templates/tangents/<gate>.j2,
else default.j2 by how the table gives the tangent), all under the `# line N: ...` of the user's line
they come from.  The functions are added to the module render.py lays out (`render_module(...,
extend=...)`): their own names, one namer per function, with the module's imports and support
functions (render.py counts the globals these graphs use: `also=`).
"""

from __future__ import annotations

from functools import lru_cache
from itertools import groupby

from .errors import InternalError
from .format import UNSTABLE
from .graph import Eqn, Graph, Var
from .jvp import ZERO_ARRAY, ZERO_SCALAR, kind_of
from .primitives import POP, TAPE
from .render import Nesting, Rendered, Renderer, _form, _HOLE, _indented, _tuple, environment
from .safety import one_line


@lru_cache(maxsize=None)
def _tangent_form(gate: str, kind: str, n_ins: int) -> str:
    """Holes: 0 the value's name, 1... the inputs'."""
    name = f"tangents/{gate}.j2"
    if name not in environment().list_templates():
        name = "tangents/default.j2"
    return _form(name, out=_HOLE.format(0), gate=gate.removeprefix("reduce_"), kind=kind,
                 ins=tuple(_HOLE.format(1 + k) for k in range(n_ins)))


def tangent_comment(e: Eqn, label, text) -> str:
    """The comment above the tangent equation `e`: its gate, in forward-mode language (`e.block`: the
    equation of the value it is the tangent of)."""
    op, value = e.op, e.block
    if op is TAPE or op.saves or op is POP:
        gate = "tape" if op is TAPE else "push" if op.saves else "restore"
        return "# " + one_line(_tangent_form(gate, "", 0).format(label(e.out.of)))
    ins = [label(a) if type(a) is Var else text(a) for a in value.ins] if value is not None else []
    if op is ZERO_ARRAY or op is ZERO_SCALAR or value is None:
        return "# " + one_line(_tangent_form("zero_tangent", "", 0).format(label(e.out.of)))
    return "# " + one_line(_tangent_form(value.op.gate, kind_of(value.op), len(ins)).format(label(e.out.of), *ins))


class TangentRenderer(Renderer):
    """One function of the module: the JVP graph's statements, values and tangents interleaved."""

    def __init__(self, graph: Graph, main: Renderer, fname: str):
        super().__init__(graph, graph, functions=(*main.own, fname))
        missing = set(self.names.globals) - set(main.names.globals)
        if missing:
            raise InternalError(f"{fname} uses {sorted(missing)}, which the module does not define")
        taken = set(self.names.names.values())
        for g, alias in main.names.globals.items():
            if alias in taken and self.names.globals.get(g) != alias:
                raise InternalError(f"{fname} would shadow the module's {alias}")
        self.names.globals.update(main.names.globals)
        self.fname = fname

    def _statement(self, e: Eqn) -> list[str]:
        if e.out.role == "partial":  # a gradient graph's contribution: a statement of its own here
            value, stable = self.expression(e)
            line = f"{self.names[e.out]} = {value}"
            return [line if stable else UNSTABLE + line]
        return super()._statement(e)

    def lines(self) -> list[str]:
        out, nest = [], Nesting(self.header)
        key = lambda e: (e.loc.line if e.loc else 0, e.source, e.frames)  # noqa: E731
        for (line, source, frames), group in groupby(self.grad.eqns, key=key):
            stmts, primal = [], []
            for e in group:
                lines = self.statement(e)
                if not lines:
                    continue
                if e.out.role == "tangent":
                    stmts.append(tangent_comment(e, self.label, self.text))
                else:
                    primal += lines
                    if not source and e.op.saves:
                        stmts.append("# saved for the backward loop")
                stmts += lines
            if not stmts:
                continue
            if source and (len(primal) != 1 or len(stmts) != 1
                           or primal[0].lstrip(UNSTABLE).replace(" ", "") != source.replace(" ", "")):
                stmts.insert(0, f"# line {line}: {one_line(source)}")
            headers, indent = nest.enter(frames)
            out += headers
            out += [_indented(s, indent) for s in stmts] if indent else stmts
        return out

    def function(self, kind: str, body: int) -> tuple[str, list[str]]:
        """(the function's skeleton, with the body marker `body`; its statements)."""
        g = self.grad
        n = g.n_values
        values, dots = g.outs[:n], g.outs[n:]
        tangent_params = [p for p in g.params if p.role == "tangent"]
        params = [p for p in g.params if p.role != "tangent"]
        lines = self.lines()
        context = dict(
            kind=kind, fname=self.fname, name=g.name, body=body,
            params=", ".join(self.names[p] for p in g.params),
            wrt=", ".join(self.names[p.of] for p in tangent_params),
            tangents=", ".join(self.names[p] for p in tangent_params),
            inputs=", ".join(self.names[p] for p in params),
            checks=self.shape_checks(),
            value=(self.text(values[0]) if n == 1 else _tuple([self.text(v) for v in values])) if n else "",
            dot=self.text(dots[0]) if n == 1 else _tuple([self.text(v) for v in dots]),
        )
        return environment().get_template("tangent_function.py.j2").render(**context), lines


def extend(graphs: list[tuple[str, str, Graph]]):
    """The `extend=` hook of render.render_module: adds a function per (kind, name, graph) to the module."""
    def add(main: Renderer, r: Rendered) -> Rendered:
        skeleton, plain, bodies, functions = r.skeleton, r.plain_skeleton, list(r.bodies), list(r.functions)
        for kind, fname, graph in graphs:
            text, lines = TangentRenderer(graph, main, fname).function(kind, len(bodies))
            skeleton += "\n\n" + text
            plain += "\n\n" + text
            bodies.append(lines)
            functions.append(fname)
        return Rendered(skeleton, bodies, plain, functions, r.cache)
    return add
