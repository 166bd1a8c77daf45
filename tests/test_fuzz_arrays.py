"""Fuzzing the array subset: random array programs from tests/fuzzgen_arrays.py, each checked four ways.

For every program (seed s): write it to a file and import it, so `f` is a real function with readable
source; generate its module with the decorator, `flatgen.flat(f, ...)`, with the shapes from
`example=`, from `shapes=`, or from the first call's arguments (the program says which), and for
about three programs in four the command-line way too, `parse.load_target("file.py:f")` +
`pipeline.generate(src, fn, Options(shapes=...))` (or string shape annotations, `W: "(2, 3)"`, and
no shapes), each with the program's `style` ("lecture"/"compact"), `free` and `wrt` (a subset of the
parameters, in a shuffled order).  Then, at the program's float64 sample point:

1. the generated forward (`f` of the module, and the value of `f_value_and_grad`) == the
   interpreter's value, bit for bit (np.array_equal); the user's own function agrees to 1e-12;
2. the generated gradients == the interpreter's reverse sweep (`f.interpret`), to 1e-12 relative
   (atol scaled by the largest gradient element); each gradient has its parameter's shape, dtype
   float64 and finite values; no call writes into its arguments;
3. both == central finite differences of the user's own function, per element (step
   1e-6 * max(1, |x|), rtol 1e-5, atol 1e-7 * the differences' scale plus a bound on their rounding),
   computed in np.longdouble.  Skipped per element, and counted, where differences cannot be trusted:
   at a kink (an abs, np.maximum/np.minimum, ReLU, max/min reduction or np.where/mask comparison
   whose decision, as flatgen's interpreter evaluates it, changes when that element moves one step
   either way: ties and zeros included), or where the step and a tenth of it disagree (too steep).
   The tolerance never exceeds 10% of the difference it checks (numerics.fd_verdict): an element
   where it would is skipped and counted as "loose", never passed; an element whose differences are
   exactly 0 (the function is flat along it) must be within atol of 0;
4. the module's text is Black-stable: flatgen.format.format_source(source) == source.

CI runs FUZZ_N programs (160: seeds 0..159, in batches of 20, ~15 s).  On demand, any number from
any first seed (2000 programs: ~4 minutes on one core; `-k seeds` runs the fuzzed batches only):

    FLATGEN_FUZZ_ARRAYS_N=2000 python -m pytest -q tests/test_fuzz_arrays.py -k seeds
    FLATGEN_FUZZ_ARRAYS_N=2000 FLATGEN_FUZZ_ARRAYS_SEED=100000 python -m pytest -q tests/test_fuzz_arrays.py -k seeds

A failure names the seed and prints the whole program, how it was generated (shapes, wrt, style,
free, decorator and command-line paths), the sample point and the error.  To reproduce:

    python tests/fuzzgen_arrays.py SEED                               # the program and its point
    FLATGEN_FUZZ_ARRAYS_SEED=SEED FLATGEN_FUZZ_ARRAYS_N=1 python -m pytest -q tests/test_fuzz_arrays.py -k seeds

A program that once found a bug goes into tests/fuzz_known.py (ARRAYS), verbatim: those programs are
checked on every run, and fail until the bug is fixed.  Each batch of fuzzed programs must have a
non-zero gradient in at least 90% of its programs and finite differences checked on at least half of
its elements where the function is not flat.  Augmented assignment on a numpy array works in place, which the generator stays away
from (see fuzzgen_arrays): IN_PLACE_CASES at the end check it by hand.  The line "array fuzz: ..."
at the end of the run counts programs, non-zero gradient elements, finite-difference checks and skips.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import itertools
import os
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pytest

import flatgen
import fuzz_known
import fuzzgen_arrays as fz
import fuzzing
from flatgen import interpret
from flatgen.errors import FlatgenError
from flatgen.graph import Lit
from flatgen.parse import load_target
from flatgen.pipeline import Options, generate
from flatgen.expr import Expr
from flatgen.primitives import TABLE
from fuzzing import EPS, F64, FD_ATOL, FD_RTOL, GRAD_RTOL, LD
from numerics import fd_verdict, nonzero_entries

FUZZ_N = int(os.environ.get("FLATGEN_FUZZ_ARRAYS_N", "160"))
FUZZ_SEED = int(os.environ.get("FLATGEN_FUZZ_ARRAYS_SEED", "0"))

# Programs that once found a bug (tests/fuzz_known.py: kept verbatim, since the generator has changed
# since): they must pass, on every run.  A new one: add the program there (seed -> (what it found, Program)).
KNOWN = fuzz_known.ARRAYS

# Operations whose local gradient jumps: their decisions decide whether differences can be trusted.
KINKS = {"abs", "maximum", "minimum", "max2", "min2", "max", "max_axis", "min", "min_axis", "gt", "lt", "ge", "le", "eq", "ne"}

STATS: Counter = Counter()
_TAGS = itertools.count()  # module names for the imported programs, never reused


# The line at the end of the run (fuzzing.summary_fixture).
def summary_line() -> str:
    return (
        f"array fuzz: {STATS['programs']} programs (seeds from {FUZZ_SEED}; {STATS['cli']} also by the command "
        f"line), {fuzzing.gradient_summary(STATS, entries='elements')}; finite differences checked on "
        f"{STATS['fd checked']} elements, {fuzzing.skips_summary(STATS)} (in {STATS['fd programs with skips']} "
        f"programs); failures {STATS['failures']}"
    )


summary = fuzzing.summary_fixture(STATS, {"programs": summary_line})


@dataclass
class Outcome:
    fd: Counter = field(default_factory=Counter)  # elements: "checked", "zero", "kink", "steep", "loose"
    ops: set = field(default_factory=set)  # the primitives the program traced to
    paths: list = field(default_factory=list)  # the generation paths checked
    nonzero: tuple = (0, 0)  # (non-zero gradient elements, elements), as generated
    modes: str = ""  # fuzzing.check_modes: "checked", or why not


def fresh(args):
    """Copies of the arguments: nothing a call does to them can leak into the next one."""
    return tuple(np.array(a) if isinstance(a, np.ndarray) else a for a in args)


def same_args(a, b) -> bool:
    return all(type(x) is type(y) and np.array_equal(x, y) for x, y in zip(a, b))


def import_program(path: Path, tag: str):
    """Import the written program as a real module: `f` is a function whose source inspect can read."""
    return fuzzing.import_program(path, f"fuzz_arrays_{tag}")


def exec_module(text: str, tag: str) -> dict:
    ns: dict = {"__name__": f"flatgen_fuzz_arrays_{tag}"}
    exec(compile(text, f"<flatgen array fuzz {tag}>", "exec"), ns)
    return ns


def contribution_scales(grad_graph, args) -> dict[str, float]:
    """Per parameter, the largest contribution to its gradient (the adjoint equations that compute
    it, as the gradient graph evaluates them): the scale of rounding in a gradient whose
    contributions cancel, where the gradient's own size would be no scale at all."""
    with np.errstate(all="ignore"):
        env = interpret.run(grad_graph, args)
    params = {id(p): p.hint for p in grad_graph.params}
    scales: dict[str, float] = {}
    for e in grad_graph.eqns[grad_graph.n_forward:]:
        name = params.get(id(getattr(e.out, "of", None)))
        if name is not None and np.size(env[e.out]):
            scales[name] = max(scales.get(name, 0.0), float(np.max(np.abs(env[e.out]))))
    return scales


