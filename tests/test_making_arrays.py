"""Making arrays (flatgen/rows_arrays.py), row by row: generated == interpreter == central differences
(tests/numerics_arrays.py) on the functions of tests/corpus_making.py, at every shape each row takes,
and the code flatgen writes for them.

Each row is also checked on its own (tests/test_op_specs.py: its rule against central differences;
tests/test_lower.py: its rule written in primitives); tests/test_primitives.py counts the rows of the
table this file covers (ROWS).
"""

from __future__ import annotations

import numpy as np
import pytest

import corpus_making as C
import flatgen
from numerics_arrays import agree, ops

rng = np.random.default_rng(1300)


def r(*shape):
    return rng.uniform(-1.5, 1.5, size=shape) if shape else float(rng.uniform(-1.5, 1.5))


# row -> (function, sample points); a sample point's shapes are the module's shapes
ROWS = {
    "atleast_1d": (C.a_atleast_1d, [(0.7, r(3)), (r(1), r(1))]),
    "atleast_2d": (C.a_atleast_2d, [(0.7, r(3)), (-0.3, r(2))]),
    "atleast_3d": (C.a_atleast_3d, [(r(3), r(2, 3))]),
    "ravel": (C.a_ravel, [(r(2, 3),), (r(3, 2),)]),
    "flatten": (C.a_flatten, [(r(2, 3),), (r(1, 2, 2),)]),
    "squeeze": (C.a_squeeze, [(r(3, 2),), (r(6, 2)[:3],)]),
    "pad": (C.a_pad, [(r(2, 3),), (r(3, 1),)]),
    "array_copy": (C.a_array_copy, [(r(3),), (r(2, 2),)]),
    "astype_float": (C.a_astype_float, [(r(3),), (r(2, 3),)]),
    "astype_like": (C.a_astype_like, [(r(3), r(2, 3))]),
    "astype_int": (C.a_astype_int, [(r(3), r(2, 3))]),
    "astype_float32": (C.a_astype_float32, [(r(3),)]),
    "arange": (C.a_arange, [(r(3),)]), "arange2": (C.a_arange2, [(r(3),)]), "arange3": (C.a_arange3, [(r(3),)]),
    "linspace": (C.a_linspace, [(r(3),)]), "eye": (C.a_eye, [(r(2, 2),)]), "full": (C.a_full, [(r(2, 2),)]),
}
# the rows made per nesting, kind and shapes (rows_arrays.array_op, join_op)
FACTORIES = {
    "array": (C.a_array, [(0.7, -0.4, 1.2)]),
    "array_nested": (C.s_array_nested, [(0.7, -0.4, r(3))]),
    "stack": (C.a_stack, [(r(3), r(3))]),
    "concatenate": (C.a_concatenate, [(r(3), r(2, 3))]),
    "hstack": (C.a_hstack, [(r(3), r(2, 3))]),
    "vstack": (C.a_vstack, [(r(3), r(2, 3))]),
}


@pytest.mark.parametrize("name", sorted(ROWS))
def test_row(name):
    fn, samples = ROWS[name]
    for args in samples:
        fd = name != "astype_float32"  # differences cannot see through a float32 cast: its rule is g (test_op_specs)
        f, _, _ = agree(fn, args, fd=fd)
        assert name in ops(f), f"{fn.__name__} traces to {sorted(ops(f))}"


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_factory_row(name):
    fn, samples = FACTORIES[name]
    for args in samples:
        f, _, _ = agree(fn, args)
        assert name.split("_")[0] in ops(f), f"{fn.__name__} traces to {sorted(ops(f))}"


