"""Teaching (issue 16): the lecture's numbers through f.explain, .rows and `flatgen explain`; the
table's gradients against the generated module and central differences; the table as HTML."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest

import corpus
import flatgen
import language
import lecture
import loops
import vectorized
from conftest import ROOT
from flatgen.cli import main
from numerics import finite_differences
from test_teaching_lecture import NEURON_AT, NEURON_GRADS, circuit_q, neuron_gates


def by_name(table, kind="gate"):
    return {r.name: r for r in table.rows if r.kind == kind}


def test_circuit_numbers_through_rows():
    table = flatgen.flat(circuit_q).explain(-2.0, 5.0, -4.0)
    gates = by_name(table)
    assert gates["q"].value == 3 and gates["f"].value == -12
    assert gates["f"].grad == 1 and gates["q"].grad == -4
    assert table.grads() == {"x": -4, "y": -4, "z": 3}
    assert [r.gate for r in table.rows] == ["mul", "add", "input", "input", "input"]  # backward order
    assert [r.pattern for r in table.rows[:2]] == ["swap multiplier", "distributor"]
    mul = gates["f"]
    assert [(i.name, i.value, i.local, i.grad) for i in mul.inputs] == [("q", 3, -4, -4), ("z", -4, 3, 3)]
    for r in table.rows:  # the fields every row has
        assert {"name", "line", "gate", "value", "grad"} <= set(r.asdict())
    assert gates["q"].line == circuit_q.__code__.co_firstlineno + 2


def test_lecture_circuit_nested_expression():
    """examples/lecture.py writes f = (x + y) * z on one line: q is the temporary t1, with the same numbers."""
    table = flatgen.flat(lecture.circuit).explain(-2.0, 5.0, -4.0)
    gates = by_name(table)
    assert gates["t1"].value == 3 and gates["f"].value == -12
    assert table.grads() == {"x": -4, "y": -4, "z": 3}


def test_neuron_gate_by_gate_chain():
    table = flatgen.flat(neuron_gates).explain(*NEURON_AT)
    gates = by_name(table)
    chain = [round(float(gates[v].grad), 2) for v in ("d", "e", "n", "s")]
    assert chain == [-0.53, -0.53, -0.20, 0.20]
    assert round(float(gates["f"].value), 2) == 0.73
    assert [round(float(g), 2) for g in table.grads().values()] == NEURON_GRADS
    assert [r.name for r in table.rows if r.kind == "gate"] == ["f", "d", "e", "n", "s", "c", "b", "a"]
    assert gates["d"].inputs[0].name == "e" and gates["d"].pattern == "distributor"


def test_sigmoid_neuron_same_gradients():
    table = flatgen.flat(lecture.neuron).explain(*NEURON_AT)
    assert [round(float(g), 2) for g in table.grads().values()] == NEURON_GRADS
    sig = table.rows[0]
    assert (sig.name, sig.gate, round(float(sig.inputs[0].local), 2)) == ("L", "sigmoid", 0.20)
    assert "(1 - L) * L" in sig.explains  # the generated module's own comment


def test_fan_out_shares_then_their_sum():
    table = flatgen.flat(lecture.fanout).explain(2.0, 3.0)  # f = x*x + 3*x*y: x used three times
    x = by_name(table, "input")["x"]
    assert [s.grad for s in x.shares] == [9.0, 2.0, 2.0] and x.grad == 13.0
    assert "9 + 2 + 2 = 13" in str(table)
    piecewise = flatgen.flat(language.piecewise).explain(0.3, 0.8)
    copies = [r for r in piecewise.rows if r.kind == "copy"]  # an intermediate used twice: a copy row, then its gate
    assert copies and all(np.isclose(sum(s.grad for s in r.shares), r.grad) for r in copies)
    k = piecewise.rows.index(copies[0])
    assert piecewise.rows[k + 1].name == copies[0].name and piecewise.rows[k + 1].kind == "gate"


def test_cli_explain_prints_the_lecture_numbers(capsys):
    assert main(["explain", "examples/lecture.py:circuit", "--at", "x=-2,y=5,z=-4"]) == 0
    out = capsys.readouterr().out
    assert "circuit(x=-2, y=5, z=-4): f = -12" in out
    assert "t1 = 3" in out and "mul (swap multiplier)" in out and "add (distributor)" in out
    lines = {line.split()[2]: line.split() for line in out.splitlines() if "input (parameter)" in line}
    assert [lines[p][-1] for p in "xyz"] == ["-4", "-4", "3"]


def test_cli_explain_gate_by_gate_neuron(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    target = "tests/test_teaching_lecture.py:neuron_gates"
    assert main(["explain", target, "--at", "w0=2,x0=-1", "--at", "w1=-3,x1=-2,w2=-3", "--digits", "2"]) == 0
    out = capsys.readouterr().out
    for text in ("d = 1.4", "-0.53", "e = 0.37", "-0.2", "0.39", "-0.39", "-0.59"):
        assert text in out
    assert main(["explain", target, "--at", "w0=2,x0=-1,w1=-3,x1=-2,w2=-3", "--html"]) == 0
    ET.fromstring(capsys.readouterr().out)  # well-formed


@pytest.mark.parametrize("argv, message", [
    (["--at", "x=-2,y=5"], "no value for z"),
    (["--at", "x=-2,y=5,z=oops"], "not a number"),
    (["--at", "x=-2,y=5,z=__import__('os')"], "not a number"),
    (["--at", "x=-2,y=5,z=1,w=3"], "not a parameter"),
    (["--at", "x=-2,x=1,y=5,z=1"], "twice"),
    (["--at", "x-2"], "not NAME=VALUE"),
    (["--at", "x=1,y=2,z=3", "--digits", "0"], "--digits"),
])
def test_cli_explain_bad_input_is_a_clear_error(capsys, argv, message):
    assert main(["explain", "examples/lecture.py:circuit", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_arguments_are_flatgen_errors():
    f = flatgen.flat(lecture.circuit)
    with pytest.raises(flatgen.FlatgenError, match="takes 3 argument"):
        f.explain(1.0, 2.0)
    with pytest.raises(flatgen.FlatgenError, match="real number"):
        f.explain(1.0, 2.0, "z")
    with pytest.raises(flatgen.FlatgenError, match="fails at these arguments: ZeroDivisionError"):
        flatgen.flat(_reciprocal).explain(0.0)  # math mode: 1.0 / 0.0 raises, as in the generated module


def _reciprocal(x: float):
    return 1.0 / x


CASES = [
    (lecture.neuron, NEURON_AT, ()),
    (lecture.net222, tuple(np.linspace(0.1, 1.4, 14)), ()),
    (lecture.fanout, (2.0, 3.0), ()),
    (neuron_gates, NEURON_AT, ()),
    (language.piecewise, (0.3, 0.8), ()),
    (language.piecewise, (0.9, 0.8), ()),
    (loops.rnn, (0.5, 0.9, 4), (2,)),
    (loops.weighted_sum, (np.linspace(-1, 1, 8), 0.7, 5), (2,)),
    (loops.newton_sqrt, (2.0, 1.0), ()),
    (loops.damped, (0.5, 0.7, 2, 3), (2, 3)),
    (vectorized.vector_norm, (np.array([[0.1, 0.5], [-0.3, 0.8]]), np.array([0.2, 0.4])), ()),
]


@pytest.mark.parametrize("fn, args, ints", CASES, ids=lambda c: getattr(c, "__name__", None))
def test_table_gradients_agree_with_module_and_differences(fn, args, ints):
    f = flatgen.flat(fn)
    table = f.explain(*args)
    value, grads = f.value_and_grad(*args)
    names = [p for k, p in enumerate(f._params) if k not in ints]
    got = table.grads()
    assert list(got) == names
    for name, g in zip(names, grads):
        np.testing.assert_allclose(got[name], g, rtol=1e-12, atol=1e-14)
    fd = finite_differences(fn, args, [k for k in range(len(args)) if k not in ints])
    for name, d in zip(names, fd):
        np.testing.assert_allclose(got[name], d, rtol=1e-5, atol=1e-6)
    for r in table.rows:
        if r.kind == "copy" or r.shares:  # each share shown, and then their sum
            np.testing.assert_allclose(sum(s.grad for s in r.shares), r.grad, rtol=1e-12, atol=1e-14)
        for i in r.inputs:  # downstream = upstream x local, where the local gradient is elementwise
            if i.grad is not None and not isinstance(i.local, str) and np.shape(i.grad) == np.shape(r.grad):
                np.testing.assert_allclose(np.asarray(r.grad) * i.local, i.grad, rtol=1e-12, atol=1e-14)


def test_loop_rows_say_their_iteration():
    table = flatgen.flat(loops.rnn).explain(0.5, 0.9, 3)
    its = [r.iteration for r in table.rows if r.gate == "tanh"]
    assert its == ["i=2", "i=1", "i=0"]
    assert "14 i=2" in str(table)


def test_arrays_show_shape_and_a_few_entries():
    table = flatgen.flat(vectorized.vector_norm).explain(np.array([[0.1, 0.5], [-0.3, 0.8]]), np.array([0.2, 0.4]))
    text = str(table)
    assert "(2, 2) [0.088, 0.176, 0.104, 0.208]" in text  # grad W = 2 q x^T, the lecture's numbers
    assert "d = np.outer(g, x)" in text  # a matrix product's local gradient: its rule, never a Jacobian
    long = flatgen.flat(vectorized.vector_norm).explain(np.eye(3), np.arange(3.0))
    assert "(3, 3) [1, 0, 0, 0, ...]" in str(long)


def test_html_table_escapes_and_is_well_formed():
    table = flatgen.flat(language.piecewise).explain(0.3, 0.8)
    html = table._repr_html_()
    root = ET.fromstring(html)
    assert root.tag == "table" and len(root.findall(".//tr")) > len(table.rows)
    assert "color:#cf222e" in html and "color:#1a7f37" in html
    from flatgen.explain import Explanation, Row

    hostile = Explanation("<script>alert(1)</script>", [Row("gate", "a<b&c", 1, "mul", "x", 1.0, 2.0, "<i>")])
    out = hostile._repr_html_()
    assert "<script>" not in out and "&lt;script&gt;" in out and "a&lt;b&amp;c" in out
    ET.fromstring(out)


def test_compact_style_and_several_outputs():
    f = flatgen.flat(lecture.neuron, style="compact")
    assert [round(float(g), 2) for g in f.explain(*NEURON_AT).grads().values()] == NEURON_GRADS
    two = flatgen.flat(corpus.two_outputs)  # the gradient of the second output, by its seed
    table = two.explain(0.7, -1.2, seed=(0.0, 1.0))
    _, grads = two.value_and_grad(0.7, -1.2, seed=(0.0, 1.0))
    np.testing.assert_allclose(list(table.grads().values()), grads, rtol=1e-12)
    assert table.title.startswith("two_outputs(x=0.7, y=-1.2): ")
    with pytest.raises(flatgen.FlatgenError, match="seed"):
        two.explain(0.7, -1.2, seed=(1.0,))


def test_notebook_views_of_the_module():
    f = flatgen.flat(lecture.neuron)
    html = f._repr_html_()
    assert "neuron_value_and_grad" in html and "lecture.py:neuron" in html
    md = f._repr_markdown_()
    assert md.count("```python") == 1 and "grad_s3 = grad_L * (1 - L) * L" in md
    waiting = flatgen.flat(vectorized.mlp)  # `@` waits for the shapes of its arrays: said, not raised
    assert "needs the shapes" in waiting._repr_html_() and "needs the shapes" in waiting._repr_markdown_()
