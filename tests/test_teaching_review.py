"""Teaching (issue 16), after a hostile review: array outputs in the table and the picture (their
upstream gradient, `seed=` / `--seed`), tables that stay small for values used a thousand times,
the picture's file rules (`-o` onto a FIFO, `-`, a .png), every `--at`/`--seed` value a clear error,
the Markdown view escaped, the API's arguments checked as the CLI's, local gradients written as the
module writes them, and `flatgen graph --shape` for array code without values."""

import os
import re
import time
import tracemalloc

import numpy as np
import pytest

import flatgen
import lecture
from flatgen.cli import main
from flatgen.errors import FlatgenError, UsageError


def scale(x, a):
    return x * a


def pair(x, a):
    return x * a, np.sum(x)


def circuit(x, y, z):
    return (x + y) * z


def cumsum_rows(x):
    return np.sum(np.cumsum(x, axis=1) ** 2)


def stacked(A, B):
    return np.sum((A @ B) ** 2)


def widened(x):
    return np.sum(np.expand_dims(x, 1) * 2.0)


def matrix_vector(W, x):
    return np.sum(W @ x)


def fan(x, y):
    s = x
    for i in range(1000):
        s = s * 0.5 + x * y
    return s


# -- 3. array outputs: the upstream gradient -----------------------------------------------------


def test_an_array_output_gets_ones_by_default_and_the_table_says_so():
    f = flatgen.flat(scale)
    x = np.array([1.0, 2.0])
    table = f.explain(x, 2.0)
    _, grads = f.value_and_grad(x, 2.0, seed=np.ones(2))
    np.testing.assert_allclose(table.grads()["x"], grads[0])
    assert table.grads()["a"] == pytest.approx(grads[1])
    assert "ones of its shape" in str(table).splitlines()[1] and "seed=" in str(table).splitlines()[1]
    assert "ones of its shape" in table._repr_html_()
    assert "(2,) [1, 1]" in f.draw(x, 2.0).svg  # the output's wire carries its upstream gradient


def test_an_array_outputs_seed_is_taken_and_checked_as_value_and_grad_checks_it():
    f = flatgen.flat(scale)
    x = np.array([1.0, 2.0])
    dout = np.array([1.0, -3.0])
    table = f.explain(x, 2.0, seed=dout)
    _, grads = f.value_and_grad(x, 2.0, seed=dout)
    np.testing.assert_allclose(table.grads()["x"], grads[0])
    assert table.grads()["a"] == pytest.approx(grads[1]) and "ones of its shape" not in str(table)
    assert "(2,) [1, -3]" in f.draw(x, 2.0, seed=dout).svg
    for bad in ((np.ones(2),), np.ones(3), "one", [[1.0, 1.0]]):
        with pytest.raises(UsageError, match="seed"):
            f.explain(x, 2.0, seed=bad)
    with pytest.raises(UsageError, match="returns one number"):
        flatgen.flat(circuit).explain(1.0, 2.0, 3.0, seed=1.0)
    two = flatgen.flat(pair)  # several outputs, one an array: a tuple, one each
    table = two.explain(x, 2.0, seed=(np.zeros(2), 1.0))
    _, grads = two.value_and_grad(x, 2.0, seed=(np.zeros(2), 1.0))
    np.testing.assert_allclose(table.grads()["x"], grads[0])
    assert "ones of its shape (the other outputs': zeros)" in str(two.explain(x, 2.0))


def test_cli_seed(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vec.py").write_text("def scale(x, a):\n    return x * a\n\n\n"
                                     "def two(a, b):\n    return a * b, a + b\n")
    assert main(["explain", "vec.py:scale", "--at", "x=[1,2],a=2"]) == 0
    assert "ones of its shape" in capsys.readouterr().out
    assert main(["explain", "vec.py:scale", "--at", "x=[1,2],a=2", "--seed", "[1,-1]"]) == 0
    assert "(2,) [2, -2]" in capsys.readouterr().out
    assert main(["graph", "vec.py:scale", "--at", "x=[1,2],a=2", "--seed", "[1,-1]"]) == 0
    assert "(2,) [1, -1]" in capsys.readouterr().out
    assert main(["explain", "vec.py:two", "--at", "a=1,b=2", "--seed", "(0,1)"]) == 0
    assert "1 + 0 = 1" in capsys.readouterr().out
    for argv, message in [(["vec.py:scale", "--at", "x=[1,2],a=2", "--seed", "[1,2,3]"], "shape (3,)"),
                          (["vec.py:scale", "--at", "x=[1,2],a=2", "--seed", "[True,1]"], "bool"),
                          (["vec.py:two", "--at", "a=1,b=2", "--seed", "1"], "2 outputs"),
                          (["vec.py:two", "--at", "a=1,b=2", "--seed", "(1,'a')"], "--seed[1]"),
                          (["vec.py:scale", "--seed", "1"], "--seed needs --at")]:
        assert main(["explain" if "--at" in argv else "graph", *argv]) == 2, argv
        err = capsys.readouterr().err
        assert message in err and "internal error" not in err, err


# -- 4. a value used a thousand times --------------------------------------------------------------


