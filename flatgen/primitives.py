"""The primitive table: every operation flatgen knows, in one place.

Each row gives a primitive's forward expression, the local-gradient rule for each input, the gate
label that names it in comments, its shape rule, and the user-facing calls that mean it.  The
expressions are `expr.Expr` templates over named slots and params; rules are written for arrays
(numpy broadcasting); where an input was broadcast, reverse.py sums its gradient back to its shape.
Below the table: the bookkeeping ops the transforms add (copies, merges, seeds, accumulation, tapes),
each an Op with an expression of its own, so the interpreter and the renderer treat them as rows.
The table is built once and never edited.
"""

from __future__ import annotations

import dataclasses
import math

from . import shapes as S
from .expr import SUPPORT, SUPPORT_FUNCTIONS, TEMPLATE_GLOBALS, Expr, constant, fill, to_math  # noqa: F401
from .op import G, OUT, Op, prim, reduction
from .rows_arrays import ARRAY_METHODS, ARRAY_ROWS
from .rows_index import INDEX_ROWS, SCATTER, SETITEM, ZEROS_OF_X, index_at, setitem_at  # noqa: F401
from .rows_linalg import LINALG_METHODS, LINALG_ROWS
from .rows_numpy import NUMPY_METHODS, NUMPY_ROWS
from .rows_python import PYTHON_BUILTINS, PYTHON_ROWS

def compare(name: str, forward: str, call: str) -> Op:
    """A comparison's row: a boolean mask, piecewise constant, so no gradient to either input."""
    return prim(name, "a b", forward, (None, None), "compare", [call], mask=True)


def _chooser(g: str, out: str) -> str:
    """max/min reductions: the gradient goes to the elements equal to the result, split evenly on ties
    (counted in x's type: an integer count would make a float32 gradient float64)."""
    return f"(x == {out}) * ({g} / np.sum((x == {out}) * np.ones_like(x), axis=axis, keepdims=True))"


