"""Teaching (issue 16): `flatgen gates` and `flatgen.gates()` list every gate flatgen knows, read from
the primitive table itself (forward, local gradient per input, gate and pattern, calls, comment)."""

from __future__ import annotations

import dataclasses
import html

import pytest

import flatgen
from flatgen import primitives
from flatgen.cli import main
from flatgen.errors import UsageError
from flatgen.explain import DEFAULT_PATTERN, PATTERNS
from flatgen.gatetable import GateRow, Gates
from flatgen.render import gate_text


def test_one_record_per_row_of_the_table_in_its_order():
    rows = flatgen.gates()
    assert isinstance(rows, Gates) and all(isinstance(r, GateRow) for r in rows)
    table = list(primitives.TABLE.values())
    assert [r.name for r in rows[:len(table)]] == [op.name for op in table]
    assert [r.name for r in rows[len(table):]] == ["setitem", "copy", "einsum", "acc"]
    for r, op in zip(rows, table):
        assert r.forward == op.expr.text and r.gate == op.gate
        assert r.rules == tuple(None if rule is None else rule.expr.text for rule in op.rules)
        assert len(r.inputs) == len(r.rules) and r.kind == "primitive"
        assert r.pattern == PATTERNS.get(op.gate, DEFAULT_PATTERN)
        assert r.comment == gate_text(op.gate, out="out", ins=r.inputs, name=r.inputs[0] if r.inputs else "x", uses=2)


def test_the_lectures_gates_and_patterns():
    by_name = {r.name: r for r in flatgen.gates()}
    assert by_name["add"][1:6] == ("add", "distributor", ("a", "b"), "a + b", ("g", "g"))
    assert by_name["mul"][1:6] == ("mul", "swap multiplier", ("a", "b"), "a * b", ("g * b", "g * a"))
    assert by_name["max2"][1:6] == ("max", "router", ("a", "b"), "max(a, b)", ("g * (a >= b)", "g * (a < b)"))
    assert by_name["acc"][1:6] == ("copy", "adder", ("x",), "x", (primitives.ACC.expr.text,))
    assert by_name["acc"].comment == "copy gate: x is used 2 times, its gradients add up"
    assert by_name["sigmoid"].rules == ("g * (1 - out) * out",) and by_name["sigmoid"].calls == ("flatgen.sigmoid",)
    assert by_name["exp"].calls == ("np.exp", "math.exp") and by_name["abs"].calls[-1] == "abs"
    assert by_name["gt"].rules == (None, None) and by_name["gt"].pattern == "no gradient"
    assert by_name["einsum"].kind == "per call" and by_name["einsum"].rules[0] == "np.einsum('ik,jk->ij', g, b)"


def test_read_from_the_table_not_written_twice(monkeypatch):
    """A row the table gains (or a rule it changes) is what gates() shows."""
    mul = primitives.TABLE["mul"]
    changed = dataclasses.replace(mul, name="mul_new", rules=(mul.rules[1], mul.rules[0]))
    monkeypatch.setattr(primitives, "TABLE", {**primitives.TABLE, "mul_new": changed})
    (row,) = flatgen.gates("mul_new")
    assert row.rules == ("g * a", "g * b") and row.forward == "a * b"


def test_names_pick_rows_gates_and_calls():
    assert [r.name for r in flatgen.gates("mul", "np.exp", "max")] == ["mul", "exp", "maximum", "max2", "max"]
    assert [r.name for r in flatgen.gates("copy")] == ["copy", "acc"]  # the row (an assignment), the gate label
    with pytest.raises(UsageError, match="no gate 'nope', 'np.nope'"):
        flatgen.gates("nope", "np.nope", "mul")


def test_text_and_html():
    rows = flatgen.gates("mul", "lt", "index")
    text = str(rows)
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["name", "gate", "(pattern)"] and set(lines[1]) == {"-", " "}
    assert lines[2].split() == ["mul", "mul", "(swap", "multiplier)", "a", "*", "b", "np.multiply", "a:", "g", "*",
                                "b;", "b:", "g", "*", "a"]
    assert "a: no gradient; b: no gradient" in lines[3]
    # a block rule on one line
    assert "x: OUT = np.zeros(np.shape(x), np.result_type(x, 1.0)); OUT[idx] = g" in lines[4]
    page = rows._repr_html_()
    assert page.startswith('<table class="flatgen-gates">') and page.count("<tr>") == 4
    assert "<code>a &lt; b</code>" in page and html.escape(rows[0].comment) in page
    from IPython.lib.pretty import pretty

    assert pretty(rows) == text.rstrip("\n")


def test_the_command(capsys):
    assert main(["gates"]) == 0
    out = capsys.readouterr().out
    assert out == str(flatgen.gates())
    assert main(["gates", "mul", "--html"]) == 0
    assert capsys.readouterr().out == flatgen.gates("mul")._repr_html_() + "\n"
    assert main(["gates", "nope"]) == 2
    assert capsys.readouterr().err.startswith("usage: no gate 'nope'")
