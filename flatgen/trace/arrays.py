"""Calls that make arrays: how their arguments map onto the rows of rows_arrays.py.

`np.array([a, b])` and `np.stack([x, y], axis=1)` take lists of values (a tuple of atoms while
tracing); `np.arange(N)`, `np.eye(3)`, `np.full((2, 2), 0.5)`, `np.linspace(0, 1, 5)` take constants;
`np.pad` a constant width; `.astype(...)` a type, read from the source (`float`, `np.float32`,
`x.dtype`, `int`).  An integer result (`np.arange(N)`, `.astype(int)`, a list of ints) is an index:
never differentiated, and `np.arange` indexes distinct elements (a write through it is safe).
"""

from __future__ import annotations

import ast

import numpy as np

from ..errors import ShapeError, UnsupportedSyntax
from ..graph import Atom, Lit, Var
from ..primitives import TABLE
from ..rows_arrays import array_op, join_op
from .shared import is_int, is_number

# numpy functions that take a list of values: their handler (a method of ArrayCalls)
BUILDERS = {"numpy.array": "make_array", "numpy.asarray": "make_array", "numpy.stack": "join",
            "numpy.concatenate": "join", "numpy.hstack": "join", "numpy.vstack": "join"}
# numpy functions and methods flatgen does not take, and the nearest spelling it does (the refusal's hint)
NEAREST = {
    "numpy.take": "index the array: x[idx], W[idx] for rows (repeated indices add up in the gradient)",
    "numpy.take_along_axis": "pick one element per row with index arrays: x[np.arange(N), idx]",
    "numpy.column_stack": "np.stack([a, b], axis=1) (vectors), np.concatenate([A, B], axis=1) (matrices)",
    "numpy.dstack": "np.stack([a, b], axis=-1)",
    "numpy.append": "np.concatenate([a, b]) (np.append flattens first: a.ravel())",
    "numpy.split": "slices: x[:k], x[k:]", "numpy.array_split": "slices: x[:k], x[k:]",
    "numpy.tile": "broadcast: x * np.ones(shape), or np.concatenate([x, x])",
    "numpy.repeat": "broadcast: x[:, None] * np.ones(k), then .reshape(-1)",
    "numpy.empty": "np.zeros(shape)", "numpy.empty_like": "np.zeros_like(x)",
    "numpy.diag": "x * np.eye(n) for a vector's diagonal matrix; np.sum(A * np.eye(n), axis=1) for A's diagonal",
    "numpy.diagonal": "np.sum(A * np.eye(n), axis=1), or np.einsum('ii->i', A)",
    "numpy.tril": "np.where(mask, x, 0.0) with a mask passed in (np.tril(np.ones((n, n), dtype=bool)))",
    "numpy.triu": "np.where(mask, x, 0.0) with a mask passed in (np.triu(np.ones((n, n), dtype=bool)))",
    "numpy.flip": "x[::-1] (x[:, ::-1] along axis 1)", "numpy.flipud": "x[::-1]", "numpy.fliplr": "x[:, ::-1]",
    "numpy.roll": "np.concatenate([x[-k:], x[:-k]])",
    "numpy.nonzero": "a mask picks the elements: x[mask]", "numpy.flatnonzero": "a mask picks the elements: x[mask]",
    "numpy.put": "item assignment into a local array: z[idx] = v",
    "numpy.place": "np.where(mask, v, z), or z[mask] = number", "numpy.copyto": "z = np.copy(x)",
    "numpy.add.at": "read the elements instead, x[idx]: flatgen's gradient of x[idx] is np.add.at",
    "numpy.ndarray.item": "float(x) (or x[()] for a 0-d array)",
    "numpy.ndarray.tolist": "index the array, or loop over its rows: for row in x:",
    "numpy.ndarray.fill": "np.full(shape, value), or z[:] = value",
    "numpy.ndarray.sort": "no gradient flows through a sort here: pick elements with np.argmax / index arrays",
    "numpy.ndarray.nonzero": "a mask picks the elements: x[mask]",
    "numpy.ndarray.repeat": "broadcast: x[:, None] * np.ones(k), then .reshape(-1)",
}
# the type an .astype() names -> its row
_CASTS = {"float": "astype_float", "numpy.float64": "astype_float", "numpy.double": "astype_float",
          "builtins.float": "astype_float", "numpy.float32": "astype_float32", "int": "astype_int",
          "builtins.int": "astype_int", "numpy.int64": "astype_int", "numpy.intp": "astype_int",
          "numpy.int32": "astype_int"}


