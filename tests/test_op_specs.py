"""Every operation that can appear in a gradient graph, checked numerically on its own.

tests/test_primitives.py checks the table's primitives through whole programs (generated ==
interpreter == finite differences).  The interpreter evaluates the same rule templates the renderer
prints, so it is no independent reference for a rule: only finite differences are.  Here each op is
evaluated directly (`Op.__call__`, the interpreter's own evaluation, numpy and math forms) and held
against central differences (float64, step 1e-6 * max(1, |x|)) of what it claims to compute:

- a forward primitive with rules (the table, copies, item assignment, run-time indexing): each rule,
  applied to a random upstream gradient g, is the vector-Jacobian product of the forward,
  d<g, forward(...)>/d input, summed back to the input's shape where numpy broadcast it; an input
  without a rule (a mask, an integer index, a constant's shape) moves nothing;
- the bookkeeping ops of the backward pass, each the vector-Jacobian product of the forward step it
  stands for: the seed (d out/d out; output k of several), accumulation (fan-out: x used twice),
  merges (a gradient leaving a branch or a loop iteration unchanged), zeros and zero-inits (an input
  the output ignores), sums back over broadcast axes (written out, or unbroadcast at run time),
  scatter-accumulation (x[idx] read twice), and the tapes of rolled loops (push then pop is the
  identity, last in first out, a copy when the loop writes into the array in place);
- integer bookkeeping (a while loop's iteration count) and the reverse transform's placeholder (never
  left in a gradient graph) by value.

Each spec returns the ops it checked; test_every_op_has_a_spec walks every Op object reachable from
flatgen's modules (module globals, the table, rules of rules, each scatter rule's accumulate op, the ops the run-time
index factories make) and fails for any op no spec checked, and for any op whose math-mode form
differs from its numpy form but was not checked in math mode.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil

import numpy as np
import pytest

import flatgen
import flatgen.primitives as P
from flatgen.primitives import Op

EPS = 1e-6
RTOL = 1e-6  # central differences of these smooth maps are good to ~1e-9: 1e-6 leaves room, and any real
ATOL = 1e-8  # error (a sign, a factor, a transpose) is far larger


_DATA = np.random.default_rng(0)  # sample points, drawn in the order this module asks for them
_RNG = np.random.default_rng(18)  # upstream gradients


def rand(*shape, low=-1.5, high=1.5):
    return _DATA.uniform(low, high, size=shape) if shape else float(_DATA.uniform(low, high))


def pos(*shape):
    return rand(*shape, low=0.3, high=2.0)


def upstream(shape, math_mode=False):
    """A random upstream gradient of `shape` (a Python float in math mode)."""
    if shape == ():
        v = float(_RNG.uniform(0.5, 1.5)) * (1 if _RNG.random() < 0.5 else -1)
        return v if math_mode else np.float64(v)
    return _RNG.uniform(-1.5, 1.5, size=shape)


def sum_to(d, shape):
    """Sum a broadcast contribution back to `shape` (written here, independently of flatgen's unbroadcast)."""
    d = np.asarray(d, dtype=np.float64)
    while d.ndim > len(shape):
        d = d.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and d.shape[axis] != 1:
            d = d.sum(axis=axis, keepdims=True)
    return d.reshape(shape)


def differentiable(x) -> bool:
    if isinstance(x, np.ndarray):  # an integer or boolean array is an index: data
        return x.dtype.kind not in "biu"
    return not isinstance(x, (bool, int, np.bool_, np.integer)) or isinstance(x, (float, np.floating))


def fd_vjp(fn, args, i, g, math_mode=False):
    """d/d args[i] of <g, fn(*args)> by central differences, element by element (float64)."""
    x = np.array(args[i], dtype=np.float64)
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        h = EPS * max(1.0, abs(float(x[idx])))
        up, down = x.copy(), x.copy()
        up[idx] += h
        down[idx] -= h
        a_up, a_down = list(args), list(args)
        a_up[i] = up if x.ndim else float(up)
        a_down[i] = down if x.ndim else float(down)
        f_up = np.sum(np.asarray(g, dtype=np.float64) * np.asarray(fn(*a_up), dtype=np.float64))
        f_down = np.sum(np.asarray(g, dtype=np.float64) * np.asarray(fn(*a_down), dtype=np.float64))
        out[idx] = (f_up - f_down) / (up[idx] - down[idx])
    return out


def close(got, want, what):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL * max(1.0, scale), err_msg=what)


# -- forward primitives: each rule against the vector-Jacobian product of the forward ---------------------


def check_rules(op: Op, ins, params=None, math_mode=False) -> set:
    """Every rule of `op` at `ins` against central differences; returns the ops checked (op and its rules)."""
    params = params or {}

    def forward(*xs):
        return op(*xs, math_mode=math_mode, **params)

    ins = list(ins)
    out = forward(*ins)
    g = upstream(np.shape(out), math_mode)
    slots = dict(zip(op.template(math_mode).slots, ins), g=g, out=out)
    checked = {(id(op), math_mode)}
    assert len(op.rules) == len(ins), f"{op.name}: {len(op.rules)} rules for {len(ins)} inputs"
    for i, (rule, x) in enumerate(zip(op.rules, ins)):
        what = f"{op.name}, input {i} ({'math' if math_mode else 'numpy'}), params {params}"
        if not differentiable(x):
            assert rule is None, f"{what}: a rule for an integer or boolean input"
            continue
        numeric = fd_vjp(forward, ins, i, g, math_mode)
        if rule is None:  # a mask, a constant: piecewise constant in this input
            assert np.all(numeric == 0), f"{what}: no rule, but the output moves with this input: {numeric}"
            continue
        d = rule(*(slots[s] for s in rule.template(math_mode).slots), math_mode=math_mode, **params)
        if math_mode:
            assert type(d) is float, f"{what}: math-mode rule gave {d!r} ({type(d).__name__}), not a float"
        if op.elementwise:
            d = sum_to(d, np.shape(x))
        close(d, numeric, f"{what}: rule {rule.expr.text!r} vs central differences")
        checked.add((id(rule), math_mode))
    return checked


