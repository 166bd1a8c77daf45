"""numpy as people write it (issue 13): the spellings of the new rows, their edge cases, and what is refused.

Each row is checked on its own in tests/test_op_specs.py (rules against central differences) and
tests/test_primitives.py (a function around it: generated == interpreter == finite differences).
Here: every call, method and alias that means a new row traces to it (tests/corpus_numpy.py, s_*),
the gradients the textbook rules promise at their edges (prod at zeros, the inf-norm's ties, clip's
bounds), argmax as an index, math mode for the scalar rows, the refusals and their hints.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect

import numpy as np
import pytest

import corpus_numpy
import flatgen
from flatgen.primitives import CALLS, METHODS
from flatgen.rows_linalg import LINALG_METHODS, LINALG_ROWS
from flatgen.rows_numpy import NUMPY_METHODS, NUMPY_ROWS
from numerics import assert_agree

rng = np.random.default_rng(13)


def r(*shape, low=-1.5, high=1.5):
    return rng.uniform(low, high, size=shape) if shape else float(rng.uniform(low, high))


def _ops(f) -> set:
    return {e.op.name for e in f.graph.eqns}


SPELLINGS = {  # function: (arguments, rows it must trace to)
    "s_methods": ((r(3), r(3, 4)), {"matmul_vm", "var", "std", "clip", "prod", "cumsum", "round"}),
    "s_methods_axes": ((r(3, 3),), {"argmax", "argmin", "var", "trace", "cumsum_axis"}),
    "s_aliases": ((r(5),), {"round", "clip"}),
    "s_dot_ranks": ((0.7, r(3), r(3, 3), r(2, 2, 3)), {"mul", "dot", "matmul_mv", "matmul_bv"}),
    "s_dot_stacks": ((r(2, 3), r(2, 3, 2)), {"einsum"}),
    "s_shape_products": ((r(2, 3, 2),), {"sum"}),
    # a string or None as an argument: the fence lets it through, the tracer says where it may stand
    "s_clip_one_bound": ((r(5),), {"maximum", "minimum"}),
    "s_norms": ((r(3), r(2, 3)), {"norm"}),
    "s_einsum_forms": ((r(3, 3), r(3, 3), r(3)), {"einsum", "transpose"}),
    "a_einsum": ((r(2, 3), r(3, 4)), {"einsum"}),
}


@pytest.mark.parametrize("name", sorted(SPELLINGS))
def test_spellings(name):
    args, rows = SPELLINGS[name]
    f = flatgen.flat(getattr(corpus_numpy, name), example=args)
    assert_agree(f, args)
    assert rows <= _ops(f), f"{name} traces to {sorted(_ops(f))}, expected {sorted(rows)} among them"


def test_einsum_passes_the_fence():
    args = (r(2, 3), r(3, 4))
    assert_agree(flatgen.flat(corpus_numpy.a_einsum, example=args), args)


def test_every_new_call_and_method_is_spelled_in_the_corpus():
    """Each user-facing name of the new rows (np.f, math.f, methods) appears in tests/corpus_numpy.py."""
    tree = ast.parse(inspect.getsource(corpus_numpy))
    spelled, methods = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            text = ast.unparse(node.func)
            spelled.add(text.replace("np.", "numpy.", 1) if text.startswith("np.") else text)
            methods.add(node.func.attr)
    new_calls = {c for op in NUMPY_ROWS + LINALG_ROWS for c in op.calls}
    assert new_calls <= set(CALLS)
    assert not new_calls - spelled, f"calls without a function in corpus_numpy: {sorted(new_calls - spelled)}"
    new_methods = set(NUMPY_METHODS) | set(LINALG_METHODS)
    assert new_methods <= set(METHODS)
    assert not new_methods - methods, f"methods without a function in corpus_numpy: {sorted(new_methods - methods)}"
    assert "numpy.einsum" in spelled


# -- edges of the rules ----------------------------------------------------------------------------------


def test_prod_at_zeros_is_the_product_of_the_others():
    f = flatgen.flat(corpus_numpy.a_prod)
    x = np.array([2.0, 0.0, -3.0, 0.5])
    value, (g,) = f.value_and_grad(x)
    assert value == 0.0
    np.testing.assert_array_equal(g, [0.0, -3.0, 0.0, 0.0])  # only the zero's: 2 * -3 * 0.5
    value, (g,) = f.value_and_grad(np.array([2.0, 0.0, 0.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])  # two zeros: every product of the others is 0
    np.testing.assert_array_equal(f.interpret(np.array([2.0, 0.0, 0.0]))[1][0], g)


def test_inf_norm_splits_ties_evenly_with_their_sign():
    f = flatgen.flat(corpus_numpy.a_norminf)
    value, (g,) = f.value_and_grad(np.array([1.0, -2.0, 2.0, 0.5]))
    assert value == 2.0
    np.testing.assert_array_equal(g, [0.0, -0.5, 0.5, 0.0])


def test_clip_routes_to_the_bound_it_clipped_to():
    f = flatgen.flat(corpus_numpy.p_clip)  # np.clip(x, lo, hi) * x
    _, (gx, glo, ghi) = f.value_and_grad(2.0, -1.0, 1.0)  # clipped to hi: x * hi
    assert (gx, glo, ghi) == (1.0, 0.0, 2.0)
    _, (gx, glo, ghi) = f.value_and_grad(-2.0, -1.0, 1.0)  # clipped to lo
    assert (gx, glo, ghi) == (-1.0, -2.0, 0.0)
    _, (gx, glo, ghi) = f.value_and_grad(0.5, -1.0, 1.0)  # inside: x * x
    assert (gx, glo, ghi) == (1.0, 0.0, 0.0)


def test_argmax_is_an_index_with_no_gradient():
    f = flatgen.flat(corpus_numpy.a_argmax)  # x[np.argmax(x)] * 2 + np.sum(x)
    x = np.array([0.3, 1.7, -0.2])
    value, (g,) = f.value_and_grad(x)
    assert value == 1.7 * 2.0 + np.sum(x)
    np.testing.assert_array_equal(g, [1.0, 3.0, 1.0])
    assert "np.argmax(x)" in f.source and "x[i]" in f.source


def test_argmax_inline_as_an_index():
    def f(x):
        return x[np.argmax(x)]

    assert flatgen.flat(f).value_and_grad(np.array([0.3, 1.7]))[0] == 1.7


def test_slogdet_of_a_negative_determinant():
    A = np.array([[0.3, 2.0], [1.5, -0.4]])
    f = flatgen.flat(corpus_numpy.a_slogdet_sign)
    value, (g,) = f.value_and_grad(A)
    sign, logdet = np.linalg.slogdet(A)
    assert value == sign * logdet
    np.testing.assert_allclose(g, sign * np.linalg.inv(A).T, rtol=1e-12)


def test_rules_read_as_the_textbook_writes_them():
    """The generated code shows the rule: -A^-T G A^-T, one more solve, det * A^-T, a reversed cumsum."""
    text = {name: flatgen.flat(getattr(corpus_numpy, name), example=args).source for name, args in [
        ("a_inv", (np.eye(2),)), ("a_solve", (np.eye(2), np.ones(2))), ("a_det", (np.eye(2),)),
        ("a_cumsum_axis", (np.ones((2, 3)), np.ones((2, 3)))), ("a_trace", (np.eye(2),)),
        ("a_matmul_bm", (np.ones((2, 3, 4)), np.ones((4, 2))))]}
    assert "-(t1.T @ grad_t1 @ t1.T)" in text["a_inv"]
    assert "np.linalg.solve(A.T, grad_x)" in text["a_solve"]
    assert "np.linalg.inv(A).T" in text["a_det"]
    assert "np.cumsum(grad_t1[:, ::-1], axis=1)[:, ::-1]" in text["a_cumsum_axis"]
    assert "np.eye(2, 2)" in text["a_trace"]
    assert "grad_X = grad_t1 @ W.T" in text["a_matmul_bm"]
    assert "np.sum(np.transpose(X, (0, 2, 1)) @ grad_t1, axis=0)" in text["a_matmul_bm"]


def test_batched_at_operator():
    def f(A, B):
        return np.sum(A @ B)

    args = (r(2, 3, 4), r(2, 4, 2))
    assert_agree(flatgen.flat(f, example=args), args)


# -- math mode: the scalar rows on floats use the math module -------------------------------------------------


@pytest.mark.parametrize("name,args,text", [
    ("p_tan", (0.3,), "math.tan(x)"), ("p_arcsin", (0.3,), "math.asin(x)"), ("p_arctan2", (0.5, -1.2), "math.atan2"),
    ("p_logaddexp", (0.5, -1.2), "def logaddexp(a, b):"), ("p_clip", (0.3, -0.5, 0.8), "minimum(maximum("),
    ("p_floor", (1.3,), "float(math.floor(x))"), ("p_round", (2.5,), "round_half_even(x, 0)"),
    ("p_square", (0.3,), "x**2"), ("p_float64", (0.3,), "float(x)"), ("p_exp2", (0.3,), "math.exp2(x)"),
])
def test_math_mode_uses_the_math_module(name, args, text):
    f = flatgen.flat(getattr(corpus_numpy, name))
    value, grads = f.value_and_grad(*args)
    assert f.generated.graph.math
    assert text in f.source, f.source
    assert type(value) is float and all(type(g) is float for g in grads)
    user = getattr(corpus_numpy, name)(*args)
    assert value == pytest.approx(float(user), rel=1e-14)


def test_math_round_is_numpy_round_half_to_even():
    f = flatgen.flat(corpus_numpy.p_round)
    for x in (0.5, 1.5, 2.5, -0.5, -1.5, 2.675):
        assert f.value_and_grad(x)[0] == float(np.round(x)) * x


def test_math_logaddexp_is_numpy_logaddexp():
    f = flatgen.flat(corpus_numpy.p_logaddexp)
    for a, b in ((0.5, -1.2), (3.0, 3.0), (-800.0, -801.0), (700.0, -700.0)):
        assert f.value_and_grad(a, b)[0] == float(np.logaddexp(a, b))


# -- refusals --------------------------------------------------------------------------------------------------


def _refused(fn, args, match):
    with pytest.raises(flatgen.FlatgenError, match=match):
        flatgen.flat(fn, example=args)


def test_matrix_two_norm_is_refused_with_the_frobenius_hint():
    def f(X):
        return np.linalg.norm(X, 2)

    _refused(f, (np.ones((2, 3)),), "ord=2")


def test_matrix_one_norm_is_refused():
    def f(X):
        return np.linalg.norm(X, ord=1)

    _refused(f, (np.ones((2, 3)),), "ord=1")


def test_cumsum_over_two_axes_is_refused():
    def f(X):
        return np.sum(np.cumsum(X, axis=(0, 1)))

    _refused(f, (np.ones((2, 3)),), "one axis")


def test_inv_of_a_non_square_matrix_is_refused():
    def f(X):
        return np.sum(np.linalg.inv(X))

    _refused(f, (np.ones((2, 3)),), "square")


@pytest.mark.parametrize("spec,match", [("ij,jk", "output written out"), ("...ij,jk->ik", "`...`"),
                                         ("ij,jk->iz", "from the inputs"), ("ij,kk->ik", "sizes")])
def test_einsum_refusals(spec, match, tmp_path):
    from flatgen.parse import load_target
    from flatgen.pipeline import Options, generate

    path = tmp_path / "einsum_case.py"
    path.write_text(f"import numpy as np\n\n\ndef f(A, B):\n    return np.sum(np.einsum({spec!r}, A, B))\n")
    source, fn = load_target(f"{path}:f")
    with pytest.raises(flatgen.FlatgenError, match=match):
        generate(source, fn, Options(shapes=(("A", (2, 3)), ("B", (3, 4)))))


# -- every style, memory option and the formatter, on each new row (as test_memory, test_simplify and
# test_format do for the lecture's rows) -----------------------------------------------------------------------


def _row_functions():
    from test_primitives import NUMPY_ARRAY, NUMPY_SCALAR

    for name, cases in sorted(NUMPY_SCALAR.items()):
        yield name, getattr(corpus_numpy, f"e_{name}"), next(a for a in cases if any(np.ndim(x) for x in a))
        yield name + " (math)", getattr(corpus_numpy, f"p_{name}"), next(a for a in cases if all(np.ndim(x) == 0
                                                                                                     for x in a))
    for name, cases in sorted(NUMPY_ARRAY.items()):
        yield name, getattr(corpus_numpy, f"a_{name}"), cases[0]


ROW_FUNCTIONS = list(_row_functions())


@pytest.mark.parametrize("name,fn,args", ROW_FUNCTIONS, ids=[n for n, _, _ in ROW_FUNCTIONS])
def test_compact_and_free_agree(name, fn, args):
    for style, free in (("compact", False), ("lecture", True), ("compact", True)):
        assert_agree(flatgen.flat(fn, style=style, free=free), args)


@pytest.mark.parametrize("name,fn,args", ROW_FUNCTIONS, ids=[n for n, _, _ in ROW_FUNCTIONS])
def test_black_identical(name, fn, args):
    from flatgen.format import assemble, format_source

    for style in ("lecture", "compact"):
        g = flatgen.flat(fn, example=args, style=style).generated
        assert g.source == format_source(assemble(g.rendered.skeleton, g.rendered.bodies))
        assert format_source(g.source) == g.source


def test_new_rows_in_a_rolled_loop():
    """A loop over a run-time count stays a loop: the rules' inputs (z, h, out) come back from tapes."""
    args = (r(2, 3, 4), r(4, 4) * 0.5, 3)
    for style in ("lecture", "compact"):
        f = flatgen.flat(corpus_numpy.l_rolled, example=args, style=style)
        assert_agree(f, args, ints=(2,))
        assert "for i in reversed(range(n)):" in f.source


def test_einsum_waits_for_shapes_when_none_are_given(tmp_path):
    """Without example=, parameters are traced as scalars first: np.einsum must wait for the first
    call's shapes (as `@` does), not refuse its subscripts for an operand of shape ()."""
    path = tmp_path / "einsum_later.py"
    path.write_text("import numpy as np\n\n\ndef e(A, B):\n    return np.sum(np.einsum('ij,jk->ik', A, B))\n")
    spec = importlib.util.spec_from_file_location("einsum_later", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    f = flatgen.flat(module.e)
    args = (r(2, 3), r(3, 4))
    assert_agree(f, args)


def test_clip_bounds_by_keyword_may_be_values():
    """np.clip(x, a_min=lo, a_max=hi) with parameters as bounds, as np.clip(x, lo, hi) takes them."""
    args = (np.array([-2.0, 0.3, 2.5, -0.7]), -1.0, 1.0)
    f = flatgen.flat(corpus_numpy.s_clip_keyword_values, example=args)
    assert_agree(f, args)
    assert {"clip"} <= _ops(f)
