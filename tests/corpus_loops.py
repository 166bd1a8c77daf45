"""Loop programs for tests/test_loops.py: the corners of rolled loops (tuples updated together,
serial and triangular loops, elif chains, helpers that loop, indexing by arithmetic on the index,
while loops nested in for loops, in-place item updates, augmented assignment, a branch reading a
value from before its loop updated it).  Each entry of CASES: (arguments, positions of the ints).
"""

import numpy as np

def swap(x, y, n):
    a = x
    b = y
    for i in range(n):
        a, b = b, a * x + 0.1
    return a + 2.0 * b

def serial(xs: "(6,)", n):
    s = 0.0
    for i in range(n):
        s = s + xs[i] ** 2
    t = 0.0
    for i in range(n):
        t = t + xs[i] / (1.0 + s)
    return t

def elifs(x, w, n):
    h = x
    for i in range(n):
        if h > 1.0:
            h = h * 0.5
        elif h < -1.0:
            h = h * 0.25 + w
        else:
            h = h * w + 0.3
    return h

def poly(x, k):
    s = 0.0
    p = 1.0
    for i in range(k):
        s = s + p
        p = p * x
    return s

def loop_in_helper(x, w, n):
    y = x
    for i in range(n):
        y = poly(y * w, 3) * 0.3
    return y

def triangular(xs: "(5,)", n):
    s = 0.0
    for i in range(n):
        for j in range(i + 1):
            s = s + xs[i] * xs[j]
    return s

def matrix_rows(X: "(4, 3)", w: "(3,)", n):
    s = 0.0
    for i in range(n):
        r = X[i, :] * w
        s = s + np.sum(np.tanh(r))
    return s

def columns(X: "(4, 3)", n):
    z = np.zeros(3)
    for j in range(n):
        z[j] = np.sum(X[:, j] ** 2)
    return np.sum(np.sqrt(z + 1.0))

def reverse_index(xs: "(5,)", n):
    s = 0.0
    for i in range(n):
        s = s * 0.5 + xs[n - 1 - i]
    return s

def while_counter(x, w):
    k = 0.0
    y = x
    while k < 3.5:
        y = np.sin(y * w) + y
        k = k + 1.0
    return y

def while_nested(x, n):
    y = x
    for i in range(n):
        while y < 10.0:
            y = y * 1.7 + 0.1
        y = y - 9.0
    return y

def update_in_place(v: "(4,)", n):
    z = np.zeros(4)
    for i in range(n):
        z[i] += v[i] * z[i - 1] + v[i]
    return np.sum(z * z)

def aug(x, n):
    s = x
    for i in range(n):
        s *= 1.1
        s += x * i
    return s

def if_reads_old(x, n):
    s = x
    for i in range(n):
        t = s * 2.0
        s = s * s * 0.5
        if t > 1.0:
            s = s + t
    return s


def square_before_and_after(p, n):
    """compact: p * p before the loop is not p * p after it (no common subexpression across a loop)."""
    a = np.sin(p * p)
    for i in range(n):
        p = np.tanh(p + 0.5)
    return a + np.sin(p * p)


def made_then_looped(x, n):
    """compact: p is made here and updated by the loop itself (one variable, defined twice): p * p
    before the loop is not p * p after it."""
    p = x * 1.5
    a = np.sin(p * p)
    for i in range(n):
        p = np.tanh(p + 0.5)
    return a + np.sin(p * p)


def rebound_then_written(v: "(4,)", n):
    """z starts as w's array; w is bound to another one before the loop writes into z in place, so
    nothing else sees the writes (accepted), but the backward of w * w reads w's array: the loop must
    start from a copy of it."""
    w = v * 1.0
    z = w
    y = np.sum(w * w)
    w = v * 2.0
    for i in range(n):
        z[i] = z[i] * 2.0 + 1.0
    return y + np.sum(z * z) + np.sum(w)


def loop_then_loop_in_a_branch(p, n):
    """A while loop's variable, updated again by a loop in one branch of a later if."""
    g = 1.0
    while 0.1 < g:
        g = g * 0.5
        p = np.tanh(p + g)
    if p > 0.25:
        p = p + g
    else:
        for t in range(n):
            p = p - g
    return p


rng = np.random.default_rng(1)
CASES = {
    "swap": [((0.7, 0.4, n), (2,)) for n in (0, 1, 4)],
    "serial": [((rng.normal(size=6), n), (1,)) for n in (0, 3, 6)],
    "elifs": [((x, 0.8, n), (2,)) for x in (1.5, -1.7, 0.4) for n in (0, 3)],
    "loop_in_helper": [((0.6, 0.9, n), (2,)) for n in (0, 2)],
    "triangular": [((rng.normal(size=5), n), (1,)) for n in (0, 2, 5)],
    "matrix_rows": [((rng.normal(size=(4, 3)), rng.normal(size=3), n), (2,)) for n in (0, 4)],
    "columns": [((rng.normal(size=(4, 3)), n), (1,)) for n in (0, 3)],
    "reverse_index": [((rng.normal(size=5), n), (1,)) for n in (0, 5)],
    "while_counter": [((0.3, 1.2), ())],
    "while_nested": [((0.5, n), (1,)) for n in (0, 2)],
    "update_in_place": [((rng.normal(size=4), n), (1,)) for n in (0, 1, 4)],
    "aug": [((0.5, n), (1,)) for n in (0, 3)],
    "if_reads_old": [((x, n), (1,)) for x in (0.3, 0.9) for n in (0, 3)],
    "square_before_and_after": [((0.7, n), (1,)) for n in (0, 2)],
    "made_then_looped": [((0.7, n), (1,)) for n in (0, 2)],
    "rebound_then_written": [((rng.normal(size=4), n), (1,)) for n in (0, 3)],
    "loop_then_loop_in_a_branch": [((x, n), (1,)) for x in (1.13, -2.0) for n in (0, 3)],
}
