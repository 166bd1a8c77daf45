"""Op, one operation of a graph, and the helpers that write the primitive table's rows.

An Op is a primitive's forward, one of its local-gradient rules, or a bookkeeping op of a transform:
an expression template (expr.Expr) with a gate label for comments, and for a primitive its rules, its
shape rule and the user-facing calls that mean it.  `prim` writes one row of the table, `reduction`
the two rows of a reduction.  The rows themselves are in primitives.py (the lecture's primitives),
rows_numpy.py (numpy's other elementwise functions and reductions) and rows_linalg.py (products,
einsum, the matrix functions): this module knows none of them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable

from . import shapes as S
from .expr import Expr, to_math


@dataclass(frozen=True, eq=False)
class Op:
    """An operation an equation applies: a primitive's forward, one of its rules, or a bookkeeping op."""

    name: str
    expr: Expr
    gate: str  # which gate explains it in comments (templates/gates/<gate>.j2)
    rules: tuple["Op | None", ...] = ()  # forward primitives: the local-gradient rule per input (None: none)
    calls: tuple[str, ...] = ()  # dotted user-facing names that mean this primitive
    shape: Callable = S.broadcast  # output shape from input shapes and params
    defaults: dict = field(default_factory=dict)  # params and their defaults (dropped when rendered)
    elementwise: bool = True  # inputs broadcast: their gradients are summed back to their shapes
    inplace: bool = False  # bookkeeping ops that update their first input (the output takes its name)
    mask: bool = False  # a comparison: its value is a boolean mask, with no gradient
    writes_item: bool = False  # item assignment: a copy of the first input with an item written in
    accumulate: "Op | None" = None  # a scatter rule: how a later contribution adds into its array in place
    zero_init: bool = False  # a gradient's zeros, that contributions in branches are added to
    joins: bool = False  # the end of a side of an `if`: the value both sides give one name (merges, copies)
    adds: bool = False  # a contribution added to a gradient (`grad_x += d`, in place only into what flatgen owns)
    counts: bool = False  # a while loop's iteration count going up by one (`n_iter += 1`)
    saves: bool = False  # a value pushed on a rolled loop's tape
    restores: bool = False  # a value popped back from a tape in the backward loop
    # Forward mode (flatgen/jvp.py): how the output's tangent follows from the inputs' tangents.  None:
    # derived from the rules (an elementwise row's rules are linear in g: g becomes the input's tangent);
    # "linear": the row applied to the tangents (sum, index, transpose, where's two sides, item assignment);
    # "multilinear": the row applied to one input's tangent at a time, the terms added (a * b, a @ b, einsum);
    # "reduce": a reduction's rule with g ones, times the tangent, reduced the same way; or one Expr per input
    # (None for an input with no rule) over `t` (that input's tangent), `out`, the inputs and params.
    tangent: "str | tuple | None" = None

    @functools.cached_property
    def rule_slots(self) -> frozenset[str]:
        """What the local-gradient rules read: `out`, `g`, the input slots.  (The tracer asks, for a
        loop's variable, whether the backward needs its old value and its new one at once.)"""
        return frozenset(s for r in self.rules if r is not None for s in r.expr.slots)

    @functools.cached_property
    def math_expr(self) -> Expr:
        return to_math(self.expr)

    def template(self, math_mode: bool = False) -> Expr:
        return self.math_expr if math_mode else self.expr

    def __call__(self, *values, math_mode: bool = False, **params):
        p = {**self.defaults, **params}
        expr = self.math_expr if math_mode else self.expr
        return expr.fn(*values, *(p[k] for k in expr.params))


def prim(name: str, inputs: str, forward: str, rules: tuple["str | Op | None", ...], gate: str, calls=(),
         shape=S.broadcast, params: dict | None = None, elementwise=True, mask=False,
         tangent: "str | tuple | None" = None) -> Op:
    """A row of the table: `rules[i]` is the gradient sent to input i, over g, out, the inputs and
    params (or an Op of its own, for a rule that is a statement block).  `tangent`: how forward mode
    pushes tangents through it (Op.tangent; a tuple: one term per input over `t`, its tangent)."""
    slots = tuple(inputs.split())
    params = params or {}
    assert len(rules) == len(slots), name
    grads = tuple(
        r if r is None or isinstance(r, Op) else Op(f"{name}.d{s}", Expr(r, ("g", "out", *slots), tuple(params)),
                                                    gate, defaults=params, elementwise=False)
        for s, r in zip(slots, rules)
    )
    if isinstance(tangent, tuple):
        assert len(tangent) == len(slots), name
        tangent = tuple(t if t is None else Expr(t, ("t", "out", *slots), tuple(params)) for t in tangent)
    return Op(name, Expr(forward, slots, tuple(params)), gate, grads, tuple(calls), shape, params, elementwise,
              mask=mask, tangent=tangent)


def reduction(name: str, forward: str, keep_rule: str, axis_rule: str, gate: str, calls, extra: dict | None = None,
              shape=S.reduce, tangent: str = "reduce") -> list[Op]:
    """Two rows per reduction: `name` when the reduced axes are kept (keepdims, or all axes) so the
    gradient broadcasts as it is, `name_axis` when they are dropped and must be put back (the rule
    then reads the upstream gradient and the output with those axes restored: G and OUT below).
    `extra`: params besides axis and keepdims (ddof), with their defaults.  `tangent`: "reduce" (the
    rule's local gradient times the tangent, reduced), or "linear" for sum and mean."""
    params = {"axis": None, "keepdims": False, **(extra or {})}
    return [
        prim(name, "x", forward, (keep_rule,), gate, calls, shape, params, elementwise=False, tangent=tangent),
        prim(f"{name}_axis", "x", forward, (axis_rule,), gate, (), shape, params, elementwise=False, tangent=tangent),
    ]


# Shorthands for the rules of reductions: the upstream gradient, and the output, with reduced axes put back.
G, OUT = "np.expand_dims(g, axis)", "np.expand_dims(out, axis)"