def check_generated(label, value, forward, grads, ref_value, ref_grads, program, wrt_names, scales):
    """Checks 1 and 2: generated value == interpreter value bit for bit; gradients to 1e-12, right shapes.

    The tolerance is 1e-12 times the gradient's largest element, or its largest contribution when
    that is larger (contributions that cancel to ~0 leave rounding of their own size)."""
    assert np.array_equal(forward, ref_value), f"{label}: generated f() = {forward!r}, interpreter = {ref_value!r}"
    assert np.array_equal(value, ref_value), (
        f"{label}: generated f_value_and_grad value = {value!r}, interpreter = {ref_value!r}")
    assert np.shape(value) == (), f"{label}: the value has shape {np.shape(value)}"
    assert len(grads) == len(ref_grads) == len(wrt_names), (
        f"{label}: {len(grads)} gradients, interpreter {len(ref_grads)}, wrt {wrt_names}")
    shapes = dict(program.shapes)
    for name, g, r in zip(wrt_names, grads, ref_grads):
        for who, x in (("generated", g), ("interpreter", r)):
            assert np.shape(x) == shapes[name], (
                f"{label}: {who} grad {name} has shape {np.shape(x)}, {name} has shape {shapes[name]}")
            assert np.asarray(x).dtype == np.float64, f"{label}: {who} grad {name} has dtype {np.asarray(x).dtype}"
            assert np.all(np.isfinite(x)), f"{label}: {who} grad {name} is not finite: {x!r}"
        scale = max(float(np.max(np.abs(r))) if np.size(r) else 0.0, scales.get(name, 0.0))
        np.testing.assert_allclose(g, r, rtol=GRAD_RTOL, atol=GRAD_RTOL * scale + 1e-300,
                                   err_msg=f"{label}: grad {name}: generated vs interpreter")


