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


def default_seed(n: int) -> tuple:
    """The upstream gradients of several outputs, by default: the first output's gradient."""
    return (1.0,) + (0.0,) * (n - 1)


def run(graph: Graph, args, seed=None) -> dict[Var, object]:
    if len(args) != len(graph.params):
        raise UsageError(f"{graph.name}() takes {len(graph.params)} argument(s), got {len(args)}")
    env: dict[Var, object] = dict(zip(graph.params, args))
    if graph.seed is not None:
        env[graph.seed] = default_seed(graph.n_values) if seed is None else seed
    val = lambda a: a.value if isinstance(a, Lit) else env[a]  # noqa: E731
    for e in graph.eqns:
        if runs(e, env):
            env[e.out] = e.op(*(val(a) for a in e.ins), math_mode=graph.math, **e.params)
    return env


def runs(e, env) -> bool:
    """Do the conditions of `e`'s branches hold?  (Outermost first: an inner condition exists only
    when the outer one held.)"""
    return all(bool(env[c]) == want for c, want in e.branch)


def evaluate(graph: Graph, args, seed=None) -> list:
    """The graph's outputs for `args`."""
    env = run(graph, args, seed)
    return [o.value if isinstance(o, Lit) else env[o] for o in graph.outs]


def value_and_grad(graph: Graph, args, wrt: list[Var], seed=None):
    """(value, tuple of gradients) by reverse accumulation; with several outputs, (values, gradients)
    of their sum weighted by `seed` (default: the first output's gradient)."""
    env = run(graph, args)
    val = lambda a: a.value if isinstance(a, Lit) else env[a]  # noqa: E731
    outs = graph.outs
    seeds = (SEED(),) if len(outs) == 1 else (default_seed(len(outs)) if seed is None else seed)
    if len(seeds) != len(outs):
        raise UsageError(f"{graph.name}() has {len(outs)} outputs; seed= gives {len(seeds)} upstream gradients")
    grads: dict[Var, object] = {}
    for out, s in zip(outs, seeds):
        if isinstance(out, Var):
            grads[out] = grads[out] + s if out in grads else s
    for e in reversed(graph.eqns):
        if e.out not in grads or not runs(e, env):
            continue
        slots = {"g": grads[e.out], "out": env[e.out], **{s: val(a) for s, a in zip(e.op.template(graph.math).slots, e.ins)}}
        for rule, x in zip(e.op.rules, e.ins):
            if rule is None or not isinstance(x, Var):
                continue
            d = rule(*(slots[s] for s in rule.template(graph.math).slots), math_mode=graph.math, **e.params)
            if e.op.elementwise and np.shape(d) != np.shape(env[x]):
                d = unbroadcast(d, np.shape(env[x]))
            grads[x] = grads[x] + d if x in grads else d
    value = val(outs[0]) if len(outs) == 1 else tuple(val(o) for o in outs)
    return value, tuple(grads[p] if p in grads else ZEROS(env[p], math_mode=graph.math) for p in wrt)
