"""The lecture's point about the two modes, with numbers, in one run:

    python benchmarks/bench_modes.py [--n 200] [--m 200] [--repeats 20]

- n inputs -> 1 output, `wide(x, W) = sum(tanh(W @ x)**2)` over the n entries of x: the whole gradient
  is one reverse pass (<name>_value_and_grad) or n forward passes (<name>_jvp, one unit tangent each);
- 1 input -> m outputs, `tall(t, k) = sin(t * k) * exp(-t * k / m)` for the m entries of k: the whole
  Jacobian (a column) is one forward pass or m reverse passes (one unit seed per output).
For each: the median time of the whole derivative by each mode, and its operation count (statements run:
the generated function's statements, times the passes), with the ratio of the two.  Both modes' results
agree (checked).  numpy's BLAS runs on one thread (OPENBLAS_NUM_THREADS=1 unless set).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import flatgen  # noqa: E402


def wide(x, W):
    """n inputs (x), one output."""
    h = np.tanh(W @ x)
    return np.sum(h**2)


def tall(t, k):
    """One input (t), m outputs."""
    u = t * k
    return np.sin(u) * np.exp(-u / 10.0)


def median_time(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def statements(graph) -> int:
    """Statements a function runs once per pass: its graph's equations (no loops here)."""
    return len(graph.eqns)


def module_of(fn, example, wrt):
    f = flatgen.flat(fn, wrt=wrt, example=example)
    from dataclasses import replace

    from flatgen.pipeline import generate

    g = generate(f._src, f._node, replace(f.generated.options, jvp=True))
    return f, g, f._module_of(g)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--m", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    n, m = args.n, args.m

    x, W = rng.normal(size=n), rng.normal(size=(8, n)) / np.sqrt(n)
    _, g, wmod = module_of(wide, (x, W), ("x",))
    eye = np.eye(n)

    def reverse_wide():
        return wmod.wide_value_and_grad(x, W)[1][0]

    def forward_wide():
        return np.array([wmod.wide_jvp(x, W, eye[i])[1] for i in range(n)])

    assert np.allclose(reverse_wide(), forward_wide(), rtol=1e-10, atol=1e-12)
    rows = [(f"{n} inputs -> 1 output (the gradient)", "reverse", 1, statements(g.grad_graph), reverse_wide),
            ("", "forward", n, statements(g.tangent_graphs[0][2]), forward_wide)]

    t, k = 0.7, rng.uniform(0.5, 2.0, size=m)
    _, g, tmod = module_of(tall, (t, k), ("t",))
    seeds = np.eye(m)

    def forward_tall():
        return tmod.tall_jvp(t, k, 1.0)[1]

    def reverse_tall():
        return np.array([tmod.tall_value_and_grad(t, k, seeds[j])[1][0] for j in range(m)])

    assert np.allclose(forward_tall(), reverse_tall(), rtol=1e-10, atol=1e-12)
    rows += [(f"1 input -> {m} outputs (the Jacobian)", "forward", 1, statements(g.tangent_graphs[0][2]), forward_tall),
             ("", "reverse", m, statements(g.grad_graph), reverse_tall)]

    print(f"{'':40s} {'mode':8s} {'passes':>6s} {'statements':>10s} {'time':>10s}")
    for k0 in range(0, len(rows), 2):
        cheap, dear = rows[k0], rows[k0 + 1]
        out = []
        for label, mode, passes, per_pass, fn in (cheap, dear):
            ms = median_time(fn, args.repeats) * 1e3
            out.append((passes * per_pass, ms))
            print(f"{label:40s} {mode:8s} {passes:6d} {passes * per_pass:10d} {ms:8.3f} ms")
        print(f"{'':40s} {dear[1]} / {cheap[1]}: {out[1][0] / out[0][0]:.1f}x the statements, "
              f"{out[1][1] / out[0][1]:.1f}x the time")


if __name__ == "__main__":
    main()
