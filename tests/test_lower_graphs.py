"""Lowering (flatgen/lower.py), whole graphs: a lowered gradient graph with branches on data and rolled
loops (tapes, while-loop counts, nested loops, run-time indexing) evaluates to what the gradient graph
evaluates to; a lowered gradient graph differentiates again (H v against central differences of the
generated gradient), branches included; a gradient graph with a rolled loop is refused for that, since
reverse.py would get it wrong (shown below)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flatgen import interpret
from flatgen import primitives as P
from flatgen.graph import Branch, Eqn, Graph, Var, is_loop
from flatgen.lower import LoweringError, is_memory, is_primitive, lower_eqn, lower_graph
from flatgen.parse import load_target
from flatgen.pipeline import Options, generate
from flatgen.reverse import reverse

ROOT = Path(__file__).resolve().parent.parent
RNN_SHAPES = (("xs", (4, 3)), ("h", (5,)), ("Wxh", (5, 3)), ("Whh", (5, 5)), ("Why", (2, 5)), ("ys", (4, 2)))


def gradient_of(target: str, **options):
    src, fn = load_target(str(ROOT / target))
    return generate(src, fn, Options(**options))


def draw(graph: Graph, rng, low=-1.5, high=1.5) -> list:
    """Random arguments: integers (loop counts) 0..4, floats (Python floats for scalars) in [low, high]."""
    return [int(rng.integers(0, 5)) if p in graph.ints else
            rng.uniform(low, high, p.shape) if p.shape else float(rng.uniform(low, high)) for p in graph.params]


# -- a lowered gradient graph computes what the gradient graph computes -----------------------------------------

FRAMED = [  # (target, options, draws of arguments): every one has a branch on data or a rolled loop
    ("examples/loops.py:rnn", {}, None),
    ("examples/loops.py:weighted_sum", {}, None),
    ("examples/loops.py:newton_sqrt", {}, (0.5, 2.0)),  # a > 0, x > 0
    ("examples/loops.py:damped", {}, None),
    ("examples/loops.py:gated", {}, None),
    ("examples/loops.py:rnn_net", {"wrt": ("W", "U", "h0")}, None),
    ("examples/loops.py:running_max", {}, None),
    ("examples/language.py:piecewise", {}, None),
    ("examples/vectorized.py:rnn", {"unroll": 0, "wrt": ("h", "Wxh", "Whh", "Why"), "shapes": RNN_SHAPES}, None),
]


@pytest.mark.parametrize("target,options,domain", FRAMED, ids=[t.split("/")[1] for t, _, _ in FRAMED])
def test_a_lowered_gradient_graph_with_frames_evaluates_to_the_same_values(target, options, domain):
    """Value and every gradient, on 6 random draws, to 1e-12; each lowered equation is a primitive or a
    tape op, under the frames of the equation it comes from; every side of every `if` runs on some
    draw, and every loop runs."""
    grad = gradient_of(target, **options).grad_graph
    low = lower_graph(grad)
    assert [d.frames for d in low.eqns] == [e.frames for e in grad.eqns for _ in lower_eqn(e)]
    assert all(is_primitive(d.op) or is_memory(d) for d in low.eqns), {d.op.name for d in low.eqns}
    assert any(not is_primitive(e.op) for e in grad.eqns)  # there was something to lower
    assert sum(is_memory(e) for e in grad.eqns) == sum(is_memory(d) for d in low.eqns)
    frames = {f for e in low.eqns for f in e.frames}
    assert frames, "no branch or rolled loop in the graph"
    rng = np.random.default_rng(3)
    ran = set()
    record = lambda e, values, out: ran.update(e.frames)  # noqa: E731
    for k in range(6):
        args = draw(grad, rng, *(domain or ()))
        args = [max(a, 1) if p in grad.ints and k < 3 else a for p, a in zip(grad.params, args)]  # loops that run
        want = interpret.evaluate(grad, args)
        env = interpret.run(low, args, on_eqn=record)
        got = [env[o] for o in low.outs]
        assert len(got) == len(want) == 1 + len(grad.outs) - grad.n_values
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=target)
    assert frames <= ran, f"never ran: {frames - ran}"


def test_several_outputs_and_item_assignment_lower():
    """The upstream gradients of several outputs (seed[k]), with a seed other than the default; item
    assignment into a local array (setitem and its rules)."""
    rng = np.random.default_rng(4)
    grad = gradient_of("examples/language.py:loss_and_aux").grad_graph
    low = lower_graph(grad)
    assert any(e.op is P.SEED_K for e in grad.eqns) and not any(e.op is P.SEED_K for e in low.eqns)
    args = draw(grad, rng)
    for seed in [(1.0, 0.0), (0.3, -0.7)]:
        np.testing.assert_allclose(interpret.evaluate(low, args, seed), interpret.evaluate(grad, args, seed),
                                   rtol=1e-13)
    grad = gradient_of("examples/language.py:features", shapes=(("v", (3,)), ("w", ()))).grad_graph
    args = draw(grad, rng)
    for a, b in zip(interpret.evaluate(lower_graph(grad), args), interpret.evaluate(grad, args)):
        np.testing.assert_allclose(a, b, rtol=1e-13)


# -- a lowered gradient graph differentiates again ------------------------------------------------------------

SHAPES_222 = (("x", (2,)), ("W1", (2, 2)), ("b1", ()), ("W2", (2, 2)), ("b2", ()), ("t", (2,)))
UNROLLED_IFS = '''import numpy as np


def steps(x, w):
    """An unrolled loop with an `if` on data in each iteration: six branch frames, three conditions."""
    h = x
    for t in range(3):
        h = np.tanh(h * w + 0.1 * t)
        if np.sum(h) > 0.2:
            h = h * 0.5 + w
        else:
            h = h * w
    return np.sum(h * h) * w
'''
SECOND = [  # (target, wrt, shapes, points: the arguments, or None for one random draw)
    ("examples/lecture.py:neuron", None, None, None),
    ("examples/lecture.py:circuit", None, None, None),
    ("examples/lecture.py:fanout", None, None, None),
    ("examples/vectorized.py:vector_norm", None, (("W", (2, 2)), ("x", (2,))), None),
    ("examples/vectorized.py:softmax_xent", ("W", "b"), (("X", (6, 4)), ("W", (4, 3)), ("b", (3,)), ("Y", (6, 3))),
     None),
    ("examples/vectorized.py:net222", ("W1", "b1", "W2", "b2"), SHAPES_222, None),
    ("examples/language.py:features", None, (("v", (3,)), ("w", ())), None),
    # branches on data: a point on each side of each `if`
    ("examples/language.py:piecewise", None, None, [[0.9, 0.8], [0.3, 0.5], [-0.4, 0.7]]),
    ("tests/corpus.py:select", None, None, [[0.9, 0.2], [0.3, 0.8]]),  # a if c else b on data: np.where
    ("tests/corpus.py:branch_arrays", None, (("v", (3,)), ("k", ())),
     [[np.array([0.5, 0.6, 0.7]), 0.5], [np.array([0.5, 0.6, 0.7]), 2.0]]),
    ("UNROLLED_IFS:steps", None, (("x", (3,)), ("w", ())),
     [[np.array([0.5, 0.6, 0.7]), 0.8], [np.array([-0.5, 0.2, -0.7]), 0.6]]),
]


def hessian_graph(grad: Graph, wrt: list[Var], low: Graph | None = None) -> Graph:
    """From the lowered gradient graph `low`: s = sum_k <grad_k, v_k> as the only output; reverse mode
    over it gives H v, the gradient graph of the gradient graph (parameters: grad's, then the v_k)."""
    low = lower_graph(grad, for_reverse=True) if low is None else low
    vs = [Var(f"v_{p.hint}", "param", shape=p.shape) for p in wrt]
    eqns = list(low.eqns)
    total = None
    for g, v in zip(low.outs[grad.n_values:], vs):
        term = Var(None, "temp", shape=g.shape)
        eqns.append(Eqn(term, P.TABLE["mul"], (g, v)))
        if g.shape != ():
            eqns.append(Eqn(summed := Var(None, "temp", shape=()), P.TABLE["sum"], (term,)))
            term = summed
        if total is not None:
            eqns.append(Eqn(acc := Var(None, "temp", shape=()), P.TABLE["add"], (total, term)))
            term = acc
        total = term
    s = Var("s", "value", shape=())
    eqns.append(Eqn(s, P.COPY, (total,)))
    return reverse(Graph(grad.name, [*grad.params, *vs], eqns, [s], ints=grad.ints, math=grad.math), wrt)


def central_hv(g, args: list, v: list, h=1e-6) -> list:
    """(grad(x + h v) - grad(x - h v)) / 2h, from the generated module's gradient function."""
    ns = {}
    exec(compile(g.source, "m", "exec"), ns)
    value_and_grad = ns[f"{g.graph.name}_value_and_grad"]
    index = [g.grad_graph.params.index(p) for p in g.wrt]
    up, down = list(args), list(args)
    for k, vk in zip(index, v):
        up[k] = args[k] + h * vk
        down[k] = args[k] - h * vk
    return [(np.asarray(a) - np.asarray(b)) / (2 * h) for a, b in zip(value_and_grad(*up)[1], value_and_grad(*down)[1])]


@pytest.mark.parametrize("target,wrt,shapes,points", SECOND, ids=[t.split(":")[1] for t, *_ in SECOND])
def test_a_lowered_gradient_graph_differentiates_again(target, wrt, shapes, points, tmp_path):
    """H v from reverse mode over the lowered gradient graph == central differences of the generated
    gradient function along v (float64, step 1e-6), at each point.  (H v is evaluated from its own
    lowered graph: the interpreter reads the x of a zero-init `grad_x = 0.0`, and in a graph
    differentiated twice that x may be made on one side of an `if` only, unlike the generated code.)"""
    rng = np.random.default_rng(11)
    if target.startswith("UNROLLED_IFS"):
        (tmp_path / "unrolled.py").write_text(UNROLLED_IFS)
        src, fn = load_target(f"{tmp_path / 'unrolled.py'}:steps")
        g = generate(src, fn, Options(shapes=shapes))
    else:
        g = gradient_of(target, wrt=wrt, shapes=shapes)
    grad = g.grad_graph
    hess = lower_graph(hessian_graph(grad, g.wrt))
    if target.split(":")[1] in ("piecewise", "branch_arrays", "steps"):  # branches on data in both passes
        assert any(isinstance(f, Branch) for e in grad.backward for f in e.frames)
        assert any(isinstance(f, Branch) for e in hess.backward for f in e.frames)
    for args in points or [draw(grad, rng, 0.2, 1.2)]:
        if target.endswith("softmax_xent"):  # one-hot targets
            args[-1] = np.eye(3)[rng.integers(0, 3, 6)]
        v = [rng.uniform(-1, 1, p.shape) if p.shape else float(rng.uniform(-1, 1)) for p in g.wrt]
        env = interpret.run(hess, [*args, *v])
        hv = [env[o] for o in hess.outs[hess.n_values:]]
        numeric = central_hv(g, args, v)
        assert len(hv) == len(numeric) == len(g.wrt)
        for got, want in zip(hv, numeric):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=f"{target} at {args}")
        assert any(np.any(np.asarray(w) != 0) for w in numeric)  # a second derivative that could be wrong


