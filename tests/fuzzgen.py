"""A seeded random generator of programs in flatgen's scalar subset (used by tests/test_fuzz.py).

    from fuzzgen import generate
    program = generate(1234)      # the same seed gives the same Program on every run and machine
    print(program.source)         # a whole module: imports, constants, helpers, `def f(p0, ...)`
    program.args                  # the sample point (float64) the program was checked to be sane at

The generator writes Python source text with `random.Random(seed)` only (no hashing of strings, no
sets, no dict-order surprises), so a seed reproduces a program byte for byte.  A module has
`import numpy as np`, `import math`, `from flatgen import sigmoid`, sometimes module constants,
sometimes one or two helpers (a helper may call an earlier one; never recursion), and the main
function `f` with 1-5 parameters and 1-12 statements: new names, rebinding (`a = a * p1`, parameters
too), augmented assignment, annotated assignment, nested expressions up to depth 4 over
+ - * / ** (constant and general exponents), unary minus and plus, every primitive call of the
subset (numpy, math and builtin spellings), helper calls, heavy reuse of a few "hot" names, and a
final `return`.  Sometimes locals get names that flatgen's own naming could clash with (`t1`,
`grad_p0`, `x_1`, `h0_u`, `f_value_and_grad`, ...).  Each program also says how flatgen should
generate it (`style`, `math`; sometimes the parameters are annotated `float`/`int` instead), drawn
from a second stream so that these choices never change the program itself.

Values are kept sane by construction: logs and square roots of `x * x + c`, general powers of
`(x * x + c) ** y`, division by `x * x + 1.0`, exp of a tanh most of the time.  What construction
cannot rule out (a product of products growing past the float range) is rejected: every candidate
is run once here, independently of flatgen, with numpy standing in for math and the builtins and
every floating-point error raised, at the sample point and at points 1e-4 away; a candidate that
overflows, divides by zero, leaves the domain or returns |value| > 1e8 is replaced by the next one
drawn from the same random stream (so rejection is deterministic too).  So is a candidate whose
output does not depend on the parameters it is differentiated with respect to (`live_parameters`:
central differences of the program, run here with numpy, are zero along every one of them; the first
ALL_LIVE_ATTEMPTS candidates must depend on each of them): a gradient of zeros checks next to nothing.

Integer literals 0, 1, -1 and small integers are drawn like any literal, and now and then written
into the identities the compact style simplifies and their mirror images (`x + 0`, `0 + x`,
`x - 0`, `0 - x`, `x * 1`, `1 * x`, `x * 0`, `x / 1`, `x ** 1`, `1 ** x`, `x * -1`, ...).
"""

from __future__ import annotations

import math
import random
import types
import warnings
from dataclasses import dataclass

import numpy as np

MAX_DEPTH = 4
MAX_ATTEMPTS = 50
ALL_LIVE_ATTEMPTS = 20  # the first candidates must depend on every differentiated parameter, later ones on one
VALUE_LIMIT = 1e8

HEADER = "import numpy as np\nimport math\nfrom flatgen import sigmoid\n"

PLAIN_NAMES = ["a", "b", "c", "s", "u", "v", "w", "x", "y", "z", "q", "r", "k", "m", "acc", "tmp", "e"]
# Names flatgen's namer could collide with: temporaries, gradients, SSA suffixes, inlined helper
# locals (h0_<local>), the helper-result hint, the main function and its value_and_grad.
TRICKY_NAMES = ["t1", "t2", "t3", "d1", "grad_p0", "grad_a", "grad_f", "a_1", "x_1", "p0_1", "h0_u",
                "h0_a", "h0_out", "h1_out", "f", "f_value_and_grad", "out", "g", "v_1", "np_"]
HELPER_PARAMS = [["u"], ["u", "v"], ["a", "b"], ["x", "y", "z"], ["p0", "w"], ["t1", "u"]]

