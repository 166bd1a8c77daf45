"""The compact style's passes: each alone and all together agree with the unsimplified graph."""

import numpy as np
import pytest

import corpus
import corpus_arrays
import flatgen
import lecture
import vectorized
from flatgen import interpret
from flatgen.simplify import PASSES, simplify
from numerics import as_args, assert_agree
from test_language import CASES
from test_primitives import ARRAY, SCALAR

FUNCTIONS = (
    [(getattr(corpus, f"p_{n}"), a) for n, cases in SCALAR.items() for a in cases if all(np.ndim(x) == 0 for x in a)]
    + [(getattr(corpus, n), a) for n, a in CASES.items()]
    + [(getattr(corpus_arrays, f"a_{n}"), cases[0]) for n, cases in ARRAY.items()]
    + [(lecture.neuron, (2.0, -1.0, -3.0, -2.0, -3.0)), (lecture.fanout, (2.0, 3.0))]
)
IDS = [f"{fn.__name__}-{i}" for i, (fn, _) in enumerate(FUNCTIONS)]


def close(a, b):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("fn, args", FUNCTIONS, ids=IDS)
def test_each_pass_and_all_of_them_keep_the_values(fn, args):
    args = as_args(args)
    f = flatgen.flat(fn, example=args, math=False)
    g = f.generated
    value, grads = interpret.value_and_grad(g.graph, args, g.wrt)
    unsimplified = g.grad_graph
    for p in PASSES["compact"]:
        out = interpret.evaluate(p(unsimplified), args)
        close(out[0], value)
        for a, b in zip(out[1:], grads):
            close(a, b)
    out = interpret.evaluate(simplify(unsimplified, "compact"), args)
    close(out[0], value)
    for a, b in zip(out[1:], grads):
        close(a, b)


@pytest.mark.parametrize("fn, args", FUNCTIONS, ids=IDS)
def test_compact_modules_agree_with_the_interpreter(fn, args):
    assert_agree(flatgen.flat(fn, style="compact"), args)


def test_compact_drops_copies_and_ones():
    lecture_text = flatgen.flat(lecture.neuron).source
    text = flatgen.flat(lecture.neuron, style="compact").source
    assert "grad_s2 = grad_s3" in lecture_text and "grad_s2" not in text
    assert "grad_L = 1.0" in lecture_text and "grad_L" not in text
    assert "grad_s3 = 1.0 * (1 - L) * L" in text  # the seed folded in; 1.0 * stays (dtype unknown)
    assert "grad_w2 = grad_s3" in text  # a returned gradient keeps its name
    assert len(text.splitlines()) < len(lecture_text.splitlines())


def test_dead_code_and_common_subexpressions(tmp_path):
    path = tmp_path / "dc.py"
    path.write_text(
        "import numpy as np\n\n\ndef f(x, y):\n    unused = np.exp(y) * 3.0\n    a = np.sin(x) * y\n"
        "    b = np.sin(x) * y\n    return a + b * 1 + 0.0 * unused\n"
    )
    import importlib.util

    spec = importlib.util.spec_from_file_location("dc", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    lec = flatgen.flat(mod.f)
    com = flatgen.flat(mod.f, style="compact")
    def code(text):
        return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))

    assert code(lec.source).count("np.sin(x)") == 4  # two in each function
    assert code(com.source).count("np.sin(x)") == 2  # computed once in each
    body = com.source.split("def f_value_and_grad")[0]
    assert "unused" in lec.source.split("def f_value_and_grad")[0]
    assert "* 1\n" not in code(com.source) and "t3 = a + a" in com.source  # b is a (CSE), times 1 gone
    for args in [(0.3, 1.2), (-1.0, 0.5)]:
        assert_agree(com, args)
    assert "np.exp" in body  # the value still needs unused (0.0 * unused), so it stays


def test_compact_mlp_matches_hand_written():
    from test_vectorized import hand_written_mlp, mlp_args

    args = mlp_args(8, 5, 4, 3)
    f = flatgen.flat(vectorized.mlp, wrt=("W1", "b1", "W2", "b2"), style="compact")
    value, grads = f.value_and_grad(*args)
    ref_value, ref_grads = hand_written_mlp(*args)
    assert value == pytest.approx(ref_value, rel=1e-12)
    for g, r in zip(grads, ref_grads):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-14)