class ArrayCalls:
    """The handlers of the calls that make arrays (mixed into trace/calls.py's Calls)."""

    def make_array(self, c) -> Atom:
        """np.array / np.asarray of (nested) lists or tuples of values; of an array, a copy (np.array) or
        the array itself (np.asarray)."""
        c.takes()
        c.arity(1, 1)
        fn = c.name.removeprefix("numpy.")
        value = c.inputs[0]
        if isinstance(value, Var):
            return value if fn == "asarray" else c.apply(TABLE["array_copy"], (value,))
        if isinstance(value, Lit) and is_number(value.value):
            return value
        nest, leaves = _nested(value.value if isinstance(value, Lit) else value, self.src, c.node)
        shapes = {leaf.shape for leaf in leaves}
        if None in shapes or len(shapes) > 1:
            raise ShapeError(f"np.{fn} of values of shapes {sorted(map(str, shapes))}: numpy needs one shape",
                             self.src.loc(c.node), "give example shapes, and values of the same shape")
        out = c.apply(array_op(fn, nest, shapes.pop()), tuple(leaves))
        if all(isinstance(v, Lit) and is_int(v.value) for v in leaves):
            self.t.ints.add(out)  # np.array([0, 2, 2]): an index
            if len(nest) == 1 and len({v.value for v in leaves}) == len(leaves):
                self.t.expressions.index.distinct.add(out)
        return out

    def join(self, c) -> Atom:
        """np.stack / np.concatenate (axis=) and np.hstack / np.vstack of a list of arrays."""
        kind = c.name.removeprefix("numpy.")
        c.takes(*(("axis",) if kind in ("stack", "concatenate") else ()))
        c.arity(1, 2 if kind in ("stack", "concatenate") else 1)
        axis = c.kwargs.get("axis", c.static(1, "the axis") if len(c.inputs) > 1 else 0)
        pieces = c.inputs[0]
        pieces = tuple(Lit(v) for v in pieces.value) if isinstance(pieces, Lit) and isinstance(pieces.value, tuple) \
            else pieces
        if not isinstance(pieces, tuple) or not pieces or not all(isinstance(p, (Var, Lit)) for p in pieces):
            raise UnsupportedSyntax(f"np.{kind} takes a list of arrays", self.src.loc(c.node),
                                    f"np.{kind}([a, b])")
        if not is_int(axis):
            raise UnsupportedSyntax(f"np.{kind} with axis={axis!r} is not in flatgen's subset", self.src.loc(c.node),
                                    "join along one axis (an int); flatten first for axis=None: a.ravel()")
        shapes = tuple(p.shape for p in pieces)
        if any(s is None for s in shapes):
            raise ShapeError(f"np.{kind} needs known shapes here", self.src.loc(c.node),
                             "give example shapes: flatgen.flat(f, example=(...)), or `shapes` in [tool.flatgen]")
        try:
            op = join_op(kind, axis, shapes)
        except ValueError as e:
            raise ShapeError(str(e), self.src.loc(c.node)) from None
        return c.apply(op, pieces)

    def arange(self, c) -> Atom:
        c.takes()
        c.arity(1, 3)
        args = [c.static(k, "np.arange's arguments") for k in range(len(c.inputs))]
        if not all(is_number(a) for a in args):
            raise UnsupportedSyntax("np.arange takes numbers", self.src.loc(c.node), "np.arange(N), np.arange(0, N, 2)")
        names = {1: ("arange", ("stop",)), 2: ("arange2", ("start", "stop")), 3: ("arange3", ("start", "stop", "step"))}
        row, keys = names[len(args)]
        out = c.apply(TABLE[row], (), **dict(zip(keys, args)))
        if all(is_int(a) for a in args):
            self.t.ints.add(out)  # integers: an index, and each one once (a write through it is safe)
            self.t.expressions.index.distinct.add(out)
        return out

    def linspace(self, c) -> Atom:
        c.takes("num")
        c.arity(2, 3)
        start, stop = c.static(0, "start"), c.static(1, "stop")
        num = c.kwargs.get("num", c.static(2, "num") if len(c.inputs) > 2 else 50)
        if not (is_number(start) and is_number(stop) and is_int(num)):
            raise UnsupportedSyntax("np.linspace takes numbers and an integer count", self.src.loc(c.node),
                                    "np.linspace(0.0, 1.0, 5)")
        return c.apply(c.op, (), start=start, stop=stop, num=num)

    def eye(self, c) -> Atom:
        c.takes("M", "k")
        c.arity(1, 3)
        n = c.static(0, "N")
        m = c.kwargs.get("M", c.static(1, "M"))
        k = c.kwargs.get("k", c.static(2, "k") or 0)
        if not (is_int(n) and (m is None or is_int(m)) and is_int(k)):
            raise UnsupportedSyntax("np.eye takes integers", self.src.loc(c.node), "np.eye(3), np.eye(3, 4)")
        return c.apply(c.op, (), n=n, m=m, k=k)

    def full(self, c) -> Atom:
        c.takes("fill_value")
        c.arity(1, 2)
        shape = c.static(0, "the shape")
        value = c.inputs[1] if len(c.inputs) > 1 else Lit(c.kwargs.get("fill_value"))
        if not isinstance(value, Lit) or not is_number(value.value):
            raise UnsupportedSyntax("np.full of a value computed from data is not in flatgen's subset",
                                    self.src.loc(c.node), "write value * np.ones(shape)")
        shape = (shape,) if is_int(shape) else tuple(shape or ())
        return c.apply(c.op, (), shape=shape, value=value.value)

    def pad(self, c) -> Atom:
        """np.pad(x, pad_width) in constant mode (constant_values= a number)."""
        c.takes("mode", "constant_values")
        c.arity(2, 3)
        x = c.inputs[0]
        width = c.static(1, "pad_width")
        mode = c.kwargs.get("mode", c.static(2, "the mode") if len(c.inputs) > 2 else "constant")
        value = c.kwargs.get("constant_values", 0)
        if mode != "constant" or not is_number(value):
            raise UnsupportedSyntax(f"np.pad with mode={mode!r} is not in flatgen's subset", self.src.loc(c.node),
                                    "pad with a constant: np.pad(x, 1), np.pad(x, ((0, 0), (1, 1)), constant_values=0)")
        shape = self.t.expressions.shape_of(x, c.node)
        pairs = _pad_pairs(width, len(shape))
        if pairs is None:
            raise UnsupportedSyntax(f"np.pad's pad_width {width!r} is not in flatgen's subset", self.src.loc(c.node),
                                    "a width per side: 1, (1, 2), or one (before, after) pair per axis")
        crop = tuple(slice(b or None, -a if a else None) for b, a in pairs)
        return c.apply(c.op, (x,), pad_width=pairs, value=value, crop=crop[0] if len(crop) == 1 else crop)

    def squeeze(self, c) -> Atom:
        c.takes("axis")
        c.arity(1, 2)
        axis = c.kwargs.get("axis", c.static(1, "the axis"))
        return c.apply(c.op, (c.inputs[0],), axis=tuple(axis) if isinstance(axis, list) else axis)

    def astype(self, x: Atom, node: ast.Call, env: dict, hint: str | None) -> Atom:
        """x.astype(float), .astype(np.float32), .astype(y.dtype), .astype(int) (an integer: an index)."""
        if len(node.args) != 1 or node.keywords:
            raise UnsupportedSyntax("`.astype()` takes one type here", self.src.loc(node), _CAST_HINT)
        (arg,) = node.args
        if isinstance(arg, ast.Attribute) and arg.attr == "dtype" and not self.t.names.is_module_path(arg.value, env):
            y = self.expr(arg.value, env, None)
            if not isinstance(y, Var):
                raise UnsupportedSyntax("`.astype(y.dtype)` of a constant y", self.src.loc(node), _CAST_HINT)
            return self.t.expressions.apply(TABLE["astype_like"], (x, y), hint, node)
        name = ast.unparse(arg) if isinstance(arg, ast.Name) and arg.id in ("float", "int") else (
            self.t.names.dotted(arg, env) if isinstance(arg, (ast.Name, ast.Attribute)) else "")
        row = _CASTS.get(name)
        if row is None or not isinstance(x, Var):
            raise UnsupportedSyntax(f"`.astype({ast.unparse(arg)})` is not in flatgen's subset", self.src.loc(node),
                                    _CAST_HINT)
        out = self.t.expressions.apply(TABLE[row], (x,), hint, node)
        if row == "astype_int":
            self.t.ints.add(out)
        return out


