"""Fuzzing the scalar subset: random programs from tests/fuzzgen.py, each checked four ways.

For every program (seed s): write it to a file, generate its module with flatgen
(`parse.load_target` + `pipeline.generate`, with the program's wrt, style and math), exec the module, exec the program itself, and at the
program's sample point check

1. the generated forward `f` and the value of `f_value_and_grad` == the interpreter's forward,
   bit for bit, and of the same dtype;
2. the generated gradients == the interpreter's reverse sweep, to 1e-12 relative, and of the same
   dtype (a gradient True where the interpreter says 1.0 is wrong: True + True is True in numpy);
3. both == central finite differences of the user's own function, entry by entry (step
   1e-6 * max(1, |x|), rtol 1e-5, atol 1e-7 * the differences' scale plus a bound on their own
   rounding), computed in np.longdouble so rounding does not swamp them.  The tolerance never exceeds
   10% of the difference it checks (numerics.fd_verdict): an entry where it would (rounding in large
   intermediates, an entry tiny next to the others) is skipped and counted as "loose", never passed;
   an entry whose differences are exactly 0 (the function is flat along it) must be within atol of
   0.  Skipped (and counted) too where the differences cannot be trusted: within ~1e-4 of a kink
   (an abs, max or min whose branch changes between the point and the point moved by 1, 10 or 100
   steps along any parameter), or where the function is so steep that differences with the step
   and a tenth of it disagree;
4. the user's own function (math, builtins) == the generated value to 1e-12 relative (and 4 ulps
   of the largest value inside, for cancellation): math and numpy may differ in the last bits only.

CI runs FUZZ_N programs (240: seeds 0..239, in batches of 20, ~10 s).  On demand, any number from
any first seed (5000 take about two minutes):

    FLATGEN_FUZZ_N=5000 python -m pytest -q tests/test_fuzz.py
    FLATGEN_FUZZ_N=5000 FLATGEN_FUZZ_SEED=100000 python -m pytest -q tests/test_fuzz.py

A failure names the seed and prints the whole program, its point and the error.  To reproduce:

    python tests/fuzzgen.py SEED                                      # the program and its point
    FLATGEN_FUZZ_SEED=SEED FLATGEN_FUZZ_N=1 python -m pytest -q tests/test_fuzz.py -k seeds

A program that once found a bug goes into tests/fuzz_known.py (SCALAR), verbatim: those programs are
checked on every run.  Each batch of fuzzed programs must have a non-zero gradient in at least 90% of
its programs (the generator rejects programs whose output does not depend on the parameters) and
finite differences checked on at least half of its gradient entries.  The line "fuzz: ..." at the end
of the run counts programs, non-zero gradient entries, finite-difference checks and skips.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pytest

import fuzz_known
import fuzzgen
import fuzzing
from flatgen import interpret
from flatgen.graph import Lit
from flatgen.parse import load_target
from flatgen.pipeline import Options, generate
from flatgen.expr import Expr
from flatgen.primitives import TABLE
from fuzzing import EPS, F64, FD_ATOL, FD_RTOL, LD
from numerics import fd_verdict, nonzero_entries

FUZZ_N = int(os.environ.get("FLATGEN_FUZZ_N", "240"))
FUZZ_SEED = int(os.environ.get("FLATGEN_FUZZ_SEED", "0"))

# Programs that once found a bug (tests/fuzz_known.py: kept verbatim, since the generator has changed
# since): they must pass, on every run.  A new one: add the program there (seed -> (what it found, Program)).
KNOWN = fuzz_known.SCALAR

STEPS = (1, 10, 100)  # kink detection: the branch taken must not change this many steps away

STATS: Counter = Counter()


# The line at the end of the run (fuzzing.summary_fixture).
def summary_line() -> str:
    return (
        f"fuzz: {STATS['programs']} programs (seeds from {FUZZ_SEED}), {fuzzing.gradient_summary(STATS)}; finite "
        f"differences checked on {STATS['fd checked']} entries (in {STATS['fd programs checked']} programs), "
        f"{fuzzing.skips_summary(STATS)}; failures {STATS['failures']}"
    )


summary = fuzzing.summary_fixture(STATS, {"programs": summary_line})


@dataclass
class Outcome:
    # per gradient entry, how finite differences checked it: "checked", "zero" (flat: |g| <= atol), or
    # skipped: at a "kink", as too "steep", or "loose" (a tolerance above FD_FRACTION of the difference)
    counts: Counter = field(default_factory=Counter)
    nonzero: tuple = (0, 0)  # (non-zero gradient entries, entries), as generated
    modes: str = ""  # fuzzing.check_modes: "checked", or why not

    @property
    def fd(self) -> str:
        """The program's summary: "checked" when some entry was checked, else why none was."""
        if self.counts["checked"]:
            return "checked"
        return max(self.counts, key=lambda k: (self.counts[k], k)) if self.counts else "none"


