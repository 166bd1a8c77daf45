"""The primitive table: every operation flatgen knows, in one place.

Each row gives a primitive's forward expression, the local-gradient rule for each input, the gate
label that names it in comments, its shape rule, and the user-facing calls that mean it.
Expressions are short Python templates over named slots and params:

    forward   "a * b"                       slots: the inputs
    rules     "g * b", "g * a"              slots: g (upstream gradient), out (forward value), inputs
    params    "np.sum(x, axis=axis)"        trace-time constants of the equation (axis, keepdims, ...)

One template serves three readers: the interpreter evaluates it (compiled once), the renderer
substitutes names into its syntax tree (so generated code is built from ASTs, never pasted
strings), and a person checks the rule against one line of maths.  Rules are written for arrays
(numpy broadcasting); where an input was broadcast, reverse.py sums its gradient back to its shape.
"""

from __future__ import annotations

import ast
import copy
import functools
import math
import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import shapes as S

# Module-level functions a template may call besides numpy.  The generated module defines each one
# it uses (no import of flatgen); flatgen.sigmoid is this very code, so all three agree to the bit.
SUPPORT: dict[str, str] = {
    "sigmoid": (
        "def sigmoid(x):\n"
        '    """The logistic function 1 / (1 + exp(-x)), elementwise."""\n'
        "    return 1 / (1 + np.exp(-x))\n"
    ),
    # Only for inputs whose shape is unknown when the module is generated: with known shapes the
    # sum is written out (`np.sum(grad_z, axis=0)`).
    "unbroadcast": (
        "def unbroadcast(grad, shape):\n"
        '    """Sum a gradient back to the shape of an input that numpy broadcast."""\n'
        "    lead = np.ndim(grad) - len(shape)\n"
        "    ones = tuple(lead + i for i, n in enumerate(shape) if n == 1)\n"
        "    return np.reshape(np.sum(grad, axis=tuple(range(lead)) + ones), shape)\n"
    ),
}

# For modules of plain Python floats (math mode): the same function with the math module.  It cannot
# overflow: below -700, 1 / (1 + exp(-x)) and exp(x) are the same double.
SUPPORT["sigmoid_math"] = (
    "def sigmoid_math(x):\n"
    '    """The logistic function 1 / (1 + exp(-x)), for floats."""\n'
    "    return 1 / (1 + math.exp(-x)) if x >= -700.0 else math.exp(x)\n"
)

# np.maximum / np.minimum on floats: nan if either is nan, as numpy's (builtin max(1.0, nan) is 1.0).
SUPPORT["maximum_math"] = (
    "def maximum_math(a, b):\n"
    '    """The larger of two floats, nan when either is nan (as in numpy)."""\n'
    "    return a if a >= b or a != a else b\n"
)
SUPPORT["minimum_math"] = (
    "def minimum_math(a, b):\n"
    '    """The smaller of two floats, nan when either is nan (as in numpy)."""\n'
    "    return a if a <= b or a != a else b\n"
)

_support_globals: dict[str, object] = {"np": np, "math": math}
for _text in SUPPORT.values():
    exec(compile(_text, "<flatgen support>", "exec"), _support_globals)
SUPPORT_FUNCTIONS = {name: _support_globals[name] for name in SUPPORT}

# Names templates may use that are not slots: numpy (as np), math, and the support functions.
TEMPLATE_GLOBALS: dict[str, object] = {"np": np, "math": math, **SUPPORT_FUNCTIONS}