T = P.TABLE
# primitive -> [(inputs, params)]: inside the domain, away from kinks and ties
TABLE_CASES: dict[str, list] = {
    "add": [((rand(3), rand(2, 3)), {}), ((0.7, rand(4, 1)), {})],
    "sub": [((rand(2, 3), rand(2, 1)), {}), ((rand(3), -0.4), {})],
    "mul": [((rand(2, 3), rand(3)), {}), ((0.7, rand(2, 2)), {})],
    "div": [((rand(2, 3), pos(3)), {}), ((1.3, pos(2, 2)), {})],
    "pow": [((pos(3), rand(3)), {}), ((pos(2, 2), 1.5), {}), ((1.7, rand(2)), {})],
    "neg": [((rand(2, 3),), {})],
    "exp": [((rand(4),), {})],
    "log": [((pos(2, 2),), {})],
    "sqrt": [((pos(3),), {})],
    "tanh": [((rand(3),), {})],
    "sin": [((rand(3),), {})],
    "cos": [((rand(2, 2),), {})],
    "abs": [((np.array([0.5, -1.0, 2.0]),), {})],
    "maximum": [((np.array([1.0, -1.0, 0.5]), np.array([0.0, 0.2, 0.7])), {}),
                ((np.array([[1.0, -1.0], [0.3, 2.0]]), 0.1), {})],
    "minimum": [((np.array([1.0, -1.0, 0.5]), np.array([0.0, 0.2, 0.7])), {}),
                ((np.array([[1.0, -1.0], [0.3, 2.0]]), 0.1), {})],
    # the builtins max(a, b), min(a, b): scalars only
    "max2": [((np.float64(1.0), np.float64(2.0)), {}), ((np.float64(3.0), np.float64(-1.0)), {})],
    "min2": [((np.float64(1.0), np.float64(2.0)), {}), ((np.float64(3.0), np.float64(-1.0)), {})],
    "sigmoid": [((rand(5) * 4,), {})],
    "where": [((rand(4) > 0, rand(4), rand(4)), {}), ((rand(2, 3) > 0, rand(3), 0.5), {})],
    "gt": [((rand(4), rand(4)), {})], "lt": [((rand(4), rand(4)), {})], "ge": [((rand(4), rand(4)), {})],
    "le": [((rand(4), rand(4)), {})], "eq": [((rand(4), rand(4)), {})], "ne": [((rand(4), rand(4)), {})],
    "matmul": [((rand(2, 3), rand(3, 4)), {})],
    "matmul_mv": [((rand(2, 3), rand(3)), {})],
    "matmul_vm": [((rand(3), rand(3, 2)), {})],
    "dot": [((rand(3), rand(3)), {})],
    "outer": [((rand(3), rand(2)), {})],
    "sum": [((rand(3, 2),), {"axis": None, "keepdims": False}), ((rand(3, 4),), {"axis": 1, "keepdims": True}),
            ((rand(2, 3, 4),), {"axis": (0, 2), "keepdims": True})],
    "sum_axis": [((rand(3, 4),), {"axis": 0, "keepdims": False}), ((rand(2, 3, 4),), {"axis": (0, 2), "keepdims": False}),
                 ((rand(2, 3),), {"axis": -1, "keepdims": False})],
    "mean": [((rand(2, 3),), {"axis": None, "keepdims": False}), ((rand(3, 4),), {"axis": 0, "keepdims": True})],
    "mean_axis": [((rand(4, 3),), {"axis": 1, "keepdims": False}), ((rand(2, 3, 4),), {"axis": (0, 1), "keepdims": False})],
    "max": [((rand(3, 2),), {"axis": None, "keepdims": False}), ((rand(3, 4),), {"axis": 1, "keepdims": True})],
    "max_axis": [((rand(2, 3),), {"axis": 0, "keepdims": False}), ((rand(2, 3, 4),), {"axis": (0, 2), "keepdims": False})],
    "min": [((rand(3, 2),), {"axis": None, "keepdims": False}), ((rand(3, 4),), {"axis": 0, "keepdims": True})],
    "min_axis": [((rand(2, 3),), {"axis": 1, "keepdims": False}), ((rand(2, 3, 4),), {"axis": (1, 2), "keepdims": False})],
    "T": [((rand(3, 2),), {})],
    "transpose": [((rand(2, 3, 4),), {"axes": (1, 2, 0), "inverse": (2, 0, 1)}),
                  ((rand(2, 3),), {"axes": None, "inverse": None})],
    "reshape": [((rand(6),), {"shape": (2, 3)}), ((rand(2, 3, 2),), {"shape": (3, 4)})],
    "expand_dims": [((rand(3),), {"axis": 0}), ((rand(2, 3),), {"axis": (0, 3)})],
    # the rows the lowering of rules to primitives needs (flatgen/lower.py)
    "broadcast_to": [((rand(3),), {"shape": (2, 3), "axes": (0,)}), ((rand(2, 1),), {"shape": (4, 2, 3), "axes": (0, 2)}),
                     ((rand(),), {"shape": (2, 2), "axes": (0, 1)})],
    "sign": [((np.array([-1.5, 0.3, 2.0]),), {})],
    "index": [((rand(5),), {"idx": 1}), ((rand(3, 4),), {"idx": (slice(None), 2)}),
              ((rand(5),), {"idx": slice(1, None)}), ((rand(5),), {"idx": slice(None, None, -2)}),
              ((rand(3, 4),), {"idx": (None, slice(None))}), ((rand(2, 3, 4),), {"idx": (Ellipsis, 0)}),
              ((rand(3, 4),), {"idx": (1, -1)})],
    "zeros_like": [((rand(3),), {})], "ones_like": [((rand(2, 2),), {})],
    "zeros": [((), {"shape": (2, 3)})], "ones": [((), {"shape": (3,)})],
}
# primitives that take scalars, checked again in math mode on Python floats
MATH_CASES: dict[str, list] = {
    "add": [(0.7, -1.3)], "sub": [(0.7, -1.3)], "mul": [(0.7, -1.3)], "div": [(0.7, -1.3)],
    "pow": [(1.7, 2.3), (0.4, -1.5)], "neg": [(0.4,)], "exp": [(0.3,)], "log": [(0.8,)], "sqrt": [(1.3,)],
    "tanh": [(0.3,)], "sin": [(0.3,)], "cos": [(0.3,)], "abs": [(0.3,), (-2.0,)], "sign": [(0.3,), (-2.0,)],
    "maximum": [(1.0, 2.0), (3.0, -1.0)], "minimum": [(1.0, 2.0), (3.0, -1.0)], "sigmoid": [(0.3,), (-4.0,)],
    "max2": [(1.0, 2.0), (3.0, -1.0)], "min2": [(1.0, 2.0), (3.0, -1.0)],
    "where": [(True, 0.5, -0.25), (False, 0.5, -0.25)],
    "gt": [(0.3, 0.4)], "lt": [(0.3, 0.4)], "ge": [(0.3, 0.4)], "le": [(0.3, 0.4)], "eq": [(0.3, 0.4)],
    "ne": [(0.3, 0.4)],
}


