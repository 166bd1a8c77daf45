"""Forward mode and second order on every example: generated == interpreter == central differences.

For each target of [tool.flatgen] (the examples), at the inputs tests/test_committed_numerics.py uses:

- `f.jvp(*args, tangents=...)` (the generated <name>_jvp) returns the value of the value function, and
  a tangent equal to the interpreter's run of the JVP graph (1e-12), to the reverse-mode interpreter's
  <gradient, tangent> (an independent reference for the tangent rules: the table's reverse rules), and
  to central differences of the value along the tangent;
- `f.hvp(*args, vectors=...)` (the generated <name>_hvp) equals central differences of the generated
  gradient along the vector; `f.hessian` is symmetric to rounding; `f.jacobian` agrees with the JVPs.
Both styles; the modules are generated with --jvp --hvp only here (the committed ones stay as they are).
"""

from __future__ import annotations

import numpy as np
import pytest

import flatgen
from flatgen import interpret
from flatgen.trace import UNROLL
from flatgen.errors import FlatgenError
from test_committed_numerics import TARGETS, example_function, inputs, signature

EPS = 1e-6
SKIP = {"softmax_loss"}  # integer class labels: a layer checked through its own tests
SCALAR_LOSS = {"language_loss_and_aux", "language_features"}  # several outputs: no Hessian of one loss


def flat_of(target, style="lecture"):
    fn = example_function(target)
    shapes = {k: tuple(v) for k, v in target.get("shapes", {}).items()}
    return flatgen.flat(fn, wrt=target.get("wrt"), shapes=shapes or None, style=style,
                         unroll=target.get("unroll", UNROLL))


def direction(args, g, rng):
    by_name = {p.hint: a for p, a in zip(g.graph.params, args)}
    return tuple(float(rng.uniform(-1, 1)) if p.shape == () else rng.uniform(-1, 1, size=np.shape(by_name[p.hint]))
                 for p in g.wrt)


def moved(args, g, tangents, h):
    index = {p.hint: k for k, p in enumerate(g.graph.params)}
    out = list(args)
    for p, t in zip(g.wrt, tangents):
        k = index[p.hint]
        out[k] = out[k] + h * t if np.ndim(out[k]) else float(out[k] + h * t)
    return out


def scale_of(args):
    return max([1.0] + [float(np.max(np.abs(a))) for a in args if np.size(a) and np.asarray(a).dtype.kind == "f"])


def close(got, want, what, rtol=1e-5, atol=1e-7):
    want = np.asarray(want, dtype=np.float64)
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=rtol,
                               atol=atol * max(1.0, float(np.max(np.abs(want), initial=0.0))), err_msg=what)


NAMES = sorted(m for m, t in TARGETS.items() if t["function"] not in SKIP)


@pytest.mark.parametrize("style", ["lecture", "compact"])
@pytest.mark.parametrize("module", NAMES)
def test_jvp_example(module, style):
    target = TARGETS[module]
    f = flat_of(target, style)
    args = inputs(target)
    g = f._prepare(args)[1]
    rng = np.random.default_rng(len(module))
    tangents = direction(args, g, rng)
    value, dot = f.jvp(*args, tangents=tangents)
    several = len(g.graph.outs) > 1
    ref_value = f.fn(*args)
    close(value, ref_value, f"{module}: value")
    # the interpreter on the JVP graph (rendering checked), and the reverse-mode interpreter (rules checked)
    made = f.__dict__["_tangent_forms"][(f._of_form(g, "value_and_grad"), "jvp")]
    jvp_graph = made.tangent_graphs[0][2]
    flat_args = list(args)
    interpreted = interpret.evaluate(jvp_graph, [*flat_args, *tangents])
    n = jvp_graph.n_values
    dots = dot if several else (dot,)
    for k, (d, r) in enumerate(zip(dots, interpreted[n:])):
        close(d, r, f"{module}: tangent {k} vs the interpreter", rtol=1e-12, atol=1e-12)
    if not several and np.ndim(value) == 0:
        grads = f.interpret(*args)[1]
        close(dot, sum(np.sum(gr * t) for gr, t in zip(grads, tangents)), f"{module}: tangent vs <grad, tangent>",
              rtol=1e-10, atol=1e-12)
    h = EPS * scale_of(args)
    up, down = f.fn(*moved(args, g, tangents, h)), f.fn(*moved(args, g, tangents, -h))
    for k, (d, u, w) in enumerate(zip(dots, up if several else (up,), down if several else (down,))):
        numeric = (np.asarray(u, dtype=np.float64) - np.asarray(w, dtype=np.float64)) / (2 * h)
        close(d, numeric, f"{module}: tangent {k} vs central differences")


HVP_NAMES = [m for m in NAMES if m not in SCALAR_LOSS and not TARGETS[m].get("form")]