class _ToMath(ast.NodeTransformer):
    """A numpy template -> the same expression on Python floats (math mode)."""

    FUNCS = {f"np.{f}": f"math.{f}" for f in ("exp", "log", "sqrt", "tanh", "sin", "cos")} | {
        "np.abs": "abs", "np.maximum": "maximum_math", "np.minimum": "minimum_math", "sigmoid": "sigmoid_math"}

    def visit_Call(self, node):
        self.generic_visit(node)
        name = ast.unparse(node.func)
        if name in self.FUNCS:
            node.func = ast.parse(self.FUNCS[name], mode="eval").body
        elif name == "np.sign":  # float(x > 0) - float(x < 0): -1, 0 or 1, like np.sign (numpy scalars too)
            (x,) = node.args
            gt = ast.Call(ast.Name("float", ast.Load()), [ast.Compare(x, [ast.Gt()], [ast.Constant(0)])], [])
            lt = ast.Call(ast.Name("float", ast.Load()),
                          [ast.Compare(copy.deepcopy(x), [ast.Lt()], [ast.Constant(0)])], [])
            return ast.BinOp(gt, ast.Sub(), lt)
        elif name in ("np.zeros_like", "np.ones_like"):
            return ast.Constant(0.0 if name == "np.zeros_like" else 1.0)
        elif name == "np.where":
            c, a, b = node.args
            return ast.IfExp(c, a, b)
        return node

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if ast.unparse(node) in ("np.inf", "np.nan", "np.pi", "np.e"):
            return ast.Attribute(ast.Name("math", ast.Load()), node.attr, ast.Load())
        return node


def to_math(template: "Template") -> "Template":
    """The math-mode version of a template (the same text when it has no numpy in it)."""
    if template.block or not ({"np", "sigmoid"} & set(template.globals)):
        return template
    tree = _ToMath().visit(copy.deepcopy(template.tree))
    return Template(ast.unparse(tree), template.slots, template.params, exact=True)