# numpy as people write it (flatgen/rows_numpy.py, flatgen/rows_linalg.py): each row at every shape its rule takes
def _matrix(n=3):
    """A well-conditioned matrix (inv, solve, det)."""
    return rand(n, n) + 3.0 * np.eye(n)


_NO_AXIS, _KEEP = {"axis": None, "keepdims": False}, {"keepdims": True}
TABLE_CASES |= {
    # elementwise, one input: inside each domain
    "tan": [((rand(3, low=-1.2, high=1.2),), {})],
    "arcsin": [((rand(2, 3, low=-0.9, high=0.9),), {})],
    "arccos": [((rand(3, low=-0.9, high=0.9),), {})],
    "arctan": [((rand(3),), {})],
    "sinh": [((rand(3),), {})], "cosh": [((rand(2, 2),), {})], "arcsinh": [((rand(3),), {})],
    "arccosh": [((rand(3, low=1.2, high=3.0),), {})],
    "arctanh": [((rand(3, low=-0.9, high=0.9),), {})],
    "log1p": [((rand(3, low=-0.6, high=2.0),), {})], "expm1": [((rand(3),), {})],
    "log2": [((pos(3),), {})], "log10": [((pos(2, 2),), {})], "exp2": [((rand(3),), {})],
    "square": [((rand(2, 3),), {})], "reciprocal": [((pos(3),), {}), ((-pos(2, 2),), {})],
    "float64": [((rand(2, 3),), {})],
    # elementwise, two and three inputs, broadcast
    "arctan2": [((rand(2, 3), rand(3)), {}), ((0.7, rand(2)), {})],
    "hypot": [((rand(2, 3), rand(3)), {}), ((rand(4, 1), -0.6), {})],
    "logaddexp": [((rand(3), rand(2, 3)), {}), ((rand(2), 0.4), {})],
    "clip": [((rand(6) * 2, -0.5, 0.8), {}), ((rand(2, 3) * 2, rand(3) - 1.6, rand(2, 1) + 1.6), {}),
             ((rand(4), 0.5, -0.5), {})],  # lo > hi: numpy gives hi everywhere
    # piecewise constant: no gradient
    "floor": [((rand(4) * 3,), {})], "ceil": [((rand(2, 2) * 3,), {})],
    "round": [((rand(4) * 3,), {"decimals": 0}), ((rand(3),), {"decimals": 1})],
    "argmax": [((rand(3, 4),), _NO_AXIS), ((rand(3, 4),), {"axis": 1, "keepdims": False}),
               ((rand(3, 4),), {"axis": 0, "keepdims": True})],
    "argmin": [((rand(3, 4),), _NO_AXIS), ((rand(2, 3),), {"axis": -1, "keepdims": False})],
    # reductions
    "var": [((rand(3, 4),), {**_NO_AXIS, "ddof": 0}), ((rand(3, 4),), {"axis": 1, **_KEEP, "ddof": 1}),
            ((rand(2, 3, 4),), {"axis": (0, 2), **_KEEP, "ddof": 0})],
    "var_axis": [((rand(3, 4),), {"axis": 0, "keepdims": False, "ddof": 0}),
                 ((rand(2, 3, 4),), {"axis": (0, 2), "keepdims": False, "ddof": 1})],
    "std": [((rand(3, 4),), {**_NO_AXIS, "ddof": 1}), ((rand(3, 4),), {"axis": 0, **_KEEP, "ddof": 0})],
    "std_axis": [((rand(3, 4),), {"axis": 1, "keepdims": False, "ddof": 0}),
                 ((rand(2, 3, 4),), {"axis": (1, 2), "keepdims": False, "ddof": 1})],
    # prod: a row with one zero (its gradient is the product of the others), one with two (all zero)
    "prod": [((rand(2, 3),), _NO_AXIS), ((np.array([1.3, 0.0, -0.8, 1.1]),), _NO_AXIS),
             ((np.array([[1.2, 0.0, -0.7], [0.5, 0.0, 0.0], [0.9, -1.1, 1.4]]),), {"axis": 1, **_KEEP})],
    "prod_axis": [((np.array([[1.2, 0.0, -0.7], [0.5, 0.0, 0.0]]),), {"axis": 0, "keepdims": False}),
                  ((rand(2, 3, 2),), {"axis": (0, 2), "keepdims": False})],
    "norm": [((rand(4),), _NO_AXIS), ((rand(2, 3),), _NO_AXIS), ((rand(3, 4),), {"axis": 1, **_KEEP}),
             ((rand(2, 3),), {"axis": None, **_KEEP})],
    "norm_axis": [((rand(3, 4),), {"axis": 0, "keepdims": False}),
                  ((rand(2, 3, 4),), {"axis": (1, 2), "keepdims": False})],
    "norm1": [((rand(4),), _NO_AXIS), ((rand(3, 4),), {"axis": 1, **_KEEP})],
    "norm1_axis": [((rand(3, 4),), {"axis": 0, "keepdims": False})],
    "norminf": [((rand(4),), _NO_AXIS), ((rand(3, 4),), {"axis": -1, **_KEEP})],
    "norminf_axis": [((rand(3, 4),), {"axis": 0, "keepdims": False})],
    "cumsum": [((rand(2, 3),), {"axis": None}), ((rand(4),), {"axis": None}), ((0.7,), {"axis": None})],
    "cumsum_axis": [((rand(2, 3),), {"axis": 1, "flip": (slice(None), slice(None, None, -1))}),
                    ((rand(3, 2),), {"axis": 0, "flip": slice(None, None, -1)}),
                    ((rand(2, 3, 2),), {"axis": -2, "flip": (slice(None), slice(None, None, -1))})],
    # products of stacks of matrices, every combination of ranks numpy's matmul takes
    "matmul_batch": [((rand(2, 3, 4), rand(2, 4, 2)), {"swap_a": (0, 2, 1), "swap_b": (0, 2, 1)}),
                     ((rand(2, 2, 2, 3), rand(2, 2, 3, 2)), {"swap_a": (0, 1, 3, 2), "swap_b": (0, 1, 3, 2)})],
    "matmul_bm": [((rand(2, 3, 4), rand(4, 5)), {"swap_a": (0, 2, 1), "lead": 0}),
                  ((rand(2, 2, 3, 4), rand(4, 2)), {"swap_a": (0, 1, 3, 2), "lead": (0, 1)})],
    "matmul_mb": [((rand(3, 4), rand(2, 4, 5)), {"swap_b": (0, 2, 1), "lead": 0})],
    "matmul_bv": [((rand(2, 3, 4), rand(4)), {"lead": (0, 1)}), ((rand(2, 2, 3, 4), rand(4)), {"lead": (0, 1, 2)})],
    "matmul_vb": [((rand(4), rand(2, 4, 5)), {"lead": (0, 2)}), ((rand(3), rand(2, 2, 3, 4)), {"lead": (0, 1, 3)})],
    "matmul_bcast": [((rand(2, 1, 3, 4), rand(3, 4, 2)),
                      {"swap_a": (0, 1, 3, 2), "swap_b": (0, 2, 1), "sum_a": (1,), "sum_b": (0,)}),
                     ((rand(1, 3, 2), rand(4, 2, 3)), {"swap_a": (0, 2, 1), "swap_b": (0, 2, 1), "sum_a": (0,),
                                                       "sum_b": ()})],
    "trace": [((rand(3, 3),), {"n": 3, "m": 3}), ((rand(2, 4),), {"n": 2, "m": 4})],
    "inv": [((_matrix(),), {})],
    "solve": [((_matrix(), rand(3)), {})], "solve_m": [((_matrix(), rand(3, 2)), {})],
    "det": [((_matrix(),), {}), ((-_matrix(2),), {})],
    "slogdet": [((_matrix(),), {}), ((np.array([[0.3, 2.0], [1.5, -0.4]]),), {})],  # det < 0 too
    "slogdet_sign": [((_matrix(),), {})],
}
MATH_NUMPY_CASES: dict[str, list] = {
    "tan": [(0.3,)], "arcsin": [(0.3,)], "arccos": [(-0.4,)], "arctan": [(1.3,)], "sinh": [(0.3,)],
    "cosh": [(-0.7,)], "arcsinh": [(0.6,)], "arccosh": [(1.7,)], "arctanh": [(0.3,)], "log1p": [(0.4,)],
    "expm1": [(0.3,)], "log2": [(1.3,)], "log10": [(0.7,)], "exp2": [(0.7,)], "square": [(-0.6,)],
    "reciprocal": [(0.8,)], "float64": [(0.7,)], "arctan2": [(0.5, -1.2), (-0.3, 0.8)],
    "hypot": [(0.5, -1.2)], "logaddexp": [(0.5, -1.2), (0.3, 0.3), (-2.0, 1.0)],
    "clip": [(0.3, -0.5, 0.8), (-0.9, -0.5, 0.8), (1.1, -0.5, 0.8), (0.2, 0.5, -0.5)],
    "floor": [(0.3,), (-1.7,)], "ceil": [(0.3,), (-1.7,)], "round": [(0.3,), (2.7,)],
}
MATH_CASES |= MATH_NUMPY_CASES