_CAST_HINT = "casts here: .astype(float), .astype(np.float32), .astype(x.dtype), .astype(int)"


def _nested(value, src, node) -> tuple[tuple[int, ...], list]:
    """The lengths of nested lists (rectangular) and their values in order."""
    if not isinstance(value, tuple):
        return (), [value if isinstance(value, (Var, Lit)) else Lit(value)]
    if not value:
        raise UnsupportedSyntax("np.array of an empty list", src.loc(node), "use np.zeros(shape)")
    inner = [_nested(v, src, node) for v in value]
    if any(n != inner[0][0] for n, _ in inner):
        raise UnsupportedSyntax("np.array of lists of different lengths", src.loc(node), "each row the same length")
    leaves = [leaf for _, ls in inner for leaf in ls]
    for leaf in leaves:
        if isinstance(leaf, Lit) and not is_number(leaf.value):
            raise UnsupportedSyntax(f"np.array of {leaf.value!r}", src.loc(node), "np.array of numbers and arrays")
    return (len(value),) + inner[0][0], leaves


def _pad_pairs(width, ndim: int):
    """np.pad's pad_width as one (before, after) pair of ints per axis, or None."""
    w = np.asarray(width, dtype=object)
    if w.dtype != object or not all(is_int(v) and v >= 0 for v in w.ravel()):
        return None
    if w.ndim == 0:
        w = np.full((ndim, 2), w.item(), dtype=object)
    elif w.shape in ((1,), (2,), (1, 2)):
        w = np.broadcast_to(np.reshape(w, (1, -1)), (ndim, 2))
    elif w.shape != (ndim, 2):
        return None
    return tuple((int(b), int(a)) for b, a in w.tolist())