def test_the_code_reads_as_written():
    """The forward keeps the user's spelling; each gradient is one line of the lecture's kind."""
    f = flatgen.flat(C.a_stack, example=(r(3), r(3)))
    text = f.source
    assert "np.stack([x, t1])" in text and "np.stack([x, y], axis=1)" in text
    assert "grad_t1 = grad_s[1]" in text or "grad_s[1]" in text
    f = flatgen.flat(C.a_pad, example=(r(2, 3),))
    assert "np.pad(W, ((1, 1), (1, 1)))" in f.source and "[1:-1, 1:-1]" in f.source
    f = flatgen.flat(C.a_array, example=(0.7, -0.4, 1.2))
    assert "v = np.array([a, t1, 2.0])" in f.source and "grad_v[1]" in f.source


def test_an_integer_arange_is_an_index_and_a_float_one_a_constant():
    f = flatgen.flat(C.a_arange, example=(r(3),))
    assert "take" in ops(f)
    f = flatgen.flat(C.a_arange3, example=(r(3),))
    assert "np.arange(0.0, 0.75, 0.25)" in f.source


def test_views_are_views_and_copies_copies():
    """`a = x.ravel(); a[0] = ...` would write into x (a view): refused; a copy may be written into."""
    with pytest.raises(flatgen.FlatgenError, match="sees the same array"):
        flatgen.flat(_ravel_then_write, example=(r(2, 2),))
    agree(C.a_array_copy, (r(3),))


def _ravel_then_write(W):
    a = W.ravel()
    a[0] = 1.0
    return np.sum(a * W.ravel())


@pytest.mark.parametrize("call, says", [
    ("np.concatenate([x, x], axis=None)", "axis=None"),
    ("np.pad(x, 1, mode='reflect')", "mode='reflect'"),
    ("np.full((3,), x[0])", "value * np.ones(shape)"),
    ("np.array([x, x[:2]])", "one shape"),
    ("x.astype(complex)", ".astype(float)"),
    ("np.stack([])", "list of arrays"),
    ("np.array([x[0], x[1]], dtype=float)", ".astype(float)"),
    ("np.take(x, [0, 1])", "x[idx]"),
    ("np.take_along_axis(x, x, 0)", "x[np.arange(N), idx]"),
    ("np.column_stack([x, x])", "np.stack([a, b], axis=1)"),
    ("np.append(x, x)", "np.concatenate([a, b])"),
    ("np.flip(x)", "x[::-1]"),
    ("np.empty(3)", "np.zeros(shape)"),
    ("np.tril(x)", "np.where(mask, x, 0.0)"),
    ("x * np.random.rand(3)", "pass them in"),
    ("x.item()", "float(x)"),
    ("x.tolist()", "for row in x"),
])
def test_refusals_name_the_nearest_spelling(tmp_path, call, says):
    import sys

    path = tmp_path / "refused_making.py"
    path.write_text(f"import numpy as np\n\n\ndef f(x):\n    return np.sum({call})\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import importlib

        mod = importlib.import_module("refused_making")
        importlib.reload(mod)
        with pytest.raises(flatgen.FlatgenError) as e:
            flatgen.flat(mod.f, example=(r(3),))
        assert says in str(e.value), str(e.value)
    finally:
        sys.path.remove(str(tmp_path))


def test_the_array_fuzzer_draws_the_new_rows():
    """tests/fuzzgen_arrays.py writes the new spellings in the seeds CI checks (test_fuzz_arrays.py)."""
    import re

    import fuzzgen_arrays as fz

    sources = [fz.generate(seed).source for seed in range(160)]
    spellings = ["np.array(", "np.asarray(", "np.stack(", "np.concatenate(", "np.hstack(", "np.vstack(", "np.pad(",
                 "np.atleast_1d(", "np.atleast_2d(", ".ravel()", ".flatten()", "squeeze(", ".copy()", "np.copy(",
                 ".astype(float)", "np.full(", "np.eye(", "np.arange(", "np.linspace(", "[range(", "]["]
    missing = [s for s in spellings if not any(s in text for text in sources)]
    assert not missing, f"never drawn in 160 seeds: {missing}"
    assert any(re.search(r"\] > -?0\.\d+\]\)", text) for text in sources), "a mask read, np.sum(x[x > c])"
