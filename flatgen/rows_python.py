"""Rows of the primitive table for Python's own arithmetic on numbers: `//`, `%`, int(), float().

On integers known when the module is generated (shapes, sizes, loop counts, constants) these fold
like `+ - *` do: `H_out = 1 + (H + 2 * pad - HH) // stride` is a number in the generated code.  On
data they are functions like any other, each with its local gradient:

- `a // b` is floor(a / b): piecewise constant, so no gradient to either input;
- `a % b` is a - b * floor(a / b) (Python's and numpy's sign convention: the sign of b), so the
  gradient is 1 to a and -floor(a / b) to b (almost everywhere: at the jumps, a / b a whole number,
  neither side's);
- int(x) truncates: piecewise constant, no gradient (an integer, usable as an index);
- float(x) converts: the gradient passes through unchanged.

int() and float() take numbers (of an array, Python raises unless it has one element): the builtins'
shape rule.  `//` and `%` broadcast as numpy's operators do.
"""

from __future__ import annotations

from .expr import Expr
from .op import Op, prim


def _number(x, **_):
    """int() and float() take one number (of an array Python raises, unless it holds one element)."""
    if x not in ((), None):
        raise ValueError(f"int() and float() take a number, not an array of shape {x}: use x.astype(...), or "
                         "np.floor / np.trunc for arrays")
    return ()


PYTHON_ROWS = [
    prim("floordiv", "a b", "a // b", (None, None),                   "step", ["numpy.floor_divide"]),
    prim("mod",      "a b", "a % b",  ("g", "-g * np.floor(a / b)"),  "mod",  ["numpy.mod", "numpy.remainder"]),
    prim("int",      "x",   "int(x)",   (None,),                      "step", ["builtins.int"], _number,
         elementwise=False),
    prim("float",    "x",   "float(x)", ("g",),                       "float64", ["builtins.float"], _number,
         elementwise=False, tangent="linear"),
]

# `assert c` on data, kept in the forward code: the comparison that computes c, then `assert c`; or,
# for a value computed before, `assert` of a copy.  No gradient (a comparison's), no shape of its own.
_COMPARISONS = {"gt": "a > b", "lt": "a < b", "ge": "a >= b", "le": "a <= b", "eq": "a == b", "ne": "a != b"}
ASSERTIONS = {name: Op(f"assert_{name}", Expr(f"OUT = {text}\nassert OUT", ("a", "b"), block=True), "compare",
                       (None, None), mask=True, elementwise=False)
              for name, text in _COMPARISONS.items()}
ASSERTIONS[None] = Op("assert", Expr("OUT = c\nassert OUT", ("c",), block=True), "compare", (None,), mask=True,
                      elementwise=False)


def assertion_of(name: str | None) -> Op | None:
    """The assert of comparison `name` (None: of any true/false value), or None for another op."""
    return ASSERTIONS.get(name)


# Python's builtins the tracer knows besides abs, max, min, len and range (primitives.BUILTINS): the
# rows above, and what trace/builtins.py reads at trace time (sums, sequences, print).
PYTHON_BUILTINS = {name: f"builtins.{name}" for name in (
    "int", "float", "sum", "print", "zip", "enumerate", "reversed", "list", "tuple")}
