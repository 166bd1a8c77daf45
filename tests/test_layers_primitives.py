"""Issue 15: every primitive as a layer.  Each row of the table (and the factories' families: einsum,
item assignment, run-time indexing) is the output of a function of its own, an array wherever the row
can make one; for a random upstream gradient `dout`:

- the generated VJP (value_and_grad with seed=dout) equals the interpreter's (1e-12) and central
  differences of sum(dout * f) in float64;
- the layer form's pair equals the VJP exactly: forward's value bit for bit, backward(dout, cache)'s
  gradients bit for bit (for a scalar-valued row, backward(1.0, cache) equals value_and_grad).

A row added to the table without a case here fails test_every_row_has_a_layer_case.
"""

import importlib.util
import sys

import numpy as np
import pytest

import flatgen
from flatgen import interpret
from flatgen.primitives import TABLE
from numerics import finite_differences

rng = np.random.default_rng(15)


def R(*shape):
    return rng.uniform(-1.5, 1.5, size=shape)


def P(*shape):  # positive
    return rng.uniform(0.3, 2.0, size=shape)


def U(*shape):  # inside (-1, 1)
    return rng.uniform(-0.8, 0.8, size=shape)


def G(*shape):  # above 1
    return rng.uniform(1.2, 3.0, size=shape)


def spd(n=3):
    a = R(n, n)
    return a @ a.T + n * np.eye(n)


