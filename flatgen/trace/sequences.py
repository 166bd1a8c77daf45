"""Sequences: what `for v in ...` and a comprehension iterate over, item by item.

    range(a, b, step)      its integers (run-time bounds: integer parameters, arithmetic on them)
    [W1, W2], (a, b), xs   the values of a list or tuple (known while tracing: always unrolled)
    X                      an array's rows, X[0], X[1], ... (a known first dimension)
    zip(a, b, ...)         tuples of items, as many as the shortest has
    enumerate(s, start)    (count, item)
    reversed(s)            the items last first (a range reversed is a range)

A `Sequence` says how long it is (an int, or None when only the run time knows: a range over an
integer parameter) and gives its item k: for a Lit k when a loop is unrolled, for the loop's index
variable when it stays a loop (loops.py: `for i in range(len(X)): v = X[i]`, where the range is the
sequence's `bounds`).  Items are traced where they are used: an unrolled loop's `v = X[2]` belongs
to its iteration.
"""

from __future__ import annotations

import ast
from typing import Callable

from ..errors import ShapeError, UnsupportedSyntax
from ..graph import Lit, Var
from ..primitives import TABLE, index_at
from .shared import Part, is_int


class Sequence:
    """`length`: an int, or None (run time).  `at(k, hint)`: item k, for a Lit k (its position) or for
    the index Var of a loop over `bounds` (default: range(length)); `position(k, hint)`: the item at
    position k for a loop index k running 0, 1, 2, ... (what zip, enumerate and reversed read).
    `trace_time`: its items are values flatgen holds (a list, a tuple): it cannot stay a loop."""

    def __init__(self, length, at: Callable, trace_time: bool = False, bounds: tuple | None = None,
                 position: Callable | None = None, own: bool = False):
        self.own = own  # a range: a loop kept as a loop runs its target over it (`for i in range(n)`)
        self.length = length
        self.at = at
        self.position = position or at
        self.trace_time = trace_time
        self.bounds = bounds if bounds is not None else (Lit(length),)

    @property
    def unrolled(self) -> bool:
        """Can it be traced item by item (its length known now)?"""
        return self.length is not None

    @property
    def items(self) -> list:
        return [self.at(Lit(k), None) for k in range(self.length)]


