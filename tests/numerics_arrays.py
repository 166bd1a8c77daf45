"""The numerical check for functions that take data besides floats (integer labels, index arrays,
masks): generated == interpreter == central differences, with the arguments exactly as given.

numerics.assert_agree makes every argument a float64 array; here integer and boolean arrays stay what
they are (flatgen reads them as indices, never differentiates them), and the generated module and the
interpreter are called directly, as a user's program calls the module.  Differences are taken in
float64 on the parameters flatgen differentiates.
"""

from __future__ import annotations

import numpy as np

import flatgen
from flatgen import interpret
from numerics import finite_differences


def agree(fn, args, rtol=1e-5, atol=1e-7, fd=True, **options):
    """(f, value, grads): the module specialised to `args` (example=), checked three ways."""
    f = flatgen.flat(fn, example=args, **options)
    g = f.generated
    module = f.module
    value, grads = getattr(module, f"{g.graph.name}_value_and_grad")(*args)
    forward = getattr(module, g.graph.name)(*args)
    ref_value, ref_grads = interpret.value_and_grad(g.graph, args, g.wrt)
    assert np.array_equal(value, ref_value), (value, ref_value)
    assert np.array_equal(forward, ref_value), (forward, ref_value)
    wrt = [i for i, p in enumerate(g.graph.params) if p in g.wrt]
    assert len(grads) == len(ref_grads) == len(wrt)
    for k, (got, ref) in enumerate(zip(grads, ref_grads)):
        assert np.shape(got) == np.shape(args[wrt[k]]), f"gradient {k} has shape {np.shape(got)}"
        scale = float(np.max(np.abs(ref))) if np.size(ref) else 0.0
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * scale + 1e-300,
                                   err_msg=f"gradient {k}: generated vs interpreter")
    if fd:
        numeric = finite_differences(fn, args, wrt)
        for k, (got, n) in enumerate(zip(grads, numeric)):
            np.testing.assert_allclose(got, n, rtol=rtol, atol=atol, err_msg=f"gradient {k} vs finite differences")
    return f, value, grads


def ops(f) -> set:
    """The rows a function traced to (factory rows by their name: take, array, stack, ...)."""
    return {e.op.name for e in f.graph.eqns}
