"""Python as people write it (issue 14): numerical recipes, course code and small simulations, written
the way their authors write them, not to suit flatgen.  Each is checked in tests/test_python_idioms.py
as generated == interpreter == central differences, in the lecture and compact styles (and in math
mode, with loops kept as loops, where that applies)."""

import math

import numpy as np


# -- shapes, integers, early returns ------------------------------------------------------------------


def affine_mse(x, w, b):
    """Shapes unpacked before the first call: the decorator waits for them."""
    N, D = x.shape
    out = x.reshape(N, D) @ w + b
    return np.sum(out**2) / N


def conv_naive(x, w, b):
    """CS231n's naive convolution: output sizes with //, a padded copy, loops over filters and positions."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, pad = 2, 1
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out))
    for f in range(F):
        for i in range(H_out):
            for j in range(W_out):
                hs, ws = i * stride, j * stride
                window = x_pad[:, :, hs:hs + HH, ws:ws + WW]
                out[:, f, i, j] = np.sum(window * w[f], axis=(1, 2, 3)) + b[f]
    return np.sum(out**2)


def max_pool_naive(x):
    N, C, H, W = x.shape
    ph = pw = 2
    H_out, W_out = H // ph, W // pw
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = np.max(x[:, :, i * ph:(i + 1) * ph, j * pw:(j + 1) * pw], axis=(2, 3))
    return np.sum(out * out)


def halves(x):
    """Integer arithmetic on sizes: // and %, int() and len()."""
    half = len(x) // 2
    left, right = x[:half], x[half:]
    if len(x) % 2 == 1:
        right = right[1:]
    scale = float(int(len(x) * 1.5))
    return np.sum(left * right) / scale


def huber(r, delta):
    """Early returns on data."""
    a = abs(r)
    if a <= delta:
        return 0.5 * r * r
    return delta * (a - 0.5 * delta)


def piecewise(x):
    if x < -1.0:
        return -x - 0.5
    elif x < 1.0:
        return 0.5 * x * x
    else:
        return x - 0.5


def safe_log_ratio(a, b):
    """A guard that returns a constant on one path."""
    if b <= 0.0:
        return -30.0
    ratio = a / b
    if ratio < 1e-12:
        return -30.0
    return math.log(ratio)


def checked_norm(v):
    """Statements with no gradient: a docstring, asserts, print, pass, a string in the middle."""
    assert v.ndim == 1, "v must be a vector"
    print("norm of", v)
    """the squared norm, then its root"""
    s = np.sum(v * v)
    assert s >= 0.0
    pass
    return np.sqrt(s)


# -- loops over things ------------------------------------------------------------------------------


def deep_net(W1, W2, W3, x):
    h = x
    for W in [W1, W2, W3]:
        h = np.tanh(W @ h)
    return np.sum(h * h)


def rows_norm(X):
    """An array's rows, more than flatgen unrolls: kept as a loop over the index."""
    total = 0.0
    for row in X:
        total = total + np.sqrt(np.sum(row * row) + 1.0)
    return total


def horner(coeffs, x):
    acc = 0.0
    for c in reversed(coeffs):
        acc = acc * x + c
    return acc


def poly_eval(coeffs, x):
    return sum(c * x**k for k, c in enumerate(coeffs))


def dot_by_hand(w, x):
    return sum(w[i] * x[i] for i in range(len(x)))


def polyline_length(pts):
    return sum(np.sqrt(np.sum((b - a) ** 2)) for a, b in zip(pts[:-1], pts[1:]))


def gaussian_mixture_nll(x, mus, log_sigmas, logits):
    weights = np.exp(logits) / np.sum(np.exp(logits))
    density = 0.0
    for w, mu, ls in zip(weights, mus, log_sigmas):
        sigma = np.exp(ls)
        density = density + w * np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    return -np.log(density)


def ema(xs, alpha):
    """An exponential moving average over a long series (a loop kept as a loop)."""
    avg = xs[0]
    for x in xs[1:]:
        avg = alpha * avg + (1 - alpha) * x
    return avg


def euler_decay(k, y0, n):
    """Euler's method with a run-time number of steps."""
    dt = 1.0 / 16
    y = y0
    for step in range(n):
        y = y + dt * (-k * y * y)
    return y


def odd_steps(x, n):
    s = 0.0
    for i in range(1, n, 2):
        s = s + x**2 / i
    for i in reversed(range(n)):
        s = s * 0.9 + x * i
    return s


def rnn_forward(x, h0, Wx, Wh, b):
    """CS231n's rnn_forward: h[:, t, :] written from h[:, t - 1, :]."""
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    for t in range(T):
        if t == 0:
            prev_h = h0
        else:
            prev_h = h[:, t - 1, :]
        h[:, t, :] = np.tanh(x[:, t, :] @ Wx + prev_h @ Wh + b)
    return np.sum(h**2)


# -- continue and break ---------------------------------------------------------------------------------


def positive_part(xs, w):
    s = 0.0
    for i in range(len(xs)):
        if xs[i] < 0.0:
            continue
        s = s + w * xs[i] ** 2
    return s


