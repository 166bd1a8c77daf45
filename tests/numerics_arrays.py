"""The numerical check for functions that take data besides floats (integer labels, index arrays,
masks): generated == interpreter == central differences, with the arguments exactly as given.

numerics.assert_agree makes every argument a float64 array; here integer and boolean arrays stay what
they are (flatgen reads them as indices, never differentiates them), and the generated module and the
interpreter are called directly, as a user's program calls the module.  Differences are taken in
float64 on the parameters flatgen differentiates.
"""

from __future__ import annotations

import numpy as np

from flatgen.trace.dicts import is_setting

import flatgen
from flatgen import interpret
from numerics import finite_differences


def agree(fn, args, rtol=1e-5, atol=1e-7, fd=True, **options):
    """(f, value, grads): the module specialised to `args` (example=), checked three ways.  A function
    whose output is an array (a layer), or that has several outputs, is checked through random upstream
    gradients `seed` (the gradients of sum(seed * out), over the outputs).  A dict argument (the
    course's `params`) is one parameter per key, as the module takes it."""
    f = flatgen.flat(fn, example=args, **options)
    g = f.generated
    module = f.module
    flat, rebuild = _flatten(args)
    outs = g.graph.outs
    seed = None
    if len(outs) > 1 or outs[0].shape not in ((), None):
        draw = np.random.default_rng(len(outs))
        seeds = tuple(draw.uniform(-1.0, 1.0, o.shape) if o.shape else float(draw.uniform(-1.0, 1.0)) for o in outs)
        seed = seeds if len(outs) > 1 else seeds[0]
    value, grads = getattr(module, f"{g.graph.name}_value_and_grad")(*flat, *(() if seed is None else (seed,)))
    forward = getattr(module, g.graph.name)(*flat)
    ref_value, ref_grads = interpret.value_and_grad(g.graph, flat, g.wrt, seed)
    assert _equal(value, ref_value), (value, ref_value)
    assert _equal(forward, ref_value), (forward, ref_value)
    wrt = [i for i, p in enumerate(g.graph.params) if p in g.wrt]
    assert len(grads) == len(ref_grads) == len(wrt)
    for k, (got, ref) in enumerate(zip(grads, ref_grads)):
        assert np.shape(got) == np.shape(flat[wrt[k]]), f"gradient {k} has shape {np.shape(got)}"
        scale = float(np.max(np.abs(ref))) if np.size(ref) else 0.0
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * scale + 1e-300,
                                   err_msg=f"gradient {k}: generated vs interpreter")
    if fd:
        def scalar(*flat_args):
            out = fn(*rebuild(flat_args))
            if seed is None:
                return out
            outs_now = _leaves(out)
            return sum(np.sum(np.asarray(w) * np.asarray(o)) for w, o in zip(seed if len(outs) > 1 else (seed,),
                                                                              outs_now))
        numeric = finite_differences(scalar, flat, wrt)
        for k, (got, n) in enumerate(zip(grads, numeric)):
            np.testing.assert_allclose(got, n, rtol=rtol, atol=atol, err_msg=f"gradient {k} vs finite differences")
    return f, value, grads


def _flatten(args):
    """The arguments as the module takes them (a dict: its values, in order, but its settings: ints, bools and
    strings are constants of the module, flatgen/trace/dicts.py) and the way back."""
    flat, dicts = [], []
    for a in args:
        if isinstance(a, dict):
            dicts.append(a)
            flat.extend(v for v in a.values() if not is_setting(v))
        else:
            dicts.append(None)
            flat.append(a)

    def rebuild(values):
        it = iter(values)
        return [{k: v if is_setting(v) else next(it) for k, v in d.items()} if d is not None else next(it)
                for d in dicts]

    return tuple(flat), rebuild


def _leaves(out):
    """A function's outputs, flat (`return out, (x, w, b)`: the module returns them flat)."""
    if isinstance(out, (tuple, list)):
        return [leaf for o in out for leaf in _leaves(o)]
    return [out]


def _equal(a, b) -> bool:
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return np.array_equal(a, b)


def ops(f) -> set:
    """The rows a function traced to (factory rows by their name: take, array, stack, ...)."""
    return {e.op.name for e in f.graph.eqns}
