"""Shape rules: the output shape of each primitive from its input shapes and params.

A shape is a tuple of ints, or None when it is not known at trace time (a parameter declared
`np.ndarray` without example shapes).  Scalars have shape ().  The rules raise ValueError with a
readable message on incompatible shapes; the tracer turns that into a FlatgenError at the line.
"""

from __future__ import annotations

import ast
import functools

import numpy as np

Shape = tuple[int, ...] | None


def broadcast(*shapes: Shape) -> Shape:
    if (len(shapes) == 1 or len(shapes) == 2 and shapes[0] == shapes[1]) and shapes[0] is not None:
        return tuple(shapes[0])  # one shape, or the same two (scalars, most often): nothing to broadcast
    if any(s is None for s in shapes):
        return None
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ValueError(f"shapes {' and '.join(map(str, shapes))} do not broadcast together") from None


def scalars(*shapes: Shape, **_) -> Shape:
    """The builtins max(a, b) and min(a, b): numbers only (of arrays, Python raises)."""
    if any(s != () for s in shapes):
        raise ValueError("max() and min() of two arrays compare whole arrays: use np.maximum / np.minimum")
    return ()


def normalize_axis(axis, ndim: int) -> tuple[int, ...]:
    """An axis param (None, int, negative int, tuple) -> sorted non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of bounds for an array of {ndim} dimension(s)")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"axis {axis} repeats an axis")
    return tuple(sorted(out))


def reduce(x: Shape, axis=None, keepdims=False, **_) -> Shape:
    if x is None:
        return () if axis is None and not keepdims else None  # np.sum(x[mask]): a number, whatever x's shape
    axes = normalize_axis(axis, len(x))
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(x))
    return tuple(n for i, n in enumerate(x) if i not in axes)


def matmul(a: Shape, b: Shape, **_) -> Shape:
    if a is None or b is None:
        raise ValueError("`@` needs known shapes here: give example shapes (see README, Shapes)")
    if len(a) == 0 or len(b) == 0:  # (stacks of 3-D and more have their rows: matmul_nd)
        raise ValueError(f"`@` of shapes {a} and {b}: numpy's matmul takes no scalars (use *)")
    if len(a) > 2 or len(b) > 2:
        raise ValueError(f"`@` of shapes {a} and {b}: this row takes 1-D and 2-D operands (stacks: matmul_row)")
    k_a = a[-1]
    k_b = b[0]
    if k_a != k_b:
        raise ValueError(f"`@` of shapes {a} and {b}: inner dimensions {k_a} and {k_b} differ")
    return a[:-1] + b[1:]


def matmul_nd(a: Shape, b: Shape, **_) -> Shape:
    """`@` with an operand of 3 or more dimensions: stacks of matrices, their batch axes broadcast."""
    if a is None or b is None:
        raise ValueError("`@` needs known shapes here: give example shapes (see README, Shapes)")
    if len(a) == 0 or len(b) == 0:
        raise ValueError(f"`@` of shapes {a} and {b}: numpy's matmul takes no scalars (use *)")
    a2, b2 = (1,) + a if len(a) == 1 else a, b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ValueError(f"`@` of shapes {a} and {b}: inner dimensions {a2[-1]} and {b2[-2]} differ")
    try:
        batch = tuple(np.broadcast_shapes(a2[:-2], b2[:-2]))
    except ValueError:
        raise ValueError(f"`@` of shapes {a} and {b}: the stacks {a2[:-2]} and {b2[:-2]} do not broadcast") from None
    return batch + a2[-2:-1] * (len(a) > 1) + b2[-1:] * (len(b) > 1)


def _matrix(a: Shape, what: str, square: bool = True) -> tuple[int, int]:
    if a is None:
        raise ValueError(f"{what} needs known shapes here: give example shapes (see README, Shapes)")
    if len(a) != 2 or (square and a[0] != a[1]):
        raise ValueError(f"{what} of shape {a}: flatgen takes {'a square' if square else 'a'} 2-D matrix")
    return a


def trace(a: Shape, **_) -> Shape:
    _matrix(a, "np.trace", square=False)
    return ()


def inv(a: Shape, **_) -> Shape:
    return _matrix(a, "np.linalg.inv")


def det(a: Shape, **_) -> Shape:
    _matrix(a, "np.linalg.det (and slogdet)")
    return ()


def solve(a: Shape, b: Shape, **_) -> Shape:
    n, _ = _matrix(a, "np.linalg.solve")
    if b is None or len(b) not in (1, 2) or b[0] != n:
        raise ValueError(f"np.linalg.solve of shapes {a} and {b}: b must be ({n},) or ({n}, k)")
    return b


def cumsum(x: Shape, axis=None, **_) -> Shape:
    """np.cumsum: x's shape along an axis; flattened without one."""
    if x is None:
        return None
    if axis is None:
        return (int(np.prod(x)),)
    normalize_axis(axis, len(x))
    return x


