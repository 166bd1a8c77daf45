"""Indexing: `x[idx]` read, and `z[idx] = v` written into a local array.

An index is read position by position.  Constants (`0`, `1:3`, `None`, `np.newaxis`, `...`) make a
basic index, the row `index`; run-time integers (a rolled loop's index, an integer parameter) make
`index_at`; index arrays make `take` ("fancy" indexing): an array of integers (`np.arange(N)`, labels
`y`, `np.argmax(...)`), a boolean mask (`x > 0`), a constant list (`[0, 2]`).  A parameter used as an
index is data: an integer (or integer array), never differentiated.

A write makes a new version of the array (rows_index.py).  The value may broadcast into the slot
(`h[0] = a`, `z[1:] = 0.0`): its gradient is summed back.  Through index arrays a write must hit
distinct elements (numpy keeps only one of repeated writes, and which one is not a gradient anyone
wants): flatgen accepts index arrays it knows are distinct (`z[np.arange(N), y]`, a mask, a constant
list without repeats) and refuses the others.
"""

from __future__ import annotations

import ast

import numpy as np

from .. import shapes
from ..errors import ShapeError, UnsupportedSyntax
from ..graph import Atom, Lit, Var
from ..primitives import SETITEM, TABLE, constant, index_at, setitem_at
from ..rows_index import SETITEM_KEEP, SETITEM_SUM, take
from .shared import Part, is_int

_HINT = "index with constants, slices, None, ..., integers (a loop's index, an int parameter), integer arrays " \
        "(np.arange(N), labels y) or a boolean mask (x > 0)"


class Index:
    """An index read from the source: `sig` (rows_index's spelling), the run-time inputs, and for a
    constant index its value."""

    def __init__(self, sig: tuple, ints: tuple, value=None, shape_idx=None, constant: bool = False):
        self.sig, self.ints, self.value, self.shape_idx, self.constant = sig, ints, value, shape_idx, constant

    @property
    def fancy(self) -> bool:
        """Index arrays (integers, a mask, a constant list): `take`, not basic indexing."""
        return any(p in ("@", "?") or p.startswith("[") for p in self.sig)


