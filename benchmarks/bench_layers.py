"""Layers (issue 15): flatgen's forward/backward pairs against hand-written course layers.

    python benchmarks/bench_layers.py [--repeats 300]

1. Cache size: for affine, relu, batchnorm and an RNN step, the arrays and bytes each cache keeps,
   flatgen's (`*_forward` of the layer form) against the course's (benchmarks/course_layers.py).
   Target: at most the hand-written cache plus 10%.
2. Time: forward + backward of affine -> relu -> affine -> softmax loss (batch 64, 784 -> 100 -> 10),
   the generated layers against the course's, median per call, measured alternately in one run.
   Target: within 1.1x.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import course_layers as course  # noqa: E402

N, D, H, C = 64, 784, 100, 10


def generated(fn_name: str, shapes: dict | None, wrt=None):
    """The layer's generated module (form="layer"), made in memory."""
    import flatgen
    import layers

    return flatgen.flat(getattr(layers, fn_name), shapes=shapes, wrt=wrt, form="layer").module


def cache_cases(rng):
    """(layer, flatgen's forward, the course's forward, arguments) at the benchmark's sizes."""
    x, xb = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    rnn = (rng.standard_normal((N, 32)), rng.standard_normal((N, H)), rng.standard_normal((32, H)),
           rng.standard_normal((H, H)), rng.standard_normal(H))
    return [
        ("affine", generated("affine", {"x": (N, D), "w": (D, H), "b": (H,)}).affine_forward,
         course.affine_forward, (x, rng.standard_normal((D, H)), rng.standard_normal(H))),
        ("relu", generated("relu", None).relu_forward, course.relu_forward, (xb,)),
        ("batchnorm", generated("batchnorm", {"x": (N, H), "gamma": (H,), "beta": (H,)}).batchnorm_forward,
         course.batchnorm_forward, (xb, rng.standard_normal(H), rng.standard_normal(H))),
        ("rnn_step", generated("rnn_step", {"x": (N, 32), "prev_h": (N, H), "Wx": (32, H), "Wh": (H, H),
                                            "b": (H,)}).rnn_step_forward, course.rnn_step_forward, rnn),
    ]


def cache_table(rng) -> list[tuple]:
    rows = []
    for name, ours, theirs, args in cache_cases(rng):
        (n_ours, b_ours), (n_theirs, b_theirs) = course.cache_size(ours(*args)[1]), course.cache_size(theirs(*args)[1])
        rows.append((name, n_ours, b_ours, n_theirs, b_theirs))
    return rows


def network(rng):
    """The two implementations of forward + backward of the network, on the same data."""
    X, y = rng.standard_normal((N, D)), rng.integers(0, C, size=N)
    w1, b1 = rng.standard_normal((D, H)) * 0.01, np.zeros(H)
    w2, b2 = rng.standard_normal((H, C)) * 0.01, np.zeros(C)
    a1 = generated("affine", {"x": (N, D), "w": (D, H), "b": (H,)})
    relu = generated("relu", None)
    a2 = generated("affine", {"x": (N, H), "w": (H, C), "b": (C,)})
    loss = generated("softmax_loss", {"x": (N, C), "y": (N,)}, wrt=("x",))

    def flat():
        h, c1 = a1.affine_forward(X, w1, b1)
        r, cr = relu.relu_forward(h)
        s, c2 = a2.affine_forward(r, w2, b2)
        value, cl = loss.softmax_loss_forward(s, y)
        (ds,) = loss.softmax_loss_backward(1.0, cl)
        dr, dw2, db2 = a2.affine_backward(ds, c2)
        (dh,) = relu.relu_backward(dr, cr)
        _, dw1, db1 = a1.affine_backward(dh, c1)
        return value, (dw1, db1, dw2, db2)

    def hand():
        h, c1 = course.affine_forward(X, w1, b1)
        r, cr = course.relu_forward(h)
        s, c2 = course.affine_forward(r, w2, b2)
        value, ds = course.softmax_loss(s, y)
        dr, dw2, db2 = course.affine_backward(ds, c2)
        dh = course.relu_backward(dr, cr)
        _, dw1, db1 = course.affine_backward(dh, c1)
        return value, (dw1, db1, dw2, db2)

    return flat, hand


def median_times(fns: dict, repeats: int) -> dict:
    """Median seconds per call of each, measured alternately (the machine's load hits both alike)."""
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{platform.python_implementation()} {platform.python_version()}, numpy {np.__version__}")
    print("\ncache kept between forward and backward (flatgen vs the course's hand-written layer)")
    print(f"{'layer':<10} {'arrays':>7} {'course':>7} {'bytes':>10} {'course':>10} {'ratio':>6}")
    for name, n, b, n_c, b_c in cache_table(rng):
        print(f"{name:<10} {n:>7} {n_c:>7} {b:>10,} {b_c:>10,} {b / b_c:>6.2f}")
    flat, hand = network(rng)
    v1, g1 = flat()
    v2, g2 = hand()
    assert abs(v1 - v2) <= 1e-12 * abs(v2) and all(np.allclose(a, b, rtol=1e-10, atol=1e-14) for a, b in zip(g1, g2))
    for _ in range(20):  # warm up
        flat(), hand()
    t = median_times({"flatgen": flat, "course": hand}, args.repeats)
    print(f"\nforward + backward, affine-relu-affine-softmax, batch {N}, {D} -> {H} -> {C} (median of {args.repeats})")
    print(f"course layers, hand-written  {t['course'] * 1e6:8.1f} us  1.000x")
    print(f"flatgen layer form           {t['flatgen'] * 1e6:8.1f} us  {t['flatgen'] / t['course']:.3f}x")


if __name__ == "__main__":
    main()
