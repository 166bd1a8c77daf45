"""Math mode: for Python floats the module uses math and float arithmetic, numerically the same."""

import ast
import subprocess
import sys

import numpy as np
import pytest

import corpus
import flatgen
import lecture
from test_language import CASES
from test_primitives import SCALAR
from conftest import checkout_env
from numerics import assert_agree


def imports(text):
    return {a.name for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Import) for a in n.names}


@pytest.mark.parametrize("name", sorted(SCALAR))
def test_every_scalar_primitive_in_math_mode(name):
    f = flatgen.flat(getattr(corpus, f"p_{name}"), math=True)
    for args in SCALAR[name]:
        if all(np.ndim(a) == 0 for a in args):
            value, grads = assert_agree(f, args)
            np_value, np_grads = flatgen.flat(getattr(corpus, f"p_{name}"), math=False).interpret(
                *(np.float64(a) for a in args))
            assert value == pytest.approx(float(np_value), rel=1e-14)
            assert grads == pytest.approx(tuple(float(g) for g in np_grads), rel=1e-12)
            assert all(type(g) in (float, int) for g in grads), "math mode returns plain numbers"
    assert "numpy" not in imports(f.source)


@pytest.mark.parametrize("name", sorted(CASES))
def test_language_features_in_math_mode(name):
    f = flatgen.flat(getattr(corpus, name), math=True)
    assert_agree(f, CASES[name])


def test_the_first_call_with_floats_picks_math_mode():
    f = flatgen.flat(lecture.neuron)
    assert "import numpy as np" in f.source  # before any call: the default (numpy) module
    f.value_and_grad(2.0, -1.0, -3.0, -2.0, -3.0)
    assert imports(f.source) == {"math"}
    f.value_and_grad(*(np.float64(a) for a in (2.0, -1.0, -3.0, -2.0, -3.0)))
    assert "numpy" in imports(f.source)  # numpy scalars: the numpy module


def test_annotations_and_example_pick_math_mode(tmp_path):
    path = tmp_path / "annotated.py"
    path.write_text("import numpy as np\n\n\ndef f(x: float, y: float) -> float:\n    return np.exp(x) * y\n")
    from flatgen.parse import load_target
    from flatgen.pipeline import generate

    assert imports(generate(*load_target(f"{path}:f")).source) == {"math"}
    assert imports(flatgen.flat(lecture.circuit, example=(1.0, 2.0, 3.0)).source) == set()  # plain arithmetic
    assert imports(flatgen.flat(corpus.p_exp, example=(1.0,)).source) == {"math"}


def test_cli_math_flag(tmp_path):
    (tmp_path / "m.py").write_text("import numpy as np\n\n\ndef f(x):\n    return np.tanh(x)\n")
    r = subprocess.run([sys.executable, "-m", "flatgen", "show", "m.py:f", "--math"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120, env=checkout_env())
    assert r.returncode == 0 and "math.tanh(x)" in r.stdout and "--math" in r.stdout.splitlines()[3]
    (tmp_path / "v.py").write_text("import numpy as np\n\n\ndef f(x):\n    return np.sum(np.tanh(x))\n")
    r = subprocess.run([sys.executable, "-m", "flatgen", "show", "v.py:f", "--math", "--shape", "x=3"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120, env=checkout_env())
    assert r.returncode == 2 and "math mode is for scalar parameters" in r.stderr