class Template:
    """A Python expression (or, for `block`, statements) with named slots and params."""

    def __init__(self, text: str, slots: tuple[str, ...], params: tuple[str, ...] = (), block: bool = False,
                 exact: bool = False):
        """`exact`: take `slots` as they are, used or not (a math form keeps its numpy form's inputs)."""
        self.text = text
        self.block = block
        tree = ast.parse(text, mode="exec" if block else "eval")
        self.tree = tree if block else tree.body
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        allowed = set(slots) | set(params) | set(TEMPLATE_GLOBALS) | {"abs", "max", "min", "float"} | ({"OUT"} if block else set())
        # A block assigns OUT, its result; when OUT is also an input, the block updates that input.
        if names - allowed:
            raise ValueError(f"template {text!r} uses unknown names {sorted(names - allowed)}")
        # The slots this expression reads, in slot order: an equation's inputs, one per used slot.
        self.slots = tuple(slots) if exact else tuple(s for s in slots if s in names)
        self.params = tuple(params) if exact else tuple(p for p in params if p in names)
        self.globals = tuple(sorted(names & set(TEMPLATE_GLOBALS)))
        self._patterns: dict = {}
        # Does it make a new array that nothing else refers to?  Not a slot itself (`g`), an attribute
        # (`g.T`) or a numpy view (broadcast_to, reshape, transpose, expand_dims).  A fresh gradient
        # may be accumulated into in place.
        root = self.tree if not block else None
        views = {"np.broadcast_to", "np.reshape", "np.transpose", "np.expand_dims"}
        self.fresh = root is not None and not (
            isinstance(root, (ast.Name, ast.Attribute, ast.Constant, ast.Subscript))
            or (isinstance(root, ast.Call) and ast.unparse(root.func) in views))
        # Slots read only for their shape (np.shape(x), np.size(x)): with a known shape, a constant.
        sized = {id(c.args[0]) for c in ast.walk(tree) if isinstance(c, ast.Call) and len(c.args) == 1
                 and ast.unparse(c.func) in ("np.shape", "np.size", "np.ndim")}
        self.shape_only = {s for s in self.slots if all(id(n) in sized for n in ast.walk(tree)
                                                        if isinstance(n, ast.Name) and n.id == s)}
        # Slots that appear only as whole arguments of calls: any expression can stand there unparenthesized.
        parents = {id(c): n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)}
        self.call_args = {
            s for s in self.slots
            if all(isinstance(parents.get(id(n)), ast.Call) and n in parents[id(n)].args
                   for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == s)
        }

    @functools.cached_property
    def fn(self):
        """The template compiled (on first use: `import flatgen` stays fast)."""
        args = ", ".join(self.slots + self.params)
        if self.block:  # evaluated on a copy: the interpreter never mutates a value in place
            body = "\n".join("    " + line for line in self.text.splitlines())
            copy_in = "    OUT = OUT.copy()\n" if "OUT" in self.slots else ""
            src = f"def _block({args}):\n{copy_in}{body}\n    return OUT\n"
            ns = dict(TEMPLATE_GLOBALS)
            exec(compile(src, f"<flatgen: {self.text}>", "exec"), ns)
            return ns["_block"]
        return eval(compile(f"lambda {args}: {self.text}", f"<flatgen: {self.text}>", "eval"), dict(TEMPLATE_GLOBALS))

    def render(self, args: list[ast.expr], names: dict[str, str], params: dict | None = None,
               defaults: dict | None = None, shapes: dict | None = None):
        """The template's syntax tree with slots replaced by the arguments' trees and params by constants.

        `names` maps template globals (np, sigmoid) to the names the generated module uses;
        keyword arguments equal to the op's defaults are dropped (`axis=None`); np.shape / np.size /
        np.ndim of an argument whose shape is known become constants; constant subexpressions are
        folded (`p - 1` with p = 3 becomes 2) and `x ** 1` becomes x.  All of it is exact, so the
        generated code computes the same bits as the interpreter.  (`1.0 * x` stays: it is x only for a
        float x, and flatgen does not know dtypes.)
        """
        binding = dict(zip(self.slots, args))
        params = params or {}
        defaults = defaults or {}
        slot_shapes = {s: shp for s, shp in zip(self.slots, shapes or ()) if shp is not None}
        np_name = names.get("np", "np")

        class Fill(ast.NodeTransformer):
            def visit_Name(self, node):
                if node.id in binding:
                    return copy.deepcopy(binding[node.id])
                if node.id in params:
                    return constant(params[node.id], np_name)
                return ast.Name(names.get(node.id, node.id), ast.Load())

            def visit_Call(self, node):
                node.keywords = [k for k in node.keywords if not (
                    isinstance(k.value, ast.Name) and k.value.id in defaults
                    and _same(params.get(k.value.id, defaults[k.value.id]), defaults[k.value.id]))]
                f = node.func
                if (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "np"
                        and f.attr in ("shape", "size", "ndim") and len(node.args) == 1
                        and isinstance(node.args[0], ast.Name) and node.args[0].id in slot_shapes):
                    shp = slot_shapes[node.args[0].id]
                    return constant({"shape": shp, "size": math.prod(shp), "ndim": len(shp)}[f.attr])
                self.generic_visit(node)
                return node

            def visit_BinOp(self, node):
                self.generic_visit(node)
                lit_l, lit_r = _number(node.left), _number(node.right)
                foldable = not isinstance(node.op, (ast.Pow, ast.Div)) or (isinstance(node.op, ast.Div) and lit_r)
                if lit_l is not None and lit_r is not None and foldable and isinstance(node.op, tuple(_FOLD)):
                    return constant(_FOLD[type(node.op)](lit_l, lit_r))
                if isinstance(node.op, ast.Pow) and lit_r == 1 and type(lit_r) is int:
                    return node.left
                return node

        return Fill().visit(copy.deepcopy(self.tree))

    def pattern(self, args: list, names: dict[str, str], params: dict, defaults: dict, shapes,
                const_module: str = "np") -> list[str]:
        """The rendered text split around its arguments: [text, i, text, j, text, ...].

        `args` holds the value of each constant argument and None for each variable (so a constant
        None cannot be an argument: params carry those); variables are left as placeholders, filled by
        the caller with their names.  The text is formatted by
        Black once per distinct pattern (that is the cache's point): names do not change how Black
        formats an expression, so the filled text is Black's too, as long as the line is short.
        """
        key = (tuple(None if a is None else (type(a), a) for a in args), _freeze(params), tuple(shapes),
               tuple(sorted(names.items())))
        found = self._patterns.get(key)
        if found is None:
            nodes = [constant(a, names.get(const_module, const_module)) if a is not None
                     else ast.Name(f"_flatgen_{i}_", ast.Load()) for i, a in enumerate(args)]
            tree = self.render(nodes, names, params, defaults, shapes)
            text = "\n".join(ast.unparse(s) for s in tree.body) if self.block else ast.unparse(tree)
            from .format import format_snippet  # Black, once per pattern

            text = format_snippet(text)
            found = self._patterns[key] = [int(p) if i % 2 else p for i, p in enumerate(_PLACEHOLDER.split(text))]
        return found

    def __repr__(self):
        return f"Template({self.text!r})"


