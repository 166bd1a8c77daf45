"""Python's builtins that read sequences, and the statements that carry no gradient.

- `len(x)`: the length of a list or tuple, or an array's first dimension: a number now.
- `sum(xs)`, `sum(xs, start)`: the items added up, left to right, as Python adds them
  (`sum(w[i] * x[i] for i in range(n))` over a count known only at run time, or longer than
  `unroll`: a loop kept as a loop, `total = total + ...`).
- `max(a, b, c)`, `max(xs)` (and min): the two-argument row, chained as Python compares: the first
  of equal values wins, and so its gradient.
- `list(xs)`, `tuple(xs)`: the items.
- `print(...)` as a statement: dropped (the generated code has no side effects); a docstring
  anywhere, `pass`: nothing.
- `assert c`: decided when the module is generated (shapes, constants), checked then: a failing
  one is refused where it stands; on data, kept in the forward code as `assert` (rows_python.py).
"""

from __future__ import annotations

import ast

from ..errors import ShapeError, UnsupportedSyntax
from ..graph import Lit, Var
from ..primitives import TABLE
from ..rows_python import assertion_of
from .lists import ListValue
from .shared import Part

SEQUENCE_BUILTINS = {"builtins.len", "builtins.sum", "builtins.max", "builtins.min", "builtins.list",
                     "builtins.tuple", "builtins.print"}


