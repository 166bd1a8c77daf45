"""Functions around the rows for making arrays and indexing (flatgen/rows_arrays.py, rows_index.py),
each written the way numpy code spells it.  a_<row>: a function that traces to that row; s_<...>:
other spellings (methods, keywords, aliases) of the same rows.
"""

import numpy as np

# -- arrays from values and from pieces ----------------------------------------------------------------------


def a_array(a, b, c):
    v = np.array([a, b * c, 2.0])
    return np.sum(v * v) + v[0] * v[1]


def s_array_nested(a, b, x):
    m = np.array([[a, b], [b * b, 1.0]])
    rows = np.asarray([x, 2.0 * x])  # arrays as the values: a (2, 3)
    return np.sum(m @ m) + np.sum(rows[1] * rows[0]) + np.sum(np.array(((a, a), (b, 0.5))))


def a_stack(x, y):
    s = np.stack([x, y * y])
    t = np.stack((x, y), axis=1)
    u = np.stack([x, y], axis=-1)
    return np.sum(s ** 3) + np.sum(t[:, 0] * t[:, 1]) + np.sum(u * s.T)


def a_concatenate(x, W):
    c = np.concatenate([x, x * x])
    d = np.concatenate((W, W ** 2), axis=1)
    e = np.concatenate([W, x[None, :]], axis=0)
    return np.sum(c ** 2) + np.sum(d * d) + np.sum(e ** 3)


def a_hstack(x, W):
    h = np.hstack([x, x ** 2])
    k = np.hstack((W, W[:, :1]))
    return np.sum(h * h) + np.sum(k ** 3)


def a_vstack(x, W):
    v = np.vstack([x, x ** 2])
    w = np.vstack((W, x))
    return np.sum(v ** 3) + np.sum(w * w)


# -- laid out again ----------------------------------------------------------------------------------------


def a_atleast_1d(a, x):
    return np.sum(np.atleast_1d(a) * x) + np.sum(np.atleast_1d(x) ** 2)


def a_atleast_2d(a, x):
    return np.sum(np.atleast_2d(x).T @ np.atleast_2d(x)) + np.sum(np.atleast_2d(a) ** 2)


def a_atleast_3d(x, W):
    return np.sum(np.atleast_3d(x) ** 2) + np.sum(np.atleast_3d(W) ** 3)


def a_ravel(W):
    return np.sum(W.ravel() * np.arange(6)) + np.sum(np.ravel(W) ** 3)


def a_flatten(W):
    return np.sum(W.flatten() ** 3)


def a_squeeze(W):
    col = W[:, :1]
    return np.sum(col.squeeze() ** 2) + np.sum(np.squeeze(col, axis=1) * W[:, 1]) + np.sum(W.reshape(1, 6).squeeze())


def a_pad(W):
    p = np.pad(W, 1)
    q = np.pad(W, ((0, 0), (2, 1)), mode="constant", constant_values=0.5)
    return np.sum(p ** 2) + np.sum(q ** 3)


# -- copies and casts ---------------------------------------------------------------------------------------


def a_array_copy(x):
    y = x.copy()
    y[0] = 0.0
    z = np.copy(x)
    w = np.array(x)
    return np.sum(y * z) + np.sum(w ** 3)


def a_astype_float(x):
    return np.sum(x.astype(float) ** 2) + np.sum(x.astype(np.float64))


def a_astype_like(x, W):
    return np.sum(x.astype(W.dtype) * W)


def a_astype_int(x, W):
    k = (x * 0.0 + 1.7).astype(int)  # 1, 1, 1: an index
    return np.sum(W[k] ** 2)


def a_astype_float32(x):
    return np.sum(x.astype(np.float32) * 2.0)


# -- constants -------------------------------------------------------------------------------------------------


def a_arange(x):
    return np.sum(x * np.arange(3)) + np.sum(x[np.arange(3)] ** 2)


def a_arange2(x):
    return np.sum(x[1:] * np.arange(1, 3))


def a_arange3(x):
    return np.sum(x * np.arange(0.0, 0.75, 0.25))


def a_linspace(x):
    return np.sum(x * np.linspace(0.0, 1.0, 3)) + np.sum(x * np.linspace(-1, 1, num=3))


def a_eye(W):
    return np.sum((W + np.eye(2)) ** 2) + np.sum(W * np.eye(2, 2, k=1))


def a_full(W):
    return np.sum(W * np.full((2, 2), 0.5)) + np.sum(W * np.full(2, 3.0))


# -- indexing ------------------------------------------------------------------------------------------------


def a_index(x):
    return np.sum(x[np.newaxis, :] * x[:, None]) + x[..., 0] * x[-1]


def a_take(W, idx):
    out = W[idx]
    return np.sum(out ** 2)


def s_take_rows_labels(x, y):
    N = x.shape[0]
    picked = x[np.arange(N), y]
    return np.sum(picked ** 2)


def s_take_mask(x):
    return np.sum(x[x > 0] ** 2) + np.sum(x[x < 0.5])


def s_take_list(x):
    return np.sum(x[[0, 2, 2]] * x[[1, 1, 0]])


def s_take_argmax(x):
    best = np.argmax(x, axis=1)
    return np.sum(x[np.arange(x.shape[0]), best] ** 2)


def s_write_broadcast(x, a):
    h = np.zeros((3, 4))
    h[0] = a
    h[1] = x
    h[2, 1:] = a * x[1:]
    h[:, 0] = x[:3] * 2.0
    return np.sum(h * h)


def s_write_through_arrays(x, y):
    N = x.shape[0]
    m = x.copy()
    m[np.arange(N), y] = 0.0
    m[np.arange(N), y] += x[np.arange(N), y] ** 2
    return np.sum(m ** 2)


def s_write_mask(x):
    z = x.copy()
    z[x < 0] = 0.0
    return np.sum(z ** 2)
