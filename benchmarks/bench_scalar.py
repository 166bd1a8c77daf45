"""The neuron of the lecture slide: value and gradient on Python floats, per call.

    python benchmarks/bench_scalar.py [--samples 15]

Compares, in the same run: the slide's hand-written flat code (math version: the reference),
flatgen's generated module for floats (math mode) and for numpy (the committed default), SymPy's
lambdify(cse=True) of the value and gradient expressions, and when installed (`pip install -e
".[bench]"`) JAX (jit), PyTorch, autograd, micrograd and tangent.  Prints the median time per call
and the ratio to the reference.  Target (issue 7): generated math module within 1.15x of the
hand-written code, and faster than SymPy.
"""

from __future__ import annotations

import argparse
import math
import statistics
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARGS = (2.0, -1.0, -3.0, -2.0, -3.0)


def hand_written(w0, x0, w1, x1, w2):
    """The slide's flat code, math version."""
    s0 = w0 * x0
    s1 = w1 * x1
    s2 = s0 + s1
    s3 = s2 + w2
    L = 1 / (1 + math.exp(-s3))
    grad_L = 1.0
    grad_s3 = grad_L * (1 - L) * L
    grad_s2 = grad_s3
    grad_w2 = grad_s3
    grad_s0 = grad_s2
    grad_s1 = grad_s2
    grad_w1 = grad_s1 * x1
    grad_x1 = grad_s1 * w1
    grad_w0 = grad_s0 * x0
    grad_x0 = grad_s0 * w0
    return L, (grad_w0, grad_x0, grad_w1, grad_x1, grad_w2)


def generated(math_mode: bool):
    from flatgen.parse import load_target
    from flatgen.pipeline import Options, generate

    g = generate(*load_target(str(ROOT / "examples" / "lecture.py") + ":neuron"), Options(math=math_mode))
    ns: dict = {}
    exec(compile(g.source, "neuron", "exec"), ns)
    return ns["neuron_value_and_grad"]


def sympy_lambdify():
    import sympy as sp

    w0, x0, w1, x1, w2 = syms = sp.symbols("w0 x0 w1 x1 w2")
    L = 1 / (1 + sp.exp(-(w0 * x0 + w1 * x1 + w2)))
    f = sp.lambdify(syms, [L, [sp.diff(L, v) for v in syms]], modules="math", cse=True)
    return f, f"SymPy {sp.__version__} lambdify(cse=True)"


def peers():
    found = []
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)

        def jf(w0, x0, w1, x1, w2):
            return 1 / (1 + jnp.exp(-(w0 * x0 + w1 * x1 + w2)))

        vg = jax.jit(jax.value_and_grad(jf, argnums=(0, 1, 2, 3, 4)))

        def run_jax(*a):
            v, g = vg(*a)
            return float(v), tuple(float(x) for x in g)

        found.append((f"JAX {jax.__version__} (jit)", run_jax))
    except ImportError:
        pass
    try:
        import torch

        def run_torch(*a):
            t = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in a]
            L = torch.sigmoid(t[0] * t[1] + t[2] * t[3] + t[4])
            L.backward()
            return L.item(), tuple(x.grad.item() for x in t)

        found.append((f"PyTorch {torch.__version__}", run_torch))
    except ImportError:
        pass
    try:
        import autograd
        import autograd.numpy as anp

        af = autograd.value_and_grad(lambda w0, x0, w1, x1, w2: 1 / (1 + anp.exp(-(w0 * x0 + w1 * x1 + w2))),
                                     argnum=[0, 1, 2, 3, 4])
        found.append(("autograd", af))
    except ImportError:
        pass
    try:
        from micrograd.engine import Value

        if hasattr(Value, "exp"):
            def run_micrograd(*a):
                v = [Value(x) for x in a]
                L = ((v[0] * v[1] + v[2] * v[3] + v[4]) * -1).exp()
                L = (L + 1) ** -1
                L.backward()
                return L.data, tuple(x.grad for x in v)

            found.append(("micrograd", run_micrograd))
        else:  # the PyPI release's engine has +, *, ** and relu only
            print("(micrograd skipped: its Value has no exp or tanh, so the sigmoid cannot be written)")
    except ImportError:
        pass
    try:
        import numpy as np
        import tangent

        def tf(w0, x0, w1, x1, w2):
            s = w0 * x0 + w1 * x1 + w2
            return 1.0 / (1.0 + np.exp(-s))

        df = tangent.grad(tf, wrt=(0, 1, 2, 3, 4), preserve_result=True, verbose=0)
        def run_tangent(*a):
            *grads, value = df(*a)  # tangent returns the gradients, then the value
            return value, tuple(grads)

        found.append(("tangent-ad", run_tangent))
    except Exception as e:  # noqa: BLE001 - tangent's import or transform may fail on this Python
        print(f"(tangent skipped: {type(e).__name__}: {e})")
    return found


def median_call(fn, samples: int) -> float:
    number = 2000
    times = timeit.repeat(lambda: fn(*ARGS), number=number, repeat=samples)
    return statistics.median(times) / number


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=15)
    samples = parser.parse_args().samples
    ref_value, ref_grads = hand_written(*ARGS)
    sympy_f, sympy_name = sympy_lambdify()
    rows = [("hand-written flat code (math, reference)", hand_written),
            ("flatgen generated, math mode", generated(True)),
            ("flatgen generated, numpy (committed default)", generated(False)),
            (sympy_name, sympy_f), *peers()]
    for name, fn in rows:  # every entry computes the same numbers
        value, grads = fn(*ARGS)
        assert math.isclose(float(value), ref_value, rel_tol=1e-12), name
        assert all(math.isclose(float(g), r, rel_tol=1e-9) for g, r in zip(grads, ref_grads)), name
    results = [(name, median_call(fn, samples)) for name, fn in rows]
    ref = results[0][1]
    print("neuron value and gradient, Python floats in and out, median per call")
    print(f"{'implementation':48} {'median':>10} {'vs hand-written':>16}")
    for name, t in results:
        print(f"{name:48} {t * 1e6:7.2f} us {t / ref:15.2f}x")


if __name__ == "__main__":
    main()
