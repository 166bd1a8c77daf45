"""Every primitive of the table, checked numerically: generated == interpreter == finite differences.

Scalar primitives are checked on scalars, vectors, matrices and broadcast operands; array
primitives on the shapes they take.  Adding a row to the table without a spec here fails.
"""

import numpy as np
import pytest

import corpus
import corpus_arrays
import corpus_numpy
import corpus_python
import flatgen
from flatgen.primitives import TABLE
from numerics import assert_agree
from test_making_arrays import ROWS as MAKING  # making arrays (flatgen/rows_arrays.py): checked there

rng = np.random.default_rng(0)


def r(*shape, low=-1.5, high=1.5):
    return rng.uniform(low, high, size=shape) if shape else float(rng.uniform(low, high))


def pos(*shape):
    return r(*shape, low=0.3, high=2.0)


# primitive -> (function, sample points): scalars, arrays, broadcasting; inside the domain, away from kinks
SCALAR = {
    "add": [(1.5, -2.25), (r(3), r(3)), (r(2, 3), r(3)), (r(4), 0.5)],
    "sub": [(1.5, -2.25), (r(2, 3), r(2, 1))],
    "mul": [(1.5, -2.25), (r(3), r(3)), (r(2, 3), r(3)), (0.7, r(2, 2))],
    "div": [(1.5, -2.25), (r(3), pos(3)), (r(2, 3), pos(3))],
    "pow": [(1.7, 2.3), (0.4, -1.5), (pos(3), r(3)), (pos(2, 2), 1.5)],
    "neg": [(1.5,), (r(2, 3),)],
    "exp": [(0.3,), (r(4),)],
    "log": [(0.3,), (pos(2, 2),)],
    "sqrt": [(0.3,), (pos(3),)],
    "tanh": [(0.3,), (r(3),)],
    "sin": [(0.3,), (r(3),)],
    "cos": [(0.3,), (r(2, 2),)],
    "abs": [(0.3,), (-2.0,), (np.array([0.5, -1.0, 2.0]),)],
    "maximum": [(1.0, 2.0), (3.0, -1.0), (np.array([1.0, -1.0, 0.5]), np.array([0.0, 0.2, 0.7])),
                (np.array([[1.0, -1.0], [0.3, 2.0]]), 0.1)],
    "minimum": [(1.0, 2.0), (3.0, -1.0), (np.array([1.0, -1.0, 0.5]), np.array([0.0, 0.2, 0.7]))],
    "sigmoid": [(0.3,), (-4.0,), (6.0,), (r(5),)],
}
# The builtins max(a, b) and min(a, b): numbers only (Python compares whole arrays), so no e_ function.
BUILTIN = {
    "max2": [(1.0, 2.0), (3.0, -1.0), (np.float64(0.5), np.float64(-0.25))],
    "min2": [(1.0, 2.0), (3.0, -1.0), (np.float64(0.5), np.float64(-0.25))],
}
ARRAY = {
    "where": [(r(4), r(4)), (r(2, 3), r(3))],
    "gt": [(r(4), r(4))], "lt": [(r(4), r(4))], "ge": [(r(4), r(4))], "le": [(r(4), r(4))],
    "eq": [(r(4), r(4))], "ne": [(r(4), r(4))],
    "matmul": [(r(2, 3), r(3, 4))],
    "matmul_mv": [(r(2, 3), r(3))],
    "matmul_vm": [(r(3), r(3, 2))],
    "dot": [(r(3), r(3))],
    "outer": [(r(3), r(2))],
    "sum": [(r(3, 2),)],
    "sum_axis": [(r(3, 4), r(3))],
    "mean": [(r(2, 3),)],
    "mean_axis": [(r(4, 3), r(3))],
    "max": [(np.array([[0.5, -1.7], [1.2, 0.1]]),)],
    "max_axis": [(np.array([[0.5, -1.7, 0.2], [1.2, 0.1, -0.4]]), r(2))],
    "min": [(np.array([0.5, -1.2, 1.0]),)],
    "min_axis": [(np.array([[[0.5, -1.7], [1.2, 0.1]], [[0.3, 0.8], [-0.9, 0.4]]]), r(2))],
    "T": [(r(3, 2), r(3))],
    "transpose": [(r(2, 3, 4), r(4, 2, 3))],
    "reshape": [(r(6), r(2, 3))],
    "expand_dims": [(r(3), r(2, 3))],
    "index": [(r(5), r(3, 4))],
    "zeros_like": [(r(3),)], "ones_like": [(r(3),)], "zeros": [(r(4),)], "ones": [(r(3),)],
    "sign": [(np.array([-1.5, 0.4, 2.0]),)],
}
# numpy as people write it (flatgen/rows_numpy.py, rows_linalg.py; functions in tests/corpus_numpy.py):
# elementwise rows on scalars (math mode: p_ with np.f, m_ with math.f), arrays and broadcast operands (e_) ...
def _matrix(n=3):
    return r(n, n) + 3.0 * np.eye(n)


