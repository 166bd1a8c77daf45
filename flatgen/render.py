"""Render: a gradient graph -> the text of a standalone Python module (before Black).

Statements are built as syntax trees from the primitive table's templates and printed with
ast.unparse, so user names reach the module only as identifiers and numbers only as literals.
Jinja2 lays out the module (templates/module.py.j2), each backward block (block.py.j2) and the
comment that explains each gate (gates/<gate>.j2).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby

import jinja2

from .graph import Atom, Eqn, Graph, Lit, Var
from .naming import Namer
from .primitives import ACC, SUPPORT, constant
from .templates_dir import templates_dir


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def gate_text(gate: str, **context) -> str:
    return environment().get_template(f"gates/{gate}.j2").render(**context).strip()


@dataclass
class Header:
    version: str
    target: str  # file.py:function
    digest: str
    command: str


class Renderer:
    def __init__(self, forward: Graph, grad: Graph):
        self.forward, self.grad = forward, grad
        self.vg_name = f"{grad.name}_value_and_grad"
        used = {g for e in grad.eqns for g in e.op.expr.globals}
        if any(p.shape not in ((), None) for p in grad.params):
            used.add("np")  # the shape checks
        atoms = [a for e in grad.eqns for a in e.ins] + list(grad.outs)
        if any(isinstance(a, Lit) and isinstance(a.value, float) and not abs(a.value) < float("inf") for a in atoms):
            used.add("np")  # np.inf / np.nan literals
        support = sorted(s for s in SUPPORT if s in used)
        if support:
            used.add("np")  # the support functions are written with numpy
        self.names = Namer.for_graph(
            grad, tuple(g for g in ("np", *support) if g in used), reserved=(grad.name, self.vg_name)
        )
        self.support = support
        self.inline: dict[Var, ast.expr] = {}

    # -- expressions and statements ---------------------------------------------------------------

    def atom(self, a: Atom) -> ast.expr:
        if isinstance(a, Lit):
            return constant(a.value, self.names.globals.get("np", "np"))
        if a in self.inline:
            return self.inline[a]
        return ast.Name(self.names[a], ast.Load())

    def text(self, a: Atom) -> str:
        return ast.unparse(self.atom(a))

    def expression(self, e: Eqn) -> ast.expr:
        return e.op.expr.render([self.atom(a) for a in e.ins], self.names.globals, e.params, e.op.defaults,
                                [a.shape for a in e.ins])

    def statement(self, e: Eqn) -> str | None:
        target = self.names[e.out]
        if e.op.expr.block:  # statements of their own: OUT is the target
            tree = e.op.expr.render([self.atom(a) for a in e.ins], {**self.names.globals, "OUT": target},
                                    e.params, e.op.defaults, [a.shape for a in e.ins])
            return "\n".join(ast.unparse(s) for s in tree.body)
        value = self.expression(e)
        if e.out.role == "partial":  # written inside the statement that consumes it
            self.inline[e.out] = value
            return None
        store = ast.Name(target, ast.Store())
        if e.op is ACC:
            # `+=` on a scalar rebinds; on an array it would write into a value that may be shared.
            if e.out.shape == ():
                return ast.unparse(ast.AugAssign(store, ast.Add(), self.atom(e.ins[1])))
            return ast.unparse(ast.Assign([store], ast.BinOp(self.atom(e.ins[0]), ast.Add(), self.atom(e.ins[1])),
                                          lineno=0))
        return ast.unparse(ast.Assign([store], value, lineno=0))

    # -- sections ----------------------------------------------------------------------------------

    def forward_lines(self) -> list[str]:
        """Forward statements; a user line that became several statements (or other text) is quoted above them."""
        lines = []
        for (line, source), group in groupby(self.grad.forward, key=lambda e: (e.loc.line if e.loc else 0, e.source)):
            stmts = [line for e in group for line in self.statement(e).splitlines()]
            if source and (len(stmts) != 1 or stmts[0] != source):
                lines.append(f"# line {line}: {source}")
            lines.extend(stmts)
        return lines

    def backward_lines(self) -> list[str]:
        lines = []
        block_template = environment().get_template("block.py.j2")
        for _, group in groupby(self.grad.backward, key=lambda e: id(e.block) if e.block else id(e)):
            group = list(group)
            first = group[0]
            fwd = first.block
            if fwd is not None:
                gate = gate_text(fwd.op.gate, out=self.names[fwd.out], ins=[self.text(a) for a in fwd.ins])
                source = self.statement_text(fwd)
                line = fwd.loc.line if fwd.loc else 0
            else:  # the seed or a zero gradient
                primal = first.out.of
                gate = gate_text(first.op.gate, out=self.names[primal], name=self.names[primal])
                source, line = "", 0
            stmts = []
            for e in group:
                s = self.statement(e)
                if s is None:
                    continue
                if e.op.inplace:
                    s += "  # " + gate_text("copy", name=self.names[e.out.of], uses=e.uses)
                stmts.extend(s.splitlines())
            lines.extend(block_template.render(source=source, line=line, gate=gate, stmts=stmts).splitlines())
        return lines

    def statement_text(self, e: Eqn) -> str:
        """A forward equation as the forward section prints it (for the backward block's comment)."""
        return ast.unparse(ast.Assign([ast.Name(self.names[e.out])], self.expression(e), lineno=0))

    def shape_checks(self) -> list[str]:
        """One check of the array parameters' shapes, when the module is specialised to them."""
        np_ = self.names.globals.get("np")
        lines = []
        for p in self.grad.params:
            if p.shape not in ((), None):
                name = self.names[p]
                lines += [f"if {np_}.shape({name}) != {p.shape!r}:",
                          f"    raise ValueError(f\"{name} must have shape {p.shape!r} (the module was generated for it), "
                          f"got {{{np_}.shape({name})}}\")"]
        return lines

    def support_functions(self) -> list[str]:
        out = []
        for name in self.support:
            tree = ast.parse(SUPPORT[name])
            for node in ast.walk(tree):
                if isinstance(node, ast.Name) and node.id in self.names.globals:
                    node.id = self.names.globals[node.id]
                if isinstance(node, ast.FunctionDef):
                    node.name = self.names.globals[node.name]
            out.append(ast.unparse(tree))
        return out

    def module(self, header: Header) -> str:
        np_alias = self.names.globals.get("np")
        imports = []
        if np_alias:
            imports.append("import numpy" if np_alias == "numpy" else f"import numpy as {np_alias}")
        params = ", ".join(self.names[p] for p in self.grad.params)
        value, *grads = self.grad.outs
        return environment().get_template("module.py.j2").render(
            header=[
                f"Generated by flatgen {header.version} from {header.target}. DO NOT EDIT.",
                f"Source hash: {header.digest} (the function, its helpers and constants)",
                f"Regenerate: {header.command}",
            ],
            imports=imports,
            support=self.support_functions(),
            name=self.grad.name,
            vg_name=self.vg_name,
            params=params,
            checks=self.shape_checks(),
            forward=self.forward_lines(),
            backward=self.backward_lines(),
            value=self.text(value),
            grads=_tuple([self.text(g) for g in grads]),
            wrt=", ".join(self.names[g.of] for g in grads),
        )


def _tuple(items: list[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def render_module(forward: Graph, grad: Graph, header: Header) -> str:
    return Renderer(forward, grad).module(header)
