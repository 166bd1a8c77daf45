"""Fuzzing the scalar subset: random programs from tests/fuzzgen.py, each checked four ways.

For every program (seed s): write it to a file, generate its module with flatgen
(`parse.load_target` + `pipeline.generate`, with the program's wrt, style and math), exec the module, exec the program itself, and at the
program's sample point check

1. the generated forward `f` and the value of `f_value_and_grad` == the interpreter's forward,
   bit for bit, and of the same dtype;
2. the generated gradients == the interpreter's reverse sweep, to 1e-12 relative, and of the same
   dtype (a gradient True where the interpreter says 1.0 is wrong: True + True is True in numpy);
3. both == central finite differences of the user's own function (step 1e-6 * max(1, |x|),
   rtol 1e-5, atol 1e-7 * the gradient's scale plus a bound on the differences' rounding), computed in
   np.longdouble so rounding does not swamp them.  Skipped (and counted) where the differences
   cannot be trusted: within ~1e-4 of a kink (an abs, max or min whose branch changes between the
   point and the point moved by 1, 10 or 100 steps along any parameter), or where the function is
   so steep that differences with the step and a tenth of it disagree;
4. the user's own function (math, builtins) == the generated value to 1e-12 relative (and 4 ulps
   of the largest value inside, for cancellation): math and numpy may differ in the last bits only.

CI runs FUZZ_N programs (240: seeds 0..239, in batches of 20, ~10 s).  On demand, any number from
any first seed (5000 take about two minutes):

    FLATGEN_FUZZ_N=5000 python -m pytest -q tests/test_fuzz.py
    FLATGEN_FUZZ_N=5000 FLATGEN_FUZZ_SEED=100000 python -m pytest -q tests/test_fuzz.py

A failure names the seed and prints the whole program, its point and the error.  To reproduce:

    python tests/fuzzgen.py SEED                                      # the program and its point
    FLATGEN_FUZZ_SEED=SEED FLATGEN_FUZZ_N=1 python -m pytest -q tests/test_fuzz.py -k seeds

A seed that once found a bug goes into KNOWN_SEEDS below: those programs are checked on every run.
The line "fuzz: ..." at the end of the run counts programs, finite-difference checks and skips.
"""

from __future__ import annotations

import ast
import hashlib
import os
import subprocess
import sys
import traceback
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pytest

import fuzzgen
from conftest import checkout_env
from flatgen import interpret
from flatgen.graph import Lit
from flatgen.parse import load_target
from flatgen.pipeline import Options, generate
from flatgen.primitives import TABLE, Template
from numerics import FD_FRACTION, fd_verdict, nonzero_entries

FUZZ_N = int(os.environ.get("FLATGEN_FUZZ_N", "240"))
FUZZ_SEED = int(os.environ.get("FLATGEN_FUZZ_SEED", "0"))
BATCH = 20

# Seeds whose programs once found a bug: they must pass, on every run.
# seed -> (the first 12 hex digits of sha256(program source), what it found).  The digest pins the
# program: if fuzzgen changes, the seed may write another program, and the test says so.
KNOWN_SEEDS = {
    # `x ** 0` with x == 0: the pow rule g * 0 * x ** -1 raised ZeroDivisionError (Python floats)
    # or gave nan (np.float64) where the gradient is 0 (fixed in b793c55: x ** 0 traces to 1).
    735: ("a7b76ca8ebdb", "x ** 0 at x == 0: nan gradient (np.float64), true gradient -0.08"),
    825: ("5bba6a9e6303", "x ** 0 at x == 0: ZeroDivisionError in f_value_and_grad (Python floats)"),
    1761: ("e7ea02505119", "x ** 0 at x == 0 (x = p0 - p0): nan gradient, true gradient 0"),
    # Math mode (plain-float code, Options.math or parameters annotated float/int): the abs rule's
    # sign became (x > 0) - (x < 0), and numpy scalars cannot subtract booleans: TypeError.
    16: ("6cbd16f3738a", "math mode from annotations, np.float64 arguments: abs gradient raises TypeError"),
    22: ("1318b95e258f", "math=True, np.float64 arguments: abs gradient raises TypeError"),
    # Compact style: the copy-gate comment named a value that simplification had removed: KeyError.
    149: ("e21e08beebcc", "compact: KeyError Var('h0_w') rendering the copy gate of a simplified-away value"),
    2759: ("36e9763e1b99", "compact: KeyError Var(None, temp) rendering the copy gate"),
    # Compact style: `1.0 * (a >= b)` (a max/min rule under the folded seed) rendered as the bare
    # comparison, so gradients are booleans: True + True is True for numpy scalars, -True raises.
    154: ("58382a9da70a", "compact: TypeError, numpy boolean negative in the backward pass"),
    803: ("9ca82688b749", "compact: gradient np.True_ where the interpreter says 1.0"),
    937: ("130056485aa3", "compact, Python floats: gradient 2 (int) where the interpreter says 2.0"),
    302958: ("fd7edf67ec84", "compact: gradient True where the interpreter (and the maths) say 3.0"),
    # The harness: a point so steep (cos of ~3e15) that finite differences mean nothing, and the
    # check once took its tolerance from the gradient under test instead of from the differences.
    1906: ("5c23959bdd64", "steep point: finite differences must be skipped, not compared"),
}

