"""The numerical check every test uses: generated == interpreter == central finite differences."""

from __future__ import annotations

import numpy as np

EPS = 1e-6


def finite_differences(fn, args, wrt_index):
    """Central differences in float64, step EPS scaled by each argument's size."""
    grads = []
    for i in wrt_index:
        x = float(args[i])
        h = EPS * max(1.0, abs(x))
        up = list(args)
        down = list(args)
        up[i] = x + h
        down[i] = x - h
        grads.append((float(fn(*up)) - float(fn(*down))) / (2 * h))
    return grads


def assert_agree(flat_fn, args, wrt_index=None, fd=True, rtol=1e-5, atol=1e-7):
    """Generated forward == interpreter bit for bit; gradients to 1e-12 relative; both == FD."""
    args = tuple(float(a) for a in args)
    wrt_index = list(range(len(args))) if wrt_index is None else wrt_index
    value, grads = flat_fn.value_and_grad(*args)
    ref_value, ref_grads = flat_fn.interpret(*args)
    forward_only = getattr(flat_fn.module, flat_fn.__name__)(*args)
    assert np.array_equal(value, ref_value), (value, ref_value)
    assert np.array_equal(forward_only, ref_value), (forward_only, ref_value)
    assert len(grads) == len(ref_grads) == len(wrt_index)
    for g, r in zip(grads, ref_grads):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=0)
    if fd:
        numeric = finite_differences(flat_fn.fn, args, wrt_index)
        for k, (g, n) in enumerate(zip(grads, numeric)):
            np.testing.assert_allclose(g, n, rtol=rtol, atol=atol, err_msg=f"gradient {k} vs finite differences")
    return value, grads
