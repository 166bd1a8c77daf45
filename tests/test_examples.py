"""The lecture examples: golden files, the slide's exact backward pass, known values, staleness."""

import ast
import re
from pathlib import Path

import numpy as np
import pytest

import flatgen
import lecture
from conftest import ROOT, UPDATE_GOLDENS
from flatgen.cli import main
from numerics import assert_agree

GOLDEN = Path(__file__).parent / "golden"


def golden(name: str, text: str):
    path = GOLDEN / name
    if UPDATE_GOLDENS:
        path.write_text(text)
    assert path.read_text() == text, f"{name} changed: review, then FLATGEN_UPDATE_GOLDENS=1 pytest {__file__}"


def test_neuron_module_golden():
    golden("lecture_neuron.py", flatgen.flat(lecture.neuron).source)


def test_neuron_graph_golden():
    f = flatgen.flat(lecture.neuron)
    golden("neuron.graph.txt", str(f.graph))
    golden("neuron.grad_graph.txt", str(f.grad_graph))


def test_neuron_backward_is_the_slide():
    """After the forward statements: exactly these ten statements (order free where independent)."""
    tree = ast.parse(flatgen.flat(lecture.neuron).source)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "neuron_value_and_grad")
    body = [ast.unparse(s) for s in fn.body[1:]]  # without the docstring
    forward = ["s0 = w0 * x0", "s1 = w1 * x1", "s2 = s0 + s1", "s3 = s2 + w2", "L = sigmoid(s3)"]
    assert body[:5] == forward
    assert body[-1] == "return (L, (grad_w0, grad_x0, grad_w1, grad_x1, grad_w2))"
    backward = body[5:-1]
    slide = [
        "grad_L = 1.0",
        "grad_s3 = grad_L * (1 - L) * L",
        "grad_w2 = grad_s3",
        "grad_s2 = grad_s3",
        "grad_s0 = grad_s2",
        "grad_s1 = grad_s2",
        "grad_w1 = grad_s1 * x1",
        "grad_x1 = grad_s1 * w1",
        "grad_w0 = grad_s0 * x0",
        "grad_x0 = grad_s0 * w0",
    ]
    assert sorted(backward) == sorted(slide)
    # every statement comes after the ones it reads
    defined = {"w0", "x0", "w1", "x1", "w2", "s0", "s1", "s2", "s3", "L"}
    for stmt in backward:
        target, value = stmt.split(" = ")
        reads = {n.id for n in ast.walk(ast.parse(value)) if isinstance(n, ast.Name)}
        assert reads <= defined, stmt
        defined.add(target)


def test_neuron_slide_values():
    f = flatgen.flat(lecture.neuron)
    value, grads = assert_agree(f, (2.0, -1.0, -3.0, -2.0, -3.0))
    assert value == pytest.approx(0.7310585786300049, rel=1e-15)  # sigmoid(1)
    s = value * (1 - value)
    assert grads == pytest.approx((-1 * s, 2 * s, -2 * s, -3 * s, s), rel=1e-15)


def test_circuit_values():
    f = flatgen.flat(lecture.circuit)
    value, grads = assert_agree(f, (-2.0, 5.0, -4.0))
    assert value == -12.0
    assert grads == (-4.0, -4.0, 3.0)


NET_ARGS = dict(i1=0.05, i2=0.10, w1=0.15, w2=0.20, w3=0.25, w4=0.30, w5=0.40, w6=0.45, w7=0.50, w8=0.55,
                b1=0.35, b2=0.60, t1=0.01, t2=0.99)


def test_net222_matches_the_worked_example():
    """Mazur's step-by-step backpropagation example: E = 0.298371109, dE/dw5 = 0.082167041."""
    f = flatgen.flat(lecture.net222)
    value, grads = assert_agree(f, tuple(NET_ARGS.values()))
    assert value == pytest.approx(0.298371109, abs=1e-9)
    assert grads[list(NET_ARGS).index("w5")] == pytest.approx(0.082167041, abs=1e-9)
    assert grads[list(NET_ARGS).index("w1")] == pytest.approx(0.000438568, abs=1e-9)


def test_net222_with_configured_wrt():
    weights = ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "b1", "b2")
    f = flatgen.flat(lecture.net222, wrt=weights)
    idx = [list(NET_ARGS).index(w) for w in weights]
    assert_agree(f, tuple(NET_ARGS.values()), wrt_index=idx)


def test_fanout():
    f = flatgen.flat(lecture.fanout)
    value, grads = assert_agree(f, (2.0, 3.0))
    assert "grad_x +=" in f.source
    x, y = 2.0, 3.0
    assert value == x * x + 3 * x * y and grads == (2 * x + 3 * y, 3 * x)


def test_committed_generated_modules_are_fresh(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    code = main(["check"])
    out, err = capsys.readouterr()
    assert code == 0, f"generated/ is stale: run `flatgen generate` and commit.\n{out}"
    import tomllib

    targets = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["flatgen"]["targets"]
    assert f"{len(targets)} generated module(s) up to date" in err


def test_generated_modules_run_standalone():
    """The committed modules import nothing but numpy and agree with the examples."""
    import importlib.util

    for path in sorted((ROOT / "generated").glob("lecture_*.py")):
        text = path.read_text()
        tree = ast.parse(text)
        imports = {a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                   for a in n.names}
        assert imports <= {"numpy"}, path
        assert "flatgen" not in {getattr(n, "module", None) for n in ast.walk(tree)}
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        name = re.search(r"^# From: examples/lecture\.py:(\w+)$", text, re.M).group(1)  # lecture_neuron_modes: neuron
        fn = getattr(lecture, name)
        n = fn.__code__.co_argcount
        args = np.linspace(0.1, 0.9, n)
        assert getattr(mod, name)(*args) == pytest.approx(fn(*args), rel=1e-15)
        value, grads = getattr(mod, f"{name}_value_and_grad")(*args)
        assert value == pytest.approx(fn(*args), rel=1e-15) and len(grads) >= 1


def test_readme_shows_the_current_neuron_module():
    readme = (ROOT / "README.md").read_text()
    assert (ROOT / "generated" / "lecture_neuron.py").read_text() in readme


def test_readme_shows_the_current_layer_module():
    assert (ROOT / "generated" / "layers_affine.py").read_text() in (ROOT / "README.md").read_text()


def test_readme_shows_the_current_jvp_function():
    text = (ROOT / "generated" / "lecture_neuron_modes.py").read_text()
    fn = next(n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name == "neuron_jvp")
    assert "\n".join(text.splitlines()[fn.lineno - 1:fn.end_lineno]) in (ROOT / "README.md").read_text()


def test_readme_quick_start_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = 'pip install -e ".[test]" && python -m pytest -q'
    assert test_command in readme and test_command in ci.splitlines()


def test_readme_shows_the_current_branch_example():
    readme = (ROOT / "README.md").read_text()
    module = (ROOT / "generated" / "language_piecewise.py").read_text()
    backward = module.split("    # base case: dpiecewise/dpiecewise = 1\n")[1].split("    return piecewise")[0]
    assert "if t1:" in backward and backward in readme
