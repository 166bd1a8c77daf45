"""The decorator's forward-mode and second-order methods: `jvp`, `hvp`, `hessian`, `jacobian`.

Each runs the generated module's function (`<name>_jvp`, `<name>_hvp`, `<name>_value_and_grad`), made
on first use for the shapes of the call, as `value_and_grad` does (flatgen/api.py).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .errors import UsageError
from .hvp import HESSIAN_LIMIT, hessian, split


def _generated(flat, args, mode: str):
    """(args checked, the Generated of these shapes with the `mode` function in its module, its function)."""
    name = flat.fn.__name__
    if any(isinstance(a, dict) for a in args):
        raise UsageError(f"{name}.{mode}() takes numbers and arrays, not dicts", hint=f"use {name}.value_and_grad")
    args, g = flat._prepare(args)
    if getattr(g.graph, "structure", None) is not None:
        raise UsageError(f"{name}.{mode}() returns flat outputs: {name}() returns lists",
                         hint="return a tuple of arrays")
    g = flat._of_form(g, "value_and_grad")
    forms = flat.__dict__.setdefault("_tangent_forms", {})
    with flat._lock:
        if (g, mode) not in forms:
            from .pipeline import generate

            forms[(g, mode)] = generate(flat._src, flat._node, replace(g.options, **{mode: True}))
        made = forms[(g, mode)]
    return args, made, getattr(flat._module_of(made), f"{made.graph.name}_{mode}")


def _blocks(name: str, what: str, given, wrt: list, keyword: str) -> tuple:
    """One block per differentiated parameter, of its shape (a number for a scalar)."""
    hint = f"{keyword}=({', '.join('...' for _ in wrt)}): one per parameter of ({', '.join(p.hint for p in wrt)})"
    if not isinstance(given, (tuple, list)) or len(given) != len(wrt):
        raise UsageError(f"{name}() differentiates {len(wrt)} parameter(s); {keyword}= must give one {what} each, "
                         f"got {given!r:.80}", hint=hint)
    out = []
    for p, t in zip(wrt, given):
        try:
            a = np.asarray(t, dtype=np.float64)
        except (TypeError, ValueError):
            raise UsageError(f"the {what} of {p.hint} must be a number or an array of numbers", hint=hint) from None
        if p.shape is not None and a.shape != p.shape:
            raise UsageError(f"the {what} of {p.hint} has shape {a.shape}, the parameter {p.shape}", hint=hint)
        out.append(float(a) if a.shape == () and not isinstance(t, np.ndarray) else a)
    return tuple(out)


def jvp(flat, args, tangents):
    """(value, tangent) from the generated <name>_jvp."""
    args, g, fn = _generated(flat, args, "jvp")
    tangents = _blocks(flat.fn.__name__, "tangent", tangents, g.wrt, "tangents")
    return fn(*args, *tangents)


def hvp(flat, args, vectors):
    """The Hessian times `vectors` (a block per parameter), from the generated <name>_hvp."""
    args, g, fn = _generated(flat, args, "hvp")
    vectors = _blocks(flat.fn.__name__, "vector", vectors, g.wrt, "vectors")
    return fn(*args, *vectors)


def dense_hessian(flat, args, limit=HESSIAN_LIMIT):
    args, g, fn = _generated(flat, args, "hvp")
    return hessian(lambda v: fn(*args, *v), [p.shape for p in g.wrt], limit)


def jacobian(flat, args):
    """The Jacobian of the (flattened) outputs with respect to the flattened parameters (in wrt order):
    an (m, n) matrix.  Forward mode (n JVPs) when n <= m, else reverse mode (m VJPs)."""
    args, g, fn = _generated(flat, args, "jvp")
    sizes = [p.shape for p in g.wrt]
    n = sum(int(np.prod(s)) for s in sizes)
    value = fn(*args, *(0.0 if s == () else np.zeros(s) for s in sizes))[0]
    several = len(g.graph.outs) > 1
    outs = list(value) if several else [value]
    m = sum(np.size(o) for o in outs)
    J = np.zeros((m, n))
    if n <= m:  # forward mode: a column per input direction
        for k in range(n):
            unit = np.zeros(n)
            unit[k] = 1.0
            dot = fn(*args, *split(unit, sizes))[1]
            J[:, k] = np.concatenate([np.ravel(d) for d in (dot if several else (dot,))])
        return J
    shapes = [np.shape(o) for o in outs]
    for k in range(m):  # reverse mode: a row per output element
        unit = np.zeros(m)
        unit[k] = 1.0
        seeds = split(unit, shapes)
        seed = seeds if several else seeds[0]
        grads = flat.value_and_grad(*args, seed=None if m == 1 and not several else seed)[1]
        J[k] = np.concatenate([np.ravel(d) for d in grads])
    return J
