"""Rows of the primitive table for indexing: reading parts of arrays and writing into them.

- `x[idx]` with constants (`x[0]`, `X[:, 2]`, `x[::2, None]`, `x[..., 0]`): the row `index`.  Its
  gradient scatters the upstream gradient into zeros of x's shape at the same index.
- `x[i]` with run-time integers (a rolled loop's index): `index_at(sig)`, one row per index pattern.
- `x[idx]` with index arrays ("fancy" indexing: `x[np.arange(N), y]`, `W[idx]`, `x[[0, 2]]`, a boolean
  mask `x[x > 0]`): `take(sig)`.  An index may repeat, so its gradient adds with `np.add.at`, which adds
  every repeat: `grad[idx] += g` keeps only one of them (a classic silent bug).
- Writes into a local array: `setitem` (constant index), `setitem_at(sig)` (run-time integers, and
  index arrays whose indices are distinct), `setitem_sum` / `setitem_keep` (a value broadcast into the
  slot, `h[0] = a`: its gradient is summed back to the value's shape).
- `add_at(sig)`: x with v added at the index, repeats adding up: what take's gradient is written in
  when a gradient graph is lowered to primitives (numpy's `np.add.at` is a statement, not a value).

Gradients keep the input's float type: the zeros a gradient is scattered into are
`np.zeros(shape, np.result_type(x, 1.0))` (float32 for float32 x, float64 for an integer x, whose
gradient must not be truncated).

A `sig` spells an index with one string per position: "#" a run-time integer, "@" an array of
integers, "?" a boolean mask (each an input of the equation: slots i0, i1, ...), or a constant as
Python writes it in a subscript (":", "1", "-1", "None", "...", "1:3", "[0, 2]").
"""

from __future__ import annotations

import functools

from . import shapes as S
from .expr import Expr
from .op import Op, prim

# zeros of x's shape in x's float type, for a gradient to be scattered into
ZEROS_OF_X = "np.zeros(np.shape(x), np.result_type(x, 1.0))"
RUNTIME = ("#", "@", "?")  # the index positions that are inputs (a run-time integer, an integer array, a mask)

_IDX = {"idx": ()}
SCATTER = Op("index.dx", Expr(f"OUT = {ZEROS_OF_X}\nOUT[idx] = g", ("g", "x"), ("idx",), block=True),
             "index", defaults=_IDX, elementwise=False,
             accumulate=Op("index.acc", Expr("OUT[idx] += g", ("OUT", "g"), ("idx",), block=True), "copy",
                           defaults=_IDX, elementwise=False, inplace=True))

# Item assignment into a local array, z[idx] = v: a new version of z (a copy with v written in).
# The gradient of the written elements goes to v, the rest to the old z.
SETITEM = Op(
    "setitem", Expr("OUT = x.copy()\nOUT[idx] = v", ("x", "v"), ("idx",), block=True), "setitem",
    rules=(Op("setitem.dx", Expr("OUT = g.copy()\nOUT[idx] = 0.0", ("g",), ("idx",), block=True), "setitem",
              defaults=_IDX, elementwise=False),
           Op("setitem.dv", Expr("g[idx]", ("g", "out", "x", "v"), ("idx",)), "setitem", defaults=_IDX,
              elementwise=False)),
    shape=S.same, defaults=_IDX, elementwise=False, writes_item=True, tangent="linear",
)

# A value broadcast into the slot it is written to (`h[0] = a`, `z[1:] = b` with b of fewer axes): the
# gradient of the slot, summed over the axes the value was broadcast along (`axes`: None for a
# scalar, all of them).  `setitem_keep` when the value had size-1 axes there (kept, then laid out as v).
_SUM = {"idx": (), "axes": None}
SETITEM_SUM = Op(
    "setitem_sum", SETITEM.expr, "setitem_sum",
    rules=(SETITEM.rules[0], Op("setitem_sum.dv", Expr("np.sum(g[idx], axis=axes)", ("g", "out", "x", "v"),
                                                       ("idx", "axes")), "setitem", defaults=_SUM, elementwise=False)),
    shape=S.same, defaults=_SUM, elementwise=False, writes_item=True, tangent="linear",
)
SETITEM_KEEP = Op(
    "setitem_keep", SETITEM.expr, "setitem_sum",
    rules=(SETITEM.rules[0], Op("setitem_keep.dv",
                                Expr("np.reshape(np.sum(g[idx], axis=axes, keepdims=True), np.shape(v))",
                                     ("g", "out", "x", "v"), ("idx", "axes")), "setitem", defaults=_SUM,
                                elementwise=False)),
    shape=S.same, defaults=_SUM, elementwise=False, writes_item=True, tangent="linear",
)

INDEX_ROWS = [
    prim("index", "x", "x[idx]", (SCATTER,), "index", shape=S.index, params={"idx": ()}, elementwise=False,
         tangent="linear"),
]

# How the rules of the index-array rows lower to primitives (flatgen/lower.py asks, by op): numpy's
# np.add.at is a statement, so they are written here with take, add_at and setitem_at.
LOWERINGS: dict[Op, object] = {}


