"""Lists: built, grown with `append`, read, summed; list comprehensions and generator expressions.

A list exists while flatgen reads the function, as a tuple does: a `ListValue` of the values in it
(each a number, an array, a tuple...), so the generated code has the values themselves, named.
`hs = []`, then `hs.append(h)` in a loop, makes a new ListValue with one more item, bound to every
name that holds the list (Python's names share one list object); `hs[-1]`, `len(hs)`, `sum(hs)`,
`np.stack(hs)` and unpacking read it.  So a list's length must be known when the module is generated:
a loop that appends to a list from outside it is unrolled when its count is a constant (whatever
`unroll` says) and refused when the count is known only at run time; branches on data must leave a
list as long on both sides.

A comprehension is traced item by item over its sequence (sequences.py: a range, a list or tuple,
an array's rows, zip, enumerate, reversed), its variables in a scope of their own; an `if` in it
must be decided when the module is generated (a filter on data would make the length depend on the
data).  `sum(... for i in range(n))` over a count known only at run time (or longer than `unroll`)
is a loop kept as a loop, adding up: `total = 0.0; for i in range(n): total = total + ...`.
"""

from __future__ import annotations

import ast
from collections import ChainMap

from ..errors import UnsupportedSyntax
from ..graph import Lit, Var
from ..primitives import TABLE
from .shared import Part


class ListValue(tuple):
    """A Python list while tracing: its items, in order.  A tuple, so whatever reads a tuple reads it;
    `append` makes a new one (lists.py rebinds every name that held the old)."""

    __slots__ = ()