NUMPY_SCALAR = {
    "tan": [(0.3,), (r(3, low=-1.2, high=1.2),)],
    "arcsin": [(0.3,), (r(2, 3, low=-0.9, high=0.9),)],
    "arccos": [(-0.4,), (r(3, low=-0.9, high=0.9),)],
    "arctan": [(1.3,), (r(3),)],
    "sinh": [(0.3,), (r(3),)], "cosh": [(-0.7,), (r(2, 2),)], "arcsinh": [(0.6,), (r(3),)],
    "arccosh": [(1.7,), (r(3, low=1.2, high=3.0),)],
    "arctanh": [(0.3,), (r(3, low=-0.9, high=0.9),)],
    "log1p": [(0.4,), (r(3),)], "expm1": [(0.3,), (r(3),)],
    "log2": [(1.3,), (pos(3),)], "log10": [(0.7,), (pos(2, 2),)], "exp2": [(0.7,), (r(3),)],
    "square": [(-0.6,), (r(2, 3),)], "reciprocal": [(0.8,), (pos(3),)], "float64": [(0.7,), (r(2, 3),)],
    "arctan2": [(0.5, -1.2), (r(2, 3), r(3)), (0.7, r(2))],
    "hypot": [(0.5, -1.2), (r(2, 3), r(3))],
    "logaddexp": [(0.5, -1.2), (0.3, 0.3), (r(3), r(2, 3))],
    "clip": [(0.3, -0.5, 0.8), (-0.9, -0.5, 0.8), (1.1, -0.5, 0.8), (r(6) * 2, -0.5, 0.8),
             (r(2, 3) * 2, r(3) - 1.6, r(2, 1) + 1.6)],
    "floor": [(1.3,), (r(4) * 3,)], "ceil": [(-1.3,), (r(4) * 3,)], "round": [(2.7,), (r(4) * 3,)],
}
# ... and rows that take arrays (a_)
NUMPY_ARRAY = {
    "argmax": [(r(5),)], "argmin": [(r(5),)],
    "var": [(r(3, 4),)], "var_axis": [(r(3, 4), r(4))], "std": [(r(5),)], "std_axis": [(r(3, 4), r(3))],
    "prod": [(r(5),), (np.array([1.3, 0.0, -0.8]),)], "prod_axis": [(np.array([[1.2, 0.0], [0.5, 0.0], [0.9, -1.1]]), r(3))],
    "norm": [(r(4),), (r(2, 3),)], "norm_axis": [(r(3, 4), r(3))], "norm1": [(r(4),)], "norm1_axis": [(r(3, 4), r(4))],
    "norminf": [(r(4),)], "norminf_axis": [(r(3, 4), r(3))], "cumsum": [(r(2, 3), r(6))],
    "cumsum_axis": [(r(2, 3), r(2, 3))],
    "matmul_batch": [(r(2, 3, 4), r(2, 4, 2))], "matmul_bm": [(r(2, 3, 4), r(4, 2))],
    "matmul_mb": [(r(3, 4), r(2, 4, 2))], "matmul_bv": [(r(2, 3, 4), r(4))], "matmul_vb": [(r(4), r(2, 4, 3))],
    "matmul_bcast": [(r(2, 1, 3, 4), r(3, 4, 2))],
    "trace": [(r(3, 3),)], "inv": [(_matrix(),)], "solve": [(_matrix(), r(3))], "solve_m": [(_matrix(), r(3, 2))],
    "det": [(_matrix(),)], "slogdet": [(_matrix(),), (np.array([[0.3, 2.0], [1.5, -0.4]]),)],
    "slogdet_sign": [(np.array([[0.3, 2.0], [1.5, -0.4]]),)],
}
# Rows no user call reaches: the lowering of rules writes them (checked in tests/test_lower.py and, each
# row against central differences, in tests/test_op_specs.py).
LOWERING_ONLY = {"broadcast_to"}
# Python's own arithmetic (flatgen/rows_python.py; functions in tests/corpus_python.py): p_ on floats (math
# mode) and numpy scalars, e_ on arrays where the row broadcasts
PYTHON = {
    "floordiv": [(2.7, 0.8), (-2.7, 0.8), (r(3) * 3, 0.8)],
    "mod": [(2.3, 0.7), (-1.1, 0.7), (1.1, -0.7), (np.array([2.3, -1.1, 0.4]), 0.7)],
    "int": [(2.7,), (-1.3,)],
    "float": [(0.7,), (-1.3,)],
}


