"""Indexing (flatgen/rows_index.py, flatgen/trace/indexing.py): index arrays read and written, masks,
np.newaxis and `...`, writes that broadcast, integer parameters as data.

Repeated indices must add up in the gradient: `W[idx]` with idx = [0, 2, 2] sends row 2 the sum of
both gradients (np.add.at).  `grad[idx] += g` would keep one of them; the tests below compare with a
gradient written by hand and with central differences, so a kept-one bug fails them.
"""

from __future__ import annotations

import numpy as np
import pytest

import corpus_making as C
import flatgen
from numerics_arrays import agree, ops

rng = np.random.default_rng(1301)


def r(*shape):
    return rng.uniform(-1.5, 1.5, size=shape) if shape else float(rng.uniform(-1.5, 1.5))


# -- repeated indices add up -----------------------------------------------------------------------------------


def test_embedding_lookup_with_repeated_indices_adds_their_gradients():
    W, idx, dout = r(5, 3), np.array([[0, 2, 2], [4, 2, 0]]), r(2, 3, 3)
    f, _, (grad_W, grad_dout) = agree(embedding, (W, idx, dout))
    want = np.zeros_like(W)
    for n in range(2):
        for t in range(3):
            want[idx[n, t]] += dout[n, t]
    np.testing.assert_allclose(grad_W, want, rtol=1e-12)
    assert np.any(want[2] != dout[0, 1]), "row 2 is picked three times: its gradient is a sum"
    assert "np.add.at(grad_W, idx, " in f.source
    assert [p.hint for p in f.generated.wrt] == ["W", "dout"], "the indices are data, not differentiated"


def embedding(W, idx, dout):
    """Word embeddings (N, T) -> (N, T, D), then a linear read-out."""
    out = W[idx]
    return np.sum(out * dout)


def test_fancy_indexed_loss_with_repeated_picks():
    """The same (row, label) picked twice: both picks' gradients arrive."""
    x = r(3, 4)
    rows, cols = np.array([0, 1, 1, 2, 1]), np.array([3, 0, 0, 2, 0])
    _, _, (grad,) = agree(picked_loss, (x, rows, cols))
    want = np.zeros_like(x)
    for i, j in zip(rows, cols):
        want[i, j] += 2 * x[i, j]
    np.testing.assert_allclose(grad, want, rtol=1e-12)
    assert grad[1, 0] == pytest.approx(6 * x[1, 0])


def picked_loss(x, rows, cols):
    return np.sum(x[rows, cols] ** 2)


def test_softmax_loss_with_integer_labels():
    """The course's loss: log_probs[np.arange(N), y], labels repeating across the batch."""
    x, y = r(5, 3), np.array([0, 2, 2, 1, 2])
    _, value, (grad,) = agree(softmax_loss, (x, y))
    p = np.exp(x - x.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(5), y] -= 1
    np.testing.assert_allclose(grad, p / 5, rtol=1e-10)  # the textbook gradient, written by hand


def softmax_loss(x, y):
    N = x.shape[0]
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(log_probs[np.arange(N), y]) / N


def test_constant_lists_with_repeats_and_argmax_indices():
    agree(C.s_take_list, (r(4),))
    agree(C.s_take_argmax, (r(3, 4),))


def test_masks_read():
    x = np.array([0.7, -1.2, 0.3, 1.4, -0.2, 0.9])
    f, _, (grad,) = agree(C.s_take_mask, (x,))
    np.testing.assert_allclose(grad, 2 * x * (x > 0) + (x < 0.5), rtol=1e-12)
    assert "take" in ops(f)


# -- writes ------------------------------------------------------------------------------------------------------


def test_writes_through_distinct_index_arrays():
    """`m[np.arange(N), y] = 0`, `m[np.arange(N), y] += ...`: one element per row, so no write repeats."""
    agree(C.s_write_through_arrays, (r(4, 3), np.array([0, 2, 2, 1])))
    agree(C.s_write_mask, (np.array([0.7, -1.2, 0.3, -0.4]),))


def test_writes_that_broadcast():
    """A number into a row, a vector into a block, a scalar through a mask: summed back to the value's shape."""
    f, _, _ = agree(C.s_write_broadcast, (r(4), 0.4))
    assert "setitem_sum" in ops(f)
    f, _, _ = agree(block_write, (r(2, 3, 4), r(4), r(1, 4)))
    assert {"setitem_sum", "setitem_keep"} <= ops(f)


def block_write(x, v, w):
    h = x * 1.0
    h[:, 1, :] = v
    h[1, 1:, :] = w
    h[0, ...] = v[0]
    return np.sum(h ** 2)


def test_a_write_in_a_rolled_loop_broadcasts_too():
    f, _, _ = agree(rolled_rows, (r(20), 0.7))
    assert "setitem_at" in ops(f)


def rolled_rows(x, a):
    h = np.zeros((20, 3))
    for t in range(20):
        h[t] = x[t] * a
    return np.sum(h * h)


