"""A seeded random generator of programs in flatgen's language (used by tests/test_fuzz_language.py).

    from fuzzgen_language import generate
    program = generate(1234)      # the same seed gives the same Program on every run and machine
    print(program.source)         # a whole module: imports, constants, helpers, `def f(...)`
    program.args                  # the sample point it was checked to be sane at
    program.configs               # how flatgen is asked to generate it (style, math, free, paths)

Where tests/fuzzgen.py fuzzes the scalar arithmetic, this one fuzzes the language around it, the
constructs README.md lists under "The subset", combined at random:

- `if`/`elif`/`else` on data: one comparison of computed values, nested ifs, ifs inside unrolled
  `for t in range(k)` loops, inside module-level helpers and inside nested helpers; names assigned in
  both branches, or before the `if` and in one branch, or local to one branch (used only there);
  branches that assign constants, aliases (`z = x`) or computed values, tuples and arrays of their own;
- `if`/`elif`/`else` whose condition is known when the module is generated: module constants,
  `p0.ndim`, `v.ndim`, `len(v)`, `v.shape[0]`, loop indices, with `and`/`or`/`not` (and `N > 9 and
  p0 > 0`: data that the constant part makes irrelevant);
- `a if c else b` on data (a select: both sides are computed) and on constants;
- tuples and lists: built, unpacked (`a, b = b, a`, `(c, d), e = ...`), indexed with constants and
  loop indices (negative too), literals indexed on the spot, helpers returning tuples;
- several return values, `return loss, aux` (2 or 3, a tuple name, a helper's tuple, a name twice,
  a constant), checked with random `seed=` tuples;
- module-level helpers with defaults (constants, module constants, expressions of them),
  keyword-only parameters, called by position and by keyword; helpers calling helpers;
- nested pure helpers defined in the function: they read the enclosing function's names (as they
  are when called), assign only their own (sometimes a name the enclosing function also has), call
  each other and module helpers;
- item assignment into local arrays: `z = np.zeros(3)`, `z[0] = ...`, `z[1:] = <same shape>`,
  `z[i] += ...`, in loops (`z[t] = ...`) and in branches, 2-D arrays (`z[0, 1]`, `z[1] = ...`);
- a small array parameter now and then (shape given with example=/shapes=, or the first call);
- the scalar primitives (numpy, math and builtin spellings) with heavy reuse of a few names (fan-out).

Every `if` on data compares an expression that certainly is data when flatgen reads it (an operation
on a parameter, which is never rebound to a constant, or an element of an array), and one of its
branches certainly computes something from a parameter, so the generator knows how many `if`s on
data the trace meets (`Program.data_ifs`: not those in an untaken static branch or an uncalled
helper) and the test can demand branches in the module exactly when there are some.  Generated sizes
are bounded (`cost`: loops unrolled and helpers inlined, at most MAX_COST operations).  The scope of every name is tracked the way Python sees it, so a
name is only read where Python has bound it: after an `if` on data, only names every path binds.

Values are kept sane by construction (logs and roots of `x * x + c`, divisions by `x * x + 1`, exp of
a tanh) and every candidate is run once here, independently of flatgen, with numpy standing in for
math and the builtins, every floating-point error raised, both sides of every `a if c else b`
computed (as flatgen's select does), at the sample point and 1e-4 away from it.  A candidate that
overflows, leaves a domain, returns |value| > VALUE_LIMIT, or has a condition on data within MARGIN
(relative) of flipping at the sample point is replaced by the next one drawn from the same stream.
So is a candidate whose first output (the one the default upstream gradient differentiates) does not
move along any differentiated parameter (`live_parameters`: central differences along a fixed random
direction per parameter); the first ALL_LIVE_ATTEMPTS candidates must move along every one of them.
Integer literals 0, 1, -1 and small integers are drawn like any literal, and now and then written
into the identities the compact style simplifies and their mirror images (`x + 0`, `0 - x`, `1 * x`,
`x * 0`, `x / 1`, `x ** 1`, ...).

`generate_loops(seed)` writes programs with rolled loops (another stream: generate(seed) stays as it
was): int parameters `n`, `m` (loop counts, small Python ints, 0 included) bound `for` loops
(`range(n)`, `range(1, n)`, `range(n - 1)`, `range(n + 1)`, `range(m, n)`, and nested over the outer
index `range(i)`, `range(i + 1)`, `range(n - i)`, `range(i, n)`); `while` loops on data end by
construction (a counter; a value moved by at least 0.5, or by a factor of at most 0.7, towards its limit;
Newton's iteration for a square root, from above), their counted name assigned nowhere else in the body;
constant loops of 17 to 24 iterations (rolled by default), and the unroll option 0, 1 or 2 (flatgen keeps
the constant loops longer than it rolled: the writer knows which, so an `if` on such a loop's index is an
`if` on data, and tuples are never indexed with it).  Every rolled loop's body updates a value bound
before the loop (a scalar, or an array of fixed shape); names first bound in a rolled loop are not read
after it (it may run zero times); elements are read and written with the loop's index where the index
stays in range at the sample point (`xs[i]`, `xs[i + 1]`, `xs[i - 1]`, `X[i, 1]`, `X[:, i]`,
`z[i] = v`, `z[i] += v`, `z[i] = <row>`); `if`s on data and on the index, selects on the index, helper
calls, loops in branches and in helpers, the int parameters as values now and then.  Each int
parameter bounds a loop the trace meets (else flatgen would differentiate it).

How flatgen is asked to generate each program (per style: math mode, free, the command-line path
and/or the decorator, how the decorator learns shapes) is drawn from a second stream, so those
choices never change the program itself.  Only `random.Random` decides: no hashing, no set order.
"""

from __future__ import annotations

import ast
import math
import random
import re
import types
import warnings
from dataclasses import dataclass

import numpy as np

MAX_ATTEMPTS = 60
ALL_LIVE_ATTEMPTS = 20  # the first candidates must depend on every differentiated parameter, later ones on one
VALUE_LIMIT = 1e6
MARGIN = 1e-4  # a condition on data must be this far (relative) from flipping at the sample point
MAX_COST = 200  # operations the trace may make (loops unrolled, helpers inlined): keeps modules readable
UNROLL = 16  # flatgen's default: constant loops of at most this many iterations are unrolled

HEADER = "import numpy as np\nimport math\nfrom flatgen import sigmoid\n"

SCALAR_NAMES = ["a", "b", "c", "s", "u", "w", "q", "r", "k", "m", "acc", "e", "y", "tmp", "d", "h"]
# Names flatgen's namer could collide with: temporaries, gradients, SSA suffixes, inlined helper locals,
# the `seed` parameter of a several-output module, the generated functions.
TRICKY_NAMES = ["t1", "t3", "grad_a", "grad_p0", "a_1", "p0_1", "seed", "f_value_and_grad", "h0_u", "g0_s",
                "z0_1", "np_", "f", "f_0", "t5"]
HELPER_PARAMS = ["u", "w", "k", "s", "b"]
LOOP_VARS = ["t", "i", "j"]
LITERALS = ["0.5", "2", "1.5", "3.0", "0.25", "2.0", "1", "0.1", "0.75", "1.25", "0.3", "0", "3", "1"]
NEG_LITERALS = ["(-0.5)", "(-2.0)", "(-1)", "(-0.75)", "(-2)"]
# forms with the integers the compact style's identities act on (and look-alikes; never `x ** 0`,
# which flatgen traces to a constant, so an `if` on it would not be on data)
IDENTITIES = ["({x} + 0)", "(0 + {x})", "({x} - 0)", "(0 - {x})", "({x} * 1)", "(1 * {x})", "({x} * 0 + {x})",
              "(0 * {x} - {x})", "({x} / 1)", "({x} ** 1)", "({x} * (-1))", "((-1) * {x})", "({x} - 1)", "(1 - {x})",
              "(1.0 * {x})"]
THRESHOLDS = ["0", "0.5", "-0.5", "1.0", "0.25", "-1", "0.1", "2.0"]
BUILTIN_CONSTANTS = ["np.pi", "math.pi", "np.e", "math.tau"]
COMPARISONS = [">", "<", ">=", "<="]
ONE_ARG = [  # (spelling, how its argument is kept in the domain)
    ("np.exp", "exp"), ("math.exp", "exp"), ("np.log", "log"), ("math.log", "log"),
    ("np.sqrt", "sqrt"), ("math.sqrt", "sqrt"), ("np.tanh", ""), ("math.tanh", ""),
    ("np.sin", ""), ("math.sin", ""), ("np.cos", ""), ("math.cos", ""),
    ("np.abs", ""), ("abs", ""), ("sigmoid", ""),
]
TWO_ARG = ["np.maximum", "np.minimum", "max", "min"]
ROUND_VALUES = [0.0, 1.0, -1.0, 0.5, -0.5]


@dataclass(frozen=True)
class Config:
    """How flatgen generates the program once: one style, with its options and paths."""

    style: str  # "lecture" or "compact"
    math: bool | None  # Options.math / flat(math=): True only for Python-float points
    free: bool
    paths: tuple[str, ...]  # "cli" (parse.load_target + pipeline.generate) and/or "decorator" (flatgen.flat)
    shapes_by: str  # the decorator: "example" (example=args), "shapes" (shapes=), "call" (the first call)


@dataclass(frozen=True)
class Program:
    seed: int
    source: str
    args: tuple  # the sample point: Python floats or np.float64, and float64 arrays
    shapes: tuple  # ((name, shape), ...) for every parameter, () for a scalar
    wrt: tuple[str, ...] | None  # the parameters to differentiate, in this order (None: all)
    n_outputs: int
    seeds: tuple  # the upstream gradients to check (None: the default), one tuple per check
    data_ifs: int  # `if` statements on data that the trace meets (0: the module must have no `if`)
    features: tuple[str, ...]  # the constructs the program uses (sorted)
    numpy_user: bool  # the user's function needs numpy scalars (p0.ndim on a scalar parameter)
    configs: tuple[Config, ...]
    attempts: int  # candidates drawn before this one was accepted (1 = the first)
    ints: tuple[str, ...] = ()  # int parameters (loop counts): Python ints, never differentiated
    unroll: int | None = None  # flat(unroll=...) / Options(unroll=...) / --unroll (None: flatgen's default)

    name = "f"

    @property
    def params(self) -> list[str]:
        return [n for n, _ in self.shapes]

    @property
    def has_arrays(self) -> bool:
        return any(s != () for _, s in self.shapes)

    @property
    def floats(self) -> list[str]:
        """The parameters flatgen differentiates (by default): all but the int ones."""
        return [n for n in self.params if n not in self.ints]


def generate(seed: int) -> Program:
    """The program for `seed`: deterministic, in the subset, finite and away from its branch
    boundaries at its sample point."""
    rng = random.Random(seed)
    nscalars = rng.randint(1, 4)
    params = [f"p{i}" for i in range(nscalars)]
    shapes = [(p, ()) for p in params]
    if rng.random() < 0.2:  # a small array parameter
        shapes.insert(rng.randint(0, nscalars), ("v", (rng.choice([2, 3, 4]),)))
    scale = rng.choice([1.0, 1.0, 1.5, 2.0])
    values = {}
    for name, shape in shapes:
        if shape:
            values[name] = np.array([rng.uniform(-scale, scale) for _ in range(shape[0])])
        else:
            values[name] = rng.choice(ROUND_VALUES) if rng.random() < 0.05 else rng.uniform(-scale, scale)
    as_numpy = rng.random() < 0.25  # np.float64 scalars (numpy mode only), else Python floats
    numpy_user = as_numpy and rng.random() < 0.5  # then `p0.ndim` may appear: only numpy scalars have it
    args = tuple(values[n] if s else (np.float64(values[n]) if as_numpy else float(values[n])) for n, s in shapes)
    wrt = None
    names = [n for n, _ in shapes]
    if rng.random() < 0.2:
        wrt = tuple(rng.sample(names, rng.randint(1, len(names))))
    differentiated = [names.index(n) for n in (wrt if wrt is not None else names)]
    for attempt in range(1, MAX_ATTEMPTS + 1):
        writer = _Writer(rng, shapes, numpy_user)
        source = writer.module()
        if cost(source) <= MAX_COST and sane(source, args):
            live = live_parameters(source, args, differentiated)
            if live == differentiated or (live and attempt > ALL_LIVE_ATTEMPTS):
                break
    else:  # pragma: no cover
        raise RuntimeError(f"seed {seed}: no sane program in {MAX_ATTEMPTS} attempts")
    seeds, configs, features = _seeds_and_configs(rng, writer, f"flatgen language fuzz options {seed}",
                                                  as_numpy, shapes, wrt)
    return Program(seed, source, args, tuple(shapes), wrt, writer.n_outputs, seeds, writer.data_ifs,
                   tuple(sorted(features)), numpy_user, tuple(configs), attempt)


def _seeds_and_configs(rng, writer, knobs_name: str, as_numpy: bool, shapes, wrt) -> tuple:
    """(upstream gradients to try, how flatgen is asked to generate, the program's features).  The
    configs come from a stream of their own (`knobs_name`), so the program stays the same."""
    n_outputs = writer.n_outputs
    seeds: tuple = (None,)
    if n_outputs > 1:
        unit = [0.0] * n_outputs
        unit[-1] = 1.0
        seeds = (None, tuple(unit), tuple(rng.choice([0.5, -1.25, 2.0, 0.0, 1.0, -0.3]) for _ in range(n_outputs)))
    knobs = random.Random(knobs_name)
    floats = not as_numpy and not any(s for _, s in shapes)
    configs = []
    for style in ("lecture", "compact"):
        math_mode = knobs.choice([None, True]) if floats else None
        paths = knobs.choice([("cli",), ("decorator",), ("cli", "decorator"), ("cli", "decorator")])
        configs.append(Config(style, math_mode, knobs.random() < 0.5, paths,
                              knobs.choice(["example", "shapes", "call"])))
    features = set(writer.features)
    features.add("Python floats" if floats else "numpy scalars" if as_numpy else "array parameter")
    if wrt is not None:
        features.add("wrt")
    return seeds, configs, features