def index_text(sig: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The subscript text of `sig` (`i0, :, i1`) and its slots (`i0`, `i1`)."""
    ints = tuple(f"i{k}" for k in range(sum(part in RUNTIME for part in sig)))
    it = iter(ints)
    return ", ".join(next(it) if part in RUNTIME else part for part in sig), ints


def index_value_text(sig: tuple[str, ...]) -> str:
    """The index of `sig` as a value, for np.add.at: `i0`, `(i0, i1)`, or `np.s_[i0, :]` when it holds
    a slice, None or `...` (which only a subscript can spell)."""
    text, _ = index_text(sig)
    if len(sig) == 1 and not _spelled_in_subscript(sig[0]):
        return text
    if any(_spelled_in_subscript(part) for part in sig):
        return f"np.s_[{text}]"
    return f"({text})"


def _spelled_in_subscript(part: str) -> bool:
    return part not in RUNTIME and not isinstance(S.index_part(part), (int, list))


@functools.cache
def index_at(sig: tuple[str, ...]) -> Op:
    """`x[i]` with run-time integers (a rolled loop's index): the same rules as `index`."""
    idx, ints = index_text(sig)
    add = Op("index_at.acc", Expr(f"OUT[{idx}] += g", ("OUT", "g", *ints), block=True), "copy",
             elementwise=False, inplace=True)
    scatter = Op("index_at.dx", Expr(f"OUT = {ZEROS_OF_X}\nOUT[{idx}] = g", ("g", "x", *ints), block=True),
                 "index", elementwise=False, accumulate=add)
    return Op("index_at", Expr(f"x[{idx}]", ("x", *ints)), "index", (scatter,) + (None,) * len(ints),
              shape=lambda x, *_, shape_idx=(), **__: S.index(x, idx=shape_idx), elementwise=False, tangent="linear")


@functools.cache
def setitem_at(sig: tuple[str, ...]) -> Op:
    """`z[idx] = v` with run-time integers, or with index arrays whose indices are distinct (the tracer
    makes sure: `z[np.arange(N), y] = v`; numpy keeps one of repeated writes)."""
    idx, ints = index_text(sig)
    op = Op(
        "setitem_at", Expr(f"OUT = x.copy()\nOUT[{idx}] = v", ("x", "v", *ints), block=True), "setitem",
        rules=(Op("setitem_at.dx", Expr(f"OUT = g.copy()\nOUT[{idx}] = 0.0", ("g", *ints), block=True), "setitem",
                  elementwise=False),
               Op("setitem_at.dv", Expr(f"g[{idx}]", ("g", "out", "x", "v", *ints)), "setitem", elementwise=False))
        + (None,) * len(ints),
        shape=S.same, elementwise=False, writes_item=True, tangent="linear",
    )
    if any(part in ("@", "?") for part in sig):  # index arrays: lowered with take (its shapes follow the arrays)
        LOWERINGS[op.rules[0]] = functools.partial(_lower_zero_at, sig)
        LOWERINGS[op.rules[1]] = functools.partial(_lower_take, sig, "g")
    return op


@functools.cache
def take(sig: tuple[str, ...]) -> Op:
    """`x[idx]` with index arrays (integers, a boolean mask, a constant list): a new array.  The gradient
    goes back to the elements picked, and an element picked twice gets both gradients (np.add.at)."""
    idx, ints = index_text(sig)
    where = index_value_text(sig)
    add = Op("take.acc", Expr(f"np.add.at(OUT, {where}, g)", ("OUT", "g", *ints), block=True), "copy",
             elementwise=False, inplace=True)
    scatter = Op("take.dx", Expr(f"OUT = {ZEROS_OF_X}\nnp.add.at(OUT, {where}, g)", ("g", "x", *ints), block=True),
                 "take", elementwise=False, accumulate=add)
    forward = Expr(f"x[{idx}]", ("x", *ints))
    forward.fresh = True  # indexing with arrays copies
    op = Op("take", forward, "take", (scatter,) + (None,) * len(ints),
            shape=lambda x, *int_shapes, **_: S.take(x, sig, int_shapes), elementwise=False, tangent="linear")
    LOWERINGS[scatter] = functools.partial(_lower_scatter, sig)
    LOWERINGS[add] = functools.partial(_lower_add, sig)
    return op


@functools.cache
def add_at(sig: tuple[str, ...]) -> Op:
    """x with v added at the index, repeated indices adding up: `np.add.at` on a copy.  Linear in both:
    x gets the gradient, v the gradient picked at the index."""
    _, ints = index_text(sig)
    where = index_value_text(sig)
    dv = Op("add_at.dv", Expr(f"g[{index_text(sig)[0]}]", ("g", "out", "x", "v", *ints)), "take", elementwise=False)
    op = Op("add_at", Expr(f"OUT = x.copy()\nnp.add.at(OUT, {where}, v)", ("x", "v", *ints), block=True), "take",
            rules=(Op("add_at.dx", Expr("g", ("g", "out", "x", "v")), "take", elementwise=False), dv)
            + (None,) * len(ints), shape=S.same, elementwise=False, tangent="linear")
    LOWERINGS[dv] = functools.partial(_lower_take, sig, "g")
    return op


# -- lowering (flatgen/lower.py calls these with its Lowering: `env` holds the slots, `apply` writes rows) --


def _ints(low, sig) -> tuple:
    _, ints = index_text(sig)
    return tuple(low.env[i] for i in ints)


def _lower_take(sig, slot, low):
    """`g[idx]`: take."""
    return low.apply(take(sig), (low.env[slot], *_ints(low, sig)))


def _lower_scatter(sig, low):
    """zeros of x's shape, then np.add.at of g: add_at into zeros."""
    x, g = low.env["x"], low.env["g"]
    zeros = low.apply("zeros", (), shape=x.shape)
    return low.apply(add_at(sig), (zeros, g, *_ints(low, sig)))


def _lower_add(sig, low):
    """np.add.at(OUT, idx, g) on a running gradient: add_at."""
    return low.apply(add_at(sig), (low.env["OUT"], low.env["g"], *_ints(low, sig)))


def _lower_zero_at(sig, low):
    """g with zeros written at the index: setitem_at of the constant 0.0 (numpy broadcasts it)."""
    from .graph import Lit  # (the graph imports the table)

    return low.apply(setitem_at(sig), (low.env["g"], Lit(0.0), *_ints(low, sig)))
