"""Rolled loops: a tanh RNN run for a run-time number of steps, value and gradient.

    python benchmarks/bench_loops.py [--steps 200] [--hidden 64] [--samples 15]

Compares, in the same run: hand-written numpy (forward loop saving h in a list, backward loop
popping it: the reference), flatgen's generated module (the loop kept rolled: `n` is a parameter),
and when installed (`pip install -e ".[bench]"`) JAX (jit of value_and_grad over lax.scan, compiled
for this n) and PyTorch (eager autograd).  Also the scalar recurrence of examples/loops.py:rnn on
Python floats against a hand-written float loop, and the time to generate a module for a constant
loop of that many steps kept rolled versus unrolled.  Prints medians and ratios to the reference.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import timeit
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def hand_written(W, U, xs, h0, n):
    h = h0
    hs = []
    for t in range(n):
        hs.append(h)
        h = np.tanh(W @ h + U @ xs[t])
    loss = np.sum(h * h)
    grad_h = 2.0 * h
    grad_W = np.zeros_like(W)
    grad_U = np.zeros_like(U)
    for t in reversed(range(n)):
        grad_a = grad_h * (1 - h**2)
        h = hs.pop()
        grad_W += np.outer(grad_a, h)
        grad_U += np.outer(grad_a, xs[t])
        grad_h = W.T @ grad_a
    return loss, (grad_W, grad_U, grad_h)


def hand_written_floats(x, w, n):
    h = x
    hs = []
    for i in range(n):
        hs.append(h)
        h = math.tanh(h * w)
    grad_h, grad_w = 1.0, 0.0
    for i in reversed(range(n)):
        grad_t = grad_h * (1 - h * h)
        h = hs.pop()
        grad_h = grad_t * w
        grad_w += grad_t * h
    return h, (grad_h, grad_w)


def generated(target: str, **options):
    from flatgen.parse import load_target
    from flatgen.pipeline import Options, generate

    g = generate(*load_target(str(ROOT / "examples" / "loops.py") + ":" + target), Options(**options))
    ns: dict = {}
    exec(compile(g.source, target, "exec"), ns)
    return ns[f"{target}_value_and_grad"]


def jax_version(n):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)

    def loss(W, U, xs, h0):
        def step(h, x):
            return jnp.tanh(W @ h + U @ x), None
        h, _ = jax.lax.scan(step, h0, xs[:n])
        return jnp.sum(h * h)

    vg = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 3)))
    return lambda W, U, xs, h0, n: jax.block_until_ready(vg(W, U, xs, h0))


def torch_version():
    import torch

    def vg(W, U, xs, h0, n):
        W, U, h0 = (torch.tensor(a, requires_grad=True) for a in (W, U, h0))
        xs_t = torch.from_numpy(xs)
        h = h0
        for t in range(n):
            h = torch.tanh(W @ h + U @ xs_t[t])
        loss = torch.sum(h * h)
        loss.backward()
        return loss.item(), (W.grad.numpy(), U.grad.numpy(), h0.grad.numpy())
    return vg


def median_time(fn, args, samples: int) -> float:
    number = max(1, int(0.05 / max(timeit.timeit(lambda: fn(*args), number=1), 1e-7)))
    return statistics.median(timeit.repeat(lambda: fn(*args), number=number, repeat=samples)) / number


def generation_time(steps: int, unroll: int) -> float:
    import tempfile

    from flatgen.parse import load_target
    from flatgen.pipeline import Options, generate

    text = f"import numpy as np\n\n\ndef f(x, w):\n    h = x\n    for t in range({steps}):\n        h = np.tanh(h * w)\n    return h\n"
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "steps.py"
        path.write_text(text)
        start = time.perf_counter()
        generate(*load_target(f"{path}:f"), Options(unroll=unroll)).source
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--samples", type=int, default=15)
    a = parser.parse_args()
    rng = np.random.default_rng(0)
    H, D, n = a.hidden, 32, a.steps
    args = (rng.normal(size=(H, H)) / np.sqrt(H), rng.normal(size=(H, D)) / np.sqrt(D), rng.normal(size=(n, D)),
            rng.normal(size=H), n)
    shapes = (("W", (H, H)), ("U", (H, D)), ("xs", (n, D)), ("h0", (H,)), ("n", ()))
    flat = generated("rnn_net", shapes=shapes, wrt=("W", "U", "h0"))
    ref_value, ref_grads = hand_written(*args)
    value, grads = flat(*args)
    assert np.isclose(value, ref_value, rtol=1e-12) and all(np.allclose(g, r, rtol=1e-10) for g, r in zip(grads, ref_grads))
    rows = [("hand-written numpy (reference)", hand_written), ("flatgen, rolled loop", flat)]
    for label, make in (("JAX jit (lax.scan)", lambda: jax_version(n)), ("PyTorch eager", torch_version)):
        try:
            rows.append((label, make()))
        except ImportError:
            print(f"{label}: not installed (pip install -e \".[bench]\")")
    print(f"tanh RNN, hidden {H}, input {D}, {n} steps: value and gradient of W, U, h0")
    base = None
    for label, fn in rows:
        t = median_time(fn, args, a.samples)
        base = base or t
        print(f"  {label:34s} {t * 1e3:9.3f} ms  {t / base:6.2f}x")
    scalar = generated("rnn", math=True)
    sargs = (0.5, 1.3, n)
    assert np.allclose(scalar(*sargs)[1], hand_written_floats(*sargs)[1], rtol=1e-12)
    print(f"scalar recurrence h = tanh(h * w), {n} steps, Python floats")
    base = None
    for label, fn in (("hand-written floats (reference)", hand_written_floats), ("flatgen, math mode", scalar)):
        t = median_time(fn, sargs, a.samples)
        base = base or t
        print(f"  {label:34s} {t * 1e6:9.1f} us  {t / base:6.2f}x")
    rolled, unrolled = generation_time(n, 0), generation_time(n, n)
    print(f"generating a module for a constant loop of {n} steps: rolled {rolled * 1e3:.0f} ms, "
          f"unrolled {unrolled * 1e3:.0f} ms ({unrolled / rolled:.1f}x)")


if __name__ == "__main__":
    main()
