"""Interpreter: evaluate a graph directly; the numerical reference for generated code.

`run` evaluates any graph (forward or gradient) equation by equation.  `value_and_grad` is a
separate, micrograd-style reverse sweep over the forward graph that applies the table's rules
itself, and sums broadcast gradients back by the run-time shapes of the values, so it checks the
reverse transform, its trace-time shapes and the renderer rather than repeating them.
"""

from __future__ import annotations

import numpy as np

from .errors import UsageError
from .graph import Eqn, Graph, Lit, Var, is_loop, runs
from .expr import SUPPORT_FUNCTIONS
from .primitives import SEED, ZEROS

unbroadcast = SUPPORT_FUNCTIONS["unbroadcast"]


def default_seed(n: int) -> tuple:
    """The upstream gradients of several outputs, by default: the first output's gradient."""
    return (1.0,) + (0.0,) * (n - 1)


def run(graph: Graph, args, seed=None, on_eqn=None) -> dict[Var, object]:
    """Evaluate every equation of `graph`; `on_eqn(e, inputs, output)` is called after each one that ran
    (with the values it read: a loop's equation may overwrite one of its own inputs)."""
    if len(args) != len(graph.params):
        raise UsageError(f"{graph.name}() takes {len(graph.params)} argument(s), got {len(args)}")
    env: dict[Var, object] = dict(zip(graph.params, args))
    if graph.seed is not None:  # (one output's seed is its upstream gradient itself)
        env[graph.seed] = (1.0 if graph.n_values == 1 else default_seed(graph.n_values)) if seed is None else seed
    execute(graph.eqns, env, 0, graph.math, on_eqn)
    return env


def execute(eqns: list[Eqn], env: dict, depth: int, math_mode: bool, on_eqn=None) -> None:
    """Run `eqns`, all under the same frames up to `depth`: a run of equations with a deeper frame is
    a branch (run when its condition holds) or a loop body (run once per iteration)."""
    val = lambda a: a.value if isinstance(a, Lit) else env[a]  # noqa: E731
    for frame, i, j in runs(eqns, depth):
        if frame is None:
            e = eqns[i]
            values = [val(a) for a in e.ins]
            env[e.out] = e.op(*values, math_mode=math_mode, **e.params)
            if on_eqn is not None:
                on_eqn(e, values, env[e.out])
            continue
        body = eqns[i:j]
        if not is_loop(frame):
            if bool(env[frame.cond]) == frame.want:
                execute(body, env, depth + 1, math_mode, on_eqn)
        elif frame.kind == "while":
            while True:
                execute(frame.head, env, 0, math_mode, on_eqn)  # the condition: never differentiated
                if not env[frame.cond]:
                    break
                execute(body, env, depth + 1, math_mode, on_eqn)
        else:
            steps = range(*(int(val(b)) for b in frame.bounds))
            for k in reversed(steps) if frame.reverse else steps:
                if frame.index is not None:
                    env[frame.index] = k
                execute(body, env, depth + 1, math_mode, on_eqn)


def evaluate(graph: Graph, args, seed=None) -> list:
    """The graph's outputs for `args`."""
    env = run(graph, args, seed)
    return [o.value if isinstance(o, Lit) else env[o] for o in graph.outs]


def value_and_grad(graph: Graph, args, wrt: list[Var], seed=None):
    """(value, tuple of gradients) by reverse accumulation; with several outputs, (values, gradients)
    of their sum weighted by `seed` (default: the first output's gradient).

    The forward run records every equation that ran, with the values it read and made (a loop's body
    once per iteration); the reverse sweep walks that record backwards.  Each run of an equation is
    its own value, so a variable a loop updates needs no special care here.
    """
    record = []  # (equation, its slot values, the instances it read, its own instance)
    version: dict[Var, int] = {p: k for k, p in enumerate(graph.params)}

    def on_eqn(e, values, out):
        template = e.op.template(graph.math)
        ins = tuple(version.get(a) if isinstance(a, Var) else None for a in e.ins)
        version[e.out] = len(graph.params) + len(record)
        record.append((e, {**dict(zip(template.slots, values)), "out": out}, values, ins, version[e.out]))

    env = run(graph, args, on_eqn=on_eqn)
    outs = graph.outs
    if len(outs) == 1:  # one output: `seed` is its upstream gradient (an array output's dout), else 1.0
        seeds = (SEED() if seed is None else seed,)
    else:
        seeds = default_seed(len(outs)) if seed is None else seed
    if len(seeds) != len(outs):
        raise UsageError(f"{graph.name}() has {len(outs)} outputs; seed= gives {len(seeds)} upstream gradients")
    grads: dict[int, object] = {}
    for out, s in zip(outs, seeds):
        if isinstance(out, Var):
            k = version[out]
            grads[k] = grads[k] + s if k in grads else s
    for e, slots, values, ins, k in reversed(record):
        if k not in grads:
            continue
        slots = {**slots, "g": grads[k]}
        for rule, x, xk, value in zip(e.op.rules, e.ins, ins, values):
            if rule is None or not isinstance(x, Var) or xk is None:
                continue
            d = rule(*(slots[s] for s in rule.template(graph.math).slots), math_mode=graph.math, **e.params)
            shape = np.shape(value)
            if e.op.elementwise and np.shape(d) != shape:
                d = unbroadcast(d, shape)
            grads[xk] = grads[xk] + d if xk in grads else d
    val = lambda a: a.value if isinstance(a, Lit) else env[a]  # noqa: E731
    value = val(outs[0]) if len(outs) == 1 else tuple(val(o) for o in outs)
    return value, tuple(grads[k] if (k := version[p]) in grads else ZEROS(env[p], math_mode=graph.math) for p in wrt)