# Python's own arithmetic (flatgen/rows_python.py): // and % broadcast (away from their jumps, where a / b is
# a whole number); int() and float() take numbers
TABLE_CASES |= {
    "floordiv": [((rand(2, 3) * 3, pos(3)), {}), ((2.7, pos(2)), {})],
    "mod": [((np.array([[2.3, -1.1, 0.4], [3.3, -2.4, 1.7]]), np.array([0.7, 1.3, -0.9])), {}),
            ((np.array([2.3, -1.1]), 0.7), {})],
    "int": [((np.float64(2.7),), {}), ((np.float64(-1.3),), {})],
    "float": [((np.float64(0.7),), {})],
}
MATH_CASES |= {"floordiv": [(2.7, 0.8), (-2.7, 0.8)], "mod": [(2.3, 0.7), (-1.1, 0.7), (1.1, -0.7)],
               "int": [(2.7,), (-1.3,)], "float": [(0.7,)]}

# making arrays (flatgen/rows_arrays.py): laid out again, padded, copied, cast; constants (no inputs)
TABLE_CASES |= {
    "atleast_1d": [((0.7,), {}), ((rand(3),), {})],
    "atleast_2d": [((0.7,), {}), ((rand(3),), {}), ((rand(2, 3),), {})],
    "atleast_3d": [((0.7,), {}), ((rand(3),), {}), ((rand(2, 3),), {}), ((rand(2, 1, 2, 2),), {})],
    "ravel": [((rand(2, 3),), {}), ((rand(3),), {})],
    "flatten": [((rand(2, 3, 2),), {})],
    "squeeze": [((rand(1, 3, 1),), {"axis": None}), ((rand(2, 1),), {"axis": 1}), ((rand(1, 2, 1),), {"axis": (0, 2)})],
    "pad": [((rand(2, 3),), {"pad_width": ((1, 1), (0, 2)), "value": 0, "crop": (slice(1, -1), slice(None, -2))}),
            ((rand(3),), {"pad_width": ((2, 0),), "value": 1.5, "crop": slice(2, None)})],
    "array_copy": [((rand(2, 3),), {})],
    "astype_float": [((rand(2, 3),), {})],
    "astype_like": [((rand(3), rand(2)), {})],
    "astype_int": [((np.array([0.3, 1.4, 2.6]),), {})],
    "arange": [((), {"stop": 4})], "arange2": [((), {"start": 1, "stop": 4})],
    "arange3": [((), {"start": 0.0, "stop": 1.0, "step": 0.25})],
    "linspace": [((), {"start": 0.0, "stop": 1.0, "num": 5})],
    "eye": [((), {"n": 3, "m": None, "k": 0}), ((), {"n": 2, "m": 3, "k": 1})],
    "full": [((), {"shape": (2, 3), "value": 0.5})],
}
# rows with no inputs: what they make
CONSTANT_ROWS = {
    "zeros": lambda p: np.zeros(p["shape"]), "ones": lambda p: np.ones(p["shape"]),
    "arange": lambda p: np.arange(p["stop"]), "arange2": lambda p: np.arange(p["start"], p["stop"]),
    "arange3": lambda p: np.arange(p["start"], p["stop"], p["step"]),
    "linspace": lambda p: np.linspace(p["start"], p["stop"], p["num"]),
    "eye": lambda p: np.eye(p["n"], p["m"], p["k"]), "full": lambda p: np.full(p["shape"], p["value"]),
}


def spec_table(name):
    def run():
        op = T[name]
        checked = set()
        for ins, params in TABLE_CASES[name]:
            if not ins:  # np.zeros(shape), np.arange(n), ...: a constant, nothing to differentiate
                value = op(**params)
                assert np.array_equal(value, CONSTANT_ROWS[name](params))
                assert np.shape(value) == op.shape(**{**op.defaults, **params})
                assert op.rules == ()
                checked.add((id(op), False))
                continue
            checked |= check_rules(op, ins, params)
        for ins in MATH_CASES.get(name, ()):
            checked |= check_rules(op, ins, {}, math_mode=True)
        return checked
    return run


# -- copies, item assignment, run-time indexing -------------------------------------------------------------

SIGS = [("#",), (":", "#"), ("#", ":"), ("#", "#"), ("1", "#")]


