"""Functions in flatgen's scalar subset, one or more per primitive and per language feature.

flatgen reads these from this file's source, as it would a user's module.
"""

import math

import numpy as np
import numpy as xp  # numpy under another alias
from math import exp as math_exp

import flatgen
from flatgen import sigmoid

SCALE = 0.5
NEG = -2.0
TWO_PI = 2 * np.pi


# --- one function per primitive (tests/test_primitives.py checks that every primitive has one) ---

def p_add(a, b):
    return a + b


def p_sub(a, b):
    return a - b


def p_mul(a, b):
    return a * b


def p_div(a, b):
    return a / b


def p_pow(a, b):
    return a**b


def p_neg(x):
    return -x


def p_exp(x):
    return np.exp(x)


def p_log(x):
    return np.log(x)


def p_sqrt(x):
    return math.sqrt(x)


def p_tanh(x):
    return np.tanh(x)


def p_sin(x):
    return np.sin(x)


def p_cos(x):
    return math.cos(x)


def p_abs(x):
    return abs(x)


def p_maximum(a, b):
    return np.maximum(a, b)


def p_minimum(a, b):
    return np.minimum(a, b)


def p_max2(a, b):
    return max(a, b)


def p_min2(a, b):
    return min(a, b)


def p_sigmoid(x):
    return flatgen.sigmoid(x)


# --- language features ---

def const_pow(x):
    y = x**3 + x**-2.0 + x**0.5
    return y


def neg_base(x):
    return NEG * x**2 + (-x) ** 3 + 2.0**x + NEG**2


def rebinding(x, y):
    x = x * y
    x = x + y
    x = sigmoid(x)
    return x


def augmented(x, y):
    z = x
    z += y
    z -= 0.5 * x
    z *= y
    z /= 3.0
    z **= 2
    return z


def nested(a, b, c):
    return np.exp(-((a - b) ** 2) / (2 * c**2)) / (c * math.sqrt(2 * math.pi))


def constants(x):
    y = SCALE * x + TWO_PI
    return y * xp.cos(x) + math_exp(x) * math.e


def unused(x, y, z):
    w = y * 2.0
    return x * x


def returns_param(x, y):
    return x


def returns_constant(x):
    return 3.0


def square(u):
    v = u * u
    return v


def norm2(a, b):
    return math.sqrt(square(a) + square(b))


def uses_helpers(a, b):
    n = norm2(a, b)
    s = square(n)
    return n + s


def unary_plus(x):
    y = +x
    return -y * +2.0


def with_annotations(x: float, y: float) -> float:
    """A docstring, annotations and `pass`."""
    z: float = x * y
    pass
    return z


def shadow_names(grad_x, x, t1, np_, d1):
    t2 = grad_x * x
    grad_t2 = t2 + t1
    return grad_t2 * np_ + d1


def routers(a, b):
    return max(a, b) * np.minimum(a, b) + abs(a - b)


def deep_fanout(x):
    a = x * x
    b = a * x
    c = b * a + x
    return c * c


# --- the language of issue 4: tuples, several outputs, helpers with keywords, static branches ---

def moments(u, v):
    return u * v, u + v


def scaled(u, k=2.0, *, shift=0.5):
    return u * k + shift


def tuples(x, y):
    a, b = moments(x, y)
    b, a = a, b
    (c, d), e = (a * b, a - b), scaled(x, shift=y)
    return c * d + e + scaled(y, 3.0)


def two_outputs(x, y):
    loss = np.sin(x) * y
    aux = x * x + loss
    return loss, aux


def same_output_twice(x):
    y = x * x
    return y, y


def static_branches(x, y):
    if N_STEPS > 2 and not N_STEPS > 10:
        z = x * y
    elif N_STEPS > 0:
        z = x + y
    else:
        z = x - y
    w = z * 2.0 if N_STEPS == 3 else z
    return w * x


N_STEPS = 3


def select(x, y):
    z = x * y if x > y else x - y
    return z * z + (np.exp(x) if y < 0.5 else y)


def branchy(x, y):
    a = x * y
    if a > 0.5:
        z = np.sin(a) * x
        w = z + y
    elif x > 0:
        z = a - y
        w = 2.0 * z
    else:
        z = x
        w = y
    return z * w + a


def branch_arrays(v, k):
    s = np.sum(v * v)
    if s > k:
        v = v / np.sqrt(s)
        scale = k
    else:
        scale = 1.0
    return np.sum(np.tanh(v) * scale) + k * s