def check_black(label: str, source: str) -> None:
    """Check 4: Black leaves the module as it is."""
    fuzzing.check_black(label, source)


def check(program: fz.Program, workdir: Path) -> Outcome:
    """All the checks for one program; raises (AssertionError or flatgen's own error) on a failure."""
    outcome = Outcome()
    tag = f"{program.seed}_{next(_TAGS)}"
    # a file of its own each time: flatgen reads sources through linecache, which a rewrite within
    # the same second (same size) could leave stale
    path = workdir / f"fuzz_arrays_{tag}.py"
    path.write_text(program.source)
    user_f = import_program(path, tag)
    args = program.args
    saved = fresh(args)
    wrt_names = list(program.wrt) if program.wrt is not None else list(program.params)

    # -- the decorator ----------------------------------------------------------------------------
    kw = dict(wrt=program.wrt, style=program.style, free=program.free)
    if program.decorator == "example":
        flat = flatgen.flat(user_f, example=fresh(args), **kw)
    elif program.decorator == "shapes":
        flat = flatgen.flat(user_f, shapes=dict(program.shapes), **kw)
    else:  # the first value_and_grad call specialises the module to its arguments' shapes
        flat = flatgen.flat(user_f, **kw)
    with np.errstate(all="ignore"):
        value, grads = flat.value_and_grad(*args)
        assert same_args(args, saved), "the generated f_value_and_grad wrote into its arguments"
        ref_value, ref_grads = flat.interpret(*args)
        assert same_args(args, saved), "the interpreter wrote into its arguments"
        forward = flat.module.f(*args)
        assert same_args(args, saved), "the generated f wrote into its arguments"
        user_value = user_f(*fresh(args))
    check_generated("decorator", value, forward, grads, ref_value, ref_grads, program, wrt_names,
                    contribution_scales(flat.grad_graph, args))
    graph = flat.graph
    assert [p.hint for p in graph.params] == list(program.params)
    env = interpret.run(graph, args)
    vscale = max([float(np.max(np.abs(v))) for v in env.values() if np.size(v)] + [abs(float(ref_value))])
    assert np.isclose(user_value, value, rtol=1e-12, atol=4 * F64 * vscale), (
        f"the user's own function = {user_value!r}, generated = {value!r}")
    check_black("decorator", flat.source)
    outcome.paths.append(f"decorator {program.decorator}")
    outcome.ops |= {e.op.name for e in graph.eqns}

    # -- the command line ---------------------------------------------------------------------------
    if program.cli is not None:
        if program.cli == "annotations":
            cli_path = workdir / f"fuzz_arrays_{tag}_annotated.py"
            cli_path.write_text(program.annotated_source)
            shapes = None
        else:
            cli_path, shapes = path, program.shapes
        src, node = load_target(f"{cli_path}:f")
        result = generate(src, node, Options(wrt=program.wrt, shapes=shapes, style=program.cli_style,
                                             free=program.cli_free))
        module = exec_module(result.source, tag)
        with np.errstate(all="ignore"):
            value2, grads2 = module["f_value_and_grad"](*args)
            forward2 = module["f"](*args)
            assert same_args(args, saved), "the generated module (command line) wrote into its arguments"
            ref_value2, ref_grads2 = interpret.value_and_grad(result.graph, args, result.wrt)
            evaluated = interpret.evaluate(result.graph, args)[0]
        assert [v.hint for v in result.wrt] == wrt_names
        assert np.array_equal(evaluated, ref_value2), (evaluated, ref_value2)
        check_generated(f"command line ({program.cli})", value2, forward2, grads2, ref_value2, ref_grads2,
                        program, wrt_names, contribution_scales(result.grad_graph, args))
        assert np.array_equal(value2, value), f"command line value {value2!r}, decorator {value!r}"
        check_black(f"command line ({program.cli})", result.source)
        outcome.paths.append(f"cli {program.cli}")

    # -- finite differences -----------------------------------------------------------------------
    outcome.fd = finite_differences(program, graph, user_f, args, wrt_names, grads, ref_grads, vscale)
    outcome.nonzero = nonzero_entries(grads)
    # -- forward mode and second order (issue 17): the JVP against the gradient, the HVP against its differences
    if outcome.fd["checked"]:
        g = flat.generated
        with np.errstate(all="ignore"):
            outcome.modes = fuzzing.check_modes(g, args, lambda *a: flat.value_and_grad(*a), grads,
                                                [list(program.params).index(n) for n in wrt_names], program.seed)
    return outcome


