"""Functions for the spec of numpy's rows (flatgen/rows_numpy.py, flatgen/rows_linalg.py), each built
around one row, written the way numpy code spells it.

p_<row>: scalars (math mode on Python floats); e_<row>: the same on arrays, summed; m_<row>: the math
module's spelling; a_<row>: rows that take arrays; s_<...>: other spellings (methods, keywords, aliases).
"""

import math

import numpy as np

# -- elementwise, one input ---------------------------------------------------------------------------------


def p_tan(x):
    return np.tan(x) * x


def e_tan(x):
    return np.sum(np.tan(x) * x)


def m_tan(x):
    return math.tan(x) * x


def p_arcsin(x):
    return np.arcsin(x) + x * x


def e_arcsin(x):
    return np.sum(np.arcsin(x) * x)


def m_arcsin(x):
    return math.asin(x) * x


def p_arccos(x):
    return np.arccos(x) * x


def e_arccos(x):
    return np.sum(np.arccos(x) * x)


def m_arccos(x):
    return math.acos(x) * x


def p_arctan(x):
    return np.arctan(x) * x


def e_arctan(x):
    return np.sum(np.arctan(x * x))


def m_arctan(x):
    return math.atan(x) * x


def p_sinh(x):
    return np.sinh(x) * x


def e_sinh(x):
    return np.sum(np.sinh(x))


def m_sinh(x):
    return math.sinh(x) * x


def p_cosh(x):
    return np.cosh(x) + x


def e_cosh(x):
    return np.sum(np.cosh(x) * x)


def m_cosh(x):
    return math.cosh(x) * x


def p_arcsinh(x):
    return np.arcsinh(x) * x


def e_arcsinh(x):
    return np.sum(np.arcsinh(x))


def m_arcsinh(x):
    return math.asinh(x) * x


def p_arccosh(x):
    return np.arccosh(x) * x


def e_arccosh(x):
    return np.sum(np.arccosh(x) * x)


def m_arccosh(x):
    return math.acosh(x) * x


def p_arctanh(x):
    return np.arctanh(x) * x


def e_arctanh(x):
    return np.sum(np.arctanh(x))


def m_arctanh(x):
    return math.atanh(x) * x


def p_log1p(x):
    return np.log1p(x) * x


def e_log1p(x):
    return np.sum(np.log1p(x * x))


def m_log1p(x):
    return math.log1p(x) * x


def p_expm1(x):
    return np.expm1(x) * x


def e_expm1(x):
    return np.sum(np.expm1(x))


def m_expm1(x):
    return math.expm1(x) * x


def p_log2(x):
    return np.log2(x) * x


def e_log2(x):
    return np.sum(np.log2(x))


def m_log2(x):
    return math.log2(x) * x


def p_log10(x):
    return np.log10(x) * x


def e_log10(x):
    return np.sum(np.log10(x) * x)


def m_log10(x):
    return math.log10(x) * x


def p_exp2(x):
    return np.exp2(x) * x


def e_exp2(x):
    return np.sum(np.exp2(x))


def m_exp2(x):
    return math.exp2(x) * x


def p_square(x):
    return np.square(x) * x


def e_square(x):
    return np.sum(np.square(x))


def p_reciprocal(x):
    return np.reciprocal(x) + x


def e_reciprocal(x):
    return np.sum(np.reciprocal(x))


def p_float64(x):
    return np.float64(x) * x


def e_float64(x):
    return np.sum(np.float64(x) * x)


# -- elementwise, two and three inputs ---------------------------------------------------------------------


def p_arctan2(y, x):
    return np.arctan2(y, x)


def e_arctan2(y, x):
    return np.sum(np.arctan2(y, x))


def m_arctan2(y, x):
    return math.atan2(y, x)


def p_hypot(a, b):
    return np.hypot(a, b)


def e_hypot(a, b):
    return np.sum(np.hypot(a, b))


def m_hypot(a, b):
    return math.hypot(a, b)


def p_logaddexp(a, b):
    return np.logaddexp(a, b)


def e_logaddexp(a, b):
    return np.sum(np.logaddexp(a, b))


def p_clip(x, lo, hi):
    return np.clip(x, lo, hi) * x


def e_clip(x, lo, hi):
    return np.sum(np.clip(x, lo, hi) * x)


# -- piecewise constant: no gradient through them ----------------------------------------------------------


def p_floor(x):
    return np.floor(x) * x


def e_floor(x):
    return np.sum(np.floor(x) * x)


def m_floor(x):
    return math.floor(x) * x


def p_ceil(x):
    return np.ceil(x) * x


def e_ceil(x):
    return np.sum(np.ceil(x) * x)


def m_ceil(x):
    return math.ceil(x) * x


def p_round(x):
    return np.round(x) * x


def e_round(x):
    return np.sum(np.round(x, 1) * x)


# -- reductions --------------------------------------------------------------------------------------------


def a_argmax(x):
    i = np.argmax(x)
    return x[i] * 2.0 + np.sum(x)


def a_argmin(x):
    j = np.argmin(x)
    return x[j] * np.sum(x * x)


