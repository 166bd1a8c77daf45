"""Naming: the names of one loop per role (the fast path, for long functions) are those of the one
loop over every variable, for every committed example in both styles, with the value function's graph
shared (the pipeline) or simplified apart (explain and circuit build a renderer on the traced graph)."""

from __future__ import annotations

import pytest

from conftest import ROOT
from flatgen import naming
from flatgen.parse import load_target
from flatgen.pipeline import Options, generate
from flatgen.render import Renderer
from flatgen.simplify import simplify
from test_committed_numerics import TARGETS

CASES = [(m, style) for m in sorted(TARGETS) if not TARGETS[m].get("form") for style in ("lecture", "compact")]


def names(renderer: Renderer) -> dict:
    return {id(v): name for v, name in renderer.names.names.items()}


@pytest.mark.parametrize("module, style", CASES, ids=[f"{m}-{s}" for m, s in CASES])
def test_one_loop_per_role_names_as_one_loop(module, style, monkeypatch):
    target = TARGETS[module]
    shapes = tuple((k, tuple(v)) for k, v in target.get("shapes", {}).items()) or None
    options = Options(style=style, shapes=shapes, wrt=tuple(target["wrt"]) if target.get("wrt") else None,
                      **({"unroll": target["unroll"]} if "unroll" in target else {}))
    g = generate(*load_target(f"{ROOT / target['file']}:{target['function']}"), options)
    for forward in (simplify(g.graph, style), g.graph):
        fast = names(Renderer(forward, g.grad_graph))
        monkeypatch.setattr(naming, "ONE_LOOP_PER_ROLE", False)
        slow = names(Renderer(forward, g.grad_graph))
        monkeypatch.setattr(naming, "ONE_LOOP_PER_ROLE", True)
        assert fast == slow


def test_the_example_that_needs_the_one_loop(tmp_path):
    """A gradient that comes before the value it is of (compact style simplified `x * 1` away from the
    gradient graph; the traced graph, `extra`, still has it): the same names either way."""
    path = tmp_path / "m1.py"
    path.write_text("import math\n\n\ndef f(x):\n    return math.sin(x * 1)\n")
    g = generate(*load_target(f"{path}:f"), Options(style="compact"))
    renderer = Renderer(g.graph, g.grad_graph)
    assert sorted(renderer.names.names.values()) == ["f", "grad_out", "grad_x", "t1", "x"]
