"""Robustness: bad input at run time, name hygiene, no code injection, numeric edge cases."""

import ast
import importlib.util
import textwrap
import warnings

import numpy as np
import pytest

import flatgen
import lecture
from flatgen.parse import load_target
from flatgen.pipeline import generate


def module_from(tmp_path, text, name="user_mod"):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(text))
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# -- bad input at run time ----------------------------------------------------------------------

def test_wrong_number_of_arguments():
    f = flatgen.flat(lecture.circuit)
    with pytest.raises(flatgen.FlatgenError, match=r"circuit\(\) takes 3 argument\(s\) \(x, y, z\), got 2"):
        f.value_and_grad(1.0, 2.0)
    with pytest.raises(flatgen.FlatgenError, match="takes 3"):
        f.interpret(1.0, 2.0, 3.0, 4.0)
    with pytest.raises(TypeError, match=r"circuit_value_and_grad\(\) missing 1 required positional argument"):
        f.module.circuit_value_and_grad(1.0, 2.0)  # the module itself: Python's own message


@pytest.mark.parametrize("bad", ["a", None, 1j, [1.0, "b"], object(), {"x": 1}])
def test_non_numeric_values(bad):
    f = flatgen.flat(lecture.circuit)
    with pytest.raises(flatgen.FlatgenError, match="argument y of circuit.. must be a real number"):
        f.value_and_grad(1.0, bad, 2.0)


def test_wrong_shapes_when_specialised():
    import vectorized

    f = flatgen.flat(vectorized.vector_norm, example=(np.eye(2), np.ones(2)))
    with pytest.raises(ValueError, match=r"x must have shape \(2,\) \(the module was generated for it\), got \(3,\)"):
        f.value_and_grad(np.eye(2), np.ones(3))


def test_nan_and_inf_propagate_as_numpy_makes_them():
    f = flatgen.flat(lecture.circuit)
    value, grads = f.value_and_grad(float("nan"), 1.0, 2.0)
    assert np.isnan(value) and grads[0] == 2.0 and np.isnan(grads[2])
    value, grads = f.value_and_grad(float("inf"), 1.0, 2.0)
    assert value == float("inf") and grads[:2] == (2.0, 2.0) and grads[2] == float("inf")
    ref = f.interpret(float("inf"), 1.0, 2.0)
    assert ref[0] == value and ref[1][:2] == grads[:2]


# -- name hygiene -------------------------------------------------------------------------------

CLEAN = """
    import numpy as np
    from flatgen import sigmoid


    def f(a, b, c):
        u = a * b
        v = sigmoid(u + c) * np.exp(a)
        w = v * v + u
        return w * b
    """

# The same function, its names replaced by everything flatgen itself might generate or refer to.
CLASHING = """
    import numpy as np
    from flatgen import sigmoid


    def {name}(grad_t1, t1, d1):
        np_ = grad_t1 * t1
        grad_np_ = sigmoid(np_ + d1) * np.exp(grad_t1)
        t2 = grad_np_ * grad_np_ + np_
        return t2 * t1
    """


@pytest.mark.parametrize("fname", ["f", "grad_f", "sigmoid_1", "value_and_grad", "t3"])
def test_user_names_never_change_results(tmp_path, fname):
    clean = module_from(tmp_path, CLEAN, "clean_mod")
    clash = module_from(tmp_path, CLASHING.format(name=fname), "clash_mod")
    args = (0.3, -1.2, 0.7)
    want = flatgen.flat(clean.f).value_and_grad(*args)
    got = flatgen.flat(getattr(clash, fname)).value_and_grad(*args)
    assert got == want


def test_parameters_named_like_modules_and_support(tmp_path):
    """Parameters named np, math, sigmoid, abs, unbroadcast: numpy and sigmoid get other aliases."""
    mod = module_from(tmp_path, """
        import numpy
        import flatgen


        def f(np, math, sigmoid_, unbroadcast, x):
            y = flatgen.sigmoid(np * math) + numpy.exp(x) * sigmoid_
            return y * unbroadcast
        """, "shadow_mod")
    f = flatgen.flat(mod.f)
    text = f.source
    assert "import numpy as np_1" in text and "def sigmoid(x):" in text
    args = (0.5, -0.25, 1.5, 2.0, 0.1)
    value, grads = f.value_and_grad(*args)
    s = 1 / (1 + np.exp(-(0.5 * -0.25)))
    assert value == pytest.approx((s + np.exp(0.1) * 1.5) * 2.0, rel=1e-14)
    assert grads == pytest.approx(f.interpret(*args)[1], rel=1e-14)
    assert tuple(ast.parse(text).body[-1].args.args[i].arg for i in range(5)) == ("np", "math", "sigmoid_", "unbroadcast", "x")