def decisions(graph, args) -> list:
    """The branch every kink takes at `args`, as flatgen's interpreter evaluates the forward graph."""
    with np.errstate(all="ignore"):
        env = interpret.run(graph, args)
    out = []
    for e in graph.eqns:
        name = e.op.name
        if name not in KINKS:
            continue
        a, *rest = [x.value if isinstance(x, Lit) else env[x] for x in e.ins]
        if name == "abs":
            d = np.sign(a)
        elif name in ("maximum", "max2"):
            d = a >= rest[0]
        elif name in ("minimum", "min2"):
            d = a <= rest[0]
        elif name.startswith(("max", "min")):  # the elements equal to the result (ties: several)
            reduce = np.max if name.startswith("max") else np.min
            d = a == reduce(a, axis=e.params.get("axis"), keepdims=True)
        else:  # a comparison: the mask itself
            d = env[e.out]
        out.append(np.asarray(d))
    return out


def same_decisions(a: list, b: list) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def finite_differences(program, graph, user_f, args, wrt_names, grads, ref_grads, vscale) -> Counter:
    """Check 3, per element of every differentiated parameter; returns the counts of checked and skipped."""
    counts: Counter = Counter()
    params = list(program.params)
    kinky = any(e.op.name in KINKS for e in graph.eqns)
    here = decisions(graph, args) if kinky else []
    rows = []  # (name, k, idx, h, fd, fine) for elements away from kinks
    ld_args = fuzzing.longdouble_args(args)
    for k, name in enumerate(wrt_names):
        i = params.index(name)
        x = np.asarray(args[i], dtype=np.float64)
        for idx in np.ndindex(x.shape):
            h = EPS * max(1.0, abs(float(x[idx])))
            if kinky:
                flips = False
                for sign in (1, -1):
                    moved = list(args)
                    y = np.array(x)
                    y[idx] += sign * h
                    moved[i] = y if x.ndim else type(args[i])(y[()])
                    if not same_decisions(decisions(graph, tuple(moved)), here):
                        flips = True
                        break
                if flips:
                    counts["kink"] += 1
                    continue
            with np.errstate(all="ignore"):
                fd = fuzzing.central_difference(user_f, ld_args, i, idx, h)
                fine = fuzzing.central_difference(user_f, ld_args, i, idx, h / 10)
            rows.append((name, k, idx, h, fd, fine))
    # The scale comes from the differences, never from the gradients under test.
    gscale = max([1.0] + [abs(d) for r in rows for d in r[4:] if np.isfinite(d)])
    for name, k, idx, h, fd, fine in rows:
        atol = FD_ATOL * gscale + 16 * LD * vscale / h  # + the differences' own rounding
        verdict = fd_verdict(fd, fine, atol, FD_RTOL)  # steep, zero, loose or checked
        counts[verdict] += 1
        if verdict not in ("checked", "zero"):
            continue
        tol = atol + FD_RTOL * abs(fd) if verdict == "checked" else atol
        for label, g in (("generated", grads[k]), ("interpreter", ref_grads[k])):
            got = float(np.asarray(g)[idx])
            assert abs(got - fd) <= tol, (
                f"grad {name}{list(idx) if idx else ''}: {label} {got!r} vs central differences "
                f"(step {h:.3g}: {fd!r}, step {h / 10:.3g}: {fine!r}); tolerance {tol:.3g}"
                + (" (the function is flat here)" if verdict == "zero" else ""))
    return counts


def run_seeds(seeds, workdir: Path) -> None:
    """Check each seed's program; one assertion at the end naming every failing seed, in full."""
    run_programs([program_for(seed) for seed in seeds], workdir, fuzzed=True)


@functools.lru_cache(maxsize=None)
def program_for(seed: int) -> fz.Program:
    """The seed's program, generated once per session (shared by the batches and the feature and
    determinism tests; the determinism test also generates afresh).  check() never writes into it."""
    return fz.generate(seed)


