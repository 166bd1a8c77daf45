"""The fast formatter: its output is byte-identical to Black on the whole module, and Black-stable."""

import textwrap

import pytest

import corpus
import corpus_arrays
import flatgen
from conftest import ROOT
from flatgen.config import load_config
from flatgen.format import assemble, format_source
from flatgen.parse import load_target
from flatgen.pipeline import generate
from test_primitives import ARRAY, SCALAR


def assert_black_identical(g):
    fast = g.source
    assert fast == format_source(assemble(g.rendered.skeleton, g.rendered.bodies)), "fast path differs from Black on the whole module"
    assert format_source(fast) == fast, "Black would change the output"


def test_configured_examples(monkeypatch):
    monkeypatch.chdir(ROOT)
    for job in load_config().jobs:
        assert_black_identical(generate(*load_target(job.target), job.options))


@pytest.mark.parametrize("name", sorted(SCALAR))
def test_scalar_corpus(name):
    assert_black_identical(flatgen.flat(getattr(corpus, f"p_{name}")).generated)


@pytest.mark.parametrize("name", sorted(ARRAY))
def test_array_corpus(name):
    f = flatgen.flat(getattr(corpus_arrays, f"a_{name}"), example=ARRAY[name][0])
    assert_black_identical(f.generated)


LONG = textwrap.dedent("""
    import numpy as np
    from flatgen import sigmoid


    def long_names(a_rather_long_parameter_name, another_quite_long_parameter_name, third):
        a_very_long_intermediate_value_name = a_rather_long_parameter_name * another_quite_long_parameter_name
        for k in range(3):
            a_very_long_intermediate_value_name = np.maximum(a_very_long_intermediate_value_name, third) ** 2 + sigmoid(third * a_rather_long_parameter_name - another_quite_long_parameter_name / third)
        q = (-2.0) ** a_rather_long_parameter_name + a_rather_long_parameter_name ** -1.5 + abs(third) ** 0.5
        return a_very_long_intermediate_value_name * q + q * q
    """)


def test_long_lines_and_powers(tmp_path):
    path = tmp_path / "long_mod.py"
    path.write_text(LONG)
    g = generate(*load_target(f"{path}:long_names"))
    assert_black_identical(g)
    assert any(len(line) > 88 for line in assemble(g.rendered.skeleton, g.rendered.bodies).splitlines() if not line.lstrip().startswith("#"))


@pytest.mark.parametrize("start", range(0, 200, 40))
def test_fuzzed_programs(tmp_path, start):
    """Random programs of the fuzzer (tests/fuzzgen.py), every style and mode it picks."""
    import fuzzgen
    from flatgen.pipeline import Options

    for seed in range(start, start + 40):
        program = fuzzgen.generate(seed)
        path = tmp_path / f"fuzz_{seed}.py"
        path.write_text(program.source)
        options = Options(wrt=program.wrt, style=program.style, math=program.math)
        assert_black_identical(generate(*load_target(f"{path}:f"), options))


def test_a_body_of_comments_only_leaves_no_indented_blank_line():
    """format_module joins a body in one piece when Black would change none of its lines; a body whose
    entries are all comments is empty in the comment-free copy, as the line-by-line path leaves it."""
    from flatgen.format import format_module

    skeleton = "def f(x):\n    # flatgen-body-0\n    return x\n"
    text, plain = format_module(skeleton, [["# a", "# b"]], skeleton)
    assert text == "def f(x):\n    # a\n    # b\n    return x\n"
    assert plain == "def f(x):\n\n    return x\n"
