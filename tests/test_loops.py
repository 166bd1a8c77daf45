"""Rolled loops: `for i in range(n)` with a run-time n, `while` on data, long constant loops.

Every function here is checked as generated == interpreter == central finite differences, at
several trip counts including zero; the structure tests check that loops stay loops in both passes
and that the backward loop reads the way a lecturer writes it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import corpus_loops
import flatgen
from flatgen.errors import FlatgenError, UsageError
from numerics import assert_agree

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("loops_examples", ROOT / "examples" / "loops.py")
loops = importlib.util.module_from_spec(spec)
sys.modules["loops_examples"] = loops
spec.loader.exec_module(loops)

rng = np.random.default_rng(7)

# name -> (argument tuples, positions of the integer parameters)
CASES = {
    "rnn": ([(0.5, 1.3, n) for n in (0, 1, 5)], (2,)),
    "weighted_sum": ([(rng.normal(size=8), 0.9, n) for n in (0, 3, 8)], (2,)),
    "newton_sqrt": ([(2.0, 1.0), (9.0, 4.0), (0.5, 3.0)], ()),
    "damped": ([(0.3, 0.7, 3, 4), (0.9, 1.1, 2, 0), (0.2, 0.4, 0, 3)], (2, 3)),
    "gated": ([(0.4, 1.5, 3), (-0.4, 1.5, 3), (0.4, 1.5, 0)], (2,)),
    "rnn_net": ([(rng.normal(size=(4, 4)) * 0.5, rng.normal(size=(4, 3)), rng.normal(size=(10, 3)),
                  rng.normal(size=4), n) for n in (0, 1, 10)], (4,)),
    "running_max": ([(rng.normal(size=64),)], ()),
}


@pytest.mark.parametrize("style", ["lecture", "compact"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_each_kind_of_loop_agrees_with_the_interpreter_and_finite_differences(name, style):
    examples, ints = CASES[name]
    fn = flatgen.flat(getattr(loops, name), style=style)
    for args in examples:
        assert_agree(fn, args, ints=ints)


@pytest.mark.parametrize("name", sorted(CASES))
def test_free_keeps_loops_correct(name):
    examples, ints = CASES[name]
    fn = flatgen.flat(getattr(loops, name), free=True)
    assert_agree(fn, examples[-1], ints=ints, fd=False)


def body(source: str, function: str) -> str:
    return source.split(f"def {function}(")[1]


def test_the_rnn_backward_reads_like_the_slide():
    source = flatgen.flat(loops.rnn).source
    vg = body(source, "rnn_value_and_grad")
    forward, backward = vg.split("# base case")
    assert "for i in range(n):" in forward and "h_tape.append(h)" in forward
    assert "for i in reversed(range(n)):" in backward
    lines = [line.strip() for line in backward.splitlines() if line.strip() and not line.strip().startswith("#")]
    start = lines.index("for i in reversed(range(n)):")
    assert lines[start + 1:start + 5] == [
        "grad_t1 = grad_h * (1 - h**2)",
        "h = h_tape.pop()",
        "grad_h = grad_t1 * w",
        "grad_w += grad_t1 * h",
    ]
    assert "t1_tape" not in source  # only what the backward reads is saved


def test_a_while_loop_counts_its_iterations_and_runs_back_as_many():
    vg = body(flatgen.flat(loops.newton_sqrt).source, "newton_sqrt_value_and_grad")
    assert "while abs(x_1 * x_1 - a) > 1e-12:" in vg and "n_iter += 1" in vg and "for _ in range(n_iter):" in vg
    fn = flatgen.flat(loops.newton_sqrt)
    value, (ga, gx) = fn.value_and_grad(2.0, 1.0)
    assert value == pytest.approx(np.sqrt(2.0), rel=1e-15)
    # converged: the answer does not depend on the starting point, and d sqrt(a)/da = 1 / (2 sqrt(a))
    assert ga == pytest.approx(0.5 / np.sqrt(2.0), rel=1e-9) and abs(gx) < 1e-9


def test_zero_iterations_give_the_gradient_of_the_code_around_the_loop():
    fn = flatgen.flat(loops.rnn)
    value, (gx, gw) = fn.value_and_grad(0.7, 2.0, 0)
    assert value == 0.7 and gx == 1.0 and gw == 0.0


def test_integer_parameters_are_never_differentiated():
    fn = flatgen.flat(loops.damped)
    assert [p.hint for p in fn.generated.wrt] == ["x", "w"]
    assert "Returns (h_out, (grad_x, grad_w))" in fn.source
    with pytest.raises(UsageError, match="n is an integer"):
        flatgen.flat(loops.damped, wrt=("x", "n")).source


def loop_source(tmp_path, n: int) -> Path:
    path = tmp_path / "steps.py"
    path.write_text(
        "import numpy as np\n\n\n"
        "def steps(x, w):\n"
        "    h = x\n"
        f"    for t in range({n}):\n"
        "        h = np.sin(h * w) + x\n"
        "    return h\n"
    )
    return path


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.steps


@pytest.mark.parametrize(("n", "unroll", "rolled"), [(4, None, False), (20, None, True), (4, 0, True), (20, 100, False)])
def test_constant_loops_unroll_up_to_the_threshold(tmp_path, n, unroll, rolled):
    steps = load(loop_source(tmp_path, n))
    fn = flatgen.flat(steps) if unroll is None else flatgen.flat(steps, unroll=unroll)
    vg = body(fn.source, "steps_value_and_grad")
    assert ("for t in reversed(range(" in vg) == rolled
    assert ("for t in range(" in vg) == rolled
    assert_agree(fn, (0.3, 0.9))


def test_unroll_on_the_command_line_and_in_the_header(tmp_path, monkeypatch):
    from flatgen.cli import main

    loop_source(tmp_path, 4)
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "steps.py:steps", "--out", "out", "--unroll", "0"]) == 0
    text = (tmp_path / "out" / "steps_steps.py").read_text()
    assert "for t in range(4):" in text and "--unroll 0" in text
    assert main(["check", "steps.py:steps", "--out", "out", "--unroll", "0"]) == 0
    assert main(["check", "steps.py:steps", "--out", "out"]) == 1  # unrolled by default: stale
    with pytest.raises(FlatgenError, match="unroll"):
        flatgen.flat(load(tmp_path / "steps.py"), unroll=-1)


def test_generated_loops_never_write_into_their_arguments():
    xs = rng.normal(size=64)
    before = xs.copy()
    flatgen.flat(loops.running_max).value_and_grad(xs)
    assert np.array_equal(xs, before)
    vg = body(flatgen.flat(loops.running_max).source, "running_max_value_and_grad")
    assert "z[i] = " in vg and " z = z.copy()" not in vg  # the loop writes into its own array, in place


def test_math_mode_loops_are_plain_floats():
    fn = flatgen.flat(loops.rnn)
    assert fn.generated.grad_graph.math and "import math" in fn.source and "numpy" not in fn.source
    value, grads = fn.value_and_grad(0.5, 1.3, 4)
    assert type(value) is float and all(type(g) is float for g in grads)


def test_generation_is_deterministic_across_hash_seeds():
    # the order of a loop's variables once came from a set of names: it changed with PYTHONHASHSEED
    import subprocess

    from conftest import checkout_env

    outputs = set()
    for seed in ("0", "1", "4242"):
        r = subprocess.run([sys.executable, "-m", "flatgen", "show", "examples/loops.py:damped"], cwd=ROOT,
                           capture_output=True, text=True, env=checkout_env(PYTHONHASHSEED=seed))
        assert r.returncode == 0, r.stderr
        outputs.add(r.stdout)
    assert outputs == {(ROOT / "generated" / "loops_damped.py").read_text()}


def test_a_value_updated_in_place_is_saved_as_a_copy(tmp_path):
    path = tmp_path / "acc.py"
    path.write_text(
        "import numpy as np\n\n\n"
        "def acc(v: \"(3,)\", n: int):\n"
        "    z = np.zeros(3)\n"
        "    for i in range(n):\n"
        "        s = np.sum(z * v)\n"
        "        z[0] = s + v[1]\n"
        "        z[1] = z[0] * v[2]\n"
        "    return np.sum(z * z)\n"
    )
    spec = importlib.util.spec_from_file_location("acc", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = flatgen.flat(module.acc)
    for n in (0, 1, 4):
        assert_agree(fn, (np.array([0.3, -0.2, 0.7]), n), ints=(1,))


@pytest.mark.parametrize("free", [False, True])
@pytest.mark.parametrize("style", ["lecture", "compact"])
def test_a_view_made_before_a_loop_writes_into_its_array_is_read_back_as_it_was(tmp_path, style, free):
    # sin's rule reads z[0:2] as it was before the loop wrote into z in place (the loop fuzzer's seed 100018)
    path = tmp_path / "view_before.py"
    path.write_text(
        "import numpy as np\n\n\n"
        "def view_before(x, n: int):\n"
        "    z = np.zeros(3) + x\n"
        "    h = np.sin(z[0:2])\n"
        "    for i in range(n):\n"
        "        z[0] = x * x\n"
        "    return np.sum(h) + z[0]\n"
    )
    spec = importlib.util.spec_from_file_location("view_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = flatgen.flat(module.view_before, style=style, free=free)
    for n in (0, 1, 3):
        assert_agree(fn, (0.3, n), ints=(1,))


@pytest.mark.parametrize("style", ["lecture", "compact"])
@pytest.mark.parametrize("name", sorted(corpus_loops.CASES))
def test_loop_corners(name, style):
    fn = flatgen.flat(getattr(corpus_loops, name), style=style)
    for args, ints in corpus_loops.CASES[name]:
        assert_agree(fn, args, ints=ints)


def test_a_while_on_a_value_the_loop_updates_is_not_decided_when_generating():
    # k starts as the constant 0.0: the condition still waits for the loop
    vg = body(flatgen.flat(corpus_loops.while_counter).source, "while_counter_value_and_grad")
    assert "while k < 3.5:" in vg


def test_readme_shows_the_current_rolled_rnn():
    readme = (ROOT / "README.md").read_text()
    module = (ROOT / "generated" / "loops_rnn.py").read_text()
    vg = module[module.index("    h = x\n    h_tape = []"):module.index("    return h_out, (grad_x, grad_w)")]
    assert "for i in reversed(range(n)):" in vg and vg in readme


def test_a_loop_count_must_be_an_int_at_run_time():
    fn = flatgen.flat(loops.rnn)
    with pytest.raises(UsageError, match="n of rnn.. is a loop count"):
        fn.value_and_grad(0.5, 1.0, 3.0)
    value, grads = fn.value_and_grad(0.5, 1.0, np.int64(3))  # a numpy integer is an integer too
    ref_value, ref_grads = fn.value_and_grad(0.5, 1.0, 3)
    assert value == pytest.approx(ref_value, rel=1e-14) and grads == pytest.approx(ref_grads, rel=1e-14)


def test_printed_ir_shows_loop_frames_and_while_tests():
    text = str(flatgen.flat(loops.newton_sqrt).graph)
    assert "(test) t4 = gt t3 1e-12" in text and "[while t4] x_1 = sub x_1 t8" in text
    grad = str(flatgen.flat(loops.rnn).grad_graph)
    assert "[for i in reversed(range(n))] h = pop h_tape" in grad


# -- a rolled loop writing into an array another name holds ---------------------------------------------

ALIASED = """import numpy as np