def generate_loops(seed: int) -> Program:
    """A program with rolled loops for `seed` (a stream of its own: generate(seed) is another program).

    Besides what generate() writes: int parameters `n` (and `m`), small Python ints (0 to 5) counting
    `for i in range(...)` loops (over `n`, `1, n`, `n - 1`, `n + 1`, `m, n`, and in a nested loop over
    the outer index: `i`, `i + 1`, `n - i`, `i, n`); `while` loops on data that certainly end; constant
    loops longer than flatgen unrolls; and flatgen's unroll option (0 keeps every loop a loop, 1 or 2
    some).  In the loops: names updated from their old value (scalars, and arrays made before the
    loop), `if`s on data and on the loop's index, nested loops, helper calls, elements read with the
    index (`xs[i]`, `xs[i + 1]`, `X[i, 1]`, `X[:, i]`, local arrays) and written (`z[i] = v`,
    `z[i] += v`, `z[i] = <row>`)."""
    rng = random.Random(f"flatgen loop fuzz {seed}")
    nscalars = rng.randint(1, 3)
    shapes: list = [(f"p{i}", ()) for i in range(nscalars)]
    ints = {"n": rng.choice([0, 1, 2, 2, 3, 3, 4, 5])}
    if rng.random() < 0.3:
        ints["m"] = rng.choice([0, 1, 2, 3])
    for name in ints:
        shapes.insert(rng.randint(0, len(shapes)), (name, ()))
    if rng.random() < 0.45:
        shapes.insert(rng.randint(0, len(shapes)), ("xs", (rng.choice([5, 6, 7]),)))
    if rng.random() < 0.25:
        shapes.insert(rng.randint(0, len(shapes)), ("X", (rng.choice([3, 4, 5]), rng.choice([2, 3, 4]))))
    scale = rng.choice([1.0, 1.0, 1.5])
    values: dict = {}
    for name, shape in shapes:
        if name in ints:
            values[name] = ints[name]
        elif shape:
            values[name] = np.array([rng.uniform(-scale, scale) for _ in range(math.prod(shape))]).reshape(shape)
        else:
            values[name] = rng.choice(ROUND_VALUES) if rng.random() < 0.05 else rng.uniform(-scale, scale)
    as_numpy = rng.random() < 0.25
    numpy_user = as_numpy and rng.random() < 0.5
    args = tuple(values[n] if s or n in ints else (np.float64(values[n]) if as_numpy else float(values[n]))
                 for n, s in shapes)
    unroll = rng.choice([None, None, 0, 0, 1, 2])
    floats = [n for n, _ in shapes if n not in ints]
    wrt = tuple(rng.sample(floats, rng.randint(1, len(floats)))) if rng.random() < 0.2 else None
    names = [n for n, _ in shapes]
    differentiated = [names.index(n) for n in (wrt if wrt is not None else floats)]
    for attempt in range(1, MAX_ATTEMPTS + 1):
        writer = _Writer(rng, shapes, numpy_user, ints=ints, unroll=UNROLL if unroll is None else unroll)
        source = writer.module()
        if cost(source, writer.unroll, ints) <= MAX_COST and sane(source, args):
            live = live_parameters(source, args, differentiated)
            if live == differentiated or (live and attempt > ALL_LIVE_ATTEMPTS):
                break
    else:  # pragma: no cover
        raise RuntimeError(f"loop seed {seed}: no sane program in {MAX_ATTEMPTS} attempts")
    seeds, configs, features = _seeds_and_configs(rng, writer, f"flatgen loop fuzz options {seed}",
                                                  as_numpy, shapes, wrt)
    features.add(f"unroll={unroll}")
    return Program(seed, source, args, tuple(shapes), wrt, writer.n_outputs, seeds, writer.data_ifs,
                   tuple(sorted(features)), numpy_user, tuple(configs), attempt, tuple(ints), unroll)


# -- the size and sanity checks (flatgen plays no part in them) -------------------------------------------


def cost(source: str, unroll: int = UNROLL, ints=()) -> int:
    """About how many operations tracing `f` makes: loops unrolled, helpers inlined at every call.
    A rolled loop (a count from an int parameter in `ints`, a `while`, a constant count above
    `unroll`) is traced once."""
    counter = _Cost(unroll=unroll, ints=ints)
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            counter.costs[node.name] = counter.block(node.body)
    return counter.costs["f"]


class _Cost:
    def __init__(self, costs: dict | None = None, unroll: int = UNROLL, ints=()):
        self.costs: dict[str, int] = dict(costs or {})
        self.unroll = unroll
        self.ints = set(ints)

    def expr(self, node) -> int:
        n = 0
        for x in ast.walk(node):
            if isinstance(x, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Subscript)):
                n += 1
            elif isinstance(x, ast.Call):
                n += 1 + (self.costs.get(x.func.id, 0) if isinstance(x.func, ast.Name) else 0)
        return n

    def block(self, stmts) -> int:
        n = 0
        for st in stmts:
            if isinstance(st, ast.FunctionDef):
                self.costs[st.name] = self.block(st.body)
            elif isinstance(st, ast.If):
                n += self.expr(st.test) + self.block(st.body) + self.block(st.orelse)
            elif isinstance(st, ast.For):
                names = {x.id for a in st.iter.args for x in ast.walk(a) if isinstance(x, ast.Name)}
                # a count from an int parameter, a loop index or arithmetic: rolled (module constants are N)
                if names & self.ints or any(not n.isupper() for n in names) or not all(
                        isinstance(a, (ast.Name, ast.Constant)) for a in st.iter.args):
                    n += self.expr(st.iter) + self.block(st.body)  # rolled: traced once
                else:
                    bounds = [4 if isinstance(a, ast.Name) else ast.literal_eval(a) for a in st.iter.args]
                    k = len(range(*bounds))
                    n += (k if k <= self.unroll else 1) * self.block(st.body)
            elif isinstance(st, ast.While):
                n += self.expr(st.test) + self.block(st.body)
            elif isinstance(st, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return)):
                n += 1 + self.expr(st.value)
        return n


_NUMPY_MATH = types.SimpleNamespace(
    exp=np.exp, log=np.log, sqrt=np.sqrt, tanh=np.tanh, sin=np.sin, cos=np.cos, fabs=np.abs,
    pow=np.power, pi=math.pi, e=math.e, tau=math.tau,
)


def user_function(source: str, name: str = "f", tag: str = "fuzz_language_program"):
    """Exec a program's source and return its function (the user's own, as they would run it)."""
    ns: dict = {"__name__": tag}
    exec(compile(source, "<fuzz program>", "exec"), ns)
    return ns[name]


def _chained(pick):
    """Python's max or min (of two or more values, or of one sequence), computed with numpy's two-argument
    function in the values' own type; the first of equal values wins, as in Python."""
    def extreme(*args):
        items = list(args[0]) if len(args) == 1 else list(args)
        best = items[0]
        for x in items[1:]:
            best = x if pick(x, best) and x != best else best
        return best
    return extreme


_MAX = _chained(lambda x, best: np.maximum(x, best) == x)
_MIN = _chained(lambda x, best: np.minimum(x, best) == x)
_BUILTINS = dict(math=None, abs=np.abs, max=_MAX, min=_MIN, print=lambda *a, **k: None)


def numpy_function(source: str, name: str = "f"):
    """The program's function with math and the builtins abs/max/min replaced by numpy: the same
    mathematics, computed in the type of its arguments (np.float64 raises under np.errstate;
    np.longdouble gives finite differences extra digits).  print() prints nothing."""
    ns: dict = {"__name__": "fuzz_language_numpy"}
    exec(compile(source, "<fuzz program>", "exec"), ns)
    ns.update(_BUILTINS, math=_NUMPY_MATH)
    return ns[name]


class _Instrument(ast.NodeTransformer):
    """Comparisons in `if` tests and conditional expressions report how far they are from flipping;
    `a if c else b` computes both sides, as flatgen's select does."""

    def visit_If(self, node):
        self.generic_visit(node)
        node.test = _Compares().visit(node.test)
        return node

    visit_While = visit_If  # a `while` on data: its test before every iteration

    def visit_IfExp(self, node):
        self.generic_visit(node)
        test = _Compares().visit(node.test)
        return ast.Call(ast.Name("_select_", ast.Load()), [test, node.body, node.orelse], [])


class _Compares(ast.NodeTransformer):
    def visit_Compare(self, node):
        self.generic_visit(node)
        op = type(node.ops[0]).__name__
        return ast.Call(ast.Name("_compare_", ast.Load()),
                        [node.left, node.comparators[0], ast.Constant(op)], [])


_OPS = {"Gt": lambda a, b: a > b, "Lt": lambda a, b: a < b, "GtE": lambda a, b: a >= b,
        "LtE": lambda a, b: a <= b, "Eq": lambda a, b: a == b, "NotEq": lambda a, b: a != b}


def instrumented(source: str, margins: list):
    """The program's numpy function (see numpy_function), recording in `margins` the relative distance
    to flipping of every comparison on data (numpy values; trace-time constants are Python numbers)."""
    tree = _Instrument().visit(ast.parse(source))
    ast.fix_missing_locations(tree)
    ns: dict = {"__name__": "fuzz_language_instrumented"}
    exec(compile(tree, "<fuzz program, instrumented>", "exec"), ns)
    ns.update(_BUILTINS, math=_NUMPY_MATH)

    def compare(a, b, op):
        if isinstance(a, (np.generic, np.ndarray)) or isinstance(b, (np.generic, np.ndarray)):
            x, y = float(a), float(b)
            margins.append(abs(x - y) / max(1.0, abs(x), abs(y)))
        return _OPS[op](a, b)

    ns["_compare_"] = compare
    ns["_select_"] = lambda c, a, b: a if c else b
    return ns["f"]


def sane(source: str, args: tuple) -> bool:
    """Finite, |value| <= VALUE_LIMIT, no floating-point error anywhere (both sides of every select
    included), at `args` and 1e-4 away; every condition on data at least MARGIN from flipping at `args`."""
    margins: list = []
    f = instrumented(source, margins)
    points = [args]
    for i, x in enumerate(args):
        if _is_int(x):  # a loop count: never moved
            continue
        for step in (1e-4, -1e-4):
            p = list(args)
            p[i] = x + step * np.maximum(1.0, np.abs(x))
            points.append(tuple(p))
    with np.errstate(all="raise", under="ignore"), warnings.catch_warnings(), _time_limit(SANE_SECONDS):
        warnings.simplefilter("error")
        for k, p in enumerate(points):
            try:
                v = f(*(a if _is_int(a) else np.array(a, dtype=np.float64) if np.ndim(a) else np.float64(a)
                        for a in p))
            except (ArithmeticError, ValueError, RuntimeWarning, IndexError, _TooSlow):
                return False
            values = v if isinstance(v, tuple) else (v,)
            for x in values:
                if np.shape(x) != () or not np.isfinite(x) or abs(x) > VALUE_LIMIT:
                    return False
            if k == 0 and margins and min(margins) < MARGIN:
                return False
    return True


def live_parameters(source: str, args: tuple, wrt: list[int]) -> list[int]:
    """The parameters in `wrt` (by index) the first output moves along: central differences along a
    fixed random direction (step 1e-4 * max(1, |x|) per element) that are finite and not zero."""
    f = numpy_function(source)
    directions = np.random.default_rng(0)
    point = [a if _is_int(a) else np.array(a, dtype=np.float64) if np.ndim(a) else np.float64(a) for a in args]
    live = []
    with np.errstate(all="ignore"), warnings.catch_warnings(), _time_limit(SANE_SECONDS):
        warnings.simplefilter("ignore")
        for i in wrt:
            x = point[i]
            d = directions.uniform(0.5, 1.0, size=np.shape(x)) * directions.choice([-1.0, 1.0], size=np.shape(x))
            step = 1e-4 * np.maximum(1.0, np.abs(x)) * d
            up, down = list(point), list(point)
            up[i], down[i] = x + step, x - step
            try:
                a, b = f(*up), f(*down)
            except (ArithmeticError, ValueError, IndexError, _TooSlow):
                continue
            a, b = (a[0], b[0]) if isinstance(a, tuple) else (a, b)
            diff = float(a) - float(b)
            if np.isfinite(diff) and diff != 0.0:
                live.append(i)
    return live


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


SANE_SECONDS = 2.0  # a candidate slower than this is refused (a Python int squared in a long loop grows
# without bound: 4 ** 2 ** 30 takes minutes and gigabytes)


class _TooSlow(Exception):
    pass


