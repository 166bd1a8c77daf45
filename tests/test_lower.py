"""Lowering (flatgen/lower.py), op by op: every rule of every primitive and every bookkeeping op,
written as primitive equations, computes what the op computes (the op's own evaluation, on random
inputs, for each shape the rule accepts, numpy and math forms); memory (a rolled loop's tapes) and
the primitives themselves are kept as they are.

The ops are found by walking flatgen's modules (test_op_specs.reachable_ops), not listed here: a row
or a bookkeeping op added later is lowered and checked, or the test names it and fails.
tests/test_lower_graphs.py lowers whole gradient graphs (branches, rolled loops) and differentiates
them again."""

from __future__ import annotations

import numpy as np
import pytest

from flatgen import interpret
from flatgen import primitives as P
from flatgen import shapes as S
from flatgen.graph import Eqn, Var
from flatgen.lower import ROWS, LoweringError, Lowering, is_memory, is_primitive, lower_eqn
from flatgen.primitives import Op
from flatgen.rows_linalg import einsum_op
from test_op_specs import (ARRAY_CASES, BROADCASTS, EINSUM_CASES, JOIN_CASES, MATH_CASES, PUT_CASES, SIGS, TABLE_CASES,
                           TAKE_CASES, _ints_for, reachable_ops)

rng = np.random.default_rng(7)


def rand(*shape):
    return rng.uniform(-1.5, 1.5, shape) if shape else float(rng.uniform(-1.5, 1.5))


def upstream(shape, math_mode=False):
    return rand(*shape) if shape else (float(rand()) if math_mode else np.float64(rand()))


def atom(value, slot):
    """The variable a slot is bound to (the upstream gradients of several outputs: a tuple, role seed)."""
    if isinstance(value, tuple):
        return Var(slot, "seed")
    return Var(slot, "value", shape=np.shape(value))


def lowered_equals_op(op: Op, values: dict, params: dict, math_mode=False) -> list[Eqn]:
    """Lower `op` applied to `values` (slot -> value), evaluate the primitive equations and compare
    with the op's own evaluation, to 1e-13."""
    slots = op.template(math_mode).slots
    args = [values[s] for s in slots]
    want = op(*args, math_mode=math_mode, **params)
    ins = tuple(atom(values[s], s) for s in slots)
    out = Var("out", "value", shape=np.shape(want))
    eqns = lower_eqn(Eqn(out, op, ins, params=dict(params)))
    assert eqns[-1].out is out
    assert all(is_primitive(d.op) for d in eqns), [d.op.name for d in eqns]
    env = dict(zip(ins, args))
    interpret.execute(eqns, env, 0, math_mode)
    what = f"{op.name} {op.expr.text!r} {params} ({'math' if math_mode else 'numpy'})"
    got = env[out]
    assert np.shape(got) == np.shape(want), what
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=1e-13, atol=1e-13,
                               err_msg=what)
    if math_mode:
        assert isinstance(got, (float, int, bool)), f"{what}: {type(got).__name__} in math mode"
    return eqns


# -- the inputs each primitive's rules are checked on -------------------------------------------------------

POLYMORPHIC = (S.broadcast, S.where, S.same, S.scalars)  # shape rules of rows that take any shape


def variants(op: Op, ins: tuple, params: dict) -> list[tuple]:
    """`ins`, and the same values in the other shapes the row accepts (rows whose shape rule takes
    any shape): every input a scalar; one input a scalar, the others as they are; the first input with
    a leading axis, broadcast against the others; each 1-D input made 2-D.  Those the row's own shape
    rule accepts, one per combination of shapes."""
    found = [ins]
    if op.shape in POLYMORPHIC and ins:
        scalar = lambda x: x if np.ndim(x) == 0 else np.ravel(x)[0][()]  # noqa: E731
        found.append(tuple(scalar(x) for x in ins))
        found += [tuple(scalar(x) if i == k else x for i, x in enumerate(ins)) for k in range(len(ins))]
        found.append((np.stack([ins[0], ins[0]]) if np.ndim(ins[0]) else np.full((2,), ins[0]), *ins[1:]))
        found.append(tuple(np.stack([x, np.flip(x)]) if np.ndim(x) == 1 else x for x in ins))
    accepted = {}
    for v in found:
        try:
            op.shape(*(np.shape(x) for x in v), **{**op.defaults, **params})
        except ValueError:
            continue
        accepted.setdefault(shape_key(v), v)
    return list(accepted.values())