def run_programs(programs, workdir: Path, fuzzed: bool) -> None:
    """Check each program; one assertion at the end naming every failing program, in full.  For fuzzed
    programs, also that they checked something: at least 90% with a non-zero gradient (a gradient of
    zeros agrees with everything), and finite differences checked on at least half of the elements."""
    checked = fuzzing.run_checks(programs, lambda program: check(program, workdir), report, STATS,
                                  what="fuzzed array programs")
    fd: Counter = Counter()
    for program, outcome in checked:
        fd.update(outcome.fd)
        for key, n in outcome.fd.items():
            STATS[f"fd {key}"] += n
        STATS["fd programs with skips"] += bool(outcome.fd["kink"] or outcome.fd["steep"] or outcome.fd["loose"])
        STATS["cli"] += any(p.startswith("cli") for p in outcome.paths)
    if fuzzed:
        fuzzing.assert_gradients(checked, programs)
        # The finite-difference check must not quietly skip everything: half of the elements where the
        # function is not flat (a flat element, "zero", is held to 0 absolutely), as the scalar fuzzer
        # counts (a batch of seeds 820-839 had 156 flat elements of 309 and 142 checked of the other 153).
        total = sum(fd.values())
        assert fd["checked"] >= (total - fd["zero"]) // 2, (
            f"finite differences checked on only {fd['checked']} of {total - fd['zero']} non-flat elements "
            f"({dict(fd)})")


def report(program: fz.Program, exc: BaseException) -> str:
    with np.printoptions(precision=17, threshold=10**6):
        point = "\n".join(f"{p} = {a!r}" for p, a in zip(program.params, program.args))
    known = fuzzing.is_known(fuzz_known.ARRAYS, program)
    how = (f"fuzz_known.ARRAYS[{program.seed}]   or   python -m pytest -q tests/test_fuzz_arrays.py "
           f"-k 'known and {program.seed}'" if known else
           f"python tests/fuzzgen_arrays.py {program.seed}   or   FLATGEN_FUZZ_ARRAYS_SEED={program.seed} "
           f"FLATGEN_FUZZ_ARRAYS_N=1 python -m pytest -q tests/test_fuzz_arrays.py -k seeds")
    return fuzzing.failure(f"{'known program' if known else 'seed'} {program.seed}", how, program.describe(),
                           program.source, exc, point=point)


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
    h = hashlib.sha256()
    p = fz.generate(seed) if fresh else program_for(seed)
    h.update(f"{p.source}{p.describe()}{p.annotated_source}".encode())
    for a in p.args:
        h.update(f"{type(a).__name__}{np.shape(a)}".encode() + np.asarray(a, dtype=np.float64).tobytes())
    return h.hexdigest()


def _digest(seeds) -> str:
    return fuzzing.digest(_program_digest(s) for s in seeds)


def test_generator_is_deterministic():
    fuzzing.assert_deterministic(range(30), lambda s, fresh: _program_digest(s, fresh),
                                 lambda s: program_for(s).source,
                                 "from test_fuzz_arrays import _digest; print(_digest(range(30)))", afresh=10)


# The array primitives the fuzzer must reach between the CI seeds (every row of the table but the
# scalar-only spellings, which tests/test_fuzz.py covers, and the rows of other language features).
ARRAY_PRIMITIVES = {
    "add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "tanh", "sin", "cos", "abs", "maximum",
    "minimum", "sigmoid", "where", "gt", "lt", "ge", "le", "eq", "ne", "matmul", "matmul_mv", "matmul_vm", "dot",
    "outer", "sum", "sum_axis", "mean", "mean_axis", "max", "max_axis", "min", "min_axis", "T", "transpose",
    "reshape", "expand_dims", "index", "zeros_like", "ones_like", "zeros", "ones",
}


