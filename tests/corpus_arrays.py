"""Array functions for the primitive spec: each returns a scalar built from one primitive on arrays."""

import numpy as np

import flatgen


def a_where(a, b):
    return np.sum(np.where(a > b, a * b, a - b))


def a_lt(a, b):
    return np.sum(np.where(a < b, np.sin(a), b * b))


def a_ge(a, b):
    return np.sum(np.where(a >= b, a, 2.0 * b))


def a_le(a, b):
    return np.sum(np.where(a <= b, a * a, b))


def a_eq(a, b):
    return np.sum(np.where(a == b, a, np.exp(b)))


def a_ne(a, b):
    return np.sum(np.where(a != b, a * b, b))


def a_gt(a, b):
    return np.sum(a * (a > b))


def a_matmul(W, X):
    return np.sum(np.tanh(W @ X))


def a_matmul_mv(W, x):
    return np.sum(np.sin(W @ x))


def a_matmul_vm(x, W):
    return np.sum(np.sin(np.matmul(x, W)))


def a_dot(x, y):
    return np.dot(x, y)


def a_outer(a, b):
    return np.sum(np.sin(np.outer(a, b)))


def a_sum(x):
    return np.sum(x * x)


def a_sum_axis(x, w):
    s = np.sum(x, axis=1)
    return np.sum(np.sin(s) * w)


def a_sum_keep(x):
    s = x.sum(axis=-1, keepdims=True)
    return np.sum(x / s)


def a_mean(x):
    return np.mean(np.exp(x))


def a_mean_axis(x, w):
    return np.sum(np.sin(x.mean(axis=0)) * w)


def a_max(x):
    return np.max(x * x)


def a_max_axis(x, w):
    return np.sum(np.max(x, axis=1) * w)


def a_min(x):
    return np.min(np.sin(x))


def a_min_axis(x, w):
    return np.sum(x.min(axis=(0, 2)) * w)


def a_T(W, v):
    return np.sum(np.sin(W.T @ v))


def a_transpose(X, Y):
    return np.sum(np.transpose(X, (2, 0, 1)) * Y)


def a_reshape(x, W):
    return np.sum(np.sin(x.reshape(2, 3)) * W)


def a_expand_dims(x, W):
    return np.sum(np.expand_dims(x, 0) * W + x[None, :] * W)


def a_index(x, X):
    return x[1] * x[0] + np.sum(x[::2] ** 2) + np.sum(np.sin(X[:, 2])) + X[1, -1] * x[-1]


def a_sign(x):
    return np.sum(np.sign(x) * x * x)  # the sign sends no gradient: d/dx = sign(x) * 2x


def a_zeros_like(x):
    return np.sum((x + np.zeros_like(x)) ** 2)


def a_ones_like(x):
    return np.sum(x * np.ones_like(x) * x)


def a_zeros(x):
    return np.sum((x - np.zeros(x.shape)) ** 3)


def a_ones(x):
    return np.sum(np.sin(x + np.ones((len(x),))))


def a_broadcast(X, b, c, r):
    """(N, D) with (D,), a scalar, and a (N, 1) column: each gradient summed back to its shape."""
    return np.sum(np.tanh(X * b + c) * r)


# --- the scalar primitives on arrays (numpy spellings), summed to a scalar ---

def e_add(a, b):
    return np.sum(np.sin(a + b))


def e_sub(a, b):
    return np.sum(np.sin(a - b))


def e_mul(a, b):
    return np.sum(np.sin(a * b))


def e_div(a, b):
    return np.sum(a / b)


def e_pow(a, b):
    return np.sum(a**b)


def e_neg(x):
    return np.sum(np.sin(-x))


def e_exp(x):
    return np.sum(np.exp(x))


def e_log(x):
    return np.sum(np.log(x))


def e_sqrt(x):
    return np.sum(np.sqrt(x))


def e_tanh(x):
    return np.sum(np.tanh(x))


def e_sin(x):
    return np.sum(np.sin(x))


def e_cos(x):
    return np.sum(np.cos(x))


def e_abs(x):
    return np.sum(np.abs(x))


def e_maximum(a, b):
    return np.sum(np.sin(np.maximum(a, b)))


def e_minimum(a, b):
    return np.sum(np.sin(np.minimum(a, b)))


def e_sigmoid(x):
    return np.sum(flatgen.sigmoid(x))


def a_alias(a, b):
    """The add gate hands grad_s itself to a and b: a later += into grad_a must not write into it."""
    t = np.sin(a)
    s = a + b
    return np.sum(s * s) + np.sum(t * b)


def a_setitem(a, b, x):
    """Item assignment into a local array, and list literals indexed by constants."""
    z = np.zeros(3)
    z[0] = a * b
    z[1:] = x[:2] * a
    z[2] += b
    w = [a, b, a * b]
    return np.sum(z * z) + w[2] * w[0]


def a_nested(x, y):
    """A pure helper defined inside the function, reading the enclosing y."""
    scale = y * 2.0

    def blend(u, v=0.5):
        s = u * scale + v
        return np.tanh(s)

    return np.sum(blend(x) + blend(x * y, v=y))
