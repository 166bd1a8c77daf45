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


# -- the identities corpus (tests/corpus_simplify.py) ---------------------------------------------------------

import corpus_simplify  # noqa: E402
from flatgen.graph import Lit, Var  # noqa: E402
from flatgen.simplify import IDENTITY  # noqa: E402
from numerics import finite_differences  # noqa: E402

IDENTITY_CASES = [(name, k) for name, points in corpus_simplify.CASES.items() for k in range(len(points))]
# functions whose identity the compact style must remove (nothing blocks it: no output, mask or accumulation)
SIMPLIFIED = ["add_zero_right", "add_zero_left", "sub_zero_right", "mul_one_right", "mul_one_left", "div_one_right",
              "pow_one_right", "chained", "folded_one", "array_identities"]


def identity_sites(graph) -> list:
    """Equations the identities pass could turn into a copy: an integer neutral literal in an identity's place."""
    found = []
    for e in graph.eqns:
        for keep, (other, neutral) in IDENTITY.get(e.op.name, ()):
            b = e.ins[other]
            if isinstance(b, Lit) and type(b.value) is int and b.value == neutral and isinstance(e.ins[keep], Var):
                found.append(e)
    return found


def literal_slots(graph) -> set:
    """(op, slot, value) of every integer literal input of the graph's equations."""
    return {(e.op.name, k, a.value) for e in graph.eqns for k, a in enumerate(e.ins)
            if isinstance(a, Lit) and type(a.value) is int}


def _check_outputs(f, args, n_outputs):
    """generated == interpreter (values bit for bit, gradients to 1e-12, the same types) == central
    differences of the user's function, for each output's upstream gradient."""
    seeds = [None] if n_outputs == 1 else [(1.0, 0.0), (0.0, 1.0), (0.5, -2.0)]
    wrt = list(range(len(args)))
    for seed in seeds:
        kw = {} if seed is None else {"seed": seed}
        value, grads = f.value_and_grad(*args, **kw)
        ref_value, ref_grads = f.interpret(*args, **kw)
        assert np.array_equal(value, ref_value) and type(value) is type(ref_value), (value, ref_value)
        mine = f.fn(*args)
        assert np.allclose(np.asarray(mine, dtype=float), np.asarray(value, dtype=float), rtol=1e-13, atol=0)
        for g, r in zip(grads, ref_grads):
            assert type(g) is type(r), f"gradient types: generated {type(g).__name__}, interpreter {type(r).__name__}"
            close(g, r)
        weights = (1.0,) if seed is None else seed

        def weighted(*a):
            out = f.fn(*a)
            outs = out if n_outputs > 1 else (out,)
            return sum(w * np.sum(o) for w, o in zip(weights, outs))

        for k, (g, fd) in enumerate(zip(grads, finite_differences(weighted, args, wrt))):
            scale = max(1.0, float(np.max(np.abs(fd))))
            np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8 * scale,
                                       err_msg=f"gradient {k} (seed {seed}) vs central differences")


@pytest.mark.parametrize("name, k", IDENTITY_CASES, ids=[f"{n}-{k}" for n, k in IDENTITY_CASES])
def test_identity_corpus(name, k):
    """Every identity, in both orders, in compact and lecture style, numpy and math modules: generated ==
    interpreter == finite differences; each simplification pass alone keeps the unsimplified graph's values."""
    fn = getattr(corpus_simplify, name)
    args = corpus_simplify.CASES[name][k]
    args = tuple(a if isinstance(a, (int, np.ndarray)) else float(a) for a in args)
    scalar = all(np.ndim(a) == 0 for a in args)
    n_outputs = 2 if name == "several_outputs" else 1
    for style in ("compact", "lecture"):
        for math_mode in ((False, True) if scalar else (False,)):
            call = args if math_mode else tuple(np.float64(a) if type(a) is float else a for a in args)
            f = flatgen.flat(fn, style=style, math=math_mode, example=call)
            _check_outputs(f, call, n_outputs)
    g = flatgen.flat(fn, style="compact", math=False, example=args).generated
    unsimplified = g.grad_graph
    reference = interpret.evaluate(unsimplified, args)
    for p in PASSES["compact"]:
        for a, b in zip(interpret.evaluate(p(unsimplified), args), reference):
            close(a, b)


@pytest.mark.parametrize("name", SIMPLIFIED)
def test_identities_are_removed(name):
    """The integer neutral literal reaches the graph (the tracer keeps it) and the compact style removes it."""
    fn = getattr(corpus_simplify, name)
    args = corpus_simplify.CASES[name][0]
    f = flatgen.flat(fn, style="compact", math=False, example=args)
    g = f.generated
    assert identity_sites(g.graph), f"{name}: no identity in the traced graph: the corpus does not exercise the pass"
    assert not identity_sites(simplify(g.grad_graph, "compact")), f"{name}: compact left an identity in place"


def test_the_corpus_covers_every_identity_in_both_orders():
    """For each identity of simplify.IDENTITY (op, result slot, literal slot, neutral value): a corpus
    function has the literal in the identity's place (x + 0) and one has it in the other place (0 - x)."""
    seen = set()
    for name, points in corpus_simplify.CASES.items():
        fn = getattr(corpus_simplify, name)
        seen |= literal_slots(flatgen.flat(fn, math=False, example=points[0]).generated.graph)
    missing = []
    for op, entries in IDENTITY.items():
        for keep, (other, neutral) in entries:
            for slot in (other, keep):
                if (op, slot, neutral) not in seen:
                    missing.append(f"{op} with {neutral} as input {slot}")
    assert not missing, f"identities the corpus never writes: {missing}"
    assert len(IDENTITY) >= 5


def test_sub_from_zero_is_a_negation():
    """0 - x is -x: the compact module keeps the subtraction (once, a wrong `0 - x -> x` passed every test)."""
    f = flatgen.flat(corpus_simplify.sub_zero_left, style="compact", math=False)
    value, grads = f.value_and_grad(0.7, -1.3)
    assert value == pytest.approx(np.sin(-0.7) * -1.3 + 0.7, rel=1e-15)
    assert grads[0] == pytest.approx(-np.cos(-0.7) * -1.3 + 1, rel=1e-14)


@pytest.mark.parametrize("math_mode", [False, True], ids=["numpy", "math"])
def test_power_of_zero(math_mode):
    """d/dx (0 ** x * y + x) = 1 for x > 0: 0 ** x is 0 on x > 0."""
    f = flatgen.flat(corpus_simplify.pow_zero_left, math=math_mode)
    with np.errstate(all="ignore"):
        value, grads = f.value_and_grad(0.7, -1.3)
    assert value == 0.7 and grads == (1.0, 0.0)
