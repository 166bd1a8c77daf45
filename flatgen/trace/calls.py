"""Calls: numpy and math functions map onto rows of the primitive table; helpers are inlined.

A call is one of three things.  A function or method of the subset (`np.sum(x, axis=1)`,
`x.reshape(2, 3)`, `math.exp`, `max(a, b)`) becomes one equation: `dispatch` maps its positional and
keyword arguments onto a table row and its trace-time params.  A module-level helper, or a function
defined inside the traced one (a `Closure`), is inlined: its body is traced where it is called, its
parameters bound as Python binds them, its locals prefixed by its name (`h_t1`).  flat code is
straight-line, so recursion is refused.  `len(x)` is a trace-time constant.
"""

from __future__ import annotations

import ast
from collections import ChainMap

import numpy as np

from .. import fence
from ..errors import NameResolutionError, ShapeError, UnsupportedSyntax
from ..graph import Atom, Lit, Var
from ..primitives import CALLS, METHODS, TABLE, Op
from .shared import Closure, Part, segment

REDUCTIONS = {"sum", "mean", "max", "min"}


class Calls(Part):
    def __init__(self, t):
        super().__init__(t)
        self.stack: list[str] = []  # the traced function, then the helpers being inlined: for recursion

    def call(self, node: ast.Call, env: dict[str, Atom], hint: str | None) -> Atom:
        func = node.func
        args = list(node.args)
        names = self.t.names
        if isinstance(func, ast.Attribute) and not names.is_module_path(func.value, env):
            obj = self.expr(func.value, env, None)  # a method call on a value: x.sum(axis=1)
            name = METHODS.get(func.attr)
            if name is None or not isinstance(obj, Var):
                raise NameResolutionError(
                    f"the method `.{func.attr}()` is not in flatgen's subset", self.src.loc(func),
                    "methods in the subset: " + ", ".join(f".{m}()" for m in METHODS),
                )
            inputs = [obj]
            if name in ("numpy.reshape", "numpy.transpose") and len(args) > 1:  # x.reshape(2, 3)
                inputs.append(Lit(tuple(self.t.expressions.static(a, env, "shape") for a in args)))
                args = []
        elif isinstance(func, ast.Name) and isinstance(env.get(func.id), Closure):
            closure = env[func.id]
            # Called in the function that defined it (a branch of it too): it sees the names as they
            # are now, as a Python closure does.
            scope = env if env is closure.env or closure.env in getattr(env, "maps", ()) else closure.env
            return self.inline(closure.fn, node, env, hint, scope)
        else:
            if isinstance(func, ast.Name) and func.id in env:
                raise NameResolutionError(
                    f"`{func.id}` is a value here (a parameter or a local variable), not a function",
                    self.src.loc(func), f"rename the value, or the module-level function {func.id}()",
                )
            name = names.dotted(func, env)
            helper = self.src.functions.get(name) if "." not in name else None
            if helper is not None:
                return self.inline(helper, node, env, hint)
            inputs = []
        if name == "builtins.len":
            if len(args) != 1 or node.keywords:
                raise UnsupportedSyntax("len() takes one array", self.src.loc(node))
            shape = self.t.expressions.shape_of(self.expr(args[0], env, None), node)
            if not shape:
                raise ShapeError("len() of a scalar", self.src.loc(node), "len() takes an array")
            return Lit(shape[0])
        op = CALLS.get(name)
        if op is None:
            raise NameResolutionError(
                f"`{ast.unparse(func)}` ({name}) is not a function flatgen can differentiate",
                self.src.loc(func), _call_hint(name),
            )
        inputs += [self.expr(a, env, None) for a in args]
        kwargs = {k.arg: self.t.expressions.static(k.value, env, f"`{k.arg}=`") for k in node.keywords}
        return self.dispatch(op, inputs, kwargs, hint, node)

    def dispatch(self, op: Op, inputs: list[Atom], kwargs: dict, hint: str | None, node: ast.Call) -> Atom:
        """Map a numpy-style call (positional and keyword arguments) onto a table row and its params."""
        family = op.name
        exprs = self.t.expressions

        def takes(*names):
            unknown = [k for k in node.keywords if k.arg not in names]
            if unknown:
                raise UnsupportedSyntax(
                    f"`{ast.unparse(node.func)}` takes no keyword argument `{unknown[0].arg}=` in flatgen's subset",
                    self.src.loc(unknown[0]), f"keyword arguments here: {', '.join(names) or 'none'}")

        def static_arg(i, what):
            if len(inputs) <= i:
                return None
            if not isinstance(inputs[i], Lit):
                raise UnsupportedSyntax(f"{what} must be a constant", self.src.loc(node), "write the number(s) in")
            return inputs[i].value

        if family in REDUCTIONS:
            takes("axis", "keepdims")
            self._arity(node, inputs, 1, 2)
            axis = kwargs.get("axis", static_arg(1, "the axis"))
            keepdims = bool(kwargs.get("keepdims", False))
            x = inputs[0]
            all_axes = axis is None or (x.shape is not None and len(_axes(axis)) == len(x.shape))
            row = family if keepdims or all_axes else f"{family}_axis"
            return exprs.apply(TABLE[row], (x,), hint, node, axis=_tuple_axis(axis), keepdims=keepdims)
        if family == "reshape":
            takes("shape", "newshape")
            self._arity(node, inputs, 1, 2)
            shape = kwargs.get("shape", kwargs.get("newshape", static_arg(1, "the shape")))
            shape = (shape,) if isinstance(shape, int) else tuple(shape or ())
            return exprs.apply(op, (inputs[0],), hint, node, shape=shape)
        if family == "transpose":
            takes("axes")
            self._arity(node, inputs, 1, 2)
            axes = kwargs.get("axes", static_arg(1, "the axes"))
            if axes is None:
                return exprs.apply(TABLE["T"], (inputs[0],), hint, node)
            axes = tuple(axes)
            inverse = tuple(int(i) for i in np.argsort(axes))
            return exprs.apply(op, (inputs[0],), hint, node, axes=axes, inverse=inverse)
        if family == "expand_dims":
            takes("axis")
            self._arity(node, inputs, 1, 2)
            axis = kwargs.get("axis", static_arg(1, "the axis"))
            return exprs.apply(op, (inputs[0],), hint, node, axis=_tuple_axis(axis))
        if family in ("zeros", "ones"):
            takes("shape")
            shape = kwargs.get("shape", static_arg(0, "the shape"))
            shape = (shape,) if isinstance(shape, int) else tuple(shape or ())
            return exprs.apply(op, (), hint, node, shape=shape)
        takes()
        n = len(op.expr.slots)
        if family == "pow":  # np.power(x, 0) is x ** 0
            self._arity(node, inputs, 2, 2)
            return exprs.binop(ast.Pow(), inputs[0], inputs[1], hint, node)
        if family == "matmul":  # np.dot / np.matmul: the row depends on the operands' ranks
            self._arity(node, inputs, 2, 2)
            return exprs.matmul(inputs[0], inputs[1], hint, node)
        self._arity(node, inputs, n, n)
        return exprs.apply(op, tuple(inputs), hint, node)

    def _arity(self, node: ast.Call, inputs, low: int, high: int) -> None:
        if not low <= len(inputs) <= high:
            want = str(low) if low == high else f"{low} to {high}"
            raise UnsupportedSyntax(
                f"`{ast.unparse(node.func)}` takes {want} argument(s) here, got {len(inputs)}", self.src.loc(node),
                "max(a, b) and min(a, b) take exactly two values (np.max(x) reduces an array)"
                if ast.unparse(node.func) in ("max", "min") else "pass the arguments the numpy function takes",
            )

    # -- helpers, inlined ------------------------------------------------------------------------

    def inline(self, fn: ast.FunctionDef, call: ast.Call, env: dict[str, Atom], hint: str | None,
               enclosing: dict | None = None) -> Atom:
        if fn.name in self.stack:
            chain = " -> ".join([*self.stack, fn.name])
            raise UnsupportedSyntax(
                f"recursion is not in flatgen's subset ({chain})", self.src.loc(call),
                "flat code is straight-line: write the recursion out as a fixed number of steps",
            )
        fence.check_function(self.src, fn, helper=True)
        bound = self.bind_call(fn, call, env)
        self.t.hashed.append(segment(self.src, fn))
        self.stack.append(fn.name)
        self.t.views.callers.append(env)
        try:
            scope = bound if enclosing is None else ChainMap(bound, enclosing)  # writes stay local
            with self.emit.elsewhere():
                result = self.t.statements.body(fn, scope, f"{fn.name}_", hint or f"{fn.name}_out")
        finally:
            self.stack.pop()
            self.t.views.callers.pop()
        return result

    def bind_call(self, fn: ast.FunctionDef, call: ast.Call, env: dict) -> dict:
        """A helper's parameters bound as Python binds them: by position, by keyword, else the default."""
        a = fn.args
        positional = [p.arg for p in a.posonlyargs + a.args]
        keyword_only = [p.arg for p in a.kwonlyargs]
        usage = f"call it as {fn.name}({', '.join(positional + [f'{k}=...' for k in keyword_only])})"
        if len(call.args) > len(positional):
            raise UnsupportedSyntax(f"{fn.name}() takes {len(positional)} positional argument(s), "
                                    f"got {len(call.args)}", self.src.loc(call), usage)
        bound = {p: self.expr(v, env, None) for p, v in zip(positional, call.args)}
        for kw in call.keywords:
            if kw.arg not in positional + keyword_only:
                raise UnsupportedSyntax(f"{fn.name}() has no parameter `{kw.arg}`", self.src.loc(kw), usage)
            if kw.arg in bound:
                raise UnsupportedSyntax(f"{fn.name}() got `{kw.arg}` twice", self.src.loc(kw), usage)
            bound[kw.arg] = self.expr(kw.value, env, None)
        defaults = dict(zip(positional[len(positional) - len(a.defaults):], a.defaults))
        defaults |= {k: d for k, d in zip(keyword_only, a.kw_defaults) if d is not None}
        for p in positional + keyword_only:
            if p not in bound:
                if p not in defaults:
                    raise UnsupportedSyntax(f"{fn.name}() is missing the argument `{p}`", self.src.loc(call), usage)
                with self.emit.elsewhere():  # evaluated where Python evaluates it: the module
                    bound[p] = self.expr(defaults[p], {}, None)
                self.t.views.default(bound[p])
        return bound


def _axes(axis) -> tuple:
    return (axis,) if isinstance(axis, int) else tuple(axis)


def _tuple_axis(axis):
    """Axis params as numpy takes them: None, an int, or a tuple of ints."""
    return tuple(axis) if isinstance(axis, list) else axis


def _call_hint(name: str) -> str:
    known = sorted({c.split(".")[-1] for c in CALLS if c.startswith("numpy.")})
    if name.startswith("numpy."):
        return "numpy functions in the subset: " + ", ".join(f"np.{k}" for k in known)
    if name.startswith("math."):
        return "math functions in the subset: " + ", ".join(sorted(c for c in CALLS if c.startswith("math.")))
    if name.split(".")[0] in ("builtins", "eval", "exec", "getattr", "print", "open"):
        return "flat code calls no builtins but abs, max, min and len"
    return "call numpy/math functions from the subset, flatgen.sigmoid, or a helper defined in this module"