def _features(program: fz.Program, graph) -> Counter:
    """What a program uses, from its syntax tree, its graph and how it is generated."""
    tree = ast.parse(program.source)
    f = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "f")
    text = ast.unparse(f)
    found: Counter = Counter()
    found[f"decorator {program.decorator}"] += 1
    found[f"cli {program.cli}"] += 1
    found[f"style {program.style}"] += 1
    found[f"free {program.free}"] += 1
    found["wrt subset"] += program.wrt is not None and len(program.wrt) < len(program.params)
    found["wrt reordered"] += program.wrt is not None and list(program.wrt) != sorted(program.wrt, key=program.params.index)
    found["helper"] += any(isinstance(n, ast.FunctionDef) and n.name != "f" for n in tree.body)
    found["loop"] += any(isinstance(n, ast.For) for n in ast.walk(f))
    found["xs[t]"] += "[t]" in text
    found["scalar parameter (float)"] += any(type(a) is float for a in program.args)
    found["scalar parameter (np.float64)"] += any(type(a) is np.float64 for a in program.args)
    found["3-D parameter"] += any(len(s) == 3 for _, s in program.shapes)
    found["size-1 axis"] += any(1 in s for _, s in program.shapes)
    found["tie or round value"] += any(
        isinstance(a, np.ndarray) and (len(np.unique(a)) < a.size or np.isin(a, fz.ROUND_VALUES).any())
        for a in program.args)
    for node in ast.walk(f):
        if isinstance(node, ast.AugAssign):
            found[f"aug {type(node.op).__name__}"] += 1
        elif isinstance(node, ast.Compare):
            found[f"compare {type(node.ops[0]).__name__}"] += 1
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            found["@"] += 1
        elif isinstance(node, ast.Constant) and type(node.value) is int and node.value in (0, 1, 2, 3):
            found[f"int literal {node.value}"] += 1
        elif (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
              and node.operand.value == 1):
            found["int literal -1"] += 1
        elif isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("sum", "mean", "max", "min") and \
                    not name.startswith("np."):
                found["method reduction"] += 1
            if name in ("np.dot", "np.matmul", "np.outer", "np.transpose", "np.expand_dims", "np.reshape", "len",
                        "np.where", "np.ones", "np.zeros", "np.zeros_like", "np.ones_like", "np.power"):
                found[name] += 1
            for k in node.keywords:
                if k.arg == "keepdims" and ast.literal_eval(k.value) is True:
                    found["keepdims=True"] += 1
                if k.arg == "axis":
                    axis = ast.literal_eval(k.value)
                    found["axis tuple" if isinstance(axis, tuple) else "axis int"] += 1
                    found["axis negative"] += any(a < 0 for a in (axis if isinstance(axis, tuple) else (axis,)))
            if name.endswith((".sum", ".mean", ".max", ".min")) and len(node.args) >= (2 if name.startswith("np.") else 1):
                found["axis positional"] += 1
            if name.endswith(".reshape") and any(isinstance(a, ast.UnaryOp) for a in ast.walk(node)):
                found["reshape -1"] += 1
            if name.endswith(".transpose"):
                found[".transpose()"] += 1
        elif isinstance(node, ast.Attribute) and node.attr in ("T", "shape", "size", "ndim"):
            found[f".{node.attr}"] += 1
        elif isinstance(node, ast.Subscript) and not (isinstance(node.value, ast.Attribute) and node.value.attr == "shape"):
            idx = ast.unparse(node.slice)
            if "None" in idx:
                found["x[None] / x[:, None]"] += 1
            elif "..." in idx:
                found["x[..., i]"] += 1
            elif "::-1" in idx:
                found["x[::-1]"] += 1
            elif "::2" in idx:
                found["x[::2]"] += 1
            elif ":" in idx:
                found["slice"] += 1
            else:
                found["int index"] += 1
    uses = Counter(a for e in graph.eqns for a in e.ins if not isinstance(a, Lit))
    found["fan-out >= 5"] += bool(uses) and max(uses.values()) >= 5
    names = [(e.out.hint, e.out.shape) for e in graph.eqns if e.out.hint] + [(p.hint, p.shape) for p in graph.params]
    found["rebinding"] += len({n for n, _ in names}) < len(names)
    found["rebinding to a new shape"] += len({n for n, _ in names}) < len(set(names))
    found["tricky name"] += any(isinstance(n, ast.Name) and n.id in fz.TRICKY_NAMES for n in ast.walk(f))
    return found


def test_generator_reaches_every_primitive_and_feature(tmp_path):
    """The CI seeds between them trace to every array primitive and use every construct promised."""
    ops: set = set()
    features: Counter = Counter()
    for seed in range(FUZZ_SEED, FUZZ_SEED + max(FUZZ_N, 160)):
        program = program_for(seed)
        path = tmp_path / f"fuzz_arrays_{seed}.py"
        path.write_text(program.source)
        src, node = load_target(f"{path}:f")
        graph = generate(src, node, Options(wrt=program.wrt, shapes=program.shapes)).graph
        ops |= {e.op.name for e in graph.eqns}
        features.update(_features(program, graph))
    assert ARRAY_PRIMITIVES <= set(TABLE)
    assert ARRAY_PRIMITIVES <= ops, f"primitives never traced: {sorted(ARRAY_PRIMITIVES - ops)}"
    expected = [
        "decorator example", "decorator shapes", "decorator call", "cli None", "cli shapes", "cli annotations",
        "style lecture", "style compact", "free True", "free False", "wrt subset", "wrt reordered", "helper", "loop",
        "xs[t]", "scalar parameter (float)", "scalar parameter (np.float64)", "3-D parameter", "size-1 axis",
        "tie or round value", "aug Add", "aug Sub", "aug Mult", "aug Div", "aug Pow", "compare Gt", "compare Lt",
        "compare GtE", "compare LtE", "compare Eq", "compare NotEq", "@", "method reduction", "np.dot", "np.matmul",
        "np.outer", "np.transpose", "np.expand_dims", "np.reshape", "len", "np.where", "np.ones", "np.zeros",
        "np.zeros_like", "np.ones_like", "np.power", "keepdims=True", "axis int", "axis tuple", "axis negative",
        "axis positional", "reshape -1", ".transpose()", ".T", ".shape", ".size", ".ndim", "x[None] / x[:, None]",
        "x[..., i]", "x[::-1]", "x[::2]", "slice", "int index", "fan-out >= 5", "rebinding",
        "rebinding to a new shape", "tricky name", "int literal 0", "int literal 1", "int literal -1", "int literal 2",
        "int literal 3",
    ]
    missing = [f for f in expected if features[f] == 0]
    assert not missing, f"features never generated: {missing} ({dict(features)})"


