"""Lowering (flatgen/lower.py): every rule of the table and every bookkeeping op of the reverse
transform, written as primitive equations, computes what the op computes; and a lowered gradient
graph differentiates again (a Hessian-vector product, against central differences of the generated
gradient)."""

from __future__ import annotations

import numpy as np
import pytest

from flatgen import interpret
from flatgen import primitives as P
from flatgen.graph import Eqn, Graph, Var
from flatgen.lower import ROWS, LoweringError, lower_eqn, lower_graph
from flatgen.parse import load_target
from flatgen.pipeline import Options, generate
from flatgen.reverse import reverse
from test_op_specs import TABLE_CASES

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
rng = np.random.default_rng(7)


def as_atom(value, name):
    return Var(name, "value", shape=np.shape(value))


def lowered_equals_op(op, values: dict, params: dict) -> None:
    """Lower `op` applied to `values` (slot -> value) and evaluate the primitive equations."""
    slots = op.expr.slots
    ins = tuple(as_atom(values[s], s) for s in slots)
    out = Var("out", "value", shape=np.shape(op(*(values[s] for s in slots), **params)))
    e = Eqn(out, op, ins, params=dict(params))
    eqns = lower_eqn(e)
    assert eqns[-1].out is out
    assert all(d.op.name in ROWS or d.op.name in ("copy", "constant") for d in eqns), [d.op.name for d in eqns]
    env = {a: values[s] for a, s in zip(ins, slots)}
    interpret.execute(eqns, env, 0, False)
    want = op(*(values[s] for s in slots), **params)
    np.testing.assert_allclose(np.asarray(env[out], dtype=float), np.asarray(want, dtype=float), rtol=1e-13,
                               atol=1e-13, err_msg=f"{op.name} {op.expr.text!r} {params}")
    return eqns


@pytest.mark.parametrize("name", sorted(TABLE_CASES))
def test_every_rule_lowers_to_primitives_that_compute_it(name):
    op = P.TABLE[name]
    lowered = 0
    for ins, params in TABLE_CASES[name]:
        values = dict(zip(op.expr.slots, ins))
        out = op(*ins, **params)
        values.update(out=out, g=rng.uniform(-1, 1, np.shape(out)) if np.shape(out) else 0.7)
        for rule in op.rules:
            if rule is None:
                continue
            lowered_equals_op(rule, values, {**rule.defaults, **params})
            lowered += 1
    assert lowered or all(r is None for r in op.rules)


def test_bookkeeping_ops_lower_to_primitives_that_compute_them():
    x, y = rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, (3, 4))
    checked = []
    for op, values, params in [
        (P.ACC, {"a": x, "b": y}, {}),
        (P.MERGE, {"x": x}, {}),
        (P.COPY, {"x": x}, {}),
        (P.SEED, {}, {}),
        (P.INIT, {"x": x}, {}),
        (P.INIT_SCALAR, {"x": 0.3}, {}),
        (P.ZEROS, {"x": x}, {}),
        (P.SUM_LEAD, {"x": rng.uniform(-1, 1, (2, 3, 4))}, {"axis": 0}),
        (P.SUM_ONES, {"x": x}, {"axis": 0}),
        (P.UNBROADCAST, {"x": rng.uniform(-1, 1, (2, 3, 4)), "y": rng.uniform(-1, 1, (3, 1))}, {}),
        (P.SCATTER, {"g": rng.uniform(-1, 1, 4), "x": x}, {"idx": 1}),
        (P.SCATTER.accumulate, {"OUT": x.copy(), "g": rng.uniform(-1, 1, 3)}, {"idx": (slice(None), 2)}),
        (P.SETITEM.rules[0], {"g": x}, {"idx": (0, slice(1, 3))}),
        (P.SETITEM.rules[1], {"g": x, "out": x, "x": x, "v": x[1]}, {"idx": 1}),
        (P.TABLE["copy"] if "copy" in P.TABLE else P.COPY_ARRAY, {"x": x}, {}),
    ]:
        lowered_equals_op(op, values, {**op.defaults, **params})
        checked.append(op.name)
    assert len(checked) == 15


