"""The language beyond straight-line arithmetic: branches on data, tuples, several outputs,
helpers with defaults, nested helpers, item assignment.  Their modules are in generated/."""

import numpy as np


def piecewise(x, y):
    """An if/elif/else on data: the branches stay branches in both passes."""
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


def moments(u, v):
    return u * v, u + v


def loss_and_aux(x, y):
    """Tuples from a helper, and two outputs: the gradient of the first, unless seed= says otherwise."""
    p, s = moments(x, y)
    loss = np.tanh(p) * s
    aux = p - s
    return loss, aux


def smooth_step(x, k=4.0, *, center=0.0):
    return 1 / (1 + np.exp(-k * (x - center)))


def features(v, w):
    """A nested pure helper, keyword arguments and defaults, item assignment into a local array."""
    def mix(a, b=0.5):
        return a * w + b

    z = np.zeros(3)
    z[0] = mix(v[0])
    z[1] = mix(v[1], b=w)
    z[2] = smooth_step(v[2], center=w)
    return np.sum(z * z)