class Indexing(Part):
    def __init__(self, t):
        super().__init__(t)
        self.masks: set[Var] = set()  # boolean arrays (comparisons): masks when they index
        self.distinct: set[Var] = set()  # integer arrays without repeats (np.arange)
        self.picked_from: dict[Var, Var] = {}  # an item or slice of a parameter (y[i]) -> the parameter

    def read(self, node: ast.Subscript, env: dict[str, Atom], hint: str | None) -> Atom:
        x = self.expr(node.value, env, None)
        exprs = self.t.expressions
        if not isinstance(x, Var):
            idx = exprs.static(node.slice, env, "an index")
            return _item(self.src, x, idx, node)
        index = self.parse(node.slice, env)
        if index.constant:
            out = exprs.apply(TABLE["index"], (x,), hint, node, idx=index.value)
        elif index.fancy:
            out = exprs.apply(take(index.sig), (x, *index.ints), hint, node)
        else:
            self.slot(x, index, node)
            out = exprs.apply(index_at(index.sig), (x, *index.ints), hint, node, shape_idx=index.shape_idx)
        if x in self.t.ints:
            self.t.ints.add(out)  # y[i] of integer labels: an integer, an index itself
        elif isinstance(out, Var):
            self.picked_from[out] = self.picked_from.get(x, x)  # y[i] of a parameter y: an index, if used as one
        return out

    def parse(self, node: ast.expr, env: dict[str, Atom]) -> Index:
        """The index `node` of an array: constant, or with run-time integers or index arrays."""
        parts = node.elts if isinstance(node, ast.Tuple) else [node]
        with self.emit.trial() as trial:
            values = [None if isinstance(p, ast.Slice) else self.expr(p, env, None) for p in parts]
            lists = [isinstance(p, ast.List) for p in parts]
            if not any(isinstance(v, Var) for v in values) and not any(lists):
                trial.undo()  # a constant index: x[0, 1:], x[n - 1] with n a constant
                value = self.t.expressions.static(node, env, "an index")
                for v in value if isinstance(value, tuple) else (value,):
                    if not _basic(v):
                        raise UnsupportedSyntax(f"index {v!r} is not in flatgen's subset", self.src.loc(node), _HINT)
                return Index((), (), value=value, constant=True)
        sig, ints, shape_idx = [], [], []
        for p, v, is_list in zip(parts, values, lists):
            if isinstance(v, Var):
                kind = self.kind(v, p)
                sig.append(kind)
                ints.append(v)
                shape_idx.append(0)
                continue
            value = self.t.expressions.static(p, env, "an index") if v is None else v.value
            if is_list:
                sig.append(_list_text(value, self.src, p))
            elif _basic(value):
                sig.append(ast.unparse(constant(value)))
            else:
                raise UnsupportedSyntax(f"index {value!r} is not in flatgen's subset", self.src.loc(p), _HINT)
            shape_idx.append(value)
        return Index(tuple(sig), tuple(ints), shape_idx=shape_idx[0] if len(shape_idx) == 1 else tuple(shape_idx))

    def laid_out(self, out: Var, x: Var) -> None:
        """`out` holds x's numbers laid out again (a reshape, a transpose): integers if x's are."""
        if x in self.t.ints:
            self.t.ints.add(out)
        else:
            self.picked_from[out] = self.picked_from.get(x, x)

    def kind(self, v: Var, node: ast.expr) -> str:
        """How a run-time value indexes: "#" an integer, "@" an integer array, "?" a boolean mask."""
        ints = self.t.ints
        if v in self.masks:
            return "?"
        root = self.picked_from.get(v, v)
        if v not in ints and root.role == "param" and root.hint not in self.t.floats:
            ints.update((v, root))  # a parameter (or its item, y[i]) used as an index is an integer: data
        if v not in ints:
            raise UnsupportedSyntax(
                "an index must be a constant or an integer loop index, an integer array or a boolean mask; this "
                "value is a float", self.src.loc(node),
                "index with np.arange(N), an integer parameter (labels y), np.argmax(...), a comparison (x > 0), "
                "or a loop's variable")
        return "#" if v.shape == () else "@"

    def slot(self, z: Var, index: Index, node) -> tuple | None:
        """The shape of z[index]."""
        try:
            if index.constant:
                return shapes.index(z.shape, idx=index.value)
            if index.fancy:
                return shapes.take(z.shape, index.sig, tuple(i.shape for i in index.ints))
            return shapes.index(z.shape, idx=index.shape_idx)
        except ValueError as e:
            raise ShapeError(str(e), self.src.loc(node)) from None

    # -- writes ---------------------------------------------------------------------------------------

    def write(self, name: str, z: Var, v: Atom, target: ast.Subscript, env: dict, hint: str) -> Var:
        """`z[idx] = v`: a new version of z, with v written in (broadcast into the slot as numpy does)."""
        exprs = self.t.expressions
        index = self.parse(target.slice, env)
        slot = self.slot(z, index, target)
        if index.fancy:
            self.distinct_or_refuse(index, target)
        if v.shape != slot:
            v, row, axes = self.broadcast(v, slot, index, target)
            if row is not None:
                return exprs.apply(row, (z, v), hint, target, idx=index.value, axes=axes)
        if index.constant:
            return exprs.apply(SETITEM, (z, v), hint, target, idx=index.value)
        return exprs.apply(setitem_at(index.sig), (z, v, *index.ints), hint, target)

    def broadcast(self, v: Atom, slot, index: Index, target) -> tuple:
        """A value of another shape than its slot: (value, row, axes).  A constant is written as it is
        (numpy broadcasts it; it has no gradient); a value broadcast into a constant slot takes a row
        whose gradient sums back (`setitem_sum`, `setitem_keep`), into another slot an explicit
        np.broadcast_to."""
        if slot is None:
            if isinstance(v, Lit) or v.shape == ():
                if isinstance(v, Lit):
                    return v, None, None
                raise UnsupportedSyntax("writing a value through a mask (z[mask] = a) is not in flatgen's subset",
                                        self.src.loc(target), "use np.where: z = np.where(mask, a, z)")
            raise ShapeError("the slot's shape is known only at run time; write a number there", self.src.loc(target))
        try:
            ok = v.shape is not None and np.broadcast_shapes(v.shape, slot) == tuple(slot)
        except ValueError:
            ok = False
        if not ok:
            raise ShapeError(f"the slot {ast.unparse(target)} has shape {slot}, the value {v.shape}: they do not "
                             "broadcast", self.src.loc(target), "write a value of the slot's shape (or one that "
                             "broadcasts to it)")
        if isinstance(v, Lit):
            return v, None, None
        lead, ones = shapes.unbroadcast_axes(v.shape, slot)
        if index.constant:
            if not ones:
                return v, SETITEM_SUM, None if v.shape == () else (lead[0] if len(lead) == 1 else lead)
            return v, SETITEM_KEEP, lead + tuple(len(lead) + i for i in ones)
        out = self.t.expressions.apply(TABLE["broadcast_to"], (v,), None, target, shape=tuple(slot),
                                       axes=lead + tuple(len(lead) + i for i in ones))
        return out, None, None

    def distinct_or_refuse(self, index: Index, target) -> None:
        """A write through index arrays must hit distinct elements: a mask, np.arange along the arrays'
        one axis (`z[np.arange(N), y]`), a constant list without repeats."""
        runtime = [p for p in index.sig if p in ("#", "@", "?")]
        arrays = [v for p, v in zip(runtime, index.ints) if p == "@"]
        lists = [np.asarray(shapes.index_part(p)) for p in index.sig if p.startswith("[")]
        lists = [a for a in lists if a.dtype != bool]  # a constant mask picks each element once
        if arrays and lists:
            ok = False
        elif arrays:  # np.arange(N) beside arrays of the same one axis: each row picks one element
            ok = any(a in self.distinct for a in arrays) and all(
                a.shape is not None and len(a.shape) == 1 and a.shape == arrays[0].shape for a in arrays)
        elif lists:
            try:
                picked = list(zip(*(a.ravel() for a in np.broadcast_arrays(*lists))))
            except ValueError:
                picked = [()] * 2  # the shape rule has said what is wrong
            ok = len(set(picked)) == len(picked)
        else:
            ok = True  # masks and run-time integers
        if not ok:
            raise UnsupportedSyntax(
                "a write through index arrays that may repeat an element: numpy keeps only one of the repeated "
                "writes", self.src.loc(target),
                "write through distinct indices: z[np.arange(N), y] = v, a mask, or a list without repeats")


def _basic(v) -> bool:
    return v is None or v is Ellipsis or isinstance(v, slice) or is_int(v)


def _list_text(value, src, node) -> str:
    """A constant list index (`[0, 2]`, `[True, False]`) as the sig spells it."""
    array = np.asarray(value)
    if array.dtype.kind not in "biu" or array.ndim == 0 or array.size == 0:
        raise UnsupportedSyntax(f"index {value!r} is not in flatgen's subset", src.loc(node),
                                "a list index holds integers (or booleans): x[[0, 2]]")
    return repr(array.tolist())


def _item(src, x, idx, node):
    """An item of a tuple of values, or of a constant."""
    if isinstance(x, tuple):
        try:
            return x[idx]
        except (TypeError, IndexError) as e:
            raise UnsupportedSyntax(f"cannot index a tuple of {len(x)} with {idx!r}: {e}", src.loc(node)) from None
    try:
        return Lit(x.value[idx])
    except (TypeError, IndexError) as e:
        raise ShapeError(f"cannot index {x.value!r} with {idx!r}: {e}", src.loc(node)) from None