def svm_loss_naive(W, X, y, reg):
    """CS231n's svm_loss_naive: skip the correct class, add positive margins."""
    num_classes = W.shape[1]
    num_train = X.shape[0]
    loss = 0.0
    for i in range(num_train):
        scores = X[i].dot(W)
        correct_class_score = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct_class_score + 1  # note delta = 1
            if margin > 0:
                loss += margin
    loss /= num_train
    loss += reg * np.sum(W * W)
    return loss


def softmax_loss_naive(W, X, y):
    loss = 0.0
    for i in range(X.shape[0]):
        scores = X[i] @ W
        scores -= np.max(scores)
        loss += -scores[y[i]] + np.log(np.sum(np.exp(scores)))
    return loss / X.shape[0]


def newton_sqrt(a, x):
    for it in range(50):
        x_new = x - (x * x - a) / (2.0 * x)
        if abs(x_new - x) < 1e-12:
            break
        x = x_new
    return x


def heron(a):
    x = a
    while True:
        x_new = 0.5 * (x + a / x)
        if abs(x_new - x) < 1e-12:
            break
        x = x_new
    return x


def shrink_until(x, rate):
    """A while loop with its own test and a break on data."""
    k = 0.0
    while x > 0.1:
        x = x * rate
        k = k + 1.0
        if k >= 20.0:
            break
    return x + 0.01 * k


def first_steps(x, w):
    """A break decided when the module is generated (a loop index), in a loop that is unrolled."""
    h = x
    for t in range(10):
        if t == 3:
            break
        h = np.sin(w * h) + x
    return h


def clipped_walk(x, w):
    """A break on data in an unrolled loop: the later steps run only while it has not been taken."""
    h = x
    for t in range(6):
        h = h * w + 0.1
        if h > 2.0:
            break
    return h


# -- lists, comprehensions, dicts -----------------------------------------------------------------------


def rnn_hidden_states(x, w, h0):
    hs = []
    h = h0
    for t in range(x.shape[0]):
        h = np.tanh(w * h + x[t])
        hs.append(h)
    H = np.stack(hs)
    return np.sum(H[-1] ** 2) + 0.1 * sum(np.sum(h) for h in hs)


def cached_layers(x, W1, W2):
    cache = []
    h = x
    for W in (W1, W2):
        z = W @ h
        cache.append((h, z))
        h = np.maximum(z, 0.0)
    last_in, last_z = cache[-1]
    return np.sum(h) + 0.5 * np.sum(last_z * last_in[0])


def leaky_list(xs):
    ys = [x if x > 0 else 0.01 * x for x in xs]
    return sum(y * y for y in ys) + max(ys) - min(ys[0], ys[1], ys[2])


def logsumexp_builtin(x):
    m = max(x)
    return m + np.log(sum(np.exp(v - m) for v in x))


def nearest_center(x, centers):
    return min(np.sum((x - c) ** 2) for c in centers)


def two_layer_dict(params, X, y):
    """A two-layer net whose weights live in a dict, as course code keeps them."""
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    hidden = np.maximum(X @ W1 + b1, 0.0)
    scores = hidden @ W2 + b2
    loss = np.mean((scores - y) ** 2)
    reg = 0.05 * sum(np.sum(params[k] ** 2) for k in ["W1", "W2"])
    return loss + reg


def dict_regularizer(params, x):
    total = 0.0
    for name, p in params.items():
        total = total + np.sum(np.tanh(p * x))
    return total


def meta_step(w, X, y, lr):
    """Three steps of gradient descent written out, then the loss: its gradient w.r.t. the step size."""
    losses = []
    for step in range(3):
        err = X @ w - y
        losses.append(np.mean(err**2))
        w = w - lr * 2.0 * X.T @ err / X.shape[0]
    return np.mean((X @ w - y) ** 2) + 0.0 * sum(losses)


def conv_forward_naive(x, w, b, conv_param):
    """CS231n's conv_forward_naive: the settings in a dict (its ints are constants of the module)."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, C, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    h_start, w_start = i * stride, j * stride
                    x_slice = x_pad[n, :, h_start:h_start + HH, w_start:w_start + WW]
                    out[n, f, i, j] = np.sum(x_slice * w[f]) + b[f]
    return np.sum(out * out)


def batchnorm_forward(x, gamma, beta, bn_param):
    """A mode string decides the path when the module is generated; the other path raises."""
    mode = bn_param["mode"]
    eps = bn_param["eps"]
    if mode == "train":
        sample_mean = np.mean(x, axis=0)
        sample_var = np.var(x, axis=0)
        x_hat = (x - sample_mean) / np.sqrt(sample_var + eps)
        out = gamma * x_hat + beta
    elif mode == "test":
        out = gamma * x + beta
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)
    return np.sum(out**2)


def in_band(x, lo, hi):
    """and / or / not on data: nested branches, evaluated as far as Python evaluates them."""
    if x > lo and x < hi:
        return (x - lo) * (hi - x)
    elif not x > lo or x > 2.0 * hi:
        return 0.1 * x
    return -0.5 * x


def pendulum_steps(state, dt):
    """An array unpacked by its rows; the angle wrapped with %."""
    theta, omega = state
    for step in range(8):
        omega = omega - 9.81 * np.sin(theta) * dt
        theta = (theta + omega * dt + np.pi) % (2 * np.pi) - np.pi
    return theta**2 + 0.1 * omega**2
