"""Teaching (issue 16): functions defined in notebook cells, in an IPython shell run in this process.

A cell's function reads its helpers, constants and imports from other cells (flatgen/notebook.py
builds the source it reads from the live namespace); the module's header names `notebook:<function>`
and its hash depends on the code only; write() names the module after the function; what cannot be
read is refused where the function reads it, with the cell's line and a caret.  The same in a real
kernel, through nbclient: tests/test_teaching_notebook_kernel.py.
"""

from __future__ import annotations

import math
import sys

import pytest

import flatgen
from flatgen.errors import FlatgenError, InternalError, NameResolutionError, UsageError
from flatgen.parse import load_target


@pytest.fixture(scope="module")
def shell():
    """IPython's shell, as a notebook's kernel runs it (without history on disk); what it changes in
    this process (`__main__`, the display hook) is put back afterwards."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    saved = sys.modules["__main__"], sys.displayhook, sys.excepthook
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    ip = InteractiveShell.instance(config=config)
    yield ip
    InteractiveShell.clear_instance()
    sys.modules["__main__"], sys.displayhook, sys.excepthook = saved


@pytest.fixture()
def ip(shell):
    shell.reset(new_session=False)
    return shell


def run(ip, code: str, error=None):
    """Run one cell; it must succeed, or raise `error` (which is returned)."""
    result = ip.run_cell(code, store_history=True)
    if error is None:
        assert result.error_in_exec is None and result.error_before_exec is None, repr(result.error_in_exec)
        return result
    assert isinstance(result.error_in_exec, error), repr(result.error_in_exec)
    return result.error_in_exec


CELLS = [
    "import numpy as np\nimport flatgen\nfrom flatgen import sigmoid",
    "SCALE = 0.5\nOFFSET = -2",
    "def square(u):\n    return u * u",
    "def bump(u):\n    return square(u) + OFFSET",  # a helper calling a helper of another cell
    "@flatgen.flat\ndef f(x, y):\n    s = SCALE * bump(x)\n    return sigmoid(s) + np.sin(y)",
]


def expected(x, y, scale=0.5, offset=-2.0, power=2):
    s = scale * (x**power + offset)
    sig = 1 / (1 + math.exp(-s))
    return sig + math.sin(y), (sig * (1 - sig) * scale * power * x ** (power - 1), math.cos(y))


def check(value_and_grad, x, y, **kw):
    value, grads = value_and_grad(x, y)
    want, want_grads = expected(x, y, **kw)
    assert value == pytest.approx(want, rel=1e-12)
    assert grads == pytest.approx(want_grads, rel=1e-12)


def test_helpers_constants_and_imports_of_other_cells_resolve(ip):
    for cell in CELLS:
        run(ip, cell)
    f = ip.user_ns["f"]
    check(f.value_and_grad, 1.5, 0.3)
    check(f.interpret, 1.5, 0.3)
    text = f._src.text
    assert "import numpy as np\n" in text and "from flatgen import sigmoid\n" in text
    assert "SCALE = 0.5\n" in text and "OFFSET = -2\n" in text
    assert "def square(u):" in text and "def bump(u):" in text


def test_the_header_names_the_notebook_and_is_the_same_when_the_cells_run_again(ip):
    for cell in CELLS:
        run(ip, cell)
    first = ip.user_ns["f"].source
    for cell in CELLS:  # every cell compiled again, from new files
        run(ip, cell)
    f = ip.user_ns["f"]
    assert f.source == first
    header = first.splitlines()[:4]
    assert header[2] == "# From: notebook:f"
    assert header[3] == "# Regenerate: run the notebook, then f.write('generated')"
    assert "ipykernel" not in first and "ipython-input" not in first
    assert repr(f) == "<flatgen.flat notebook:f>"


def test_the_hash_depends_on_the_code_only(ip, tmp_path):
    """The same definitions in a file give the same source hash: the code, not where it was written."""
    for cell in CELLS:
        run(ip, cell)
    file = tmp_path / "same.py"
    file.write_text("\n\n".join(CELLS[:4] + [CELLS[4].replace("@flatgen.flat\n", "")]) + "\n", encoding="utf-8")
    src, node = load_target(f"{file}:f")
    from flatgen.pipeline import generate

    from_file = generate(src, node).source.splitlines()[1]
    assert from_file.startswith("# Source hash: ")
    assert ip.user_ns["f"].source.splitlines()[1] == from_file


def test_a_cell_edited_and_run_again(ip):
    for cell in CELLS:
        run(ip, cell)
    run(ip, CELLS[2])  # the helper's cell run again, as it was: nothing has changed for the module
    check(ip.user_ns["f"].value_and_grad, 1.5, 0.3)
    run(ip, "def square(u):\n    return u * u * u")  # the helper's cell, edited and run again
    with pytest.raises(UsageError, match=r"`square` has changed in the notebook since f\(\) was made"):
        ip.user_ns["f"].value_and_grad(1.5, 0.3)
    run(ip, CELLS[4])  # the function's cell run again: the new helper, and no name bound twice
    check(ip.user_ns["f"].value_and_grad, 1.5, 0.3, power=3)
    run(ip, "SCALE = 0.25")
    with pytest.raises(UsageError, match="`SCALE` has changed"):
        ip.user_ns["f"].grad(1.5, 0.3)
    run(ip, "SCALE = 0.25")  # the same value again: nothing has changed for the module
    run(ip, CELLS[4].replace("SCALE * bump(x)", "SCALE * bump(x) * 2.0"))  # the function's own cell, edited
    value, grads = ip.user_ns["f"].value_and_grad(1.5, 0.3)
    assert value == pytest.approx(expected(1.5, 0.3, scale=0.5, power=3)[0])


def test_write_names_the_module_after_the_function(ip, tmp_path):
    for cell in CELLS:
        run(ip, cell)
    path = ip.user_ns["f"].write(tmp_path)
    assert path == tmp_path / "f.py"
    assert path.read_text(encoding="utf-8") == ip.user_ns["f"].source
    run(ip, "import flatgen\ndef numpy(x):\n    return x * x\nfn = flatgen.flat(numpy)")  # not a module's name
    assert ip.user_ns["fn"].write(tmp_path) == tmp_path / "notebook_numpy.py"


def test_a_flat_helper_math_imports_and_inf(ip):
    run(ip, "import numpy.linalg as la\nfrom math import exp\nfrom numpy import pi\nimport flatgen\n"
            "BIG = float('inf')")
    run(ip, "@flatgen.flat\ndef double(u):\n    return 2.0 * u")
    run(ip, "@flatgen.flat\ndef g(x):\n    return np.minimum(double(exp(x)) * pi, BIG)", error=NameResolutionError)
    run(ip, "import numpy as np")
    run(ip, "@flatgen.flat\ndef g(x):\n    return np.minimum(double(exp(x)) * pi, BIG)")
    g = ip.user_ns["g"]
    value, (grad,) = g.value_and_grad(0.5)
    assert value == pytest.approx(2 * math.exp(0.5) * math.pi) and grad == pytest.approx(value)
    text = g._src.text
    assert "from math import exp\n" in text and "BIG = 1e999\n" in text and "pi = 3.141592653589793\n" in text
    assert "import numpy.linalg as la" not in text  # not read by g


@pytest.mark.parametrize("binding, use, message", [
    ("K = np.ones(2)", "K * y", r"`K` is a numpy.ndarray in the notebook"),
    ("K = np.float64(2.0)", "K * y", r"`K` is a numpy.float64 in the notebook"),
    ("K = True", "K * y", r"`K` is a bool in the notebook"),
    ("K = 'two'", "K * y", r"`K` is a str in the notebook"),
    ("K = float('nan')", "K * y", r"`K` is nan, which has no literal"),
    ("K = 10 ** 5000", "K * y", r"`K` is an int too large to print"),
    ("K = lambda u: u", "K(y)", r"`K` is a lambda"),
    ("def square(u):\n    return u * u\nK = square", "K(y)", r"`K` is the cell function square\(\) under another name"),
    ("def make():\n    c = 2.0\n    def inner(u):\n        return c * u\n    return inner\nK = make()", "K(y)",
     r"`K` is a closure: it reads c"),
    ("import functools\n@functools.lru_cache\ndef K(u):\n    return u", "K(y)",
     r"`K` is a functools._lru_cache_wrapper in the notebook"),
    ("def same(fn):\n    return fn\n@same\ndef K(u):\n    return u", "K(y)", r"`K` is a decorated function"),
    ("import types\nK = types.ModuleType('numpy')", "K.exp(y)", r"`K` is a module object that is not the imported"),
])
def test_what_cannot_be_read_is_refused_where_it_is_read(ip, binding, use, message):
    import re

    run(ip, "import numpy as np\nimport flatgen")
    run(ip, binding)
    cell = f"@flatgen.flat\ndef h(x):\n    y = x + 1.0\n    return {use}"
    error = run(ip, cell, error=NameResolutionError)
    assert re.match(message, error.message), error.message
    assert error.loc.file.startswith("Cell In[") and error.loc.line == 4
    assert error.loc.text == cell.splitlines()[3] + "\n"
    assert error.loc.caret().splitlines()[1] == "    " + " " * len("return ") + "^"


def test_a_name_no_cell_has_defined_yet(ip):
    run(ip, "import flatgen")
    error = run(ip, "@flatgen.flat\ndef h(x):\n    return LATER * x", error=NameResolutionError)
    assert "`LATER` is not defined in the notebook (yet)" in error.message
    assert (error.loc.line, error.loc.col) == (3, 11)
    # a name the function binds itself is never looked up in the notebook
    run(ip, "LATER = 'a string'\n@flatgen.flat\ndef h(LATER):\n    return LATER * 2.0")


def test_a_refusal_inside_a_helper_points_into_the_helpers_cell(ip):
    run(ip, "import flatgen")
    helper = run(ip, "# a helper\n\ndef helper(u):\n    v = u + 1.0\n    return print(v)")
    error = run(ip, "@flatgen.flat\ndef h(x):\n    return helper(x)", error=FlatgenError)
    assert error.loc.file == f"Cell In[{helper.execution_count}]"
    assert error.loc.line == 5 and error.loc.text == "    return print(v)\n"


def test_a_function_indented_in_its_cell(ip):
    run(ip, "import flatgen\nif True:\n    def inner(u):\n        return u * u\n"
            "    f = flatgen.flat(inner)\n")
    f = ip.user_ns["f"]
    assert f.value_and_grad(3.0) == (9.0, (6.0,))
    assert "# line 4: return u * u" in f.source


def test_no_text_of_the_users_becomes_code(ip):
    """A float subclass prints what it likes; a module may call itself anything: both are refused, and
    the source flatgen reads holds neither."""
    run(ip, "import flatgen, types\n"
            "class Evil(float):\n    def __repr__(self):\n        return '0.0\\nimport os'\n"
            "K = Evil(1.0)\nM = types.ModuleType('os; import sys')\nsys = M")
    for use in ("K * x", "M.exp(x)"):
        error = run(ip, f"@flatgen.flat\ndef h(x):\n    return {use}", error=NameResolutionError)
        assert "in the notebook" in error.message or "not the imported module" in error.message
    run(ip, "@flatgen.flat\ndef h(x, K, M):\n    return K * x * M")  # the names, as parameters
    text = ip.user_ns["h"]._src.text
    assert "import os" not in text and "import sys" not in text and "Evil" not in text


def test_functions_in_files_are_read_from_their_files(ip):
    """Outside a cell nothing changes: the function's module is read from its file."""
    import lecture

    f = flatgen.flat(lecture.neuron)
    assert not f._src.notebook and f.generated.target == "examples/lecture.py:neuron"
    assert f.generated.module_name == "lecture_neuron"