@pytest.mark.parametrize("module", HVP_NAMES)
def test_hvp_example(module):
    target = TARGETS[module]
    f = flat_of(target)
    args = inputs(target)
    g = f._prepare(args)[1]
    rng = np.random.default_rng(len(module) + 1)
    vectors = direction(args, g, rng)
    hv = f.hvp(*args, vectors=vectors)
    assert len(hv) == len(g.wrt)
    h = EPS * scale_of(args)
    up, down = f.grad(*moved(args, g, vectors, h)), f.grad(*moved(args, g, vectors, -h))
    for k, (p, b, u, d) in enumerate(zip(g.wrt, hv, up, down)):
        assert np.shape(b) == np.shape(u), f"{module}: block {k} has shape {np.shape(b)}"
        close(b, (np.asarray(u) - np.asarray(d)) / (2 * h), f"{module}: H v block {p.hint} vs differences of grad",
              rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("module", [m for m in HVP_NAMES if sum(
    int(np.prod(s or 1)) for _, s, i in signature(TARGETS[m]) if not i) <= 64])
def test_hessian_is_symmetric(module):
    target = TARGETS[module]
    f = flat_of(target)
    H = f.hessian(*inputs(target))
    assert H.shape[0] == H.shape[1]
    np.testing.assert_allclose(H, H.T, rtol=1e-9, atol=1e-10 * max(1.0, float(np.max(np.abs(H)))))


def test_jacobian_modes_agree():
    src = flat_of(TARGETS["layers_affine"])
    args = inputs(TARGETS["layers_affine"])
    J = src.jacobian(*args)  # more inputs than outputs: reverse mode
    g = src._prepare(args)[1]
    n = sum(int(np.prod(p.shape)) for p in g.wrt)
    rng = np.random.default_rng(3)
    t = direction(args, g, rng)
    dot = src.jvp(*args, tangents=t)[1]
    close(J @ np.concatenate([np.ravel(x) for x in t]), np.ravel(dot), "J t vs the JVP", rtol=1e-10, atol=1e-12)
    assert J.shape == (np.size(dot), n)


def test_hessian_limit_and_bad_vectors():
    target = TARGETS["vectorized_mlp"]
    f = flat_of(target)
    args = inputs(target)
    with pytest.raises(FlatgenError, match="hvp"):
        from flatgen.modes import dense_hessian

        dense_hessian(f, args, limit=10)
    with pytest.raises(FlatgenError, match="vectors="):
        f.hvp(*args, vectors=(1.0,))
    with pytest.raises(FlatgenError, match="shape"):
        f.jvp(*args, tangents=tuple(np.zeros(3) for _ in range(4)))


def test_cli_adds_the_functions(capsys, monkeypatch):
    from conftest import ROOT
    from flatgen.cli import main

    monkeypatch.chdir(ROOT)
    assert main(["show", "examples/lecture.py:neuron", "--jvp", "--hvp"]) == 0
    text = capsys.readouterr().out
    assert "def neuron_jvp(w0, x0, w1, x1, w2, dot_w0, dot_x0, dot_w1, dot_x1, dot_w2):" in text
    assert "dot_s0 = dot_w0 * x0 + w0 * dot_x0" in text and "def neuron_hvp(" in text
    assert "--jvp --hvp" in text  # the header's command regenerates the same module
    assert main(["show", "examples/layers.py:relu", "--form", "layer", "--jvp"]) == 2


def test_modules_without_the_options_are_unchanged():
    f = flatgen.flat(example_function(TARGETS["lecture_neuron"]))
    assert "_jvp" not in f.source and "_hvp" not in f.source


def power_one_at_zero(x, w):
    z = w * x - x * w  # exactly 0: the power rule of z ** 1 is 1 * z ** 0, whose own derivative is no 0 * z ** -1
    return z ** 1 * x + np.sin(x) * w


def powers_one_at_zero(x, w):
    z = w * x - x * w
    return np.sum(z ** 1 * x + np.sin(x) * w) + np.sum((z * z) ** 1)


@pytest.mark.parametrize("fn, args", [(power_one_at_zero, (0.7, -1.3)),
                                      (powers_one_at_zero, (np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.25, -0.75])))])
def test_hvp_of_a_first_power_at_zero(fn, args):
    """Found by the scalar fuzzer (seeds 473 and 1859 of 2,000): H v was nan where a value raised to the
    power 1 is 0, from the lowered power rule differentiated again; it is the differences of the gradient."""
    f = flatgen.flat(fn)
    g = f._prepare(args)[1]
    vectors = direction(args, g, np.random.default_rng(5))
    hv = f.hvp(*args, vectors=vectors)
    h = EPS * scale_of(args)
    up, down = f.grad(*moved(args, g, vectors, h)), f.grad(*moved(args, g, vectors, -h))
    for p, b, u, d in zip(g.wrt, hv, up, down):
        assert np.all(np.isfinite(b)), f"H v block {p.hint} is {b}"
        close(b, (np.asarray(u) - np.asarray(d)) / (2 * h), f"H v block {p.hint} vs differences of grad",
              rtol=1e-4, atol=1e-6)
