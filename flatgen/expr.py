"""Expression templates: short Python expressions (or statement blocks) over named slots and params.

    forward   "a * b"                       slots: the inputs
    rules     "g * b", "g * a"              slots: g (upstream gradient), out (forward value), inputs
    params    "np.sum(x, axis=axis)"        trace-time constants of the equation (axis, keepdims, ...)

One expression serves three readers: the interpreter evaluates it (compiled once), the renderer
substitutes names into its syntax tree (so generated code is built from ASTs, never pasted strings),
and a person checks the rule against one line of maths.  `Expr.pattern` prints an expression once
per distinct pattern with a formatter the caller passes in (the renderer passes Black): this module
knows nothing of formatting, of the table, or of Jinja (whose files in templates/ are layout only).
The math form of an expression (math.exp, float arithmetic) is derived here too (`to_math`).
"""

from __future__ import annotations

import ast
import copy
import functools
import math
import re
from typing import Callable

import numpy as np

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

# np.logaddexp on floats: log(exp(a) + exp(b)), computed as numpy computes it (npy_logaddexp).
SUPPORT["logaddexp_math"] = (
    "def logaddexp_math(a, b):\n"
    '    """log(exp(a) + exp(b)) of two floats, without overflow (as numpy computes it)."""\n'
    "    if a == b:\n"
    "        return a + math.log(2)\n"
    "    d = a - b\n"
    "    return a + math.log1p(math.exp(-d)) if d > 0 else b + math.log1p(math.exp(d)) if d <= 0 else d\n"
)

# np.round on floats: half to even, a float (round(x) alone would give an int).
SUPPORT["round_half_even_math"] = (
    "def round_half_even_math(x, decimals):\n"
    '    """x rounded to `decimals` digits, half to even, as a float (as np.round)."""\n'
    "    return round(x, decimals)\n"
)

_support_globals: dict[str, object] = {"np": np, "math": math}
for _text in SUPPORT.values():
    exec(compile(_text, "<flatgen support>", "exec"), _support_globals)
SUPPORT_FUNCTIONS = {name: _support_globals[name] for name in SUPPORT}

# Names templates may use that are not slots: numpy (as np), math, and the support functions.
TEMPLATE_GLOBALS: dict[str, object] = {"np": np, "math": math, **SUPPORT_FUNCTIONS}


class _ToMath(ast.NodeTransformer):
    """A numpy template -> the same expression on Python floats (math mode)."""

    FUNCS = {f"np.{f}": f"math.{f}" for f in ("exp", "log", "sqrt", "tanh", "sin", "cos", "tan", "sinh", "cosh",
                                              "log1p", "expm1", "log2", "log10", "exp2", "hypot")} | {
        f"np.arc{f}": f"math.a{f}" for f in ("sin", "cos", "tan", "tan2", "sinh", "cosh", "tanh")} | {
        "np.abs": "abs", "np.maximum": "maximum_math", "np.minimum": "minimum_math", "sigmoid": "sigmoid_math",
        "np.logaddexp": "logaddexp_math"}
    # numpy calls whose math form is another expression, over the call's arguments {0}, {1}, ...
    # (positional, then keyword values in order)
    FORMS = {"np.floor": "float(math.floor({0}))", "np.ceil": "float(math.ceil({0}))",
             "np.round": "round_half_even_math({0}, {1})",
             "np.square": "{0} ** 2", "np.reciprocal": "1.0 / {0}", "np.float64": "float({0})",
             "np.clip": "minimum_math(maximum_math({0}, {1}), {2})"}

    def visit_Call(self, node):
        self.generic_visit(node)
        name = ast.unparse(node.func)
        if name in self.FUNCS:
            node.func = ast.parse(self.FUNCS[name], mode="eval").body
        elif name in self.FORMS:
            args = node.args + [k.value for k in node.keywords]
            form = ast.parse(self.FORMS[name].format(*(f"_arg{k}_" for k in range(len(args)))), mode="eval").body
            return _Substitute({f"_arg{k}_": a for k, a in enumerate(args)}).visit(form)
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


class _Substitute(ast.NodeTransformer):
    """Names -> copies of syntax trees (a math form's arguments)."""

    def __init__(self, trees: dict):
        self.trees = trees

    def visit_Name(self, node):
        return copy.deepcopy(self.trees[node.id]) if node.id in self.trees else node


def to_math(template: "Expr") -> "Expr":
    """The math-mode version of a template (the same text when it has no numpy in it)."""
    if template.block or not ({"np", "sigmoid"} & set(template.globals)):
        return template
    tree = _ToMath().visit(copy.deepcopy(template.tree))
    return Expr(ast.unparse(tree), template.slots, template.params, exact=True)


class Expr:
    """A Python expression (or, for `block`, statements) with named slots and params."""

    def __init__(self, text: str, slots: tuple[str, ...], params: tuple[str, ...] = (), block: bool = False,
                 exact: bool = False):
        """`exact`: take `slots` as they are, used or not (a math form keeps its numpy form's inputs)."""
        self.text = text
        self.block = block
        tree = ast.parse(text, mode="exec" if block else "eval")
        self.tree = tree if block else tree.body
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        allowed = (set(slots) | set(params) | set(TEMPLATE_GLOBALS) | {"abs", "max", "min", "float", "int"}
                   | ({"OUT"} if block else set()))
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
                const_module: str = "np", fmt: Callable[[str], str] = lambda text: text) -> list[str]:
        """The rendered text split around its arguments: [text, i, text, j, text, ...].

        `args` holds the value of each constant argument and None for each variable (so a constant
        None cannot be an argument: params carry those); variables are left as placeholders, filled by
        the caller with their names.  The text is formatted by
        Black once per distinct pattern (that is the cache's point): names do not change how Black
        formats an expression, so the filled text is Black's too, as long as the line is short.
        """
        key = (tuple(None if a is None else (type(a), repr(a)) for a in args), freeze(params), tuple(shapes),
               tuple(sorted(names.items())))
        found = self._patterns.get(key)
        if found is None:
            nodes = [constant(a, names.get(const_module, const_module)) if a is not None
                     else ast.Name(f"_flatgen_{i}_", ast.Load()) for i, a in enumerate(args)]
            tree = self.render(nodes, names, params, defaults, shapes)
            text = "\n".join(ast.unparse(s) for s in tree.body) if self.block else ast.unparse(tree)
            text = fmt(text)  # the renderer's formatter (Black), once per pattern
            found = self._patterns[key] = [int(p) if i % 2 else p for i, p in enumerate(_PLACEHOLDER.split(text))]
        return found

    def __repr__(self):
        return f"Expr({self.text!r})"


_PLACEHOLDER = re.compile(r"_flatgen_(\d+)_")


def fill(pattern: list, texts: list[str]) -> str:
    return "".join(texts[p] if isinstance(p, int) else p for p in pattern)


def freeze(params: dict) -> tuple:
    """Params as a key: by repr, so 0.0 and -0.0 (equal, and hashed alike) stay apart."""
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