def a_var(x):
    return np.var(x) + np.sum(x)


def a_var_axis(x, w):
    return np.sum(np.var(x, axis=0) * w)


def a_std(x):
    return np.std(x, ddof=1)


def a_std_axis(x, w):
    return np.sum(x.std(axis=1) * w)


def a_prod(x):
    return np.prod(x)


def a_prod_axis(x, w):
    return np.sum(np.prod(x, axis=1) * w)


def a_norm(x):
    return np.linalg.norm(x)


def a_norm_axis(x, w):
    return np.sum(np.linalg.norm(x, axis=1) * w)


def a_norm1(x):
    return np.linalg.norm(x, ord=1)


def a_norm1_axis(x, w):
    return np.sum(np.linalg.norm(x, 1, axis=0) * w)


def a_norminf(x):
    return np.linalg.norm(x, np.inf)


def a_norminf_axis(x, w):
    return np.sum(np.linalg.norm(x, ord=np.inf, axis=-1) * w)


def a_cumsum(x, w):
    return np.sum(np.cumsum(x) * w)


def a_cumsum_axis(x, w):
    return np.sum(np.cumsum(x, axis=1) * w)


# -- linear algebra ----------------------------------------------------------------------------------------


def a_matmul_batch(A, B):
    return np.sum(np.sin(np.matmul(A, B)))


def a_matmul_bm(X, W):
    return np.sum(np.tanh(np.matmul(X, W)))


def a_matmul_mb(W, X):
    return np.sum(np.sin(np.matmul(W, X)))


def a_matmul_bv(X, w):
    return np.sum(np.sin(np.matmul(X, w)))


def a_matmul_vb(w, X):
    return np.sum(np.sin(np.matmul(w, X)))


def a_matmul_bcast(A, B):
    return np.sum(np.sin(np.matmul(A, B)))


def a_trace(A):
    return np.trace(A @ A)


def a_inv(A):
    return np.sum(np.linalg.inv(A) * A)


def a_solve(A, b):
    x = np.linalg.solve(A, b)
    return np.sum(x * x)


def a_solve_m(A, B):
    return np.sum(np.sin(np.linalg.solve(A, B)))


def a_det(A):
    return np.linalg.det(A)


def a_slogdet(A):
    sign, logdet = np.linalg.slogdet(A)
    return logdet


def a_slogdet_sign(A):
    sign, logdet = np.linalg.slogdet(A)
    return sign * logdet


def a_einsum(A, B):
    return np.sum(np.einsum("ij,jk->ik", A, B) ** 2)


# -- other spellings: methods, keywords, aliases -----------------------------------------------------------


def s_methods(x, W):
    h = x.dot(W)
    return h.var() + h.std(ddof=1) + h.clip(-0.5, 0.5).sum() + x.prod() + h.cumsum().sum() + h.round(1).sum()


def s_methods_axes(X):
    i = X.argmax()
    j = X.argmin(axis=None)
    return X.var(axis=0, keepdims=True).sum() + X.trace() + X.cumsum(axis=0).sum() + X[0, 0] * (i + j)


def s_aliases(x):
    return np.sum(np.around(x, 1) * x) + np.sum(np.clip(x, a_min=-0.5, a_max=0.5))


def s_clip_one_bound(x):
    return np.sum(np.clip(x, 0.0, None) + np.clip(x, None, 0.5) + x.clip(min=-0.2))


def s_dot_ranks(a, x, W, X):
    return np.dot(a, x).sum() + np.dot(2.0, x).sum() + np.dot(x, x) + np.dot(W, x).sum() + np.dot(X, x).sum()


def s_dot_stacks(A, B):
    return np.sum(np.dot(A, B) ** 2)


def s_norms(x, X):
    return (np.linalg.norm(X, "fro") + np.linalg.norm(x, 2) + np.linalg.norm(X, axis=(0, 1))
            + np.linalg.norm(X, keepdims=True).sum())


def s_einsum_forms(A, B, v):
    trace = np.einsum("ii->", A)
    total = np.einsum("ij->", A @ B)
    mv = np.einsum("ij,j->i", A, v)
    diagonal = np.einsum("ii->i", A)
    transposed = np.einsum("ij -> ji", B)
    return trace + total + mv.sum() + diagonal.sum() + transposed[0, 1] + np.einsum("i,i->", v, v, optimize=True)


def s_shape_products(X):
    n = np.prod(X.shape)
    return np.sum(X) / n + np.prod(X.shape[1:]) * X[0, 0, 0]


# -- in a loop kept as a loop (the backward loop reads what the rules need from tapes) -------------------------


def l_rolled(h, W, n: int):
    for i in range(n):
        z = np.matmul(h, W)
        h = np.clip(np.arctan(z), -0.83, 0.91) + np.var(z, axis=-1, keepdims=True) * np.log1p(h * h)
    return np.linalg.norm(h) + np.sum(np.cumsum(h, axis=1)) + np.prod(h[0, 0])


def s_clip_keyword_values(x, lo, hi):
    return np.sum(np.clip(x, a_min=lo, a_max=hi) ** 2)
