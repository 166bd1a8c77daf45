"""The numerical check every test uses: generated == interpreter == central finite differences."""

from __future__ import annotations

import numpy as np

EPS = 1e-6


def as_args(args, ints=()):
    """Python floats stay floats; everything else becomes a float64 array; positions in `ints` (loop
    counts) stay Python ints."""
    return tuple(int(a) if k in ints else float(a) if np.ndim(a) == 0 else np.array(a, dtype=np.float64)
                 for k, a in enumerate(args))


def finite_differences(fn, args, wrt_index):
    """Central differences in float64, per element, step EPS scaled by each element's size."""
    grads = []
    for i in wrt_index:
        x = np.array(args[i], dtype=np.float64)
        g = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            h = EPS * max(1.0, abs(x[idx]))
            up, down = x.copy(), x.copy()
            up[idx] += h
            down[idx] -= h
            a_up, a_down = list(args), list(args)
            a_up[i] = up if x.ndim else float(up)
            a_down[i] = down if x.ndim else float(down)
            g[idx] = (float(fn(*a_up)) - float(fn(*a_down))) / (up[idx] - down[idx])
        grads.append(g)
    return grads


def assert_agree(flat_fn, args, wrt_index=None, fd=True, rtol=1e-5, atol=1e-7, ints=()):
    """Generated forward == interpreter bit for bit; gradients to 1e-12 relative; both == FD.
    `ints`: positions of integer parameters (loop counts), passed as ints and never differentiated."""
    args = as_args(args, ints)
    wrt_index = [k for k in range(len(args)) if k not in ints] if wrt_index is None else wrt_index
    value, grads = flat_fn.value_and_grad(*args)
    ref_value, ref_grads = flat_fn.interpret(*args)
    forward_only = getattr(flat_fn.module, flat_fn.__name__)(*args)
    assert np.array_equal(value, ref_value), (value, ref_value)
    assert np.array_equal(forward_only, ref_value), (forward_only, ref_value)
    assert len(grads) == len(ref_grads) == len(wrt_index)
    for k, (g, r) in enumerate(zip(grads, ref_grads)):
        assert np.shape(g) == np.shape(args[wrt_index[k]]), f"gradient {k} has shape {np.shape(g)}"
        scale = float(np.max(np.abs(r))) if np.size(r) else 0.0
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12 * scale + 1e-300,
                                   err_msg=f"gradient {k}: generated vs interpreter")
    if fd:
        numeric = finite_differences(flat_fn.fn, args, wrt_index)
        for k, (g, n) in enumerate(zip(grads, numeric)):
            np.testing.assert_allclose(g, n, rtol=rtol, atol=atol, err_msg=f"gradient {k} vs finite differences")
    return value, grads


# -- the fuzzers' finite-difference verdicts --------------------------------------------------------------

FD_FRACTION = 0.1  # a tolerance may never exceed this fraction of the difference it checks


def fd_verdict(fd: float, fine: float, atol: float, rtol: float) -> str:
    """How one gradient entry is checked against central differences `fd` (step h) and `fine` (h / 10),
    with tolerance atol + rtol * |fd|:

    "steep":   the two steps disagree (by more than a tenth of the tolerance; nan too): no reference;
    "zero":    both differences are exactly 0 (the function is constant along the entry): the
               gradient must be within atol of 0, an absolute check (no fraction of 0 exists);
    "loose":   the tolerance would exceed FD_FRACTION of |fd| (rounding in large intermediates, or an
               entry tiny next to the largest difference): not checked, counted, never passed;
    "checked": |g - fd| <= atol + rtol * |fd|, a tolerance of at most FD_FRACTION * |fd|.
    """
    tol = atol + rtol * abs(fd)
    if not abs(fd - fine) <= 0.1 * tol:
        return "steep"
    if fd == 0.0 and fine == 0.0:
        return "zero"
    if tol > FD_FRACTION * abs(fd):
        return "loose"
    return "checked"


def nonzero_entries(grads) -> tuple[int, int]:
    """(non-zero entries, entries) of a tuple of gradients."""
    flat = [np.ravel(np.asarray(g, dtype=np.float64)) for g in grads]
    return sum(int(np.count_nonzero(f)) for f in flat), sum(f.size for f in flat)
