"""The MLP 64x784 -> 100 -> 10: value and gradient, flatgen's generated module against references.

    python benchmarks/bench_mlp.py [--repeats 300]

References measured in the same run: the hand-written numpy backprop a person writes for this
network, and JAX (jit, float64), PyTorch (float64) and autograd when installed
(`pip install -e ".[bench]"`).  Prints the median time per call of each and its ratio to the
hand-written numpy code, plus the generated gradient's cost relative to its own forward pass.
Targets (issue 3, 7): generated / hand-written <= 1.05; gradient / forward <= 1.9.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHAPES = dict(n=64, d=784, h=100, k=10)


def load_generated():
    spec = importlib.util.spec_from_file_location("vectorized_mlp", ROOT / "generated" / "vectorized_mlp.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def variant(**options):
    """The MLP's module generated in memory with other options (style, free)."""
    from dataclasses import replace

    from flatgen.config import load_config
    from flatgen.parse import load_target
    from flatgen.pipeline import generate

    import os

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        job = next(j for j in load_config().jobs if j.target.endswith(":mlp"))
        g = generate(*load_target(job.target), replace(job.options, **options))
    finally:
        os.chdir(cwd)
    ns: dict = {}
    exec(compile(g.source, "mlp", "exec"), ns)
    return ns["mlp_value_and_grad"]


def peak_memory(fn) -> int:
    """Peak bytes allocated during one call (tracemalloc sees numpy's buffers)."""
    import tracemalloc

    fn()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def hand_written(X, W1, b1, W2, b2, Y):
    """The backprop a person writes for this network."""
    A = X @ W1 + b1
    H = np.maximum(A, 0.0)
    P = H @ W2 + b2
    D = P - Y
    loss = np.mean(D**2)
    dP = D * (2.0 / D.size)
    dW2 = H.T @ dP
    db2 = dP.sum(axis=0)
    dH = dP @ W2.T
    dA = dH * (A >= 0)
    return loss, (X.T @ dA, dA.sum(axis=0), dW2, db2)


def peers(args):
    """(name, callable) for each peer library that is installed."""
    found = []
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        def jloss(X, W1, b1, W2, b2, Y):
            H = jnp.maximum(X @ W1 + b1, 0.0)
            return jnp.mean((H @ W2 + b2 - Y) ** 2)

        jf = jax.jit(jax.value_and_grad(jloss, argnums=(1, 2, 3, 4)))
        jargs = [jnp.asarray(a) for a in args]

        def run_jax():
            v, g = jf(*jargs)
            jax.block_until_ready(g)
            return v, g

        found.append((f"JAX {jax.__version__} (jit, float64)", run_jax))
    except ImportError:
        pass
    try:
        import torch

        targs = [torch.tensor(a) for a in args]
        for t in targs[1:5]:
            t.requires_grad_(True)

        def run_torch():
            X, W1, b1, W2, b2, Y = targs
            for t in targs[1:5]:
                t.grad = None
            loss = torch.mean((torch.relu(X @ W1 + b1) @ W2 + b2 - Y) ** 2)
            loss.backward()
            return loss, [t.grad for t in targs[1:5]]

        found.append((f"PyTorch {torch.__version__} (eager, float64)", run_torch))
    except ImportError:
        pass
    try:
        import autograd
        import autograd.numpy as anp

        def aloss(W1, b1, W2, b2, X, Y):
            H = anp.maximum(anp.dot(X, W1) + b1, 0.0)
            return anp.mean((anp.dot(H, W2) + b2 - Y) ** 2)

        af = autograd.value_and_grad(aloss, argnum=[0, 1, 2, 3])
        X, W1, b1, W2, b2, Y = args
        found.append(("autograd", lambda: af(W1, b1, W2, b2, X, Y)))
    except ImportError:
        pass
    return found


def median_time(fn, repeats: int) -> float:
    for _ in range(10):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    args_ns = parser.parse_args()
    rng = np.random.default_rng(0)
    n, d, h, k = SHAPES.values()
    args = (rng.normal(size=(n, d)), rng.normal(size=(d, h)) * 0.05, rng.normal(size=h) * 0.1,
            rng.normal(size=(h, k)) * 0.1, rng.normal(size=k) * 0.1, rng.normal(size=(n, k)))
    mod = load_generated()
    value, grads = mod.mlp_value_and_grad(*args)
    ref_value, ref_grads = hand_written(*args)
    assert np.isclose(value, ref_value, rtol=1e-12) and all(
        np.allclose(g, r, rtol=1e-10, atol=1e-14) for g, r in zip(grads, ref_grads)), "results differ"

    compact = variant(style="compact")
    compact_free = variant(style="compact", free=True)
    rows = [("hand-written numpy (reference)", lambda: hand_written(*args)),
            ("flatgen generated (lecture, committed)", lambda: mod.mlp_value_and_grad(*args)),
            ("flatgen generated, compact", lambda: compact(*args)),
            ("flatgen generated, compact + free", lambda: compact_free(*args)),
            *peers(args)]
    results = []
    # Interleave rounds so that drift in the machine's speed hits every entry alike.
    rounds = 5
    per = max(args_ns.repeats // rounds, 1)
    samples = {name: [] for name, _ in rows}
    for _ in range(rounds):
        for name, fn in rows:
            samples[name].append(median_time(fn, per))
    for name, _ in rows:
        results.append((name, statistics.median(samples[name])))
    forward = median_time(lambda: mod.mlp(*args), args_ns.repeats)
    ref = results[0][1]
    print(f"MLP {n}x{d} -> {h} -> {k}, float64, value and gradient; numpy {np.__version__}, "
          f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}")
    peaks = {name: peak_memory(fn) for name, fn in rows[:4]}
    print(f"{'implementation':44} {'median':>12} {'vs hand-written':>16} {'peak memory':>12}")
    for name, t in results:
        peak = f"{peaks[name] / 1e6:9.2f} MB" if name in peaks else ""
        print(f"{name:44} {t * 1e6:10.1f} us {t / ref:15.3f}x {peak:>12}")
    gen = results[1][1]
    print(f"{'flatgen forward only':44} {forward * 1e6:10.1f} us   gradient/forward {gen / forward:.2f}x")


if __name__ == "__main__":
    main()