def spec_copies():
    checked = set()
    for op in (P.COPY, P.COPY_ARRAY):
        checked |= check_rules(op, (rand(2, 3),))
        checked |= check_rules(op, (0.7,), math_mode=True) if op is P.COPY else set()
    return checked


def spec_setitem():
    checked = set()
    for x, v, idx in [(rand(4), 0.5, 1), (rand(3, 4), rand(3), (slice(None), 1)), (rand(4), rand(2), slice(1, 3)),
                      (rand(3, 2), rand(2), -1)]:
        checked |= check_rules(P.SETITEM, (x, v), {"idx": idx})
        before = x.copy()
        P.SETITEM(x, v, idx=idx)
        assert np.array_equal(x, before), "setitem wrote into its input (the interpreter evaluates on copies)"
    return checked


def _ints_for(sig, x):
    """Run-time integers for `sig` that index `x` (one per '#')."""
    ints, dim = [], 0
    for part in sig:
        if part == "#":
            ints.append(x.shape[dim] - 2 if dim % 2 else 1)
        dim += part != "None"
    return ints


def spec_index_at():
    checked = set()
    for sig in SIGS:
        op = P.index_at(sig)
        x = rand(3, 4)
        ints = _ints_for(sig, x)
        checked |= check_rules(op, (x, *ints))
        checked |= spec_scatter_acc(op.rules[0], (x,), {}, ints)
    return checked


def spec_setitem_at():
    checked = set()
    for sig in SIGS:
        op = P.setitem_at(sig)
        x = rand(3, 4)
        ints = _ints_for(sig, x)
        it = iter(ints)
        idx = tuple(next(it) if p == "#" else slice(None) if p == ":" else int(p) for p in sig)
        v = rand(*np.shape(x[idx]))
        checked |= check_rules(op, (x, v, *ints))
    return checked


# -- einsum: one row per subscripts and shapes (rows_linalg.einsum_op) ---------------------------------------

EINSUM_CASES = [  # subscripts, operand shapes: products, sums (ones), diagonals and traces (identities), stacks
    ("ij,jk->ik", ((2, 3), (3, 4))), ("i,i->", ((3,), (3,))), ("i,j->ij", ((3,), (2,))), ("ij->i", ((2, 3),)),
    ("ii->", ((3, 3),)), ("ii->i", ((3, 3),)), ("ij,ij->ij", ((2, 3), (2, 3))), ("bij,bjk->bik", ((2, 3, 4), (2, 4, 2))),
    ("ij,jk,kl->il", ((2, 3), (3, 2), (2, 2))), ("iij->j", ((2, 2, 3),)), ("ijk->kj", ((2, 3, 2),)),
    ("ij,j->", ((2, 3), (3,))), ("ii,i->i", ((3, 3), (3,))), ("ij,kj->ik", ((2, 3), (4, 3))),
]


def spec_einsum():
    from flatgen.rows_linalg import einsum_op

    checked = set()
    for spec, shapes in EINSUM_CASES:
        op = einsum_op(spec, shapes)
        ins = [rand(*shape) for shape in shapes]
        close(op(*ins), np.einsum(spec, *ins), f"einsum {spec}: forward")
        checked |= check_rules(op, ins)
    return checked


# -- indexing by index arrays, writes that broadcast (rows_index.py); arrays from values and pieces (rows_arrays.py) --

# sig, x's shape, the index inputs: integer arrays (repeats on purpose: they must add up), a mask, constant lists
TAKE_CASES = [
    (("@",), (5, 3), (np.array([0, 2, 2, 4]),)),
    (("@", "@"), (4, 3), (np.arange(4), np.array([0, 2, 2, 1]))),
    (("@", "@"), (4, 3), (np.array([1, 1, 3]), np.array([2, 2, 0]))),
    ((":", "@"), (3, 4), (np.array([[0, 3], [3, 3]]),)),
    (("#", "@"), (3, 4), (1, np.array([0, 0, 2]))),
    (("?",), (6,), (np.array([True, False, True, True, False, True]),)),
    (("?",), (3, 2), (np.array([True, False, True]),)),
    (("[0, 2, 2]",), (4,), ()),
    (("[1, 1]", ":"), (3, 2), ()),
    (("@", "None"), (4,), (np.array([3, 0, 3]),)),
]
# writes through index arrays: distinct indices (the tracer makes sure)
PUT_CASES = [
    (("@", "@"), (4, 3), (np.arange(4), np.array([0, 2, 2, 1]))),
    (("?",), (5,), (np.array([True, False, True, False, True]),)),
    ((":", "@"), (3, 4), (np.array([3, 0]),)),
]


def spec_take():
    from flatgen.rows_index import add_at, take

    checked = set()
    for sig, shape, ints in TAKE_CASES:
        op, x = take(sig), rand(*shape)
        from flatgen.shapes import index_part

        idx = []
        it = iter(ints)
        for part in sig:
            idx.append(next(it) if part in ("#", "@", "?") else index_part(part))
        want = x[tuple(idx)]
        close(op(x, *ints), want, f"take {sig}: forward")
        if "?" not in sig:
            assert op.shape(shape, *(np.shape(i) for i in ints)) == want.shape, f"take {sig}: shape rule"
        checked |= check_rules(op, (x, *ints))
        checked |= spec_scatter_acc(op.rules[0], (x,), {}, ints, read=lambda x, op=op, ints=ints: op(x, *ints))
        adder = add_at(sig)
        v = rand(*np.shape(want))
        ref = x.copy()
        np.add.at(ref, tuple(idx) if len(idx) > 1 else idx[0], v)
        close(adder(x, v, *ints), ref, f"add_at {sig}: forward")
        checked |= check_rules(adder, (x, v, *ints))
    return checked


def spec_put():
    """setitem_at through index arrays (distinct indices): the rules of a write."""
    checked = set()
    for sig, shape, ints in PUT_CASES:
        op, x = P.setitem_at(sig), rand(*shape)
        from flatgen.rows_index import take

        v = rand(*np.shape(take(sig)(x, *ints)))
        checked |= check_rules(op, (x, v, *ints))
    return checked


def spec_setitem_broadcast():
    """A value broadcast into its slot: its gradient summed back (setitem_sum: leading axes, or all for a
    scalar; setitem_keep: size-1 axes too)."""
    from flatgen.rows_index import SETITEM_KEEP, SETITEM_SUM

    checked = set()
    for op, x, v, params in [(SETITEM_SUM, rand(3, 4), 0.7, {"idx": 1, "axes": None}),
                             (SETITEM_SUM, rand(3, 4), rand(4), {"idx": (slice(None), slice(None)), "axes": 0}),
                             (SETITEM_SUM, rand(2, 3, 4), rand(4), {"idx": 0, "axes": 0}),
                             (SETITEM_KEEP, rand(3, 4), rand(1, 4), {"idx": slice(1, None), "axes": (0,)}),
                             (SETITEM_KEEP, rand(2, 3, 4), rand(3, 1), {"idx": 1, "axes": (1,)})]:
        checked |= check_rules(op, (x, v), params)
    return checked