def test_every_primitive_has_a_spec():
    assert set(SCALAR) | set(BUILTIN) | set(ARRAY) | set(NUMPY_SCALAR) | set(NUMPY_ARRAY) | set(PYTHON) \
        | set(MAKING) | LOWERING_ONLY == set(TABLE)
    for name in PYTHON:
        assert hasattr(corpus_python, f"p_{name}"), name
    for name in NUMPY_SCALAR:
        assert hasattr(corpus_numpy, f"p_{name}") and hasattr(corpus_numpy, f"e_{name}"), name
    for name in NUMPY_ARRAY:
        assert hasattr(corpus_numpy, f"a_{name}"), name
    for name in BUILTIN:
        assert hasattr(corpus, f"p_{name}"), name
    for name in SCALAR:
        assert hasattr(corpus, f"p_{name}") and hasattr(corpus_arrays, f"e_{name}"), name
    for name in ARRAY:
        assert hasattr(corpus_arrays, f"a_{name}"), name


def _uses(f, name):
    return any(e.op.name == name for e in f.graph.eqns)


@pytest.mark.parametrize("name", sorted(SCALAR))
def test_scalar_primitive(name):
    for args in SCALAR[name]:
        if all(np.ndim(a) == 0 for a in args):
            f = flatgen.flat(getattr(corpus, f"p_{name}"))
        else:  # on arrays, summed: the output is a scalar
            f = flatgen.flat(getattr(corpus_arrays, f"e_{name}"))
        assert_agree(f, args)
        assert _uses(f, name), f"{name} not traced"


@pytest.mark.parametrize("name", sorted(NUMPY_SCALAR))
def test_numpy_elementwise_row(name):
    """np.f on floats (math mode), arrays and broadcast operands; math.f where the math module has it."""
    for args in NUMPY_SCALAR[name]:
        scalar = all(np.ndim(a) == 0 for a in args)
        f = flatgen.flat(getattr(corpus_numpy, f"{'p' if scalar else 'e'}_{name}"))
        assert_agree(f, args)
        assert _uses(f, name), f"{name} not traced"
        if scalar and hasattr(corpus_numpy, f"m_{name}"):
            m = flatgen.flat(getattr(corpus_numpy, f"m_{name}"))
            assert_agree(m, args)
            assert _uses(m, name), f"{name} not traced from math.{name}"
        if scalar:  # numpy scalars: numpy mode, the same row
            assert_agree(flatgen.flat(getattr(corpus_numpy, f"p_{name}"), math=False), args)


@pytest.mark.parametrize("name", sorted(NUMPY_ARRAY))
def test_numpy_array_row(name):
    fn = getattr(corpus_numpy, f"a_{name}")
    for args in NUMPY_ARRAY[name]:
        f = flatgen.flat(fn, example=args)
        assert_agree(f, args)
        assert _uses(f, name), f"{name} not traced"