_PLACEHOLDER = re.compile(r"_flatgen_(\d+)_")


def fill(pattern: list, texts: list[str]) -> str:
    return "".join(texts[p] if isinstance(p, int) else p for p in pattern)


def _freeze(params: dict):
    return tuple(sorted((k, repr(v)) for k, v in params.items())) if params else ()


_FOLD = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
         ast.Div: lambda a, b: a / b}


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b


def _number(node: ast.expr):
    """The number a literal subtree stands for (Constant or -Constant), else None."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float)):
        return -node.operand.value
    return None


def constant(value, np_name: str = "np") -> ast.expr:
    """A trace-time constant as an expression tree: numbers (negatives as -(c), so `(-2.0) ** x`
    keeps its parentheses; inf and nan as np.inf, np.nan), tuples, slices, None, bools."""
    if isinstance(value, tuple):
        return ast.Tuple([constant(v, np_name) for v in value], ast.Load())
    if isinstance(value, slice):
        part = lambda v: None if v is None else constant(v, np_name)  # noqa: E731
        return ast.Slice(part(value.start), part(value.stop), part(value.step))
    if value is None or isinstance(value, bool) or value is Ellipsis:
        return ast.Constant(value)
    if isinstance(value, float) and not math.isfinite(value):
        name = "nan" if math.isnan(value) else "inf"
        node = ast.Attribute(ast.Name(np_name, ast.Load()), name, ast.Load())
        return ast.UnaryOp(ast.USub(), node) if value < 0 else node
    if value < 0 or (isinstance(value, float) and math.copysign(1.0, value) < 0):
        return ast.UnaryOp(ast.USub(), ast.Constant(-value))
    return ast.Constant(value)


@dataclass(frozen=True, eq=False)
class Op:
    """An operation an equation applies: a primitive's forward, one of its rules, or a bookkeeping op."""

    name: str
    expr: Template
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

    @functools.cached_property
    def rule_slots(self) -> frozenset[str]:
        """What the local-gradient rules read: `out`, `g`, the input slots.  (The tracer asks, for a
        loop's variable, whether the backward needs its old value and its new one at once.)"""
        return frozenset(s for r in self.rules if r is not None for s in r.expr.slots)

    @functools.cached_property
    def math_expr(self) -> Template:
        return to_math(self.expr)

    def template(self, math_mode: bool = False) -> Template:
        return self.math_expr if math_mode else self.expr

    def __call__(self, *values, math_mode: bool = False, **params):
        p = {**self.defaults, **params}
        expr = self.math_expr if math_mode else self.expr
        return expr.fn(*values, *(p[k] for k in expr.params))


def prim(name: str, inputs: str, forward: str, rules: tuple["str | Op | None", ...], gate: str, calls=(),
         shape=S.broadcast, params: dict | None = None, elementwise=True, mask=False) -> Op:
    """A row of the table: `rules[i]` is the gradient sent to input i, over g, out, the inputs and
    params (or an Op of its own, for a rule that is a statement block)."""
    slots = tuple(inputs.split())
    params = params or {}
    assert len(rules) == len(slots), name
    grads = tuple(
        r if r is None or isinstance(r, Op) else Op(f"{name}.d{s}", Template(r, ("g", "out", *slots), tuple(params)),
                                                    gate, defaults=params, elementwise=False)
        for s, r in zip(slots, rules)
    )
    return Op(name, Template(forward, slots, tuple(params)), gate, grads, tuple(calls), shape, params, elementwise,
              mask=mask)