ARRAY_CASES = [("array", (3,), ()), ("asarray", (2, 2), ()), ("array", (2,), (3,)), ("array", (2, 1), (2, 2))]
JOIN_CASES = [("stack", 0, ((3,), (3,))), ("stack", 1, ((2, 3), (2, 3), (2, 3))), ("stack", -1, ((3,), (3,))),
              ("concatenate", 0, ((2,), (3,))), ("concatenate", 1, ((2, 3), (2, 1))),
              ("concatenate", -1, ((2, 2, 1), (2, 2, 2))), ("hstack", 0, ((2,), (3,))), ("hstack", 0, ((), ())),
              ("hstack", 0, ((2, 1), (2, 3))), ("vstack", 0, ((3,), (2, 3))), ("vstack", 0, ((3,), (3,)))]


def spec_array():
    from flatgen.rows_arrays import array_op

    checked = set()
    for fn, nest, item in ARRAY_CASES:
        op = array_op(fn, nest, item)
        ins = [rand(*item) for _ in range(int(np.prod(nest)))]
        want = np.reshape(np.stack([np.asarray(v) for v in ins]), nest + item)
        close(op(*ins), want, f"np.{fn} {nest}: forward")
        checked |= check_rules(op, ins)
    return checked


def spec_join():
    from flatgen.rows_arrays import join_op

    checked = set()
    for kind, axis, shapes in JOIN_CASES:
        op = join_op(kind, axis, shapes)
        ins = [rand(*shape) for shape in shapes]
        fn = getattr(np, kind)
        want = fn(ins, axis=axis) if kind in ("stack", "concatenate") else fn(ins)
        close(op(*ins), want, f"np.{kind} {shapes}: forward")
        assert op.shape() == want.shape
        checked |= check_rules(op, ins)
    return checked


def spec_casts():
    """A cast's gradient is the upstream gradient itself (central differences of a float32 cast see
    only its rounding): astype(np.float32)."""
    op = T["astype_float32"]
    x = rand(2, 3)
    assert op(x).dtype == np.float32
    g = upstream((2, 3)).astype(np.float32)
    close(op.rules[0](g), g, "astype_float32: the gradient passes through")
    return {(id(op), False), (id(op.rules[0]), False)}


# -- bookkeeping ops of the backward pass ---------------------------------------------------------------------


def spec_scatter_acc(scatter: Op, xs, params, ints=(), read=None) -> set:
    """`grad_x[idx] += g` (x[idx] read a second time): the running gradient plus the VJP of x -> x[idx]."""
    acc = scatter.accumulate
    (x,) = xs
    idx_of = (lambda x: x[params["idx"]]) if params else None
    read = read or idx_of or (lambda x: P.index_at(_sig_of(scatter))(x, *ints))
    g = upstream(np.shape(read(x)))
    running = rand(*np.shape(x))
    before = running.copy()
    got = acc(running, g, *ints, **params)
    close(got, running + fd_vjp(read, [x], 0, g), f"{acc.name}: running gradient + VJP of x[idx]")
    assert np.array_equal(running, before), f"{acc.name} wrote into its input (the interpreter evaluates on copies)"
    return {(id(acc), False)}


def _sig_of(scatter: Op) -> tuple:
    for sig in SIGS:
        if P.index_at(sig).rules[0] is scatter:
            return sig
    raise AssertionError("not a run-time index scatter")


def spec_scatter():
    checked = set()
    for x, idx in [(rand(5), 1), (rand(3, 4), (slice(None), 2)), (rand(4), slice(None, None, 2))]:
        checked |= spec_scatter_acc(P.SCATTER, (x,), {"idx": idx})
    return checked


def spec_acc():
    """x used twice, y1 = x and y2 = x: d(<a, y1> + <b, y2>)/dx, accumulated."""
    checked = set()
    for mm, (a, b) in ((False, (rand(2, 3), rand(2, 3))), (True, (0.7, -1.1))):
        x = rand(*np.shape(a)) if not mm else 0.3
        want = fd_vjp(lambda x: x, [x], 0, a, mm) + fd_vjp(lambda x: x, [x], 0, b, mm)
        close(P.ACC(a, b, math_mode=mm), want, "acc: the two contributions add up")
        checked.add((id(P.ACC), mm))
    return checked


def spec_merge():
    """A gradient leaving a branch (or a loop iteration) unchanged: the VJP of the identity."""
    checked = set()
    for mm, g in ((False, rand(3, 2)), (True, -0.7)):
        x = rand(*np.shape(g)) if not mm else 0.2
        close(P.MERGE(g, math_mode=mm), fd_vjp(lambda x: x, [x], 0, g, mm), "merge")
        checked.add((id(P.MERGE), mm))
    return checked


def spec_seed():
    """d out/d out = 1; several outputs: d(sum_j seed_j out_j)/d out_k = seed_k."""
    checked = set()
    for mm in (False, True):
        y = 0.37
        close(P.SEED(math_mode=mm), fd_vjp(lambda y: y, [y], 0, 1.0, mm), "seed")
        checked.add((id(P.SEED), mm))
        seed = (0.5, -1.25, 2.0)
        outs = [0.3, -0.2, 1.1]
        for k in range(3):
            def weighted(yk, k=k):
                ys = list(outs)
                ys[k] = yk
                return sum(s * v for s, v in zip(seed, ys))
            close(P.SEED_K(seed, k=k, math_mode=mm), fd_vjp(weighted, [outs[k]], 0, 1.0, mm), f"seed[{k}]")
        checked.add((id(P.SEED_K), mm))
    return checked


def spec_zeros():
    """An input the output ignores: its gradient is zero, of its shape, float (INIT: even for an int x)."""
    checked = set()
    for mm, x in ((False, rand(2, 3)), (False, 0.4), (True, 0.4)):
        ignored = fd_vjp(lambda x, y: np.sin(y), [x, 0.3], 0, 1.0, mm)
        for op in (P.ZEROS, P.INIT, P.INIT_SCALAR):
            if op is P.INIT_SCALAR and np.shape(x) != ():
                continue
            got = op(x, math_mode=mm)
            close(got, ignored, f"{op.name}: zeros of the input's shape")
            checked.add((id(op), mm))
    ints = np.array([1, 2, 3])
    assert P.INIT(ints).dtype == np.float64, "init: float zeros for an integer array (+= of floats must work)"
    return checked


