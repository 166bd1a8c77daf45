"""Functions for the compact style's simplifications (tests/test_simplify.py): every identity of
flatgen/simplify.py in both operand orders, with integer literals (what the identities act on) and
float ones (what they must leave alone), the cases that look like identities and are not (0 - x,
1 / x, x * 0, 1 ** x), literals that become identities only after constant folding, masks, and an
integer parameter.  Each literal sits inside a nonlinear expression so that a wrong simplification
changes the value or the gradient.  CASES gives each function's sample points.
"""

import numpy as np


# -- the identities, both orders ---------------------------------------------------------------------------

def add_zero_right(x, y):
    return np.sin(x + 0) * y


def add_zero_left(x, y):
    return np.sin(0 + x) * y


def sub_zero_right(x, y):
    return np.sin(x - 0) * y


def sub_zero_left(x, y):  # not an identity: -x
    return np.sin(0 - x) * y + x


def mul_one_right(x, y):
    return np.sin(x * 1) * y


def mul_one_left(x, y):
    return np.sin(1 * x) * y


def div_one_right(x, y):
    return np.sin(x / 1) * y


def div_one_left(x, y):  # not an identity: 1 / x
    return np.sin(1 / x) * y


def pow_one_right(x, y):
    return np.sin(x ** 1) * y


def pow_one_left(x, y):  # 1 ** x is 1, not x
    return np.sin(1 ** x) * y + x * y


# -- zeros that absorb, and powers of zero -----------------------------------------------------------------

def mul_zero_right(x, y):
    return np.sin(x * 0 + y) * x


def mul_zero_left(x, y):
    return np.sin(0 * x + y) * x


def pow_zero_right(x, y):  # x ** 0 is 1
    return np.sin(x ** 0 + y) * x


def div_zero_left(x, y):  # 0 / x is 0 (x > 0)
    return np.sin(0 / x + y) * x


def pow_zero_left(x, y):  # 0 ** x is 0 for x > 0 (see test_simplify.test_power_of_zero: a known bug)
    return 0 ** x * y + x


# -- minus one and small integers: no identity -----------------------------------------------------------

def mul_minus_one(x, y):
    return np.sin(x * -1) * y + np.cos(-1 * y) * x


def add_minus_one(x, y):
    return np.sin(x + -1) * y + np.cos(-1 + y) * x


def small_ints(x, y):
    return np.sin(2 * x - 3) * (y + 2) + (x - 1) * (1 - y) + x ** 2 + 2 ** y + y / 2 + 3 / (x * x + 1)


# -- float literals: x * 1.0 is x only for a float x, so they stay ---------------------------------------

def float_neutrals(x, y):
    return np.sin(x + 0.0) * (y * 1.0) + np.cos(0.0 + x) * (1.0 * y) + (x - 0.0) / 1.0 + (0.0 - y) + x ** 1.0


# -- identities that appear after constant folding, and in the backward pass ----------------------------------

def folded_one(x, y):
    return np.sin(x * (3 - 2)) * y + np.cos((1 - 1) + y) * x


def chained(x, y):
    a = x * 1
    b = 0 + a
    c = b - 0
    d = c / 1
    e = d ** 1
    return np.tanh(e * y) + e


def identity_reused(x, y):
    a = x * 1
    return np.sin(a) * a + a * y + 1 * a


def several_outputs(x, y):
    return np.sin(x * 1) * y, 0 + x * y


# -- masks and integers -------------------------------------------------------------------------------------

def mask_times_one(x, y):  # 1 * (x < y) is a number; the bare comparison would be a bool
    return (1 * (x < y)) * x + ((x > y) * 1) * y + np.sin(x)


def int_parameter(n: int, x: float):  # n * 1 keeps an int an int, n * 1.0 makes a float
    return x * (n * 1) + x * (n * 1.0) + (n + 0) * x * x + np.sin(x * 1)


def int_times_float_one(n: int, x: float):  # 9.0, not 9: n * 1.0 is not n
    return (n * 1.0) * (n * 1)


def masks_added(x, y):  # 1 * (x < y) is 1, not True: True + True is True, and -True fails for numpy
    return ((1 * (x < y)) + (1 * (x < y))) * x + ((x > y) * 1 - (x <= y) * 1) * y + np.sin(x)


def array_identities(v, w):
    return np.sum(np.sin(v * 1) * (0 + w) + (v - 0) / 1 + (1 * w) ** 1 + (0 - v) * w)


CASES = {
    "add_zero_right": [(0.7, -1.3)], "add_zero_left": [(0.7, -1.3)], "sub_zero_right": [(0.7, -1.3)],
    "sub_zero_left": [(0.7, -1.3), (-0.4, 0.9)], "mul_one_right": [(0.7, -1.3)], "mul_one_left": [(0.7, -1.3)],
    "div_one_right": [(0.7, -1.3)], "div_one_left": [(0.7, -1.3), (1.6, 0.4)], "pow_one_right": [(0.7, -1.3)],
    "pow_one_left": [(0.7, -1.3)], "mul_zero_right": [(0.7, -1.3)], "mul_zero_left": [(0.7, -1.3)],
    "pow_zero_right": [(0.7, -1.3), (0.0, 0.5)], "div_zero_left": [(0.7, -1.3)],
    "mul_minus_one": [(0.7, -1.3)], "add_minus_one": [(0.7, -1.3)], "small_ints": [(0.7, -1.3)],
    "float_neutrals": [(0.7, -1.3)], "folded_one": [(0.7, -1.3)], "chained": [(0.7, -1.3)],
    "identity_reused": [(0.7, -1.3)], "several_outputs": [(0.7, -1.3)], "mask_times_one": [(0.7, -1.3), (0.7, 0.2)],
    "int_parameter": [(3, 0.7)], "int_times_float_one": [(3, 0.7)], "masks_added": [(0.7, -1.3), (0.2, 0.9)],
    "array_identities": [(np.array([0.7, -1.3, 0.2]), np.array([0.4, 0.9, -0.6]))],
}