ROUND_VALUES = [0.0, 1.0, -1.0, 0.5, 2.0, -0.5, 0.25]
LITERALS = ["0.5", "2", "1.5", "3.0", "0.25", "2.0", "1", "0.1", "0.75", "1.25", "4", "0.3", "0", "3", "1", "0"]
NEG_LITERALS = ["(-0.5)", "(-2.0)", "(-1)", "(-0.75)", "(-2)", "(-1)"]
# x op literal and literal op x with the integers the compact style's identities act on (and 0 - x,
# x * 0, 1 ** x, which look like identities and are not)
IDENTITIES = ["({x} + 0)", "(0 + {x})", "({x} - 0)", "(0 - {x})", "({x} * 1)", "(1 * {x})", "({x} * 0)", "(0 * {x})",
              "({x} / 1)", "({x} ** 1)", "(1 ** {x})", "({x} * (-1))", "((-1) * {x})", "({x} + (-1))", "({x} - 1)",
              "(1 - {x})", "({x} ** 0)", "({x} + 0.0)", "(1.0 * {x})"]
BUILTIN_CONSTANTS = ["np.pi", "math.pi", "np.e", "math.e", "math.tau"]

ONE_ARG = [  # (spelling, how its argument is kept in the domain)
    ("np.exp", "exp"), ("math.exp", "exp"),
    ("np.log", "log"), ("math.log", "log"),
    ("np.sqrt", "sqrt"), ("math.sqrt", "sqrt"),
    ("np.tanh", ""), ("math.tanh", ""),
    ("np.sin", ""), ("math.sin", ""),
    ("np.cos", ""), ("math.cos", ""),
    ("np.abs", ""), ("abs", ""), ("math.fabs", ""), ("np.absolute", ""),
    ("sigmoid", ""), ("np.negative", ""),
]
# numpy as people write it (issue 13): drawn less often than the lecture's functions above, each with its
# domain: "unit" keeps the argument in (-0.9, 0.9) (0.9 * np.tanh(x)), "above1" above 1 (x * x + 1.5),
# "recip" away from 0 (x * x + 0.5); floor, ceil, round and sign are piecewise constant (a jump between
# the two finite-difference points makes them disagree: "steep", skipped).
ONE_ARG_NUMPY = [
    ("np.tan", "unit"), ("math.tan", "unit"), ("np.arcsin", "unit"), ("math.asin", "unit"),
    ("np.arccos", "unit"), ("math.acos", "unit"), ("np.arctan", ""), ("math.atan", ""),
    ("np.sinh", "exp"), ("math.sinh", "exp"), ("np.cosh", "exp"), ("math.cosh", "exp"),
    ("np.arcsinh", ""), ("math.asinh", ""), ("np.arccosh", "above1"), ("math.acosh", "above1"),
    ("np.arctanh", "unit"), ("math.atanh", "unit"), ("np.log1p", "log"), ("math.log1p", "log"),
    ("np.expm1", "exp"), ("math.expm1", "exp"), ("np.log2", "log"), ("math.log2", "log"),
    ("np.log10", "log"), ("math.log10", "log"), ("np.exp2", "exp"), ("math.exp2", "exp"),
    ("np.square", ""), ("np.reciprocal", "recip"), ("np.float64", ""),
    ("np.floor", ""), ("math.floor", ""), ("np.ceil", ""), ("math.ceil", ""), ("np.round", ""), ("np.sign", ""),
]
ONE_ARG += ONE_ARG_NUMPY
NUMPY_SHARE = 0.35  # how often a one-argument call is one of ONE_ARG_NUMPY
TWO_ARG = ["np.maximum", "np.minimum", "max", "min"]
# two-argument functions: arctan2 and hypot with a second argument > 0 (smooth there), logaddexp anywhere,
# np.clip with bounds no literal or round value of the fuzzer can produce exactly (a tie is a kink)
TWO_ARG_NUMPY = ["np.arctan2", "math.atan2", "np.hypot", "math.hypot", "np.logaddexp", "np.clip"]
CLIP_BOUNDS = [("-0.83", "0.91"), ("-1.37", "1.19"), ("0.07", "1.63"), ("-2.11", "-0.13")]
POWER_CALLS = ["np.power", "math.pow"]


@dataclass(frozen=True)
class Program:
    seed: int
    source: str
    args: tuple  # the sample point: Python floats or np.float64 (both are float64)
    wrt: tuple[str, ...] | None  # the parameters to differentiate, in this order (None: all)
    attempts: int  # candidates drawn before this one was accepted (1 = the first)
    style: str = "lecture"  # flatgen's Options.style: "lecture" or "compact"
    math: bool | None = None  # flatgen's Options.math: plain-float code; None: from the annotations

    name = "f"


