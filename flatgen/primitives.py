"""The primitive table: every operation flatgen knows, in one place.

Each row gives a primitive's forward expression, the local-gradient rule for each input, the gate
label that names it in comments, and the user-facing calls that mean it.  Expressions are short
Python templates over named slots:

    forward   "a * b"                       slots: the inputs
    rules     "g * b", "g * a"              slots: g (upstream gradient), out (forward value), inputs

One template serves three readers: the interpreter evaluates it (compiled once), the renderer
substitutes names into its syntax tree (so generated code is built from ASTs, never pasted
strings), and a person checks the rule against one line of maths.
"""

from __future__ import annotations

import ast
import copy
import math
from dataclasses import dataclass, field

import numpy as np

# Module-level functions a template may call besides numpy.  The generated module defines each one
# it uses (no import of flatgen); flatgen.sigmoid is this very code, so all three agree to the bit.
SUPPORT: dict[str, str] = {
    "sigmoid": (
        "def sigmoid(x):\n"
        '    """The logistic function 1 / (1 + exp(-x)), elementwise."""\n'
        "    return 1 / (1 + np.exp(-x))\n"
    ),
}

_support_globals: dict[str, object] = {"np": np}
for _text in SUPPORT.values():
    exec(compile(_text, "<flatgen support>", "exec"), _support_globals)
SUPPORT_FUNCTIONS = {name: _support_globals[name] for name in SUPPORT}

# Names templates may use that are not slots: numpy (as np) and the support functions.
TEMPLATE_GLOBALS: dict[str, object] = {"np": np, **SUPPORT_FUNCTIONS}


class Template:
    """A Python expression with named slots, e.g. "g * (1 - out) * out"."""

    def __init__(self, text: str, slots: tuple[str, ...]):
        self.text = text
        self.tree = ast.parse(text, mode="eval").body
        names = {n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name)}
        unknown = names - set(slots) - set(TEMPLATE_GLOBALS)
        if unknown:
            raise ValueError(f"template {text!r} uses unknown names {sorted(unknown)}")
        # The slots this expression reads, in slot order: an equation's inputs, one per used slot.
        self.slots = tuple(s for s in slots if s in names)
        self.globals = tuple(sorted(names & set(TEMPLATE_GLOBALS)))
        self.fn = eval(
            compile(f"lambda {', '.join(self.slots)}: {text}", f"<flatgen: {text}>", "eval"),
            dict(TEMPLATE_GLOBALS),
        )

    def render(self, args: list[ast.expr], names: dict[str, str]) -> ast.expr:
        """The template's syntax tree with each slot replaced by an argument's tree.

        `names` maps template globals (np, sigmoid) to the names the generated module uses.
        Constant subexpressions are folded (`p - 1` with p = 3 becomes 2), and `x ** 1` becomes x:
        both are exact, so the generated code computes the same bits as the interpreter.
        """
        binding = dict(zip(self.slots, args))

        class Fill(ast.NodeTransformer):
            def visit_Name(self, node):
                if node.id in binding:
                    return copy.deepcopy(binding[node.id])
                return ast.Name(names.get(node.id, node.id), ast.Load())

            def visit_BinOp(self, node):
                self.generic_visit(node)
                lit_l, lit_r = _number(node.left), _number(node.right)
                foldable = not isinstance(node.op, (ast.Pow, ast.Div)) or (isinstance(node.op, ast.Div) and lit_r)
                if lit_l is not None and lit_r is not None and foldable:
                    return constant(_fold(node.op, lit_l, lit_r))
                if isinstance(node.op, ast.Pow) and lit_r == 1 and type(lit_r) is int:
                    return node.left
                return node

        return Fill().visit(copy.deepcopy(self.tree))

    def __repr__(self):
        return f"Template({self.text!r})"


def _number(node: ast.expr):
    """The number a literal subtree stands for (Constant or -Constant), else None."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float)):
        return -node.operand.value
    return None


def _fold(op: ast.operator, a, b):
    return {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
            ast.Div: lambda: a / b}[type(op)]()


def constant(value, np_name: str = "np") -> ast.expr:
    """A number as an expression tree; negatives as -(c) so `(-2.0) ** x` keeps its parentheses."""
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
    rules: tuple["Op", ...] = ()  # forward primitives: the local-gradient rule for each input
    calls: tuple[str, ...] = field(default=())  # dotted user-facing names that mean this primitive

    def __call__(self, *values):
        return self.expr.fn(*values)


def prim(name: str, inputs: str, forward: str, rules: tuple[str, ...], gate: str, calls=()) -> Op:
    """A row of the table: `rules[i]` is the gradient sent to input i, over g, out and the inputs."""
    slots = tuple(inputs.split())
    assert len(rules) == len(slots), name
    grads = tuple(Op(f"{name}.d{s}", Template(r, ("g", "out", *slots)), gate) for s, r in zip(slots, rules))
    return Op(name, Template(forward, slots), gate, grads, tuple(calls))


#                name        inputs  forward               local-gradient rule per input        gate       user calls
TABLE: dict[str, Op] = {op.name: op for op in [
    prim("add",     "a b", "a + b",               ("g", "g"),                            "add"),
    prim("sub",     "a b", "a - b",               ("g", "-g"),                           "sub"),
    prim("mul",     "a b", "a * b",               ("g * b", "g * a"),                    "mul"),
    prim("div",     "a b", "a / b",               ("g / b", "-g * out / b"),             "div"),
    prim("pow",     "a b", "a ** b",              ("g * b * a ** (b - 1)", "g * out * np.log(a)"), "pow",
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
    prim("maximum", "a b", "np.maximum(a, b)",    ("g * (a >= b)", "g * (a < b)"),       "max",
         ["numpy.maximum", "builtins.max"]),
    prim("minimum", "a b", "np.minimum(a, b)",    ("g * (a <= b)", "g * (a > b)"),       "min",
         ["numpy.minimum", "builtins.min"]),
    prim("sigmoid", "x",   "sigmoid(x)",          ("g * (1 - out) * out",),              "sigmoid", ["flatgen.sigmoid"]),
]}

# Bookkeeping ops of the backward pass.
SEED = Op("seed", Template("1.0", ()), "base")  # d out / d out
ACC = Op("acc", Template("a + b", ("a", "b")), "copy")  # a value used twice: its gradients add up
ZEROS = Op("zeros", Template("np.zeros_like(x)", ("x",)), "zero")  # an input the output ignores

# User-facing call name -> primitive.
CALLS: dict[str, Op] = {c: op for op in TABLE.values() for c in op.calls}

# Module constants a function may read (np.pi, math.e, ...).
CONSTANTS: dict[str, float] = {
    f"{mod}.{name}": float(getattr(math, name))
    for mod in ("numpy", "math") for name in ("pi", "e", "inf", "nan")
} | {"math.tau": math.tau}

# Builtins that Python binds without an import.
BUILTINS = {"abs": "builtins.abs", "max": "builtins.max", "min": "builtins.min"}