def check(program: fuzzgen.Program, workdir: Path) -> Outcome:
    """All four checks for one program; raises (AssertionError or flatgen's own error) on a failure."""
    path = workdir / f"fuzz_{program.seed}.py"
    path.write_text(program.source)
    src, fn = load_target(f"{path}:f")
    result = generate(src, fn, Options(wrt=program.wrt, style=program.style, math=program.math))
    module: dict = {}
    exec(compile(result.source, f"<flatgen fuzz seed {program.seed}>", "exec"), module)
    gen_f, gen_vg = module["f"], module["f_value_and_grad"]
    args = program.args
    names = [p.hint for p in result.graph.params]
    wrt = [names.index(v.hint) for v in result.wrt]
    with np.errstate(all="ignore"):
        forward = gen_f(*args)
        value, grads = gen_vg(*args)
        env = interpret.run(result.graph, args)
        ref = interpret.evaluate(result.graph, args)[0]
        ref_value, ref_grads = interpret.value_and_grad(result.graph, args, result.wrt)
        user = fuzzgen.user_function(program.source)(*args)

    # 1. forward, bit for bit
    assert np.array_equal(forward, ref), f"generated f() = {forward!r}, interpreter = {ref!r}"
    assert np.array_equal(value, ref), f"generated f_value_and_grad value = {value!r}, interpreter = {ref!r}"
    assert np.array_equal(ref_value, ref), f"interpreter value_and_grad value = {ref_value!r}, evaluate = {ref!r}"
    assert np.result_type(forward) == np.result_type(value) == np.result_type(ref), (
        f"value types: generated f() {type(forward)}, f_value_and_grad {type(value)}, interpreter {type(ref)}")

    # 2. gradients: generated == interpreter
    assert len(grads) == len(ref_grads) == len(wrt), (len(grads), len(ref_grads), len(wrt))
    for k, (g, r) in enumerate(zip(grads, ref_grads)):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-300,
                                   err_msg=f"grad {names[wrt[k]]}: generated vs interpreter")
        # a gradient is a float like the interpreter's, never a bool or an int that happens to compare equal
        assert np.result_type(g) == np.result_type(r), (
            f"grad {names[wrt[k]]}: generated {g!r} ({type(g).__name__}), interpreter {r!r} ({type(r).__name__})")

    # 4. the user's own function (math.*, builtins) agrees to the last bits
    scale = max([abs(float(v)) for v in env.values()] + [abs(float(ref))])  # the largest value inside
    assert np.isclose(user, value, rtol=1e-12, atol=4 * F64 * scale), (
        f"user's function = {user!r}, generated = {value!r}")

    # 3. finite differences, where they can be trusted, entry by entry (numerics.fd_verdict)
    outcome = Outcome(nonzero=nonzero_entries(grads))
    reason = fd_skip_reason(result.graph, args, wrt)
    if reason is not None:
        outcome.counts[reason] += len(wrt)
    else:
        ld_f = fuzzgen.numpy_function(program.source)
        steps = [EPS * max(1.0, abs(float(args[i]))) for i in wrt]
        ld_args = fuzzing.longdouble_args(args)
        with np.errstate(all="ignore"):
            fds = [(fuzzing.central_difference(ld_f, ld_args, i, (), h),
                    fuzzing.central_difference(ld_f, ld_args, i, (), h / 10))
                   for i, h in zip(wrt, steps)]
        # The scale comes from the differences, never from the gradients under test.
        gscale = max([1.0] + [abs(d) for pair in fds for d in pair if np.isfinite(d)])
        for k, (i, h, (fd, fine)) in enumerate(zip(wrt, steps, fds)):
            atol = FD_ATOL * gscale + 16 * LD * scale / h  # + the differences' own rounding
            verdict = fd_verdict(fd, fine, atol, FD_RTOL)
            outcome.counts[verdict] += 1
            if verdict not in ("checked", "zero"):
                continue
            tol = atol + FD_RTOL * abs(fd) if verdict == "checked" else atol
            for label, g in (("generated", grads[k]), ("interpreter", ref_grads[k])):
                assert abs(float(g) - fd) <= tol, (
                    f"grad {names[i]}: {label} {float(g)!r} vs central differences (step {h:.3g}: {fd!r}, step "
                    f"{h / 10:.3g}: {fine!r}); tolerance {tol:.3g}" + (" (the function is flat here)" if verdict == "zero" else ""))
    # 5. forward mode and second order (issue 17): the JVP against the gradient, the HVP against its differences
    #    (not near a kink, as the first-order differences: at abs(0) the HVP takes sign(0) = 0, seed 100406)
    outcome.modes = fuzzing.check_modes(result, args, gen_vg, grads, wrt, program.seed, hvp=reason is None)
    return outcome