def generate(seed: int) -> Program:
    """The program for `seed`: deterministic, valid in the subset, finite near its sample point."""
    rng = random.Random(seed)
    nparams = rng.randint(1, 5)
    scale = rng.choice([1.0, 1.0, 2.0, 3.0])
    as_numpy = rng.random() < 0.5
    args = [rng.uniform(-scale, scale) for _ in range(nparams)]
    if rng.random() < 0.15:  # round values: exact ties in max/min, abs at 0, x - 1.0 == 0, ...
        for i in range(nparams):
            if rng.random() < 0.5:
                args[i] = rng.choice(ROUND_VALUES)
    if nparams > 1 and rng.random() < 0.1:  # two equal arguments: max(p0, p1) at a tie
        i, j = rng.sample(range(nparams), 2)
        args[j] = args[i]
    args = tuple(np.float64(a) for a in args) if as_numpy else tuple(args)
    wrt = None
    if rng.random() < 0.2:  # a subset of the parameters, in a shuffled order
        names = [f"p{i}" for i in range(nparams)]
        wrt = tuple(rng.sample(names, rng.randint(1, nparams)))
    differentiated = list(wrt) if wrt is not None else [f"p{i}" for i in range(nparams)]
    wrt_index = [int(p[1:]) for p in differentiated]
    for attempt in range(1, MAX_ATTEMPTS + 1):
        source = _Writer(rng, nparams).module()
        if sane(source, args):
            live = live_parameters(source, args, wrt_index)
            if live == wrt_index or (live and attempt > ALL_LIVE_ATTEMPTS):
                break
    else:  # pragma: no cover
        raise RuntimeError(f"seed {seed}: no sane program in {MAX_ATTEMPTS} attempts")
    # How flatgen is asked to generate: a stream of its own, so the program above stays the same.
    knobs = random.Random(f"flatgen fuzz options {seed}")
    style = knobs.choice(["lecture", "compact"])
    math_mode = knobs.choice([None, None, True, False])
    if math_mode is None and knobs.random() < 0.4:  # annotations decide: all float/int -> plain floats
        kinds = [knobs.choice(["float", "float", "int", None]) for _ in range(nparams)]
        signature = ", ".join(f"p{i}: {k}" if k else f"p{i}" for i, k in enumerate(kinds))
        source = source.replace(f"def f({', '.join(f'p{i}' for i in range(nparams))}):", f"def f({signature}):", 1)
    return Program(seed, source, args, wrt, attempt, style, math_mode)


# -- the sanity check (flatgen plays no part in it) ---------------------------------------------------

_NUMPY_MATH = types.SimpleNamespace(
    exp=np.exp, log=np.log, sqrt=np.sqrt, tanh=np.tanh, sin=np.sin, cos=np.cos, fabs=np.abs,
    pow=np.power, pi=math.pi, e=math.e, tau=math.tau,
    tan=np.tan, asin=np.arcsin, acos=np.arccos, atan=np.arctan, atan2=np.arctan2, sinh=np.sinh, cosh=np.cosh,
    asinh=np.arcsinh, acosh=np.arccosh, atanh=np.arctanh, log1p=np.log1p, expm1=np.expm1, log2=np.log2,
    log10=np.log10, exp2=np.exp2, hypot=np.hypot, floor=np.floor, ceil=np.ceil,
)


def user_function(source: str, name: str = "f"):
    """Exec a program's source and return its function (the user's own, as they would run it)."""
    ns: dict = {"__name__": "fuzz_program"}
    exec(compile(source, "<fuzz program>", "exec"), ns)
    return ns[name]


def numpy_function(source: str, name: str = "f"):
    """The program's function with math and the builtins abs/max/min replaced by numpy: the same
    mathematics, computed in the type of its arguments (np.float64 raises under np.errstate;
    np.longdouble gives the finite differences extra digits)."""
    ns: dict = {"__name__": "fuzz_numpy"}
    exec(compile(source, "<fuzz program>", "exec"), ns)
    ns.update(math=_NUMPY_MATH, abs=np.abs, max=np.maximum, min=np.minimum)
    return ns[name]


