"""Forward mode, row by row: every row of the table has a tangent, and it is the directional derivative.

Each row's tangent op (flatgen/jvp.py: derived from the rules, linear, multilinear, reduce, or the
row's own terms) is evaluated at the points tests/test_op_specs.py checks the rules at, along a
random direction, with every differentiable input's tangent on and with each one alone, and held
against central differences of the row's forward along that direction.  The enumeration walks every
Op the table and the run-time factories make, and fails for a row with rules but no way to its tangent.
"""

from __future__ import annotations

import numpy as np
import pytest

import flatgen.primitives as P
from flatgen.jvp import has_tangent, tangent_op
from flatgen.rows_arrays import array_op, join_op
from flatgen.rows_index import SETITEM_KEEP, SETITEM_SUM, add_at, take
from flatgen.rows_linalg import einsum_op
from test_op_specs import MATH_CASES, TABLE_CASES, differentiable, rand

EPS = 1e-6
_RNG = np.random.default_rng(17)


def _rows():
    """Every forward row: the table, copies, item assignment, and one op per run-time factory."""
    rows = dict(P.TABLE)
    rows |= {"copy": P.COPY, "copy_array": P.COPY_ARRAY, "setitem": P.SETITEM, "setitem_sum": SETITEM_SUM,
             "setitem_keep": SETITEM_KEEP, "index_at": P.index_at(("#", ":")), "setitem_at": P.setitem_at(("#",)),
             "take": take(("@",)), "add_at": add_at(("@",)), "array": array_op("array", (2,), ()),
             "stack": join_op("stack", 0, ((2,), (2,))), "einsum": einsum_op("ij,jk->ik", ((2, 3), (3, 2)))}
    return rows


ROWS = _rows()


def test_every_row_has_a_tangent():
    missing = [name for name, op in ROWS.items() if not has_tangent(op)]
    assert not missing, f"rows with rules but no tangent (give them tangent=...): {missing}"


def test_a_row_without_a_tangent_is_found():
    from flatgen.op import prim

    row = prim("lonely", "x", "np.sort(x)", ("g",), "layout", elementwise=False)
    assert not has_tangent(row)
    assert has_tangent(prim("flat", "x", "np.floor(x)", (None,), "step", elementwise=False))


def _direction(x, math_mode):
    if np.ndim(x) == 0:
        v = float(_RNG.uniform(-1, 1))
        return v if math_mode else np.float64(v)
    return _RNG.uniform(-1, 1, size=np.shape(x))


def _moved(x, d, h):
    if isinstance(x, float):
        return x + h * d
    return np.asarray(x, dtype=np.float64) + h * d


def check_tangent(op, ins, params, math_mode=False):
    ins = list(ins)
    diff = [r is not None and differentiable(x) for r, x in zip(op.rules, ins)]
    if not any(diff):
        return
    out = op(*ins, math_mode=math_mode, **params)
    dirs = [_direction(x, math_mode) if d else None for x, d in zip(ins, diff)]
    subsets = [tuple(diff)] + [tuple(k == i for k in range(len(ins))) for i in range(len(ins)) if diff[i]]
    scale = max([1.0] + [float(np.max(np.abs(x))) for x, d in zip(ins, diff) if d])
    h = EPS * scale
    for on in dict.fromkeys(subsets):
        up = [_moved(x, d, h) if o else x for x, d, o in zip(ins, dirs, on)]
        down = [_moved(x, d, -h) if o else x for x, d, o in zip(ins, dirs, on)]
        numeric = (np.asarray(op(*up, math_mode=math_mode, **params), dtype=np.float64)
                   - np.asarray(op(*down, math_mode=math_mode, **params), dtype=np.float64)) / (2 * h)
        top = tangent_op(op, on, tuple(np.ndim(x) == 0 for x in ins),
                         op.elementwise and op.tangent is None and not math_mode)
        env = {"out": out, **dict(zip(op.expr.slots, ins)),
               **{f"t_{s}": d for s, d, o in zip(op.expr.slots, dirs, on) if o}}
        got = top(*(env[s] for s in top.template(math_mode).slots), math_mode=math_mode, **params)
        what = f"{op.name} ({'math' if math_mode else 'numpy'}) tangents {on}, params {params}: {top.expr.text!r}"
        assert np.shape(got) == np.shape(out), f"{what}: shape {np.shape(got)}, out {np.shape(out)}"
        if math_mode:
            assert isinstance(got, float), f"{what}: {got!r} is not a float"
        np.testing.assert_allclose(np.asarray(got, dtype=np.float64), numeric, rtol=1e-6,
                                   atol=1e-8 * max(1.0, float(np.max(np.abs(numeric), initial=0.0))), err_msg=what)


@pytest.mark.parametrize("name", sorted(TABLE_CASES))
def test_table_row_tangent(name):
    op = P.TABLE[name]
    for ins, params in TABLE_CASES[name]:
        if ins:
            check_tangent(op, ins, params)
    for ins in MATH_CASES.get(name, ()):
        check_tangent(op, ins, {}, math_mode=True)


def test_every_table_row_is_checked():
    # astype_float32: float32 has no room for differences of step 1e-6 (checked exactly below)
    assert set(P.TABLE) - {"astype_float32"} <= set(TABLE_CASES), sorted(set(P.TABLE) - set(TABLE_CASES))


def test_float32_cast_casts_the_tangent():
    op, t = P.TABLE["astype_float32"], rand(3)
    top = tangent_op(op, (True,), (False,), False)
    got = top(t, math_mode=False)
    assert got.dtype == np.float32 and np.array_equal(got, t.astype(np.float32))


def test_factory_rows_tangents():
    x = rand(3, 4)
    check_tangent(P.COPY, (rand(2, 3),), {})
    check_tangent(P.COPY_ARRAY, (rand(2, 3),), {})
    check_tangent(P.SETITEM, (rand(4), 0.5), {"idx": 1})
    check_tangent(P.SETITEM, (rand(3, 4), rand(3)), {"idx": (slice(None), 1)})
    check_tangent(SETITEM_SUM, (rand(3, 4), 0.7), {"idx": (0, slice(None)), "axes": None})
    check_tangent(SETITEM_KEEP, (rand(3, 4), rand(1, 4)), {"idx": slice(0, 2), "axes": (0,)})
    check_tangent(P.index_at(("#", ":")), (x, 1), {})
    check_tangent(P.setitem_at(("#",)), (rand(4), 0.3, 2), {})
    check_tangent(take(("@",)), (rand(5), np.array([0, 2, 2])), {})
    check_tangent(add_at(("@",)), (rand(5), rand(3), np.array([0, 2, 2])), {})
    check_tangent(array_op("array", (2,), ()), (0.3, -0.7), {})
    check_tangent(join_op("stack", 0, ((2,), (2,))), (rand(2), rand(2)), {})
    check_tangent(einsum_op("ij,jk->ik", ((2, 3), (3, 2))), (rand(2, 3), rand(3, 2)), {})
    check_tangent(einsum_op("ii->", ((3, 3),)), (rand(3, 3),), {})
