"""Render: a gradient graph -> a standalone Python module, as a skeleton and statement bodies.

Statements come from the primitive table's templates: each template's syntax tree, with constants
and params substituted, is printed once per distinct pattern (expr.Expr.pattern) and
filled with names from the one namer, so user names reach the module only as identifiers and
numbers only as literals.  Jinja2 lays out the module skeleton (templates/module.py.j2), the
backward blocks (backward.py.j2) and the comment that explains each gate (gates/<gate>.j2);
format.py puts the statements into the skeleton the way Black would.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from typing import NamedTuple

import jinja2

from .format import UNSTABLE, format_snippet
from .graph import Atom, Eqn, Graph, Lit, Var, frame_reads, is_loop
from .naming import Namer
from .expr import SUPPORT, constant, freeze
from .safety import one_line
from .templates_dir import templates_dir
from .vjp import seed_required


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates do not change while flatgen runs: no stat() per include
    )
    env.filters["one_line"] = one_line  # every comment line: user text never ends it early
    return env


# Jinja renders each comment once per form, with holes (names never contain \x01) that are filled per
# block: a 10,000-line function has 28,000 backward blocks and a few dozen forms of comment.
_HOLE = "\x01{}\x01"
_HOLES = re.compile("\x01([^\x01]*)\x01")


def _rendered(template: str, **context) -> str:
    return environment().get_template(template).render(**context).strip()


def _form(template: str, **context) -> str:
    """The template rendered with numbered holes, as a format string: `form.format(*values)` fills them."""
    return _holes_form(_rendered(template, **context))


def _holes_form(text: str) -> str:
    """A text with numbered holes as a format string."""
    parts = _HOLES.split(text)
    return _format_string([int(p) if k % 2 else p for k, p in enumerate(parts)])


def _format_string(pattern: list) -> str:
    """[text, 0, text, 1, ...] (texts, and the numbers of the holes between them) as a format string."""
    return "".join(f"{{{p}}}" if type(p) is int else p.replace("{", "{{").replace("}", "}}") for p in pattern)


def _gate_holes(gate: str, n_ins: int, uses: int, looped: bool | None, first: int) -> str:
    """templates/gates/<gate>.j2 with holes numbered from `first`: the output's name, the value's name,
    then the inputs."""
    context = {} if looped is None else {"looped": looped}
    return _rendered(f"gates/{gate}.j2", out=_HOLE.format(first), name=_HOLE.format(first + 1), uses=uses,
                     ins=tuple(_HOLE.format(first + 2 + k) for k in range(n_ins)), **context)


@lru_cache(maxsize=None)
def _gate_form(gate: str, n_ins: int, uses: int, looped: bool | None) -> str:
    """Holes: 0 the output's name, 1 the value's name, 2... the inputs."""
    return _holes_form(_gate_holes(gate, n_ins, uses, looped, 0))


def gate_text(gate: str, out: str = "", ins=(), name: str = "", uses: int = 0, looped: bool | None = None) -> str:
    """The gate's explanation (templates/gates/<gate>.j2), on one line, for these names."""
    return one_line(_gate_form(gate, len(ins), uses, looped).format(out, name, *ins))


@lru_cache(maxsize=None)
def _block_form(with_source: bool) -> str:
    """Holes: 0 the source line's number, 1 the statement, 2 the gate's text."""
    return _form("backward.py.j2", line=_HOLE.format(0), source=_HOLE.format(1) if with_source else "",
                 gate=_HOLE.format(2))


def block_comment(gate: str, source: str, line: int) -> str:
    """The comment that opens a backward block (templates/backward.py.j2)."""
    return _block_form(bool(source)).format(line, _one_line(source), gate)


@lru_cache(maxsize=None)
def _comment_form(gate: str, n_ins: int, uses: int, with_source: bool) -> str:
    """block_comment(gate_text(...), ...) as one format string.  Holes: 0 the line's number, 1 the
    statement, 2 the output's name, 3 the value's name, 4... the inputs."""
    return _form("backward.py.j2", line=_HOLE.format(0), source=_HOLE.format(1) if with_source else "",
                 gate=_gate_holes(gate, n_ins, uses, None, 2))


@lru_cache(maxsize=4096)
def _one_line(source: str) -> str:
    return one_line(source)  # a statement's text is in the comment of each of its gates


