"""Every primitive of the table, checked numerically: generated == interpreter == finite differences."""

import numpy as np
import pytest

import corpus
import flatgen
from flatgen.primitives import TABLE
from numerics import assert_agree

# primitive -> sample points (inside the domain, away from kinks)
SPECS = {
    "add": [(1.5, -2.25), (0.0, 3.0)],
    "sub": [(1.5, -2.25)],
    "mul": [(1.5, -2.25), (-0.5, 4.0)],
    "div": [(1.5, -2.25), (-3.0, 0.7)],
    "pow": [(1.7, 2.3), (0.4, -1.5)],
    "neg": [(1.5,), (-0.25,)],
    "exp": [(0.3,), (-2.0,)],
    "log": [(0.3,), (7.0,)],
    "sqrt": [(0.3,), (5.0,)],
    "tanh": [(0.3,), (-1.2,)],
    "sin": [(0.3,), (2.0,)],
    "cos": [(0.3,), (-2.0,)],
    "abs": [(0.3,), (-2.0,)],
    "maximum": [(1.0, 2.0), (3.0, -1.0)],
    "minimum": [(1.0, 2.0), (3.0, -1.0)],
    "sigmoid": [(0.3,), (-4.0,), (6.0,)],
}


def test_every_primitive_has_a_spec_and_a_corpus_function():
    assert set(SPECS) == set(TABLE)
    for name in TABLE:
        assert hasattr(corpus, f"p_{name}"), name


@pytest.mark.parametrize("name", sorted(SPECS))
def test_primitive(name):
    f = flatgen.flat(getattr(corpus, f"p_{name}"))
    assert any(e.op.name == name for e in f.graph.eqns), f"{name} not traced"
    for args in SPECS[name]:
        assert_agree(f, args)


def test_router_ties_go_to_the_first_argument():
    fmax = flatgen.flat(corpus.p_maximum)
    fmin = flatgen.flat(corpus.p_minimum)
    for f in (fmax, fmin):
        value, grads = f.value_and_grad(2.0, 2.0)
        assert value == 2.0
        assert grads == (1.0, 0.0)
        assert f.interpret(2.0, 2.0)[1] == (1.0, 0.0)


def test_abs_at_zero_sends_no_gradient():
    f = flatgen.flat(corpus.p_abs)
    assert f.value_and_grad(0.0) == (0.0, (0.0,))


def test_flatgen_sigmoid_is_the_generated_one():
    f = flatgen.flat(corpus.p_sigmoid)
    for x in (-30.0, -1.0, 0.0, 0.5, 30.0):
        assert f.value_and_grad(x)[0] == flatgen.sigmoid(x)
    assert "def sigmoid(x):" in f.source
    assert flatgen.sigmoid(np.array([0.0, 1.0])).shape == (2,)