KINKS = {"abs", "maximum", "minimum", "max2", "min2"}  # max2/min2: the builtins max(a, b), min(a, b)
# The scalar subset's primitives (README, "Gradient rules"): the fuzzer must reach every one.
SCALAR_PRIMITIVES = {"add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "tanh", "sin", "cos",
                     "abs", "maximum", "minimum", "max2", "min2", "sigmoid"}


def branches(graph, args) -> list:
    """Which side of its kink every abs, max and min is on at `args`."""
    with np.errstate(all="ignore"):
        env = interpret.run(graph, args)
    sides = []
    for e in graph.eqns:
        if e.op.name in KINKS:
            a, *b = [x.value if isinstance(x, Lit) else env[x] for x in e.ins]
            sides.append(np.sign(a) if e.op.name == "abs" else bool(a >= b[0]) if e.op.name in ("maximum", "max2") else bool(a <= b[0]))
    return sides


def fd_skip_reason(graph, args, wrt) -> str | None:
    """"kink" when some abs/max/min changes branch within 100 steps of the point, else None."""
    if not any(e.op.name in KINKS for e in graph.eqns):
        return None
    here = branches(graph, args)
    for i in wrt:
        h = EPS * max(1.0, abs(float(args[i])))
        for step in STEPS:
            for sign in (1, -1):
                moved = list(args)
                moved[i] = args[i] + sign * step * h
                if branches(graph, tuple(moved)) != here:
                    return "kink"
    return None


def run_seeds(seeds, workdir: Path) -> None:
    """Check each seed's program; one assertion at the end naming every failing seed, in full."""
    run_programs([program_for(seed) for seed in seeds], workdir, fuzzed=True)


@functools.lru_cache(maxsize=None)
def program_for(seed: int) -> fuzzgen.Program:
    """The seed's program, generated once per session (shared by the batches and the feature and
    determinism tests; the determinism test also generates afresh)."""
    return fuzzgen.generate(seed)


def run_programs(programs, workdir: Path, fuzzed: bool) -> None:
    """Check each program; one assertion at the end naming every failing program, in full.  For fuzzed
    programs, also that they checked something: at least 90% with a non-zero gradient (a gradient of
    zeros agrees with everything), and finite differences checked on at least half of the non-flat entries."""
    checked = fuzzing.run_checks(programs, lambda program: check(program, workdir), report, STATS)
    counts: Counter = Counter()
    for program, outcome in checked:
        counts.update(outcome.counts)
        for key, n in outcome.counts.items():
            STATS[f"fd {key}"] += n
        STATS["fd programs checked"] += outcome.fd == "checked"
    if fuzzed:
        fuzzing.assert_gradients(checked, programs)
        # The finite-difference check must not quietly skip everything: at least half of the entries
        # with a gradient to check (a flat entry, |g| <= atol, is compared but says little) are checked.
        total = sum(counts.values()) - counts["zero"]
        assert counts["checked"] >= total / 2, f"finite differences checked only {dict(counts)}"