@dataclass
class Header:
    version: str
    target: str  # file.py:function
    digest: str
    command: str


def last_uses(eqns: list[Eqn], outs: list[Atom]) -> dict[int, list[Var]]:
    """For `free`: after which equation (index) each array variable is no longer needed.

    Parameters and outputs are the caller's; contributions written inline have no name; a variable
    that an in-place accumulation updates lives on under the same name, so it is never deleted.
    """
    keep = {o for o in outs if isinstance(o, Var)}
    keep |= {e.ins[0] for e in eqns if e.op.inplace}
    for e in eqns:  # deleting inside one branch of an `if` (or a loop) would leave the name set on another path
        if e.frames:
            keep |= {e.out, *(a for a in e.ins if isinstance(a, Var)), *(v for f in e.frames for v in frame_reads(f))}
    # A contribution written inline is read where it is written: in the statement that consumes it.
    at = {id(e): i for i, e in enumerate(eqns)}
    producer = {e.out: e for e in eqns}
    for i in reversed(range(len(eqns))):
        for a in eqns[i].ins:
            if isinstance(a, Var) and a.role == "partial":
                at[id(producer[a])] = at[id(eqns[i])]
    last: dict[Var, int] = {}
    for i, e in enumerate(eqns):
        last.setdefault(e.out, i)
        for a in e.ins:
            if isinstance(a, Var):
                last[a] = max(last.get(a, -1), at[id(e)])
    after: dict[int, list[Var]] = {}
    for v, i in last.items():
        if v.role not in ("param", "partial") and v not in keep and v.shape != ():
            after.setdefault(i, []).append(v)
    return after


class Nesting:
    """Turns the frames of consecutive equations into `if c:` / `else:` / `for ...:` / `while ...:`
    lines and indents."""

    def __init__(self, header):
        self.header = header  # frame -> its header line (without indent)
        self.path: list = []

    def enter(self, frames: tuple) -> tuple[list[str], str]:
        """(the header lines to write first, the indent) for statements run under `frames`."""
        if not frames and not self.path:  # straight-line code, most often
            return (), ""
        k = 0
        while k < min(len(self.path), len(frames)) and self.path[k] == frames[k]:
            k += 1
        closed = None
        while len(self.path) > k:
            closed = self.path.pop()
        headers = []
        for f in frames[k:]:
            indent = "    " * len(self.path)
            other_side = (not is_loop(f) and closed is not None and not is_loop(closed) and closed.cond is f.cond
                          and closed.want and not f.want)
            if other_side:
                headers.append(indent + "else:")
            else:
                headers.append(indent + self.header(f))
            closed = None
            self.path.append(f)
        return headers, "    " * len(self.path)