def test_tapes_are_refused_not_mislowered():
    t = Var("t", "tape")
    with pytest.raises(LoweringError):
        lower_eqn(Eqn(Var("h", "value"), P.POP, (t,)))


EXAMPLES = [  # straight-line examples: (target, wrt, shapes)
    ("examples/lecture.py:neuron", None, None),
    ("examples/lecture.py:circuit", None, None),
    ("examples/lecture.py:fanout", None, None),
    ("examples/vectorized.py:vector_norm", None, (("W", (2, 2)), ("x", (2,)))),
    ("examples/vectorized.py:softmax_xent", ("W", "b"), (("X", (6, 4)), ("W", (4, 3)), ("b", (3,)), ("Y", (6, 3)))),
    ("examples/vectorized.py:net222", ("W1", "b1", "W2", "b2"),
     (("x", (2,)), ("W1", (2, 2)), ("b1", ()), ("W2", (2, 2)), ("b2", ()), ("t", (2,)))),
]


def second_order(grad: Graph, wrt: list[Var]) -> tuple[Graph, list[Var]]:
    """From a lowered gradient graph: s = sum_k <grad_k, v_k> as a new output; its gradient is H v."""
    low = lower_graph(grad)
    vs = [Var(f"v_{p.hint}", "param", shape=p.shape) for p in wrt]
    eqns = list(low.eqns)
    total = None
    for g, v in zip(low.outs[grad.n_values:], vs):
        prod = Var(None, "temp", shape=g.shape)
        eqns.append(Eqn(prod, P.TABLE["mul"], (g, v)))
        term = prod
        if g.shape != ():
            term = Var(None, "temp", shape=())
            eqns.append(Eqn(term, P.TABLE["sum"], (prod,)))
        if total is not None:
            acc = Var(None, "temp", shape=())
            eqns.append(Eqn(acc, P.TABLE["add"], (total, term)))
            term = acc
        total = term
    s = Var("s", "value", shape=())
    eqns.append(Eqn(s, P.COPY, (total,)))
    graph = Graph(grad.name, [*grad.params, *vs], eqns, [s], ints=grad.ints)
    return graph, vs


@pytest.mark.parametrize("target,wrt,shapes", EXAMPLES, ids=[t for t, _, _ in EXAMPLES])
def test_a_lowered_gradient_graph_differentiates_again(target, wrt, shapes):
    """H v from reverse mode over the lowered gradient graph == central differences of the generated
    gradient function along v (float64, step 1e-6)."""
    import os

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        src, fn = load_target(target)
        g = generate(src, fn, Options(wrt=wrt, shapes=shapes))
    finally:
        os.chdir(cwd)
    graph2, vs = second_order(g.grad_graph, g.wrt)
    hess = reverse(graph2, g.wrt)
    args = [rng.uniform(0.2, 1.2, p.shape) if p.shape else float(rng.uniform(0.2, 1.2)) for p in g.grad_graph.params]
    if target.endswith("softmax_xent"):  # one-hot targets
        args[-1] = np.eye(3)[rng.integers(0, 3, 6)]
    v = [rng.uniform(-1, 1, p.shape) if p.shape else float(rng.uniform(-1, 1)) for p in g.wrt]
    env = interpret.run(hess, [*args, *v])
    hv = [env[o] for o in hess.outs[hess.n_values:]]
    ns = {}
    exec(compile(g.source, "m", "exec"), ns)
    vg = ns[f"{fn.name}_value_and_grad"]
    index = [g.grad_graph.params.index(p) for p in g.wrt]
    h = 1e-6
    up, down = list(args), list(args)
    for k, vk in zip(index, v):
        up[k] = args[k] + h * vk
        down[k] = args[k] - h * vk
    numeric = [(np.asarray(a) - np.asarray(b)) / (2 * h) for a, b in zip(vg(*up)[1], vg(*down)[1])]
    assert len(hv) == len(numeric) == len(g.wrt)
    for got, want in zip(hv, numeric):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert any(np.any(np.asarray(w) != 0) for w in numeric)  # a second derivative that could be wrong
