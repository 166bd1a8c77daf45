"""Interpreter: evaluate a graph directly; the numerical reference for generated code.

`run` evaluates any graph (forward or gradient) equation by equation.  `value_and_grad` is a
separate, micrograd-style reverse sweep over the forward graph that applies the table's rules
itself, and sums broadcast gradients back by the run-time shapes of the values, so it checks the
reverse transform, its trace-time shapes and the renderer rather than repeating them.
"""

from __future__ import annotations

import numpy as np

from .errors import UsageError
from .graph import Graph, Lit, Var
from .primitives import SEED, SUPPORT_FUNCTIONS, ZEROS

unbroadcast = SUPPORT_FUNCTIONS["unbroadcast"]


def run(graph: Graph, args) -> dict[Var, object]:
    if len(args) != len(graph.params):
        raise UsageError(f"{graph.name}() takes {len(graph.params)} argument(s), got {len(args)}")
    env: dict[Var, object] = dict(zip(graph.params, args))
    val = lambda a: a.value if isinstance(a, Lit) else env[a]  # noqa: E731
    for e in graph.eqns:
        env[e.out] = e.op(*(val(a) for a in e.ins), math_mode=graph.math, **e.params)
    return env


def evaluate(graph: Graph, args) -> list:
    """The graph's outputs for `args`."""
    env = run(graph, args)
    return [o.value if isinstance(o, Lit) else env[o] for o in graph.outs]


def value_and_grad(graph: Graph, args, wrt: list[Var]):
    """(value, tuple of gradients) of the forward graph's first output, by reverse accumulation."""
    env = run(graph, args)
    val = lambda a: a.value if isinstance(a, Lit) else env[a]  # noqa: E731
    out = graph.outs[0]
    grads: dict[Var, object] = {}
    if isinstance(out, Var):
        grads[out] = SEED()
    for e in reversed(graph.eqns):
        if e.out not in grads:
            continue
        slots = {"g": grads[e.out], "out": env[e.out], **{s: val(a) for s, a in zip(e.op.template(graph.math).slots, e.ins)}}
        for rule, x in zip(e.op.rules, e.ins):
            if rule is None or not isinstance(x, Var):
                continue
            d = rule(*(slots[s] for s in rule.template(graph.math).slots), math_mode=graph.math, **e.params)
            if e.op.elementwise and np.shape(d) != np.shape(env[x]):
                d = unbroadcast(d, np.shape(env[x]))
            grads[x] = grads[x] + d if x in grads else d
    return val(out), tuple(grads[p] if p in grads else ZEROS(env[p], math_mode=graph.math) for p in wrt)