#         name       inputs forward              local-gradient rule per input      gate   user calls
TABLE: dict[str, Op] = {op.name: op for op in [
    prim("add",     "a b", "a + b",             ("g", "g"),                        "add"),
    prim("sub",     "a b", "a - b",             ("g", "-g"),                       "sub"),
    prim("mul",     "a b", "a * b",             ("g * b", "g * a"),                "mul", ["numpy.multiply"],
         tangent="multilinear"),
    prim("div",     "a b", "a / b",             ("g / b", "-g * out / b"),         "div", ["numpy.divide"]),
    # d(a ** b)/db = out * log(a); at a == 0 that is 0 * -inf, but 0 ** b is flat (0 for b > 0): log(1) there
    prim("pow",     "a b", "a ** b",            ("g * b * a ** (b - 1)",
                                                 "g * out * np.log(np.where(a == 0, 1.0, a))"), "pow",
         ["numpy.power", "math.pow"]),
    prim("neg",     "x",   "-x",                ("-g",),                           "neg", ["numpy.negative"]),
    prim("exp",     "x",   "np.exp(x)",         ("g * out",),                      "exp", ["numpy.exp", "math.exp"]),
    prim("log",     "x",   "np.log(x)",         ("g / x",),                        "log", ["numpy.log", "math.log"]),
    prim("sqrt",    "x",   "np.sqrt(x)",        ("g / (2 * out)",),                "sqrt", ["numpy.sqrt", "math.sqrt"]),
    prim("tanh",    "x",   "np.tanh(x)",        ("g * (1 - out**2)",),             "tanh", ["numpy.tanh", "math.tanh"]),
    prim("sin",     "x",   "np.sin(x)",         ("g * np.cos(x)",),                "sin", ["numpy.sin", "math.sin"]),
    prim("cos",     "x",   "np.cos(x)",         ("-g * np.sin(x)",),               "cos", ["numpy.cos", "math.cos"]),
    prim("abs",     "x",   "np.abs(x)",         ("g * np.sign(x)",),               "abs",
         ["numpy.abs", "numpy.absolute", "math.fabs", "builtins.abs"]),
    # Routers: ties send the whole gradient to the first argument, as Python's max(a, b) returns a.
    # numpy's propagate nan; the builtins (of two numbers) return a unless b is larger (smaller).
    prim("maximum", "a b", "np.maximum(a, b)",  ("g * (a >= b)", "g * (a < b)"),   "max", ["numpy.maximum"]),
    prim("minimum", "a b", "np.minimum(a, b)",  ("g * (a <= b)", "g * (a > b)"),   "min", ["numpy.minimum"]),
    prim("max2",    "a b", "max(a, b)",         ("g * (a >= b)", "g * (a < b)"),   "max", ["builtins.max"],
         S.scalars),
    prim("min2",    "a b", "min(a, b)",         ("g * (a <= b)", "g * (a > b)"),   "min", ["builtins.min"],
         S.scalars),
    prim("sigmoid", "x",   "sigmoid(x)",        ("g * (1 - out) * out",),          "sigmoid", ["flatgen.sigmoid"]),
    # np.where routes like an if: the gradient goes to the branch that was taken.
    prim("where",   "c a b", "np.where(c, a, b)", (None, "np.where(c, g, 0.0)", "np.where(c, 0.0, g)"), "where",
         ["numpy.where"], S.where, tangent="linear"),
    # Comparisons make masks: piecewise constant, no gradient.
    compare("gt", "a > b", "numpy.greater"),
    compare("lt", "a < b", "numpy.less"),
    compare("ge", "a >= b", "numpy.greater_equal"),
    compare("le", "a <= b", "numpy.less_equal"),
    compare("eq", "a == b", "numpy.equal"),
    compare("ne", "a != b", "numpy.not_equal"),
    # Matrix products, by operand rank (the tracer picks the row): never a Jacobian.
    prim("matmul",    "a b", "a @ b",  ("g @ b.T", "a.T @ g"),         "matmul", ["numpy.matmul", "numpy.dot"],
         S.matmul, elementwise=False, tangent="multilinear"),
    prim("matmul_mv", "a b", "a @ b",  ("np.outer(g, b)", "a.T @ g"),  "matmul", (), S.matmul, elementwise=False,
         tangent="multilinear"),
    prim("matmul_vm", "a b", "a @ b",  ("b @ g", "np.outer(a, g)"),    "matmul", (), S.matmul, elementwise=False,
         tangent="multilinear"),
    prim("dot",       "a b", "a @ b",  ("g * b", "g * a"),             "matmul", (), S.matmul, elementwise=False,
         tangent="multilinear"),
    prim("outer",     "a b", "np.outer(a, b)", ("g @ b", "a @ g"),       "outer", ["numpy.outer"],
         S.outer, elementwise=False, tangent="multilinear"),
    # (g * np.ones_like(out): g may be the seed 1.0, a Python float, and the gradient keeps x's float type)
    *reduction("sum",  "np.sum(x, axis=axis, keepdims=keepdims)",
               "np.broadcast_to(g * np.ones_like(out), np.shape(x))", f"np.broadcast_to({G}, np.shape(x))", "sum",
               ["numpy.sum"], tangent="linear"),
    *reduction("mean", "np.mean(x, axis=axis, keepdims=keepdims)",
               "np.broadcast_to(g / (np.size(x) / np.size(out)) * np.ones_like(out), np.shape(x))",
               f"np.broadcast_to({G} / (np.size(x) / np.size(out)), np.shape(x))", "mean", ["numpy.mean"],
               tangent="linear"),
    *reduction("max",  "np.max(x, axis=axis, keepdims=keepdims)", _chooser("g", "out"), _chooser(G, OUT),
               "reduce_max", ["numpy.max", "numpy.amax"]),
    *reduction("min",  "np.min(x, axis=axis, keepdims=keepdims)", _chooser("g", "out"), _chooser(G, OUT),
               "reduce_min", ["numpy.min", "numpy.amin"]),
    # Layout: the gradient is laid back out the way the input was.
    prim("T",         "x", "x.T",                          ("g.T",),                      "layout", shape=S.transpose,
         elementwise=False, tangent="linear"),
    prim("transpose", "x", "np.transpose(x, axes)",        ("np.transpose(g, inverse)",), "layout", ["numpy.transpose"],
         S.transpose, {"axes": None, "inverse": None}, elementwise=False, tangent="linear"),
    prim("reshape",   "x", "np.reshape(x, shape)",         ("np.reshape(g, np.shape(x))",), "layout", ["numpy.reshape"],
         S.reshape, {"shape": ()}, elementwise=False, tangent="linear"),
    prim("expand_dims", "x", "np.expand_dims(x, axis)",    ("np.reshape(g, np.shape(x))",), "layout",
         ["numpy.expand_dims"], S.expand_dims, {"axis": 0}, elementwise=False, tangent="linear"),
    # What the rules need to be written in primitives (flatgen/lower.py): the gradient of a broadcast
    # is summed over the broadcast axes (`axes`, all of them, kept) and laid back out to x's shape;
    # a sign is piecewise constant.
    prim("broadcast_to", "x", "np.broadcast_to(x, shape)",
         ("np.reshape(np.sum(g, axis=axes, keepdims=True), np.shape(x))",), "sum",
         shape=S.fixed, params={"shape": (), "axes": ()}, elementwise=False, tangent="linear"),
    prim("sign",      "x", "np.sign(x)",                   (None,),                       "step",  ["numpy.sign"],
         S.same, elementwise=False),
    # Constants built from shapes: no gradient.
    prim("zeros_like", "x", "np.zeros_like(x)",            (None,),                       "const", ["numpy.zeros_like"],
         S.same, elementwise=False),
    prim("ones_like",  "x", "np.ones_like(x)",             (None,),                       "const", ["numpy.ones_like"],
         S.same, elementwise=False),
    prim("zeros",      "",  "np.zeros(shape)",             (),                            "const", ["numpy.zeros"],
         S.fixed, {"shape": ()}, elementwise=False),
    prim("ones",       "",  "np.ones(shape)",              (),                            "const", ["numpy.ones"],
         S.fixed, {"shape": ()}, elementwise=False),
    # indexing and making arrays (rows_index.py, rows_arrays.py), numpy's other functions and reductions, and
    # linear algebra (rows_numpy.py, rows_linalg.py)
    *INDEX_ROWS,
    *ARRAY_ROWS,
    *NUMPY_ROWS,
    *LINALG_ROWS,
    *PYTHON_ROWS,  # Python's // % int() float() (rows_python.py)
]}