BROADCASTS = [((3,), (2, 3)), ((2, 1), (2, 3)), ((1, 3), (4, 2, 3)), ((), (2, 2)), ((2, 1, 3), (2, 4, 3))]


def spec_unbroadcast():
    """Sums back over broadcast axes: the VJP of np.broadcast_to(x, shape), written out (SUM_LEAD, then
    SUM_ONES, as reverse.py emits them) and at run time (UNBROADCAST)."""
    from flatgen.shapes import unbroadcast_axes

    checked = set()
    for small, big in BROADCASTS:
        x = rand(*small)
        g = rand(*big)
        want = fd_vjp(lambda x: np.broadcast_to(x, big), [x], 0, g)
        close(P.UNBROADCAST(g, x), want, f"unbroadcast {big} -> {small}")
        checked.add((id(P.UNBROADCAST), False))
        lead, ones = unbroadcast_axes(small, big)
        d = g
        if lead:
            d = P.SUM_LEAD(d, axis=lead if len(lead) > 1 else lead[0])
            checked.add((id(P.SUM_LEAD), False))
        if ones:
            d = P.SUM_ONES(d, axis=ones if len(ones) > 1 else ones[0])
            checked.add((id(P.SUM_ONES), False))
        close(np.reshape(d, small) if small == () else d, want, f"sum back {big} -> {small}")
    assert {(id(P.SUM_LEAD), False), (id(P.SUM_ONES), False)} <= checked
    # math mode: a scalar input of a scalar operation never needs a sum; SUM_LEAD of a float is itself
    return checked


def spec_tapes():
    """A rolled loop saves values on a tape and takes them back in the backward loop: push then pop is
    the identity (its VJP passes g unchanged), last in first out; PUSH_COPY saves a copy, so a later
    in-place write into the array does not reach the tape."""
    checked = set()
    for mm, x, y in ((False, rand(3), rand(3)), (True, 0.25, -0.5)):
        def round_trip(x):
            tape = P.PUSH(P.TAPE(math_mode=mm), x, math_mode=mm)
            return P.POP(tape, math_mode=mm)
        g = upstream(np.shape(x), mm)
        close(fd_vjp(round_trip, [x], 0, g, mm), g, "pop(push(tape, x)) is x")
        tape = P.TAPE(math_mode=mm)
        assert tape == [] and P.TAPE(math_mode=mm) is not tape, "a new list per tape"
        tape = P.PUSH(P.PUSH(tape, x, math_mode=mm), y, math_mode=mm)
        assert P.POP(tape, math_mode=mm) is y and P.POP(tape, math_mode=mm) is x and tape == [], "last in, first out"
        checked |= {(id(P.TAPE), mm), (id(P.PUSH), mm), (id(P.POP), mm)}
    z = rand(4)
    saved = z.copy()
    tape = P.PUSH_COPY(P.TAPE(), z)
    z[1] = 99.0  # the loop writes into z in place after saving it
    close(fd_vjp(lambda x: P.POP(P.PUSH_COPY(P.TAPE(), x)), [saved], 0, saved), saved, "push_copy round trip")
    assert np.array_equal(P.POP(tape), saved), "PUSH_COPY saved a view: the in-place write reached the tape"
    checked.add((id(P.PUSH_COPY), False))
    return checked


def spec_counts():
    """A while loop's iteration count (an integer: nothing to differentiate): 0, then +1 per iteration."""
    checked = set()
    for mm in (False, True):
        n = P.COUNT(math_mode=mm)
        for _ in range(5):
            n = P.STEP(n, math_mode=mm)
        assert n == 5 and isinstance(n, int)
        checked |= {(id(P.COUNT), mm), (id(P.STEP), mm)}
    return checked


def spec_mark():
    """reverse.MARK holds a place while the backward pass is built: no gradient graph keeps one."""
    import corpus_loops
    import lecture
    from flatgen.reverse import MARK

    assert MARK(math_mode=False) is None
    graphs = [flatgen.flat(lecture.neuron).grad_graph]
    for name in dir(corpus_loops):
        fn = getattr(corpus_loops, name)
        if callable(fn) and getattr(fn, "__module__", "") == "corpus_loops":
            try:
                graphs.append(flatgen.flat(fn).generated.grad_graph)
            except Exception:  # noqa: BLE001 - a function that needs shapes or ints: others suffice
                continue
        if len(graphs) > 12:
            break
    assert len(graphs) > 5
    assert not any(e.op is MARK for g in graphs for e in g.eqns)
    return {(id(MARK), False)}


def spec_constant():
    """lower.CONSTANT, `out = c` (a lowered seed or scalar zero): the value itself, and no gradient."""
    from flatgen.lower import CONSTANT

    for c in (1.0, 0.0, -2.5):
        assert CONSTANT(c) == c and CONSTANT(c, math_mode=True) == c
    assert CONSTANT.rules == (None,)
    return {(id(CONSTANT), False), (id(CONSTANT), True)}


def spec_asserts():
    """rows_python.ASSERTIONS, `assert` on data (the comparison, then `assert` of it): the comparison's value
    when it holds, AssertionError when it does not, no gradient; in numpy and math mode."""
    from flatgen.rows_python import ASSERTIONS

    checked = set()
    holds = {"gt": (0.7, 0.3), "lt": (0.3, 0.7), "ge": (0.7, 0.7), "le": (0.3, 0.3), "eq": (0.5, 0.5), "ne": (0.5, 0.3)}
    for name, op in ASSERTIONS.items():
        ins = holds.get(name, (0.5,)) if name else (True,)
        for math_mode in (False, True):
            values = ins if math_mode else tuple(np.float64(v) if not isinstance(v, bool) else np.bool_(v)
                                                 for v in ins)
            assert op(*values, math_mode=math_mode) == True  # noqa: E712 (np.bool_ too)
            fails = (ins[1], ins[0] + 1.0) if name in ("gt", "ge", "eq") else (ins[0] + 1.0, ins[1]) if name else (False,)
            if name == "ne":
                fails = (0.5, 0.5)
            with pytest.raises(AssertionError):
                op(*fails, math_mode=math_mode)
            checked.add((id(op), math_mode))
        assert all(r is None for r in op.rules) and op.mask
    return checked