def test_long_share_lists_are_cut_and_rows_are_not_padded_to_them():
    table = flatgen.flat(fan).explain(0.5, 0.3)
    x = next(r for r in table.rows if r.kind == "input" and r.name == "x")
    assert len(x.shares) == 1001  # .rows keeps every share
    text = str(table)
    line = next(s for s in text.splitlines() if "x = 0.5" in s)
    assert "+ ... +" in line and "(1001 shares) = 0.6" in line and len(line) < 150
    assert max(len(s) for s in text.splitlines()) < 200  # (was every row padded to a 20,000-character cell)


def test_a_2000_statement_table_is_quick_and_small(tmp_path, monkeypatch):
    lines = ["import numpy as np", "", "", "def big(x, y):", "    a0 = x * y"]
    lines += [f"    a{i} = np.sin(a{i - 1}) * x + a{max(0, i - 7)} * y" for i in range(1, 2000)]
    (tmp_path / "big2000.py").write_text("\n".join(lines + ["    return a1999", ""]))
    monkeypatch.syspath_prepend(str(tmp_path))
    import big2000

    table = flatgen.flat(big2000.big).explain(0.1, 0.2)
    tracemalloc.start()
    start = time.perf_counter()
    text = str(table)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(text) < 4_000_000 and peak < 40_000_000, (len(text), peak)  # (was 76 MB of text)
    assert seconds < 10


# -- 5. where a picture may be written ------------------------------------------------------------