# A value assigned in a branch of an `if` on data: `y = y_1` at the end of the branch.
COPY = dataclasses.replace(prim("copy", "x", "x", ("g",), "assign", shape=S.same, elementwise=False, tangent="linear"),
                           joins=True)
# After the branches of the backward `if`: a gradient accumulated in either one (same name in both).
MERGE = Op("merge", Expr("x", ("x",)), "assign", elementwise=False, inplace=True, joins=True)

# Bookkeeping ops of the backward pass.
SEED = Op("seed", Expr("1.0", ()), "base")  # d out / d out, for a scalar output
SEED_K = Op("seed_k", Expr("seed[k]", ("seed",), ("k",)), "seed", defaults={"k": 0})  # output k of several
ACC = Op("acc", Expr("a + b", ("a", "b")), "copy", inplace=True, adds=True)  # a value used twice: gradients add up
ZEROS = Op("zeros", Expr("np.zeros_like(x)", ("x",)), "zero")  # an input the output ignores
# Before a backward `if` that adds to a gradient: zeros in x's float type (an integer x would make += fail),
# 0.0 for a scalar.
INIT = Op("init", Expr(ZEROS_OF_X, ("x",)), "init", zero_init=True)
INIT_SCALAR = Op("init_scalar", Expr("0.0", ("x",), exact=True), "init", zero_init=True)
# Rolled loops.  The forward loop saves on a tape (a list per value) what the backward loop reads;
# the backward loop takes the values back, last first.  A while loop counts its iterations.
TAPE = Op("tape", Expr("[]", ()), "tape", elementwise=False)
PUSH = Op("push", Expr("OUT.append(x)", ("OUT", "x"), block=True), "tape", elementwise=False, inplace=True,
          saves=True)
# An array the loop then writes into in place is saved as a copy.
PUSH_COPY = Op("push_copy", Expr("OUT.append(x.copy())", ("OUT", "x"), block=True), "tape", elementwise=False,
               inplace=True, saves=True)
POP = Op("pop", Expr("x.pop()", ("x",)), "restore", elementwise=False, restores=True)
COUNT = Op("count", Expr("0", ()), "count", elementwise=False)
STEP = Op("step", Expr("x + 1", ("x",)), "count", elementwise=False, inplace=True, counts=True)  # written n_iter += 1
# A loop's variable that starts as a value another name still holds, and that the loop writes into.
COPY_ARRAY = prim("copy_array", "x", "np.copy(x)", ("g",), "assign", shape=S.same, elementwise=False, tangent="linear")

# Summing a gradient back to the shape of an input that was broadcast (written out: shapes known).
SUM_LEAD = Op("sum_lead", Expr("np.sum(x, axis=axis)", ("x",), ("axis",)), "broadcast",
              defaults={"axis": None}, elementwise=False)
SUM_ONES = Op("sum_ones", Expr("np.sum(x, axis=axis, keepdims=True)", ("x",), ("axis",)), "broadcast",
              defaults={"axis": None}, elementwise=False)
# ... and when the input's shape is unknown until run time.
UNBROADCAST = Op("unbroadcast", Expr("unbroadcast(x, np.shape(y))", ("x", "y")), "broadcast", elementwise=False)

# User-facing call name -> primitive.
CALLS: dict[str, Op] = {c: op for op in TABLE.values() for c in op.calls}
# Methods on arrays -> the numpy function they mean.
METHODS = {"sum": "numpy.sum", "mean": "numpy.mean", "max": "numpy.max", "min": "numpy.min",
           "reshape": "numpy.reshape", "transpose": "numpy.transpose", **NUMPY_METHODS, **LINALG_METHODS,
           **ARRAY_METHODS}

# Module constants a function may read (np.pi, math.e, ...).
CONSTANTS: dict[str, float] = {
    f"{mod}.{name}": float(getattr(math, name))
    for mod in ("numpy", "math") for name in ("pi", "e", "inf", "nan")
} | {"math.tau": math.tau}

# Builtins that Python binds without an import.
BUILTINS = {"abs": "builtins.abs", "max": "builtins.max", "min": "builtins.min", "len": "builtins.len",
            "range": "builtins.range", **PYTHON_BUILTINS}
