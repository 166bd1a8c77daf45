"""Vectorized backprop: the lecture's examples, never a Jacobian, generic code for unknown shapes."""

import importlib.util
import textwrap
import tracemalloc

import numpy as np
import pytest

import flatgen
import lecture
import vectorized as V
from conftest import ROOT
from flatgen.parse import load_target
from flatgen.pipeline import Options, generate
from numerics import assert_agree, finite_differences

rng = np.random.default_rng(1)


def load_generated(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "generated" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_vector_norm_lecture_values():
    W = np.array([[0.1, 0.5], [-0.3, 0.8]])
    x = np.array([0.2, 0.4])
    f = flatgen.flat(V.vector_norm)
    _, (gW, gx) = assert_agree(f, (W, x))
    np.testing.assert_allclose(gW, [[0.088, 0.176], [0.104, 0.208]], rtol=1e-12)
    np.testing.assert_allclose(gx, [-0.112, 0.636], rtol=1e-12)
    committed = load_generated("vectorized_vector_norm")
    value, (cW, cx) = committed.vector_norm_value_and_grad(W, x)
    np.testing.assert_array_equal(cW, gW)
    np.testing.assert_array_equal(cx, gx)
    assert "np.outer(grad_q, x)" in f.source and "W.T @ grad_q" in f.source


def mlp_args(n, d, h, k):
    return (rng.normal(size=(n, d)), rng.normal(size=(d, h)) * 0.3, rng.normal(size=h) * 0.1,
            rng.normal(size=(h, k)) * 0.3, rng.normal(size=k) * 0.1, rng.normal(size=(n, k)))


def test_mlp_small_against_finite_differences():
    args = mlp_args(5, 4, 6, 3)
    assert_agree(flatgen.flat(V.mlp, wrt=("W1", "b1", "W2", "b2")), args, wrt_index=[1, 2, 3, 4])


def hand_written_mlp(X, W1, b1, W2, b2, Y):
    """The backprop a person writes for this network (cs231n style)."""
    A = X @ W1 + b1
    H = np.maximum(A, 0.0)
    P = H @ W2 + b2
    loss = np.mean((P - Y) ** 2)
    dP = 2 * (P - Y) / P.size
    dW2 = H.T @ dP
    db2 = dP.sum(axis=0)
    dH = dP @ W2.T
    dA = dH * (A >= 0)
    return loss, (X.T @ dA, dA.sum(axis=0), dW2, db2)


def test_committed_mlp_matches_hand_written_backprop():
    args = mlp_args(64, 784, 100, 10)
    mod = load_generated("vectorized_mlp")
    value, grads = mod.mlp_value_and_grad(*args)
    ref_value, ref_grads = hand_written_mlp(*args)
    assert value == pytest.approx(ref_value, rel=1e-12)
    for g, r in zip(grads, ref_grads):
        assert g.shape == r.shape
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-14)
    with pytest.raises(ValueError, match=r"X must have shape \(64, 784\)"):
        mod.mlp_value_and_grad(args[0][:10], *args[1:])


