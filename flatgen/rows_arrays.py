"""Rows of the primitive table for making arrays: from values, by joining arrays, as constants, by
laying one out again, and the copies and casts numpy code writes.

- `np.array([a, b, c])` (nested lists and tuples too, `np.asarray` alike): `array_op`, one row per
  nesting; each value gets the gradient of its own element (`g[1]`, `g[0, 2]`).
- `np.stack`, `np.concatenate`, `np.hstack`, `np.vstack`: `join_op`, one row per kind, axis and
  shapes; each piece gets its part of the gradient back (`g[:, 2:5]`), laid out as the piece was.
- `np.arange`, `np.linspace`, `np.eye`, `np.full` of constants: constants, no gradient.  An integer
  `np.arange(N)` indexes (`x[np.arange(N), y]`).
- `np.atleast_1d/2d/3d`, `.ravel()`, `.flatten()`, `np.squeeze`: the gradient laid back out the way x was.
- `np.pad` (constant mode): the gradient of the padding is dropped, the rest goes back to x.
- `.copy()` / `np.copy` / `np.array(x)`, `.astype(float)` / `.astype(x.dtype)`: the gradient passes
  through; `.astype(int)` has none (an integer, usable as an index).
"""

from __future__ import annotations

import ast
import functools

from . import shapes as S
from .expr import Expr, constant
from .op import Op, prim

_LAYOUT = "np.reshape(g, np.shape(x))"


def _view(op: Op) -> Op:
    """A row whose forward numpy may return as a view of its input (in-place writes must know)."""
    op.expr.fresh = False
    return op


def _const(name: str, forward: str, calls, shape, params: dict) -> Op:
    return prim(name, "", forward, (), "const", calls, shape, params, elementwise=False)


ARRAY_ROWS = [
    # Laid back out the way x was.
    _view(prim("atleast_1d", "x", "np.atleast_1d(x)", (_LAYOUT,), "layout", ["numpy.atleast_1d"],
               functools.partial(S.atleast, ndim=1), elementwise=False, tangent="linear")),
    _view(prim("atleast_2d", "x", "np.atleast_2d(x)", (_LAYOUT,), "layout", ["numpy.atleast_2d"],
               functools.partial(S.atleast, ndim=2), elementwise=False, tangent="linear")),
    _view(prim("atleast_3d", "x", "np.atleast_3d(x)", (_LAYOUT,), "layout", ["numpy.atleast_3d"],
               functools.partial(S.atleast, ndim=3), elementwise=False, tangent="linear")),
    _view(prim("ravel", "x", "np.ravel(x)", (_LAYOUT,), "layout", ["numpy.ravel"],
               lambda x, **_: None if x is None else (S.size_of(x),), elementwise=False, tangent="linear")),
    prim("flatten", "x", "x.flatten()", (_LAYOUT,), "layout", ["numpy.ndarray.flatten"],
         lambda x, **_: None if x is None else (S.size_of(x),), elementwise=False, tangent="linear"),
    _view(prim("squeeze", "x", "np.squeeze(x, axis=axis)", (_LAYOUT,), "layout", ["numpy.squeeze"], S.squeeze,
               {"axis": None}, elementwise=False, tangent="linear")),
    # np.pad(x, pad_width, constant_values=c): the padding is constant; `crop` cuts it off the gradient.
    prim("pad", "x", "np.pad(x, pad_width, constant_values=value)", ("g[crop]",), "pad", ["numpy.pad"], S.pad,
         {"pad_width": (), "value": 0, "crop": ()}, elementwise=False,
         tangent=("np.pad(t, pad_width)",)),
    # Copies and casts: the gradient passes through (an integer cast has none).
    prim("array_copy", "x", "np.copy(x)", ("g",), "assign", ["numpy.copy"], S.same, elementwise=False,
         tangent="linear"),
    prim("astype_float", "x", "x.astype(float)", ("g",), "assign", ["numpy.ndarray.astype"], S.same,
         elementwise=False, tangent="linear"),
    prim("astype_float32", "x", "x.astype(np.float32)", ("g",), "assign", (), S.same, elementwise=False,
         tangent="linear"),
    prim("astype_like", "x y", "x.astype(y.dtype)", ("g", None), "assign", (), lambda x, y, **_: x,
         elementwise=False, tangent="linear"),
    prim("astype_int", "x", "x.astype(np.int64)", (None,), "step", (), S.same, elementwise=False),
    # Constants: no inputs, no gradient.
    _const("arange", "np.arange(stop)", ["numpy.arange"], lambda **p: S.arange(0, p["stop"]), {"stop": 0}),
    _const("arange2", "np.arange(start, stop)", (), lambda **p: S.arange(p["start"], p["stop"]),
           {"start": 0, "stop": 0}),
    _const("arange3", "np.arange(start, stop, step)", (), S.arange, {"start": 0, "stop": 0, "step": 1}),
    _const("linspace", "np.linspace(start, stop, num)", ["numpy.linspace"], S.linspace,
           {"start": 0.0, "stop": 0.0, "num": 50}),
    _const("eye", "np.eye(n, M=m, k=k)", ["numpy.eye"], S.eye, {"n": 0, "m": None, "k": 0}),
    _const("full", "np.full(shape, value)", ["numpy.full"], S.fixed, {"shape": (), "value": 0.0}),
]
# Array methods -> the numpy function they mean.
ARRAY_METHODS = {"copy": "numpy.copy", "ravel": "numpy.ravel", "flatten": "numpy.ndarray.flatten",
                 "squeeze": "numpy.squeeze", "astype": "numpy.ndarray.astype"}