def shape_key(ins) -> tuple:
    return tuple(np.shape(x) for x in ins)


SETITEM_CASES = [((rand(4), 0.5), {"idx": 1}), ((rand(3, 4), rand(3)), {"idx": (slice(None), 1)}),
                 ((rand(4), rand(2)), {"idx": slice(1, 3)}), ((rand(3, 2), rand(2)), {"idx": -1}),
                 ((rand(2, 3, 4), rand(3)), {"idx": (1, slice(None), 2)})]


def index_array_cases(op: Op) -> list[tuple[tuple, dict]]:
    """Indexing by index arrays (take, add_at, writes through them), broadcast writes, np.array and the
    joins: the cases of test_op_specs."""
    from flatgen.rows_arrays import array_op, join_op
    from flatgen.rows_index import SETITEM_KEEP, SETITEM_SUM, add_at, take

    for sig, shape, ints in TAKE_CASES:
        if op is take(sig):
            return [((rand(*shape), *ints), {})]
        if op is add_at(sig):
            x = rand(*shape)
            return [((x, rand(*np.shape(take(sig)(x, *ints))), *ints), {})]
    for sig, shape, ints in PUT_CASES:
        if op is P.setitem_at(sig):
            x = rand(*shape)
            return [((x, rand(*np.shape(take(sig)(x, *ints))), *ints), {})]
    if op is SETITEM_SUM:
        return [((rand(3, 4), 0.7), {"idx": 1, "axes": None}), ((rand(2, 3, 4), rand(4)), {"idx": 0, "axes": 0})]
    if op.name == "astype_float32":  # (test_op_specs checks it apart: differences cannot see through a float32 cast)
        return [((rand(2, 3),), {}), ((rand(3),), {}), ((np.float64(0.7),), {})]
    if op is SETITEM_KEEP:
        return [((rand(3, 4), rand(1, 4)), {"idx": slice(1, None), "axes": (0,)})]
    for fn, nest, item in ARRAY_CASES:
        if op is array_op(fn, nest, item):
            return [(tuple(rand(*item) for _ in range(int(np.prod(nest)))), {})]
    for kind, axis, shapes in JOIN_CASES:
        if op is join_op(kind, axis, shapes):
            return [(tuple(rand(*shape) for shape in shapes), {})]
    return []


def cases_of(op: Op) -> list[tuple[tuple, dict]]:
    """(inputs, params) on which a primitive's rules are checked: the table's cases (test_op_specs)
    in every shape the row accepts; item assignment; copies; indexing by run-time integers."""
    if ROWS.get(op.name) is op and op.name in TABLE_CASES:
        return [(v, params) for ins, params in TABLE_CASES[op.name] for v in variants(op, ins, params)]
    if op is P.SETITEM:
        return SETITEM_CASES
    for spec, shapes in EINSUM_CASES:  # einsum's rows, one per subscripts and shapes
        if op is einsum_op(spec, shapes):
            return [(tuple(rand(*shape) for shape in shapes), {})]
    if op.name in ("copy", "copy_array"):
        return [((x,), {}) for x in (rand(2, 3), rand(3), 0.7)]
    found = index_array_cases(op)
    if found:
        return found
    for sig in SIGS:
        if op is P.index_at(sig) or op is P.setitem_at(sig):
            x = rand(3, 4)
            ints = _ints_for(sig, x)
            if op is P.index_at(sig):
                return [((x, *ints), {})]
            it = iter(ints)
            idx = tuple(next(it) if p == "#" else slice(None) if p == ":" else int(p) for p in sig)
            return [((x, rand(*np.shape(x[idx])), *ints), {})]
    return []


