"""Python's own arithmetic on data (flatgen/rows_python.py), one function per row: `p_` on numbers,
`e_` on arrays (summed: the output is a scalar).  Used by tests/test_primitives.py."""

import numpy as np


def p_floordiv(a, b):
    return (a // b) * a + b


def e_floordiv(a, b):
    return np.sum((a // b) * a + b)


def p_mod(a, b):
    return a % b * a + b % 1.5


def e_mod(a, b):
    return np.sum(a % b * a)


def p_int(x):
    return int(x) * x + x


def p_float(x):
    return float(x) * x