class Renderer:
    def __init__(self, forward: Graph, grad: Graph, free: bool = False, functions: tuple[str, ...] | None = None,
                 also: tuple[Graph, ...] = ()):
        """`functions`: the names of the module's own functions (default: <name>, <name>_value_and_grad);
        `also`: graphs of functions added to the module (render_module's `extend`), whose globals it defines."""
        self.forward, self.grad = forward, grad
        self.free = free
        self.own = functions or (grad.name, f"{grad.name}_value_and_grad")
        self.vg_name = self.own[-1]
        self.math = grad.math
        used = {g for op in {e.op for x in (grad, *also) for e in x.eqns} for g in op.template(self.math).globals}
        if any(p.shape != () for p in grad.params) or seed_required(grad):
            used.add("np")  # array parameters (or an array output's seed): np.asarray, and the shape checks
        atoms = [a for e in grad.eqns for a in e.ins if type(a) is Lit] + list(grad.outs)
        self.module_name = "math" if self.math else "np"  # what inf and nan are spelled with
        if any(isinstance(a, Lit) and isinstance(a.value, float) and not abs(a.value) < float("inf") for a in atoms):
            used.add(self.module_name)  # np.inf / math.nan literals
        support = sorted(s for s in SUPPORT if s in used)
        for s in support:  # the support functions' own modules
            used |= {m for m, alias in (("math", "math."), ("np", "np.")) if alias in SUPPORT[s]}
        self.names = Namer.for_graph(
            grad, tuple(g for g in ("np", "math", *support) if g in used), reserved=self.own,
            extra=forward,
        )
        self.support = support
        self.inline: dict[Var, str] = {}  # partial contributions, as text, for the statement that adds them
        self.shown: dict[Eqn, str] = {}  # forward statements as printed, for the backward comments
        self._statements: dict[int, list[str]] = {}
        self._literals: dict[tuple, str] = {}  # a number's text, by its type and repr
        self._patterns: dict[tuple, list] = {}  # an equation's pattern, by op, constants, params and shapes

    # -- expressions and statements ---------------------------------------------------------------

    def label(self, v: Var) -> str:
        """A value's name for comments: its name in the module, or (simplified away) its source name."""
        return self.names.names.get(v) or v.hint or "a value"

    def text(self, a: Atom) -> str:
        if isinstance(a, Lit):
            value = a.value
            if type(value) not in (int, float, bool):
                return ast.unparse(constant(value, self.names.globals.get(self.module_name, self.module_name)))
            key = (type(value), repr(value))  # repr: 0.0 and -0.0 are equal, and hash alike
            text = self._literals.get(key)
            if text is None:
                text = self._literals[key] = ast.unparse(
                    constant(value, self.names.globals.get(self.module_name, self.module_name)))
            return text
        return self.inline.get(a) or self.names[a]

    def expression(self, e: Eqn, names: dict | None = None) -> tuple[str, bool]:
        """(text, stable): the equation's right-hand side, from its template's cached pattern."""
        op = e.op
        template = op.math_expr if self.math else op.expr
        ins = e.ins
        form = None
        if names is None:  # the module's globals: patterns differ only by op, constants, params and shapes
            n = len(ins)
            if n == 2 and not e.params and type(ins[0]) is Var and type(ins[1]) is Var:
                a, b = ins  # the most frequent: a binary op of two values, neither written inline
                key = (template, a.shape, b.shape)
                form = self._patterns.get(key)
                if form is not None and a not in self.inline and b not in self.inline:
                    known = self.names.names
                    return form.format(known[a], known[b]), True
            elif n == 1 and not e.params and type(ins[0]) is Var:
                a = ins[0]  # then a function of one value (np.sin(s), a gradient passed on)
                key = (template, a.shape)
                form = self._patterns.get(key)
                if form is not None and a not in self.inline:
                    return form.format(self.names.names[a]), True
            else:
                key = (template, freeze(e.params) if e.params else (),
                       *[(type(a.value), repr(a.value)) if type(a) is Lit else a.shape for a in ins])
                form = self._patterns.get(key)
        if form is None:
            consts = [a.value if type(a) is Lit else None for a in ins]
            pattern = template.pattern(consts, names or self.names.globals, e.params, e.op.defaults,
                                       [a.shape for a in ins], const_module=self.module_name, fmt=format_snippet)
            form = _format_string(pattern)
            if names is None:
                self._patterns[key] = form
        stable = True
        texts = []
        inline, known = self.inline, self.names.names
        for slot, a in zip(template.slots, ins):
            if type(a) is Lit:
                texts.append(self.text(a))
                continue
            t = inline.get(a)
            if t is None:
                t = known[a]
            elif slot not in template.call_args:
                t, stable = f"({t})", False  # parentheses keep it right; Black decides the rest
            texts.append(t)
        return form.format(*texts), stable

    def statement(self, e: Eqn) -> list[str]:
        """The equation's lines (none for a contribution written inline); UNSTABLE marks lines for Black."""
        done = self._statements.get(id(e))
        if done is None:  # the value function and the gradient function share the forward statements
            done = self._statements[id(e)] = self._statement(e)
        return done

    def _statement(self, e: Eqn) -> list[str]:
        target = self.names.names[e.out]
        if e.op.expr.block:  # statements of their own: OUT is the target
            text, stable = self.expression(e, {**self.names.globals, "OUT": target})
            lines = text.splitlines()
            if e.op.writes_item and e.ins[0] is e.out:
                lines = lines[1:]  # a loop writing into its own array: z[i] = v, in place (no copy)
            return [line if stable else UNSTABLE + line for line in lines]
        if e.op.adds:
            # `+=` on a Python float rebinds; on a numpy value (an array, or a 0-d array from np.where or
            # np.broadcast_to) it writes into it, which is safe only when flatgen made it fresh, not a
            # view or another gradient's alias.  Math mode too: np.sum(x) of a float is a read-only 0-d
            # view.  A contribution's text needs parentheses only as a select: rules are products, calls or -g.
            d = self.text(e.ins[1])
            if not e.params.get("fresh"):
                if " if " in d and isinstance(ast.parse(d, mode="eval").body, ast.IfExp):
                    d = f"({d})"  # math mode's select, `g if c else 0.0`, binds looser than `+`
                return [f"{target} = {self.text(e.ins[0])} + {d}"]
            return [f"{target} += {d}"]
        value, stable = self.expression(e)
        if e.out.role == "partial":
            self.inline[e.out] = value
            return []
        if e.op.joins and value == target:  # both sides of an `if` (or a loop) named it alike
            return []
        if e.op.counts:
            return [f"{target} += 1"]
        if value == target:  # a gradient that passes through under its own name (`grad_s = grad_s`)
            return []
        line = f"{target} = {value}"
        return [line if stable else UNSTABLE + line]

    # -- sections ----------------------------------------------------------------------------------

    def header(self, frame) -> str:
        """The line that opens a frame: `if c:`, `if not c:`, `for i in range(n):`, `while x > 1.0:`."""
        if not is_loop(frame):
            return f"if {'' if frame.want else 'not '}{self.names[frame.cond]}:"
        if frame.kind == "while":
            for e in frame.head:  # the condition, written out in the header
                self.inline[e.out] = self.expression(e)[0]
            # parsed and printed again: only the parentheses the precedence needs
            return f"while {ast.unparse(ast.parse(self.text(frame.cond), mode='eval'))}:"
        index = self.names[frame.index] if frame.index is not None else "_"
        bounds = f"range({', '.join(self.text(b) for b in frame.bounds)})"
        return f"for {index} in {f'reversed({bounds})' if frame.reverse else bounds}:"

    def dels(self, e: Eqn) -> list[str]:
        """`del ...` of the arrays no statement after `e` needs (with free=True)."""
        gone = self._after.get(id(e), ())
        return [f"del {', '.join(sorted(self.names[v] for v in gone))}"] if gone else []

    def plan_frees(self, eqns: list[Eqn], outs) -> None:
        after = last_uses(eqns, outs) if self.free else {}
        self._after = {id(eqns[i]): vs for i, vs in after.items()}

    def forward_lines(self, eqns: list[Eqn]) -> list[str]:
        """Forward statements; a user line that became several statements (or other text) is quoted above them."""
        lines, nest = [], Nesting(self.header)
        after, statement, shown = self._after, self.statement, self.shown
        key = lambda e: (e.loc.line if e.loc else 0, e.source, e.frames)  # noqa: E731
        for (line, source, frames), group in groupby(eqns, key=key):
            stmts = []
            for e in group:
                stmts += statement(e)
                if stmts:
                    shown[e] = stmts[-1].lstrip(UNSTABLE)
                if after and id(e) in after:
                    stmts += self.dels(e)
            if not stmts:
                continue
            if source and (len(stmts) != 1 or stmts[0].replace(" ", "") != source.replace(" ", "")):
                stmts.insert(0, f"# line {line}: {one_line(source)}")
            elif not source and e.op.saves:
                stmts.insert(0, "# saved for the backward loop")
            headers, indent = nest.enter(frames)
            if headers:
                lines += headers
            lines += [_indented(s, indent) for s in stmts] if indent else stmts
        return lines

    def backward_lines(self) -> list[str]:
        written, nest = [], Nesting(self.header)
        label, after, render = self.label, self._after, self._statement  # backward statements are rendered once
        backward, seed, known = self.grad.backward, self.grad.seed, self.names.names
        copies: dict[tuple, str] = {}  # the copy gate's comments
        i, n = 0, len(backward)
        while i < n:  # one block per forward equation (or the seed, a zero gradient, a loop's restores)
            first = backward[i]
            fwd, frames = first.block, first.frames
            j = i + 1
            if fwd is not None:
                while j < n and backward[j].block is fwd and backward[j].frames == frames:
                    j += 1
            elif first.op.restores:
                while j < n and backward[j].block is None and backward[j].op.restores and backward[j].frames == frames:
                    j += 1
            group = backward[i:j]
            i = j
            uses, source, line = 0, "", 0
            if fwd is None and first.op.restores:  # a loop's values, taken back for this iteration
                gate, ins = "restore", [label(e.out) for e in group]
                out, name = ", ".join(ins), ""
            elif fwd is not None:
                gate, out = fwd.op.gate, label(fwd.out)
                name = out
                ins = [(known.get(a) or a.hint or "a value") if type(a) is Var else self.text(a)  # label(a)
                       for a in fwd.ins]
                source = self.shown.get(fwd) or fwd.source  # simplified away (compact style): the user's statement
                line = fwd.loc.line if fwd.loc else 0
            else:  # the seed, or a zero gradient
                gate, out, ins, uses = first.op.gate, label(first.out.of), [], first.uses
                name = out
                if seed is not None and seed in first.ins:  # an output's upstream gradient, taken from the seed
                    gate = None
            stmts = []
            explained = set()  # the copy gate is explained once per value and block
            for e in group:
                lines = render(e)
                if lines and e.op.adds and e.out.of not in explained:
                    explained.add(e.out.of)
                    looped = e.uses <= 1 and any(is_loop(f) for f in e.frames)
                    copy_key = (label(e.out.of), e.uses, looped)
                    comment = copies.get(copy_key)
                    if comment is None:  # x is used 10000 times: the same comment each time
                        comment = copies[copy_key] = "# " + gate_text("copy", name=copy_key[0], uses=e.uses,
                                                                      looped=looped)
                    stmts.append(comment)
                stmts += lines
                if after and id(e) in after:
                    stmts += self.dels(e)
            if not stmts:  # e.g. the two sides of an `if` that name a gradient alike
                continue
            headers, indent = nest.enter(frames)
            if gate is None:
                comment = block_comment(self.upstream(out), source, line)
            else:  # one_line: as block_comment(gate_text(...)) writes it, in one step
                comment = one_line(_comment_form(gate, len(ins), uses, bool(source)).format(line, source, out, name,
                                                                                             *ins))
            if headers:
                written += headers
            written.append(indent + comment)
            written += [_indented(s, indent) for s in stmts] if indent else stmts
        return written

    def upstream(self, out: str) -> str:
        """The comment above `grad_out = seed` (or `seed[k]`): the seed gate's."""
        return gate_text("seed", out=out)

    def shape_checks(self) -> list[str]:
        """Each array parameter as an array (a list or tuple is converted, as numpy functions do: never
        `x + x` concatenating sequences), and a check of its shape when the module is specialised to it."""
        np_ = self.names.globals.get("np")
        lines = []
        for p in self.grad.params:
            if p.shape != ():
                lines.append(f"{self.names[p]} = {np_}.asarray({self.names[p]})")
            if p.shape not in ((), None):
                name = self.names[p]
                lines += [f"if {np_}.shape({name}) != {p.shape!r}:",
                          f"    raise ValueError(f\"{name} must have shape {p.shape!r} "
                          f"(the module was generated for it), "
                          f"got {{{np_}.shape({name})}}\")"]
        return lines

    def seed_checks(self) -> list[str]:
        """The upstream gradient of an array output: an array (a list is converted), of the output's shape
        when the module is specialised to shapes; for several outputs, each array's shape."""
        seed = self.grad.seed
        if seed is None or not seed_required(self.grad):
            return []
        np_, name = self.names.globals.get("np", "np"), self.names[seed]
        outs = self.grad.outs[: self.grad.n_values]
        lines = [f"{name} = {np_}.asarray({name})"] if len(outs) == 1 else []
        for k, o in enumerate(outs):
            item = name if len(outs) == 1 else f"{name}[{k}]"
            if o.shape not in ((), None):
                lines += [f"if {np_}.shape({item}) != {o.shape!r}:",
                          f"    raise ValueError(f\"{item} must have shape {o.shape!r} (the output's), "
                          f"got {{{np_}.shape({item})}}\")"]
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

    def module(self, header: Header) -> "Rendered":
        """The module with a marker where each function's statements go, and the same without any
        comment (what safety.check_module holds the formatted module to)."""
        imports = self.imports()
        params = ", ".join(self.names[p] for p in self.grad.params)
        n = self.grad.n_values
        values, grads = self.grad.outs[:n], self.grad.outs[n:]
        value = self.text(values[0]) if n == 1 else _tuple([self.text(v) for v in values])
        fvalues = self.forward.outs
        fvalue = self.text(fvalues[0]) if n == 1 else _tuple([self.text(v) for v in fvalues])
        vg_params = params
        required = seed_required(self.grad)
        if self.grad.seed is not None:  # their upstream gradients: an array output's has no default
            seed = self.names.names.get(self.grad.seed) or self.names.fresh("seed")
            vg_params += f", {seed}" if required else f", {seed}={_tuple(['1.0'] + ['0.0'] * (n - 1))}"
        self.plan_frees(self.forward.eqns, self.forward.outs)
        value_body = self.forward_lines(self.forward.eqns)
        self.plan_frees(self.grad.eqns, self.grad.outs)
        same = not self.free and len(self.grad.forward) == len(self.forward.eqns) and all(
            a is b for a, b in zip(self.grad.forward, self.forward.eqns))
        grad_body = list(value_body) if same else self.forward_lines(self.grad.forward)
        backward = self.backward_lines()
        context = dict(
            imports=imports,
            support=self.support_functions(),
            name=self.grad.name,
            vg_name=self.vg_name,
            params=params,
            vg_params=vg_params,
            seeded="required" if required else self.grad.seed is not None,
            checks=self.shape_checks(),
            seed_checks=self.seed_checks(),
            value=fvalue,
            vg_value=value,
            grads=_tuple([self.text(g) for g in grads]),
            wrt=", ".join(self.names[g.of] for g in grads),
        )
        return self.rendered("module.py.j2", header, context, [value_body, grad_body + backward])

    def imports(self) -> list[str]:
        imports = []
        if "math" in self.names.globals:
            alias = self.names.globals["math"]
            imports.append("import math" if alias == "math" else f"import math as {alias}")
        if "np" in self.names.globals:
            alias = self.names.globals["np"]
            imports.append("import numpy" if alias == "numpy" else f"import numpy as {alias}")
        return imports

    def rendered(self, template_name: str, header: Header, context: dict, bodies: list[list[str]],
                 cache: tuple[str, ...] = ()) -> "Rendered":
        """The skeleton from the template (with the header, and without it for the check), and the bodies."""
        template = environment().get_template(template_name)
        skeleton = template.render(header=[
            # The first two lines hold no text of the user's: Python reads a `coding[:=]name` there as the
            # file's encoding (PEP 263), and a path like `coding=unicode_escape/m.py` would decode `\n`s.
            f"Generated by flatgen {header.version}. DO NOT EDIT.",
            f"Source hash: {header.digest} (the function, its helpers and constants)",
            f"From: {header.target}",
            f"Regenerate: {header.command}",
        ], **context)
        return Rendered(skeleton, bodies, template.render(header=[], **context), self.functions(), cache)

    def functions(self) -> list[str]:
        """The module's top-level functions, in order: support functions, then the two of the user's."""
        return [self.names.globals[s] for s in self.support] + list(self.own)


