"""Rows of the primitive table for numpy as people write it: elementwise functions and reductions.

The same kind of rows as the lecture's in primitives.py: a forward expression, the textbook local
gradient of each input written in numpy (never a Jacobian), a gate label, a shape rule and the calls
that mean it (`np.f`, and `math.f` where the math module has it).  Elementwise rows broadcast: the
reverse transform sums a rule's result back to its input's shape.  Piecewise constant functions
(floor, ceil, round, argmax) have no rule: their output moves with no input.
"""

from __future__ import annotations

import math

from . import shapes as S
from .op import G, OUT, prim, reduction


def _unary(name: str, rule: str, math_name: str | None = None):
    """An elementwise function of one input, as np.<name> and math.<math_name>."""
    calls = [f"numpy.{name}"] + ([f"math.{math_name}"] if math_name else [])
    return prim(name, "x", f"np.{name}(x)", (rule,), name, calls)


def _step(name: str, calls, forward: str | None = None, params: dict | None = None):
    """A piecewise constant function: its output moves with no input, so no rule."""
    return prim(name, "x", forward or f"np.{name}(x)", (None,), "step", calls, S.same, params, elementwise=False)


def _prod(g: str, out: str) -> str:
    """d prod / d x_i is the product of the others: out / x_i where x_i != 0; at a zero, the product of
    the other (nonzero) elements if it is the only zero, else 0 (out / x_i is then 0 too)."""
    nonzero = "np.where(x == 0, 1.0, x)"
    return (f"{g} * np.where(x == 0, np.prod({nonzero}, axis=axis, keepdims=True)"
            f" * (np.sum(x == 0, axis=axis, keepdims=True) == 1), {out} / {nonzero})")


def _largest_abs(g: str, out: str) -> str:
    """The inf-norm: the gradient goes to the elements of largest |x|, with their sign, split evenly on ties."""
    return (f"np.sign(x) * (np.abs(x) == {out}) * ({g} / np.sum((np.abs(x) == {out}) * np.ones_like(x), axis=axis, "
            "keepdims=True))")


# ln 2 and ln 10 as Python numbers (np.log(2) is a float64 scalar, which would make a float32 gradient float64)
LN2, LN10 = repr(math.log(2)), repr(math.log(10))
# x minus its mean over the reduced axes, and the number of elements each output averages over
_CENTRED, _N = "(x - np.mean(x, axis=axis, keepdims=True))", "(np.size(x) / np.size(out) - ddof)"
_DDOF = {"ddof": 0}