def check_rules(op: Op, ins: tuple, params: dict, math_mode=False) -> set[int]:
    """Each rule of `op` at `ins` (and each scatter rule's in-place add), lowered == evaluated."""
    params = {**op.defaults, **params}
    out = op(*ins, math_mode=math_mode, **params)
    g = upstream(np.shape(out), math_mode)
    values = {**dict(zip(op.expr.slots, ins)), "out": out, "g": g}
    checked = set()
    for rule in op.rules:
        if rule is None:
            continue
        lowered_equals_op(rule, values, {**rule.defaults, **params}, math_mode)
        checked.add(id(rule))
        if rule.accumulate is not None:  # grad_x[idx] += g: a running gradient of x's shape
            x = ins[0]
            acc = {**values, "OUT": rand(*np.shape(x))}
            lowered_equals_op(rule.accumulate, acc, {**rule.accumulate.defaults, **params})
            checked.add(id(rule.accumulate))
    return checked


@pytest.mark.parametrize("name", sorted(ROWS))
def test_every_rule_of_the_table_lowers_to_primitives_that_compute_it(name):
    """Iterates the table itself: a row without cases in test_op_specs.TABLE_CASES fails here."""
    op = ROWS[name]
    cases = cases_of(op)
    assert cases, f"no cases for the row {name!r}: add them to test_op_specs.TABLE_CASES"
    e = Eqn(Var("y"), op, tuple(atom(x, s) for x, s in zip(cases[0][0], op.expr.slots)), params=dict(cases[0][1]))
    assert is_primitive(op) and lower_eqn(e) == [e]  # a primitive is kept as it is
    checked, shapes = set(), set()
    for ins, params in cases:
        checked |= check_rules(op, ins, params)
        shapes.add(shape_key(ins))
    for ins in MATH_CASES.get(name, ()):
        checked |= check_rules(op, ins, {}, math_mode=True)
    assert checked == {id(r) for r in op.rules if r is not None} | {id(r.accumulate) for r in op.rules
                                                                    if r is not None and r.accumulate}
    if op.shape in (S.broadcast, S.where, S.same) and op.rules and any(r is not None for r in op.rules):
        assert len(shapes) >= 3, f"{name}: checked on shapes {shapes} only"


# -- every op flatgen has: lowered and checked, or kept -------------------------------------------------------

MEMORY = {"tape", "push", "push_copy", "pop"}  # kept: they move values, compute none
FAMILIES = ("index_at", "setitem_at", "take", "add_at")  # one op per index pattern: checked on the patterns of SIGS


def bookkeeping_cases() -> dict[str, list[tuple[dict, dict]]]:
    """slot values and params for each bookkeeping op that is not a rule of a primitive."""
    x = rand(3, 4)
    return {
        "acc": [({"a": x, "b": rand(3, 4)}, {}), ({"a": 0.3, "b": -1.2}, {})],
        "merge": [({"x": x}, {}), ({"x": 0.4}, {})],
        "seed": [({}, {})],
        "seed_k": [({"seed": (0.5, -1.25, 2.0)}, {"k": k}) for k in range(3)],
        "zeros": [({"x": x}, {}), ({"x": 0.4}, {})],
        "init": [({"x": x}, {}), ({"x": np.array([1, 2, 3])}, {})],
        "init_scalar": [({"x": 0.3}, {})],
        "sum_lead": [({"x": rand(2, 3, 4)}, {"axis": 0}), ({"x": rand(2, 3, 4)}, {"axis": (0, 1)})],
        "sum_ones": [({"x": x}, {"axis": 0}), ({"x": rand(2, 3, 4)}, {"axis": (0, 2)})],
        "unbroadcast": [({"x": rand(*big), "y": rand(*small)}, {}) for small, big in BROADCASTS],
        "count": [({}, {})],
        "step": [({"x": 3}, {})],
        "mark": [({}, {})],  # reverse's placeholder: never in a finished graph; `None` as a constant
    }