# (a case for a row the table does not have, e.g. while a row is being added or renamed, is not run)
SPECS = {f"table:{name}": spec_table(name) for name in TABLE_CASES if name in T} | {
    "copies": spec_copies, "setitem": spec_setitem, "index_at": spec_index_at, "setitem_at": spec_setitem_at,
    "scatter": spec_scatter, "acc": spec_acc, "merge": spec_merge, "seed": spec_seed, "zeros": spec_zeros,
    "unbroadcast": spec_unbroadcast, "tapes": spec_tapes, "counts": spec_counts, "mark": spec_mark,
    "constant": spec_constant, "einsum": spec_einsum, "take": spec_take, "put": spec_put,
    "setitem_broadcast": spec_setitem_broadcast, "array": spec_array, "join": spec_join, "casts": spec_casts,
    "asserts": spec_asserts,
}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_op_spec(name):
    checked = SPECS[name]()
    assert checked, f"spec {name} checked nothing"


# -- the guard ------------------------------------------------------------------------------------------------


def reachable_ops() -> dict[int, tuple[str, Op]]:
    """Every Op object reachable from flatgen's modules: globals, containers, rules, factory products."""
    found: dict[int, tuple[str, Op]] = {}

    def visit(label, obj, depth=0):
        if depth > 6:
            return
        if isinstance(obj, Op):
            if id(obj) not in found:
                found[id(obj)] = (label, obj)
                for i, r in enumerate(obj.rules):
                    visit(f"{label}.rules[{i}]", r, depth + 1)
        elif isinstance(obj, dict):
            for k, v in list(obj.items()):
                visit(f"{label}[key {k!r}]", k, depth + 1)
                visit(f"{label}[{k!r}]", v, depth + 1)
        elif isinstance(obj, (list, tuple, set, frozenset)):
            for i, v in enumerate(list(obj)):
                visit(f"{label}[{i}]", v, depth + 1)

    modules = [importlib.import_module(f"flatgen.{m.name}") for m in pkgutil.iter_modules(flatgen.__path__)
               if m.name != "__main__"]
    # the factories of run-time indexing and of einsum make ops per index pattern (subscripts): make some, then walk
    factories = {name for mod in modules for name, obj in vars(mod).items()
                 if callable(obj) and hasattr(obj, "cache_info") and getattr(obj, "__module__", "") == mod.__name__
                 and getattr(obj, "__wrapped__", obj).__annotations__.get("return") in ("Op", Op)}
    # (tangent_op: forward mode's op per row and tangents, each row's checked in tests/test_jvp_rows.py)
    assert factories == {"index_at", "setitem_at", "einsum_op", "take", "add_at", "array_op", "join_op",
                         "tangent_op"}, (
        f"cached factories in flatgen: {sorted(factories)}; give each new one a spec and list it here")
    from flatgen.rows_linalg import einsum_op

    for sig in SIGS:
        P.index_at(sig)
        P.setitem_at(sig)
    for mod in modules:
        for name, obj in vars(mod).items():
            visit(f"{mod.__name__}.{name}", obj)
    for sig in SIGS:
        visit(f"index_at({sig})", P.index_at(sig))
        visit(f"setitem_at({sig})", P.setitem_at(sig))
    for spec, shapes in EINSUM_CASES:
        visit(f"einsum_op({spec!r}, {shapes})", einsum_op(spec, shapes))
    from flatgen.rows_arrays import array_op, join_op
    from flatgen.rows_index import add_at, take

    for sig, _, _ in TAKE_CASES:
        visit(f"take({sig})", take(sig))
        visit(f"add_at({sig})", add_at(sig))
    for sig, _, _ in PUT_CASES:
        visit(f"setitem_at({sig})", P.setitem_at(sig))
    for fn, nest, item in ARRAY_CASES:
        visit(f"array_op({fn!r}, {nest}, {item})", array_op(fn, nest, item))
    for kind, axis, shapes in JOIN_CASES:
        visit(f"join_op({kind!r}, {axis}, {shapes})", join_op(kind, axis, shapes))
    return found


def test_every_op_has_a_spec():
    reachable = reachable_ops()
    assert len(reachable) > 60  # the table's rows, their rules and the bookkeeping ops
    checked: set = set()
    for spec in SPECS.values():
        checked |= spec()
    numpy_checked = {i for i, mm in checked if not mm}
    math_checked = {i for i, mm in checked if mm}
    # The run-time index factories make one op per index pattern; other tests in the session may have
    # made patterns beyond SIGS: the same factory code with another index, covered by its family's specs.
    families = {op.name for i, (_, op) in reachable.items() if i in numpy_checked
                and op.name.split(".")[0] in ("index_at", "setitem_at", "take", "add_at")}
    missing = sorted(label for i, (label, op) in reachable.items()
                     if i not in numpy_checked and i not in math_checked and op.name not in families)
    assert not missing, f"ops without a numerical spec: {missing}"
    # a math-mode form that is another program (math.exp, the builtin max, float comparisons) is checked too
    math_forms = sorted(label for i, (label, op) in reachable.items()
                        if ast.dump(op.math_expr.tree) != ast.dump(op.expr.tree) and i not in math_checked)
    array_only = {"zeros_like", "ones_like", "zeros", "ones", "sum", "sum_axis", "mean", "mean_axis", "max",
                  "max_axis", "min", "min_axis", "T", "transpose", "reshape", "expand_dims", "index", "index_at",
                  "setitem", "setitem_at", "matmul", "matmul_mv", "matmul_vm", "dot", "outer", "unbroadcast",
                  "sum_lead", "sum_ones", "init", "copy", "copy_array", "prod", "prod_axis", "norm1", "norm1_axis",
                  "norminf", "norminf_axis", "trace", "einsum"}
    math_forms = [label for label in math_forms
                  if reachable_name(reachable, label).split(".")[0] not in array_only]
    assert not math_forms, f"ops whose math-mode form is not checked in math mode: {math_forms}"


def reachable_name(reachable, label) -> str:
    return next(op.name for _, (lab, op) in reachable.items() if lab == label)


def test_the_guard_sees_a_new_op(monkeypatch):
    """An op added to flatgen.primitives without a spec fails the guard."""
    extra = Op("cube", P.Expr("x ** 3", ("x",)), "pow")
    monkeypatch.setattr(P, "CUBE", extra, raising=False)
    with pytest.raises(AssertionError, match="CUBE"):
        test_every_op_has_a_spec()


def test_a_wrong_rule_fails_its_spec():
    """The specs check the rules themselves: a rule off by a factor fails (the interpreter would agree)."""
    from dataclasses import replace

    mul = T["mul"]
    rules = mul.rules
    wrong = replace(rules[0], expr=P.Expr("g * b * 1.0001", ("g", "out", "a", "b")))
    object.__setattr__(mul, "rules", (wrong, rules[1]))
    try:
        with pytest.raises(AssertionError, match="mul, input 0"):
            spec_table("mul")()
    finally:
        object.__setattr__(mul, "rules", rules)
    assert spec_table("mul")()
