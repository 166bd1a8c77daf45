"""The scalar subset's language features, each checked numerically through the generated module."""

import ast

import numpy as np
import pytest

import corpus
import flatgen
from numerics import assert_agree

CASES = {
    "const_pow": (1.3,),
    "neg_base": (0.7,),
    "rebinding": (0.4, -1.1),
    "augmented": (0.8, 1.7),
    "nested": (0.3, -0.2, 1.4),
    "constants": (0.9,),
    "unused": (1.5, 2.0, -3.0),
    "returns_param": (1.5, 2.0),
    "returns_constant": (1.5,),
    "norm2": (3.0, 4.0),
    "uses_helpers": (1.2, -0.7),
    "unary_plus": (1.5,),
    "with_annotations": (1.5, -2.0),
    "shadow_names": (0.5, 1.5, -0.25, 2.0, 0.125),
    "routers": (1.5, -0.5),
    "deep_fanout": (0.7,),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_feature(name):
    f = flatgen.flat(getattr(corpus, name))
    value, _ = assert_agree(f, CASES[name])
    assert value == pytest.approx(f(*CASES[name]), rel=1e-15)  # the user's own function agrees


def test_rebinding_keeps_every_version():
    f = flatgen.flat(corpus.rebinding)
    text = f.source
    assert "x_1 = x * y" in text and "x_2 = x_1 + y" in text and "x_3 = sigmoid(x_2)" in text


def test_unused_parameter_gets_zeros_of_its_shape():
    f = flatgen.flat(corpus.unused)
    _, (gx, gy, gz) = f.value_and_grad(1.5, 2.0, -3.0)
    assert gx == 3.0 and gy == 0.0 and gz == 0.0
    assert np.shape(gy) == np.shape(2.0)
    _, (_, gy_arr, _) = flatgen.flat(corpus.unused).module.unused_value_and_grad(1.5, np.ones((2, 3)), -3.0)
    assert gy_arr.shape == (2, 3) and not gy_arr.any()


def test_wrt_selects_and_orders_gradients():
    f = flatgen.flat(corpus.p_mul, wrt=("b",))
    value, grads = f.value_and_grad(3.0, 5.0)
    assert value == 15.0 and grads == (3.0,)
    g = flatgen.flat(corpus.nested, wrt=("c", "a"))
    _, (gc, ga) = g.value_and_grad(0.3, -0.2, 1.4)
    _, (ga_all, _, gc_all) = flatgen.flat(corpus.nested).value_and_grad(0.3, -0.2, 1.4)
    assert (gc, ga) == (gc_all, ga_all)
    assert "grad_b" not in g.source.split("def nested_value_and_grad")[1]


def test_wrt_errors():
    with pytest.raises(flatgen.FlatgenError, match="not a parameter"):
        flatgen.flat(corpus.p_mul, wrt=("z",))
    with pytest.raises(flatgen.FlatgenError, match="twice"):
        flatgen.flat(corpus.p_mul, wrt=("a", "a"))


def test_helpers_are_inlined_with_prefixed_locals():
    f = flatgen.flat(corpus.uses_helpers)
    tree = ast.parse(f.source)
    assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] == [
        "uses_helpers", "uses_helpers_value_and_grad"]
    assert "square_v" in f.source  # the helper's local, prefixed with its name


def test_copy_gate_accumulates_visibly():
    f = flatgen.flat(corpus.deep_fanout)
    text = f.source
    # x is used four times: three accumulations (`+=` once the gradient is an array flatgen made)
    assert text.count("grad_x +=") + text.count("grad_x = grad_x +") == 3
    assert "copy gate: x is used 4 times" in text
    assert text.count("grad_a +=") == 1


def test_decorator_keeps_the_users_function():
    f = flatgen.flat(corpus.nested)
    assert f(0.3, -0.2, 1.4) == corpus.nested(0.3, -0.2, 1.4)
    assert f.__name__ == "nested" and f.__doc__ == corpus.nested.__doc__
    assert f.grad(0.3, -0.2, 1.4) == f.value_and_grad(0.3, -0.2, 1.4)[1]


def test_decorator_forms(tmp_path):
    mod = tmp_path / "forms.py"
    mod.write_text(
        "import flatgen\n\n@flatgen.flat\ndef a(x):\n    return x * x\n\n"
        "@flatgen.flat(wrt=('y',))\ndef b(x, y):\n    return x * y\n"
    )
    ns = {}
    exec(compile(mod.read_text(), str(mod), "exec"), ns)
    assert ns["a"].value_and_grad(3.0) == (9.0, (6.0,))
    assert ns["b"].value_and_grad(3.0, 4.0) == (12.0, (3.0,))


def test_generated_module_imports_only_numpy():
    for name in CASES:
        tree = ast.parse(flatgen.flat(getattr(corpus, name)).source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert [a.name for a in node.names] == ["numpy"], name
            assert not isinstance(node, ast.ImportFrom), name


def test_pure_arithmetic_imports_nothing():
    assert "import" not in flatgen.flat(corpus.p_mul).source.split("\n\n", 1)[1]


def test_decorator_out_writes_and_refreshes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mod = tmp_path / "fresh.py"
    mod.write_text("import flatgen\n\n@flatgen.flat(out='gen')\ndef f(x):\n    return x * x\n")
    ns = {}
    exec(compile(mod.read_text(), str(mod), "exec"), ns)
    written = tmp_path / "gen" / "fresh_f.py"
    assert written.read_text() == ns["f"].source
    mtime = written.stat().st_mtime_ns
    exec(compile(mod.read_text(), str(mod), "exec"), ns)  # fresh: untouched
    assert written.stat().st_mtime_ns == mtime
    # stale + FLATGEN_CHECK=1: raises, does not write
    mod.write_text(mod.read_text().replace("x * x", "x * x * x"))
    import linecache

    linecache.checkcache(str(mod))
    monkeypatch.setenv("FLATGEN_CHECK", "1")
    with pytest.raises(flatgen.FlatgenError, match="is stale"):
        exec(compile(mod.read_text(), str(mod), "exec"), ns)
    assert written.stat().st_mtime_ns == mtime
    monkeypatch.delenv("FLATGEN_CHECK")
    exec(compile(mod.read_text(), str(mod), "exec"), ns)
    assert "x * x * x" in written.read_text() or "t1 * x" in written.read_text()
    assert written.read_text() == ns["f"].source


def test_write_returns_the_path(tmp_path):
    f = flatgen.flat(corpus.p_mul)
    path = f.write(tmp_path / "out")
    assert path == tmp_path / "out" / "corpus_p_mul.py"
    assert path.read_text() == f.source
