"""Hessian-vector products of the MLP (examples/vectorized.py:mlp, 64x784 -> 100 -> 10), in one run:

    python benchmarks/bench_hvp.py [--repeats 100]

- flatgen: the generated <name>_hvp (forward mode over the gradient graph, `--hvp`), made in memory;
- JAX: jax.jit(lambda p, v: jax.jvp(jax.grad(f), (p,), (v,))[1]), float64 (when installed: the bench extras);
- finite differences of two gradients (the generated <name>_value_and_grad at p + h v and p - h v,
  h = 1e-6 * max |p|): about the same cost, and not exact.
Prints the median time of each and the ratios to JAX's, and the error of each against a reference
(JAX's product, else flatgen's): flatgen's to rounding, the differences' to their truncation and
cancellation error.  Target (issue 17): flatgen <= 1.5x JAX; exact where differences are not.

numpy's BLAS runs on one thread here (OPENBLAS_NUM_THREADS=1 unless set): beside JAX's own thread
pool on a small shared machine, BLAS's threads oversubscribe the cores and numpy's timings swing by 100x.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads its BLAS (see the docstring)

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET = "examples/vectorized.py:mlp"


def generated_module():
    import types

    from flatgen.config import load_config
    from flatgen.parse import load_target
    from flatgen.pipeline import generate

    os.chdir(ROOT)
    job = load_config().find(TARGET)
    src, fn = load_target(job.target)
    g = generate(src, fn, replace(job.options, hvp=True))
    module = types.ModuleType("mlp_hvp")
    exec(compile(g.source, "<mlp_hvp>", "exec"), module.__dict__)
    return module


def median_time(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=100)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(64, 784)), rng.normal(size=(64, 10))
    params = [rng.normal(size=s) * 0.05 for s in ((784, 100), (100,), (100, 10), (10,))]
    vec = [rng.normal(size=np.shape(p)) for p in params]
    mod = generated_module()

    def flatgen_hvp():
        return mod.mlp_hvp(X, *params, Y, *vec)

    h = 1e-6 * max(float(np.max(np.abs(p))) for p in params)

    def differences():
        up = mod.mlp_value_and_grad(X, *[p + h * v for p, v in zip(params, vec)], Y)[1]
        down = mod.mlp_value_and_grad(X, *[p - h * v for p, v in zip(params, vec)], Y)[1]
        return [(u - d) / (2 * h) for u, d in zip(up, down)]

    rows = [("flatgen mlp_hvp", flatgen_hvp), ("differences of 2 gradients", differences)]
    reference = None
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)

        def loss(p):
            W1, b1, W2, b2 = p
            H = jnp.maximum(X @ W1 + b1, 0.0)
            return jnp.mean((H @ W2 + b2 - Y) ** 2)

        jhvp = jax.jit(lambda p, v: jax.jvp(jax.grad(loss), (p,), (v,))[1])
        jp, jv = [jnp.asarray(p) for p in params], [jnp.asarray(v) for v in vec]

        def jax_hvp():
            return [x.block_until_ready() for x in jhvp(jp, jv)]

        rows.insert(1, ("jax.jit(jvp(grad(f)))", jax_hvp))
        reference = [np.asarray(x) for x in jax_hvp()]
    except ImportError:
        print("(JAX not installed: pip install -e '.[bench]' for the reference)")
    if reference is None:
        reference = flatgen_hvp()
    scale = max(float(np.max(np.abs(r))) for r in reference)
    times = {name: median_time(fn, args.repeats) for name, fn in rows}
    base = times.get("jax.jit(jvp(grad(f)))")
    print(f"MLP 64x784 -> 100 -> 10, Hessian-vector product, median of {args.repeats}:")
    for name, fn in rows:
        err = max(float(np.max(np.abs(np.asarray(a) - r))) for a, r in zip(fn(), reference)) / scale
        ratio = f"{times[name] / base:5.2f}x JAX" if base else ""
        print(f"  {name:28s} {times[name] * 1e3:8.3f} ms  {ratio}  max error / max |Hv|: {err:.1e}")


if __name__ == "__main__":
    main()