class Sequences(Part):
    def of(self, node: ast.expr, env) -> Sequence:
        """The sequence `node` iterates over."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in env:
            name = self.t.names.dotted(node.func, env)
            maker = {"builtins.range": self.range, "builtins.zip": self.zip, "builtins.enumerate": self.enumerate,
                     "builtins.reversed": self.reversed}.get(name)
            if maker is not None:
                if any(isinstance(a, ast.Starred) for a in node.args) or (
                        node.keywords and not (name == "builtins.enumerate" and [k.arg for k in node.keywords]
                                               == ["start"])):
                    raise UnsupportedSyntax(f"`{ast.unparse(node.func)}(...)` with these arguments is not in "
                                            "flatgen's subset", self.src.loc(node), "pass the sequences by position")
                return maker(node, env)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                "items", "keys", "values") and not self.t.names.is_module_path(node.func.value, env):
            d = self.expr(node.func.value, env, None)
            if isinstance(d, dict):  # params.items(): a dict parameter's keys and values
                return self.value(self.t.dicts.view(node, d), node)
            error = ShapeError if self.t.assumed else UnsupportedSyntax  # a dict traced as a scalar: wait for it
            raise error(f"`.{node.func.attr}()` of a value that is not a dict", self.src.loc(node),
                        "pass a dict of arrays (its keys strings) as the parameter")
        return self.value(self.expr(node, env, None), node)

    def value(self, v, node) -> Sequence:
        """A list or tuple (its items), a constant tuple, or an array (its rows)."""
        if isinstance(v, Lit) and isinstance(v.value, tuple):
            items = v.value
            return Sequence(len(items), lambda k, hint: Lit(items[k.value]), trace_time=True)
        if isinstance(v, tuple):
            return Sequence(len(v), lambda k, hint: v[k.value], trace_time=True)
        if isinstance(v, dict):  # a dict parameter: its keys
            keys = tuple(v)
            return Sequence(len(keys), lambda k, hint: Lit(keys[k.value]), trace_time=True)
        if isinstance(v, Var) and v.shape is None:
            raise ShapeError("a loop over an array of unknown shape", self.src.loc(node),
                             "give example shapes: flatgen.flat(f, example=(...)), or `shapes` in [tool.flatgen]")
        if isinstance(v, Var) and v.shape:
            return Sequence(v.shape[0], lambda k, hint: self.row(v, k, hint, node))
        what = "a number" if isinstance(v, (Var, Lit)) else "this value"
        error = ShapeError if self.t.assumed or self.t.decided_on_assumed else UnsupportedSyntax  # assumed a scalar?
        raise error(f"{what} is not a sequence to loop over", self.src.loc(node),
                    "loop over a range, a list or tuple, an array (its rows), zip(...) or enumerate(...)")

    def row(self, x: Var, k, hint, node):
        """x[k]: a constant k, or a loop's index."""
        exprs = self.t.expressions
        if isinstance(k, Lit):
            return exprs.apply(TABLE["index"], (x,), hint, node, idx=k.value)
        return exprs.apply(index_at(("#",)), (x, k), hint, node, shape_idx=0)

    def range(self, node: ast.Call, env) -> Sequence:
        if not 1 <= len(node.args) <= 3 or node.keywords:
            raise UnsupportedSyntax("range() takes 1 to 3 integers", self.src.loc(node), "range(n), range(a, b, step)")
        t = self.t
        for a in node.args:  # a parameter in a bound is an integer: range(n - 1)
            for n in ast.walk(a):
                v = env.get(n.id) if isinstance(n, ast.Name) else None
                if isinstance(v, Var) and v.role == "param" and v.shape == () and v.hint not in t.floats:
                    t.ints.add(v)
        return self._range(tuple(self.expr(a, env, None) for a in node.args), node)

    def _range(self, bounds: tuple, node) -> Sequence:
        a, step = (bounds[0], bounds[2] if len(bounds) == 3 else Lit(1)) if len(bounds) > 1 else (Lit(0), Lit(1))
        if all(isinstance(b, Lit) for b in bounds):
            if not all(is_int(b.value) for b in bounds):
                raise UnsupportedSyntax("range() bounds must be integers", self.src.loc(node),
                                        "loop a whole number of times, e.g. for t in range(4)")
            r = range(*(b.value for b in bounds))

            def position(k, hint):  # item k of a loop index running 0, 1, ...: a + k * step
                ex = self.t.expressions
                if isinstance(k, Lit):
                    return Lit(r[k.value])
                return ex.apply(TABLE["add"], (a, ex.apply(TABLE["mul"], (k, step), None, node)), None, node)
            return Sequence(len(r), lambda k, hint: Lit(r[k.value]) if isinstance(k, Lit) else k,
                            bounds=bounds, position=position, own=True)
        return Sequence(None, lambda k, hint: k, bounds=bounds, position=self._no_position(node), own=True)

    def _no_position(self, node):
        def position(k, hint):
            raise UnsupportedSyntax("zip(), enumerate() and reversed() of a range whose length is known only at run "
                                    "time are not in flatgen's subset", self.src.loc(node),
                                    "loop over the range itself: for i in range(n): ... xs[i]")
        return position

    def zip(self, node: ast.Call, env) -> Sequence:
        seqs = [self.of(a, env) for a in node.args]
        if any(s.length is None for s in seqs):
            raise UnsupportedSyntax("zip() over a count known only at run time is not in flatgen's subset",
                                    self.src.loc(node), "loop over the index: for i in range(n): a, b = xs[i], ys[i]")
        n = min(s.length for s in seqs) if seqs else 0
        return Sequence(n, lambda k, hint: tuple(s.position(k, None) for s in seqs),
                        trace_time=any(s.trace_time for s in seqs))

    def enumerate(self, node: ast.Call, env) -> Sequence:
        if len(node.args) != 1:
            raise UnsupportedSyntax("enumerate() takes one sequence", self.src.loc(node), "enumerate(xs)")
        seq = self.of(node.args[0], env)
        start = self.t.expressions.static(node.keywords[0].value, env, "start=") if node.keywords else 0
        if not is_int(start):
            raise UnsupportedSyntax("enumerate()'s start must be an integer", self.src.loc(node), "start=1")
        ex = self.t.expressions

        def at(k, hint):  # the count from the position: a loop over the sequence's own range counts from its start
            if isinstance(k, Lit):
                return Lit(k.value + start), seq.at(k, hint)
            count = k
            if not _from_zero(seq):
                first, step = seq.bounds[0], (seq.bounds[2] if len(seq.bounds) == 3 else Lit(1))
                count = ex.apply(TABLE["floordiv"], (ex.apply(TABLE["sub"], (k, first), None, node), step), None, node)
            if start:
                count = ex.apply(TABLE["add"], (count, Lit(start)), None, node)
            return count, seq.at(k, hint)

        def position(k, hint):
            return (Lit(k.value + start) if isinstance(k, Lit) else
                    k if not start else ex.apply(TABLE["add"], (k, Lit(start)), None, node)), seq.position(k, hint)
        return Sequence(seq.length, at, seq.trace_time, seq.bounds, position)

    def reversed(self, node: ast.Call, env) -> Sequence:
        if len(node.args) != 1:
            raise UnsupportedSyntax("reversed() takes one sequence", self.src.loc(node), "reversed(xs)")
        arg = node.args[0]
        if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id not in env \
                and self.t.names.dotted(arg.func, env) == "builtins.range":  # a range reversed is a range
            return self._range(self._reversed_range(self.range(arg, env).bounds, node), node)
        seq = self.of(arg, env)
        if seq.length is not None:
            n = seq.length

            def at(k, hint):
                return seq.at(Lit(n - 1 - k.value), hint) if isinstance(k, Lit) else \
                    seq.position(self._flip(k, n, node), hint)
            return Sequence(n, at, seq.trace_time)
        raise UnsupportedSyntax("reversed() of a sequence whose length is known only at run time", self.src.loc(node),
                                "reverse a range: reversed(range(n))")  # pragma: no cover (only ranges have one)

    def _flip(self, k: Var, n: int, node) -> Var:
        """n - 1 - k, for a loop's index k (an integer)."""
        return self.t.expressions.apply(TABLE["sub"], (Lit(n - 1), k), None, node)

    def _reversed_range(self, bounds: tuple, node) -> tuple:
        """range(a, b, s) reversed, as a range: its last item down to its first, by -s."""
        a, b, s = (Lit(0), *bounds, Lit(1))[:3] if len(bounds) == 1 else (*bounds, Lit(1))[:3]
        if not (isinstance(s, Lit) and is_int(s.value) and s.value != 0):
            raise UnsupportedSyntax("reversed(range(...)) with a step known only at run time", self.src.loc(node),
                                    "give the step as a number")
        step = s.value
        ex = self.t.expressions
        one = 1 if step > 0 else -1
        # the last item: a + ((b - a - 1) // s) * s for s > 0 (b - a + 1 for s < 0); it runs down to a
        span = ex.apply(TABLE["sub"], (ex.apply(TABLE["sub"], (b, a), None, node), Lit(one)), None, node)
        last = ex.apply(TABLE["add"], (a, ex.apply(TABLE["mul"], (ex.apply(TABLE["floordiv"], (span, s), None, node),
                                                                  s), None, node)), None, node)
        stop = ex.apply(TABLE["sub"], (a, Lit(one)), None, node)
        return (last, stop, Lit(-step))


def _from_zero(seq: Sequence) -> bool:
    """Does the sequence's loop index run 0, 1, 2, ...?"""
    b = seq.bounds
    return len(b) == 1 or (len(b) >= 2 and isinstance(b[0], Lit) and b[0].value == 0
                           and (len(b) == 2 or isinstance(b[2], Lit) and b[2].value == 1))
