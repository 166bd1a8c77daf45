"""The vectorized examples of the lectures: numpy arrays, matmul, broadcasting, reductions.

Each function returns a scalar loss.  Their modules are specialised to the shapes listed in
pyproject.toml ([tool.flatgen]); `flatgen.flat(f)` specialises on the first call instead.
"""

import numpy as np

from flatgen import sigmoid


def vector_norm(W, x):
    """f = ||W x||^2: at W = [[0.1, 0.5], [-0.3, 0.8]], x = [0.2, 0.4],
    grad_W = [[0.088, 0.176], [0.104, 0.208]] and grad_x = [-0.112, 0.636]."""
    q = W @ x
    f = np.sum(q**2)
    return f


def mlp(X, W1, b1, W2, b2, Y):
    """A two-layer ReLU network, mean squared error over a batch."""
    H = np.maximum(X @ W1 + b1, 0.0)
    P = H @ W2 + b2
    loss = np.mean((P - Y) ** 2)
    return loss


def softmax_xent(X, W, b, Y):
    """Softmax cross-entropy in the stable form: the row maximum is subtracted before exp."""
    Z = X @ W + b
    Z = Z - np.max(Z, axis=1, keepdims=True)
    logp = Z - np.log(np.sum(np.exp(Z), axis=1, keepdims=True))
    loss = -np.mean(np.sum(Y * logp, axis=1))
    return loss


def logreg(w, b, X, y):
    """Logistic regression with binary cross-entropy."""
    p = sigmoid(X @ w + b)
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    return loss


def net222(x, W1, b1, W2, b2, t):
    """The 2-2-2 sigmoid network of examples/lecture.py, in vector form (b1, b2 shared scalars)."""
    h = sigmoid(W1 @ x + b1)
    o = sigmoid(W2 @ h + b2)
    E = 0.5 * np.sum((t - o) ** 2)
    return E


def rnn(xs, h, Wxh, Whh, Why, ys):
    """A tanh RNN over four time steps, squared error at each step (the loop is unrolled)."""
    loss = 0.0
    for t in range(4):
        h = np.tanh(Wxh @ xs[t] + Whh @ h)
        y = Why @ h
        loss = loss + 0.5 * np.sum((y - ys[t]) ** 2)
    return loss