def test_softmax_cross_entropy():
    X, W, b = rng.normal(size=(6, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    Y = np.eye(3)[rng.integers(0, 3, size=6)]
    f = flatgen.flat(V.softmax_xent, wrt=("W", "b"))
    assert_agree(f, (X, W, b, Y), wrt_index=[1, 2])
    # the stable form: logits of 1000 neither overflow nor give nan
    value, (gW, gb) = f.value_and_grad(X, W * 1000.0, b, Y)
    assert np.isfinite(value) and np.isfinite(gW).all() and np.isfinite(gb).all()


def test_logistic_regression():
    w, b, X = rng.normal(size=3), 0.1, rng.normal(size=(8, 3))
    y = (rng.uniform(size=8) > 0.5).astype(float)
    assert_agree(flatgen.flat(V.logreg, wrt=("w", "b")), (w, b, X, y), wrt_index=[0, 1])


def test_net222_vector_form_equals_the_scalar_network():
    W1, W2 = np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([[0.40, 0.45], [0.50, 0.55]])
    x, t = np.array([0.05, 0.10]), np.array([0.01, 0.99])
    f = flatgen.flat(V.net222)
    value, (gx, gW1, gb1, gW2, gb2, gt) = assert_agree(f, (x, W1, 0.35, W2, 0.60, t))
    scalar_value, sg = flatgen.flat(lecture.net222).value_and_grad(
        0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55, 0.35, 0.60, 0.01, 0.99)
    assert value == pytest.approx(scalar_value, rel=1e-14)
    np.testing.assert_allclose(gW1.ravel(), sg[2:6], rtol=1e-12)
    np.testing.assert_allclose(gW2.ravel(), sg[6:10], rtol=1e-12)
    assert gb1 == pytest.approx(sg[10], rel=1e-12) and gb2 == pytest.approx(sg[11], rel=1e-12)


def test_rnn_unrolled():
    args = (rng.normal(size=(4, 3)), rng.normal(size=5) * 0.5, rng.normal(size=(5, 3)) * 0.5,
            rng.normal(size=(5, 5)) * 0.5, rng.normal(size=(2, 5)) * 0.5, rng.normal(size=(4, 2)))
    f = flatgen.flat(V.rnn)
    assert_agree(f, args)
    assert "h_4 = np.tanh(" in f.source and "(t = 3)" in f.source
    assert f.source.count("grad_xs[") >= 3  # later time steps add into the same array, in place


def test_no_jacobian_is_ever_built(tmp_path):
    """d/dW of sum(tanh(W @ X)) for 1000x1000 matrices: its Jacobian would hold 10^12 numbers."""
    src = textwrap.dedent("""
        import numpy as np


        def big(W, X):
            return np.sum(np.tanh(W @ X))
        """)
    W, X = rng.normal(size=(1000, 1000)) * 0.03, rng.normal(size=(1000, 1000))
    path = tmp_path / "big.py"  # never into the checkout
    path.write_text(src)
    g = generate(*load_target(str(path) + ":big"), Options(shapes=(("W", W.shape), ("X", X.shape))))
    ns = {}
    exec(compile(g.source, "big", "exec"), ns)
    tracemalloc.start()
    value, (gW, gX) = ns["big_value_and_grad"](W, X)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    T = np.tanh(W @ X)
    np.testing.assert_allclose(gW, (1 - T**2) @ X.T, rtol=1e-10)
    assert peak < 200e6, f"peak memory {peak / 1e6:.0f} MB: something Jacobian-sized was built"


GENERIC = textwrap.dedent("""
    import numpy as np


    def generic(x: np.ndarray, b: np.ndarray, c: float):
        y = np.tanh(x * b + c)
        return np.sum(y * y) + np.mean(x)
    """)


def test_unknown_shapes_give_generic_code(tmp_path):
    (tmp_path / "gen_mod.py").write_text(GENERIC)
    g = generate(*load_target(str(tmp_path / "gen_mod.py") + ":generic"))
    assert "def unbroadcast(grad, shape):" in g.source  # written out in the module, not imported
    ns = {}
    exec(compile(g.source, "generic", "exec"), ns)
    user = {}
    exec(compile(GENERIC, "user", "exec"), user)
    for xs, bs in [((3, 4), (4,)), ((2, 3), (2, 1)), ((5,), ()), ((2, 2), (2, 2))]:
        x, b = rng.normal(size=xs), (rng.normal(size=bs) if bs else 0.7)
        value, grads = ns["generic_value_and_grad"](x, b, 0.3)
        assert value == pytest.approx(user["generic"](x, b, 0.3), rel=1e-13)
        for got, want, a in zip(grads, finite_differences(user["generic"], (x, b, 0.3), [0, 1, 2]), (x, b, 0.3)):
            assert np.shape(got) == np.shape(a)
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_array_code_without_shapes_waits_for_the_first_call():
    f = flatgen.flat(V.vector_norm)
    with pytest.raises(flatgen.FlatgenError, match="needs the shapes"):
        f.source
    f.value_and_grad(np.eye(2), np.ones(2))
    assert "if np.shape(W) != (2, 2):" in f.source
    f.value_and_grad(np.eye(3), np.ones(3))  # other shapes: specialised again
    assert "if np.shape(W) != (3, 3):" in f.source


def test_shape_errors_point_at_the_line(tmp_path):
    (tmp_path / "bad_shapes.py").write_text("import numpy as np\n\n\ndef f(W, x):\n    return np.sum(W @ x)\n")
    src, fn = load_target(str(tmp_path / "bad_shapes.py") + ":f")
    with pytest.raises(flatgen.FlatgenError, match=r"bad_shapes.py:5:19: shape: `@` of shapes \(2, 3\) and \(2,\)"):
        generate(src, fn, Options(shapes=(("W", (2, 3)), ("x", (2,)))))


def test_shapes_from_string_annotations(tmp_path):
    (tmp_path / "annot.py").write_text(
        'import numpy as np\n\n\ndef f(W: "(2, 3)", x: "(3,)", c: float):\n    return np.sum(np.tanh(W @ x) * c)\n')
    g = generate(*load_target(str(tmp_path / "annot.py") + ":f"))
    assert "if np.shape(W) != (2, 3):" in g.source and "if np.shape(x) != (3,):" in g.source
    (tmp_path / "bad_annot.py").write_text('def f(W: "two by two"):\n    return W * W\n')
    with pytest.raises(flatgen.FlatgenError, match="is not a shape"):
        generate(*load_target(str(tmp_path / "bad_annot.py") + ":f"))
