"""Python as people write it (issue 14): the corpus of tests/corpus_idioms.py, each function checked as
generated == interpreter == central differences (float64, step 1e-6), in the lecture and compact
styles, with every loop kept as a loop (unroll=0), and in math mode where its parameters are floats.

Integer arguments (loop counts, label arrays) are passed as they are and never differentiated; a
dict parameter's gradient is a dict with its keys.
"""

from __future__ import annotations

import numpy as np
import pytest

import corpus_idioms as C
import flatgen

rng = np.random.default_rng(14)


def r(*shape, low=-1.0, high=1.0):
    return rng.uniform(low, high, size=shape)


PARAMS = {"W1": r(3, 4) * 0.5, "b1": r(4) + 0.5, "W2": r(4, 2) * 0.5, "b2": r(2)}

# name -> argument tuples (each checked; ints and integer arrays are never differentiated)
CASES = {
    "affine_mse": [(r(4, 3), r(3, 2), r(2))],
    "conv_naive": [(r(1, 2, 5, 5), r(2, 2, 3, 3), r(2))],
    "max_pool_naive": [(r(2, 1, 4, 4),)],
    "halves": [(r(7),), (r(6),)],
    "huber": [(0.3, 1.0), (-2.5, 1.0), (1.7, 0.5)],
    "piecewise": [(-2.0,), (0.3,), (1.5,)],
    "safe_log_ratio": [(0.7, 1.3), (0.7, -1.0), (-0.5, 2.0)],
    "checked_norm": [(r(4),)],
    "deep_net": [(r(3, 3), r(3, 3), r(2, 3), r(3))],
    "rows_norm": [(r(20, 3),), (r(3, 3),)],
    "horner": [(r(5), 0.7), (r(30), 0.9)],
    "poly_eval": [(r(4), 0.7)],
    "dot_by_hand": [(r(5), r(5)), (r(24), r(24))],
    "polyline_length": [(r(6, 2),)],
    "gaussian_mixture_nll": [(0.3, r(3), r(3) * 0.3, r(3))],
    "ema": [(r(30), 0.8), (r(5), 0.6)],
    "euler_decay": [(0.7, 1.3, 5), (0.7, 1.3, 0)],
    "odd_steps": [(0.7, 7), (0.7, 0), (0.7, 2)],
    "rnn_forward": [(r(2, 3, 4), r(2, 5), r(4, 5) * 0.5, r(5, 5) * 0.5, r(5))],
    "positive_part": [(r(8), 0.7), (r(30), 0.7)],
    "svm_loss_naive": [(r(4, 3), r(5, 4), np.array([0, 2, 1, 1, 0]), 0.1)],
    "softmax_loss_naive": [(r(4, 3), r(5, 4), np.array([0, 2, 1, 1, 0]))],
    "newton_sqrt": [(2.0, 1.0), (9.0, 4.0)],
    "heron": [(2.0,), (0.5,)],
    "shrink_until": [(3.0, 0.7), (3.0, 0.99)],
    "first_steps": [(0.4, 1.3)],
    "clipped_walk": [(0.5, 1.7), (0.5, 0.9), (0.5, 1.2)],
    "rnn_hidden_states": [(r(4, 3), 0.8, r(3))],
    "cached_layers": [(r(3), r(4, 3), r(2, 4))],
    "leaky_list": [(r(5),)],
    "logsumexp_builtin": [(r(6),)],
    "nearest_center": [(r(3), r(4, 3))],
    "two_layer_dict": [(PARAMS, r(5, 3), r(5, 2))],
    "dict_regularizer": [(PARAMS, 0.5)],
    "meta_step": [(r(3), r(6, 3), r(6), 0.1)],
    "in_band": [(0.5, 0.2, 0.9), (0.1, 0.2, 0.9), (1.2, 0.2, 0.9), (2.5, 0.2, 0.9)],
    "pendulum_steps": [(np.array([0.4, -0.3]), 0.05)],
    "conv_forward_naive": [(r(2, 2, 5, 5), r(2, 2, 3, 3), r(2), {"stride": 2, "pad": 1})],
    "batchnorm_forward": [(r(4, 3), r(3), r(3), {"mode": "train", "eps": 1e-5}),
                          (r(4, 3), r(3), r(3), {"mode": "test", "eps": 1e-5})],
}
# functions of Python floats (and ints): also in math mode
MATH = {"in_band", "huber", "piecewise", "safe_log_ratio", "euler_decay", "odd_steps", "newton_sqrt", "heron", "shrink_until",
        "first_steps", "clipped_walk"}


