"""dtypes: float32 inputs give float32 values and float32 gradients; float64 stays float64; an integer
array differentiated gets a float64 gradient (never truncated).

The generated code never names a dtype: every rule keeps its inputs' float type (the zeros a gradient
is scattered into are `np.zeros(shape, np.result_type(x, 1.0))`; a sum's gradient is `g * np.ones_like(x)`,
so the seed 1.0, a Python float, takes x's type; counts and identities in a rule are masks, not float64
arrays; ln 2 is a Python number).  Each row of the table is checked on its own (rules_keep_float32),
then whole functions, through the generated module and the interpreter.
"""

from __future__ import annotations

import numpy as np
import pytest

import corpus_making as C
import flatgen
import test_op_specs as specs
from flatgen import interpret
from flatgen.primitives import TABLE

rng = np.random.default_rng(32)


def r(*shape, dtype=np.float32):
    return rng.uniform(-1.5, 1.5, size=shape).astype(dtype)


def _f32(v):
    if isinstance(v, np.ndarray) and v.dtype.kind == "f":
        return v.astype(np.float32)
    return np.float32(v) if isinstance(v, (float, np.floating)) else v


# rows whose output is float64 by definition (np.float64(x), float(x), .astype(float)), and Python's
# max(a, b) / min(a, b), whose gradient of a seed 1.0 is a Python float times a bool
FLOAT64_BY_DEFINITION = {"float64", "float", "astype_float", "max2", "min2"}


def test_every_rule_keeps_float32():
    """Each row at its spec's points, in float32: the forward and every rule (for a float32 upstream
    gradient, and for the seed 1.0 where the output is a scalar) are float32."""
    bad = []
    for name, cases in specs.TABLE_CASES.items():
        if name not in TABLE or name in FLOAT64_BY_DEFINITION:
            continue
        op = TABLE[name]
        for ins, params in cases:
            if not ins:
                continue
            ins = [_f32(v) for v in ins]
            out = op(*ins, **params)
            if np.result_type(out).kind == "f" and np.result_type(out) != np.float32:
                bad.append(f"{name}: forward {np.result_type(out)}")
            seeds = [np.full(np.shape(out), 0.7, np.float32) if np.shape(out) else np.float32(0.7)]
            seeds += [0.7] if np.shape(out) == () else []
            for g in seeds:
                slots = dict(zip(op.expr.slots, ins), g=g, out=out)
                for rule, x in zip(op.rules, ins):
                    if rule is None or not specs.differentiable(x):
                        continue
                    d = rule(*(slots[s] for s in rule.expr.slots), **{**rule.defaults, **params})
                    if np.result_type(d) != np.float32:
                        bad.append(f"{name}: {rule.name} gives {np.result_type(d)} (g a {type(g).__name__})")
    assert not bad, "\n".join(bad)


def softmax_loss(W, b, X, y):
    """A linear classifier's softmax loss: scores, stable softmax, the labels' log-probabilities."""
    N = X.shape[0]
    scores = X.dot(W) + b
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(log_probs[np.arange(N), y]) / N + 0.1 * np.sum(W * W)


def branches_and_loops(x, w):
    """An `if` on data (zero-initialised gradients) and a loop kept rolled (tapes)."""
    h = x
    for i in range(20):
        h = np.tanh(h * w + 0.1)
    if np.sum(h) > 0:
        y = np.sum(h ** 2)
    else:
        y = np.sum(h)
    return y + np.linalg.norm(x) + np.trace(np.outer(x, x)) + np.sum(np.log2(x * x + 1.0))


def pooled(x, W):
    """Max over windows, an embedding-like pick, an einsum and a variance."""
    m = np.max(x.reshape(2, 3), axis=1)
    e = W[np.array([0, 2, 2])]
    return np.sum(m * m) + np.sum(e ** 2) + np.einsum("ij,ij->", W, W) + np.var(x)


def writes(W, x, a):
    """Writes into a local array made like W (np.zeros((3, 4)) would be float64, as numpy makes it)."""
    h = np.zeros_like(W)
    h[0] = a
    h[1] = x
    h[2, 1:] = a * x[1:]
    return np.sum(h * W)


CASES = [
    (softmax_loss, lambda dt: (r(4, 3, dtype=dt), r(3, dtype=dt), r(5, 4, dtype=dt), np.array([0, 2, 2, 1, 0]))),
    (branches_and_loops, lambda dt: (r(3, dtype=dt), r(3, dtype=dt))),
    (pooled, lambda dt: (r(6, dtype=dt), r(3, 2, dtype=dt))),
    (writes, lambda dt: (r(3, 4, dtype=dt), r(4, dtype=dt), dt(0.4))),
    (C.a_concatenate, lambda dt: (r(3, dtype=dt), r(2, 3, dtype=dt))),
    (C.a_pad, lambda dt: (r(2, 3, dtype=dt),)),
]


@pytest.mark.parametrize("k", range(len(CASES)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_keep_the_inputs_float_type(k, dtype):
    fn, make = CASES[k]
    args = make(dtype)
    f = flatgen.flat(fn, example=args)
    g = f.generated
    value, grads = getattr(f.module, f"{fn.__name__}_value_and_grad")(*args)
    ref_value, ref_grads = interpret.value_and_grad(g.graph, args, g.wrt)
    assert np.result_type(value) == dtype, f"value {np.result_type(value)}"
    for p, got, ref in zip(g.wrt, grads, ref_grads):
        assert np.result_type(got) == dtype, f"grad of {p.hint}: {np.result_type(got)}"
        assert np.result_type(ref) == dtype, f"interpreter's grad of {p.hint}: {np.result_type(ref)}"
        np.testing.assert_allclose(got, ref, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)


def test_float32_gradients_agree_with_float64_ones():
    """The same function in float32 and float64: the gradients agree to float32's precision."""
    args64 = CASES[0][1](np.float64)
    args32 = tuple(a.astype(np.float32) if a.dtype.kind == "f" else a for a in args64)
    f = flatgen.flat(softmax_loss, example=args64)
    _, g64 = getattr(f.module, "softmax_loss_value_and_grad")(*args64)
    _, g32 = getattr(f.module, "softmax_loss_value_and_grad")(*args32)
    for a, b in zip(g32, g64):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_a_float64_array_the_function_makes_makes_float64_values_as_numpy_does():
    """np.zeros((3, 4)) is float64 whatever the inputs: the values are numpy's (the generated code computes
    what the function computes); x's gradient, scattered back into zeros of x's float type, is float32."""
    args = (r(4), np.float32(0.4))
    f = flatgen.flat(C.s_write_broadcast, example=args)
    value, grads = f.module.s_write_broadcast_value_and_grad(*args)
    assert np.result_type(value) == np.float64 == np.result_type(C.s_write_broadcast(*args))
    assert np.result_type(grads[0]) == np.float32


def test_an_integer_array_gets_a_float_gradient():
    """Differentiating at an integer point: the gradient is float64, not truncated to integers."""
    f = flatgen.flat(C.a_take, example=(np.arange(6).reshape(3, 2), np.array([0, 2, 2])))
    W = np.arange(6).reshape(3, 2)
    _, (grad,) = f.module.a_take_value_and_grad(W, np.array([0, 2, 2]))
    assert grad.dtype == np.float64
    np.testing.assert_array_equal(grad, [[0.0, 2.0], [0.0, 0.0], [16.0, 20.0]])