def test_a_function_named_sigmoid_using_sigmoid(tmp_path):
    mod = module_from(tmp_path, """
        from flatgen import sigmoid as logistic


        def sigmoid(x):
            return logistic(2.0 * x)
        """, "named_mod")
    f = flatgen.flat(mod.sigmoid)
    assert "def sigmoid_1(x):" in f.source  # the support function steps aside
    assert f.value_and_grad(0.3)[0] == flatgen.sigmoid(0.6)


# -- injection ------------------------------------------------------------------------------------

NASTY = '''
    """Module docstring with {{ jinja }} and {% if x %} tags."""
    import numpy as np


    def f(x, α):
        """Triple quotes \\"\\"\\" , a backslash \\\\ , {{ x }} {% raw %} and non-ASCII: é ∂ 🙂."""
        y = x * α  # a comment with {{ jinja }} and \\"\\"\\"
        z = np.sin(y) + 1e-300  # {% endraw %}
        return z * 2
    '''


def test_docstrings_comments_and_unicode_cannot_inject(tmp_path):
    mod = module_from(tmp_path, NASTY, "nasty_mod")
    f = flatgen.flat(mod.f)
    text = f.source
    ast.parse(text)
    assert "{{" not in text and "{%" not in text and "🙂" not in text and "\\\\" not in text
    assert "def f(x, α):" in text
    value, grads = f.value_and_grad(0.3, 0.7)
    assert value == mod.f(0.3, 0.7)
    assert grads == pytest.approx((np.cos(0.21) * 0.7 * 2, np.cos(0.21) * 0.3 * 2), rel=1e-14)


def test_jinja_syntax_in_a_file_name_is_just_text(tmp_path):
    path = tmp_path / "{{ evil }}.py"
    path.write_text("def f(x):\n    return x * x\n")
    g = generate(*load_target(str(path) + ":f"))
    assert g.source.splitlines()[2].startswith("# From: ") and g.source.splitlines()[2].endswith("{{ evil }}.py:f")
    ns = {}
    exec(compile(g.source, "m", "exec"), ns)
    assert ns["f_value_and_grad"](3.0) == (9.0, (6.0,))


def test_a_file_name_with_a_newline_is_refused(tmp_path):
    path = tmp_path / "a\nimport os.py"
    path.write_text("def f(x):\n    return x * x\n")
    with pytest.raises(flatgen.FlatgenError, match="non-printable"):
        generate(*load_target(str(path) + ":f"))


def test_constants_reach_the_module_only_as_literals(tmp_path):
    mod = module_from(tmp_path, """
        import numpy as np
        BIG = 1e308 * 10
        TINY = -0.0
        PI2 = np.pi * 2


        def f(x):
            return x * BIG * TINY + x * PI2 + np.inf * 0.0 * x
        """, "const_mod")
    text = flatgen.flat(mod.f).source
    tree = ast.parse(text)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert "BIG" not in names and "PI2" not in names  # values, not names
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = flatgen.flat(mod.f).value_and_grad(1.0)[0]
        assert np.isnan(value) and np.isnan(mod.f(1.0))


# -- numerics at the edges ----------------------------------------------------------------------

def test_edges_log_sqrt_sigmoid(tmp_path):
    mod = module_from(tmp_path, """
        import numpy as np
        from flatgen import sigmoid


        def lg(x):
            return np.log(x)


        def sq(x):
            return np.sqrt(x)


        def sg(x):
            return sigmoid(x)
        """, "edge_mod")
    zero = np.float64(0.0)  # numpy scalars (and arrays) follow numpy: inf with a warning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert flatgen.flat(mod.lg).value_and_grad(zero) == (-np.inf, (np.inf,))
        assert flatgen.flat(mod.sq).value_and_grad(zero) == (0.0, (np.inf,))
        # Python floats get the math module (math mode) and follow it: math.log(0.0) raises, in the
        # generated code and the interpreter alike
        with pytest.raises(ValueError, match="math domain error"):
            flatgen.flat(mod.lg).value_and_grad(0.0)
        with pytest.raises(ValueError, match="math domain error"):
            flatgen.flat(mod.lg).interpret(0.0)
        sg = flatgen.flat(mod.sg)
        for x in (1000.0, np.float64(1000.0)):
            assert sg.value_and_grad(x) == (1.0, (0.0,))
        assert sg.value_and_grad(np.float64(-1000.0)) == (0.0, (0.0,))  # exp overflows to inf (a warning)
        assert sg.value_and_grad(-1000.0) == (0.0, (0.0,))  # math mode: no overflow at all
        assert sg.value_and_grad(-700.0)[0] == pytest.approx(np.exp(-700.0), rel=1e-12)  # accurate in the tail
    with pytest.warns(RuntimeWarning, match="overflow"):
        sg.value_and_grad(np.float64(-1000.0))
