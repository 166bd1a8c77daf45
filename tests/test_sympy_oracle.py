"""An oracle for the elementwise rules that shares nothing with flatgen's templates: SymPy.

flatgen's interpreter evaluates the same templates the renderer prints, so a wrong rule is wrong in
both.  Here each elementwise primitive's scalar forward is written again, by hand, as a SymPy
expression (ORACLE); SymPy differentiates it symbolically; and at random points inside the domain
(away from kinks and ties) the op's own evaluation (`Op.__call__`: numpy on np.float64, and the math
form on Python floats) must give

    forward(inputs)           == the SymPy expression's value           (rtol 1e-13)
    rule_i(g, out, inputs)    == g * d expression / d input_i           (rtol 1e-10)

with SymPy evaluating at 30 digits.  An input without a rule (a comparison's operands, np.where's
mask) must be one SymPy finds the expression constant in.  Every elementwise row of the table needs
an ORACLE entry (test_every_elementwise_primitive_has_an_oracle).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp  # a test extra: pip install -e ".[test]"

import flatgen.primitives as P

a, b, x, c = sp.symbols("a b x c", real=True)


def piecewise(cond, yes, no):
    return sp.Piecewise((yes, cond), (no, True))


class _floor(sp.floor):
    """floor, whose derivative SymPy leaves unevaluated: 0 away from its jumps (where the oracle's points are)."""

    def fdiff(self, argindex=1):
        return sp.S.Zero


# primitive -> (symbols in input order, SymPy forward, domain of each input)
# domains: "real" (-2, 2), "pos" (0.2, 3), "nonzero" +-(0.3, 2), "mask" (a bool: c > 0 decides), "unit"
# (-0.9, 0.9), "above1" (1.2, 3), "low" (-1.5, -0.5) and "high" (0.5, 1.5) for clip's bounds
ORACLE = {
    "add": ((a, b), a + b, ("real", "real")),
    "sub": ((a, b), a - b, ("real", "real")),
    "mul": ((a, b), a * b, ("real", "real")),
    "div": ((a, b), a / b, ("real", "nonzero")),
    "pow": ((a, b), a**b, ("pos", "real")),
    "neg": ((x,), -x, ("real",)),
    "exp": ((x,), sp.exp(x), ("real",)),
    "log": ((x,), sp.log(x), ("pos",)),
    "sqrt": ((x,), sp.sqrt(x), ("pos",)),
    "tanh": ((x,), sp.tanh(x), ("real",)),
    "sin": ((x,), sp.sin(x), ("real",)),
    "cos": ((x,), sp.cos(x), ("real",)),
    "abs": ((x,), sp.Abs(x), ("nonzero",)),
    "maximum": ((a, b), sp.Max(a, b), ("real", "real")),
    "minimum": ((a, b), sp.Min(a, b), ("real", "real")),
    "max2": ((a, b), sp.Max(a, b), ("real", "real")),  # the builtin max(a, b)
    "min2": ((a, b), sp.Min(a, b), ("real", "real")),
    "sigmoid": ((x,), 1 / (1 + sp.exp(-x)), ("real",)),
    "where": ((c, a, b), piecewise(c > 0, a, b), ("mask", "real", "real")),
    "gt": ((a, b), piecewise(a > b, 1, 0), ("real", "real")),
    "lt": ((a, b), piecewise(a < b, 1, 0), ("real", "real")),
    "ge": ((a, b), piecewise(a >= b, 1, 0), ("real", "real")),
    "le": ((a, b), piecewise(a <= b, 1, 0), ("real", "real")),
    "eq": ((a, b), piecewise(sp.Eq(a, b), 1, 0), ("real", "real")),
    "ne": ((a, b), piecewise(sp.Ne(a, b), 1, 0), ("real", "real")),
    "copy": ((x,), x, ("real",)),
    # numpy as people write it (flatgen/rows_numpy.py)
    "tan": ((x,), sp.tan(x), ("unit",)),
    "arcsin": ((x,), sp.asin(x), ("unit",)),
    "arccos": ((x,), sp.acos(x), ("unit",)),
    "arctan": ((x,), sp.atan(x), ("real",)),
    "sinh": ((x,), sp.sinh(x), ("real",)),
    "cosh": ((x,), sp.cosh(x), ("real",)),
    "arcsinh": ((x,), sp.asinh(x), ("real",)),
    "arccosh": ((x,), sp.acosh(x), ("above1",)),
    "arctanh": ((x,), sp.atanh(x), ("unit",)),
    "log1p": ((x,), sp.log(1 + x), ("pos",)),
    "expm1": ((x,), sp.exp(x) - 1, ("real",)),
    "log2": ((x,), sp.log(x, 2), ("pos",)),
    "log10": ((x,), sp.log(x, 10), ("pos",)),
    "exp2": ((x,), 2**x, ("real",)),
    "square": ((x,), x**2, ("real",)),
    "reciprocal": ((x,), 1 / x, ("nonzero",)),
    "float64": ((x,), x, ("real",)),
    "arctan2": ((a, b), sp.atan2(a, b), ("nonzero", "nonzero")),
    "hypot": ((a, b), sp.sqrt(a**2 + b**2), ("nonzero", "real")),
    "logaddexp": ((a, b), sp.log(sp.exp(a) + sp.exp(b)), ("real", "real")),
    "clip": ((x, a, b), sp.Min(sp.Max(x, a), b), ("real", "low", "high")),
    # Python's // and % (flatgen/rows_python.py), away from their jumps
    "floordiv": ((a, b), _floor(a / b), ("real", "nonzero")),
    "mod": ((a, b), a - b * _floor(a / b), ("real", "nonzero")),
}
OPS = {"copy": P.COPY} | {name: op for name, op in P.TABLE.items() if name in ORACLE}
POINTS = 8
DIGITS = 30


def draw(rng, domain):
    if domain == "pos":
        return float(rng.uniform(0.2, 3.0))
    if domain == "nonzero":
        return float(rng.uniform(0.3, 2.0) * rng.choice([-1.0, 1.0]))
    if domain == "unit":  # tan, arcsin, arccos, arctanh: inside (-1, 1)
        return float(rng.uniform(-0.9, 0.9))
    if domain == "above1":  # arccosh
        return float(rng.uniform(1.2, 3.0))
    if domain in ("low", "high"):  # clip's bounds: lo < hi, x below, between and above
        return float(rng.uniform(-1.5, -0.5) if domain == "low" else rng.uniform(0.5, 1.5))
    return float(rng.uniform(-2.0, 2.0))  # real, and the mask's c


def points(name):
    """POINTS sample points for `name`, two-argument routers and comparisons kept 0.1 away from ties."""
    rng = np.random.default_rng(sum(map(ord, name)))
    syms, _, domains = ORACLE[name]
    found = []
    while len(found) < POINTS:
        p = [draw(rng, d) for d in domains]
        if len(p) >= 2 and abs(p[-1] - p[-2]) < 0.1:
            continue
        found.append(p)
    return found


def sympy_value(expr, syms, p) -> float:
    return float(sp.N(expr.subs({s: sp.Float(v, DIGITS) for s, v in zip(syms, p)}), DIGITS))


def op_inputs(domains, p, math_mode):
    """The op's inputs for the point: a mask is the bool c > 0; numbers are np.float64 (numpy) or float (math)."""
    return [bool(v > 0) if d == "mask" else (v if math_mode else np.float64(v)) for d, v in zip(domains, p)]


@pytest.mark.parametrize("math_mode", [False, True], ids=["numpy", "math"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_rules_agree_with_sympy(name, math_mode):
    op = OPS[name]
    syms, expr, domains = ORACLE[name]
    derivs = [sp.diff(expr, s) for s in syms]
    assert len(op.rules) == len(syms), f"{name}: {len(op.rules)} rules, {len(syms)} inputs"
    rng = np.random.default_rng(7)
    checked = 0
    for p in points(name):
        ins = op_inputs(domains, p, math_mode)
        out = op(*ins, math_mode=math_mode)
        want = sympy_value(expr, syms, p)
        assert float(out) == pytest.approx(want, rel=1e-13, abs=1e-300), f"{name}{tuple(p)}: forward {out!r}, SymPy {want!r}"
        g = float(rng.uniform(0.5, 2.0) * rng.choice([-1.0, 1.0]))
        g = g if math_mode else np.float64(g)
        slots = dict(zip(op.template(math_mode).slots, ins), g=g, out=out)
        for i, (rule, deriv, domain) in enumerate(zip(op.rules, derivs, domains)):
            d_sympy = sympy_value(deriv, syms, p) if domain != "mask" else None
            if rule is None:
                assert domain == "mask" or d_sympy == 0, (
                    f"{name}: no rule for input {i}, but SymPy's derivative is {d_sympy} at {p}")
                continue
            assert domain != "mask", f"{name}: a rule for the mask"
            d = rule(*(slots[s] for s in rule.template(math_mode).slots), math_mode=math_mode)
            if math_mode:
                assert type(d) is float, f"{name}: math-mode rule {i} gave {d!r}"
            assert float(d) == pytest.approx(float(g) * d_sympy, rel=1e-10, abs=1e-14), (
                f"{name}, input {i} at {p}, g = {g}: rule {rule.template(math_mode).text!r} = {d!r}, "
                f"SymPy: g * ({deriv}) = {float(g) * d_sympy!r}")
            checked += 1
    if any(r is not None for r in op.rules):
        assert checked >= POINTS


def test_every_elementwise_primitive_has_an_oracle():
    elementwise = {name for name, op in P.TABLE.items() if op.elementwise}
    assert elementwise <= set(ORACLE), f"elementwise rows without a SymPy oracle: {sorted(elementwise - set(ORACLE))}"
    assert len(elementwise) >= 20


def test_the_oracle_catches_a_wrong_rule():
    """A rule that is off by a factor 1 + 1e-9 in one input is caught (the interpreter would agree with it)."""
    from dataclasses import replace

    tanh = P.TABLE["tanh"]
    rules = tanh.rules
    object.__setattr__(tanh, "rules", (replace(rules[0], expr=P.Expr("g * (1 - out**2) * (1 + 1e-9)",
                                                                         ("g", "out", "x"))),))
    try:
        with pytest.raises(AssertionError, match="tanh, input 0"):
            test_rules_agree_with_sympy("tanh", False)
    finally:
        object.__setattr__(tanh, "rules", rules)
    test_rules_agree_with_sympy("tanh", False)