def report(program: fuzzgen.Program, exc: BaseException) -> str:
    known = fuzzing.is_known(fuzz_known.SCALAR, program)
    how = (f"fuzz_known.SCALAR[{program.seed}]   or   python -m pytest -q tests/test_fuzz.py -k 'known and {program.seed}'"
           if known else
           f"python tests/fuzzgen.py {program.seed}   or   "
           f"FLATGEN_FUZZ_SEED={program.seed} FLATGEN_FUZZ_N=1 python -m pytest -q tests/test_fuzz.py -k seeds")
    return fuzzing.failure(
        f"{'known program' if known else 'seed'} {program.seed}", how,
        f"args = {program.args!r}\nwrt = {program.wrt!r}, style = {program.style!r}, math = {program.math!r} "
        f"(flatgen.pipeline.Options)", program.source, exc)


BATCHES = fuzzing.batches(FUZZ_SEED, FUZZ_N)


@pytest.mark.parametrize("seeds", BATCHES, ids=fuzzing.batch_ids(BATCHES))
def test_fuzz(seeds, tmp_path):
    run_seeds(seeds, tmp_path)


@pytest.mark.parametrize("seed", sorted(KNOWN))
def test_known_program(seed, tmp_path):
    """A program that once found a bug (tests/fuzz_known.py says which)."""
    run_programs([fuzzing.known_program(KNOWN, seed)], tmp_path, fuzzed=False)


# -- the fuzzer itself --------------------------------------------------------------------------------


def _program_digest(seed: int, fresh: bool = True) -> str:
    p = fuzzgen.generate(seed) if fresh else program_for(seed)
    return hashlib.sha256(f"{p.source}{p.args!r}{p.wrt!r}{p.style}{p.math}".encode()).hexdigest()


def _digest(seeds) -> str:
    return fuzzing.digest(_program_digest(s) for s in seeds)


def test_generator_is_deterministic():
    fuzzing.assert_deterministic(range(40), lambda s, fresh: _program_digest(s, fresh),
                                 lambda s: program_for(s).source,
                                 "from test_fuzz import _digest; print(_digest(range(40)))", afresh=20)