NUMPY_ROWS = [
    # Elementwise, one input: the local gradient, from one line of calculus.
    _unary("tan",        "g * (1 + out**2)",           "tan"),
    _unary("arcsin",     "g / np.sqrt(1 - x**2)",      "asin"),
    _unary("arccos",     "-g / np.sqrt(1 - x**2)",     "acos"),
    _unary("arctan",     "g / (1 + x**2)",             "atan"),
    _unary("sinh",       "g * np.cosh(x)",             "sinh"),
    _unary("cosh",       "g * np.sinh(x)",             "cosh"),
    _unary("arcsinh",    "g / np.sqrt(x**2 + 1)",      "asinh"),
    _unary("arccosh",    "g / np.sqrt(x**2 - 1)",      "acosh"),
    _unary("arctanh",    "g / (1 - x**2)",             "atanh"),
    _unary("log1p",      "g / (1 + x)",                "log1p"),
    _unary("expm1",      "g * (out + 1)",              "expm1"),
    _unary("log2",       f"g / (x * {LN2})",        "log2"),
    _unary("log10",      f"g / (x * {LN10})",       "log10"),
    _unary("exp2",       f"g * out * {LN2}",        "exp2"),
    _unary("square",     "g * 2 * x"),
    _unary("reciprocal", "-g * out**2"),
    prim("float64", "x", "np.float64(x)", ("g",), "float64", ["numpy.float64"]),
    # Elementwise, two inputs (numpy broadcasting).
    prim("arctan2",   "a b", "np.arctan2(a, b)",   ("g * b / (a**2 + b**2)", "-g * a / (a**2 + b**2)"), "arctan2",
         ["numpy.arctan2", "math.atan2"]),
    prim("hypot",     "a b", "np.hypot(a, b)",     ("g * a / out", "g * b / out"), "hypot",
         ["numpy.hypot", "math.hypot"]),
    prim("logaddexp", "a b", "np.logaddexp(a, b)", ("g * np.exp(a - out)", "g * np.exp(b - out)"), "logaddexp",
         ["numpy.logaddexp"]),
    # np.clip(x, lo, hi) is np.minimum(np.maximum(x, lo), hi): a router, ties to x as np.maximum's go
    # to its first input (and with lo > hi, numpy gives hi everywhere).
    prim("clip", "x lo hi", "np.clip(x, lo, hi)",
         ("g * (x >= lo) * (x <= hi)", "g * (x < lo) * (lo <= hi)", "g * (np.maximum(x, lo) > hi)"), "clip",
         ["numpy.clip"]),
    # Piecewise constant: no gradient (sign is in primitives.py, with the rows rules are written in).
    _step("floor", ["numpy.floor", "math.floor"]),
    _step("ceil", ["numpy.ceil", "math.ceil"]),
    _step("round", ["numpy.round", "numpy.around"], "np.round(x, decimals=decimals)", {"decimals": 0}),
    prim("argmax", "x", "np.argmax(x, axis=axis, keepdims=keepdims)", (None,), "step", ["numpy.argmax"], S.reduce,
         {"axis": None, "keepdims": False}, elementwise=False),
    prim("argmin", "x", "np.argmin(x, axis=axis, keepdims=keepdims)", (None,), "step", ["numpy.argmin"], S.reduce,
         {"axis": None, "keepdims": False}, elementwise=False),
    # Reductions (two rows each: reduced axes kept, or dropped and put back in the rule).
    *reduction("var", "np.var(x, axis=axis, keepdims=keepdims, ddof=ddof)",
               f"2 * g * {_CENTRED} / {_N}", f"2 * {G} * {_CENTRED} / {_N}", "var", ["numpy.var"], _DDOF),
    *reduction("std", "np.std(x, axis=axis, keepdims=keepdims, ddof=ddof)",
               f"g * {_CENTRED} / ({_N} * out)", f"{G} * {_CENTRED} / ({_N} * {OUT})", "std", ["numpy.std"], _DDOF),
    *reduction("prod", "np.prod(x, axis=axis, keepdims=keepdims)", _prod("g", "out"), _prod(G, OUT), "prod",
               ["numpy.prod"]),
    # Norms: the 2-norm of vectors and the Frobenius norm of matrices (one formula: sqrt of the sum of
    # squares), and the 1- and inf-norms of vectors (the tracer picks the row from ord=).
    *reduction("norm", "np.linalg.norm(x, axis=axis, keepdims=keepdims)", "g * x / out", f"{G} * x / {OUT}", "norm",
               ["numpy.linalg.norm"]),
    *reduction("norm1", "np.linalg.norm(x, ord=1, axis=axis, keepdims=keepdims)", "g * np.sign(x)",
               f"{G} * np.sign(x)", "norm1", ()),
    *reduction("norminf", "np.linalg.norm(x, ord=np.inf, axis=axis, keepdims=keepdims)", _largest_abs("g", "out"),
               _largest_abs(G, OUT), "norminf", ()),
    # A running sum sends each element the sum of the gradients at and after it: a cumsum of the gradient
    # reversed, reversed back (`flip`: the index that reverses the axis, g[:, ::-1]).  Without an axis
    # numpy flattens x first; the gradient is laid back out to x's shape.
    prim("cumsum",      "x", "np.cumsum(x, axis=axis)", ("np.reshape(np.cumsum(g[::-1])[::-1], np.shape(x))",),
         "cumsum", ["numpy.cumsum"], S.cumsum, {"axis": None}, elementwise=False, tangent="linear"),
    prim("cumsum_axis", "x", "np.cumsum(x, axis=axis)", ("np.cumsum(g[flip], axis=axis)[flip]",),
         "cumsum", (), S.cumsum, {"axis": None, "flip": None}, elementwise=False, tangent="linear"),
]

# Array methods -> the numpy function they mean.
NUMPY_METHODS = {"var": "numpy.var", "std": "numpy.std", "prod": "numpy.prod", "cumsum": "numpy.cumsum",
                 "clip": "numpy.clip", "round": "numpy.round", "argmax": "numpy.argmax", "argmin": "numpy.argmin"}


def cumsum_row(shape, axis) -> tuple[str, dict]:
    """The row (and params) of np.cumsum(x, axis=axis) for x of this shape: flattened (axis None), or
    along one axis, whose gradient reverses that axis (`flip`) around a cumsum of the upstream gradient."""
    if axis is None:
        return "cumsum", {"axis": None}
    k = axis % len(shape) if shape else axis  # the shape rule refuses an axis x does not have
    flip = (slice(None),) * k + (slice(None, None, -1),)
    return "cumsum_axis", {"axis": axis, "flip": flip[0] if k == 0 else flip}