def outer(a: Shape, b: Shape, **_) -> Shape:
    if a is None or b is None:
        return None
    if len(a) != 1 or len(b) != 1:
        raise ValueError(f"np.outer of shapes {a} and {b}: flatgen takes 1-D operands")
    return (a[0], b[0])


def transpose(x: Shape, axes=None, **_) -> Shape:
    if x is None:
        return None
    if axes is None:
        return tuple(reversed(x))
    if sorted(axes) != list(range(len(x))):
        raise ValueError(f"axes {axes} are not a permutation of the {len(x)} axes of shape {x}")
    return tuple(x[a] for a in axes)


def reshape(x: Shape, shape=(), **_) -> Shape:
    if x is None:
        return None
    size = int(np.prod(x))
    shape = tuple(shape)
    if shape.count(-1) > 1:
        raise ValueError("reshape takes at most one -1")
    known = int(np.prod([n for n in shape if n != -1]))
    if -1 in shape:
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape {x} into {shape}")
        shape = tuple(size // known if n == -1 else n for n in shape)
    if int(np.prod(shape)) != size:
        raise ValueError(f"cannot reshape {x} ({size} elements) into {shape}")
    return shape


def expand_dims(x: Shape, axis=0, **_) -> Shape:
    if x is None:
        return None
    return np.expand_dims(np.empty(x, dtype=bool), axis).shape  # a view: no copy of the data


def index(x: Shape, idx=(), **_) -> Shape:
    if x is None:
        return None
    dummy = np.lib.stride_tricks.as_strided(np.zeros(1, dtype=bool), shape=x, strides=(0,) * len(x))
    try:
        return dummy[idx].shape  # basic indexing makes a view: no memory, any size
    except IndexError as e:
        raise ValueError(f"index {idx!r} on shape {x}: {e}") from None


@functools.cache
def index_part(text: str):
    """One position of an index, as the tracer spells it in a row's `sig` (":", "1:3", "-1", "None",
    "...", "[0, 2]"), back to its value."""
    node = ast.parse(f"_[{text}]", mode="eval").body.slice
    if isinstance(node, ast.Slice):
        return slice(*(None if p is None else ast.literal_eval(p) for p in (node.lower, node.upper, node.step)))
    return ast.literal_eval(node)


def take(x: Shape, sig: tuple, int_shapes: tuple) -> Shape:
    """x[idx] with index arrays (rows_index.take): "#" a run-time integer, "@" an integer array of the
    given shape, "?" a boolean mask (how many it picks is known only at run time), else a constant."""
    if x is None or "?" in sig or any(s is None for s in int_shapes):
        return None
    shapes = iter(int_shapes)
    idx = []
    for part in sig:
        if part in ("#", "@"):
            shape = next(shapes)
            idx.append(np.zeros(shape, dtype=np.intp) if part == "@" else 0)
        else:
            idx.append(index_part(part))
    dummy = np.lib.stride_tricks.as_strided(np.zeros(1, dtype=bool), shape=x, strides=(0,) * len(x))
    try:
        return dummy[tuple(idx)].shape
    except IndexError as e:
        raise ValueError(f"index {', '.join(sig)} on shape {x}: {e}") from None


def fixed(x: Shape = None, shape=(), **_) -> Shape:
    return tuple(shape)


def same(x: Shape, *_, **__) -> Shape:
    return x


def where(c: Shape, a: Shape, b: Shape, **_) -> Shape:
    return broadcast(c, a, b)


def unbroadcast_axes(x: tuple[int, ...], out: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """How a gradient of shape `out` sums back to an input of shape `x` that was broadcast:
    (leading axes to sum away, axes of x where it had size 1, summed with keepdims)."""
    lead = len(out) - len(x)
    ones = tuple(i for i, n in enumerate(x) if n == 1 and out[lead + i] != 1)
    return tuple(range(lead)), ones


# -- making arrays (rows_arrays.py) ---------------------------------------------------------------------------


def size_of(x: tuple) -> int:
    return int(np.prod(x, dtype=np.int64))


def atleast(x: Shape, ndim: int = 1, **_) -> Shape:
    """np.atleast_1d / 2d / 3d: a scalar becomes (1,), (1, 1), (1, 1, 1); a vector (1, n) and (1, n, 1);
    a matrix (m, n, 1)."""
    if x is None:
        return None
    if len(x) >= ndim:
        return tuple(x)
    if ndim == 1 or not x:
        return (1,) * (ndim - len(x)) + tuple(x)
    if ndim == 2:
        return (1,) + tuple(x)
    return ((1,) + tuple(x) + (1,)) if len(x) == 1 else tuple(x) + (1,)


def squeeze(x: Shape, axis=None, **_) -> Shape:
    if x is None:
        return None
    if axis is None:
        return tuple(n for n in x if n != 1)
    axes = normalize_axis(axis, len(x))
    for a in axes:
        if x[a] != 1:
            raise ValueError(f"cannot squeeze axis {a} of shape {x}: its size is {x[a]}, not 1")
    return tuple(n for i, n in enumerate(x) if i not in axes)


def pad(x: Shape, pad_width=(), **_) -> Shape:
    """np.pad with `pad_width` one (before, after) pair per axis."""
    if x is None:
        return None
    return tuple(n + before + after for n, (before, after) in zip(x, pad_width))


def join(*shapes: Shape, kind="stack", axis=0, **_) -> Shape:
    """np.stack / np.concatenate / np.hstack / np.vstack of arrays of these shapes."""
    if any(s is None for s in shapes):
        raise ValueError(f"np.{kind} needs known shapes here: give example shapes (see README, Shapes)")
    if kind == "hstack":  # 1-D pieces (and scalars) join along axis 0, others along axis 1
        shapes = tuple(atleast(s, 1) for s in shapes)
        kind, axis = "concatenate", 0 if len(shapes[0]) == 1 else 1
    elif kind == "vstack":
        shapes = tuple(atleast(s, 2) for s in shapes)
        kind, axis = "concatenate", 0
    first = shapes[0]
    if kind == "stack":
        if any(s != first for s in shapes):
            raise ValueError(f"np.stack of shapes {', '.join(map(str, shapes))}: they must all be the same")
        (k,) = normalize_axis(axis, len(first) + 1)
        return first[:k] + (len(shapes),) + first[k:]
    if not first:
        raise ValueError("np.concatenate of scalars: use np.array([...]) or np.stack")
    (k,) = normalize_axis(axis, len(first))
    if any(len(s) != len(first) or s[:k] + s[k + 1:] != first[:k] + first[k + 1:] for s in shapes):
        raise ValueError(f"np.concatenate along axis {axis} of shapes {', '.join(map(str, shapes))}: "
                         "the other axes must match")
    return first[:k] + (sum(s[k] for s in shapes),) + first[k + 1:]


def arange(start=0, stop=0, step=1, **_) -> Shape:
    return (len(range(start, stop, step)),) if all(isinstance(v, int) for v in (start, stop, step)) else \
        np.arange(start, stop, step).shape


def eye(n=0, m=None, k=0, **_) -> Shape:
    return (n, n if m is None else m)


def linspace(start=0.0, stop=0.0, num=50, **_) -> Shape:
    return (num,)