class _ClipWatch:
    """numpy, whose np.clip raises FloatingPointError for an argument within 1e-3 of a bound: a kink, where
    central differences cannot check the gradient (test_fuzz.py's kink detection knows abs, max and min)."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def clip(x, lo, hi):
        if min(abs(x - lo), abs(x - hi)) < 1e-3 * max(1.0, abs(float(x))):
            raise FloatingPointError("near a kink of np.clip")
        return np.clip(x, lo, hi)


def sane(source: str, args: tuple) -> bool:
    """Finite, |value| <= VALUE_LIMIT, no floating-point error anywhere inside, at `args` and 1e-4 away
    (nor np.clip within 1e-3 of a bound)."""
    f = numpy_function(source)
    f.__globals__["np"] = _ClipWatch()
    points = [args]
    for i, x in enumerate(args):
        for step in (1e-4, -1e-4):
            p = list(args)
            p[i] = x + step * max(1.0, abs(float(x)))
            points.append(tuple(p))
    with np.errstate(all="raise", under="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        for p in points:
            try:
                v = f(*(np.float64(a) for a in p))
            except (ArithmeticError, ValueError, RuntimeWarning):
                return False
            if not np.isfinite(v) or abs(v) > VALUE_LIMIT:
                return False
    return True


def live_parameters(source: str, args: tuple, wrt: list[int], name: str = "f") -> list[int]:
    """The parameters in `wrt` (by index) the output moves along: central differences of the program
    (numpy standing in for math, step 1e-4 * max(1, |x|)) that are finite and not zero."""
    f = numpy_function(source, name)
    live = []
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in wrt:
            h = 1e-4 * max(1.0, abs(float(args[i])))
            up, down = list(args), list(args)
            up[i] = np.float64(float(args[i]) + h)
            down[i] = np.float64(float(args[i]) - h)
            try:
                d = float(f(*(np.float64(a) for a in up))) - float(f(*(np.float64(a) for a in down)))
            except (ArithmeticError, ValueError):
                continue
            if np.isfinite(d) and d != 0.0:
                live.append(i)
    return live


# -- the writer -----------------------------------------------------------------------------------------


class _Writer:
    def __init__(self, rng: random.Random, nparams: int):
        self.rng = rng
        self.nparams = nparams
        self.tricky = rng.random() < 0.3
        self.constants: list[str] = []
        self.helpers: list[tuple[str, int]] = []  # (name, number of parameters)

    # -- module ----------------------------------------------------------------------------------------

    def module(self) -> str:
        rng = self.rng
        parts = [HEADER]
        consts = []
        for i in range(rng.choice([0, 0, 1, 2])):
            name = f"C{i}"
            value = rng.choice(["0.75", "1.5", "-0.5", "2 * np.pi", "math.e / 2", "3", "0.1 + 0.2"])
            if i and rng.random() < 0.5:
                value = f"C{i - 1} * {rng.choice(['0.5', '2', '1.5'])}"
            consts.append(f"{name} = {value}\n")
            self.constants.append(name)
        if consts:
            parts.append("".join(consts))
        for i in range(rng.choice([0, 0, 1, 1, 2])):
            parts.append(self.helper(f"h{i}"))
        parts.append(self.main())
        return "\n\n".join(parts)

    def helper(self, name: str) -> str:
        params = list(self.rng.choice(HELPER_PARAMS))
        text = self.function(name, params, self.rng.randint(0, 4))
        self.helpers.append((name, len(params)))  # after: no recursion
        return text

    def main(self) -> str:
        return self.function("f", [f"p{i}" for i in range(self.nparams)], self.rng.randint(1, 12))

    def function(self, name: str, params: list[str], nstmts: int) -> str:
        rng = self.rng
        self.scope = list(params)
        self.hot = [rng.choice(params)]  # reused far more often than the rest: fan-out
        lines = [f"def {name}({', '.join(params)}):"]
        if rng.random() < 0.1:
            lines.append('    """A fuzzed function."""')
        pool = PLAIN_NAMES + (TRICKY_NAMES if self.tricky else [])
        forbidden = {name} | {h for h, _ in self.helpers}
        for _ in range(nstmts):
            lines.append("    " + self.statement(pool, forbidden, is_helper=name != "f"))
        if rng.random() < 0.05:
            lines.append("    pass")
        # The result leans on the names bound last, so most statements reach the output.
        lines.append(f"    return {_bare(self.expr(rng.randint(0, MAX_DEPTH), recent=True))}")
        return "\n".join(lines) + "\n"

    # -- statements ------------------------------------------------------------------------------------

    def statement(self, pool: list[str], forbidden: set[str], is_helper: bool) -> str:
        rng = self.rng
        r = rng.random()
        locals_ = [n for n in self.scope]
        if r < 0.45 or not locals_:  # a new name
            free = [n for n in pool if n not in self.scope and n not in forbidden]
            target = rng.choice(free) if free else rng.choice(locals_)
            value = self.expr(rng.randint(1, MAX_DEPTH))
            stmt = f"{target}: float = {_bare(value)}" if rng.random() < 0.05 else f"{target} = {_bare(value)}"
        elif r < 0.7:  # rebinding, often through its old value
            target = rng.choice(self.hot) if rng.random() < 0.3 else rng.choice(locals_)
            value = self.expr(rng.randint(0, MAX_DEPTH - 1))
            op = rng.choice(["*", "+", "-", "*"])
            stmt = f"{target} = {target} {op} {self._atomic(value)}" if rng.random() < 0.7 else f"{target} = {_bare(value)}"
        else:  # augmented assignment
            target = rng.choice(self.hot) if rng.random() < 0.3 else rng.choice(locals_)
            op = rng.choice(["+=", "-=", "*=", "/=", "+=", "*=", "**="])
            if op == "/=":
                stmt = f"{target} /= {self._positive(self.expr(rng.randint(0, 2)), '1.0')}"
            elif op == "**=":
                stmt = f"{target} **= {rng.choice(['2', '2', '3'])}"
            else:
                stmt = f"{target} {op} {self.expr(rng.randint(0, MAX_DEPTH - 1))}"
        if target not in self.scope:
            self.scope.append(target)
        if rng.random() < 0.2 and target not in self.hot:
            self.hot.append(target)
        return stmt

    # -- expressions -----------------------------------------------------------------------------------

    def leaf(self, recent: bool = False) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.72:
            if recent and rng.random() < 0.6:
                return self.scope[-1]
            if rng.random() < 0.45:
                return rng.choice(self.hot)
            return rng.choice(self.scope)
        if r < 0.88:
            return rng.choice(LITERALS)
        if r < 0.93:
            return rng.choice(NEG_LITERALS)
        if self.constants and rng.random() < 0.6:
            return rng.choice(self.constants)
        return rng.choice(BUILTIN_CONSTANTS)

    def expr(self, depth: int, recent: bool = False) -> str:
        rng = self.rng
        if depth <= 0 or rng.random() < 0.15:
            return self.leaf(recent)
        sub = lambda: self.expr(depth - 1, recent)  # noqa: E731
        kind = rng.choices(
            ["arith", "div", "cpow", "gpow", "neg", "call1", "call2", "helper", "identity"],
            [30, 8, 8, 4, 5, 25, 8, 6 if self.helpers else 0, 6],
        )[0]
        if kind == "identity":
            return rng.choice(IDENTITIES).format(x=self._atomic(sub()))
        if kind == "arith":
            return f"({sub()} {rng.choice(['+', '-', '*'])} {sub()})"
        if kind == "div":
            form = rng.random()
            if form < 0.5:
                return f"({sub()} / {self._positive(sub(), '1.0')})"
            if form < 0.8:
                return f"({sub()} / {rng.choice(['2.0', '3', '0.5', '1.5'])})"
            return f"({rng.choice(['1.0', '2'])} / {self._positive(sub(), '0.5')})"
        if kind == "cpow":
            form = rng.choice(["2", "3", "2", "2.0", "1", "0", "-1", "0.5", "1.5", "-2.0", "-0.5"])
            if form in ("2", "3", "2.0", "1", "0"):
                return f"({self._atomic(sub())} ** {form})"
            base = self._positive(sub(), rng.choice(["0.5", "0.1", "1.0"]))
            return f"({base} ** {self._atomic(form) if form.startswith('-') else form})"
        if kind == "gpow":
            base = self._positive(sub(), rng.choice(["0.5", "1.0"]))
            exponent = sub() if rng.random() < 0.5 else f"np.tanh({sub()})"
            form = rng.random()
            if form < 0.6:
                return f"({base} ** {self._atomic(exponent)})"
            if form < 0.85:
                return f"{rng.choice(POWER_CALLS)}({base}, {exponent})"
            return f"({rng.choice(['2.0', '1.5', '0.5', 'math.e'])} ** {self._atomic(exponent)})"
        if kind == "neg":
            return f"(-{self._atomic(sub())})" if rng.random() < 0.85 else f"(+{self._atomic(sub())})"
        if kind == "call1":
            lecture = len(ONE_ARG) - len(ONE_ARG_NUMPY)
            fn, domain = rng.choice(ONE_ARG_NUMPY if rng.random() < NUMPY_SHARE else ONE_ARG[:lecture])
            arg = sub()
            if domain == "exp":
                arg = f"np.tanh({arg})" if rng.random() < 0.7 else f"-({self._square(arg)})"
            elif domain == "log":
                arg = self._positive(arg, rng.choice(["0.5", "1.0", "0.25"]))
            elif domain == "sqrt":
                arg = self._positive(arg, rng.choice(["0.1", "1.0"]))
            elif domain == "unit":
                arg = f"0.9 * np.tanh({_bare(arg)})"
            elif domain == "above1":
                arg = self._positive(arg, "1.5")
            elif domain == "recip":
                arg = self._positive(arg, "0.5")
            return f"{fn}({_bare(arg)})"
        if kind == "call2" and rng.random() < NUMPY_SHARE:
            fn = rng.choice(TWO_ARG_NUMPY)
            if fn == "np.clip":
                lo, hi = rng.choice(CLIP_BOUNDS)
                return f"np.clip({_bare(sub())}, {lo}, {hi})"
            second = self._positive(sub(), rng.choice(["0.5", "1.0"])) if fn != "np.logaddexp" else sub()
            return f"{fn}({_bare(sub())}, {_bare(second)})"
        if kind == "call2":
            return f"{rng.choice(TWO_ARG)}({_bare(sub())}, {_bare(sub())})"
        name, n = rng.choice(self.helpers)
        return f"{name}({', '.join(_bare(sub()) for _ in range(n))})"

    def _square(self, x: str) -> str:
        """x squared, written as `x * x` for a name (two uses: more fan-out) or `(...) ** 2`."""
        if x.isidentifier() and self.rng.random() < 0.7:
            return f"{x} * {x}"
        return f"{self._atomic(x)} ** 2"

    def _positive(self, x: str, c: str) -> str:
        """An expression > 0 built from x: `(x * x + c)`."""
        return f"({self._square(x)} + {c})"

    @staticmethod
    def _atomic(x: str) -> str:
        """x, parenthesized unless it already is an atom (a name, a call, a parenthesized group)."""
        if x.isidentifier() or _is_number(x) or _enclosed(x):
            return x
        return f"({x})"


def _is_number(x: str) -> bool:
    try:
        float(x)
    except ValueError:
        return False
    return not x.startswith("-")


def _enclosed(x: str) -> bool:
    """True when x is one parenthesized group or one call: `(...)`, `np.exp(...)`."""
    if not x.endswith(")"):
        return False
    start = x.index("(")
    head = x[:start]
    if head and not all(part.isidentifier() for part in head.split(".")):
        return False
    depth = 0
    for i, ch in enumerate(x[start:], start):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            return i == len(x) - 1
    return False


def _bare(x: str) -> str:
    """A call argument without its redundant outer parentheses."""
    if x.startswith("(") and _enclosed(x):
        return x[1:-1]
    return x


if __name__ == "__main__":  # python tests/fuzzgen.py SEED: print a program and its point
    import sys

    program = generate(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(program.source)
    print(f"# args = {program.args!r}")
    print(f"# wrt = {program.wrt!r}, style = {program.style!r}, math = {program.math!r}  (attempts: {program.attempts})")
