"""Issue 15: composition.  examples/train.py trains a two-layer network on the spiral with the generated
layers only (smaller here: fewer steps); the caches of the generated layers against the hand-written
course layers (benchmarks/course_layers.py); the network's gradients against the course's."""

import sys

import numpy as np
import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_layers  # noqa: E402
import course_layers  # noqa: E402
import train  # noqa: E402


def test_train_reaches_95_percent_with_generated_layers_only():
    accuracy, loss, seconds = train.train(steps=400)
    assert accuracy >= 0.95, f"training accuracy {accuracy:.1%} after 400 steps"
    assert loss < 0.2 and seconds < 60
    assert {m.__name__ for m in (train.hidden, train.scores, train.relu, train.loss_layer)} == {
        "layers_affine", "layers_affine_scores", "layers_relu", "layers_softmax_loss"}
    assert all(str(ROOT / "generated") in m.__file__ for m in (train.hidden, train.scores, train.relu, train.loss_layer))


def test_training_follows_the_gradient():
    """A step with a wrong gradient sign would not learn: the loss after a few steps is lower than at the start."""
    first = train.train(steps=1)[1]
    assert train.train(steps=30)[1] < first


def test_spiral_is_the_courses():
    X, y = train.spiral()
    assert X.shape == (300, 2) and np.bincount(y).tolist() == [100, 100, 100]
    assert np.all(np.linalg.norm(X, axis=1) <= 1.0 + 1e-12)


@pytest.mark.parametrize("row", range(4), ids=["affine", "relu", "batchnorm", "rnn_step"])
def test_cache_is_at_most_the_courses_plus_ten_percent(row):
    name, n, b, n_course, b_course = bench_layers.cache_table(np.random.default_rng(row))[row]
    assert n <= 1.1 * n_course and b <= 1.1 * b_course, (name, n, b, n_course, b_course)


def test_cache_size_counts_buffers_once():
    x = np.zeros((4, 5))
    assert course_layers.cache_size((x, x.reshape(20), [x.T])) == (3, 160)


def test_the_benchmarked_network_is_the_courses():
    flat, hand = bench_layers.network(np.random.default_rng(3))
    (v1, g1), (v2, g2) = flat(), hand()
    assert v1 == pytest.approx(v2, rel=1e-12)
    for a, b in zip(g1, g2, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-15)