# row -> (parameters, body (the last line returns), sample arguments).  `return` is added to a one-liner.
CASES = {
    "add": ("a, b", "a + b", (R(3, 2), R(2))),
    "sub": ("a, b", "a - b", (R(2, 3), R(2, 1))),
    "mul": ("a, b", "a * b", (R(3), R(2, 3))),
    "div": ("a, b", "a / b", (R(2, 3), P(3))),
    "pow": ("a, b", "a ** b", (P(2, 3), R(2, 3))),
    "neg": ("x", "-x", (R(2, 3),)),
    "exp": ("x", "np.exp(x)", (R(4),)),
    "log": ("x", "np.log(x)", (P(2, 2),)),
    "sqrt": ("x", "np.sqrt(x)", (P(3),)),
    "tanh": ("x", "np.tanh(x)", (R(3, 2),)),
    "sin": ("x", "np.sin(x)", (R(3),)),
    "cos": ("x", "np.cos(x)", (R(2, 2),)),
    "abs": ("x", "np.abs(x)", (np.array([0.5, -1.0, 2.0]),)),
    "maximum": ("a, b", "np.maximum(a, b)", (np.array([1.0, -1.0, 0.5]), np.array([0.0, 0.2, 0.7]))),
    "minimum": ("a, b", "np.minimum(a, 0.1)", (np.array([[1.0, -1.0], [0.3, -2.0]]), 0.0)),
    "max2": ("a, b", "max(a, b)", (1.25, -0.5)),
    "min2": ("a, b", "min(a, b)", (1.25, -0.5)),
    "sigmoid": ("x", "sigmoid(x)", (R(5),)),
    "where": ("a, b", "np.where(a > b, a * b, b)", (R(4), R(4))),
    "gt": ("a, b", "np.where(np.greater(a, b), a, 2.0 * b)", (R(4), R(4))),
    "lt": ("a, b", "np.where(a < b, a, b * b)", (R(4), R(4))),
    "ge": ("a, b", "np.where(a >= b, a, b)", (R(2, 2), R(2))),
    "le": ("a, b", "np.where(a <= 0.0, a, b)", (R(4), R(4))),
    "eq": ("a, b", "np.where(a == b, a, b)", (R(4), R(4))),
    "ne": ("a, b", "np.where(a != b, a, b)", (R(4), R(4))),
    "matmul": ("a, b", "a @ b", (R(2, 3), R(3, 4))),
    "matmul_mv": ("a, b", "a @ b", (R(2, 3), R(3))),
    "matmul_vm": ("a, b", "a @ b", (R(3), R(3, 2))),
    "dot": ("a, b", "a @ b", (R(3), R(3))),
    "outer": ("a, b", "np.outer(a, b)", (R(3), R(2))),
    "sum": ("x", "np.sum(x, axis=0, keepdims=True)", (R(3, 2),)),
    "sum_axis": ("x", "x.sum(axis=1)", (R(3, 4),)),
    "mean": ("x", "np.mean(x, axis=1, keepdims=True)", (R(2, 3),)),
    "mean_axis": ("x", "np.mean(x, axis=0)", (R(4, 3),)),
    "max": ("x", "np.max(x, axis=0, keepdims=True)", (np.array([[0.5, -1.7], [1.2, 0.1]]),)),
    "max_axis": ("x", "np.max(x, axis=1)", (np.array([[0.5, -1.7, 0.2], [1.2, 0.1, -0.4]]),)),
    "min": ("x", "np.min(x, axis=1, keepdims=True)", (np.array([[0.5, -1.7], [1.2, 0.1]]),)),
    "min_axis": ("x", "np.min(x, axis=0)", (np.array([[0.5, -1.7, 0.2], [1.2, 0.1, -0.4]]),)),
    "T": ("x", "x.T", (R(3, 2),)),
    "transpose": ("x", "np.transpose(x, (1, 0, 2))", (R(2, 3, 4),)),
    "reshape": ("x", "x.reshape(3, 2)", (R(6),)),
    "expand_dims": ("x", "np.expand_dims(x, 0)", (R(3),)),
    "sign": ("x", "np.sign(x) * x", (np.array([-1.5, 0.4, 2.0]),)),
    "index": ("x", "x[1:, 0]", (R(3, 4),)),
    "zeros_like": ("x", "np.zeros_like(x) + x * x", (R(3),)),
    "ones_like": ("x", "np.ones_like(x) * x", (R(3),)),
    "zeros": ("x", "np.zeros((2, 3)) + x", (R(3),)),
    "ones": ("x", "np.ones(3) * x", (R(3),)),
    "tan": ("x", "np.tan(x)", (U(3),)),
    "arcsin": ("x", "np.arcsin(x)", (U(3),)),
    "arccos": ("x", "np.arccos(x)", (U(2, 2),)),
    "arctan": ("x", "np.arctan(x)", (R(3),)),
    "sinh": ("x", "np.sinh(x)", (R(3),)),
    "cosh": ("x", "np.cosh(x)", (R(3),)),
    "arcsinh": ("x", "np.arcsinh(x)", (R(3),)),
    "arccosh": ("x", "np.arccosh(x)", (G(3),)),
    "arctanh": ("x", "np.arctanh(x)", (U(3),)),
    "log1p": ("x", "np.log1p(x)", (P(3),)),
    "expm1": ("x", "np.expm1(x)", (R(3),)),
    "log2": ("x", "np.log2(x)", (P(3),)),
    "log10": ("x", "np.log10(x)", (P(3),)),
    "exp2": ("x", "np.exp2(x)", (R(3),)),
    "square": ("x", "np.square(x)", (R(2, 3),)),
    "reciprocal": ("x", "np.reciprocal(x)", (P(3),)),
    "float64": ("x", "np.float64(x) * x", (R(3),)),
    "arctan2": ("a, b", "np.arctan2(a, b)", (R(3), P(3))),
    "hypot": ("a, b", "np.hypot(a, b)", (R(3), P(3))),
    "logaddexp": ("a, b", "np.logaddexp(a, b)", (R(3), R(3))),
    "clip": ("x", "np.clip(x, -0.5, 0.5)", (np.array([-1.2, -0.2, 0.3, 0.9]),)),
    "floor": ("x", "np.floor(x) + x", (np.array([-1.2, 0.3, 2.6]),)),
    "ceil": ("x", "np.ceil(x) * x", (np.array([-1.2, 0.3, 2.6]),)),
    "round": ("x", "np.round(x, 1) + x", (np.array([-1.23, 0.31, 2.66]),)),
    "argmax": ("x", "x[0] * np.argmax(x, axis=0)", (np.array([[0.5, -1.7], [1.2, 0.1]]),)),
    "argmin": ("x", "x[1] * np.argmin(x, axis=0)", (np.array([[0.5, -1.7], [1.2, 0.1]]),)),
    "var": ("x", "np.var(x, axis=0, keepdims=True)", (R(4, 3),)),
    "var_axis": ("x", "np.var(x, axis=1, ddof=1)", (R(3, 4),)),
    "std": ("x", "np.std(x, axis=1, keepdims=True)", (R(3, 4),)),
    "std_axis": ("x", "np.std(x, axis=0)", (R(4, 3),)),
    "prod": ("x", "np.prod(x, axis=0, keepdims=True)", (R(3, 2),)),
    "prod_axis": ("x", "np.prod(x, axis=1)", (R(2, 3),)),
    "norm": ("x", "np.linalg.norm(x, axis=0, keepdims=True)", (R(3, 2),)),
    "norm_axis": ("x", "np.linalg.norm(x, axis=1)", (R(3, 4),)),
    "norm1": ("x", "np.linalg.norm(x, ord=1, axis=0, keepdims=True)", (np.array([[0.5, -1.7], [1.2, 0.3]]),)),
    "norm1_axis": ("x", "np.linalg.norm(x, 1, axis=0)", (np.array([[0.5, -1.7], [1.2, 0.3]]),)),
    "norminf": ("x", "np.linalg.norm(x, np.inf, axis=1, keepdims=True)", (np.array([[0.5, -1.7], [1.2, 0.3]]),)),
    "norminf_axis": ("x", "np.linalg.norm(x, ord=np.inf, axis=-1)", (np.array([[0.5, -1.7], [1.2, 0.3]]),)),
    "cumsum": ("x", "np.cumsum(x)", (R(2, 3),)),
    "cumsum_axis": ("x", "np.cumsum(x, axis=1)", (R(2, 3),)),
    "matmul_batch": ("a, b", "np.matmul(a, b)", (R(2, 3, 4), R(2, 4, 2))),
    "matmul_bm": ("a, b", "a @ b", (R(2, 3, 4), R(4, 2))),
    "matmul_mb": ("a, b", "a @ b", (R(3, 4), R(2, 4, 2))),
    "matmul_bv": ("a, b", "a @ b", (R(2, 3, 4), R(4))),
    "matmul_vb": ("a, b", "a @ b", (R(4), R(2, 4, 3))),
    "matmul_bcast": ("a, b", "a @ b", (R(2, 1, 3, 4), R(3, 4, 2))),
    "trace": ("a", "np.trace(a @ a)", (R(3, 3),)),
    "inv": ("a", "np.linalg.inv(a)", (spd(),)),
    "solve": ("a, b", "np.linalg.solve(a, b)", (spd(), R(3))),
    "solve_m": ("a, b", "np.linalg.solve(a, b)", (spd(), R(3, 2))),
    "det": ("a", "np.linalg.det(a)", (spd(),)),
    "slogdet": ("a", "np.linalg.slogdet(a)[1]", (spd(),)),
    "slogdet_sign": ("a", "np.linalg.slogdet(a)[0] * a", (spd(),)),
    "mod": ("a, b", "a % b", (R(3), P(3))),
    "floordiv": ("a, b", "a // b + a * b", (R(3), P(3))),
    "int": ("x", "int(x) * x", (1.7,)),
    "float": ("x", "float(x) * x", (0.7,)),
    "arange": ("x", "x * np.arange(3)", (R(3),)),
    "arange2": ("x", "x[1:] * np.arange(1, 3)", (R(3),)),
    "arange3": ("x", "x * np.arange(0.0, 0.75, 0.25)", (R(3),)),
    "linspace": ("x", "x * np.linspace(0.0, 1.0, 3)", (R(2, 3),)),
    "eye": ("x", "(x + np.eye(2)) ** 2", (R(2, 2),)),
    "full": ("x", "x * np.full((2, 2), 0.5)", (R(2, 2),)),
    "array_copy": ("x", "np.copy(x) * x", (R(3),)),
    "astype_float": ("x", "x.astype(float) ** 2", (R(2, 3),)),
    "astype_float32": ("x", "x.astype(np.float32) * 2.0", (R(3),)),
    "astype_like": ("x, w", "x.astype(w.dtype) * w", (R(3), R(2, 3))),
    "astype_int": ("x, w", "w[(x * 0.0 + 1.7).astype(int)] ** 2", (R(3), R(2, 2))),
    "atleast_1d": ("a, x", "np.atleast_1d(a) * x", (0.7, R(3))),
    "atleast_2d": ("x", "np.atleast_2d(x) * 2.0", (R(3),)),
    "atleast_3d": ("x", "np.atleast_3d(x) ** 3", (R(2, 3),)),
    "ravel": ("x", "np.ravel(x) ** 3", (R(2, 3),)),
    "flatten": ("x", "x.flatten() * 2.0", (R(2, 3),)),
    "squeeze": ("x", "np.squeeze(x[:, :1], axis=1) * x[:, 1]", (R(3, 2),)),
    "pad": ("x", "np.pad(x, ((0, 0), (2, 1)), constant_values=0.5) ** 2", (R(2, 3),)),
    # the factories' families: fancy indexing, arrays from lists, joins
    "take": ("x, y", "x[np.arange(3), y] ** 2", (R(3, 4), np.array([2, 0, 3]))),
    "array": ("a, b", "np.array([a, b * a, 2.0])", (0.7, -0.4)),
    "stack": ("x, y", "np.stack([x, y * y], axis=1)", (R(3), R(3))),
    "concatenate": ("x, w", "np.concatenate([w, x[None, :]], axis=0)", (R(3), R(2, 3))),
    "hstack": ("x, w", "np.hstack((w, w[:, :1]))", (R(3), R(2, 3))),
    "vstack": ("x, w", "np.vstack((w, x))", (R(3), R(2, 3))),
    # the factories' families: einsum, item assignment, run-time indexing in a rolled loop
    "einsum": ("a, b", 'np.einsum("ij,jk->ik", a, b)', (R(2, 3), R(3, 2))),
    "setitem": ("x, y", "z = x * 2.0\n    z[1:] = y * y\n    return z", (R(3), R(2))),
    "index_at": ("x, w, n", "z = np.zeros(4)\n    for i in range(n):\n        z[i] = x[i] * w\n    return z",
                 (R(4), 0.7, 4)),
}
# The factories' ops are named after their family (rows_index.take, rows_arrays.array_op and join_op).
FAMILY = {"array": "array", "stack": "stack", "concatenate": "concatenate", "hstack": "concatenate",
          "vstack": "concatenate"}