def test_every_op_flatgen_has_is_lowered_and_checked_or_kept():
    """Walks every Op reachable from flatgen's modules.  A primitive (one rule per input) is kept, and
    its rules are checked with its cases (the table's rows by the test above); a tape op is kept; every
    other op must have cases here, and its lowering computes what it computes."""
    reachable = reachable_ops()
    parent = {}
    for _, op in reachable.values():
        for rule in op.rules if is_primitive(op) else ():
            if rule is not None:
                parent[id(rule)] = op
                if rule.accumulate is not None:
                    parent[id(rule.accumulate)] = op
    cases = bookkeeping_cases()
    done, kept, missing = set(), set(), []
    for label, op in reachable.values():
        if id(op) in done:
            continue
        if is_primitive(op):
            e = Eqn(Var("y"), op, tuple(Var(s) for s in op.expr.slots))
            assert lower_eqn(e) == [e], f"{label}: a primitive is kept as it is"
            kept.add(op.name)
            if ROWS.get(op.name) is op or (op.name in FAMILIES and not cases_of(op)):
                continue  # the table's rows: the test above; a run-time index pattern beyond SIGS: its family
            for ins, params in cases_of(op):
                done |= check_rules(op, ins, params)
            assert cases_of(op) or not any(op.rules), f"{label}: no cases for its rules"
        elif op.saves or op.restores or op.name in MEMORY:
            e = Eqn(Var("t", "tape"), op, tuple(Var(s, "tape") for s in op.expr.slots))
            assert is_memory(e) and lower_eqn(e) == [e], f"{label}: a tape op is kept as it is"
            kept.add(op.name)
        elif id(op) in parent or op.name.split(".")[0] in FAMILIES:
            continue  # checked with its primitive's cases (above, or by the table's test), or its family's
        elif op.name in cases:
            for values, params in cases[op.name]:
                if op.name == "mark":
                    (e,) = lower_eqn(Eqn(Var("m"), op, ()))
                    assert e.op.name == "constant" and e.ins[0].value is None
                    continue
                lowered_equals_op(op, values, {**op.defaults, **params})
                if all(isinstance(v, (float, int, tuple)) for v in values.values()):  # plain floats too
                    lowered_equals_op(op, values, {**op.defaults, **params}, math_mode=True)
        else:
            missing.append(f"{label} ({op.name}: {op.expr.text!r})")
        done.add(id(op))
    assert not missing, f"ops with no lowering case in tests/test_lower.py: {missing}"
    unchecked = [op.name for i, op in parent.items() if i not in done and ROWS.get(op.name) is not op
                 and op.name not in FAMILIES]
    assert not unchecked, f"rules of primitives outside the table, not checked: {unchecked}"
    assert MEMORY <= kept and {"copy", "copy_array", "setitem", "index_at", "setitem_at", "constant"} <= kept
    assert set(cases) - {"mark"} <= {op.name for _, op in reachable.values()}, "a case for an op flatgen lost"
    assert len(reachable) > 60 and len(done) > 40


def test_a_run_time_index_lowers_to_run_time_indexing():
    """`OUT[:, i0] += g` (a rolled loop's index): index_at / setitem_at of the same pattern, the index an
    input of the equation (not a constant)."""
    op = P.index_at((":", "#")).rules[0].accumulate
    x, i = rand(3, 4), 2
    eqns = lowered_equals_op(op, {"OUT": x, "g": rand(3), "i0": i}, {})
    assert [d.op for d in eqns] == [P.index_at((":", "#")), P.TABLE["add"], P.setitem_at((":", "#"))]
    assert all(d.ins[-1].hint == "i0" for d in (eqns[0], eqns[2]))


def test_what_has_no_primitive_is_refused():
    bad = Op("bad", P.Expr("np.frobnicate(x)", ("x",)), "const")
    with pytest.raises(LoweringError, match="has no primitive"):
        lower_eqn(Eqn(Var("y"), bad, (Var("x", shape=(3,)),)))
    with pytest.raises(LoweringError, match="not known"):
        Lowering(P.INIT.expr, (Var("x", shape=None),), {}, {}).expr(P.INIT.expr.tree)
