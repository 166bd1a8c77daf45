"""Python as people write it (issue 14): how each construct appears in the generated code, and the
behaviour around it (waiting for shapes, dict gradients, lists returned, refusals that stay)."""

from __future__ import annotations

import importlib.util
import re
import sys
import textwrap

import numpy as np
import pytest

import corpus_idioms as C
import flatgen
from flatgen.errors import FlatgenError, ShapeError
from test_python_idioms import check

rng = np.random.default_rng(1414)


def module(tmp_path, text: str, name: str = "idioms_mod"):
    """Functions from source text (written to a file: flatgen reads the source)."""
    path = tmp_path / f"{name}.py"
    path.write_text("import math\nimport numpy as np\n\n" + textwrap.dedent(text))
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def body(source: str, fn: str) -> str:
    """The gradient function's statements, without comments and its docstring."""
    text = source.split(f"def {fn}_value_and_grad(")[1].split('"""')[-1]
    return "\n".join(line for line in text.splitlines() if not line.strip().startswith("#"))


def test_shapes_unpacked_before_the_first_call_wait_for_it():
    f = flatgen.flat(C.affine_mse)  # traced with scalars, `N, D = x.shape` fails: waits
    with pytest.raises(ShapeError, match="needs the shapes"):
        f.source
    args = (rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2))
    check(C.affine_mse, args)
    f.value_and_grad(*args)
    assert "np.reshape(x, (4, 3))" in body(f.source, "affine_mse")


def test_integer_sizes_are_numbers_in_the_generated_code():
    f = flatgen.flat(C.conv_naive, example=(np.zeros((1, 2, 5, 5)), np.zeros((2, 2, 3, 3)), np.zeros(2)))
    code = body(f.source, "conv_naive")
    assert "//" not in code and "H_out" not in code and "out = np.zeros((1, 2, 3, 3))" in code


def test_an_early_return_decided_now_emits_only_its_path(tmp_path):
    m = module(tmp_path, """
        def f(x):
            if x.ndim == 0:
                return x * 2.0
            return np.sum(x)
        """)
    f = flatgen.flat(m.f)
    assert "if " not in body(f.source, "f") and "np.sum" not in body(f.source, "f")
    assert f.value_and_grad(1.5) == (3.0, (2.0,))


def test_returns_on_data_stay_branches():
    source = flatgen.flat(C.piecewise).source
    forward, backward = body(source, "piecewise").split("grad_piecewise = 1.0")
    assert forward.count("if ") == 2 and "else:" in forward and backward.count("if ") == 2
    assert "# line 74: return x - 0.5\n" in source  # each returned value quoted where it is computed


def test_continue_on_data_puts_the_rest_of_the_iteration_in_the_else_branch():
    source = flatgen.flat(C.positive_part, example=(np.zeros(4), 1.0)).source
    forward = body(source.split("# base case")[0], "positive_part")
    assert forward.count("else:") == 4 and "continue" not in source


def test_a_break_on_data_in_a_loop_kept_as_a_loop_runs_it_under_a_flag():
    code = body(flatgen.flat(C.newton_sqrt).source, "newton_sqrt")
    assert "running = True" in code and "if running:" in code and "running_1 = False" in code
    assert "for it in range(50):" in code and "for it in reversed(range(50)):" in code
    code = body(flatgen.flat(C.heron).source, "heron")
    assert "while running:" in code


def test_a_break_decided_now_ends_the_unrolling():
    code = body(flatgen.flat(C.first_steps).source, "first_steps")
    assert code.count("np.sin(") == 3 and "running" not in code


def test_loops_over_things(tmp_path):
    """Lists unroll; long arrays stay loops over their index (`row = X[i]`)."""
    assert not re.search(r"^\s*for ", body(flatgen.flat(C.deep_net, example=(np.zeros((3, 3)),) * 3 + (
        np.zeros(3),)).source, "deep_net"), re.M)
    code = body(flatgen.flat(C.rows_norm, example=(np.zeros((20, 3)),)).source, "rows_norm")
    assert re.search(r"for i in range\(20\):\n\s+row = X\[i\]", code), code


def test_sum_over_a_run_time_count_is_a_loop_kept_as_a_loop(tmp_path):
    m = module(tmp_path, """
        def f(x, n):
            s = sum(x**k / (k + 1) for k in range(n))
            return s
        """)
    f = flatgen.flat(m.f)
    code = body(f.source, "f")
    assert "for k in range(n):" in code and "s = 0" in code
    for n in (0, 1, 5):
        check(m.f, (0.7, n))


def test_lists_grow_and_read(tmp_path):
    code = body(flatgen.flat(C.rnn_hidden_states, example=(np.zeros((4, 3)), 0.5, np.zeros(3))).source,
                "rnn_hidden_states")
    assert "np.stack((h, h_1, h_2, h_3))" in code.replace("\n", "").replace("    ", "") or "np.stack(" in code