class Builtins(Part):
    def expression_statement(self, stmt: ast.Expr, env, prefix: str) -> None:
        """A statement that is an expression: a docstring, print(...), xs.append(v)."""
        v = stmt.value
        if isinstance(v, ast.Constant) and isinstance(v.value, str):
            return  # a docstring, or a string as a comment
        if isinstance(v, ast.Call):
            f = v.func
            if isinstance(f, ast.Name) and f.id not in env and self.t.names.dotted(f, env) == "builtins.print":
                return  # no side effects in flat code: dropped
            if isinstance(f, ast.Attribute) and f.attr in ("append", "extend") and isinstance(f.value, ast.Name) \
                    and f.value.id in env:
                self.t.lists.append(v, env, prefix)
                return
        raise UnsupportedSyntax("an expression statement does nothing in flat code (a call for its side effect?)",
                                self.src.loc(stmt), "assign the value to a name, or remove the line; "
                                "xs.append(v) and print(...) are the statements flatgen takes")

    def assertion(self, stmt: ast.Assert, env) -> None:
        """`assert c`: checked now when `c` is known now; on data, kept in the forward code."""
        known = self.t.branches.truth(stmt.test, env)
        if known is True:
            return
        if known is False:
            self.refuse("this assert fails for the shapes and constants the module is generated for",
                        stmt.test, "check the shapes flatgen was given (example=, shapes in [tool.flatgen])")
        if isinstance(stmt.test, (ast.BoolOp, ast.UnaryOp)):
            self.refuse("`and`/`or`/`not` on data in an assert are not in flatgen's subset yet", stmt.test,
                        "assert each comparison on its own line")
        n = len(self.emit.eqns)
        c = self.expr(stmt.test, env, None)
        if not isinstance(c, Var) or c.shape not in ((), None):
            self.refuse("an assert on data needs one true/false value: this is an array", stmt.test,
                        "assert one comparison of numbers (reduce arrays first: assert np.max(x) < 1.0)")
        made = self.emit.eqns[-1] if len(self.emit.eqns) > n else None
        if made is not None and made.out is c and assertion_of(made.op.name) is not None:
            made.op = assertion_of(made.op.name)  # `t1 = x > 0.0` and `assert t1`: the comparison asserts
        else:
            self.t.expressions.apply(assertion_of(None), (c,), None, stmt.test)

    def call(self, name: str, node: ast.Call, env, hint: str | None):
        """One of SEQUENCE_BUILTINS."""
        args = node.args
        if any(isinstance(a, ast.Starred) for a in args):
            raise UnsupportedSyntax(f"`{ast.unparse(node.func)}(*...)` is not in flatgen's subset", self.src.loc(node),
                                    "pass the sequence itself")
        short = name.removeprefix("builtins.")
        if short == "print":
            raise UnsupportedSyntax("print(...) has no value", self.src.loc(node),
                                    "print on a line of its own (flatgen drops it), or not at all")
        allowed = {"sum": ("start",)}.get(short, ())
        if any(k.arg not in allowed for k in node.keywords):
            bad = next(k for k in node.keywords if k.arg not in allowed)
            raise UnsupportedSyntax(f"`{short}()` takes no keyword argument `{bad.arg}=` in flatgen's subset",
                                    self.src.loc(bad), f"{short}(...) with the values by position")
        if short == "len":
            return self.length(node, env)
        if short == "sum":
            return self.sum(node, env, hint)
        if short in ("max", "min"):
            return self.extreme(short, node, env, hint)
        if len(args) != 1:
            raise UnsupportedSyntax(f"{short}() takes one sequence here", self.src.loc(node), f"{short}(xs)")
        items = self.t.sequences.of(args[0], env)
        if items.length is None:
            raise UnsupportedSyntax(f"{short}() of a sequence whose length is known only at run time",
                                    self.src.loc(node), "loop over it instead")
        return ListValue(items.items) if short == "list" else tuple(items.items)

    def length(self, node: ast.Call, env) -> Lit:
        if len(node.args) != 1:
            raise UnsupportedSyntax("len() takes one value", self.src.loc(node), "len(x)")
        v = self.expr(node.args[0], env, None)
        if isinstance(v, tuple):
            return Lit(len(v))
        if isinstance(v, Lit) and isinstance(v.value, tuple):
            return Lit(len(v.value))
        shape = self.t.expressions.shape_of(v, node)
        if not shape:
            raise ShapeError("len() of a scalar", self.src.loc(node), "len() takes an array, a list or a tuple")
        return Lit(shape[0])

    def _sequence(self, node: ast.expr, env, what: str) -> list:
        """The items of a sequence argument (a list, a tuple, an array's rows, a comprehension...)."""
        seq = self.t.sequences.of(node, env) if not isinstance(node, (ast.GeneratorExp, ast.ListComp)) else None
        if seq is None:
            return list(self.expr(node, env, None))
        if seq.length is None:
            raise UnsupportedSyntax(f"{what} of a sequence whose length is known only at run time",
                                    self.src.loc(node), "loop over it, or over range(len(...))")
        return seq.items

    def sum(self, node: ast.Call, env, hint: str | None):
        args = node.args
        if not 1 <= len(args) + len(node.keywords) <= 2 or not args:
            raise UnsupportedSyntax("sum() takes a sequence and a start", self.src.loc(node), "sum(xs) or sum(xs, 0.0)")
        start_node = args[1] if len(args) > 1 else (node.keywords[0].value if node.keywords else None)
        start = self.expr(start_node, env, None) if start_node is not None else Lit(0)
        arg = args[0]
        if isinstance(arg, ast.GeneratorExp) and self._rolled(arg, env):
            return self.t.lists.rolled_sum(arg, env, hint, start)
        items = self._sequence(arg, env, "sum()")
        total = start
        add = TABLE["add"]
        for k, item in enumerate(items):
            last = k == len(items) - 1
            if k == 0 and isinstance(start, Lit) and start.value == 0 and type(start.value) is int:
                total = self.number(item, arg)  # 0 + x is x (Python's sum starts at the int 0)
                continue
            total = self.t.expressions.apply(add, (total, self.number(item, arg)), hint if last else None, node)
        return total

    def _rolled(self, gen: ast.GeneratorExp, env) -> bool:
        """Is `sum(<gen>)` a loop kept as a loop: one `for`, no `if`, over a count known only at run
        time or longer than unroll?"""
        if len(gen.generators) != 1 or gen.generators[0].ifs:
            return False
        g = gen.generators[0]
        with self.emit.trial() as trial:
            seq = self.t.sequences.of(g.iter, env)
            trial.undo()
        return not seq.trace_time and (seq.length is None or seq.length > self.t.unroll)

    def extreme(self, which: str, node: ast.Call, env, hint: str | None):
        """max(a, b, ...), max(xs): the two-argument row, chained left to right."""
        args = node.args
        if not args:
            raise UnsupportedSyntax(f"{which}() needs values", self.src.loc(node), f"{which}(a, b) or {which}(xs)")
        items = self._sequence(args[0], env, f"{which}()") if len(args) == 1 else \
            [self.expr(a, env, None) for a in args]
        if not items:
            raise UnsupportedSyntax(f"{which}() of an empty sequence", self.src.loc(node), "give it values")
        if len(items) == 1:
            return items[0]
        calls = self.t.calls
        best = items[0]
        row = TABLE["max2" if which == "max" else "min2"]
        for k, item in enumerate(items[1:], 2):
            best = calls.dispatch(row, [best, item], {}, hint if k == len(items) else None, node,
                                  f"builtins.{which}")
        return best