def test_generator_reaches_every_primitive_and_feature(tmp_path):
    """The CI seeds between them trace to every primitive and use every construct the fuzzer promises."""
    seeds = range(FUZZ_SEED, FUZZ_SEED + max(FUZZ_N, 200))
    ops: set = set()
    calls: set = set()
    features: Counter = Counter()
    for seed in seeds:
        program = program_for(seed)
        tree = ast.parse(program.source)
        path = tmp_path / f"fuzz_{seed}.py"
        path.write_text(program.source)
        src, fn = load_target(f"{path}:f")
        graph = generate(src, fn, Options(wrt=program.wrt, style=program.style, math=program.math)).graph
        ops |= {e.op.name for e in graph.eqns}
        helpers = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name != "f"]
        features["helper"] += bool(helpers)
        features["helper calls helper"] += any(
            isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id.startswith("h")
            for h in helpers for c in ast.walk(h))
        features["constant"] += any(isinstance(n, ast.Assign) for n in tree.body)
        features["wrt"] += program.wrt is not None
        features[f"style {program.style}"] += 1
        features[f"math {program.math}"] += 1
        features["annotated parameters"] += "def f(p0:" in program.source
        features["math mode"] += bool(graph.math)
        features["round point"] += any(float(a) in fuzzgen.ROUND_VALUES for a in program.args)
        features["numpy args"] += isinstance(program.args[0], np.float64) and type(program.args[0]) is not float
        features["general pow"] += any(e.op.name == "pow" and not isinstance(e.ins[1], Lit) for e in graph.eqns)
        features["tricky name"] += any(isinstance(n, ast.Name) and n.id in fuzzgen.TRICKY_NAMES for n in ast.walk(tree))
        features["rebinding"] += sum(isinstance(n, ast.Assign) and n.targets[0].id in
                                     {x.id for x in ast.walk(n.value) if isinstance(x, ast.Name)}
                                     for n in ast.walk(tree) if isinstance(n, ast.Assign))
        for node in ast.walk(tree):
            if isinstance(node, ast.AugAssign):
                features[f"aug {type(node.op).__name__}"] += 1
            elif isinstance(node, ast.AnnAssign):
                features["annotated"] += 1
            elif isinstance(node, ast.UnaryOp):
                features[f"unary {type(node.op).__name__}"] += 1
                if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) and node.operand.value == 1:
                    features["int literal -1"] += 1
            elif isinstance(node, ast.Constant) and type(node.value) is int:
                features[f"int literal {node.value}"] += 1
            elif isinstance(node, ast.Call):
                calls.add(ast.unparse(node.func))
        max_uses = max([e.ins.count(v) for e in graph.eqns for v in e.ins if not isinstance(v, Lit)], default=0)
        uses = Counter(a for e in graph.eqns for a in e.ins if not isinstance(a, Lit))
        features["fan-out >= 5"] += bool(uses) and max(uses.values()) >= 5
        features["same value twice in one op"] += max_uses >= 2
    assert SCALAR_PRIMITIVES <= set(TABLE)
    assert SCALAR_PRIMITIVES <= ops, f"primitives never traced: {sorted(SCALAR_PRIMITIVES - ops)}"
    spellings = {fn for fn, _ in fuzzgen.ONE_ARG} | set(fuzzgen.TWO_ARG) | set(fuzzgen.POWER_CALLS)
    assert spellings <= calls, f"calls never written: {sorted(spellings - calls)}"
    expected = ["helper", "helper calls helper", "constant", "wrt", "round point", "numpy args", "general pow",
                "tricky name", "rebinding", "style lecture", "style compact", "math None", "math True",
                "math False", "annotated parameters", "math mode", "aug Add", "aug Sub", "aug Mult", "aug Div", "aug Pow", "annotated",
                "unary USub", "unary UAdd", "fan-out >= 5", "same value twice in one op",
                "int literal 0", "int literal 1", "int literal -1", "int literal 2", "int literal 3"]
    missing = [f for f in expected if features[f] == 0]
    assert not missing, f"features never generated: {missing} ({dict(features)})"


def _hand_written(body: str, args, wrt=None) -> fuzzgen.Program:
    return fuzzgen.Program(-1, fuzzgen.HEADER + "\n\ndef f(p0, p1):\n" + body, args, wrt, 1)


def test_the_checks_can_fail(tmp_path, monkeypatch):
    """A wrong rule (in generated code and interpreter alike) fails the finite differences; an
    interpreter that disagrees with the generated code fails the comparison of the two."""
    program = _hand_written("    return p0 * p1 + np.sin(p0)\n", (0.7, -1.3))
    assert check(program, tmp_path).fd == "checked"
    mul = TABLE["mul"]
    rules = mul.rules
    wrong = replace(rules[0], expr=Expr("g * b * 1.0001", ("g", "out", "a", "b")))
    object.__setattr__(mul, "rules", (wrong, rules[1]))
    try:
        with pytest.raises(AssertionError, match="grad p0: generated .* vs central differences"):
            check(program, tmp_path)
    finally:
        object.__setattr__(mul, "rules", rules)
    assert check(program, tmp_path).fd == "checked"
    real = interpret.value_and_grad
    monkeypatch.setattr(interpret, "value_and_grad",
                        lambda *a: (lambda v, g: (v, (g[0] * (1 + 1e-11), *g[1:])))(*real(*a)))
    with pytest.raises(AssertionError, match="grad p0: generated vs interpreter"):
        check(program, tmp_path)