def test_graph_output_rules(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    target = os.path.join(os.path.dirname(lecture.__file__), "lecture.py") + ":circuit"
    fifo = tmp_path / "fifo.svg"
    os.mkfifo(fifo)
    assert main(["graph", target, "-o", str(fifo)]) == 2  # (hung, reading the FIFO)
    assert "not a regular file" in capsys.readouterr().err
    assert main(["graph", target, "-o", "/dev/stdout"]) == 2
    assert main(["graph", target, "-o", "c.png"]) == 2 and not (tmp_path / "c.png").exists()
    assert ".svg or .dot" in capsys.readouterr().err
    assert main(["graph", target, "-o", "c.svg", "--format", "dot"]) == 2
    assert "--format dot" in capsys.readouterr().err
    assert main(["graph", target, "-o", "-"]) == 0  # stdout, not a file named "-"
    assert capsys.readouterr().out.startswith("<?xml") and not (tmp_path / "-").exists()
    assert main(["graph", target, "-o", "c.DOT"]) == 0
    assert (tmp_path / "c.DOT").read_text().startswith("// Generated by flatgen")
    drawing = flatgen.flat(lecture.circuit).draw()
    with pytest.raises(UsageError, match=".svg or .dot"):
        drawing.save(tmp_path / "c.png")
    with pytest.raises(UsageError, match="not a regular file"):
        drawing.save(fifo)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.DOT", "fifo.svg"]


# -- 6. every --at value is a number or a clear error ---------------------------------------------


@pytest.mark.parametrize("value, message", [
    ("1" + "0" * 400, "too large for a float"),
    ("[1" + "0" * 400 + ", 2]", "too large for a float"),
    ("nan", "not a number"),
    ("inf", "not a number"),
    ("True", "bool"),
    ("[True, 1]", "bool"),
    ("'s'", "not a number"),
    ("['s']", "not a number"),
    ("[[1, 2], [3]]", "ragged"),
    ("[1j]", "not a number"),
    ("[" * 40 + "1" + "]" * 40, "32"),
    ("[" * 400 + "1" + "]" * 400, "not a number"),
], ids=lambda v: v if len(v) < 20 else f"{v[:8]}...({len(v)} characters)")
def test_cli_at_values(capsys, value, message):
    assert main(["explain", "examples/lecture.py:circuit", "--at", f"x={value},y=5,z=-4"]) == 2
    err = capsys.readouterr().err
    assert message in err and "internal error" not in err, err


def test_cli_at_arrays_at_a_scalar_function(capsys):
    """Lists where the function was written for numbers: an array output, with its default upstream gradient."""
    assert main(["explain", "examples/lecture.py:circuit", "--at", "x=[[1],[2]],y=(1,2),z=[]"]) in (0, 2)
    assert "internal error" not in capsys.readouterr().err
    assert main(["explain", "examples/lecture.py:circuit", "--at", "x=[1,2],y=(1,2),z=3"]) == 0
    assert "ones of its shape" in capsys.readouterr().out


# -- 7. the Markdown view ---------------------------------------------------------------------------


def test_markdown_header_is_escaped(tmp_path, monkeypatch):
    folder = tmp_path / "a``<img src=x onerror=alert(1)>`"
    folder.mkdir()
    (folder / "m.py").write_text("def f(x):\n    return x * x\n")
    monkeypatch.syspath_prepend(str(folder))
    import m

    md = flatgen.flat(m.f)._repr_markdown_()
    head = md.split("\n")[0]
    span = re.fullmatch(r"(`+) (.*) \1", head)  # one code span, all of the line: no HTML read inside it
    assert span is not None and "`" * len(span.group(1)) not in span.group(2), head
    assert "<img" in span.group(2) and md.count("```python") == 1
    from flatgen.teaching import markdown_code, markdown_text

    assert markdown_code("a\n\n<b>") == "` a\\n\\n<b> `"  # one line: a blank line would end the span
    assert markdown_text("`max` <img src=x>") == "\\`max\\` \\<img src\\=x\\>"


# -- 8. the API checks its arguments as the CLI does ----------------------------------------------


def test_explain_and_draw_arguments_are_checked():
    f = flatgen.flat(lecture.circuit)
    with pytest.raises(UsageError, match=r"takes the arguments by position \(x, y, z\)"):
        f.explain(x=1.0, y=2.0, z=3.0)
    with pytest.raises(UsageError, match="by position"):
        f.draw(1.0, 2.0, z=3.0)
    for digits in (-1, 0, 18, "3", 2.0, True, None):
        with pytest.raises(UsageError, match="1 to 17"):
            f.explain(1.0, 2.0, 3.0, digits=digits)
        with pytest.raises(UsageError, match="1 to 17"):
            f.draw(digits=digits)
    with pytest.raises(UsageError, match="needs the arguments"):
        f.draw(seed=1.0)
    assert "-12" in str(f.explain(-2.0, 5.0, -4.0, digits=17))


# -- 9. local gradients as the module writes them ------------------------------------------------


@pytest.mark.parametrize("fn, args, text, line", [
    (cumsum_rows, (np.array([[1.0, 2.0], [3.0, 4.0]]),), "d = np.cumsum(g[:, ::-1], axis=1)[:, ::-1]",
     "grad_x = np.cumsum(grad_t1[:, ::-1], axis=1)[:, ::-1]"),
    (stacked, (np.ones((3, 2, 2)), np.eye(2)), "d = np.sum(np.transpose(A, (0, 2, 1)) @ g, axis=0)",
     "grad_B = np.sum(np.transpose(A, (0, 2, 1)) @ grad_t1, axis=0)"),
    (widened, (np.array([1.0, 2.0]),), "d = np.reshape(g, (2,))", "grad_x = np.reshape(grad_t1, (2,))"),
])
def test_local_formulas_are_what_the_module_writes(fn, args, text, line):
    f = flatgen.flat(fn)
    formulas = [i.local for r in f.explain(*args).rows for i in r.inputs if isinstance(i.local, str)]
    assert text in formulas, formulas
    assert not any(w in s for s in formulas for w in ("flip", "axis=axis", "swap_", "lead", "np.shape(")), formulas
    assert line in [m.strip() for m in f.source.splitlines()]  # the same text, with g and d named
    assert line.partition(" = ")[2].replace("grad_t1", "g") == text.partition(" = ")[2]


# -- 10. the graph alone, for array code ----------------------------------------------------------


def test_graph_takes_shapes_without_values(capsys):
    target = f"{__file__}:matrix_vector"
    assert main(["graph", target]) == 2
    err = capsys.readouterr().err
    assert "--shape" in err and "flatgen handles 1-D and 2-D" not in err and "takes no scalars" in err
    assert main(["graph", target, "--shape", "W=2,3", "--shape", "x=3"]) == 0
    assert "@" in capsys.readouterr().out
    assert main(["graph", target, "--shape", "W=2,3", "--shape", "y=3"]) == 2
    assert "not a parameter" in capsys.readouterr().err
    assert main(["graph", target, "--shape", "W=2,3", "--shape", "x=3", "--at", "W=1,x=2"]) == 2
    assert main(["graph", target, "--shape", "W=2,x"]) == 2
    assert "not PARAM=N,M" in capsys.readouterr().err


def by_key(params, x):
    return np.sum(params["W"] @ x)


def pick(x, y):
    return np.sum(x[np.arange(2), y] ** 2)


def test_dict_parameters_and_index_arrays(tmp_path, capsys, monkeypatch):
    """A dict parameter is one parameter per key, in the table as in the module; an index array from
    --at is integers (a float index was an IndexError inside the interpreter, exit 3)."""
    f = flatgen.flat(by_key)
    W, x = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, -1.0])
    table = f.explain({"W": W}, x)
    _, (grads, gx) = f.value_and_grad({"W": W}, x)
    np.testing.assert_allclose(table.grads()["params_W"], grads["W"])
    assert "gates" in repr(f.draw({"W": W}, x))
    target = f"{__file__}:pick"
    assert main(["explain", target, "--at", "x=[[1,2],[3,4]],y=[1,0]"]) == 0
    assert "(2, 2) [0, 4, 6, 0]" in capsys.readouterr().out
    assert main(["explain", target, "--at", "x=[[1,2],[3,4]],y=[1,0.5]"]) == 2
    assert "y is used as an index" in capsys.readouterr().err
    assert main(["explain", "examples/loops.py:rnn", "--at", "x=0.5,w=0.9,n=1e300"]) == 2
    assert "n is a loop count" in capsys.readouterr().err


def test_errors_stay_flatgen_errors():
    with pytest.raises(FlatgenError):
        flatgen.flat(scale).explain(np.ones(2), np.ones(3))
