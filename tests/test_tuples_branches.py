"""Issue 4, first part: tuples, several outputs with seed=, helper keywords and defaults,
branches and conditional expressions decided at trace time, conditional expressions on data."""

import numpy as np
import pytest

import corpus
import flatgen
from numerics import assert_agree, finite_differences


def test_tuples_unpacking_and_helper_keywords():
    f = flatgen.flat(corpus.tuples)
    for args in [(0.3, -1.2), (1.5, 0.25)]:
        value, _ = assert_agree(f, args)
        assert value == pytest.approx(corpus.tuples(*args), rel=1e-14)
    assert "scaled_k" not in f.source  # defaults are constants: 2.0 written in


@pytest.mark.parametrize("seed", [None, (1.0, 0.0), (0.0, 1.0), (0.5, -2.0)])
def test_several_outputs_with_seed(seed):
    f = flatgen.flat(corpus.two_outputs)
    args = (0.7, -1.3)
    (loss, aux), grads = f.value_and_grad(*args, seed=seed)
    (rl, ra), ref = f.interpret(*args, seed=seed)
    assert (loss, aux) == (rl, ra) == corpus.two_outputs(*args)
    np.testing.assert_allclose(grads, ref, rtol=1e-12)
    s = seed or (1.0, 0.0)
    weighted = lambda x, y: s[0] * corpus.two_outputs(x, y)[0] + s[1] * corpus.two_outputs(x, y)[1]  # noqa: E731
    np.testing.assert_allclose(grads, finite_differences(weighted, args, [0, 1]), rtol=1e-5, atol=1e-7)
    assert "def two_outputs_value_and_grad(x, y, seed=(1.0, 0.0)):" in f.source
    assert "return (loss, aux), (grad_x, grad_y)" in f.source


def test_an_output_returned_twice_adds_its_seeds():
    f = flatgen.flat(corpus.same_output_twice)
    (y1, y2), (g,) = f.value_and_grad(3.0, seed=(1.0, 2.0))
    assert (y1, y2) == (9.0, 9.0) and g == 3 * 6.0
    assert f.interpret(3.0, seed=(1.0, 2.0))[1] == (18.0,)


def test_seed_must_match_the_outputs():
    f = flatgen.flat(corpus.two_outputs)
    with pytest.raises(flatgen.FlatgenError, match="one upstream gradient per output"):
        f.value_and_grad(1.0, 2.0, seed=(1.0,))


def test_branches_decided_when_generating():
    f = flatgen.flat(corpus.static_branches)
    assert_agree(f, (0.4, 1.7))
    code = [line for line in f.source.splitlines() if not line.lstrip().startswith("#")]
    assert not any(line.lstrip().startswith("if ") for line in code)  # only the taken branch is emitted
    assert "z = x * y" in f.source and "w = z * 2.0" in f.source and "z = x + y" not in f.source


@pytest.mark.parametrize("args", [(0.9, 0.2), (0.2, 0.9), (-0.4, 0.7)])
def test_conditional_expressions_on_data(args):
    f = flatgen.flat(corpus.select)
    value, _ = assert_agree(f, args)
    assert value == pytest.approx(corpus.select(*args), rel=1e-14)
    for math_mode in (True, False):  # math mode writes `a if c else b`, numpy mode np.where
        g = flatgen.flat(corpus.select, math=math_mode)
        assert_agree(g, args)
        assert ("np.where(" in g.source) != math_mode


def test_item_assignment_and_list_literals():
    import corpus_arrays

    rng = np.random.default_rng(5)
    f = flatgen.flat(corpus_arrays.a_setitem)
    args = (0.7, -1.1, rng.normal(size=4))
    value, _ = assert_agree(f, args)
    assert value == pytest.approx(corpus_arrays.a_setitem(*args), rel=1e-14)
    assert "z_1 = z.copy()" in f.source and "z_1[0] = t1" in f.source


def test_nested_pure_helpers():
    import corpus_arrays

    rng = np.random.default_rng(6)
    f = flatgen.flat(corpus_arrays.a_nested)
    args = (rng.normal(size=3), 0.4)
    value, _ = assert_agree(f, args)
    assert value == pytest.approx(corpus_arrays.a_nested(*args), rel=1e-14)
    assert "blend_s" in f.source


BRANCH_POINTS = [(1.0, 0.9), (0.5, 0.3), (-1.0, 0.2), (0.9, 0.7)]


@pytest.mark.parametrize("args", BRANCH_POINTS)
@pytest.mark.parametrize("style", ["lecture", "compact"])
@pytest.mark.parametrize("math_mode", [None, True])
def test_branches_on_data(args, style, math_mode):
    f = flatgen.flat(corpus.branchy, style=style, math=math_mode, free=True)
    value, _ = assert_agree(f, args)
    assert value == pytest.approx(corpus.branchy(*args), rel=1e-14)


def test_branches_stay_branches_in_both_passes():
    text = flatgen.flat(corpus.branchy).source
    body = text.split("def branchy_value_and_grad")[1]
    assert body.count("if t1:") == 2 and body.count("if t3:") == 2  # forward and backward
    assert "    else:\n" in body
    assert "grad_x = 0.0" in body  # accumulated in either branch: starts at zero


@pytest.mark.parametrize("k", [0.5, 50.0])
def test_branches_with_arrays(k):
    rng = np.random.default_rng(7)
    f = flatgen.flat(corpus.branch_arrays)
    assert_agree(f, (rng.normal(size=4), k))


def test_names_assigned_in_one_branch_only(tmp_path):
    (tmp_path / "one.py").write_text(
        "def f(x):\n    if x > 0:\n        y = x * 2.0\n        t = y + 1.0\n    else:\n        y = -x\n"
        "    return y * t\n")
    from flatgen.parse import load_target
    from flatgen.pipeline import generate

    with pytest.raises(flatgen.FlatgenError, match=r"`t` is assigned in only one branch of the `if` on line 2"):
        generate(*load_target(f"{tmp_path / 'one.py'}:f"))
    (tmp_path / "two.py").write_text(
        "def f(x):\n    if x > 0:\n        t = x * 2.0\n        y = t + 1.0\n    else:\n        y = -x\n    return y\n")
    g = generate(*load_target(f"{tmp_path / 'two.py'}:f"))  # t lives in its branch only: fine
    ns = {}
    exec(compile(g.source, "two", "exec"), ns)
    assert ns["f_value_and_grad"](1.5) == (4.0, (2.0,)) and ns["f_value_and_grad"](-1.5) == (1.5, (-1.0,))


def test_language_examples():
    import language as L

    for args in [(1.0, 0.9), (0.5, 0.3), (-1.0, 0.2)]:
        value, _ = assert_agree(flatgen.flat(L.piecewise), args)
        assert value == pytest.approx(L.piecewise(*args), rel=1e-14)
    f = flatgen.flat(L.loss_and_aux)
    (loss, aux), grads = f.value_and_grad(0.3, 0.8)
    assert (loss, aux) == L.loss_and_aux(0.3, 0.8)
    np.testing.assert_allclose(grads, finite_differences(lambda x, y: L.loss_and_aux(x, y)[0], (0.3, 0.8), [0, 1]),
                               rtol=1e-5)
    value, _ = assert_agree(flatgen.flat(L.features), (np.array([0.2, -0.4, 0.9]), 0.7))
    assert value == pytest.approx(L.features(np.array([0.2, -0.4, 0.9]), 0.7), rel=1e-14)
