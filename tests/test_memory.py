"""In-place accumulation only into arrays flatgen made; free=True deletes arrays after their last use."""

import numpy as np
import pytest

import corpus_arrays
import flatgen
import vectorized
from numerics import assert_agree
from test_primitives import ARRAY
from test_vectorized import mlp_args

rng = np.random.default_rng(3)


def test_no_in_place_update_of_an_alias():
    f = flatgen.flat(corpus_arrays.a_alias)
    args = (rng.normal(size=4), rng.normal(size=4))
    assert_agree(f, args)
    text = f.source
    assert "grad_a = grad_s" in text  # the add gate: an alias of grad_s
    assert "grad_a += " not in text and "grad_a = grad_a + " in text


def test_in_place_where_the_array_is_ours():
    args = (rng.normal(size=(4, 3)), rng.normal(size=5), rng.normal(size=(5, 3)), rng.normal(size=(5, 5)),
            rng.normal(size=(2, 5)), rng.normal(size=(4, 2)))
    f = flatgen.flat(vectorized.rnn, example=args)
    assert "grad_Why += np.outer(" in f.source  # np.outer made it: safe
    assert_agree(f, args)


@pytest.mark.parametrize("name", sorted(ARRAY))
def test_free_keeps_every_result(name):
    fn = getattr(corpus_arrays, f"a_{name}")
    for style in ("lecture", "compact"):
        assert_agree(flatgen.flat(fn, free=True, style=style), ARRAY[name][0])


def test_free_deletes_and_lowers_peak_memory():
    import tracemalloc

    args = mlp_args(256, 300, 200, 10)
    wrt = ("W1", "b1", "W2", "b2")
    plain = flatgen.flat(vectorized.mlp, wrt=wrt, example=args)
    freed = flatgen.flat(vectorized.mlp, wrt=wrt, example=args, free=True)
    assert "del " not in plain.source and "del t1" in freed.source
    peaks = []
    for f in (plain, freed):
        f.value_and_grad(*args)
        tracemalloc.start()
        value, grads = f.value_and_grad(*args)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < peaks[0]
    np.testing.assert_array_equal(plain.value_and_grad(*args)[1][0], freed.value_and_grad(*args)[1][0])


@pytest.mark.parametrize("style", ["lecture", "compact"])
@pytest.mark.parametrize("name", sorted(ARRAY))
def test_inputs_are_never_written_into(name, style):
    """Gradients that alias an input (compact style drops `1.0 *`) must never be updated in place."""
    fn = getattr(corpus_arrays, f"a_{name}")
    args = tuple(np.array(a, dtype=float) if np.ndim(a) else a for a in ARRAY[name][0])
    before = [np.copy(a) for a in args]
    flatgen.flat(fn, style=style, free=True).value_and_grad(*args)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)