EPS = 1e-6  # the finite-difference step, times max(1, |x|)
FD_RTOL = 1e-5
FD_ATOL = 1e-7  # times the gradient's scale: max(1, the largest difference quotient)
STEPS = (1, 10, 100)  # kink detection: the branch taken must not change this many steps away
F64 = np.finfo(np.float64).eps
LD = np.finfo(np.longdouble).eps

STATS: Counter = Counter()


@dataclass
class Outcome:
    # per gradient entry, how finite differences checked it: "checked", "zero" (flat: |g| <= atol), or
    # skipped: at a "kink", as too "steep", or "loose" (a tolerance above FD_FRACTION of the difference)
    counts: Counter = field(default_factory=Counter)
    nonzero: tuple = (0, 0)  # (non-zero gradient entries, entries), as generated

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
        with np.errstate(all="ignore"):
            fds = [(central_difference(ld_f, args, i, h), central_difference(ld_f, args, i, h / 10))
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
    return outcome


def central_difference(fn, args, i: int, h: float) -> float:
    """(f(x + h) - f(x - h)) / 2h in np.longdouble, every operation of the program included."""
    x = [np.longdouble(float(a)) for a in args]
    up, down = list(x), list(x)
    up[i] += np.longdouble(h)
    down[i] -= np.longdouble(h)
    return float((fn(*up) - fn(*down)) / (up[i] - down[i]))


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
    failures = []
    fd_checked = 0
    for seed in seeds:
        program = fuzzgen.generate(seed)
        STATS["programs"] += 1
        try:
            outcome = check(program, workdir)
        except Exception as exc:  # noqa: BLE001 - a flatgen error on a valid program is a failure too
            STATS["failures"] += 1
            failures.append(report(program, exc))
            continue
        STATS[f"fd {outcome.fd}"] += 1
        fd_checked += outcome.fd == "checked"
    assert not failures, f"{len(failures)} of {len(seeds)} fuzzed programs failed:\n\n" + "\n\n".join(failures)
    # The finite-difference check must not quietly skip everything.
    assert fd_checked >= len(seeds) // 2, f"finite differences checked on only {fd_checked} of {len(seeds)} programs"


def report(program: fuzzgen.Program, exc: BaseException) -> str:
    error = "".join(traceback.format_exception(exc, limit=-6)).strip()
    return (
        f"=== seed {program.seed} ===\n"
        f"reproduce: python tests/fuzzgen.py {program.seed}   or   "
        f"FLATGEN_FUZZ_SEED={program.seed} FLATGEN_FUZZ_N=1 python -m pytest -q tests/test_fuzz.py -k seeds\n"
        f"args = {program.args!r}\nwrt = {program.wrt!r}, style = {program.style!r}, math = {program.math!r} "
        f"(flatgen.pipeline.Options)\n"
        f"--- program ---\n{program.source}--- error ---\n{error}"
    )


@pytest.fixture(scope="module", autouse=True)
def summary(request):
    STATS.clear()
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None and STATS["programs"]:
        with capture.global_and_fixture_disabled():  # shown without -s
            reporter.write_line(
                f"\nfuzz: {STATS['programs']} programs (seeds from {FUZZ_SEED}), finite differences checked "
                f"on {STATS['fd checked']}, skipped at kinks {STATS['fd kink']}, skipped as too steep "
                f"{STATS['fd steep']}, failures {STATS['failures']}"
            )


BATCHES = [range(FUZZ_SEED + b, min(FUZZ_SEED + b + BATCH, FUZZ_SEED + FUZZ_N)) for b in range(0, FUZZ_N, BATCH)]


@pytest.mark.parametrize("seeds", BATCHES, ids=[f"seeds{r.start}-{r.stop - 1}" for r in BATCHES])
def test_fuzz(seeds, tmp_path):
    run_seeds(seeds, tmp_path)


@pytest.mark.parametrize("seed", sorted(KNOWN_SEEDS))
def test_known_seed(seed, tmp_path):
    """A program that once found a bug (KNOWN_SEEDS says which)."""
    digest, found = KNOWN_SEEDS[seed]
    source = fuzzgen.generate(seed).source
    assert hashlib.sha256(source.encode()).hexdigest()[:12] == digest, (
        f"fuzzgen now writes another program for seed {seed} (it once found: {found}); "
        f"keep the old program as a hand-written case, then update or drop the seed")
    run_seeds([seed], tmp_path)


# -- the fuzzer itself --------------------------------------------------------------------------------


def _program_digest(seed: int) -> str:
    p = fuzzgen.generate(seed)
    return hashlib.sha256(f"{p.source}{p.args!r}{p.wrt!r}{p.style}{p.math}".encode()).hexdigest()


def _digest(seeds) -> str:
    return hashlib.sha256("".join(_program_digest(s) for s in seeds).encode()).hexdigest()


def test_generator_is_deterministic():
    seeds = range(40)
    each = {s: _program_digest(s) for s in seeds}
    # no state carried from one program to the next: the same programs drawn in the reverse order
    assert {s: _program_digest(s) for s in reversed(seeds)} == each
    assert len({fuzzgen.generate(s).source for s in seeds}) == len(seeds)
    # ... and independent of hash randomization, in a fresh interpreter (running this checkout)
    code = "from test_fuzz import _digest; print(_digest(range(40)))"
    for hashseed in ("1", "2"):
        env = checkout_env(Path(__file__).parent, PYTHONHASHSEED=hashseed)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == _digest(seeds)


def test_generator_reaches_every_primitive_and_feature(tmp_path):
    """The CI seeds between them trace to every primitive and use every construct the fuzzer promises."""
    seeds = range(FUZZ_SEED, FUZZ_SEED + max(FUZZ_N, 200))
    ops: set = set()
    calls: set = set()
    features: Counter = Counter()
    for seed in seeds:
        program = fuzzgen.generate(seed)
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
                "unary USub", "unary UAdd", "fan-out >= 5", "same value twice in one op"]
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
    wrong = replace(rules[0], expr=Template("g * b * 1.0001", ("g", "out", "a", "b")))
    object.__setattr__(mul, "rules", (wrong, rules[1]))
    try:
        with pytest.raises(AssertionError, match="grad p0: generated vs central differences"):
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
    assert check(kink, tmp_path).fd == "kink"
    near = _hand_written("    return max(p0, p1) * p0\n", (1.0, 1.00005))  # 50 steps away
    assert check(near, tmp_path).fd == "kink"
    far = _hand_written("    return max(p0, p1) * p0\n", (1.0, 1.001))
    assert check(far, tmp_path).fd == "checked"
    same = _hand_written("    return max(p0, p0) * p1 + abs(p1 - p1)\n", (1.0, 2.0))  # a tie everywhere: smooth
    assert check(same, tmp_path).fd == "checked"
    steep = _hand_written("    return np.sin(100000000.0 * p0) + p1\n", (0.3, 2.0))
    assert check(steep, tmp_path).fd == "steep"