# Indexing sends the gradient into a zero array of the input's shape, at the same index (float zeros:
# zeros_like of an integer input would truncate the gradient written into it).  A later use of the
# same array at another index adds into that array, in place (it is ours: made by the scatter).
_IDX = {"idx": ()}
SCATTER = Op("index.dx", Template("OUT = np.zeros(np.shape(x))\nOUT[idx] = g", ("g", "x"), ("idx",), block=True),
             "index", defaults=_IDX, elementwise=False,
             accumulate=Op("index.acc", Template("OUT[idx] += g", ("OUT", "g"), ("idx",), block=True), "copy",
                           defaults=_IDX, elementwise=False, inplace=True))


def reduction(name: str, forward: str, keep_rule: str, axis_rule: str, gate: str, calls) -> list[Op]:
    """Two rows per reduction: `name` when the reduced axes are kept (keepdims, or all axes) so the
    gradient broadcasts as it is, `name_axis` when they are dropped and must be put back."""
    params = {"axis": None, "keepdims": False}
    return [
        prim(name, "x", forward, (keep_rule,), gate, calls, S.reduce, params, elementwise=False),
        prim(f"{name}_axis", "x", forward, (axis_rule,), gate, (), S.reduce, params, elementwise=False),
    ]


# Shorthands for the rules of reductions: the upstream gradient, and the output, with reduced axes put back.
_G, _OUT = "np.expand_dims(g, axis)", "np.expand_dims(out, axis)"


def _chooser(g: str, out: str) -> str:
    """max/min reductions: the gradient goes to the elements equal to the result, split evenly on ties."""
    return f"(x == {out}) * ({g} / np.sum(x == {out}, axis=axis, keepdims=True))"