def _hand_written(body: str, args, params=("x", "y"), **options) -> fz.Program:
    """A program of our own, checked like a fuzzed one (seed -1)."""
    source = fz.HEADER + f"\n\ndef f({', '.join(params)}):\n" + body
    shapes = tuple((p, tuple(np.shape(a))) for p, a in zip(params, args))
    knobs = dict(wrt=None, style="lecture", free=False, decorator="example", cli=None, cli_style="lecture",
                 cli_free=False)
    knobs.update(options)
    return fz.Program(-1, source, tuple(params), shapes, tuple(args), attempts=1,
                      annotated_source=fz.annotate(source, shapes), **knobs)


def test_the_checks_can_fail(tmp_path, monkeypatch):
    """A wrong rule (in generated code and interpreter alike) fails the finite differences; an
    interpreter that disagrees with the generated code, or a gradient of the wrong shape, fails the
    comparison of the two; a module Black would change fails the format check."""
    x, y = np.array([0.7, -1.3, 0.4]), np.array([[0.2, 0.5, -0.9], [1.1, -0.3, 0.6]])
    program = _hand_written("    return np.sum(np.sin(x * y) + x)\n", (x, y), cli="shapes")
    assert check(program, tmp_path).fd["checked"] == 9
    mul = TABLE["mul"]
    rules = mul.rules
    wrong = replace(rules[0], expr=Expr("g * b * 1.0001", ("g", "out", "a", "b")))
    object.__setattr__(mul, "rules", (wrong, rules[1]))
    try:
        with pytest.raises(AssertionError, match=r"grad x\[0\]: generated .* vs central differences"):
            check(program, tmp_path)
    finally:
        object.__setattr__(mul, "rules", rules)
    assert check(program, tmp_path).fd["checked"] == 9
    real = interpret.value_and_grad
    with monkeypatch.context() as m:
        m.setattr(interpret, "value_and_grad", lambda *a: (lambda v, g: (v, (g[0] * (1 + 1e-11), *g[1:])))(*real(*a)))
        with pytest.raises(AssertionError, match="grad x: generated vs interpreter"):
            check(program, tmp_path)
    with monkeypatch.context() as m:
        m.setattr(interpret, "value_and_grad", lambda *a: (lambda v, g: (v, (g[0], g[1].T)))(*real(*a)))
        with pytest.raises(AssertionError, match=r"interpreter grad y has shape \(3, 2\)"):
            check(program, tmp_path)
    with monkeypatch.context() as m:
        m.setattr(fuzzing, "format_source", lambda text: text.replace("\n\n\n", "\n\n"))
        with pytest.raises(AssertionError, match="not Black-stable"):
            check(program, tmp_path)


