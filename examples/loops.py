"""Loops that stay loops: flatgen keeps them rolled in both passes.

The forward loop saves what the backward loop will read (one list per value, appended); the
backward loop runs the body's adjoints in reverse order, taking the values back (popped).
"""

import numpy as np


def rnn(x: float, w: float, n: int):
    """A scalar recurrence run n times: n is known only when the function is called."""
    h = x
    for i in range(n):
        h = np.tanh(h * w)
    return h


def weighted_sum(xs: "(8,)", w, n):
    """Index with the loop's variable: xs[i] reads one element per iteration."""
    s = 0.0
    for i in range(n):
        s = s + xs[i] * w**i
    return s


def newton_sqrt(a: float, x: float):
    """A `while` on data: Newton's method for sqrt(a), differentiated through its iterations."""
    while abs(x * x - a) > 1e-12:
        x = x - (x * x - a) / (2.0 * x)
    return x


def damped(x: float, w: float, n: int, m: int):
    """Nested loops, and an `if` on data inside the outer one."""
    h = x
    for i in range(n):
        s = 0.0
        for j in range(m):
            s = s + np.sin(h * w + j)
        h = h + 0.1 * s
        if h > 1.0:
            h = 0.5 * h
    return h


def gate(v, c):
    """A helper: calls are inlined, in loops and branches too."""
    return v * sigmoid_like(c * v)


def sigmoid_like(z):
    return 1.0 / (1.0 + np.exp(-z))


def gated(x: float, c: float, n: int):
    """A loop inside an `if` on data, and helper calls in both."""
    y = x
    if x > 0.0:
        for i in range(n):
            y = gate(y, c) + x
    else:
        y = gate(x, c)
    return y


def rnn_net(W: "(4, 4)", U: "(4, 3)", xs: "(10, 3)", h0: "(4,)", n: int):
    """A vectorised RNN over the first n rows of xs: h = tanh(W @ h + U @ xs[t])."""
    h = h0
    for t in range(n):
        h = np.tanh(W @ h + U @ xs[t])
    return np.sum(h * h)


def running_max(xs: "(64,)"):
    """A constant loop of 64 iterations: too long to unroll, so it stays a loop; it writes into a
    local array with the loop's variable (z[i] = ...)."""
    z = np.zeros(64)
    m = xs[0]
    for i in range(64):
        m = np.maximum(m, xs[i])
        z[i] = m * xs[i]
    return np.sum(z)