#                name        inputs  forward               local-gradient rule per input        gate       user calls
TABLE: dict[str, Op] = {op.name: op for op in [
    prim("add",     "a b", "a + b",               ("g", "g"),                            "add"),
    prim("sub",     "a b", "a - b",               ("g", "-g"),                           "sub"),
    prim("mul",     "a b", "a * b",               ("g * b", "g * a"),                    "mul", ["numpy.multiply"]),
    prim("div",     "a b", "a / b",               ("g / b", "-g * out / b"),             "div", ["numpy.divide"]),
    # d(a ** b)/db = out * log(a); at a == 0 that is 0 * -inf, but 0 ** b is flat (0 for b > 0): log(1) there
    prim("pow",     "a b", "a ** b",              ("g * b * a ** (b - 1)", "g * out * np.log(np.where(a == 0, 1.0, a))"), "pow",
         ["numpy.power", "math.pow"]),
    prim("neg",     "x",   "-x",                  ("-g",),                               "neg", ["numpy.negative"]),
    prim("exp",     "x",   "np.exp(x)",           ("g * out",),                          "exp", ["numpy.exp", "math.exp"]),
    prim("log",     "x",   "np.log(x)",           ("g / x",),                            "log", ["numpy.log", "math.log"]),
    prim("sqrt",    "x",   "np.sqrt(x)",          ("g / (2 * out)",),                    "sqrt", ["numpy.sqrt", "math.sqrt"]),
    prim("tanh",    "x",   "np.tanh(x)",          ("g * (1 - out**2)",),                 "tanh", ["numpy.tanh", "math.tanh"]),
    prim("sin",     "x",   "np.sin(x)",           ("g * np.cos(x)",),                    "sin", ["numpy.sin", "math.sin"]),
    prim("cos",     "x",   "np.cos(x)",           ("-g * np.sin(x)",),                   "cos", ["numpy.cos", "math.cos"]),
    prim("abs",     "x",   "np.abs(x)",           ("g * np.sign(x)",),                   "abs",
         ["numpy.abs", "numpy.absolute", "math.fabs", "builtins.abs"]),
    # Routers: ties send the whole gradient to the first argument, as Python's max(a, b) returns a.
    # numpy's propagate nan; the builtins (of two numbers) return a unless b is larger (smaller).
    prim("maximum", "a b", "np.maximum(a, b)",    ("g * (a >= b)", "g * (a < b)"),       "max", ["numpy.maximum"]),
    prim("minimum", "a b", "np.minimum(a, b)",    ("g * (a <= b)", "g * (a > b)"),       "min", ["numpy.minimum"]),
    prim("max2",    "a b", "max(a, b)",           ("g * (a >= b)", "g * (a < b)"),       "max", ["builtins.max"],
         S.scalars),
    prim("min2",    "a b", "min(a, b)",           ("g * (a <= b)", "g * (a > b)"),       "min", ["builtins.min"],
         S.scalars),
    prim("sigmoid", "x",   "sigmoid(x)",          ("g * (1 - out) * out",),              "sigmoid", ["flatgen.sigmoid"]),
    # np.where routes like an if: the gradient goes to the branch that was taken.
    prim("where",   "c a b", "np.where(c, a, b)", (None, "np.where(c, g, 0.0)", "np.where(c, 0.0, g)"), "where",
         ["numpy.where"], S.where),
    # Comparisons make masks: piecewise constant, no gradient.
    prim("gt",      "a b", "a > b",               (None, None),                          "compare", ["numpy.greater"], mask=True),
    prim("lt",      "a b", "a < b",               (None, None),                          "compare", ["numpy.less"], mask=True),
    prim("ge",      "a b", "a >= b",              (None, None),                          "compare", ["numpy.greater_equal"], mask=True),
    prim("le",      "a b", "a <= b",              (None, None),                          "compare", ["numpy.less_equal"], mask=True),
    prim("eq",      "a b", "a == b",              (None, None),                          "compare", ["numpy.equal"], mask=True),
    prim("ne",      "a b", "a != b",              (None, None),                          "compare", ["numpy.not_equal"], mask=True),
    # Matrix products, by operand rank (the tracer picks the row): never a Jacobian.
    prim("matmul",    "a b", "a @ b",  ("g @ b.T", "a.T @ g"),                 "matmul", ["numpy.matmul", "numpy.dot"],
         S.matmul, elementwise=False),
    prim("matmul_mv", "a b", "a @ b",  ("np.outer(g, b)", "a.T @ g"),          "matmul", shape=S.matmul, elementwise=False),
    prim("matmul_vm", "a b", "a @ b",  ("b @ g", "np.outer(a, g)"),            "matmul", shape=S.matmul, elementwise=False),
    prim("dot",       "a b", "a @ b",  ("g * b", "g * a"),                     "matmul", shape=S.matmul, elementwise=False),
    prim("outer",     "a b", "np.outer(a, b)", ("g @ b", "a @ g"),       "outer", ["numpy.outer"],
         S.outer, elementwise=False),
    *reduction("sum",  "np.sum(x, axis=axis, keepdims=keepdims)",
               "np.broadcast_to(g, np.shape(x))", f"np.broadcast_to({_G}, np.shape(x))", "sum", ["numpy.sum"]),
    *reduction("mean", "np.mean(x, axis=axis, keepdims=keepdims)",
               "np.broadcast_to(g / (np.size(x) / np.size(out)), np.shape(x))",
               f"np.broadcast_to({_G} / (np.size(x) / np.size(out)), np.shape(x))", "mean", ["numpy.mean"]),
    *reduction("max",  "np.max(x, axis=axis, keepdims=keepdims)", _chooser("g", "out"), _chooser(_G, _OUT), "reduce_max",
               ["numpy.max", "numpy.amax"]),
    *reduction("min",  "np.min(x, axis=axis, keepdims=keepdims)", _chooser("g", "out"), _chooser(_G, _OUT), "reduce_min",
               ["numpy.min", "numpy.amin"]),
    # Layout: the gradient is laid back out the way the input was.
    prim("T",         "x", "x.T",                          ("g.T",),                      "layout", shape=S.transpose,
         elementwise=False),
    prim("transpose", "x", "np.transpose(x, axes)",        ("np.transpose(g, inverse)",), "layout", ["numpy.transpose"],
         S.transpose, {"axes": None, "inverse": None}, elementwise=False),
    prim("reshape",   "x", "np.reshape(x, shape)",         ("np.reshape(g, np.shape(x))",), "layout", ["numpy.reshape"],
         S.reshape, {"shape": ()}, elementwise=False),
    prim("expand_dims", "x", "np.expand_dims(x, axis)",    ("np.reshape(g, np.shape(x))",), "layout",
         ["numpy.expand_dims"], S.expand_dims, {"axis": 0}, elementwise=False),
    prim("index",     "x", "x[idx]",                       (SCATTER,),                    "index",
         shape=S.index, params={"idx": ()}, elementwise=False),
    # Constants built from shapes: no gradient.
    prim("zeros_like", "x", "np.zeros_like(x)",            (None,),                       "const", ["numpy.zeros_like"],
         S.same, elementwise=False),
    prim("ones_like",  "x", "np.ones_like(x)",             (None,),                       "const", ["numpy.ones_like"],
         S.same, elementwise=False),
    prim("zeros",      "",  "np.zeros(shape)",             (),                            "const", ["numpy.zeros"],
         S.fixed, {"shape": ()}, elementwise=False),
    prim("ones",       "",  "np.ones(shape)",              (),                            "const", ["numpy.ones"],
         S.fixed, {"shape": ()}, elementwise=False),
]}