class _time_limit:
    """Raise _TooSlow in the block after `seconds` (POSIX main thread; elsewhere no limit)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.armed = False

    def __enter__(self):
        import signal
        import threading

        if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
            def expired(signum, frame):
                raise _TooSlow()

            self.previous = signal.signal(signal.SIGALRM, expired)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
            self.armed = True
        return self

    def __exit__(self, *exc):
        if self.armed:
            import signal

            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False


# -- the scope: which names Python has bound at each point, and what they hold -------------------------


@dataclass(frozen=True)
class Binding:
    kind: str  # "s" scalar, "a" array, "t" tuple of scalars, "g" nested helper, "i" loop index
    shape: tuple = ()  # arrays: their shape; tuples: (length,)
    info: object = None  # nested helpers: their _Fn; loop indices: their range; "local" for local arrays


class Scope:
    def __init__(self):
        self.b: dict[str, Binding] = {}
        self.order: list[str] = []  # most recently bound last
        self.assigned: list[str] = []  # (re)bound since this scope was forked, in order

    def fork(self) -> "Scope":
        s = Scope()
        s.b = dict(self.b)
        s.order = list(self.order)
        return s

    def set(self, name: str, binding: Binding) -> None:
        self.b[name] = binding
        if name in self.order:
            self.order.remove(name)
        self.order.append(name)
        if name not in self.assigned:
            self.assigned.append(name)

    def names(self, kind: str) -> list[str]:
        return [n for n in self.order if self.b[n].kind == kind]

    def merge(self, sides: list["Scope"]) -> "Scope":
        """After a branch point: a name is bound when every path binds it (before, or on each path)."""
        after = self.fork()
        after.assigned = list(self.assigned)
        touched = []
        for side in sides:
            touched += [n for n in side.assigned if n not in touched]
        for name in touched:
            bs = [side.b.get(name) for side in sides]
            if any(b is None for b in bs):
                after.b.pop(name, None)
                if name in after.order:
                    after.order.remove(name)
            else:
                kinds = {(b.kind, b.shape) for b in bs}
                assert len(kinds) == 1, (name, kinds)
                after.set(name, bs[0])
            if name not in after.assigned:
                after.assigned.append(name)
        return after


@dataclass(frozen=True)
class _Rolled:
    """An enclosing rolled loop: its variable (None for a `while`) and the values the variable takes at
    the sample point, lo..hi (none when hi < lo)."""

    var: str | None
    lo: int
    hi: int


@dataclass
class _Fn:
    """A helper: module-level or nested."""

    name: str
    params: list[str]  # positional, the first without a default
    defaults: dict  # parameter -> default text (module helpers: constants; nested: literals)
    kwonly: list[str]
    returns: int  # 1: a scalar; n > 1: a tuple of n scalars
    data_ifs: int = 0  # `if`s on data its body has (on data when the first argument is)
    nested: bool = False
    cost: int = 0  # operations one call makes (see cost())


# -- the writer -------------------------------------------------------------------------------------------


class _Writer:
    """Writes one candidate program; `features` and `data_ifs` say what it wrote."""

    def __init__(self, rng: random.Random, shapes: list, numpy_user: bool, ints: dict | None = None,
                 unroll: int = UNROLL):
        self.rng = rng
        self.shapes = shapes
        self.numpy_user = numpy_user
        # Rolled loops (generate_loops): the int parameters and their values at the sample point, and
        # flatgen's unroll option (constant loops longer than it stay loops).  None: generate()'s programs,
        # which draw exactly as they did before rolled loops existed.
        self.loop_mode = ints is not None
        self.ints: dict[str, int] = dict(ints or {})
        self.unroll = unroll
        self.rolled: list[_Rolled] = []  # the enclosing rolled loops, outermost first
        self.nest: list[str] = []  # the enclosing loops' variables ("" for a while), outermost first
        self.frozen: set[str] = set()  # names a `while` counts on: nothing else in its body assigns them
        self.int_used: set[str] = set()  # int parameters a traced loop uses as a bound
        self.no_nest = False  # in a long constant loop: no loop inside
        self.features: set[str] = set()
        self.constants: dict[str, object] = {}  # module constants and their values
        self.helpers: list[_Fn] = []
        self.data_ifs = 0
        self.n_outputs = 1
        self.tricky = rng.random() < 0.25
        self.counter = 0
        self.live = True  # the code being written is traced (False: an untaken static branch)
        self.loops: list[tuple[str, range]] = []  # the enclosing unrolled loops: (variable, range)
        self.depth = 0  # nesting of blocks
        self.in_data_branch = False
        self.fn: _Fn | None = None  # the helper being written (None: f)
        self.data_names: list[str] = []  # parameters: certainly data (never rebound to a constant)
        self.own: set | None = None  # in a nested helper: the names it may assign (its own)
        self.hot: list[str] = []
        self.scope = Scope()  # the scope of the statement being written

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter - 1}"

    def bind(self, scope: Scope, name: str, binding: Binding) -> None:
        scope.set(name, binding)
        if self.own is not None:
            self.own.add(name)

    def in_scope(self, scope: Scope):
        """`with self.in_scope(s):` expressions written inside read the names of `s`."""
        writer = self

        class _Ctx:
            def __enter__(self):
                self.saved = writer.scope
                writer.scope = scope

            def __exit__(self, *exc):
                writer.scope = self.saved

        return _Ctx()

    # -- module ------------------------------------------------------------------------------------------

    def module(self) -> str:
        rng = self.rng
        parts = [HEADER]
        consts = []
        if rng.random() < 0.7:
            n = rng.choice([2, 3, 4])
            consts.append(f"N = {n}\n")
            self.constants["N"] = n
        if rng.random() < 0.5:
            flag = rng.choice([0, 1])
            consts.append(f"FLAG = {flag}\n")
            self.constants["FLAG"] = flag
        if rng.random() < 0.7:
            c0 = rng.choice(["0.75", "1.5", "-0.5", "2.0", "0.25"])
            consts.append(f"C0 = {c0}\n")
            self.constants["C0"] = float(c0)
            if rng.random() < 0.4:
                consts.append("C1 = C0 * 2\n")
                self.constants["C1"] = float(c0) * 2
        if consts:
            parts.append("".join(consts))
        if rng.random() < 0.35:
            self.n_outputs = rng.choice([2, 2, 3])
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
            parts.append(self.helper())
        parts.append(self.main())
        return "\n\n".join(parts)

    def helper(self) -> str:
        """A module-level helper: defaults, keyword-only parameters, maybe a tuple result."""
        rng = self.rng
        name = f"h{len(self.helpers)}"
        returns = 1 if rng.random() < 0.7 else rng.choice([2, 2, 3])
        if self.n_outputs > 1 and rng.random() < 0.3:
            returns = self.n_outputs  # one f can return
        params = rng.sample(HELPER_PARAMS, rng.randint(1, 3))
        kwonly = [p for p in HELPER_PARAMS if p not in params][: rng.choice([0, 0, 1])]
        defaults = {}
        for p in params[1:] + kwonly:
            if p in kwonly or rng.random() < 0.5:
                defaults[p] = self.default_text()
        first_default = next((i for i, p in enumerate(params) if p in defaults), len(params))
        for p in params[first_default:]:  # Python: after a default, defaults
            defaults.setdefault(p, self.default_text())
        fn = _Fn(name, params, defaults, kwonly, returns)
        sig = [p + (f"={defaults[p]}" if p in defaults else "") for p in params]
        if kwonly:
            sig += ["*"] + [p + (f"={defaults[p]}" if p in defaults else "") for p in kwonly]
            self.features.add("helper keyword-only parameter")
        if defaults:
            self.features.add("helper default")
        scope = Scope()
        for p in params + kwonly:
            scope.set(p, Binding("s"))
        saved = (self.fn, self.data_names, self.loops, self.depth, self.hot, self.own)
        self.fn, self.data_names, self.loops, self.depth, self.hot, self.own = fn, [params[0]], [], 0, [params[0]], None
        saved_loops = (self.rolled, self.nest, self.frozen)
        self.rolled, self.nest, self.frozen = [], [], set()
        ifs_before = self.data_ifs
        body = []
        for _ in range(rng.randint(0, 3)):
            body += self.statement(scope)
        with self.in_scope(scope):
            body.append(f"return {self.returned(scope, returns)}")
        fn.data_ifs = self.data_ifs - ifs_before  # counted where the helper is called
        self.data_ifs = ifs_before
        self.fn, self.data_names, self.loops, self.depth, self.hot, self.own = saved
        self.rolled, self.nest, self.frozen = saved_loops
        self.helpers.append(fn)  # after its body: no recursion
        text = "\n".join([f"def {name}({', '.join(sig)}):"] + ["    " + line for line in body]) + "\n"
        fn.cost = self.cost_of(ast.parse(text).body[0].body)
        return text

    def cost_of(self, stmts) -> int:
        return _Cost({h.name: h.cost for h in self.helpers}, self.unroll, self.ints).block(stmts)

    @property
    def looping(self) -> bool:
        """In a loop, unrolled or rolled."""
        return bool(self.loops or self.rolled)

    def callable_helpers(self) -> list:
        """Helpers cheap enough to call here (each call inlines the helper's whole body)."""
        limit = 12 if self.looping or self.fn is not None else 40
        return [h for h in self.helpers if h.cost <= limit]

    def default_text(self) -> str:
        r = self.rng.random()
        consts = [c for c in self.constants if c.startswith("C")]
        if consts and r < 0.4:
            self.features.add("default from a module constant")
            c = self.rng.choice(consts)
            return c if r < 0.25 else f"{c} * {self.rng.choice(['0.5', '2', '-1'])}"
        return self.rng.choice(["0.5", "2.0", "-1.0", "1", "0.25"])

    def main(self) -> str:
        rng = self.rng
        scope = Scope()
        signature = [n for n, _ in self.shapes]
        params = [n for n in signature if n not in self.ints]  # (the int ones are no data)
        for n, shape in self.shapes:
            scope.set(n, Binding("n") if n in self.ints else Binding("a", shape) if shape else Binding("s"))
        scope.assigned = []
        self.data_names = [n for n, s in self.shapes if not s and n not in self.ints]
        self.hot = [rng.choice(params)]
        if len(self.data_names) < len(params):  # an array parameter: a scalar one is hot too
            self.hot.append(rng.choice(self.data_names))
        lines = [f"def f({', '.join(signature)}):"]
        if rng.random() < 0.1:
            lines.append('    """A fuzzed function."""')
        body = []
        for _ in range(rng.randint(2, 9) if not self.loop_mode else rng.randint(2, 6)):
            body += self.statement(scope, top=True)
        for n in self.ints:  # every int parameter counts a traced loop (else flatgen differentiates it)
            if n not in self.int_used:
                with self.in_scope(scope):
                    body += self.int_loop(scope, bound=n)
        if self.n_outputs > 1 and rng.random() < 0.2:  # out = (loss, aux); return out
            with self.in_scope(scope):
                name = self.fresh("pair")
                items = ", ".join(_bare(self.result(scope)) for _ in range(self.n_outputs))
                body.append(f"{name} = ({items})" if rng.random() < 0.5 else f"{name} = [{items}]")
                self.bind(scope, name, Binding("t", (self.n_outputs,)))
        with self.in_scope(scope):
            body.append(f"return {self.returned(scope, self.n_outputs, main=True)}")
        return "\n".join(lines + ["    " + line for line in body]) + "\n"

    # -- statements --------------------------------------------------------------------------------------

    def statement(self, scope: Scope, top: bool = False) -> list[str]:
        """One statement (its lines, indented relative to the block)."""
        rng = self.rng
        nested = self.own is not None
        local_arrays = [n for n in scope.names("a") if scope.b[n].info == "local" and (not nested or n in self.own)]
        kinds = ["assign", "rebind", "aug", "alias", "tuple", "unpack", "array", "setitem", "if", "static",
                 "for", "select", "closure", "annotated"]
        looping = self.looping  # in a loop: more branches, on data and on the index, and writes
        weights = [14, 10, 6, 3, 5, 5, 4, (14 if looping else 8) if local_arrays else 0,
                   (22 if looping else 14) if self.depth < 3 else 0, (12 if looping else 6) if self.depth < 2 else 0,
                   8 if self.depth < 2 and len(self.loops) < 2 and not nested else 0,
                   5, 6 if top and self.fn is None else 0, 1]
        if self.loop_mode:
            loops = len(self.nest)
            can_loop = self.depth < 2 and loops < 2 and not nested and not self.no_nest
            weights[10] = 5 if can_loop else 0  # a constant loop (rolled when longer than unroll)
            kinds += ["loop", "index_if"]
            weights += [(18 if top else 10) if can_loop else 0,
                        10 if self.rolled_index() is not None and self.depth < 3 else 0]
        kind = rng.choices(kinds, weights)[0]
        with self.in_scope(scope):
            return getattr(self, f"s_{kind}")(scope)

    def rebindable(self, scope: Scope, through_itself: bool = False) -> list[str]:
        """Scalars this statement may assign: in a nested helper only its own; a parameter only
        through its old value (it stays data)."""
        names = scope.names("s")
        if self.frozen:
            names = [n for n in names if n not in self.frozen]
        if self.own is not None:
            names = [n for n in names if n in self.own]
        if not through_itself:
            names = [n for n in names if n not in self.data_names]
        return names

    def new_scalar_name(self, scope: Scope) -> str:
        pool = SCALAR_NAMES + (TRICKY_NAMES if self.tricky else [])
        taken = set(scope.b) | {h.name for h in self.helpers} | set(self.constants) | set(self.data_names)
        free = [n for n in pool if n not in taken]
        return self.rng.choice(free) if free else self.fresh("x")

    def target_scalar(self, scope: Scope) -> str:
        names = self.rebindable(scope)
        if not names or self.rng.random() < 0.25:
            return self.new_scalar_name(scope)
        return self.rng.choice(names) if self.rng.random() < 0.6 else names[-1]

    def bind_scalar(self, scope: Scope, name: str) -> None:
        self.bind(scope, name, Binding("s"))
        if self.rng.random() < 0.25 and name not in self.hot:
            self.hot.append(name)

    def note_branch_assign(self, what: str) -> None:
        if self.in_data_branch:
            self.features.add(f"branch assigns {what}")

    def s_assign(self, scope: Scope) -> list[str]:
        name = self.new_scalar_name(scope)
        text = self.sx(self.rng.randint(1, 3))
        self.bind_scalar(scope, name)
        self.note_branch_assign("computed")
        return [f"{name} = {_bare(text)}"]

    def s_annotated(self, scope: Scope) -> list[str]:
        name = self.new_scalar_name(scope)
        text = self.sx(self.rng.randint(0, 2))
        self.bind_scalar(scope, name)
        self.features.add("annotated assignment")
        return [f"{name}: float = {_bare(text)}"]

    def s_rebind(self, scope: Scope) -> list[str]:
        rng = self.rng
        own = self.rebindable(scope, through_itself=True)
        if own and rng.random() < 0.35:  # through its old value (a parameter too: it stays data)
            hot = [h for h in self.hot if h in own]
            name = rng.choice(hot) if hot and rng.random() < 0.5 else rng.choice(own)
            text = f"{name} = {name} {rng.choice(['*', '+', '-'])} {_atomic(self.sx(rng.randint(0, 2)))}"
        else:
            name = self.target_scalar(scope)
            text = f"{name} = {_bare(self.sx(rng.randint(0, 3)))}"
        self.features.add("rebinding")
        self.bind_scalar(scope, name)
        self.note_branch_assign("computed")
        return [text]

    def s_aug(self, scope: Scope) -> list[str]:
        rng = self.rng
        own = self.rebindable(scope, through_itself=True)
        if not own:
            return self.s_assign(scope)
        hot = [h for h in self.hot if h in own]
        name = rng.choice(hot) if hot and rng.random() < 0.4 else rng.choice(own)
        op = rng.choice(["+=", "-=", "*=", "/=", "+=", "**="])
        if op == "/=":
            text = f"{name} /= {_positive(self.sx(rng.randint(0, 2)), '1.0', rng)}"
        elif op == "**=":
            text = f"{name} **= 2"
        else:
            text = f"{name} {op} {self.sx(rng.randint(0, 2))}"
        self.features.add("augmented assignment")
        self.bind_scalar(scope, name)
        self.note_branch_assign("computed")
        return [text]

    def s_alias(self, scope: Scope) -> list[str]:
        """`z = x`, `z = t`, `z = C0`, `z = 2.0`: another name's value, or a constant."""
        rng = self.rng
        name = self.target_scalar(scope)
        r = rng.random()
        sources = [n for n in scope.names("s") if n != name]
        if r < 0.5 and sources:
            value, what = rng.choice(sources), "alias"
        elif r < 0.65 and (self.loops or self.nest and self.nest[-1]):
            value, what = (self.nest[-1] if self.nest and self.nest[-1] else self.loops[-1][0]), "alias"
        elif r < 0.85 and self.constants:
            value, what = rng.choice(list(self.constants)), "constant"
        else:
            value, what = rng.choice(LITERALS + NEG_LITERALS), "constant"
        self.bind_scalar(scope, name)
        self.note_branch_assign(what)
        self.features.add(what)
        return [f"{name} = {value}"]

    # tuples and lists

    def s_tuple(self, scope: Scope) -> list[str]:
        rng = self.rng
        n = rng.choice([2, 2, 3, 3, 4])
        if self.fn is None and self.n_outputs > 1 and rng.random() < 0.5:
            n = self.n_outputs  # one to return
        items = [_bare(self.sx(rng.randint(0, 2))) for _ in range(n)]
        as_list = rng.random() < 0.35
        name = self.fresh("lst" if as_list else "pair")
        self.bind(scope, name, Binding("t", (n,)))
        self.features.add("list literal" if as_list else "tuple build")
        if as_list:
            return [f"{name} = [{', '.join(items)}]"]
        return [f"{name} = ({', '.join(items)})" if rng.random() < 0.5 else f"{name} = {', '.join(items)}"]

    def s_unpack(self, scope: Scope) -> list[str]:
        rng = self.rng
        r = rng.random()
        tuples = [t for t in scope.names("t") if scope.b[t].shape[0] <= 3]
        tuple_helpers = [h for h in self.callable_helpers() if h.returns > 1]
        swappable = self.rebindable(scope)
        if r < 0.2 and len(swappable) >= 2:  # a, b = b, a
            a, b = rng.sample(swappable, 2)
            self.features.add("swap")
            self.note_branch_assign("alias")
            for n in (a, b):
                self.bind_scalar(scope, n)
            return [f"{a}, {b} = {b}, {a}"]
        if r < 0.5 and tuples:
            t = rng.choice(tuples)
            targets = self.unpack_targets(scope, scope.b[t].shape[0])
            self.features.add("unpack a tuple name")
            return [f"{', '.join(targets)} = {t}"]
        if r < 0.7 and tuple_helpers:
            h = rng.choice(tuple_helpers)
            call = self.call_helper(h)
            targets = self.unpack_targets(scope, h.returns)
            self.features.add("unpack a helper's tuple")
            return [f"{', '.join(targets)} = {call}"]
        first = [_bare(self.sx(rng.randint(0, 2))) for _ in range(2)]
        last = _bare(self.sx(rng.randint(0, 2)))
        names = self.unpack_targets(scope, 3)
        self.features.add("nested unpack")
        return [f"({names[0]}, {names[1]}), {names[2]} = ({first[0]}, {first[1]}), {last}"]

    def unpack_targets(self, scope: Scope, n: int) -> list[str]:
        """n distinct scalar names to bind (never a parameter: it might receive a constant)."""
        names: list[str] = []
        for _ in range(n):
            for _ in range(20):
                name = self.target_scalar(scope)
                if name not in names:
                    break
            else:  # pragma: no cover
                name = self.fresh("x")
            names.append(name)
        for name in names:
            self.bind_scalar(scope, name)
        self.note_branch_assign("computed")
        return names

    # local arrays

    def s_array(self, scope: Scope) -> list[str]:
        rng = self.rng
        name = self.fresh("z")
        if rng.random() < 0.2:
            shape = (rng.choice([2, 3, 4, 5]), 2) if self.loop_mode else (2, 2)
            text = f"{name} = np.zeros(({shape[0]}, 2))"
            self.features.add("2-D local array")
        else:
            shape = (rng.choice([3, 4, 5, 6, 7] if self.loop_mode else [2, 3, 4]),)
            text = f"{name} = np.{rng.choice(['zeros', 'zeros', 'ones'])}({shape[0]})"
        self.bind(scope, name, Binding("a", shape, info="local"))
        self.features.add("local array")
        lines = [text]
        for _ in range(rng.randint(1, 2)):
            lines += self.s_setitem(scope, name)
        return lines

    def s_setitem(self, scope: Scope, name: str | None = None) -> list[str]:
        rng = self.rng
        if name is None:
            local = [n for n in scope.names("a") if scope.b[n].info == "local"
                     and (self.own is None or n in self.own)]
            if not local:
                return self.s_array(scope)
            name = rng.choice(local)
        shape = scope.b[name].shape
        op = "+=" if rng.random() < 0.3 else "="
        self.features.add("setitem")
        if op == "+=":
            self.features.add("setitem +=")
        if self.in_data_branch:
            self.features.add("setitem in a branch")
        self.bind(scope, name, scope.b[name])  # a new version of the array
        if self.loop_mode and rng.random() < 0.6:
            written = self.dynamic_write(name, shape, op)
            if written is not None:
                return written
        if len(shape) == 2:
            r = rng.random()
            if r < 0.5:
                return [f"{name}[{rng.randint(0, 1)}, {rng.randint(-2, 1)}] {op} {_bare(self.sx(rng.randint(0, 2)))}"]
            row = rng.randint(0, 1)
            self.features.add("setitem slice")
            return [f"{name}[{row if r < 0.75 else f':, {row}'}] {op} {self.vx(shape[1] if r < 0.75 else shape[0])}"]
        n = shape[0]
        loop = next(((v, lr) for v, lr in reversed(self.loops) if lr.stop <= n), None)
        r = rng.random()
        if loop is not None and r < 0.5:
            self.features.add("setitem in a loop")
            return [f"{name}[{loop[0]}] {op} {_bare(self.sx(rng.randint(0, 2)))}"]
        if r < 0.7 or n < 2:
            return [f"{name}[{rng.randint(-n, n - 1)}] {op} {_bare(self.sx(rng.randint(0, 2)))}"]
        start = rng.randint(0, n - 2)
        stop = rng.randint(start + 2, n)
        spelled = f"{start}:{stop}" if stop < n or rng.random() < 0.5 else f"{start}:"
        if start == 0 and rng.random() < 0.5:
            spelled = f":{stop}"
        self.features.add("setitem slice")
        return [f"{name}[{spelled}] {op} {self.vx(stop - start)}"]

    def dynamic_write(self, name: str, shape: tuple, op: str) -> list[str] | None:
        """`z[i] = v`, `z[i] += v`, `z[i, 1] = v`, `z[i] = <row>` with a rolled loop's index."""
        rng = self.rng
        forms = self.index_forms(shape[0])
        if not forms:
            return None
        i = rng.choice(forms)
        self.features.add("dynamic index write")
        if op == "+=":
            self.features.add("dynamic index +=")
        if len(shape) == 1:
            return [f"{name}[{i}] {op} {_bare(self.sx(rng.randint(0, 2)))}"]
        if rng.random() < 0.5:
            return [f"{name}[{i}, {rng.randint(0, shape[1] - 1)}] {op} {_bare(self.sx(rng.randint(0, 2)))}"]
        self.features.add("dynamic row write")
        return [f"{name}[{i}] {op} {self.vx(shape[1])}"]

    # branches on data

    def s_if(self, scope: Scope) -> list[str]:
        lines, after = self.data_if(scope, "if")
        self.adopt(scope, after)
        return lines

    @staticmethod
    def adopt(scope: Scope, after: Scope) -> None:
        """`scope` becomes `after` (the scope after a branch point), keeping what it had assigned."""
        scope.b, scope.order = after.b, after.order
        for n in after.assigned:
            if n not in scope.assigned:
                scope.assigned.append(n)

    def data_if(self, scope: Scope, keyword: str, cond: str | None = None) -> tuple[list[str], Scope]:
        rng = self.rng
        if cond is None:
            with self.in_scope(scope):
                cond = self.condition()
        if self.live:
            self.data_ifs += 1
        self.features.add("if on data")
        if self.looping:
            self.features.add("if on data in a loop")
        if self.rolled:
            self.features.add("if on data in a rolled loop")
        if self.fn is not None:
            self.features.add("if on data in a nested helper" if self.fn.nested else "if on data in a helper")
        if self.in_data_branch:
            self.features.add("nested if on data")
        then_scope = scope.fork()
        lines = [f"{keyword} {cond}:"] + self.branch_body(then_scope, data=True, anchor=True)
        r = rng.random()
        if r < 0.25 and self.depth < 2:  # elif: the else branch is an `if` of its own
            else_scope = scope.fork()
            saved = self.in_data_branch
            self.depth += 1
            self.in_data_branch = True
            inner, merged = self.data_if(else_scope, "elif")
            self.depth -= 1
            self.in_data_branch = saved
            self.features.add("elif")
            lines += inner
            sides = [then_scope, merged]
        elif r < 0.75:
            else_scope = scope.fork()
            lines += ["else:"] + self.branch_body(else_scope, data=True)
            self.features.add("else")
            sides = [then_scope, else_scope]
        else:
            sides = [then_scope, scope.fork()]
        self.note_merge(scope, sides)
        return lines, scope.merge(sides)

    def note_merge(self, before: Scope, sides: list[Scope]) -> None:
        for name in dict.fromkeys(n for s in sides for n in s.assigned):
            present = [name in s.b for s in sides]
            if not all(present):
                self.features.add("local to one branch")
            elif all(name in s.assigned for s in sides):
                self.features.add("assigned in every branch")
            elif name in before.b:
                self.features.add("assigned before and in one branch")

    def branch_body(self, scope: Scope, data: bool, anchor: bool = False) -> list[str]:
        """The statements of one branch (1-3, sometimes first a name of the branch's own).  With
        `anchor`, one of them certainly computes something from data, so the branch has equations."""
        rng = self.rng
        saved = self.in_data_branch
        self.depth += 1
        self.in_data_branch = data or saved
        lines = []
        if rng.random() < 0.3:
            with self.in_scope(scope):
                local = self.new_scalar_name(scope)
                lines.append(f"{local} = {_bare(self.sx(rng.randint(1, 2)))}")
            self.bind_scalar(scope, local)
            self.hot.append(local)
        n = rng.randint(1, 2 if self.looping or self.depth > 1 else 3)
        at = rng.randint(0, n) if anchor else -1
        for i in range(n + 1):
            if i == at:
                lines += self.anchor(scope)
            if i < n:
                lines += self.statement(scope)
        self.depth -= 1
        self.in_data_branch = saved
        return ["    " + line for line in lines]

    def anchor(self, scope: Scope) -> list[str]:
        """A statement that certainly makes an equation: an operation on a parameter."""
        rng = self.rng
        with self.in_scope(scope):
            own = [n for n in self.rebindable(scope, through_itself=True) if n in self.data_names]
            leaf = rng.choice(self.data_names)
            r = rng.random()
            if own and r < 0.3:
                p = rng.choice(own)
                self.bind_scalar(scope, p)
                return [f"{p} = {p} {rng.choice(['*', '+', '-'])} {_atomic(self.sx(rng.randint(0, 2)))}"]
            if own and r < 0.45:
                p = rng.choice(own)
                self.bind_scalar(scope, p)
                return [f"{p} {rng.choice(['+=', '-=', '*='])} {self.sx(rng.randint(0, 2))}"]
            name = self.target_scalar(scope) if r < 0.7 else self.new_scalar_name(scope)
            text = f"{leaf} {rng.choice(['*', '+', '-'])} {_atomic(self.sx(rng.randint(0, 2)))}"
            self.bind_scalar(scope, name)
            self.note_branch_assign("computed")
            return [f"{name} = {text}"]

    def condition(self) -> str:
        """One comparison whose left side certainly is data when flatgen reads it."""
        rng = self.rng
        left = self.data_expr()
        right = rng.choice(THRESHOLDS) if rng.random() < 0.5 else self.sx(rng.randint(0, 2))
        if rng.random() < 0.15:  # the data on the right: `0.5 < p0`
            left, right = right, left
        return f"{_bare(left)} {rng.choice(COMPARISONS)} {_bare(right)}"

    def data_expr(self) -> str:
        """An expression with a certainly-data leaf in a position nothing folds away."""
        rng = self.rng
        arrays = self.scope.names("a")
        if arrays and rng.random() < 0.2:
            a = rng.choice(arrays)
            shape = self.scope.b[a].shape
            leaf = f"{a}[{', '.join(str(rng.randint(0, d - 1)) for d in shape)}]"
            self.features.add("condition on an array element")
        else:
            leaf = rng.choice(self.data_names)
        r = rng.random()
        if r < 0.35:
            return leaf
        if r < 0.7:
            return f"({leaf} {rng.choice(['+', '-', '*'])} {_atomic(self.sx(rng.randint(0, 2)))})"
        if r < 0.85:
            return f"{rng.choice(['np.sin', 'np.tanh', 'math.cos', 'sigmoid'])}({leaf} * {_atomic(self.sx(rng.randint(0, 1)))})"
        helpers = [h for h in self.callable_helpers() if h.returns == 1]
        if helpers:
            self.features.add("condition calls a helper")
            call = self.call_helper(rng.choice(helpers), first=leaf)  # (its value may ignore `leaf`)
            return f"({call} {rng.choice(['+', '-', '*'])} {leaf})" if rng.random() < 0.5 else f"({leaf} - {call})"
        return f"({leaf} - {_atomic(self.sx(rng.randint(0, 2)))})"

    # branches decided when the module is generated

    def s_static(self, scope: Scope) -> list[str]:
        text, truth = self.static_condition()
        loop_dependent = isinstance(truth, list)
        self.features.add("static if")
        then_scope, else_scope = scope.fork(), scope.fork()
        takes = (any(truth), not all(truth)) if loop_dependent else (truth, not truth)
        saved_live = self.live
        self.live = saved_live and takes[0]
        lines = [f"if {text}:"] + self.branch_body(then_scope, data=False)
        if self.rng.random() < 0.7:
            self.live = saved_live and takes[1]
            lines += ["else:"] + self.branch_body(else_scope, data=False)
        self.live = saved_live
        if loop_dependent:  # taken in some iterations: what every path binds, as after a branch on data
            after = scope.merge([then_scope, else_scope])
        else:
            after = then_scope if truth else else_scope
        self.adopt(scope, after)
        return lines

    def static_condition(self):
        """(text, truth): truth a bool, or a list of bools (one per iteration of the innermost loop)."""
        rng = self.rng
        atoms = []
        c = self.constants
        if "N" in c:
            atoms.append(f"N {rng.choice(['>', '==', '>='])} {rng.choice([2, 3, 4])}")
        if "FLAG" in c:
            atoms.append("FLAG == 1" if rng.random() < 0.5 else "FLAG")
        if "C0" in c:
            atoms.append(f"C0 {rng.choice(['>', '<'])} {rng.choice(['1', '0.5', '0'])}")
        if self.numpy_user and self.fn is None:
            atoms.append(f"p0.ndim {rng.choice(['==', '>'])} 0")
        arrays = [n for n, s in self.shapes if s] if self.fn is None else []
        if arrays:
            v = arrays[0]
            atoms.append(rng.choice([f"{v}.ndim == 1", f"len({v}) > 2", f"{v}.shape[0] == 3", f"{v}.size >= 3"]))
        if self.loops:
            t, r = self.loops[-1]
            atoms += [rng.choice([f"{t} == 0", f"{t} > 0", f"{t} < {r.stop - 1}", f"{t} == {r.stop - 1}"])] * 2
        if not atoms:
            atoms.append(rng.choice(["2 > 1", "0.5 > 1.5"]))
        text = atoms[-1] if self.loops and rng.random() < 0.5 else rng.choice(atoms)
        r = rng.random()
        if r < 0.2 and len(atoms) > 1:
            text = f"{text} {rng.choice(['and', 'or'])} {rng.choice(atoms)}"
            self.features.add("static and/or")
        elif r < 0.3:
            text = f"not {text}"
            self.features.add("static not")
        truth = self.evaluate_static(text)
        if r >= 0.3 and rng.random() < 0.15 and not isinstance(truth, list):
            # decided by the constant part: the data part never matters (Python never evaluates it)
            data = f"{rng.choice(self.data_names)} > {rng.choice(THRESHOLDS)}"
            text = f"{text} and {data}" if not truth else f"{text} or {data}"
            self.features.add("static and/or decided with data")
        return text, truth

    def evaluate_static(self, text: str):
        env: dict = dict(self.constants)
        for n, s in self.shapes:
            env[n] = np.zeros(s) if s else np.float64(0.0)
        names = {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}
        if names & {"ndim", "v", "p0"} or ".ndim" in text:
            self.features.add("static if on shapes")
        if self.loops and self.loops[-1][0] in names:
            t, r = self.loops[-1]
            self.features.add("static if on a loop index")
            return [bool(eval(text, {"len": len}, {**env, t: i})) for i in r]  # noqa: S307 (our own text)
        return bool(eval(text, {"len": len}, env))  # noqa: S307

    def s_for(self, scope: Scope) -> list[str]:
        rng = self.rng
        var = next(v for v in LOOP_VARS if v not in [name for name, _ in self.loops] + self.nest)
        form = rng.random()
        if form < 0.2 and "N" in self.constants:
            r, header = range(self.constants["N"]), "range(N)"
        elif form < 0.35:
            r, header = range(1, 3), "range(1, 3)"
        else:
            k = rng.choice([2, 2, 3])
            r, header = range(k), f"range({k})"
        self.features.add("loop")
        if self.loop_mode and len(r) > self.unroll:  # flatgen keeps it a loop
            self.features.add("rolled constant loop (unroll option)")
            return self.rolled_loop(scope, var, header, r.start, r.stop - 1, [])
        self.bind(scope, var, Binding("i", info=r))
        self.loops.append((var, r))
        self.nest.append(var)
        self.depth += 1
        body = []
        for _ in range(rng.randint(1, 2)):
            body += self.statement(scope)
        self.depth -= 1
        self.loops.pop()
        self.nest.pop()
        return [f"for {var} in {header}:"] + ["    " + line for line in body]

    # rolled loops (generate_loops only)

    def s_loop(self, scope: Scope) -> list[str]:
        """A loop flatgen keeps a loop: `for` over an int parameter's range, a `while` on data, a
        long constant loop."""
        rng = self.rng
        in_while = any(r.var is None for r in self.rolled)
        r = rng.random()
        if self.fn is None and self.ints and r < 0.6:
            return self.int_loop(scope)
        if r < 0.9 and not in_while:
            return self.s_while(scope)
        if not self.nest and r < 0.95:
            return self.long_loop(scope)
        return self.s_for(scope)

    def free_loop_var(self) -> str:
        return next(v for v in LOOP_VARS if v not in [name for name, _ in self.loops] + self.nest)

    def int_loop(self, scope: Scope, bound: str | None = None) -> list[str]:
        """`for i in range(<int parameter arithmetic>)`, or over an enclosing rolled loop's index."""
        rng = self.rng
        var = self.free_loop_var()
        outer = self.rolled_index()
        n = bound or rng.choice(list(self.ints))
        v = self.ints[n]
        forms = [(f"{n}", 0, v - 1), (f"{n}", 0, v - 1), (f"1, {n}", 1, v - 1), (f"{n} - 1", 0, v - 2),
                 (f"{n} + 1", 0, v)]
        others = [m for m in self.ints if m != n]
        if others:
            m = others[0]
            forms.append((f"{m}, {n}", self.ints[m], v - 1))
        if outer is not None and bound is None:
            o = next(x for x in self.rolled if x.var == outer)
            empty = o.hi < o.lo
            forms += [(f"{outer}", 0, o.hi - 1), (f"{outer} + 1", 0, o.hi), (f"{n} - {outer}", 0, v - o.lo - 1),
                      (f"{outer}, {n}", o.lo, v - 1)] * 2
            if empty:
                forms = [(text, 0, -1) for text, _, _ in forms]
        text, lo, hi = rng.choice(forms)
        names = {x for x in re.findall(r"[a-z_]\w*", text)}
        if self.live:
            self.int_used |= names & set(self.ints)
        self.features.add("rolled for over an int parameter" if names & set(self.ints) else "rolled for over a loop index")
        if "," in text:
            self.features.add("range(start, stop)")
        if "+" in text or "-" in text:
            self.features.add("range of int arithmetic")
        if outer is not None and outer in names:
            self.features.add("inner range from the outer index")
        return self.rolled_loop(scope, var, f"range({text})", lo, hi, [])

    def long_loop(self, scope: Scope) -> list[str]:
        """A constant loop longer than flatgen unrolls by default (a small, contracting body)."""
        k = self.rng.choice([17, 20, 24])
        self.features.add("rolled long constant loop")
        saved = self.no_nest
        self.no_nest = True
        try:
            return self.rolled_loop(scope, self.free_loop_var(), f"range({k})", 0, k - 1, [], small=True)
        finally:
            self.no_nest = saved

    def rolled_loop(self, scope: Scope, var: str | None, header: str, lo: int, hi: int, before: list[str],
                    test: str | None = None, progress=None, small: bool = False) -> list[str]:
        """A rolled loop (`for var in header`, or `while test` when var is None): the body's scope is
        forked; after the loop, a name is bound only when it was bound before (zero iterations).
        `progress`: (first, line) for a `while`: line(scope) writes the statement that moves its
        condition, the body's first statement or its last."""
        rng = self.rng
        lines = list(before)
        with self.in_scope(scope):
            lines += self.loop_state(scope)
        body_scope = scope.fork()
        if var is not None:
            self.bind(body_scope, var, Binding("i"))
        if self.nest:
            self.features.add("nested loops")
            if self.rolled:
                self.features.add("nested rolled loops")
        if self.in_data_branch:
            self.features.add("loop in a branch on data")
        if self.fn is not None:
            self.features.add("loop in a helper")
        if var is not None and hi < lo and self.live:
            self.features.add("zero iterations")  # at the sample point
        self.rolled.append(_Rolled(var, lo, hi))
        self.nest.append(var or "")
        self.depth += 1
        body = []
        n = 1 if small else rng.randint(1, 2)
        at = rng.randint(0, n)
        with self.in_scope(body_scope):
            if progress is not None and progress[0]:
                body.append(progress[1](body_scope))
            for k in range(n + 1):
                if k == at:  # a pre-loop value the body updates: the loop's state
                    body += self.carry(body_scope, scope)
                if k < n:
                    body += self.statement(body_scope)
            if progress is not None and not progress[0]:
                body.append(progress[1](body_scope))
        self.depth -= 1
        self.rolled.pop()
        self.nest.pop()
        self.adopt(scope, scope.merge([body_scope, scope.fork()]))
        head = f"for {var} in {header}:" if var is not None else f"while {test}:"
        return lines + [head] + ["    " + line for line in body]

    def loop_state(self, scope: Scope) -> list[str]:
        """Before a rolled loop, sometimes a new accumulator or array state for the body to update."""
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            name = self.new_scalar_name(scope)
            value = rng.choice(["0.0", "0.0", "1.0", "0", _bare(self.sx(rng.randint(0, 1)))])
            self.bind_scalar(scope, name)
            self.hot.append(name)
            return [f"{name} = {value}"]
        if r < 0.45 and not (self.own is not None):
            name = self.fresh("hv")
            k = rng.choice([2, 3])
            text = self.vx(k)
            self.bind(scope, name, Binding("a", (k,), info="state"))
            self.features.add("array loop state")
            return [f"{name} = {text}"]
        return []

    def carry(self, body: Scope, before: Scope) -> list[str]:
        """A statement that updates, from its old value, a scalar or array bound before the loop."""
        rng = self.rng
        states = [a for a in body.names("a") if body.b[a].info == "state" and a in before.b]
        if states and rng.random() < 0.5:
            h = rng.choice(states)
            k = body.b[h].shape[0]
            r = rng.random()
            self.bind(body, h, body.b[h])
            self.features.add("array state updated in a loop")
            if r < 0.4:
                return [f"{h} = np.tanh({h} * {_atomic(self.sx(rng.randint(0, 1)))} + {_atomic(self.vx(k))})"]
            if r < 0.7:
                return [f"{h} = {h} * 0.5 + {_atomic(self.vx(k))}"]
            self.features.add("array += in a loop")
            return [f"{h} += {self.vx(k)}"]
        names = [n for n in self.rebindable(body, through_itself=True) if n in before.b and before.b[n].kind == "s"]
        if not names:
            return self.statement(body)
        hot = [h for h in self.hot if h in names]
        t = rng.choice(hot) if hot and rng.random() < 0.6 else rng.choice(names)
        e = _atomic(self.sx(rng.randint(0, 2)))
        r = rng.random()
        self.bind_scalar(body, t)
        self.features.add("loop-carried scalar")
        if r < 0.3:
            return [f"{t} = {t} + {e}"]
        if r < 0.45:
            return [f"{t} += {e}"]
        if r < 0.65:
            return [f"{t} = np.tanh({t} * {rng.choice(['0.5', '1.5', '-1.0'])} + {e})"]
        if r < 0.8:
            return [f"{t} = 0.5 * {t} + {e}"]
        return [f"{t} = {t} * {rng.choice(['np.cos', 'sigmoid', 'np.tanh'])}({_bare(e)})"]

    def s_while(self, scope: Scope) -> list[str]:
        """A `while` on data that certainly ends: a counter, or a value moved by at least a fixed step
        (or factor) each iteration towards a limit, or Newton's iteration for a square root."""
        rng = self.rng
        c = self.new_scalar_name(scope)
        form = rng.choice(["counter", "add", "add", "decay", "decay", "newton"])
        self.features.add(f"while ({form})")
        before = []
        frozen = {c}
        if form == "counter":
            start, step = rng.choice([("0.0", "1.0"), ("0", "1"), ("0.5", "1.0")])
            limit = rng.choice(["2.5", "1.5", "3", "0.25", "C0" if "C0" in self.constants else "2"])
            if self.fn is None and self.ints and rng.random() < 0.3:
                limit = rng.choice(list(self.ints))  # an int parameter as the limit
                self.features.add("while up to an int parameter")
            before.append(f"{c} = {start}")
            test = f"{c} < {limit}" if rng.random() < 0.8 else f"{limit} > {c}"
            progress = (False, lambda sc: f"{c} = {c} + {step}" if rng.random() < 0.5 else f"{c} += {step}")
        elif form == "add":  # from [-1, 1] (or a literal), steps of at least 0.5, up to at most 2.5
            start = rng.choice([f"np.tanh({_bare(self.data_expr())})", "0.0", f"sigmoid({_bare(self.data_expr())})"])
            limit = rng.choice(["1.5", "2.0", "2.5", "0.5"])
            before.append(f"{c} = {start}")
            test = f"{c} < {limit}" if rng.random() < 0.8 else f"{limit} > {c}"

            def line(sc):
                e = _bare(self.sx(rng.randint(0, 1)))
                step = rng.choice([f"0.5 + sigmoid({e})", f"0.5 + {_atomic(e)} * {_atomic(e)}",
                                   f"0.5 + np.exp(np.tanh({e}))"])
                return f"{c} = {c} + {step}" if rng.random() < 0.6 else f"{c} += {step}"
            progress = (rng.random() < 0.3, line)
        elif form == "decay":  # from [1, 2], by a factor of at most 0.7, down to at least 0.1
            start = rng.choice([f"1.0 + sigmoid({_bare(self.data_expr())})", f"1.0 + np.tanh({_bare(self.data_expr())}) ** 2",
                                "2.0"])
            limit = rng.choice(["0.1", "0.25", "0.5"])
            before.append(f"{c} = {start}")
            test = f"{c} > {limit}" if rng.random() < 0.8 else f"{limit} < {c}"

            def line(sc):
                e = _bare(self.sx(rng.randint(0, 1)))
                factor = rng.choice([f"(0.3 + 0.4 * sigmoid({e}))", "0.5", f"(0.6 - 0.3 * np.cos({e}) ** 2)"])
                return f"{c} = {c} * {factor}" if rng.random() < 0.6 else f"{c} *= {factor}"
            progress = (rng.random() < 0.3, line)
        else:  # Newton's iteration for sqrt(q): from above, it decreases to sqrt(q)
            q = self.new_scalar_name(scope)
            while q == c:
                q = self.fresh("x")
            frozen.add(q)
            before.append(f"{q} = {_positive(_bare(self.data_expr()), rng.choice(['0.5', '1.0']), rng)}")
            before.append(f"{c} = {q} + 1.0")
            self.bind_scalar(scope, q)
            test = f"{rng.choice(['abs', 'np.abs'])}({c} * {c} - {q}) > {rng.choice(['0.01', '0.001'])}"
            progress = (False, lambda sc: f"{c} = {c} - ({c} * {c} - {q}) / (2.0 * {c})")
        self.bind_scalar(scope, c)
        self.hot.append(c)
        saved = self.frozen
        self.frozen = saved | frozen
        try:
            return self.rolled_loop(scope, None, "", 0, -1, before, test=test, progress=progress)
        finally:
            self.frozen = saved

    def s_index_if(self, scope: Scope) -> list[str]:
        """An `if` on a rolled loop's index: decided at run time, so a branch on data for flatgen."""
        index = self.rolled_index()
        if index is None:  # pragma: no cover (statement() asks only in a rolled for)
            return self.s_if(scope)
        self.features.add("if on a rolled loop index")
        lines, after = self.data_if(scope, "if", cond=self.index_condition(index))
        self.adopt(scope, after)
        return lines

    def rolled_index(self) -> str | None:
        """The innermost loop's variable when that loop is a rolled `for`."""
        if self.nest and self.nest[-1] and self.rolled and self.rolled[-1].var == self.nest[-1]:
            return self.nest[-1]
        return None

    def index_condition(self, index: str) -> str:
        rng = self.rng
        forms = [f"{index} == 0", f"{index} > 0", f"{index} >= 1", f"{index} < 2", f"{index} == 1", f"0 < {index}"]
        if self.fn is None and self.ints:
            n = rng.choice(list(self.ints))
            forms += [f"{index} < {n} - 1", f"{index} == {n} - 1"]
        return rng.choice(forms)

    def loop_leaf(self, r: float) -> str | None:
        """In generate_loops: an element read with a rolled loop's index, or an int parameter."""
        rng = self.rng
        if r < 0.22:
            reads = self.dynamic_reads()
            if reads:
                self.features.add("dynamic index read")
                return rng.choice(reads)
        elif r < 0.25 and self.fn is None and self.ints:
            self.features.add("int parameter as a value")
            return rng.choice(list(self.ints))
        return None

    def index_forms(self, length: int) -> list[str]:
        """Index expressions of the enclosing rolled loops' variables valid for a dimension of `length`
        (at the sample point: the loops' index ranges are known)."""
        out = []
        for loop in self.rolled:
            if loop.var is None:
                continue
            for text, off in ((loop.var, 0), (loop.var, 0), (f"{loop.var} + 1", 1), (f"{loop.var} - 1", -1)):
                if loop.hi < loop.lo or (loop.hi + off < length and loop.lo + off >= -length):
                    out.append(text)
        return out

    def dynamic_reads(self) -> list[str]:
        rng = self.rng
        scope = self.scope
        out = []
        for a in scope.names("a"):
            shape = scope.b[a].shape
            if len(shape) == 1:
                out += [f"{a}[{i}]" for i in self.index_forms(shape[0])]
            elif len(shape) == 2:
                for i in self.index_forms(shape[0]):
                    out += [f"{a}[{i}, {rng.randint(0, shape[1] - 1)}]", f"np.sum({a}[{i}])",
                            f"np.sum({a}[{i}, :] * {a}[{i}, :])"]
                for i in self.index_forms(shape[1]):
                    out += [f"{a}[{rng.randint(-shape[0], shape[0] - 1)}, {i}]", f"np.sum({a}[:, {i}])"]
        return out

    def s_select(self, scope: Scope) -> list[str]:
        name = self.target_scalar(scope)
        text = self.select(self.rng.randint(0, 2))
        self.bind_scalar(scope, name)
        self.note_branch_assign("computed")
        return [f"{name} = {_bare(text)}"]

    def select(self, depth: int) -> str:
        """`a if c else b`: on data (a select, both sides computed) or on constants (one side)."""
        rng = self.rng
        index = self.rolled_index()
        if index is not None and rng.random() < 0.2:  # (loop_mode only: no draw otherwise)
            self.features.add("select on a rolled loop index")
            return f"({_atomic(self.sx(depth))} if {self.index_condition(index)} else {_atomic(self.sx(depth))})"
        if rng.random() < 0.7:
            self.features.add("select on data")
            cond = self.condition()
            return f"({_atomic(self.sx(depth))} if {cond} else {_atomic(self.sx(depth))})"
        text, truth = self.static_condition()
        self.features.add("select on a loop index" if isinstance(truth, list) else "select on constants")
        takes = (any(truth), not all(truth)) if isinstance(truth, list) else (truth, not truth)
        saved = self.live
        self.live = saved and takes[0]
        a = self.sx(depth)
        self.live = saved and takes[1]
        b = self.sx(depth)
        self.live = saved
        return f"({_atomic(a)} if {text} else {_atomic(b)})"

    def s_closure(self, scope: Scope) -> list[str]:
        """A nested pure helper: reads the enclosing names, assigns only its own."""
        rng = self.rng
        name = self.fresh("g")
        params = rng.sample(["u", "w", "s2", "b2"], rng.randint(1, 2))
        defaults = {}
        if len(params) > 1 and rng.random() < 0.6:
            defaults[params[-1]] = rng.choice(["0.5", "2.0", "C0" if "C0" in self.constants else "1.5"])
        fn = _Fn(name, params, defaults, [], 1, nested=True)
        inner = scope.fork()
        # Its locals: sometimes names the enclosing function has too (they stay the helper's own; Python
        # makes a name the helper assigns local throughout, so it is never read before).
        outer = [n for n in scope.names("s") if n not in self.data_names and n not in params]
        local_names = []
        for _ in range(rng.randint(0, 2)):
            if outer and rng.random() < 0.6:
                local_names.append(outer.pop(rng.randrange(len(outer))))
                self.features.add("nested helper local shadows an enclosing name")
            else:
                n = self.new_scalar_name(inner)
                if n not in local_names:
                    local_names.append(n)
        for n in local_names + [v for v, _ in self.loops]:
            inner.b.pop(n, None)
            if n in inner.order:
                inner.order.remove(n)
        for p in params:
            inner.set(p, Binding("s"))
        inner.assigned = []
        if any(n not in params for n in inner.names("s")):
            self.features.add("nested helper reads enclosing names")
        saved = (self.fn, self.data_names, self.loops, self.depth, self.hot, self.own)
        self.fn, self.loops, self.depth, self.own = fn, [], 0, set(params)
        self.data_names = [params[0]] + [n for n in saved[1] if n not in local_names and n not in params]
        self.hot = [params[0]]
        ifs_before = self.data_ifs
        body = []
        with self.in_scope(inner):
            for n in local_names:
                body.append(f"{n} = {_bare(self.sx(rng.randint(1, 2)))}")
                self.bind(inner, n, Binding("s"))
                if rng.random() < 0.4:
                    body += self.statement(inner)
            if rng.random() < 0.3:
                body += self.s_if(inner)
            result = _bare(self.sx(rng.randint(1, 3)))
            others = inner.names("g")
            if others and rng.random() < 0.5:  # an earlier nested helper
                result = f"{_atomic(result)} + {self.call_helper(inner.b[rng.choice(others)].info, depth=1)}"
            body.append(f"return {result}")
        fn.data_ifs = self.data_ifs - ifs_before  # counted where it is called
        self.data_ifs = ifs_before
        self.fn, self.data_names, self.loops, self.depth, self.hot, self.own = saved
        fn.cost = _Cost({**{h.name: h.cost for h in self.helpers},
                         **{g: scope.b[g].info.cost for g in scope.names("g")}}).block(
            ast.parse("\n".join(body)).body)
        self.bind(scope, name, Binding("g", info=fn))
        self.features.add("nested helper")
        sig = ", ".join(p + (f"={defaults[p]}" if p in defaults else "") for p in params)
        return [f"def {name}({sig}):"] + ["    " + line for line in body]

    # -- the return --------------------------------------------------------------------------------------

    def result(self, scope: Scope) -> str:
        """A returned value that leans on the names bound last, so most statements reach the output."""
        rng = self.rng
        text = self.sx(rng.randint(1, 3), recent=True)
        recent = [n for n in scope.names("s")[-4:] if n not in text]
        for name in rng.sample(recent, min(len(recent), rng.randint(1, 2))):
            text = f"{_atomic(text)} {rng.choice(['+', '-', '*', '+'])} {name}"
        return text

    def returned(self, scope: Scope, n: int, main: bool = False) -> str:
        rng = self.rng
        if n == 1:
            return _bare(self.result(scope))
        self.features.add(f"{n} outputs" if main else "helper returns a tuple")
        if main:
            tuples = [t for t in scope.names("t") if scope.b[t].shape[0] == n]
            helpers = [h for h in self.callable_helpers() if h.returns == n]
            forms = ["values", "twice", "constant"] + ["tuple name"] * 3 * bool(tuples) + ["helper"] * 3 * bool(helpers)
            form = rng.choice(forms)
            if form == "tuple name":
                self.features.add("return a tuple name")
                return rng.choice(tuples)
            if form == "helper":
                self.features.add("return a helper's tuple")
                return self.call_helper(rng.choice(helpers))
            if form == "twice":
                name = rng.choice(scope.names("s"))
                self.features.add("return a name twice")
                return ", ".join([name, name] + [_bare(self.sx(1, recent=True)) for _ in range(n - 2)])
            if form == "constant":
                self.features.add("return a constant")
                items = [_bare(self.result(scope)) for _ in range(n - 1)]
                return ", ".join(items + [rng.choice(LITERALS)])
        return ", ".join(_bare(self.result(scope)) for _ in range(n))

    # -- expressions -------------------------------------------------------------------------------------

    def leaf(self, recent: bool = False) -> str:
        rng = self.rng
        scope = self.scope
        r = rng.random()
        scalars = scope.names("s")
        if self.loop_mode:
            special = self.loop_leaf(rng.random())
            if special is not None:
                return special
        if self.loops and r < 0.12:
            t, lr = self.loops[-1]
            tuples = [n for n in scope.names("t") if scope.b[n].shape[0] >= lr.stop]
            if tuples:
                self.features.update(["tuple index", "tuple indexed by a loop index"])
                return f"{rng.choice(tuples)}[{t}]"
        if r < 0.62 and scalars:
            if recent and rng.random() < 0.5:
                return scalars[-1]
            hot = [h for h in self.hot if h in scope.b and scope.b[h].kind == "s"]
            if hot and rng.random() < 0.45:
                return rng.choice(hot)
            return rng.choice(scalars)
        if r < 0.72:
            tuples = scope.names("t")
            if tuples:
                t = rng.choice(tuples)
                n = scope.b[t].shape[0]
                loop = next((v for v, lr in reversed(self.loops) if lr.stop <= n), None)
                self.features.add("tuple index")
                if loop is not None and rng.random() < 0.6:
                    self.features.add("tuple indexed by a loop index")
                    return f"{t}[{loop}]"
                i = rng.randint(-n, n - 1)
                if i < 0:
                    self.features.add("tuple index negative")
                return f"{t}[{i}]"
        if r < 0.8:
            arrays = scope.names("a")
            if arrays:
                a = rng.choice(arrays)
                self.features.add("array element")
                return f"{a}[{', '.join(str(rng.randint(-d, d - 1)) for d in scope.b[a].shape)}]"
        if r < 0.83 and (self.loops or self.nest and self.nest[-1]):
            self.features.add("loop index as a value")
            if self.nest and self.nest[-1] and self.rolled and self.nest[-1] == self.rolled[-1].var:
                self.features.add("rolled loop index as a value")
                return self.nest[-1]
            return self.loops[-1][0] if self.loops else self.nest[-1]
        if r < 0.92:
            return rng.choice(LITERALS) if rng.random() < 0.8 else rng.choice(NEG_LITERALS)
        consts = [c for c in self.constants if c.startswith("C")]
        if consts and rng.random() < 0.7:
            return rng.choice(consts)
        return rng.choice(BUILTIN_CONSTANTS)

    def sx(self, depth: int, recent: bool = False) -> str:
        """A scalar expression."""
        rng = self.rng
        if self.looping:  # unrolled: every operation counts k times (rolled: runs k times)
            depth = min(depth, 2)
        if depth <= 0 or rng.random() < 0.12:
            return self.leaf(recent)
        sub = lambda: self.sx(depth - 1, recent)  # noqa: E731
        scope = self.scope
        kinds = ["arith", "div", "cpow", "neg", "call1", "call2", "helper", "closure", "reduce", "select",
                 "literal_index", "identity"]
        helpers = self.callable_helpers()
        closures = [g for g in scope.names("g") if scope.b[g].info.cost <= (12 if self.looping else 40)]
        weights = [30, 7, 6, 4, 22, 4, 8 if helpers else 0, 8 if closures else 0,
                   6 if scope.names("a") else 0, 4, 2, 4]
        kind = rng.choices(kinds, weights)[0]
        if kind == "identity":
            return rng.choice(IDENTITIES).format(x=_atomic(sub()))
        if kind == "arith":
            return f"({sub()} {rng.choice(['+', '-', '*'])} {sub()})"
        if kind == "div":
            if rng.random() < 0.6:
                return f"({sub()} / {_positive(sub(), '1.0', rng)})"
            return f"({sub()} / {rng.choice(['2.0', '3', '0.5'])})"
        if kind == "cpow":
            form = rng.choice(["2", "3", "2", "0.5", "-1", "1.5"])
            if form in ("2", "3"):
                return f"({_atomic(sub())} ** {form})"
            return f"({_positive(sub(), '0.5', rng)} ** {_atomic(form)})"
        if kind == "neg":
            return f"(-{_atomic(sub())})"
        if kind == "call1":
            fn, domain = rng.choice(ONE_ARG)
            arg = sub()
            if domain == "exp":
                arg = f"np.tanh({_bare(arg)})"
            elif domain in ("log", "sqrt"):
                arg = _positive(arg, rng.choice(["0.5", "1.0"]), rng)
            return f"{fn}({_bare(arg)})"
        if kind == "call2":
            return f"{rng.choice(TWO_ARG)}({_bare(sub())}, {_bare(sub())})"
        if kind == "helper":
            h = rng.choice(helpers)
            call = self.call_helper(h, depth=depth - 1)
            if h.returns > 1:
                self.features.add("index a helper's tuple")
                return f"{call}[{rng.randint(-h.returns, h.returns - 1)}]"
            return call
        if kind == "closure":
            return self.call_helper(scope.b[rng.choice(closures)].info, depth=depth - 1)
        if kind == "reduce":
            a = rng.choice(scope.names("a"))
            shape = scope.b[a].shape
            self.features.add("reduce an array")
            form = rng.random()
            if form < 0.3:
                return f"np.sum({a} * {a})"
            if form < 0.5:
                return f"np.sum(np.{rng.choice(['sin', 'tanh', 'cos'])}({a}))"
            if form < 0.65:
                return f"np.mean({a})"
            if form < 0.8 and len(shape) == 1:
                return f"({a} @ {a})" if rng.random() < 0.5 else f"np.dot({a}, {self.vx(shape[0])})"
            return f"np.sum({a} * {_atomic(sub())})"
        if kind == "select":
            return self.select(depth - 1)
        items = [_bare(sub()) for _ in range(rng.choice([2, 3]))]
        i = rng.randint(0, len(items) - 1)
        self.features.add("literal indexed")
        return f"[{', '.join(items)}][{i}]" if rng.random() < 0.5 else f"({', '.join(items)})[{i}]"

    def vx(self, n: int) -> str:
        """An array expression of shape (n,), always a new array (never a view bound to a name)."""
        rng = self.rng
        scope = self.scope
        sources = []
        for a in scope.names("a"):
            shape = scope.b[a].shape
            if len(shape) == 1 and shape[0] >= n:
                start = rng.randint(0, shape[0] - n)
                sources.append(a if shape[0] == n else f"{a}[{start}:{start + n}]")
            elif len(shape) == 2 and n == shape[1]:
                sources.append(f"{a}[{rng.randint(0, shape[0] - 1)}]")
            if self.loop_mode and len(shape) == 2:  # a row or a column picked by a rolled loop's index
                sources += [f"{a}[{i}]" for i in self.index_forms(shape[0]) if shape[1] == n]
                sources += [f"{a}[:, {i}]" for i in self.index_forms(shape[1]) if shape[0] == n]
        if sources and rng.random() < 0.6:
            src = rng.choice(sources)
            form = rng.random()
            if form < 0.3:
                return f"{_atomic(src)} * {_atomic(self.sx(rng.randint(0, 1)))}"
            if form < 0.6:
                return f"np.{rng.choice(['tanh', 'sin'])}({src})"
            if form < 0.8:
                return f"{_atomic(src)} + {_atomic(self.sx(rng.randint(0, 1)))}"
            return f"{_atomic(src)} * 2.0"
        return f"{_atomic(self.sx(rng.randint(0, 2)))} * np.ones({n})"

    def call_helper(self, h: _Fn, depth: int = 1, first: str | None = None) -> str:
        """A call: the first argument certainly data when the helper branches on it; the rest by
        position, by keyword (in any order), or left to their defaults."""
        rng = self.rng
        if self.live:
            self.data_ifs += h.data_ifs
        if first is None:
            first = self.data_expr() if h.data_ifs else self.sx(max(depth, 0))
        args = [_bare(first)]
        keywords = []
        by_keyword = False
        for p in h.params[1:]:
            if p in h.defaults and rng.random() < 0.4:
                by_keyword = True  # left to its default: later ones go by keyword
                continue
            value = _bare(self.sx(max(depth - 1, 0)))
            if by_keyword or rng.random() < 0.3:
                keywords.append(f"{p}={value}")
                by_keyword = True
            else:
                args.append(value)
        for p in h.kwonly:
            if p not in h.defaults or rng.random() < 0.5:
                keywords.append(f"{p}={_bare(self.sx(max(depth - 1, 0)))}")
                self.features.add("keyword-only argument")
        if keywords:
            rng.shuffle(keywords)
            self.features.add("keyword argument")
        if len(args) + len(keywords) < len(h.params) + len(h.kwonly):
            self.features.add("default used")
        self.features.add("nested helper call" if h.nested else "helper call")
        if self.fn is not None and not h.nested:
            self.features.add("helper calls helper" if not self.fn.nested else "nested helper calls helper")
        if self.fn is not None and self.fn.nested and h.nested:
            self.features.add("nested helper calls nested helper")
        return f"{h.name}({', '.join(args + keywords)})"



# -- text helpers (as in tests/fuzzgen.py) ----------------------------------------------------------------


def _square(x: str, rng: random.Random) -> str:
    if x.isidentifier() and rng.random() < 0.7:
        return f"{x} * {x}"
    return f"{_atomic(x)} ** 2"


def _positive(x: str, c: str, rng: random.Random) -> str:
    """An expression > 0 built from x: `(x * x + c)`."""
    return f"({_square(x, rng)} + {c})"


def _is_number(x: str) -> bool:
    try:
        float(x)
    except ValueError:
        return False
    return not x.startswith("-")


def _enclosed(x: str, open_: str = "(", close: str = ")") -> bool:
    """True when x is one parenthesized group or one call: `(...)`, `np.exp(...)`, `t[0]`, `h(a)[1]`."""
    if not x or x[-1] not in ")]":
        return False
    depth = 0
    start = None
    for i, ch in enumerate(x):
        if ch in "([":
            if depth == 0 and start is None:
                start = i
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth == 0 and i != len(x) - 1 and x[i + 1] not in "([":
                return False
        elif depth == 0 and not (ch.isalnum() or ch in "_."):
            return False
    head = x[:start]
    return not head or all(part.isidentifier() for part in head.split("."))


def _atomic(x: str) -> str:
    if x.isidentifier() or _is_number(x) or _enclosed(x):
        return x
    return f"({x})"


def _bare(x: str) -> str:
    """Without redundant outer parentheses (never those of a tuple or a conditional's group)."""
    if x.startswith("(") and x.endswith(")") and _enclosed(x):
        depth = 0
        for i, ch in enumerate(x):
            depth += ch in "(["
            depth -= ch in ")]"
            if depth == 0 and i != len(x) - 1:
                return x
        inner = x[1:-1]
        try:
            tree = ast.parse(inner, mode="eval").body
        except SyntaxError:
            return x
        if isinstance(tree, (ast.Tuple, ast.IfExp)):
            return x
        return inner
    return x


# -- Python as people write it (issue 14): generate_idioms ----------------------------------------------------


def generate_idioms(seed: int) -> Program:
    """A program of the idioms issue 14 added, for `seed` (a stream of its own): loops over sequences (an
    array's elements, list literals, zip, enumerate, reversed, range(a, b, step), a run-time range(n)),
    continue and break (on data, and decided now), `while True:` and `while c:` that break on data, lists
    built and appended to and read (sum, max, min, [-1], len), comprehensions and generator expressions
    (sum over a run-time count too), integer arithmetic on sizes (//, %, int(), float(), len()), early
    returns (on data and decided now), and the statements with no gradient (a docstring, pass, print,
    assert).  Long arrays (more than flatgen unrolls) and the unroll option 0 keep loops rolled: the
    writer knows which, so it knows which `if`s are on data (`Program.data_ifs`) and which break flags
    become branches."""
    rng = random.Random(f"flatgen idiom fuzz {seed}")
    nscalars = rng.randint(1, 3)
    shapes: list = [(f"p{i}", ()) for i in range(nscalars)]
    ints: dict = {}
    length = rng.choice([3, 4, 5, 5, 6, 18, 20])
    if rng.random() < 0.8:
        shapes.insert(rng.randint(0, len(shapes)), ("xs", (length,)))
        if rng.random() < 0.4:
            shapes.insert(rng.randint(0, len(shapes)), ("ys", (length,)))
    if rng.random() < 0.35:
        ints["n"] = rng.choice([0, 1, 2, 3, 4])
        shapes.insert(rng.randint(0, len(shapes)), ("n", ()))
    scale = rng.choice([1.0, 1.0, 1.5])
    values: dict = {}
    for name, shape in shapes:
        if name in ints:
            values[name] = ints[name]
        elif shape:
            values[name] = np.array([rng.uniform(-scale, scale) for _ in range(shape[0])])
        else:
            values[name] = rng.uniform(-scale, scale)
    as_numpy = rng.random() < 0.2
    args = tuple(values[n] if s or n in ints else (np.float64(values[n]) if as_numpy else float(values[n]))
                 for n, s in shapes)
    unroll = rng.choice([None, None, None, 0])
    floats = [n for n, _ in shapes if n not in ints]
    names = [n for n, _ in shapes]
    differentiated = [names.index(n) for n in floats]
    for attempt in range(1, MAX_ATTEMPTS + 1):
        writer = _IdiomWriter(rng, shapes, ints, UNROLL if unroll is None else unroll)
        source = writer.module()
        if sane(source, args):
            live = live_parameters(source, args, differentiated)
            if live == differentiated or (live and attempt > ALL_LIVE_ATTEMPTS):
                break
    else:  # pragma: no cover
        raise RuntimeError(f"idiom seed {seed}: no sane program in {MAX_ATTEMPTS} attempts")
    seeds, configs, features = _seeds_and_configs(rng, writer, f"flatgen idiom fuzz options {seed}", as_numpy,
                                                  shapes, None)
    features.add(f"unroll={unroll}")
    return Program(seed, source, args, tuple(shapes), None, 1, seeds, writer.data_ifs, tuple(sorted(features)),
                   False, tuple(configs), attempt, tuple(ints), unroll)


class _IdiomWriter:
    """Writes one candidate of generate_idioms: a flat sequence of blocks, each an idiom, then the returns."""

    def __init__(self, rng: random.Random, shapes: list, ints: dict, unroll: int):
        self.rng = rng
        self.arrays = {n: s[0] for n, s in shapes if s}
        self.ints = ints
        self.unroll = unroll
        self.data = [n for n, s in shapes if not s and n not in ints]  # scalars that are certainly data
        self.pool = list(self.data)  # scalar names bound so far
        self.features: set[str] = set()
        self.data_ifs = 0
        self.n_outputs = 1
        self.counter = 0
        self.names = [n for n, _ in shapes]
        self.n_used = False  # does a loop run over range(n)?

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    def module(self) -> str:
        rng = self.rng
        params = ", ".join(self.names)
        body = []
        if rng.random() < 0.2:
            body.append('"""An idiomatic function."""')
        kinds = ["assign", "loop", "loop", "loop", "list", "comprehension", "while", "ints", "quiet"]
        weights = [3, 6, 6, 6, 4, 4, 2, 2 if self.arrays else 0, 2]
        for _ in range(rng.randint(2, 4)):
            kind = rng.choices(kinds, weights)[0]
            body += getattr(self, f"b_{kind}")()
        if "n" in self.ints and not self.n_used:  # an int parameter counts a loop (else it is differentiated)
            body += self.b_loop(run_time=True)
        body += self.returns()
        return HEADER + "\n\n" + f"def f({params}):\n" + "\n".join("    " + line for line in body) + "\n"

    # -- expressions: bounded, smooth ----------------------------------------------------------------

    def leaf(self, extra: list[str] = ()) -> str:
        rng = self.rng
        choices = list(self.pool) + list(extra)
        if not choices or rng.random() < 0.15:
            return rng.choice(["0.5", "1.5", "0.25", "2.0", "0.75"])
        return rng.choice(choices)

    def sx(self, depth: int = 1, extra: list[str] = ()) -> str:
        """A scalar expression of the names bound so far (and `extra`, a loop's own), kept bounded."""
        rng = self.rng
        if depth <= 0:
            return self.leaf(extra)
        a, b = self.sx(depth - 1, extra), self.sx(depth - 1, extra)
        form = rng.choice(["{a} + {b}", "{a} * {b}", "{a} - 0.5 * {b}", "np.tanh({a}) * {b}", "np.sin({a} + {b})",
                           "{a} / (1.0 + {b} * {b})", "0.5 * {a} + np.cos({b})", "max({a}, {b})"])
        return "(" + form.format(a=a, b=b) + ")"

    def condition(self, extra: list[str] = ()) -> str:
        """A comparison certainly on data: it reads a parameter (never rebound)."""
        rng = self.rng
        return (f"{self.sx(1, extra)} + 0.5 * {rng.choice(self.data)} {rng.choice(['>', '<', '>=', '<='])} "
                f"{rng.choice(THRESHOLDS)}")

    def bind(self, name: str) -> None:
        if name not in self.pool:
            self.pool.append(name)

    # -- blocks ------------------------------------------------------------------------------------------

    def b_assign(self) -> list[str]:
        name = self.fresh("a")
        line = f"{name} = {_bare(self.sx(self.rng.randint(1, 2)))}"
        self.bind(name)
        return [line]

    def b_quiet(self) -> list[str]:
        """Statements with no gradient."""
        rng = self.rng
        r = rng.random()
        self.features.add("statement without gradient")
        if r < 0.25:
            return ["pass"]
        if r < 0.5:
            return [f"print({self.leaf()!s}, 'so far')"]
        if r < 0.75 and self.arrays:
            return [f"assert len({rng.choice(list(self.arrays))}) > 0"]
        if r < 0.75:
            return ['"""a string as a comment"""']
        name = self.fresh("a")
        lines = [f"{name} = np.tanh({self.leaf()} + {rng.choice(self.data)})", f"assert {name} < 1.5"]
        self.bind(name)
        self.features.add("assert on data")
        return lines

    def sequence(self, run_time: bool = False) -> tuple[str, str, list[str], str, bool, bool]:
        """(the iterable, the target, the scalars its items give (`v`, `float(k)`), the integer index among
        them or "", rolled?, is the index known now?) for a `for` or a comprehension."""
        rng = self.rng
        kinds = ["list", "range"]
        if self.arrays:
            kinds += ["array", "array", "enumerate", "reversed"] + (["zip"] if len(self.arrays) > 1 else [])
        if "n" in self.ints:
            kinds += ["run-time range", "run-time range"]
        kind = "run-time range" if run_time else rng.choice(kinds)
        v, k = self.fresh("v"), self.fresh("k")
        self.features.add(f"loop over {kind}")
        if kind == "list":
            items = [self.leaf() for _ in range(rng.randint(2, 4))]
            return f"[{', '.join(items)}]", v, [v], "", False, True
        if kind == "range":
            a, step = rng.choice([(0, 1), (1, 1), (1, 2), (5, -2)])
            count = rng.randint(1, 4)
            rolled = count > self.unroll  # unroll=0: a constant range stays a loop too, its index is data
            return f"range({a}, {a + step * count}, {step})", k, [f"float({k})"], k, rolled, not rolled
        if kind == "run-time range":
            self.n_used = True
            text = rng.choice(["range(n)", "range(1, n)", "reversed(range(n))", "range(0, n, 2)"])
            return text, k, [f"float({k})"], k, True, False
        arr = rng.choice(list(self.arrays))
        rolled = self.arrays[arr] > self.unroll
        if kind in ("array", "reversed"):
            return (arr if kind == "array" else f"reversed({arr})"), v, [v], "", rolled, True
        if kind == "enumerate":
            return f"enumerate({arr})", f"{k}, {v}", [v, f"float({k})"], k, rolled, not rolled
        other = rng.choice([a for a in self.arrays if a != arr])
        w = self.fresh("w")
        return f"zip({arr}, {other})", f"{v}, {w}", [v, w], "", rolled, True

    def b_loop(self, run_time: bool = False) -> list[str]:
        """`for ... in <sequence>:` updating an accumulator, with a continue or a break now and then."""
        rng = self.rng
        text, target, extra, index, rolled, index_now = self.sequence(run_time)
        acc = self.fresh("acc")
        lines = [f"{acc} = {_bare(self.sx(1))}"]
        self.pool.append(acc)
        body = [f"{acc} = {_bare(f'0.5 * {acc} + ' + self.sx(1, extra))}"]
        if rng.random() < 0.35:
            cond, on_data = self.control_condition(extra, index, index_now)
            word = rng.choice(["continue", "break"])
            self.features.add(f"{word} {'on data' if on_data else 'decided now'}")
            body[0:0] = [f"if {cond}:", f"    {word}"]  # (last in the body, a continue would skip nothing)
            if on_data:
                self.data_ifs += 1
            if word == "break" and rolled:
                self.data_ifs += 1  # a loop kept as a loop runs its body under `if running:`
        lines.append(f"for {target} in {text}:")
        lines += ["    " + line for line in body]
        if rolled:
            self.features.add("rolled loop over a sequence")
        return lines

    def control_condition(self, extra, index: str, index_now: bool) -> tuple[str, bool]:
        """A condition for continue/break: on data, or on the loop's integer index (decided now when the loop
        is unrolled)."""
        rng = self.rng
        if index and rng.random() < 0.5:
            cond = rng.choice([f"{index} % 2 == 0", f"{index} == 1", f"{index} // 2 == 1", f"{index} >= 2"])
            return cond, not index_now
        return self.condition(extra), True

    def b_list(self) -> list[str]:
        """A list built (appended to in a loop, or a comprehension), then read."""
        rng = self.rng
        hs, t = self.fresh("hs"), self.fresh("t")
        count = rng.randint(2, 4)
        if rng.random() < 0.6:
            lines = [f"{hs} = []", f"for {t} in range({count}):",
                     f"    {hs}.append({_bare(self.sx(1, [f'float({t})']))})"]
            self.features.add("list append")
        else:
            lines = [f"{hs} = [{_bare(self.sx(1, [f'float({t})']))} for {t} in range({count})]"]
            self.features.add("list comprehension")
        name = self.fresh("a")
        use = rng.choice([f"sum({hs})", f"{hs}[-1] * {hs}[0]", f"max({hs}) - min({hs}[0], {hs}[1])",
                          f"len({hs}) * {self.leaf()}", f"max({hs}[0], {hs}[1], 0.5)", f"min({hs})"])
        lines.append(f"{name} = {use}")
        self.features.add("list read")
        self.bind(name)
        return lines

    def b_comprehension(self) -> list[str]:
        rng = self.rng
        name = self.fresh("a")
        text, target, extra, index, rolled, index_now = self.sequence()
        if "n" in text:  # a run-time count: only a sum, a loop kept as a loop
            self.features.add("sum over a run-time count")
            line = f"{name} = sum({_bare(self.sx(1, extra))} for {target} in {text})"
            self.bind(name)
            return [line]
        filt = ""
        if index and rng.random() < 0.3:
            filt = f" if {index} % 2 == 0"
            self.features.add("comprehension filter decided now")
        form = rng.choice(["sum({e} for {t} in {s}{f})", "sum([{e} for {t} in {s}{f}])",
                           "max([{e} for {t} in {s}{f}] + [0.0])"])
        self.features.add("comprehension")
        line = f"{name} = {form.format(e=_bare(self.sx(1, extra)), t=target, s=text, f=filt)}"
        self.bind(name)
        return [line]

    def b_while(self) -> list[str]:
        """A while loop that ends by a break on a counter (data: a float)."""
        rng = self.rng
        c, k = self.fresh("c"), self.fresh("cnt")
        limit = rng.choice(["1.5", "2.5", "3.5"])
        lines = [f"{c} = {_bare(self.sx(1))}", f"{k} = 0.0"]
        if rng.random() < 0.5:
            lines.append("while True:")
            self.features.add("while True with break")
        else:
            lines.append(f"while {c} > -100.0:")
            self.features.add("while with a test and a break")
        self.pool.append(c)
        lines += [f"    {c} = {_bare(f'0.6 * {c} + 0.3 * ' + self.sx(1))}", f"    {k} = {k} + 1.0",
                  f"    if {k} > {limit}:", "        break"]
        self.data_ifs += 1
        return lines

    def b_ints(self) -> list[str]:
        """Integer arithmetic on sizes, folded when the module is generated."""
        rng = self.rng
        arr = rng.choice(list(self.arrays))
        m, name = self.fresh("m"), self.fresh("a")
        self.features.add("integer arithmetic")
        form = rng.choice([f"{m} = len({arr}) // 2", f"{m} = len({arr}) % 3", f"{m} = int(len({arr}) * 0.5)",
                           f"{m} = (len({arr}) - 1) // 2 + len({arr}) % 2 - 1"])
        use = rng.choice([f"{arr}[{m}] * {self.leaf()}", f"float({m}) * {self.leaf()} + {arr}[-1]",
                          f"{arr}[{m}] + {arr}[len({arr}) - 1 - {m}]"])
        self.bind(name)
        return [form, f"{name} = {use}"]

    def returns(self) -> list[str]:
        """The return(s): one at the end, or early ones in an if/elif (on data, or decided now)."""
        rng = self.rng
        r = rng.random()
        if r < 0.35:
            self.features.add("early return on data")
            self.data_ifs += 1
            lines = [f"if {self.condition()}:", f"    return {_bare(self.sx(2))}"]
            if rng.random() < 0.5:
                lines += [f"elif {self.condition()}:", f"    return {_bare(self.sx(1))}"]
                self.data_ifs += 1
            return lines + [f"return {_bare(self.sx(2))}"]
        if r < 0.5 and self.arrays:
            self.features.add("early return decided now")
            arr = rng.choice(list(self.arrays))
            return [f"if len({arr}) > {rng.choice([2, 5, 10])}:", f"    return {_bare(self.sx(2))}",
                    f"return {_bare(self.sx(1))}"]
        return [f"return {_bare(self.sx(2))}"]


if __name__ == "__main__":  # python tests/fuzzgen_language.py [--loops] SEED: print a program and its point
    import sys

    argv = sys.argv[1:]
    make = {"--loops": generate_loops, "--idioms": generate_idioms}.get(argv[0] if argv else "", generate)
    argv = argv[1:] if make is not generate else argv
    program = make(int(argv[0]) if argv else 0)
    print(program.source)
    print(f"# args = {program.args!r}")
    print(f"# shapes = {program.shapes!r}, wrt = {program.wrt!r}, outputs = {program.n_outputs}, "
          f"seeds = {program.seeds!r}")
    print(f"# data ifs = {program.data_ifs}, attempts = {program.attempts}, int parameters = {program.ints}, "
          f"unroll = {program.unroll}")
    for c in program.configs:
        print(f"# {c}")
    print(f"# features: {', '.join(program.features)}")
