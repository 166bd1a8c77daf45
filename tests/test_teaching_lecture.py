"""The lecture's circuits that examples/ writes differently, as the teaching tests read them (no tests here).

tests/golden/neuron_gates.svg shows these line numbers: edit below the functions, not above them.
"""

import numpy as np


def neuron_gates(w0, x0, w1, x1, w2):
    """The lecture's sigmoid neuron, written gate by gate: *, *, +, +, *-1, exp, +1, 1/x."""
    a = w0 * x0
    b = w1 * x1
    c = a + b
    s = c + w2
    n = s * -1.0
    e = np.exp(n)
    d = e + 1.0
    f = 1.0 / d
    return f


def circuit_q(x, y, z):
    """The lecture's first circuit with its intermediate named: q = x + y, f = q * z."""
    q = x + y
    f = q * z
    return f


NEURON_AT = (2.0, -1.0, -3.0, -2.0, -3.0)
NEURON_GRADS = [-0.20, 0.39, -0.39, -0.59, 0.20]