def test_flatgen_errors_show_in_ipython_as_their_message(ip, capsys):
    run(ip, "import flatgen")
    capsys.readouterr()
    run(ip, "@flatgen.flat\ndef h(x):\n    try:\n        y = x\n    except ValueError:\n        y = x\n    return y",
        error=FlatgenError)
    shown = capsys.readouterr().out
    assert "FlatgenError: Cell In[" in shown and "unsupported: `try`" in shown
    assert "    try:\n    ^^^^" in shown and "hint: " in shown
    assert "api.py" not in shown and "Traceback" not in shown and "guard" not in shown
    assert shown.rstrip().splitlines()[-1].startswith("(called from Cell In[")


def test_render_traceback_shape():
    try:
        flatgen.flat(lambda x: x)
    except FlatgenError as e:
        lines = e._render_traceback_()
    assert lines[0] == "FlatgenError: source: a lambda has no name and no statement of its own to read"
    assert lines[1] == "hint: write it as a `def` function in a file"
    assert lines[2].startswith("(called from ") and __file__ in lines[2]
    assert all(isinstance(line, str) and "\n" not in line for line in lines)
    bug = InternalError("boom")
    assert not hasattr(bug, "_render_traceback_")  # a bug shows all its frames


def test_a_graph_displays_as_its_equations():
    import lecture
    from IPython.lib.pretty import pretty

    g = flatgen.flat(lecture.neuron).graph
    text = str(g)
    assert text.startswith("neuron(w0, x0, w1, x1, w2):\n  s0 = mul w0 x0  # line 12\n")
    assert repr(g) == text.rstrip("\n") and pretty(g) == text.rstrip("\n")
    assert "Graph(name=" not in repr(g) and "Eqn(" not in pretty([g])
    grad = flatgen.flat(lecture.neuron).grad_graph
    assert "  # backward\n" in repr(grad) and repr(grad).endswith("grad_w2")