def _floats(a) -> bool:
    """Is `a` differentiated: floats, or a dict holding some (its ints and strings are settings)?"""
    if isinstance(a, dict):
        return any(_floats(v) for v in a.values() if not isinstance(v, (str, bool, int)))
    return np.asarray(a).dtype.kind == "f"


def _central(fn, args, k, key=None):
    """Central differences of fn along every element of argument k (of its value `key` for a dict)."""
    base = args[k][key] if key is not None else args[k]
    x = np.array(base, dtype=np.float64)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        h = 1e-6 * max(1.0, abs(x[idx]))
        values = []
        for step in (h, -h):
            moved = x.copy()
            moved[idx] += step
            new = moved if x.ndim else float(moved)
            a = list(args)
            a[k] = {**args[k], key: new} if key is not None else new
            values.append(float(fn(*a)))
        g[idx] = (values[0] - values[1]) / (2 * h)
    return g


def check(fn, args, **options):
    """generated == interpreter (values bit for bit, gradients to 1e-12) == central differences."""
    f = flatgen.flat(fn, **options)
    value, grads = f.value_and_grad(*args)
    ref_value, ref_grads = f.interpret(*args)
    assert np.array_equal(value, ref_value), (value, ref_value)
    assert value == pytest.approx(fn(*args), rel=1e-12, abs=1e-12)
    ints = {p.hint for p in f.generated.graph.ints}
    names = [a for a in fn.__code__.co_varnames[:fn.__code__.co_argcount]]
    wrt = [k for k, n in enumerate(names) if n not in ints and _floats(args[k])]
    assert len(grads) == len(wrt), (len(grads), wrt)
    for k, g, ref in zip(wrt, grads, ref_grads):
        # a dict's settings (ints, strings) are constants of the module: no gradient
        pairs = [(key, g[key], ref[key]) for key in g] if isinstance(args[k], dict) else [(None, g, ref)]
        for key, gk, rk in pairs:
            np.testing.assert_allclose(gk, rk, rtol=1e-12, atol=1e-12, err_msg=f"{names[k]}[{key}]: generated vs "
                                       "interpreter")
            np.testing.assert_allclose(gk, _central(fn, args, k, key), rtol=1e-5, atol=1e-7,
                                       err_msg=f"{names[k]}[{key}] vs central differences")
    return f


@pytest.mark.parametrize("style", ["lecture", "compact"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_idiom(name, style):
    for args in CASES[name]:
        check(getattr(C, name), args, style=style)


# slices whose bounds move with a loop's index (x[:, :, i * s:i * s + HH]): unrolled they are constants; a loop
# kept as a loop would need slices of run-time bounds, which flatgen does not write (refused, and said so)
SLICED = {"conv_naive", "max_pool_naive", "conv_forward_naive"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_idiom_with_every_loop_kept(name):
    args = CASES[name][0]
    if name in SLICED:
        with pytest.raises(flatgen.FlatgenError, match="slice bounds must be a constant"):
            check(getattr(C, name), args, unroll=0)
        return
    check(getattr(C, name), args, unroll=0)


@pytest.mark.parametrize("name", sorted(MATH))
def test_idiom_in_math_mode(name):
    for args in CASES[name]:
        f = check(getattr(C, name), tuple(float(a) if isinstance(a, float) else a for a in args), math=True)
        assert "import numpy" not in f.source or "np." not in f.source.split("def ")[-1]


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 30 and set(CASES) <= set(dir(C))