def test_kinks_and_steep_points_skip_only_the_finite_differences(tmp_path):
    kink = _hand_written("    return max(p0, p1) * p0 + abs(p1 - 1.0)\n", (1.0, 1.0))
    assert check(kink, tmp_path).counts == Counter(kink=2)
    near = _hand_written("    return max(p0, p1) * p0\n", (1.0, 1.00005))  # 50 steps away
    assert check(near, tmp_path).counts == Counter(kink=2)
    far = _hand_written("    return max(p0, p1) * p0\n", (1.0, 1.001))
    assert check(far, tmp_path).counts == Counter(checked=2)
    same = _hand_written("    return max(p0, p0) * p1 + abs(p1 - p1)\n", (1.0, 2.0))  # a tie everywhere: smooth
    assert check(same, tmp_path).counts == Counter(checked=2)
    steep = _hand_written("    return np.sin(100000000.0 * p0) + p1\n", (0.3, 2.0))
    # (p1's difference, 1, is tiny next to p0's, ~1e8: at 1e-7 of that scale, p1 is too loose to check)
    assert check(steep, tmp_path).counts == Counter(steep=1, loose=1)


def test_the_hvp_is_not_compared_at_a_kink(tmp_path):
    """abs(p1) ** 2 is smooth at p1 = 0, and so is its gradient 2 abs(p1) sign(p1): its differences see
    the second derivative 2, the HVP sign(0) = 0 in its place (seed 100406).  Away from the kink it is compared."""
    at = check(_hand_written("    return abs(p1) ** 2 + p0 * p1\n", (1.0, 0.0)), tmp_path)
    assert (at.counts, at.modes) == (Counter(kink=2), "kink")
    away = check(_hand_written("    return abs(p1) ** 2 + p0 * p1\n", (1.0, 0.5)), tmp_path)
    assert (away.counts, away.modes) == (Counter(checked=2), "checked")


def test_the_tolerance_never_exceeds_a_tenth_of_the_difference(tmp_path):
    """Large intermediates make the rounding bound 16 LD scale / h large: such entries are skipped as
    "loose", never passed with a tolerance that would let a factor 2 (or a sign) through."""
    big = _hand_written("    a = p0 * 1000000000000.0\n    return (a - a) + 0.001 * p1 + p0\n", (0.3, 2.0))
    outcome = check(big, tmp_path)
    assert outcome.counts == Counter(loose=2), outcome.counts
    # the same function with small intermediates: both entries checked
    small = _hand_written("    a = p0 * 2.0\n    return (a - a) + 0.001 * p1 + p0\n", (0.3, 2.0))
    assert check(small, tmp_path).counts == Counter(checked=2)
    # every checked entry's tolerance is at most FD_FRACTION of its difference
    assert fd_verdict(1.0, 1.0, 0.05, 1e-5) == "checked" and fd_verdict(1.0, 1.0, 0.2, 1e-5) == "loose"
    assert fd_verdict(0.0, 0.0, 1e-7, 1e-5) == "zero" and fd_verdict(1.0, 2.0, 1e-7, 1e-5) == "steep"


def test_a_flat_entry_must_have_a_zero_gradient(tmp_path, monkeypatch):
    """Differences that are exactly zero (the output ignores p1): the gradient must be ~0; a rule that
    leaks gradient there fails, though no tolerance relative to 0 exists."""
    program = _hand_written("    return np.where(p0 > 0.0, p0 * 2.0, p1) + 0.0 * 0.0\n", (0.5, 0.7))
    assert check(program, tmp_path).counts == Counter(checked=1, zero=1)
    where = TABLE["where"]
    rules = where.rules
    leak = replace(rules[2], expr=Expr("np.where(c, 0.5 * g, g)", ("g", "out", "c", "a", "b")))
    object.__setattr__(where, "rules", (rules[0], rules[1], leak))
    try:
        with pytest.raises(AssertionError, match="grad p1: generated .* flat here"):
            check(program, tmp_path)
    finally:
        object.__setattr__(where, "rules", rules)