def test_kinks_and_steep_points_skip_only_their_elements(tmp_path):
    """Differences are skipped for the elements next to a kink (abs at 0, a tie in a max, ReLU within a
    step, np.where on equal values), never for the others; a steep function skips them all."""
    x = np.array([0.0, 0.5, -1.0])
    y = np.array([0.3, 0.5, 0.2])
    # (an element whose gradient is exactly zero, y[0] = |x[0]| here, is "zero": flat, |g| <= atol)
    assert check(_hand_written("    return np.sum(np.abs(x) * y)\n", (x, y)), tmp_path).fd == Counter(
        checked=4, kink=1, zero=1)
    tie = np.array([1.0, 1.0, 0.2])
    assert check(_hand_written("    return np.max(x) + np.sum(y)\n", (tie, y)), tmp_path).fd == Counter(
        checked=3, kink=2, zero=1)
    near = np.array([5e-7, 0.3, -0.2])  # half a step from ReLU's kink (and y[0]'s gradient, 5e-7, too small to check)
    assert check(_hand_written("    return np.sum(np.maximum(x, 0.0) * y)\n", (near, y)), tmp_path).fd == Counter(
        checked=2, zero=2, kink=1, loose=1)
    away = np.array([5e-5, 0.3, -0.2])  # 50 steps away: differences are exact there
    assert check(_hand_written("    return np.sum(np.maximum(x, 0.0) * y)\n", (away, y)), tmp_path).fd == Counter(
        checked=4, zero=2)
    same = np.array([0.3, -0.4, 0.9])  # where on x > y with x[0] == y[0]: both elements 0 sit on the kink
    assert check(_hand_written("    return np.sum(np.where(x > y, x * x, y))\n", (same, y)), tmp_path).fd == Counter(
        checked=2, kink=2, zero=2)
    both = np.array([0.3, 0.5, 0.2])  # max(x, x) ties everywhere: smooth, nothing skipped
    assert check(_hand_written("    return np.sum(np.maximum(x, x) * y)\n", (both, y)), tmp_path).fd == Counter(
        checked=6)
    steep = _hand_written("    return np.sum(np.sin(100000000.0 * x)) + np.sum(y)\n", (y, y))
    # (y's differences, 1, are tiny next to x's, ~1e8: at 1e-7 of that scale too loose to check)
    assert check(steep, tmp_path).fd == Counter(steep=3, loose=3)


def test_arguments_are_never_written_into(tmp_path):
    """The program writes into its own parameter (`x += ...` is in place on an array): the harness
    passes copies, so every check still sees the sample point."""
    x, y = np.array([0.7, -1.3, 0.4]), np.array([0.2, 0.5, -0.9])
    program = _hand_written("    x += y * x\n    x *= np.sin(y)\n    return np.sum(x * x)\n", (x, y), cli="shapes")
    before = (x.copy(), y.copy())
    outcome = check(program, tmp_path)
    assert outcome.fd["checked"] == 6
    assert np.array_equal(x, before[0]) and np.array_equal(y, before[1])


# -- in place on arrays: what Python does is what the function means ----------------------------------
#
# `a op= b` on a numpy array writes into the array, so every name that shares it (a view: x[0], x.T,
# x.reshape(...), x[None, :], or the same array under another name) sees the change; and it cannot
# grow the array (numpy raises).  flatgen reads `a op= b` as `a = a op b` either way.  The generator
# keeps away from both (fuzzgen_arrays.sane compares the program with its `a = a op b` reading), so
# these cases are written by hand: flatgen must compute what Python computes, or refuse the program.

IN_PLACE_CASES = {
    "view of a parameter": (
        "    a = x[0]\n    a += y\n    return np.sum(x * x)\n",
        (np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, 0.5]))),
    "the same array under two names": (
        "    a = x * 1.0\n    b = a\n    a *= y\n    return np.sum(b)\n",
        (np.array([1.0, 2.0]), np.array([3.0, -1.0]))),
    "a view taken before the update": (
        "    a = x * 1.0\n    v = a.T\n    a += y\n    return np.sum(v * v)\n",
        (np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.5, 0.5], [0.5, 0.5]]))),
    "growing an array": (
        "    a = x * 1.0\n    a += y\n    return np.sum(a)\n",
        (np.array([1.0, 2.0, 3.0]), np.ones((2, 3)))),
}


@pytest.mark.parametrize("case", sorted(IN_PLACE_CASES))
def test_augmented_assignment_on_arrays_means_what_python_means(case, tmp_path):
    body, args = IN_PLACE_CASES[case]
    program = _hand_written(body, args)
    tag = f"in_place_{next(_TAGS)}"
    path = tmp_path / f"{tag}.py"
    path.write_text(program.source)
    user_f = import_program(path, tag)
    try:
        expected = user_f(*fresh(args))
    except ValueError:  # numpy refuses: flatgen must refuse too
        expected = None
    if expected is None:
        with pytest.raises(FlatgenError):
            flatgen.flat(user_f, example=args).value_and_grad(*args)
        return
    try:
        flat = flatgen.flat(user_f, example=args)
    except FlatgenError:
        return  # refused, with a message: fine
    value, _ = flat.value_and_grad(*fresh(args))
    assert value == expected, f"flatgen computes {value!r}, Python {expected!r}:\n{program.source}"
