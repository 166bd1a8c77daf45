"""Trace: walk a fenced function's AST into a graph of equations.

The function is read, never run.  Each statement becomes one or more equations (one per operation,
nested subexpressions get temporaries); rebinding a name makes a new variable (SSA inside, the
user's name kept as a hint outside); calls of module-level helpers are inlined with their locals
prefixed by the helper's name; operations on constants only are folded at trace time.
"""

from __future__ import annotations

import ast

import numpy as np

from . import fence
from .errors import NameResolutionError, UnsupportedSyntax
from .graph import Atom, Eqn, Graph, Lit, Var
from .parse import Source
from .primitives import BUILTINS, CALLS, CONSTANTS, TABLE, Op

BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}


class Tracer:
    def __init__(self, src: Source):
        self.src = src
        self.eqns: list[Eqn] = []
        self.stack: list[str] = []  # helpers being inlined, for recursion
        self.hashed: list[str] = []  # sources the result depends on (for the module's header)
        self._constants: dict[str, Lit] = {}

    # -- functions -------------------------------------------------------------------------------

    def trace(self, fn: ast.FunctionDef) -> Graph:
        fence.check_function(self.src, fn)
        self.hashed.append(self._segment(fn))
        params = [Var(a.arg, "param") for a in fn.args.posonlyargs + fn.args.args]
        env: dict[str, Atom] = {p.hint: p for p in params}
        out = self._body(fn, env, prefix="", result_hint=fn.name)
        return Graph(fn.name, params, self.eqns, [out])

    def _body(self, fn: ast.FunctionDef, env: dict[str, Atom], prefix: str, result_hint: str) -> Atom:
        for stmt in fn.body:
            self.stmt = stmt
            if isinstance(stmt, ast.Return):
                return self.expr(stmt.value, env, result_hint)
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
                env[target.id] = self.expr(stmt.value, env, prefix + target.id)
            elif isinstance(stmt, ast.AugAssign):
                name = stmt.target.id
                left = self.lookup(name, stmt.target, env)
                right = self.expr(stmt.value, env, None)
                env[name] = self.apply(TABLE[BINOPS[type(stmt.op)]], (left, right), prefix + name)
            # docstrings and `pass` trace to nothing
        raise AssertionError("the fence guarantees a final return")  # pragma: no cover

    # -- expressions -----------------------------------------------------------------------------

    def expr(self, node: ast.expr, env: dict[str, Atom], hint: str | None) -> Atom:
        """Trace `node`; its own equation (if it makes one) gets `hint`, nested ones temporaries."""
        if isinstance(node, ast.Constant):
            return Lit(node.value)
        if isinstance(node, ast.Name):
            return self.lookup(node.id, node, env)
        if isinstance(node, ast.Attribute):
            return self.constant(self.dotted(node, env), node)
        if isinstance(node, ast.UnaryOp):
            x = self.expr(node.operand, env, None)
            return x if isinstance(node.op, ast.UAdd) else self.apply(TABLE["neg"], (x,), hint)
        if isinstance(node, ast.BinOp):
            a = self.expr(node.left, env, None)
            b = self.expr(node.right, env, None)
            return self.apply(TABLE[BINOPS[type(node.op)]], (a, b), hint)
        if isinstance(node, ast.Call):
            return self.call(node, env, hint)
        raise UnsupportedSyntax(f"{type(node).__name__} is not in flatgen's subset", self.src.loc(node))

    def apply(self, op: Op, ins: tuple[Atom, ...], hint: str | None) -> Atom:
        """Emit `hint = op(ins)`, or fold it when every input is a constant."""
        if all(isinstance(a, Lit) for a in ins):
            value = op(*(a.value for a in ins))
            if isinstance(value, np.generic):
                value = value.item()
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return Lit(value)
        out = Var(hint, "value") if hint else Var(None, "temp")
        self.eqns.append(Eqn(out, op, ins, self.src.loc(self.stmt), source=ast.unparse(self.stmt)))
        return out

    def call(self, node: ast.Call, env: dict[str, Atom], hint: str | None) -> Atom:
        name = self.dotted(node.func, env)
        helper = self.src.functions.get(name) if "." not in name else None
        if helper is not None:
            return self.inline(helper, node, env, hint)
        op = CALLS.get(name)
        if op is None:
            raise NameResolutionError(
                f"`{_shown(node.func)}` ({name}) is not a function flatgen can differentiate",
                self.src.loc(node.func), _call_hint(name),
            )
        if len(node.args) != len(op.expr.slots):
            raise UnsupportedSyntax(
                f"`{_shown(node.func)}` takes {len(op.expr.slots)} argument(s) here, got {len(node.args)}",
                self.src.loc(node),
                "max(a, b) and min(a, b) take exactly two values; the others take one"
                if op.name in ("maximum", "minimum") else "pass the arguments the numpy function takes",
            )
        args = tuple(self.expr(a, env, None) for a in node.args)
        return self.apply(op, args, hint)

    def inline(self, fn: ast.FunctionDef, call: ast.Call, env: dict[str, Atom], hint: str | None) -> Atom:
        if fn.name in self.stack:
            chain = " -> ".join([*self.stack, fn.name])
            raise UnsupportedSyntax(
                f"recursion is not in flatgen's subset ({chain})", self.src.loc(call),
                "flat code is straight-line: write the recursion out as a fixed number of steps",
            )
        fence.check_function(self.src, fn)
        params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        if len(call.args) != len(params):
            raise UnsupportedSyntax(
                f"{fn.name}() takes {len(params)} argument(s), got {len(call.args)}",
                self.src.loc(call), f"call it as {fn.name}({', '.join(params)})",
            )
        args = [self.expr(a, env, None) for a in call.args]
        self.hashed.append(self._segment(fn))
        self.stack.append(fn.name)
        saved = self.stmt
        try:
            result = self._body(fn, dict(zip(params, args)), f"{fn.name}_", hint or f"{fn.name}_out")
        finally:
            self.stack.pop()
            self.stmt = saved
        return result

    # -- names -----------------------------------------------------------------------------------

    def lookup(self, name: str, node: ast.AST, env: dict[str, Atom]) -> Atom:
        if name in env:
            return env[name]
        return self.constant(self.dotted(node, env), node)

    def dotted(self, node: ast.expr, env: dict[str, Atom]) -> str:
        """`np.exp` -> 'numpy.exp', `exp` (from math import exp) -> 'math.exp', a helper -> its name."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        root = node.id
        if root in env:
            if parts:
                raise UnsupportedSyntax(
                    f"attribute `.{parts[-1]}` of the value `{root}` is not in flatgen's subset",
                    self.src.loc(node), "only module constants such as np.pi or math.e can be read as attributes",
                )
            return root
        if root in self.src.imports:
            root = self.src.imports[root]
        elif root in BUILTINS and root not in self.src.functions and root not in self.src.assignments:
            root = BUILTINS[root]
        return ".".join([root, *reversed(parts)])

    def constant(self, name: str, node: ast.AST) -> Lit:
        """A module constant: np.pi and friends, or a module-level NAME = <numeric expression>."""
        if name in CONSTANTS:
            return Lit(CONSTANTS[name])
        if name in self._constants:
            if self._constants[name] is None:
                raise NameResolutionError(f"module-level `{name}` is defined through itself", self.src.loc(node))
            return self._constants[name]
        values = self.src.assignments.get(name)
        if not values:
            if name in self.src.functions:
                msg, hint = f"`{name}` is a function, used here as a value", f"call it: {name}(...)"
            else:
                msg = f"name `{name}` is not a parameter, a local variable or a module-level numeric constant"
                hint = "pass it as a parameter, or define it at module level as NAME = <number>"
            raise NameResolutionError(msg, self.src.loc(node), hint)
        if len(values) > 1 or values[0] is None:
            raise NameResolutionError(
                f"module-level `{name}` is assigned more than once; flatgen reads the source, not the running module",
                self.src.loc(node), "give the constant one assignment at module level, or pass it as a parameter",
            )
        saved_eqns, saved_stmt = len(self.eqns), getattr(self, "stmt", None)
        self._constants[name] = None  # a constant defined through itself is refused below
        try:
            value = self.expr(values[0], {}, None)
        except NameResolutionError:
            value = None
        finally:
            self.stmt = saved_stmt
        if not isinstance(value, Lit) or len(self.eqns) != saved_eqns:
            del self.eqns[saved_eqns:]
            self._constants.pop(name, None)
            raise NameResolutionError(
                f"module-level `{name}` is not a numeric constant flatgen can read",
                self.src.loc(node), "module constants must be numbers (or arithmetic on numbers); pass anything else as a parameter",
            )
        self._constants[name] = value
        self.hashed.append(f"{name} = {value.value!r}")
        return value

    def _segment(self, fn: ast.FunctionDef) -> str:
        return ast.get_source_segment(self.src.text, fn) or ast.dump(fn)


def _shown(node: ast.expr) -> str:
    return ast.unparse(node)


def _call_hint(name: str) -> str:
    known = sorted({c.split(".")[-1] for c in CALLS if c.startswith("numpy.")})
    if name.startswith("numpy."):
        return "numpy functions in the subset: " + ", ".join(f"np.{k}" for k in known)
    if name.startswith("math."):
        return "math functions in the subset: " + ", ".join(sorted(c for c in CALLS if c.startswith("math.")))
    if name.split(".")[0] in ("builtins", "eval", "exec", "getattr", "print", "open"):
        return "flat code calls no builtins but abs, max and min"
    return "call numpy/math functions from the subset, flatgen.sigmoid, or a helper defined in this module"