def test_writes_through_index_arrays_that_may_repeat_are_refused():
    with pytest.raises(flatgen.FlatgenError, match="may repeat") as e:
        flatgen.flat(repeated_write, example=(r(4), np.array([0, 1])))
    assert "np.arange(N)" in str(e.value)
    with pytest.raises(flatgen.FlatgenError, match="may repeat"):
        flatgen.flat(_constant_repeat, example=(r(4),))


def repeated_write(x, idx):
    z = x.copy()
    z[idx] = 0.0
    return np.sum(z)


def _constant_repeat(x):
    z = x.copy()
    z[[0, 0]] = 1.0
    return np.sum(z)


def test_a_value_through_a_mask_is_refused_with_np_where():
    with pytest.raises(flatgen.FlatgenError, match="np.where"):
        flatgen.flat(_mask_value, example=(r(4), 0.5))


def _mask_value(x, a):
    z = x.copy()
    z[x > 0] = a
    return np.sum(z)


# -- np.newaxis, ..., integer parameters as data ----------------------------------------------------------------


def test_newaxis_and_ellipsis():
    f, _, _ = agree(C.a_index, (r(4),))
    assert "x[None, :]" in f.source and "x[..., 0]" in f.source


def test_integer_parameters_are_data():
    """A parameter used as an index is an integer (or integer array): not differentiated, and the
    module takes what numpy takes (an int, an array of ints)."""
    f, _, grads = agree(C.a_take, (r(3, 2), np.array([0, 2, 2])))
    assert len(grads) == 1 and [p.hint for p in f.generated.wrt] == ["W"]
    value, grads = f.value_and_grad(r(3, 2), np.array([1, 1, 0]))  # the API takes integer arrays as indices
    assert grads[0].shape == (3, 2)
    with pytest.raises(flatgen.FlatgenError, match="integer"):
        f.value_and_grad(r(3, 2), np.array([0.0, 1.0, 2.0]))
    with pytest.raises(flatgen.FlatgenError):
        flatgen.flat(C.a_take, example=(r(3, 2), np.array([0, 2, 2])), wrt=("W", "idx"))


def test_a_float_used_as_an_index_is_refused():
    with pytest.raises(flatgen.FlatgenError, match="an index must be") as e:
        flatgen.flat(_float_index, example=(r(4), r(4)))
    assert "np.arange(N)" in str(e.value)


def _float_index(x, w):
    return np.sum(x[w * 2.0])


def test_the_gradient_code_reads_like_the_course():
    f = flatgen.flat(softmax_loss, example=(r(4, 3), np.array([0, 2, 2, 1])))
    text = f.source
    assert "t6 = log_probs[t5, y]" in text and "t5 = np.arange(4)" in text
    assert "np.add.at(grad_log_probs, (t5, y), grad_t6)" in text
    f = flatgen.flat(C.s_write_through_arrays, example=(r(4, 3), np.array([0, 2, 2, 1])))
    assert "m_1[t1, y] = 0.0" in f.source and "grad_m[t1, y] = 0.0" in f.source


# -- second order: a gradient graph through index arrays lowers (rows_index.LOWERINGS) and differentiates again --

SECOND = [  # (function, arguments): labels, repeated embedding rows, writes through distinct index arrays, joins
    (softmax_loss, (r(4, 3), np.array([0, 2, 2, 1]))),
    (embedding, (r(4, 3), np.array([[0, 2, 2], [3, 2, 0]]), r(2, 3, 3))),
    (C.s_write_through_arrays, (r(4, 3), np.array([0, 2, 2, 1]))),
    (C.a_concatenate, (r(3), r(2, 3))),
    (C.a_pad, (r(2, 3),)),
]


@pytest.mark.parametrize("k", range(len(SECOND)))
def test_a_gradient_through_index_arrays_differentiates_again(k):
    """H v by reverse mode over the lowered gradient graph == central differences of the generated gradient."""
    from flatgen import interpret
    from flatgen.lower import is_primitive, lower_graph
    from test_lower_graphs import central_hv, hessian_graph

    fn, args = SECOND[k]
    g = flatgen.flat(fn, example=args).generated
    low = lower_graph(g.grad_graph, for_reverse=True)
    assert all(is_primitive(e.op) for e in low.eqns), {e.op.name for e in low.eqns if not is_primitive(e.op)}
    hess = lower_graph(hessian_graph(g.grad_graph, g.wrt, low))
    v = [rng.uniform(-1, 1, p.shape) if p.shape else float(rng.uniform(-1, 1)) for p in g.wrt]
    env = interpret.run(hess, [*args, *v])
    hv = [env[o] for o in hess.outs[hess.n_values:]]
    for got, want in zip(hv, central_hv(g, list(args), v)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=fn.__name__)


def test_a_mask_read_is_not_lowered_its_shape_is_known_at_run_time_only():
    """x[x > 0] has as many elements as the data says: lowering needs shapes, so it refuses (never guesses)."""
    from flatgen.lower import LoweringError, lower_graph

    g = flatgen.flat(C.s_take_mask, example=(r(6),)).generated
    with pytest.raises(LoweringError, match="shape is not known"):
        lower_graph(g.grad_graph, for_reverse=True)
