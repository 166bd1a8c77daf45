"""Shape rules: the output shape of each primitive from its input shapes and params.

A shape is a tuple of ints, or None when it is not known at trace time (a parameter declared
`np.ndarray` without example shapes).  Scalars have shape ().  The rules raise ValueError with a
readable message on incompatible shapes; the tracer turns that into a FlatgenError at the line.
"""

from __future__ import annotations

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
        return None
    axes = normalize_axis(axis, len(x))
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(x))
    return tuple(n for i, n in enumerate(x) if i not in axes)


def matmul(a: Shape, b: Shape, **_) -> Shape:
    if a is None or b is None:
        raise ValueError("`@` needs known shapes here: give example shapes (see README, Shapes)")
    if len(a) == 0 or len(b) == 0 or len(a) > 2 or len(b) > 2:
        raise ValueError(f"`@` of shapes {a} and {b}: flatgen handles 1-D and 2-D operands")
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