def _indented(line: str, indent: str) -> str:
    """`line` inside `indent` (an UNSTABLE mark stays first)."""
    return UNSTABLE + indent + line[1:] if line.startswith(UNSTABLE) else indent + line


def _tuple(items: list[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"  # () for none


class Rendered(NamedTuple):
    """A module before formatting: format.format_module(skeleton, bodies) is its text.  The plain
    skeleton is the skeleton without its header (the bodies' comments are left out when the expected
    module is formatted), and `functions` the names of the functions it defines, in order: what
    safety.check_module holds the module to."""

    skeleton: str
    bodies: list[list[str]]
    plain_skeleton: str
    functions: list[str]
    cache: tuple[str, ...] = ()  # the layer form: the names of what the cache holds, in order


def render_module(forward: Graph, grad: Graph, header: Header, free: bool = False,
                  form: str = "value_and_grad", also: tuple[Graph, ...] = (), extend=None) -> Rendered:
    """The module of `form`: "value_and_grad" (the value function and <name>_value_and_grad, here), or
    "layer" (<name>_forward and <name>_backward, flatgen/layers.py).  `extend(renderer, rendered)`
    adds functions of the graphs `also` (forward mode: flatgen/jvp_render.py)."""
    if form == "layer":
        from .layers import LayerRenderer

        return LayerRenderer(grad, free).module(header)
    renderer = Renderer(forward, grad, free, also=also)
    rendered = renderer.module(header)
    return rendered if extend is None else extend(renderer, rendered)
