"""The layers of the course's second half, written as the lectures write them.

Each function is a layer: its output is an array (a loss, for the last one), and flatgen gives it
the course's pair (`form = "layer"` in pyproject.toml): `<name>_forward(...)` returns `(out, cache)`,
`<name>_backward(dout, cache)` the gradients, from the upstream gradient `dout`.  Their modules are in
generated/ (layers_*.py) and examples/train.py trains a network made of them.
"""

import numpy as np

EPS = 1e-5  # batchnorm: keeps the division away from zero


def affine(x, w, b):
    """A fully connected layer: x (N, D) times w (D, M), plus b (M,)."""
    out = x @ w + b
    return out


def relu(x):
    """max(0, x), elementwise: the gradient passes where x was positive."""
    out = np.maximum(x, 0.0)
    return out


def batchnorm(x, gamma, beta):
    """Batch normalization in training mode, staged as on the slide: each column of x (N, D) is
    normalized with the batch's mean and variance, then scaled by gamma and shifted by beta."""
    mu = np.mean(x, axis=0)
    xmu = x - mu
    var = np.mean(xmu**2, axis=0)
    std = np.sqrt(var + EPS)
    xhat = xmu / std
    out = gamma * xhat + beta
    return out


def softmax_loss(x, y):
    """Softmax cross-entropy of the scores x (N, C) for the integer labels y (N,), averaged: each row's
    log-probability of its correct class, picked by fancy indexing (y is an index, never differentiated)."""
    N = x.shape[0]
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    return loss


def rnn_step(x, prev_h, Wx, Wh, b):
    """One step of a vanilla RNN: the next hidden state from the input x (N, D) and the previous one (N, H)."""
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h
