"""The seed examples of the backpropagation lectures, in flatgen's subset.

Generate their modules with `flatgen generate` (targets listed in pyproject.toml) or one at a
time: `flatgen show examples/lecture.py:neuron`.
"""

from flatgen import sigmoid


def neuron(w0, x0, w1, x1, w2):
    """A single sigmoid neuron: the 'flat gradient code' slide."""
    s0 = w0 * x0
    s1 = w1 * x1
    s2 = s0 + s1
    s3 = s2 + w2
    L = sigmoid(s3)
    return L


def circuit(x, y, z):
    """f = (x + y) * z: at (-2, 5, -4) the value is -12 and the gradient (-4, -4, 3)."""
    f = (x + y) * z
    return f


def net222(i1, i2, w1, w2, w3, w4, w5, w6, w7, w8, b1, b2, t1, t2):
    """Two inputs, two sigmoid hidden units, two sigmoid outputs, squared-error loss."""
    h1 = sigmoid(w1 * i1 + w2 * i2 + b1)
    h2 = sigmoid(w3 * i1 + w4 * i2 + b1)
    o1 = sigmoid(w5 * h1 + w6 * h2 + b2)
    o2 = sigmoid(w7 * h1 + w8 * h2 + b2)
    E = 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2
    return E


def fanout(x, y):
    """x is used three times: its gradient adds up (the copy gate)."""
    f = x * x + 3 * x * y
    return f
