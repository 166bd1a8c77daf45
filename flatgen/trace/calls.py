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
from ..rows_linalg import dot_subscripts, einsum_row, matmul_row
from ..rows_numpy import cumsum_row
from .arrays import BUILDERS, NEAREST, ArrayCalls
from .builtins import SEQUENCE_BUILTINS
from .shared import Closure, Part, is_int, is_number, segment

REDUCTIONS = {"sum", "mean", "max", "min", "var", "std", "prod"}


class Calls(ArrayCalls, Part):
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
            if name == "numpy.ndarray.astype" and isinstance(obj, Var):  # its argument is a type (arrays.py)
                return self.astype(obj, node, env, hint)
            if name is None or not isinstance(obj, Var):
                raise NameResolutionError(
                    f"the method `.{func.attr}()` is not in flatgen's subset", self.src.loc(func),
                    NEAREST.get(f"numpy.ndarray.{func.attr}")
                    or "methods in the subset: " + ", ".join(f".{m}()" for m in METHODS),
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
        if name == "builtins.range":  # as a value (x[range(N), y]): the integers np.arange(N) makes (arrays.py)
            inputs = [self.expr(a, env, None) for a in args]
            return self.arange(_Call(self, TABLE["arange"], inputs, {}, hint, node, name))
        if name in SEQUENCE_BUILTINS:  # len, sum, max, min, list, tuple, print (trace/builtins.py)
            return self.t.builtins.call(name, node, env, hint)
        if name == "numpy.einsum":  # np.einsum('ij,jk->ik', A, B): a row per subscripts and shapes
            call = _Call(self, None, [], {}, hint, node, name)
            call.takes("optimize")  # numpy's choice of contraction order: the same sum, in flatgen numpy's default
            spec = self.expr(args[0], env, None) if args else None
            if not isinstance(spec, Lit) or not isinstance(spec.value, str):
                raise UnsupportedSyntax("np.einsum's first argument must be its subscripts, a string",
                                        self.src.loc(node), "np.einsum('ij,jk->ik', A, B)")
            return self.einsum_of(call, spec.value, [self.number(self.expr(a, env, None), a) for a in args[1:]])
        if name in BUILDERS:  # np.array([a, b]), np.stack([x, y], axis=1): a list of values (arrays.py)
            if any(k.arg == "dtype" for k in node.keywords):
                raise UnsupportedSyntax(f"`{ast.unparse(func)}(..., dtype=...)` is not in flatgen's subset",
                                        self.src.loc(node), "numbers stay floats: drop dtype=, or cast the result "
                                        "with .astype(float) / .astype(np.float32)")
            inputs += [self.expr(a, env, None) for a in args]
            kwargs = {k.arg: self.t.expressions.static(k.value, env, f"`{k.arg}=`") for k in node.keywords}
            return getattr(self, BUILDERS[name])(_Call(self, None, inputs, kwargs, hint, node, name))
        op = CALLS.get(name)
        if op is None:
            raise NameResolutionError(
                f"`{ast.unparse(func)}` ({name}) is not a function flatgen can differentiate",
                self.src.loc(func), _call_hint(name),
            )
        inputs += [self.expr(a, env, None) for a in args]
        values = VALUE_KEYWORDS.get(op.name, ())  # keywords that take values, not constants: np.clip's bounds
        kwargs = {k.arg: self.number(self.expr(k.value, env, None), k.value) if k.arg in values
                  else self.t.expressions.static(k.value, env, f"`{k.arg}=`") for k in node.keywords}
        return self.dispatch(op, inputs, kwargs, hint, node, name)

    def dispatch(self, op: Op, inputs: list[Atom], kwargs: dict, hint: str | None, node: ast.Call,
                 name: str = "") -> Atom:
        """Map a numpy-style call (positional and keyword arguments) onto a table row and its params."""
        family = op.name
        call = _Call(self, op, inputs, kwargs, hint, node, name)
        handler = _FAMILIES.get(family)
        if handler is not None:
            return getattr(self, handler)(call)
        call.takes()
        n = len(op.expr.slots)
        if family == "pow":  # np.power(x, 0) is x ** 0
            call.arity(2, 2)
            return self.t.expressions.binop(ast.Pow(), inputs[0], inputs[1], hint, node)
        call.arity(n, n)
        return call.apply(op, tuple(inputs))

    # -- families of calls: how their arguments map onto rows and params ----------------------------------

    def reduce(self, c: "_Call") -> Atom:
        """np.sum & co.: axis=, keepdims= (and ddof= for var and std); one row when the reduced axes are
        kept, another when they are dropped."""
        c.takes("axis", "keepdims", *(("ddof",) if c.op.name in ("var", "std") else ()))
        c.arity(1, 2)
        axis = c.kwargs.get("axis", c.static(1, "the axis"))
        x = c.inputs[0]
        if isinstance(x, Lit) and isinstance(x.value, tuple):  # np.prod(x.shape[1:]): a number now
            return Lit(_item(c.op(np.array(x.value), axis=_tuple_axis(axis))))
        params = {"axis": _tuple_axis(axis), "keepdims": bool(c.kwargs.get("keepdims", False))}
        if c.op.name in ("var", "std"):
            params["ddof"] = c.kwargs.get("ddof", 0)
        return c.apply(TABLE[c.row(c.op.name, axis, params["keepdims"])], (x,), **params)

    def norm(self, c: "_Call") -> Atom:
        """np.linalg.norm(x, ord, axis, keepdims): the 2-norm (vectors) or Frobenius norm (matrices),
        the 1- and inf-norms of vectors."""
        c.takes("ord", "axis", "keepdims")
        c.arity(1, 4)
        ord_ = c.kwargs.get("ord", c.static(1, "ord"))
        axis = c.kwargs.get("axis", c.static(2, "the axis"))
        keepdims = bool(c.kwargs.get("keepdims", c.static(3, "keepdims") or False))
        x = c.inputs[0]
        if ord_ is not None and x.shape is None:
            raise ShapeError("np.linalg.norm with ord= needs to know whether x is a vector or a matrix",
                             self.src.loc(c.node), "give example shapes: flatgen.flat(f, example=(...))")
        vector = x.shape is not None and (len(x.shape) == 1 if axis is None else isinstance(axis, int)
                                          or len(axis) == 1)
        matrix = x.shape is not None and (len(x.shape) == 2 if axis is None else not isinstance(axis, int)
                                          and len(axis) == 2)
        rows = {None: "norm", 2: "norm" if vector else None, "fro": "norm" if matrix else None,
                1: "norm1" if vector else None, np.inf: "norminf" if vector else None}
        name = rows.get(ord_) if isinstance(ord_, (str, type(None))) or is_number(ord_) else None
        if name is None or (axis is not None and not isinstance(axis, int) and len(axis) > 2):
            error = ShapeError if self.t.assumed else UnsupportedSyntax  # a shape assumed 0-d: wait for the real one
            raise error(
                f"np.linalg.norm with ord={ord_!r} of {'a vector' if vector else 'this array'} is not in the subset",
                self.src.loc(c.node), "norms here: the 2-norm and Frobenius norm (no ord=), and ord=1, ord=np.inf of "
                "vectors (axis= an int for rows or columns)")
        return c.apply(TABLE[c.row(name, axis, keepdims)], (x,), axis=_tuple_axis(axis), keepdims=keepdims)

    def cumsum(self, c: "_Call") -> Atom:
        c.takes("axis")
        c.arity(1, 2)
        axis = c.kwargs.get("axis", c.static(1, "the axis"))
        if axis is not None and not is_int(axis):
            raise UnsupportedSyntax("np.cumsum takes one axis (an int)", self.src.loc(c.node), "axis=0, or none")
        x = c.inputs[0]
        row, params = cumsum_row(x.shape, axis)  # the row and flip lowering picks too
        return c.apply(TABLE[row], (x,), **params)

    def arg_reduce(self, c: "_Call") -> Atom:
        """np.argmax / np.argmin: no gradient; an integer, usable as an index (x[np.argmax(x)])."""
        c.takes("axis", "keepdims")
        c.arity(1, 2)
        axis = c.kwargs.get("axis", c.static(1, "the axis"))
        if axis is not None and not is_int(axis):
            raise UnsupportedSyntax(f"np.{c.op.name} takes one axis (an int)", self.src.loc(c.node), "axis=0, or none")
        out = c.apply(c.op, (c.inputs[0],), axis=axis, keepdims=bool(c.kwargs.get("keepdims", False)))
        if isinstance(out, Var):
            self.t.ints.add(out)  # an index (or index array): x[i] reads the element, never differentiated
        return out

    def clip(self, c: "_Call") -> Atom:
        """np.clip(x, lo, hi), x.clip(min=...): with a bound of None, np.maximum / np.minimum."""
        c.takes("a_min", "a_max", "min", "max")
        c.arity(1, 3)
        x, *bounds = c.inputs
        bounds += [None] * (2 - len(bounds))
        for k, names in enumerate((("a_min", "min"), ("a_max", "max"))):
            for name in names:
                if name in c.kwargs:
                    bounds[k] = c.kwargs[name]  # a value (np.clip(x, a_min=lo)), or Lit(None)
        lo, hi = (None if b is None or (isinstance(b, Lit) and b.value is None) else b for b in bounds)
        if lo is None and hi is None:
            raise UnsupportedSyntax("np.clip with no bound", self.src.loc(c.node), "give a_min, a_max or both")
        if lo is None or hi is None:
            return c.apply(TABLE["minimum" if lo is None else "maximum"], (x, hi if lo is None else lo))
        return c.apply(c.op, (x, lo, hi))

    def round(self, c: "_Call") -> Atom:
        c.takes("decimals")
        c.arity(1, 2)
        decimals = c.kwargs.get("decimals", c.static(1, "decimals") or 0)
        return c.apply(c.op, (c.inputs[0],), decimals=decimals)

    def product(self, c: "_Call") -> Atom:
        """np.matmul, np.dot, x.dot(y): the row from the operands' ranks (np.dot of a scalar multiplies;
        np.dot of stacks is a sum over a's last axis and b's second-to-last: an einsum)."""
        c.takes()
        c.arity(2, 2)
        a, b = c.inputs
        if c.name == "numpy.dot":
            if a.shape == () or b.shape == ():
                return self.t.expressions.binop(ast.Mult(), a, b, c.hint, c.node)
            if a.shape is not None and b.shape is not None and len(a.shape) >= 2 and len(b.shape) >= 3:
                return self.einsum_of(c, dot_subscripts(len(a.shape), len(b.shape)), [a, b])
        row, params = matmul_row(a.shape, b.shape)
        return c.apply(TABLE[row], (a, b), **params)

    def einsum_of(self, c: "_Call", spec: str, operands: list) -> Atom:
        if any(x.shape is None for x in operands):
            raise ShapeError("np.einsum needs known shapes here", self.src.loc(c.node),
                             "give example shapes: flatgen.flat(f, example=(...)), or `shapes` in [tool.flatgen]")
        try:
            kind, row = einsum_row(spec, tuple(x.shape for x in operands))
        except ValueError as e:
            if any(isinstance(x, Var) and x.role == "param" and x.hint in self.t.assumed for x in operands):
                # a parameter only assumed a scalar (no example= yet): wait for the first call's shapes
                raise ShapeError(str(e), self.src.loc(c.node), "give example shapes: flatgen.flat(f, example=(...)), "
                                 "or `shapes` in [tool.flatgen]") from None
            raise UnsupportedSyntax(str(e), self.src.loc(c.node), "write the subscripts out, one letter per axis: "
                                    "np.einsum('ij,jk->ik', A, B)") from None
        if kind == "transpose":
            return c.apply(TABLE["transpose"], (operands[0],), axes=row,
                           inverse=tuple(int(i) for i in np.argsort(row)))
        return c.apply(row, tuple(operands))

    def trace_call(self, c: "_Call") -> Atom:
        c.takes()
        c.arity(1, 1)
        a = c.inputs[0]
        shape = self.t.expressions.shape_of(a, c.node)
        n, m = shape if len(shape) == 2 else (0, 0)  # the shape rule refuses other ranks
        return c.apply(c.op, (a,), n=n, m=m)

    def solve(self, c: "_Call") -> Atom:
        c.takes()
        c.arity(2, 2)
        a, b = c.inputs
        return c.apply(TABLE["solve_m" if b.shape is not None and len(b.shape) == 2 else "solve"], (a, b))

    def slogdet(self, c: "_Call") -> Atom:
        """sign, logabsdet = np.linalg.slogdet(A): a tuple, while tracing (unpacked or indexed)."""
        c.takes()
        c.arity(1, 1)
        return (c.apply(TABLE["slogdet_sign"], (c.inputs[0],), hint=None),
                c.apply(c.op, (c.inputs[0],), hint=None))

    def reshape(self, c: "_Call") -> Atom:
        c.takes("shape", "newshape")
        c.arity(1, 2)
        shape = c.kwargs.get("shape", c.kwargs.get("newshape", c.static(1, "the shape")))
        shape = (shape,) if isinstance(shape, int) else tuple(shape or ())
        return c.apply(c.op, (c.inputs[0],), shape=shape)

    def transpose(self, c: "_Call") -> Atom:
        c.takes("axes")
        c.arity(1, 2)
        axes = c.kwargs.get("axes", c.static(1, "the axes"))
        if axes is None:
            return c.apply(TABLE["T"], (c.inputs[0],))
        axes = tuple(axes)
        return c.apply(c.op, (c.inputs[0],), axes=axes, inverse=tuple(int(i) for i in np.argsort(axes)))

    def expand_dims(self, c: "_Call") -> Atom:
        c.takes("axis")
        c.arity(1, 2)
        return c.apply(c.op, (c.inputs[0],), axis=_tuple_axis(c.kwargs.get("axis", c.static(1, "the axis"))))

    def filled(self, c: "_Call") -> Atom:
        """np.zeros(shape), np.ones(shape)."""
        c.takes("shape")
        shape = c.kwargs.get("shape", c.static(0, "the shape"))
        shape = (shape,) if isinstance(shape, int) else tuple(shape or ())
        return c.apply(c.op, (), shape=shape)

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


class _Call:
    """One call being dispatched: its row, arguments, keyword arguments (constants), and where it is."""

    def __init__(self, calls: Calls, op: Op | None, inputs: list, kwargs: dict, hint, node: ast.Call, name: str):
        self.calls, self.op, self.inputs, self.kwargs, self.hint, self.node, self.name = (
            calls, op, inputs, kwargs, hint, node, name)

    def takes(self, *names) -> None:
        unknown = [k for k in self.node.keywords if k.arg not in names]
        if unknown:
            raise UnsupportedSyntax(
                f"`{ast.unparse(self.node.func)}` takes no keyword argument `{unknown[0].arg}=` in flatgen's subset",
                self.calls.src.loc(unknown[0]), f"keyword arguments here: {', '.join(names) or 'none'}")

    def arity(self, low: int, high: int) -> None:
        self.calls._arity(self.node, self.inputs, low, high)

    def static(self, i: int, what: str):
        """Positional argument i, which must be a constant (None when it is not given)."""
        if len(self.inputs) <= i:
            return None
        if not isinstance(self.inputs[i], Lit):
            raise UnsupportedSyntax(f"{what} must be a constant", self.calls.src.loc(self.node),
                                    "write the number(s) in")
        return self.inputs[i].value

    def row(self, name: str, axis, keepdims: bool) -> str:
        """`name` when the reduced axes stay (keepdims, or every axis), else `name_axis`."""
        x = self.inputs[0]
        every = axis is None or (x.shape is not None and len(_axes(axis)) == len(x.shape))
        return name if keepdims or every else f"{name}_axis"

    def apply(self, op: Op, ins: tuple, hint: str | None | bool = False, **params) -> Atom:
        return self.calls.t.expressions.apply(op, ins, self.hint if hint is False else hint, self.node, **params)


# Families of calls whose arguments need more than a positional mapping: the handler of each (a method of Calls).
# Keyword arguments that are values (traced like positional ones), by row; every other keyword is a constant.
VALUE_KEYWORDS = {"clip": ("a_min", "a_max", "min", "max")}

_FAMILIES = {**dict.fromkeys(REDUCTIONS, "reduce"), "norm": "norm", "cumsum": "cumsum", "argmax": "arg_reduce",
             "argmin": "arg_reduce", "clip": "clip", "round": "round", "matmul": "product", "trace": "trace_call",
             "solve": "solve", "slogdet": "slogdet", "reshape": "reshape", "transpose": "transpose",
             "expand_dims": "expand_dims", "zeros": "filled", "ones": "filled",
             # making arrays (arrays.py)
             "arange": "arange", "linspace": "linspace", "eye": "eye", "full": "full", "pad": "pad",
             "squeeze": "squeeze"}


def _item(value):
    return value.item() if isinstance(value, np.generic) else value


def _axes(axis) -> tuple:
    return (axis,) if isinstance(axis, int) else tuple(axis)


def _tuple_axis(axis):
    """Axis params as numpy takes them: None, an int, or a tuple of ints."""
    return tuple(axis) if isinstance(axis, list) else axis


def _call_hint(name: str) -> str:
    if name in NEAREST:
        return NEAREST[name]
    if name.startswith("numpy.random."):
        return "flat code is deterministic: draw random values (a dropout mask, noise) outside and pass them in"
    known = sorted({c.removeprefix("numpy.") for c in CALLS if c.startswith("numpy.")} | {"einsum"} |
                   {b.removeprefix("numpy.") for b in BUILDERS})
    if name.startswith("numpy."):
        return "numpy functions in the subset: " + ", ".join(f"np.{k}" for k in known)
    if name.startswith("math."):
        return "math functions in the subset: " + ", ".join(sorted(c for c in CALLS if c.startswith("math.")))
    if name.split(".")[0] in ("builtins", "eval", "exec", "getattr", "print", "open"):
        return "flat code calls no builtins but abs, max, min and len"
    return "call numpy/math functions from the subset, flatgen.sigmoid, or a helper defined in this module"