def test_a_helpers_defaults_are_the_values_bound_when_its_def_ran(ip):
    """Python computes a default once, when the def runs: a constant bound again later does not change it."""
    run(ip, "import flatgen\nimport numpy as np\nSCALE = 1.0\nG = 3.0\n"
            "def helper(u, k=SCALE, *, m=G * 2.0):\n    return u * k + m")
    run(ip, "SCALE = 2.0\nG = 10.0")
    run(ip, "@flatgen.flat\ndef f(x):\n    return helper(x)")
    f = ip.user_ns["f"]
    assert f(1.5) == 7.5 and f.value_and_grad(1.5) == (7.5, (1.0,)) and f.interpret(1.5) == (7.5, (1.0,))
    assert "def helper(u, k=1.0, *, m=6.0):" in f._src.text
    run(ip, "def helper(u, k=SCALE, *, m=G * 2.0):\n    return u * k + m")  # same text, new defaults
    with pytest.raises(UsageError, match="`helper` has changed"):
        f.value_and_grad(1.5)
    run(ip, "@flatgen.flat\ndef f(x):\n    return helper(x)")
    assert ip.user_ns["f"].value_and_grad(1.5) == (23.0, (2.0,))
    run(ip, "K = np.ones(2)\ndef bad(u, k=K):\n    return u * k")
    error = run(ip, "@flatgen.flat\ndef h(x):\n    return bad(x, 2.0)", error=NameResolutionError)
    assert "the default of its parameter `k` is a numpy.ndarray" in error.message