class Lists(Part):
    def display(self, items: list) -> ListValue:
        """`[a, b]`, `[]`: a list of values."""
        return ListValue(items)

    def append(self, call: ast.Call, env, prefix: str) -> None:
        """`xs.append(v)` (and `xs.extend(vs)`) as a statement: every name holding the list holds the longer one."""
        method = call.func.attr
        name = call.func.value.id
        old = self.t.names.lookup(name, call.func.value, env)
        if not isinstance(old, ListValue):
            what = "a tuple" if isinstance(old, tuple) or isinstance(old, Lit) and isinstance(old.value, tuple) \
                else "not a list"
            raise UnsupportedSyntax(f"`{name}.{method}(...)`: `{name}` is {what} flatgen can grow",
                                    self.src.loc(call.func), f"start the list empty, or with values: {name} = []")
        if call.keywords or len(call.args) != 1:
            raise UnsupportedSyntax(f"`{name}.{method}` takes one argument", self.src.loc(call),
                                    f"{name}.{method}(value)")
        value = self.expr(call.args[0], env, None)
        if method == "extend":
            value = self.items(value, call.args[0])
            new = ListValue(old + tuple(value))
        else:
            new = ListValue(old + (value,))
        self.rebind(old, new, env)

    def binop(self, op: ast.operator, a, b):
        """`a + b` of two lists or tuples (joined), `xs * 3` (repeated); None for arithmetic."""
        seq_a, seq_b = _sequence(a), _sequence(b)
        if isinstance(op, ast.Add) and seq_a is not None and seq_b is not None:
            if isinstance(a, Lit) and isinstance(b, Lit):
                return Lit(a.value + b.value)  # shapes: x.shape + (1,)
            kind = ListValue if isinstance(a, ListValue) or isinstance(b, ListValue) else tuple
            return kind(seq_a + seq_b)
        if isinstance(op, ast.Mult) and (seq_a is None) != (seq_b is None):
            seq, n = (a, b) if seq_a is not None else (b, a)
            if isinstance(n, Lit) and isinstance(n.value, int) and not isinstance(n.value, bool):
                if isinstance(seq, Lit):
                    return Lit(seq.value * n.value)
                return type(seq)(tuple(seq) * n.value) if isinstance(seq, ListValue) else tuple(seq) * n.value
        return None

    def rebind(self, old: ListValue, new: ListValue, env) -> None:
        """Every name of the scope (and the scopes it sits in) that holds `old` holds `new` now."""
        for k, v in list(env.items()):
            if v is old:
                env[k] = new

    def items(self, value, node) -> tuple:
        """The items of a list or tuple value (a constant tuple's too)."""
        if isinstance(value, Lit) and isinstance(value.value, tuple):
            return tuple(Lit(v) for v in value.value)
        if isinstance(value, tuple):
            return value
        raise UnsupportedSyntax("this is not a list or tuple of values", self.src.loc(node),
                                "extend a list with a list: xs.extend([a, b])")

    def comprehension(self, node: ast.ListComp | ast.GeneratorExp, env) -> ListValue:
        """`[elt for v in seq if cond]`: the items, traced one by one (its variables in a scope of their own)."""
        out: list = []
        self._generate(node, node.generators, ChainMap({}, env), out)
        return ListValue(out)

    def _generate(self, node, generators: list[ast.comprehension], scope, out: list) -> None:
        if not generators:
            out.append(self.expr(node.elt, scope, None))
            return
        gen, rest = generators[0], generators[1:]
        if gen.is_async:
            raise UnsupportedSyntax("async comprehensions are not in flatgen's subset", self.src.loc(gen),
                                    "write a plain comprehension")
        seq = self.t.sequences.of(gen.iter, scope)
        if not seq.unrolled:
            raise UnsupportedSyntax(
                "a comprehension over a count known only at run time: the list's length must be known when the "
                "module is generated", self.src.loc(gen.iter),
                "sum(... for i in range(n)) is a loop kept as a loop; for a list, give a constant count "
                "or write the loop into an array")
        for item in seq.items:
            inner = ChainMap({}, scope)
            self.t.statements.bind(gen.target, item, inner, "")
            if all(self._keep(cond, inner) for cond in gen.ifs):
                self._generate(node, rest, inner, out)

    def _keep(self, cond: ast.expr, scope) -> bool:
        known = self.t.branches.truth(cond, scope)
        if known is None:
            raise UnsupportedSyntax(
                "a comprehension's `if` on data: the list's length would depend on the data", self.src.loc(cond),
                "keep every item and select its value: sum(x if x > 0 else 0.0 for x in xs)")
        return known

    def rolled_sum(self, gen: ast.GeneratorExp, env, hint: str | None, start):
        """`sum(<elt> for <target> in <seq>)` as a loop kept as a loop: `total = 0` (or zeros of the
        term's shape), then `total = total + <elt>` in the loop.  The accumulator takes the name the sum
        is assigned to, when the generator does not read that name."""
        g = gen.generators[0]
        reads = {n.id for n in ast.walk(gen) if isinstance(n, ast.Name)}
        name = hint if hint and hint.isidentifier() and hint not in reads else "total"
        while name in reads:
            name += "_"
        scope = ChainMap({}, env)
        shape = self._term_shape(gen, scope)
        if isinstance(start, Lit) and start.value == 0 and shape:
            start = self.t.expressions.apply(TABLE["zeros"], (), None, gen, shape=shape)
        scope[name] = start
        acc = ast.Name(name, ast.Load())
        step = ast.Assign([ast.Name(name, ast.Store())], ast.BinOp(acc, ast.Add(), gen.elt), lineno=gen.lineno)
        loop = ast.For(g.target, g.iter, [step], [], lineno=gen.lineno)
        for n in (step, loop, acc, step.targets[0], step.value):
            ast.copy_location(n, gen)
        saved = self.emit.stmt
        self.t.loops.rolled(loop, scope, "", self.t.sequences.of(g.iter, scope))
        self.emit.stmt = saved
        return scope[name]

    def _term_shape(self, gen: ast.GeneratorExp, scope) -> tuple:
        """The shape of one term of the sum (traced with a stand-in for the loop's item, then undone)."""
        g = gen.generators[0]
        with self.emit.trial() as trial:
            seq = self.t.sequences.of(g.iter, scope)
            k = Var(None, "value", shape=())
            self.t.ints.add(k)
            inner = ChainMap({}, scope)
            self.t.statements.bind(g.target, seq.at(k, None), inner, "")
            term = self.number(self.expr(gen.elt, inner, None), gen.elt)
            trial.undo()
        self.t.ints.discard(k)
        return term.shape or ()


def nested(value) -> tuple:
    """(the returned value with its tuples and lists flattened, their structure: the flat positions in
    the same tuples and lists), or (value, None) when nothing is nested (`return loss, aux`)."""
    if not isinstance(value, tuple) or not any(isinstance(v, tuple) and not isinstance(v, Lit) for v in value):
        return value, None
    flat: list = []

    def walk(v):
        if isinstance(v, tuple):
            return (list if isinstance(v, ListValue) else tuple)(walk(x) for x in v)
        flat.append(v)
        return len(flat) - 1
    structure = walk(value)
    return tuple(flat), structure


def rebuild(structure, values: tuple):
    """The values of a flattened output back in the structure `nested` recorded."""
    if isinstance(structure, int):
        return values[structure]
    return type(structure)(rebuild(s, values) for s in structure)


def _sequence(v):
    """The items of a list or tuple value (a constant tuple's as Lits), or None."""
    if isinstance(v, Lit) and isinstance(v.value, tuple):
        return tuple(Lit(x) for x in v.value)
    return tuple(v) if isinstance(v, tuple) else None