# A cast to float32 rounds: central differences see the rounding, not the rule (its rule is g: test_op_specs).
NO_DIFFERENCES = {"astype_float32"}
# Rows no user code reaches: lowering writes them (flatgen/lower.py), the tracer never does.
LOWERING_ONLY = {"broadcast_to"}
# Rows whose value is a number whatever the inputs: the layer form takes a scalar dout for them.
SCALAR = {"max2", "min2", "dot", "trace", "det", "slogdet", "int", "float"}


@pytest.fixture(scope="module")
def functions(tmp_path_factory):
    """The cases as a module of functions f_<row> (flatgen reads their source)."""
    path = tmp_path_factory.mktemp("layer_rows") / "layer_rows.py"
    lines = ["import numpy as np", "", "from flatgen import sigmoid", ""]
    for row, (params, body, _) in CASES.items():
        body = body if "return" in body else f"return {body}"
        lines += ["", f"def f_{row}({params}):", f"    {body}", ""]
    path.write_text("\n".join(lines))
    spec = importlib.util.spec_from_file_location("layer_rows", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["layer_rows"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("layer_rows", None)


def test_every_row_has_a_layer_case():
    missing = sorted(set(TABLE) - set(CASES) - LOWERING_ONLY)
    assert not missing, f"rows of the table with no case in {__file__}: {missing}"


@pytest.mark.parametrize("row", sorted(CASES))
def test_row_as_a_layer(row, functions):
    _, _, args = CASES[row]
    fn = getattr(functions, f"f_{row}")
    names = fn.__code__.co_varnames[: len(args)]
    shapes = dict(zip(names, map(np.shape, args)))
    # integers (a loop count, labels used as indices) are data: not differentiated
    wrt = [k for k, a in enumerate(args) if np.asarray(a).dtype.kind == "f"]
    f = flatgen.flat(fn, shapes=shapes, math=False, wrt=[names[k] for k in wrt])
    ops = {e.op.name for e in f.graph.eqns}
    assert row in ops or FAMILY.get(row, row) in ops, f"{row}: the case traces to {sorted(ops)}"
    value = fn(*args)
    dout = float(rng.standard_normal()) if np.shape(value) == () else rng.standard_normal(np.shape(value))
    g = f._prepare(args)[1]
    ref_value, ref = interpret.value_and_grad(g.graph, args, g.wrt, dout)
    out, cache = f.forward(*args)
    pair = f.backward(dout, cache)
    assert np.array_equal(out, ref_value) and np.shape(out) == np.shape(value)
    if row in SCALAR:
        assert np.shape(value) == ()
        _, grads = f.value_and_grad(*args)  # a scalar output: the seed is 1.0
        assert all(np.array_equal(a, b) for a, b in zip(f.backward(1.0, cache), grads))
        grads = pair
    else:
        assert np.shape(value) != (), f"{row}: the case returns a scalar"
        v, grads = f.value_and_grad(*args, seed=dout)
        assert np.array_equal(v, out)
        assert len(pair) == len(grads) == len(wrt)
        for a, b in zip(pair, grads):
            assert np.array_equal(a, b), f"{row}: backward(dout, cache) is not value_and_grad(seed=dout) exactly"
    for k, (a, r) in enumerate(zip(grads, ref)):
        assert np.shape(a) == np.shape(args[wrt[k]])
        scale = float(np.max(np.abs(r))) if np.size(r) else 0.0
        np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12 * scale + 1e-300, err_msg=f"{row}: vs interpreter")
    if row in NO_DIFFERENCES:
        return
    numeric = finite_differences(lambda *a: np.sum(dout * np.asarray(fn(*a), dtype=np.float64)), args, wrt)
    for k, (a, n) in enumerate(zip(grads, numeric)):
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-7, err_msg=f"{row}: gradient {k} vs central differences")