def only_z(v: "(4,)", n):
    z = v
    for i in range(n):
        z[i] = z[i] * 2.0 + 1.0
    return np.sum(z * z)


def reads_v(v: "(4,)", n):
    z = v
    for i in range(n):
        z[i] = z[i] * 2.0 + 1.0
    return np.sum(z * v)
"""


def _aliased(tmp_path, name):
    path = tmp_path / "aliased.py"
    path.write_text(ALIASED)
    spec = importlib.util.spec_from_file_location("aliased", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


@pytest.mark.parametrize("name", ["only_z", "reads_v"])
def test_a_loop_writing_into_an_array_another_name_holds_is_refused_rolled_as_unrolled(tmp_path, name):
    """`z = v` then `z[i] = ...` in a loop: Python writes into v (the caller's array) too, which flatgen's
    modules never do.  Refused at the write, with the same message whether the loop stays rolled (a
    run-time count) or is unrolled (a constant count), as it is without a loop."""
    f = _aliased(tmp_path, name)
    messages = []
    for unroll in (0, 16):  # rolled; unrolled when the count is a constant (example= gives n = 3)
        with pytest.raises(FlatgenError) as e:
            flatgen.flat(f, unroll=unroll, example=(np.zeros(4), 3)).value_and_grad(np.zeros(4), 3)
        messages.append(str(e.value))
    with pytest.raises(FlatgenError) as e:
        flatgen.flat(f).value_and_grad(np.zeros(4), 3)
    messages.append(str(e.value))
    assert all("numpy would write into `z` in place here, and `v` sees the same array" in m for m in messages)
    line = 7 if name == "only_z" else 14  # the write, in ALIASED
    assert len(messages) == 3 and all(f":{line}:9:" in m for m in messages), messages


def test_a_loop_writing_into_its_own_copy_is_accepted(tmp_path):
    """`z = v * 1.0` (a new array) then `z[i] = ...` in a rolled loop: never writes into the argument;
    values and gradients agree with the interpreter and finite differences."""
    path = tmp_path / "own_copy.py"
    path.write_text(ALIASED.replace("    z = v\n", "    z = v * 1.0\n"))
    spec = importlib.util.spec_from_file_location("own_copy", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    v = np.array([0.3, -0.2, 0.5, 0.1])
    for name in ("only_z", "reads_v"):
        fn = flatgen.flat(getattr(module, name))
        for n in (0, 2, 4):
            arg = v.copy()
            value, grads = fn.value_and_grad(arg, n)
            assert np.array_equal(arg, v), f"{name}, n = {n}: the generated module wrote into its argument"
            ref_value, ref_grads = fn.interpret(v.copy(), n)
            assert value == ref_value and np.allclose(grads[0], ref_grads[0], rtol=1e-12, atol=0)
            h = 1e-6
            fd = [(fn.fn(v + h * e, n) - fn.fn(v - h * e, n)) / (2 * h) for e in np.eye(4)]
            np.testing.assert_allclose(grads[0], fd, rtol=1e-6, atol=1e-8)
