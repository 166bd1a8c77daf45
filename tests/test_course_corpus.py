"""The course corpus (tests/corpus_course.py): functions written the way course assignments and numerical
code write them, each generated == interpreter == central differences at its example's shapes (layers
through a random upstream gradient), in float64 and, where the function makes no float64 array of its
own, in float32 too.  The functions that wait for more of Python (NEEDS_ISSUE_14) are refused now, with
the reason given there.
"""

from __future__ import annotations

import numpy as np
import pytest

import corpus_course as C
import flatgen
from flatgen import interpret
from numerics_arrays import _flatten, agree, ops

CHECKED = sorted(set(C.EXAMPLES) - set(C.NEEDS_ISSUE_14))
# what each waiting function is refused with today (the message names the construct flatgen cannot read yet)
REFUSED_WITH: dict = {}  # (none waits since issue 14: a dict's ints are settings, constants of the module)


def test_the_corpus_is_large_and_every_function_has_an_example():
    functions = {name for name, obj in vars(C).items() if callable(obj) and getattr(obj, "__module__", "") ==
                 "corpus_course" and not name.startswith("_")}
    helpers = {"sigmoid", "softmax", "lstm_step_forward"}  # called by the others
    assert functions - helpers <= set(C.EXAMPLES), sorted(functions - helpers - set(C.EXAMPLES))
    assert len(CHECKED) >= 30
    assert set(C.NEEDS_ISSUE_14) == set(REFUSED_WITH)


@pytest.mark.parametrize("name", CHECKED)
def test_course_function(name):
    args, options = C.EXAMPLES[name]
    agree(getattr(C, name), args, **options)


if C.NEEDS_ISSUE_14:  # no empty parametrization (pytest would report a skip)

    @pytest.mark.parametrize("name", sorted(C.NEEDS_ISSUE_14))
    def test_waiting_for_issue_14_is_refused_precisely(name):
        args, options = C.EXAMPLES[name]
        with pytest.raises(flatgen.FlatgenError) as e:
            flatgen.flat(getattr(C, name), example=args, **options)
        assert REFUSED_WITH[name] in str(e.value), str(e.value)
        assert "corpus_course.py:" in str(e.value), "the refusal points at the line"


def test_the_corpus_covers_what_the_issue_names():
    """Affine layers with .dot and reshape(N, -1), labels picked with np.arange, np.var, a dropout mask, an
    embedding with repeated indices, loops with // and np.pad, attention, solves, norms."""
    traced = {}
    for name in CHECKED:
        args, options = C.EXAMPLES[name]
        traced[name] = ops(flatgen.flat(getattr(C, name), example=args, **options))
    assert "reshape" in traced["affine_forward"] and "matmul" in traced["affine_forward"]
    assert {"arange", "take", "setitem_at"} <= traced["svm_loss_vectorized"]
    assert {"var_axis"} <= traced["batchnorm_forward"] and {"var"} <= traced["layernorm_forward"]
    assert "mul" in traced["dropout_forward"]
    assert "take" in traced["word_embedding_forward"] and "take" in traced["embedding_bag"]
    assert {"pad", "setitem"} <= traced["conv_forward_strided"]
    assert {"max_axis", "setitem"} <= traced["max_pool_2x2"]
    assert "take" in traced["masked_mean"]  # a mask made in the function
    assert "solve" in traced["ridge_solution_error"] and "slogdet" in traced["gaussian_nll"]
    assert "norm" in traced["cosine_similarity"] and "norm" in traced["pca_reconstruction_error"]
    assert "matmul_batch" in traced["batched_attention"]
    word = C.EXAMPLES["word_embedding_forward"][0][0]
    assert len(np.unique(word)) < word.size, "the embedding example repeats an index"


# functions that make a float64 array themselves, as numpy makes it: np.zeros(shape) for the output
# (convolution, pooling, the RNN's states), np.eye (the ridge system, the one-hot labels)
FLOAT64_MADE_HERE = {"conv_forward_strided", "max_pool_2x2", "rnn_forward", "ridge_solution_error",
                     "onehot_cross_entropy", "conv_forward_naive", "max_pool_forward_naive"}


@pytest.mark.parametrize("name", sorted(set(CHECKED) - FLOAT64_MADE_HERE))
def test_float32_in_float32_out(name):
    """The same function on float32 arguments: its value and every gradient are float32."""
    args, options = C.EXAMPLES[name]
    args32 = tuple(_f32(a) for a in args)
    f = flatgen.flat(getattr(C, name), example=args32, **options)
    g = f.generated
    flat, _ = _flatten(args32)
    outs = g.graph.outs
    seed = None
    if len(outs) > 1 or outs[0].shape != ():
        seeds = tuple(np.ones(o.shape, np.float32) if o.shape else np.float32(1.0) for o in outs)
        seed = seeds if len(outs) > 1 else seeds[0]
    value, grads = getattr(f.module, f"{name}_value_and_grad")(*flat, *(() if seed is None else (seed,)))
    _, ref = interpret.value_and_grad(g.graph, flat, g.wrt, seed)
    for v in value if isinstance(value, tuple) else (value,):
        assert np.result_type(v) == np.float32, f"value {np.result_type(v)}"
    for p, got, want in zip(g.wrt, grads, ref):
        assert np.result_type(got) == np.float32 == np.result_type(want), f"grad of {p.hint}: {np.result_type(got)}"


def _f32(a):
    if isinstance(a, dict):
        return {k: _f32(v) for k, v in a.items()}
    if isinstance(a, np.ndarray) and a.dtype.kind == "f":
        return a.astype(np.float32)
    return np.float32(a) if isinstance(a, float) else a