# -- rolled loops: refused for differentiating again, because reverse.py would get them wrong -------------------


@pytest.mark.parametrize("target,options", [("examples/loops.py:rnn", {}), ("examples/loops.py:newton_sqrt", {}),
                                            ("examples/loops.py:gated", {}), FRAMED[-1][:2]])
def test_a_gradient_graph_with_a_rolled_loop_is_refused_for_reverse(target, options):
    grad = gradient_of(target, **options).grad_graph
    assert any(is_loop(f) for e in grad.backward for f in e.frames)
    lower_graph(grad)  # lowered for evaluation: fine
    with pytest.raises(LoweringError, match=r"rolled loop cannot be differentiated again: .*tapes \(push, pop\)"):
        lower_graph(grad, for_reverse=True)


def test_why_rolled_loops_are_refused_reverse_would_be_wrong():
    """What the refusal prevents: reverse.py over a lowered rnn gradient graph (tapes, a backward loop)
    runs, and gives an H v that is not the second derivative.  When this fails, reverse.py has learned
    to differentiate a tape (rules for push and pop) and a backward loop (run forward again): lift the
    refusal in lower_graph."""
    g = gradient_of("examples/loops.py:rnn")
    hess = hessian_graph(g.grad_graph, g.wrt, low=lower_graph(g.grad_graph))  # past the refusal
    assert any(is_loop(f) and f.reverse for e in hess.backward for f in e.frames)  # reversed twice: reversed
    assert any(e.op is P.POP for e in hess.backward)
    args, v = [0.5, 0.8, 3], [1.0, 0.0]
    env = interpret.run(lower_graph(hess), [*args, *v])
    hv = [env[o] for o in hess.outs[1:]]
    numeric = central_hv(g, args, v)
    assert abs(hv[0] - numeric[0]) > 0.1  # d2/dx2 of rnn at (0.5, 0.8, 3): -0.07 from reverse, -0.42 in fact