def test_a_dict_parameter_has_a_dict_gradient():
    params = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4), "W2": rng.normal(size=(4, 2)),
              "b2": rng.normal(size=2)}
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    f = flatgen.flat(C.two_layer_dict)
    value, (g_params, g_X, g_y) = f.value_and_grad(params, X, y)
    assert list(g_params) == list(params) and all(g_params[k].shape == params[k].shape for k in params)
    assert "def two_layer_dict(params_W1, params_b1, params_W2, params_b2, X, y):" in f.source
    only = flatgen.flat(C.two_layer_dict, wrt="params")
    assert list(only.grad(params, X, y)[0]) == list(params) and len(only.grad(params, X, y)) == 1
    for k in params:
        np.testing.assert_allclose(only.grad(params, X, y)[0][k], g_params[k], rtol=1e-14)


def test_lists_returned_come_back_as_lists(tmp_path):
    m = module(tmp_path, """
        def f(x, w):
            hs = []
            h = x
            for t in range(3):
                h = np.tanh(w * h)
                hs.append(h)
            return np.sum(h), hs
        """)
    f = flatgen.flat(m.f)
    x = rng.normal(size=2)
    seed = (1.0, np.zeros(2), np.zeros(2), np.zeros(2))  # one upstream gradient per output, flat
    (loss, hs), grads = f.value_and_grad(x, 0.7, seed=seed)
    want = m.f(x, 0.7)
    assert isinstance(hs, list) and len(hs) == 3 and loss == want[0]
    assert all(np.array_equal(a, b) for a, b in zip(hs, want[1]))
    assert f.interpret(x, 0.7, seed=seed)[0][0] == loss


def test_print_is_dropped_and_assert_kept():
    f = flatgen.flat(C.checked_norm, example=(np.zeros(3),))
    assert "print" not in f.source and re.search(r"assert t\d+", body(f.source, "checked_norm"))
    with pytest.raises(AssertionError):  # the data assert runs in the generated module
        f.module.checked_norm(np.full(3, np.nan))
    with pytest.raises(FlatgenError, match="this assert fails"):
        flatgen.flat(C.checked_norm, example=(np.zeros((2, 2)),))


def test_unrolled_and_rolled_loops_accept_the_same_programs(tmp_path):
    """A view of an array the loop then writes into: fine while it is not read again (prev_h), refused with
    the same message where it is."""
    m = module(tmp_path, """
        def fine(x, W):
            T = x.shape[0]
            h = np.zeros((T, 3))
            h[0] = np.tanh(W @ x[0])
            for t in range(1, T):
                prev_h = h[t - 1]
                h[t] = np.tanh(W @ x[t] + prev_h)
            return np.sum(h * h)

        def stale(x, W):
            T = x.shape[0]
            h = np.zeros((T, 3))
            for t in range(1, T):
                prev_h = h[t - 1]
                h[t] = np.tanh(W @ x[t])
                h[t] = h[t] + prev_h
            return np.sum(h * h)
        """)
    args = (rng.normal(size=(5, 3)), rng.normal(size=(3, 3)))
    for unroll in (16, 0):
        check(m.fine, args, unroll=unroll)
    messages = []
    for unroll in (16, 0):
        with pytest.raises(FlatgenError) as e:
            flatgen.flat(m.stale, example=args, unroll=unroll)
        messages.append(str(e.value).splitlines()[0])
    assert messages[0] == messages[1] and "`prev_h` holds an array that numpy wrote into in place" in messages[0]


def test_label_arrays_are_data():
    W, X, y = rng.normal(size=(4, 3)), rng.normal(size=(5, 4)), np.array([0, 2, 1, 1, 0])
    f = flatgen.flat(C.svm_loss_naive)
    value, grads = f.value_and_grad(W, X, y, 0.1)
    assert len(grads) == 3  # W, X, reg: y is the labels


def test_settings_in_a_dict_are_constants_made_again_per_value():
    """conv_param = {'stride': 2, 'pad': 1}: ints (and strings, bools) of a dict are settings, constants of
    the module; another value makes another module, as other shapes do."""
    x, w, b = rng.normal(size=(1, 2, 5, 5)), rng.normal(size=(2, 2, 3, 3)), rng.normal(size=2)
    f = flatgen.flat(C.conv_forward_naive)
    for stride, pad in ((2, 1), (1, 0)):
        param = {"stride": stride, "pad": pad}
        value, grads = f.value_and_grad(x, w, b, param)
        assert value == C.conv_forward_naive(x, w, b, param) and len(grads) == 3
        assert "stride" not in f.source.split("def conv_forward_naive(")[1].split(")")[0]
    with pytest.raises(FlatgenError, match="this `raise` runs"):
        flatgen.flat(C.batchnorm_forward).value_and_grad(x[0, 0], w[0, 0, 0], b, {"mode": "eval", "eps": 1e-5})