def test_a_builtin_bound_by_a_later_cell_makes_the_module_stale(ip, tmp_path):
    run(ip, "import flatgen")
    run(ip, "@flatgen.flat\ndef g(a, b):\n    return max(a, b) * 2.0")
    run(ip, "@flatgen.flat\ndef h(x):\n    total = x * 2.0\n    for i in range(3):\n        total = total + x\n"
            "    sum = total\n    return sum")
    g, h = ip.user_ns["g"], ip.user_ns["h"]
    assert g.value_and_grad(1.0, 3.0) == (6.0, (0.0, 2.0))
    run(ip, "def max(a, b):\n    return a\nsum = 3")  # `sum` is h's own local: no builtin h reads
    assert h.value_and_grad(1.0) == (5.0, (5.0,))
    stale = r"`max` is bound in the notebook now"
    for use in (lambda: g.value_and_grad(1.0, 3.0), lambda: g.interpret(1.0, 3.0), lambda: g.source,
                lambda: g.module, lambda: g.graph, lambda: g.draw(), lambda: g.explain(1.0, 3.0),
                lambda: g.write(tmp_path)):
        with pytest.raises(UsageError, match=stale):
            use()
    assert "max" in g._repr_markdown_() and "bound in the notebook now" in g._repr_html_()
    assert "def g_value_and_grad" not in g._repr_html_() + g._repr_markdown_()
    run(ip, "def range(n):\n    return [0]")
    with pytest.raises(UsageError, match="`range` is bound"):
        h.value_and_grad(1.0)
    run(ip, "@flatgen.flat\ndef g(a, b):\n    return max(a, b) * 2.0")  # made again: the cell's max
    assert ip.user_ns["g"].value_and_grad(1.0, 3.0) == (2.0, (2.0, 0.0))