@pytest.mark.parametrize("name", sorted(PYTHON))
def test_python_arithmetic_row(name):
    """`//`, `%`, int(), float() on data: on Python floats (math mode), numpy scalars, and arrays."""
    for args in PYTHON[name]:
        scalar = all(np.ndim(a) == 0 for a in args)
        f = flatgen.flat(getattr(corpus_python, f"{'p' if scalar else 'e'}_{name}"))
        assert_agree(f, args)
        assert _uses(f, name), f"{name} not traced"
        if scalar:
            assert_agree(flatgen.flat(getattr(corpus_python, f"p_{name}"), math=False), args)


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_builtin_router(name):
    f = flatgen.flat(getattr(corpus, f"p_{name}"))
    for args in BUILTIN[name]:
        assert_agree(f, args)
        assert _uses(f, name), f"{name} not traced"


def test_builtins_and_numpy_routers_differ_on_nan_as_python_and_numpy_do():
    nan = float("nan")
    for fn, want in ((corpus.p_max2, 1.0), (corpus.p_min2, 1.0), (corpus.p_maximum, nan), (corpus.p_minimum, nan)):
        for math_mode in (True, False):  # Python floats (math module) and numpy scalars
            args = (1.0, nan) if math_mode else (np.float64(1.0), np.float64(nan))
            f = flatgen.flat(fn)
            value = f.value_and_grad(*args)[0]
            assert np.array_equal(value, want, equal_nan=True), (fn.__name__, math_mode, value)
            assert np.array_equal(value, fn(*args), equal_nan=True)
            assert np.array_equal(f.interpret(*args)[0], value, equal_nan=True)


def test_builtin_max_of_arrays_is_refused_with_the_numpy_spelling():
    with pytest.raises(flatgen.FlatgenError, match="np.maximum"):
        flatgen.flat(corpus.p_max2, example=(np.zeros(2), 1.0))


@pytest.mark.parametrize("name", sorted(ARRAY))
def test_array_primitive(name):
    fn = getattr(corpus_arrays, f"a_{name}")
    for args in ARRAY[name]:
        f = flatgen.flat(fn)  # specialised to the shapes of the first call
        assert_agree(f, args)
        assert _uses(f, name), f"{name} not traced"
        g = flatgen.flat(fn, example=args)  # specialised up front: the same module
        assert g.source == f.source


def test_broadcast_gradients_are_summed_back_and_written_out():
    args = (r(4, 3), r(3), 0.5, r(4, 1))
    f = flatgen.flat(corpus_arrays.a_broadcast, example=args)
    assert_agree(f, args)
    text = f.source
    assert "np.sum(" in text and "axis=0" in text and "keepdims=True" in text
    assert "unbroadcast" not in text  # shapes known: the sums are written out


def test_router_ties_go_to_the_first_argument():
    for f in map(flatgen.flat, (corpus.p_maximum, corpus.p_minimum, corpus.p_max2, corpus.p_min2)):
        value, grads = f.value_and_grad(2.0, 2.0)
        assert value == 2.0
        assert grads == (1.0, 0.0)
        assert f.interpret(2.0, 2.0)[1] == (1.0, 0.0)


def test_max_reduction_splits_ties_evenly():
    f = flatgen.flat(corpus_arrays.a_max)
    x = np.array([[1.0, -1.0], [-1.0, 0.5]])  # x*x ties: 1.0 at three places
    value, (g,) = f.value_and_grad(x)
    assert value == 1.0
    np.testing.assert_array_equal(g, np.array([[2.0, -2.0], [-2.0, 0.0]]) / 3)
    np.testing.assert_array_equal(f.interpret(x)[1][0], g)


def test_abs_at_zero_sends_no_gradient():
    f = flatgen.flat(corpus.p_abs)
    assert f.value_and_grad(0.0) == (0.0, (0.0,))


def test_flatgen_sigmoid_is_the_generated_one():
    f = flatgen.flat(corpus.p_sigmoid)
    for x in (-30.0, -1.0, 0.0, 0.5, 30.0):
        assert f.value_and_grad(x)[0] == flatgen.sigmoid(x)
    assert "def sigmoid(x):" in f.source
    assert flatgen.sigmoid(np.array([0.0, 1.0])).shape == (2,)