# Item assignment into a local array, z[idx] = v: a new version of z (a copy with v written in).
# The gradient of the written elements goes to v, the rest to the old z.
SETITEM = Op(
    "setitem", Template("OUT = x.copy()\nOUT[idx] = v", ("x", "v"), ("idx",), block=True), "setitem",
    rules=(Op("setitem.dx", Template("OUT = g.copy()\nOUT[idx] = 0.0", ("g",), ("idx",), block=True), "setitem",
              defaults=_IDX, elementwise=False),
           Op("setitem.dv", Template("g[idx]", ("g", "out", "x", "v"), ("idx",)), "setitem", defaults=_IDX,
              elementwise=False)),
    shape=S.same, defaults=_IDX, elementwise=False, writes_item=True,
)

# Indexing by run-time integers (a rolled loop's index, `x[i]`, `X[:, i]`): one row per index
# pattern, the same rules as `index` and `setitem` with the integers as inputs.  `sig` spells the
# index: "#" for each run-time integer (slots i0, i1, ...), constants as Python writes them.
def _index_text(sig: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    ints = tuple(f"i{k}" for k in range(sig.count("#")))
    it = iter(ints)
    return ", ".join(next(it) if part == "#" else part for part in sig), ints


@functools.cache
def index_at(sig: tuple[str, ...]) -> Op:
    idx, ints = _index_text(sig)
    add = Op("index_at.acc", Template(f"OUT[{idx}] += g", ("OUT", "g", *ints), block=True), "copy",
             elementwise=False, inplace=True)
    scatter = Op("index_at.dx", Template(f"OUT = np.zeros(np.shape(x))\nOUT[{idx}] = g", ("g", "x", *ints), block=True),
                 "index", elementwise=False, accumulate=add)
    return Op("index_at", Template(f"x[{idx}]", ("x", *ints)), "index", (scatter,) + (None,) * len(ints),
              shape=lambda x, *_, shape_idx=(), **__: S.index(x, idx=shape_idx), elementwise=False)


@functools.cache
def setitem_at(sig: tuple[str, ...]) -> Op:
    idx, ints = _index_text(sig)
    return Op(
        "setitem_at", Template(f"OUT = x.copy()\nOUT[{idx}] = v", ("x", "v", *ints), block=True), "setitem",
        rules=(Op("setitem_at.dx", Template(f"OUT = g.copy()\nOUT[{idx}] = 0.0", ("g", *ints), block=True), "setitem",
                  elementwise=False),
               Op("setitem_at.dv", Template(f"g[{idx}]", ("g", "out", "x", "v", *ints)), "setitem", elementwise=False))
        + (None,) * len(ints),
        shape=S.same, elementwise=False, writes_item=True,
    )


# A value assigned in a branch of an `if` on data: `y = y_1` at the end of the branch.
COPY = prim("copy", "x", "x", ("g",), "assign", shape=S.same, elementwise=False)
# After the branches of the backward `if`: a gradient accumulated in either one (same name in both).
MERGE = Op("merge", Template("x", ("x",)), "assign", elementwise=False, inplace=True)

# Bookkeeping ops of the backward pass.
SEED = Op("seed", Template("1.0", ()), "base")  # d out / d out, for a scalar output
SEED_K = Op("seed", Template("seed[k]", ("seed",), ("k",)), "seed", defaults={"k": 0})  # output k of several
ACC = Op("acc", Template("a + b", ("a", "b")), "copy", inplace=True)  # a value used twice: gradients add up
ZEROS = Op("zeros", Template("np.zeros_like(x)", ("x",)), "zero")  # an input the output ignores
# Before a backward `if` that adds to a gradient: float zeros (an integer x would make += fail), 0.0
# for a scalar.
INIT = Op("init", Template("np.zeros(np.shape(x))", ("x",)), "init", zero_init=True)
INIT_SCALAR = Op("init", Template("0.0", ("x",), exact=True), "init", zero_init=True)
# Rolled loops.  The forward loop saves on a tape (a list per value) what the backward loop reads;
# the backward loop takes the values back, last first.  A while loop counts its iterations.
TAPE = Op("tape", Template("[]", ()), "tape", elementwise=False)
PUSH = Op("push", Template("OUT.append(x)", ("OUT", "x"), block=True), "tape", elementwise=False, inplace=True)
# An array the loop then writes into in place is saved as a copy.
PUSH_COPY = Op("push", Template("OUT.append(x.copy())", ("OUT", "x"), block=True), "tape", elementwise=False,
               inplace=True)
POP = Op("pop", Template("x.pop()", ("x",)), "restore", elementwise=False)
COUNT = Op("count", Template("0", ()), "count", elementwise=False)
STEP = Op("step", Template("x + 1", ("x",)), "count", elementwise=False, inplace=True)  # written n_iter += 1
# A loop's variable that starts as a value another name still holds, and that the loop writes into.
COPY_ARRAY = prim("copy", "x", "np.copy(x)", ("g",), "assign", shape=S.same, elementwise=False)

# Summing a gradient back to the shape of an input that was broadcast (written out: shapes known).
SUM_LEAD = Op("unbroadcast", Template("np.sum(x, axis=axis)", ("x",), ("axis",)), "broadcast",
              defaults={"axis": None}, elementwise=False)
SUM_ONES = Op("unbroadcast", Template("np.sum(x, axis=axis, keepdims=True)", ("x",), ("axis",)), "broadcast",
              defaults={"axis": None}, elementwise=False)
# ... and when the input's shape is unknown until run time.
UNBROADCAST = Op("unbroadcast", Template("unbroadcast(x, np.shape(y))", ("x", "y")), "broadcast", elementwise=False)

# User-facing call name -> primitive.
CALLS: dict[str, Op] = {c: op for op in TABLE.values() for c in op.calls}
# Methods on arrays -> the numpy function they mean.
METHODS = {"sum": "numpy.sum", "mean": "numpy.mean", "max": "numpy.max", "min": "numpy.min",
           "reshape": "numpy.reshape", "transpose": "numpy.transpose"}

# Module constants a function may read (np.pi, math.e, ...).
CONSTANTS: dict[str, float] = {
    f"{mod}.{name}": float(getattr(math, name))
    for mod in ("numpy", "math") for name in ("pi", "e", "inf", "nan")
} | {"math.tau": math.tau}

# Builtins that Python binds without an import.
BUILTINS = {"abs": "builtins.abs", "max": "builtins.max", "min": "builtins.min", "len": "builtins.len",
            "range": "builtins.range"}
