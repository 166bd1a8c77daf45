"""Train a two-layer network on a spiral of three classes with flatgen's generated layers and plain SGD.

    python examples/train.py            # from the repository's root: about 1 s, training accuracy >= 95%

The network is the course's: affine -> relu -> affine -> softmax loss.  Every forward and backward pass
is a function of a module in generated/ (the layers of examples/layers.py, made with form = "layer"):
`*_forward` returns (out, cache), `*_backward(dout, cache)` the gradients, and the upstream gradient
flows from the loss back through each layer.  Nothing here differentiates anything.
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "generated"))

import layers_affine as hidden  # noqa: E402  x (300, 2) @ w (2, 100) + b
import layers_affine_scores as scores  # noqa: E402  h (300, 100) @ w (100, 3) + b
import layers_relu as relu  # noqa: E402
import layers_softmax_loss as loss_layer  # noqa: E402  the scores (300, 3) and the labels (300,)

POINTS, CLASSES, HIDDEN = 100, 3, 100  # 100 points per class: the shapes the modules were made for


def spiral(points: int = POINTS, classes: int = CLASSES, seed: int = 0):
    """The course's spiral dataset: `classes` arms of `points` noisy points each, in the plane."""
    rng = np.random.default_rng(seed)
    X = np.zeros((points * classes, 2))
    y = np.zeros(points * classes, dtype=int)
    for k in range(classes):
        rows = slice(points * k, points * (k + 1))
        radius = np.linspace(0.0, 1.0, points)
        theta = np.linspace(k * 4.0, (k + 1) * 4.0, points) + rng.standard_normal(points) * 0.2
        X[rows] = np.c_[radius * np.sin(theta), radius * np.cos(theta)]
        y[rows] = k
    return X, y


def train(steps: int = 3000, learning_rate: float = 1.0, seed: int = 0, log_every: int = 0):
    """Full-batch SGD on the spiral; returns (training accuracy, final loss, seconds)."""
    X, y = spiral(seed=seed)
    rng = np.random.default_rng(seed + 1)
    params = {
        "w1": 0.5 * rng.standard_normal((2, HIDDEN)), "b1": np.zeros(HIDDEN),
        "w2": 0.1 * rng.standard_normal((HIDDEN, CLASSES)), "b2": np.zeros(CLASSES),
    }
    start = time.perf_counter()
    loss = float("nan")
    for step in range(steps):
        # forward: each layer returns its output and what its backward pass will read
        a1, cache1 = hidden.affine_forward(X, params["w1"], params["b1"])
        h1, cache_relu = relu.relu_forward(a1)
        s, cache2 = scores.affine_forward(h1, params["w2"], params["b2"])
        loss, cache_loss = loss_layer.softmax_loss_forward(s, y)
        # backward: the upstream gradient, layer by layer (the loss's own upstream gradient is 1.0)
        (ds,) = loss_layer.softmax_loss_backward(1.0, cache_loss)
        dh1, dw2, db2 = scores.affine_backward(ds, cache2)
        (da1,) = relu.relu_backward(dh1, cache_relu)
        _, dw1, db1 = hidden.affine_backward(da1, cache1)
        for name, grad in (("w1", dw1), ("b1", db1), ("w2", dw2), ("b2", db2)):
            params[name] -= learning_rate * grad
        if log_every and step % log_every == 0:
            print(f"step {step:5d}  loss {loss:.4f}")
    seconds = time.perf_counter() - start
    a1, _ = hidden.affine_forward(X, params["w1"], params["b1"])
    h1, _ = relu.relu_forward(a1)
    s, _ = scores.affine_forward(h1, params["w2"], params["b2"])
    accuracy = float(np.mean(np.argmax(s, axis=1) == y))
    return accuracy, float(loss), seconds


if __name__ == "__main__":
    accuracy, loss, seconds = train(log_every=500)
    print(f"training accuracy {accuracy:.1%}, loss {loss:.4f}, {seconds:.2f} s")