def _subscript(idx) -> str:
    return ast.unparse(ast.Subscript(ast.Name("g", ast.Load()), constant(idx), ast.Load()))


@functools.cache
def array_op(fn: str, nest: tuple[int, ...], item: tuple[int, ...]) -> Op:
    """np.array / np.asarray of nested lists, `nest` their lengths, each value of shape `item`: value k
    gets the gradient of its own element, g[i, j]."""
    n = 1
    for d in nest:
        n *= d
    slots = tuple(f"x{k}" for k in range(n))
    it = iter(slots)

    def text(level: int) -> str:
        return "[" + ", ".join(next(it) if level == len(nest) - 1 else text(level + 1)
                               for _ in range(nest[level])) + "]"

    positions = [()]
    for d in nest:
        positions = [p + (i,) for p in positions for i in range(d)]
    rules = tuple(Op(f"array.d{s}", Expr(_subscript(p[0] if len(p) == 1 else p), ("g", "out", *slots)), "array",
                     elementwise=False) for s, p in zip(slots, positions))
    shape = nest + tuple(item)
    return Op("array", Expr(f"np.{fn}({text(0)})", slots), "array", rules, shape=lambda *_, **__: shape,
              elementwise=False, tangent="linear")


@functools.cache
def join_op(kind: str, axis: int, shapes: tuple) -> Op:
    """np.stack / np.concatenate / np.hstack / np.vstack of pieces of these shapes: piece k gets its part
    of the gradient (`g[:, 2:5]`, `g[1]`), laid out as the piece was."""
    out = S.join(*shapes, kind=kind, axis=axis)
    slots = tuple(f"x{k}" for k in range(len(shapes)))
    if kind in ("hstack", "vstack"):
        pieces = [S.atleast(s, 1 if kind == "hstack" else 2) for s in shapes]
        k = 0 if kind == "vstack" or len(pieces[0]) == 1 else 1
        forward = f"np.{kind}([{', '.join(slots)}])"
    else:
        pieces = list(shapes)
        k = S.normalize_axis(axis, len(out))[0]
        forward = f"np.{kind}([{', '.join(slots)}]{f', axis={axis}' if axis else ''})"
    rules, start = [], 0
    for slot, piece, shape in zip(slots, pieces, shapes):
        if kind == "stack":
            part = _subscript((slice(None),) * k + (start,) if k else start)
            start += 1
        else:
            cut = slice(start, start + piece[k])
            part = _subscript((slice(None),) * k + (cut,) if k else cut)
            start += piece[k]
        rule = part
        if kind != "stack" and tuple(piece) != tuple(shape):
            rule = f"np.reshape({part}, np.shape({slot}))"
        rules.append(Op(f"{kind}.d{slot}", Expr(rule, ("g", "out", *slots)), "join", elementwise=False))
    return Op(kind, Expr(forward, slots), "join", tuple(rules), shape=lambda *_, **__: out, elementwise=False,
              tangent="linear")
