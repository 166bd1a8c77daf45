"""A seeded random generator of array programs in flatgen's subset (used by tests/test_fuzz_arrays.py).

    from fuzzgen_arrays import generate
    program = generate(1234)      # the same seed gives the same Program on every run and machine
    print(program.source)         # a whole module: imports, maybe a helper, `def f(...)`
    program.args                  # the float64 sample point (arrays and scalars) it was checked to be sane at
    program.shapes                # ((name, shape), ...): every parameter's shape, () for a scalar

Only `random.Random(seed)` decides (no hashing of strings, no iteration over sets), so a seed
reproduces a program byte for byte.  The writer tracks the shape of every name and of every
subexpression, so each program is shape-correct by construction: an expression is always written
*for* a target shape, from productions that can give it:

- elementwise: + - * / ** (constant and general exponents), unary minus, np.exp/np.log/np.sqrt with
  safe arguments (np.exp(np.tanh(x)), np.log(x * x + 0.5), np.sqrt(x * x + 0.1)), np.tanh, np.sin,
  np.cos, np.abs, sigmoid, np.maximum(x, 0.0) (ReLU), np.maximum/np.minimum of two values, divisions
  by x * x + 1.0, with numpy broadcasting between the operands: a scalar, the trailing dimensions
  (N, D) with (D,), a keepdims-like shape (N, 1) with (N, D), and (N, 1) with (1, D);
- `@` / np.dot / np.matmul on 1-D and 2-D operands, np.outer;
- np.sum / np.mean / np.max / np.min as functions and methods, of scalars too (Python floats), with axis= (int, negative, tuple,
  positional) and keepdims=;
- .T, np.transpose (with axes), .transpose(...), .reshape (tuple, varargs, -1, x.shape[0]),
  np.reshape, np.expand_dims, x[None, :], x[:, None];
- constant indexing and slicing: x[1], x[-1], X[:, 2], X[1, -1], x[1:], x[:-1], x[::2], x[::-1], x[..., 0];
- np.where(a > b, u, v) (every comparison), masks `x * (a > b)`;
- x.shape[i], len(x), x.size, x.ndim as constants; np.ones(shape), np.zeros(shape),
  np.ones_like, np.zeros_like;
- making arrays and index arrays (issue 13): np.array / np.asarray of values, np.stack, np.concatenate,
  np.hstack, np.vstack, np.pad (widths per axis, constant_values=), np.atleast_1d / 2d, .ravel(),
  np.ravel, .flatten(), .squeeze(), np.squeeze(axis=), .copy(), np.copy, np.array(x), .astype(float),
  constants (np.full, np.eye with k=, np.arange, np.linspace), reads through index arrays: constant lists
  with a repeated index (x[[0, 2, 0]], x[np.array([...])]), X[np.arange(n), labels] (or range(n)), and a
  mask summed, np.sum(x[x > c]);
- one optional helper (elementwise, or a reduction to a scalar), inlined by flatgen;
- fan-out (a few "hot" names are reused far more than the rest), rebinding (to the same shape or a
  new one), augmented assignment (+= -= *= /= **=), `for t in range(T)` loops over xs[t];
- a final `return` of a scalar: np.sum / np.mean of something, or a scalar expression.

Values are kept sane by construction (safe logs and roots, bounded exponents, small shapes) and
every candidate is run once here, independently of flatgen, with every floating-point error raised:
a candidate that overflows, divides by zero, leaves a domain or returns |value| > VALUE_LIMIT is
replaced by the next one drawn from the same random stream (so rejection is deterministic too).  So
is a candidate whose output does not move along any parameter (`live_parameters`: central
differences along a fixed random direction per parameter); the first ALL_LIVE_ATTEMPTS candidates
must move along every parameter, and a `wrt` subset always holds one that it moves along.

Integer literals 0, 1, -1 and small integers are drawn like any literal, and now and then written
into the identities the compact style simplifies and their mirror images (`x + 0`, `0 - x`, `1 * x`,
`x * 0`, `x / 1`, `x ** 1`, ...).

Augmented assignment on a numpy array works in place: `a = x[0]; a += y` changes x as well, which
flatgen's SSA reading (`a_1 = a + y`) does not (see test_fuzz_arrays.py, the aliasing bug).  The
writer tracks which names may share memory and writes `+=` only into an array no other name can
see; the run here double-checks it (the program with every `a op= b` rewritten `a = a op b` must
compute the same bits), so the programs mean the same thing to Python and to flatgen.

How flatgen is asked to generate each program (the decorator with example= / shapes= / the first
call's shapes, or the command-line path with Options(shapes=...) or string annotations; style, free,
wrt) is drawn from a second stream, so those choices never change the program itself.
"""

from __future__ import annotations

import ast
import itertools
import math
import random
import warnings
from dataclasses import dataclass

import numpy as np

VALUE_LIMIT = 1e6
MAX_ATTEMPTS = 60
ALL_LIVE_ATTEMPTS = 20  # the first candidates must depend on every parameter, later ones on one
HEADER = "import numpy as np\n\nfrom flatgen import sigmoid\n"

PARAM_NAMES = ["x", "y", "W", "b", "X", "v", "u", "A", "B", "c", "w", "z"]
LOCAL_NAMES = ["a", "s", "h", "q", "r", "m", "e", "o", "acc", "tmp", "loss", "k", "d", "g2", "y_hat", "mid"]
# Names flatgen's namer could clash with: temporaries, gradients, SSA suffixes, helper locals, f itself.
TRICKY_NAMES = ["t1", "t2", "grad_x", "grad_W", "grad_a", "x_1", "a_1", "out", "g", "f", "f_value_and_grad",
                "h0_u", "np_", "unbroadcast", "sigmoid_1"]
HELPER_PARAMS = [["u"], ["u", "v"], ["a", "b"], ["x", "w"]]
LITERALS = ["0.5", "2", "1.5", "3.0", "0.25", "2.0", "1", "0.1", "0.75", "1.25", "0.3", "0", "3", "1"]
NEG_LITERALS = ["(-0.5)", "(-2.0)", "(-1)", "(-0.75)", "(-2)"]
# elementwise forms with the integers the compact style's identities act on (and look-alikes)
IDENTITIES = ["({x} + 0)", "(0 + {x})", "({x} - 0)", "(0 - {x})", "({x} * 1)", "(1 * {x})", "({x} * 0 + {x})",
              "(0 * {x} - {x})", "({x} / 1)", "({x} ** 1)", "(1 ** {x} * {x})", "({x} * (-1))", "((-1) * {x})",
              "({x} - 1)", "(1 - {x})", "({x} + 1.0 * {x} ** 0)", "(1.0 * {x})"]
ROUND_VALUES = [0.0, 1.0, -1.0, 0.5, -0.5]
# numpy's other elementwise functions (issue 13) and the domain each argument is kept in: "unit" (-0.9, 0.9),
# "exp" a tanh, "pos" x * x + c, "above1" x * x + 1.5; floor, ceil, round jump (differences across a jump
# disagree with a tenth of the step: "steep", skipped); np.clip with bounds no literal or round value can
# produce exactly (a tie is a kink), and sane() redraws a program with np.clip near a bound.
NUMPY_UNARY = [
    ("np.tan", "unit"), ("np.arcsin", "unit"), ("np.arccos", "unit"), ("np.arctan", ""), ("np.sinh", "exp"),
    ("np.cosh", "exp"), ("np.arcsinh", ""), ("np.arccosh", "above1"), ("np.arctanh", "unit"), ("np.log1p", "pos"),
    ("np.expm1", "exp"), ("np.log2", "pos"), ("np.log10", "pos"), ("np.exp2", "exp"), ("np.square", ""),
    ("np.reciprocal", "pos"), ("np.floor", ""), ("np.ceil", ""), ("np.round", ""), ("np.clip", ""),
    ("np.arctan2", ""), ("np.hypot", ""), ("np.logaddexp", ""),
]
CLIP_BOUNDS = [("-0.83", "0.91"), ("-1.37", "1.19"), ("0.07", "1.63"), ("-2.11", "-0.13")]

# How often a comparison of constants only (`2 > 0.5`, `t > 0` in a loop, `len(x) > 2`, a name bound
# to a number) is kept rather than replaced by one of values: flatgen folds those to a bool.
CONSTANT_CONDITIONS = 0.3
SHAPE_ATTRIBUTES = {"shape", "size", "ndim"}


def constant(text: str, consts=()) -> bool:
    """Is this expression a trace-time constant: numbers, the loop index t, x.shape, len(x)?"""
    tree = ast.parse(text, mode="eval")
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in SHAPE_ATTRIBUTES:
            skip |= {id(n) for n in ast.walk(node)}
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len":
            skip |= {id(n) for n in ast.walk(node)}
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("np.ones", "np.zeros"):
            return False
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in skip}
    return not (names - {"t", "np"} - set(consts))


@dataclass(frozen=True)
class Program:
    seed: int
    source: str
    params: tuple[str, ...]
    shapes: tuple[tuple[str, tuple[int, ...]], ...]  # every parameter's shape, () for scalars
    args: tuple  # float64 arrays; scalars as Python floats or np.float64
    wrt: tuple[str, ...] | None  # parameters to differentiate, in this order (None: all)
    style: str  # "lecture" or "compact"
    free: bool
    # how the decorator learns the shapes: "example" (example=args), "shapes" (shapes={...}) or
    # "call" (the first value_and_grad call specialises)
    decorator: str
    # the command-line path too (parse.load_target + pipeline.generate): None (not this program),
    # "shapes" (Options(shapes=...)) or "annotations" (string annotations in the source, no shapes)
    cli: str | None
    cli_style: str
    cli_free: bool
    attempts: int
    annotated_source: str = ""  # the source with string shape annotations (for cli == "annotations")

    name = "f"

    def describe(self) -> str:
        shapes = ", ".join(f"{n}: {s}" for n, s in self.shapes)
        return (f"shapes ({shapes}); wrt={self.wrt!r}, style={self.style!r}, free={self.free}, "
                f"decorator={self.decorator!r}, cli={self.cli!r} (style={self.cli_style!r}, free={self.cli_free})")


# -- expressions with shapes ---------------------------------------------------------------------------


@dataclass
class E:
    """A written expression: its text, its shape, and the memory it may share (a token, None: fresh)."""

    text: str
    shape: tuple
    base: object = None


@dataclass
class Info:
    shape: tuple
    token: object  # names with the same token may be views of the same array
    array: bool = True  # False for Python-float scalars and trace-time constants
    const: bool = False  # a trace-time constant (a number): flatgen folds what it touches


def size(shape) -> int:
    return math.prod(shape)


def broadcasts_to(T, S) -> bool:
    try:
        return np.broadcast_shapes(T, S) == S
    except ValueError:
        return False


def used_by(text: str, lines: list[str], params: list[str]) -> set[str]:
    """The parameters an expression depends on, through the helper's local assignments `k = ...`."""
    deps = {p: {p} for p in params}
    for line in lines:
        target, _, value = line.strip().partition(" = ")
        names = {n.id for n in ast.walk(ast.parse(value, mode="eval")) if isinstance(n, ast.Name)}
        deps[target] = set().union(*(deps.get(n, set()) for n in names))
    names = {n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name)}
    return set().union(*(deps.get(n, set()) for n in names))


def reducible(T, S) -> bool:
    """Does some np.sum(x, axis=..., keepdims=...) of a T-shaped x have shape S?"""
    if len(T) == len(S):
        return T != S and all(s == t or s == 1 for s, t in zip(S, T))
    if len(S) >= len(T):
        return False
    it = iter(T)
    return all(any(s == t for t in it) for s in S)  # S is a subsequence of T


def shape_text(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def bare(text: str) -> str:
    """A statement's right-hand side without one redundant pair of outer parentheses."""
    if text.startswith("(") and text.endswith(")"):
        depth = 0
        for i, ch in enumerate(text):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0 and i < len(text) - 1:
                return text
        inner = text[1:-1]
        if not inner.endswith(",") and "," not in inner.split("(")[0]:
            return inner
    return text


class Writer:
    def __init__(self, rng: random.Random, dims: list[int]):
        self.rng = rng
        self.dims = dims
        self.scope: dict[str, Info] = {}
        self.hot: list[str] = []
        self.recent: list[str] = []
        self.helpers: list[tuple[str, str, int]] = []  # (name, "ew" or "red", number of parameters)
        self.loop: list[E] = []  # inside a loop body: leaves like xs[t]
        self.loop_index = False  # inside a loop body: t is a leaf too (a trace-time int)
        self.loop_written: set = set()  # inside a loop body: tokens of arrays it updates in place
        self.ew_only = False  # writing a helper's body: elementwise operations only
        self.budget = 0
        self.tokens = itertools.count()
        self.tricky = rng.random() < 0.3
        self.taken: set = set()  # names a local must not take (parameters, np, the helper, ...)

    # -- choosing -----------------------------------------------------------------------------------

    def pick(self, weighted):
        items = [(k, w) for k, w in weighted if w > 0]
        return self.rng.choices([k for k, _ in items], [w for _, w in items])[0]

    def universe(self) -> list[tuple]:
        n, d, k = self.dims
        shapes = [(), (n,), (d,), (k,), (n, d), (d, k), (n, k), (n, 1), (1, d), (d, n), (n, d, k), (2, n, d)]
        return shapes

    def sub(self, S) -> tuple:
        """A shape that broadcasts to S (S itself, a scalar, trailing dims, ones for some dims)."""
        rng = self.rng
        if self.ew_only:
            return S if rng.random() < 0.7 else ()
        options = [(S, 8), ((), 3)]
        if len(S) >= 2:
            options.append((S[1:], 3))
        if len(S) == 3:
            options.append((S[2:], 1))
        if any(n != 1 for n in S):
            ones = tuple(1 if (n != 1 and rng.random() < 0.5) else n for n in S)
            options.append((ones, 3))
        return self.pick(options)

    # -- leaves -----------------------------------------------------------------------------------

    def names_of(self, S, arrays_only=False) -> list[str]:
        return [n for n, i in self.scope.items() if i.shape == S and (i.array or not arrays_only)]

    def name_expr(self, name: str) -> E:
        info = self.scope[name]
        return E(name, info.shape, info.token if info.array else None)

    def leaf(self, S) -> E:
        rng = self.rng
        exact = self.names_of(S)
        loop = [e for e in self.loop if e.shape == S]
        if loop and rng.random() < 0.6:
            return rng.choice(loop)
        if S == () and self.loop_index and rng.random() < 0.06:
            return E("t", ())
        if exact and rng.random() < 0.8:
            recent = [n for n in self.recent[-3:] if n in exact]
            hot = [n for n in self.hot if n in exact]
            r = rng.random()
            if recent and r < 0.35:
                return self.name_expr(rng.choice(recent))
            if hot and r < 0.7:
                return self.name_expr(rng.choice(hot))
            return self.name_expr(rng.choice(exact))
        if S == () and rng.random() < (0.5 if not exact else 0.8):
            return E(rng.choice(LITERALS + NEG_LITERALS[:1] if rng.random() < 0.9 else NEG_LITERALS), ())
        if not self.ew_only:
            derived = [e for name in self.scope for e in self.derive(name, S)]
            derived += [e for le in self.loop for e in self.derive_from(le, S)]
            if derived:
                return rng.choice(derived)
        if exact:
            return self.name_expr(rng.choice(exact))
        if S == ():
            return E(rng.choice(LITERALS), ())
        composed = self.compose(S)
        if composed is not None and rng.random() < 0.85:
            return composed
        return self.broadcast_up(S)

    def compose(self, S) -> E | None:
        """Two names in scope combined into exactly S: a product, an outer product, a broadcast."""
        rng = self.rng
        named = {}
        for n, i in self.scope.items():
            if i.array or i.shape == ():
                named.setdefault(i.shape, []).append(n)
        has = lambda T: T in named  # noqa: E731
        get = lambda T: rng.choice(named[T])  # noqa: E731
        options = []
        for T in list(named):
            if len(S) == 2 and len(T) == 2 and T[0] == S[0] and has((T[1], S[1])):
                options.append(f"({get(T)} @ {get((T[1], S[1]))})")
            if len(S) == 1 and len(T) == 2 and T[0] == S[0] and has((T[1],)):
                options.append(f"({get(T)} @ {get((T[1],))})")
            if len(S) == 1 and len(T) == 2 and T[1] == S[0] and has((T[0],)):
                options.append(f"({get((T[0],))} @ {get(T)})")
            if T != S and T != () and broadcasts_to(T, S):
                partners = [U for U in named if U != S and len(U) <= len(S)
                            and broadcasts_to(U, S) and np.broadcast_shapes(T, U) == S]
                if partners:
                    op = rng.choice(["+", "*", "-"])
                    options.append(f"({get(T)} {op} {get(rng.choice(partners))})")
        if len(S) == 2 and has((S[0],)) and has((S[1],)):
            options.append(f"np.outer({get((S[0],))}, {get((S[1],))})")
            options.append(f"({get((S[0],))}[:, None] * {get((S[1],))})")
        return E(rng.choice(options), S) if options else None

    def broadcast_up(self, S) -> E:
        """Fallback: some value broadcast up to exactly S with np.ones / np.zeros."""
        rng = self.rng
        fits = [n for n, i in self.scope.items() if i.shape != S and broadcasts_to(i.shape, S)]
        x = self.name_expr(rng.choice(fits)).text if fits else rng.choice(LITERALS)
        shape = shape_text(S) if len(S) != 1 or rng.random() < 0.5 else str(S[0])
        if rng.random() < 0.5:
            return E(f"({x} * np.ones({shape}))", S)
        return E(f"(np.zeros({shape}) + {x})", S)

    def int_constant(self) -> str | None:
        """x.shape[i], len(x), x.size, x.ndim of some array in scope (a trace-time int)."""
        rng = self.rng
        arrays = [n for n, i in self.scope.items() if i.array and len(i.shape) >= 1]
        if not arrays:
            return None
        x = rng.choice(arrays)
        shape = self.scope[x].shape
        i = rng.randrange(len(shape))
        return rng.choice([f"{x}.shape[{i}]", f"{x}.shape[{i - len(shape)}]", f"len({x})", f"{x}.size", f"{x}.ndim"])

    # -- one-step derivations from a value of another shape -------------------------------------------

    def derive(self, name: str, S) -> list[E]:
        info = self.scope[name]
        if not info.array:
            return []
        return self.derive_from(self.name_expr(name), S)

    def derive_from(self, x: E, S) -> list[E]:
        rng = self.rng
        T = x.shape
        out: list[E] = []
        if T == S or len(T) == 0:
            return out
        v = x.text
        # reductions
        for red in self.reductions(x, S, T):
            out.append(red)
        # transposes
        if len(T) == len(S) >= 2 and sorted(T) == sorted(S):
            perms = [p for p in itertools.permutations(range(len(T)))
                     if tuple(T[i] for i in p) == S and p != tuple(range(len(T)))]
            if perms:
                p = rng.choice(perms)
                if p == tuple(reversed(range(len(T)))) and rng.random() < 0.5:
                    out.append(E(rng.choice([f"{v}.T", f"np.transpose({v})", f"{v}.transpose()"]), S, x.base))
                else:
                    out.append(E(rng.choice([f"np.transpose({v}, {p})", f"{v}.transpose{p}",
                                             f"np.transpose({v}, axes={list(p)})"]), S, x.base))
        # reshapes
        if len(S) >= 1 and size(S) == size(T):
            out.append(E(self.reshape_text(v, T, S), S, x.base))
        # expand_dims: S is T with a 1 inserted
        for i in range(len(S)):
            if S[i] == 1 and S[:i] + S[i + 1:] == T:
                out.append(E(self.expand_text(v, T, i), S, x.base))
                break
        # indexing
        idx = self.index_text(T, S)
        if idx is not None:
            out.append(E(f"{v}{idx}", S, x.base if S != () else None))
        return out

    def reductions(self, x: E, S, T) -> list[E]:
        """np.sum & co. of x (shape T) that give exactly S."""
        out = []
        nd = len(T)
        for r in range(1, nd + 1):
            for axes in itertools.combinations(range(nd), r):
                keep = tuple(n for i, n in enumerate(T) if i not in axes)
                kept = tuple(1 if i in axes else n for i, n in enumerate(T))
                if keep == S:
                    out.append(self.reduction_text(x, axes, nd, False, S))
                elif kept == S and any(T[i] != 1 for i in axes):
                    out.append(self.reduction_text(x, axes, nd, True, S))
        return out

    def reduction_text(self, x: E, axes, nd: int, keepdims: bool, S) -> E:
        rng = self.rng
        fn = self.pick([("sum", 5), ("mean", 3), ("max", 2), ("min", 2), ("numpy", 3)])
        if fn == "numpy":  # numpy's other reductions (issue 13)
            return self.numpy_reduction(x, axes, nd, keepdims, S)
        whole = len(axes) == nd and not keepdims
        if whole and rng.random() < 0.5:
            axis = None
        elif len(axes) == 1:
            a = axes[0]
            axis = rng.choice([str(a), str(a - nd), f"({a},)"]) if rng.random() < 0.9 else str(a)
        else:
            axis = "(" + ", ".join(str(a - nd) if rng.random() < 0.3 else str(a) for a in axes) + ")"
        kw = []
        positional = axis is not None and not keepdims and rng.random() < 0.15
        if axis is not None and not positional:
            kw.append(f"axis={axis}")
        if keepdims:
            kw.append("keepdims=True")
        elif axis is not None and rng.random() < 0.1:
            kw.append("keepdims=False")
        args = ", ".join(([axis] if positional else []) + kw)
        if rng.random() < 0.4:
            return E(f"{x.text}.{fn}({args})", S)
        return E(f"np.{fn}({x.text}{', ' + args if args else ''})", S)

    def numpy_reduction(self, x: E, axes, nd: int, keepdims: bool, S) -> E:
        """np.var (ddof), np.std, np.prod, np.linalg.norm (2 / Frobenius; ord=1 along one axis) over `axes`.
        (np.std and np.linalg.norm as functions: sane() redraws a program where one is near 0, a kink.)"""
        rng = self.rng
        T = x.shape
        count = size(tuple(T[i] for i in axes))
        options = [("var", 3), ("std", 2), ("prod", 2), ("norm", 2 if len(axes) <= 2 or (len(axes) == nd and
                                                                                          not keepdims) else 0)]
        fn = self.pick(options)
        whole = len(axes) == nd
        if whole and (rng.random() < 0.6 or (fn == "norm" and nd > 2)):  # a norm takes at most 2 axes
            axis = None
        else:
            axis = str(axes[0]) if len(axes) == 1 else str(tuple(axes))
        kw = ([f"axis={axis}"] if axis is not None else []) + (["keepdims=True"] if keepdims else [])
        if fn in ("var", "std") and count > 1 and rng.random() < 0.3:
            kw.append("ddof=1")
        if fn == "norm":
            if len(axes) == 1 and rng.random() < 0.4:  # a vector norm: ord=1 too
                kw.insert(0, "ord=1")
            return E(f"np.linalg.norm({bare(x.text)}{''.join(', ' + k for k in kw)})", S)
        if fn in ("var", "prod") and rng.random() < 0.4:
            return E(f"{x.text}.{fn}({', '.join(kw)})", S)
        return E(f"np.{fn}({bare(x.text)}{''.join(', ' + k for k in kw)})", S)

    def reshape_text(self, v: str, T, S) -> str:
        rng = self.rng
        dims = list(S)
        if len(S) >= 2 and rng.random() < 0.3:
            dims[rng.randrange(len(S))] = -1
        if len(S) == 2 and T and S[0] == T[0] and rng.random() < 0.3:
            dims = [f"{v}.shape[0]", "-1"] if v.isidentifier() else dims
        text = ", ".join(map(str, dims))
        r = rng.random()
        if r < 0.4:
            return f"{v}.reshape({text})"
        if r < 0.7:
            return f"{v}.reshape(({text}{',' if len(dims) == 1 else ''}))"
        return f"np.reshape({v}, ({text}{',' if len(dims) == 1 else ''}))"

    def expand_text(self, v: str, T, i: int) -> str:
        rng = self.rng
        nd = len(T) + 1
        if len(T) == 1 and rng.random() < 0.5:
            return f"{v}[None, :]" if i == 0 else f"{v}[:, None]"
        if len(T) == 2 and rng.random() < 0.3:
            return [f"{v}[None, :, :]", f"{v}[:, None, :]", f"{v}[:, :, None]"][i]
        return f"np.expand_dims({v}, {rng.choice([i, i - nd])})"

    def index_text(self, T, S) -> str | None:
        """An index of an array of shape T giving S, or None."""
        rng = self.rng
        options = []
        if len(T) == len(S) + 1 and T[1:] == S:  # x[i]
            m = T[0]
            i = rng.randrange(-m, m)
            options.append(f"[{i}]")
            if len(T) >= 2:
                options.append(f"[{i}, ...]" if rng.random() < 0.2 else f"[{i}]")
        if len(T) == 2 and S == (T[0],):  # X[:, j]
            j = rng.randrange(-T[1], T[1])
            options.append(f"[:, {j}]")
            options.append(f"[..., {j}]")
        if len(T) == 2 and S == ():  # X[i, j]
            options.append(f"[{rng.randrange(-T[0], T[0])}, {rng.randrange(-T[1], T[1])}]")
        if len(T) == 3 and S == T[:2]:
            options.append(f"[:, :, {rng.randrange(T[2])}]")
        if len(T) == len(S) >= 1 and T[1:] == S[1:]:  # slices along the first axis
            m, s = T[0], S[0]
            if s == m - 1:
                options.append(rng.choice(["[1:]", "[:-1]", f"[:{m - 1}]", f"[1:{m}]"]))
            if s == (m + 1) // 2 and m > 1:
                options.append("[::2]")
            if s == m:
                options.append("[::-1]")
        if len(T) == len(S) == 2 and T[0] == S[0] and S[1] == T[1] - 1:
            options.append("[:, 1:]")
        return rng.choice(options) if options else None

    # -- expressions --------------------------------------------------------------------------------

    def expr(self, S, depth: int) -> E:
        rng = self.rng
        self.budget -= 1
        if depth <= 0 or self.budget <= 0 or rng.random() < 0.12:
            return self.leaf(S)
        kinds = [("leaf", 6), ("unary", 24), ("binary", 30), ("where", 4), ("mask", 2)]
        if not self.ew_only:
            kinds += [("reduce", 9), ("matmul", 8 if len(S) <= 2 else 3), ("outer", 3 if len(S) == 2 else 0),
                      ("layout", 7 if S else 0), ("index", 5), ("helper", 5 if self.helpers else 0),
                      ("const", 4), ("make", 12)]
        for _ in range(4):
            kind = self.pick(kinds)
            e = getattr(self, f"p_{kind}")(S, depth - 1)
            if e is not None:
                assert e.shape == S, (kind, e, S)
                return e
        return self.leaf(S)

    def p_leaf(self, S, depth):
        return self.leaf(S)

    def square(self, x: E) -> str:
        if x.text.isidentifier() and self.rng.random() < 0.7:
            return f"{x.text} * {x.text}"
        return f"{x.text} ** 2"

    def positive(self, x: E, c: str) -> str:
        return f"({self.square(x)} + {c})"

    def p_unary(self, S, depth):
        rng = self.rng
        x = self.expr(S, depth)
        kind = self.pick([("tanh", 4), ("sin", 3), ("cos", 3), ("abs", 3), ("sigmoid", 3), ("exp", 3), ("log", 3),
                          ("sqrt", 3), ("relu", 4), ("neg", 3), ("sq", 3), ("cube", 1), ("cpow", 2), ("gpow", 2),
                          ("recip", 1), ("identity", 4), ("numpy", 12)])
        if kind == "numpy":  # numpy's other elementwise functions (issue 13), each in its domain
            return self.numpy_unary(x, S, depth)
        if kind == "identity":
            return E(rng.choice(IDENTITIES).format(x=x.text), S)
        if kind in ("tanh", "sin", "cos"):
            return E(f"np.{kind}({bare(x.text)})", S)
        if kind == "abs":
            return E(f"{rng.choice(['np.abs', 'abs', 'np.absolute'])}({bare(x.text)})", S)
        if kind == "sigmoid":
            return E(f"sigmoid({bare(x.text)})", S)
        if kind == "exp":
            arg = f"np.tanh({bare(x.text)})" if rng.random() < 0.7 else f"-({self.square(x)})"
            return E(f"np.exp({arg})", S)
        if kind == "log":
            return E(f"np.log({bare(self.positive(x, rng.choice(['0.5', '1.0', '0.25'])))})", S)
        if kind == "sqrt":
            return E(f"np.sqrt({bare(self.positive(x, rng.choice(['0.1', '1.0'])))})", S)
        if kind == "relu":
            return E(f"np.maximum({bare(x.text)}, 0.0)" if rng.random() < 0.8 else f"np.maximum(0.0, {bare(x.text)})", S)
        if kind == "neg":
            return E(f"(-{x.text})", S)
        if kind == "sq":
            return E(f"({x.text} ** 2)", S)
        if kind == "cube":
            return E(f"({x.text} ** 3)", S)
        if kind == "cpow":
            e = rng.choice(["1.5", "0.5", "(-1)", "(-0.5)", "2.0"])
            return E(f"({self.positive(x, '0.5')} ** {e})", S)
        if kind == "gpow":
            y = self.expr(self.sub(S), depth)
            base = self.positive(x, rng.choice(["0.5", "1.0"]))
            exponent = f"np.tanh({bare(y.text)})"
            if rng.random() < 0.3:
                return E(f"np.power({base}, {exponent})", S)
            return E(f"({base} ** {exponent})", S)
        # recip
        return E(f"(1.0 / {self.positive(x, '1.0')})", S)

    def numpy_unary(self, x: E, S, depth) -> E:
        rng = self.rng
        fn, domain = rng.choice(NUMPY_UNARY)
        arg = bare(x.text)
        if domain == "unit":  # inside (-1, 1)
            arg = f"0.9 * np.tanh({arg})"
        elif domain == "exp":
            arg = f"np.tanh({arg})"
        elif domain == "pos":
            arg = bare(self.positive(x, rng.choice(["0.5", "1.0"])))
        elif domain == "above1":
            arg = bare(self.positive(x, "1.5"))
        if fn == "np.clip":
            lo, hi = rng.choice(CLIP_BOUNDS)
            return E(f"np.clip({arg}, {lo}, {hi})", S)
        if fn == "np.logaddexp":
            y = bare(self.expr(self.sub(S), depth).text)
            return E(f"np.logaddexp({arg}, {y})" if rng.random() < 0.5 else f"np.logaddexp({y}, {arg})", S)
        if fn in ("np.arctan2", "np.hypot"):  # a second argument > 0: smooth there
            return E(f"{fn}({arg}, {bare(self.positive(self.expr(self.sub(S), depth), '0.5'))})", S)
        return E(f"{fn}({arg})", S)

    def operands(self, S, depth) -> tuple[E, E]:
        """Two expressions whose shapes broadcast to exactly S."""
        rng = self.rng
        if not self.ew_only and len(S) == 2 and S[0] != 1 and S[1] != 1 and rng.random() < 0.15:
            a, b = self.expr((S[0], 1), depth), self.expr((S[1],) if rng.random() < 0.5 else (1, S[1]), depth)
        else:
            a, b = self.expr(S, depth), self.expr(self.sub(S), depth)
        return (a, b) if rng.random() < 0.5 else (b, a)

    def p_binary(self, S, depth):
        rng = self.rng
        a, b = self.operands(S, depth)
        op = self.pick([("+", 5), ("-", 4), ("*", 6), ("/", 3), ("max", 2), ("min", 2)])
        if op == "/":
            # (a constant divisor drops b: only when a or b alone has the shape S)
            if rng.random() < 0.7 or S not in (a.shape, b.shape):
                return E(f"({a.text} / {self.positive(b, rng.choice(['1.0', '0.5']))})", S)
            exact = a if a.shape == S else b
            return E(f"({exact.text} / {rng.choice(['2.0', '3', '0.5'])})", S)
        if op in ("max", "min"):
            fn = "np.maximum" if op == "max" else "np.minimum"
            return E(f"{fn}({bare(a.text)}, {bare(b.text)})", S)
        return E(f"({a.text} {op} {b.text})", S)

    def comparison(self, S, depth) -> str:
        rng = self.rng
        op = self.pick([(">", 4), ("<", 3), (">=", 2), ("<=", 2), ("==", 1), ("!=", 1)])
        a = self.expr(self.sub(S), max(depth - 1, 0))
        b = self.expr(self.sub(S), max(depth - 1, 0)) if rng.random() < 0.6 else E(rng.choice(["0.0", "0.5", "(-0.25)"]), ())
        consts = self.consts()
        if constant(a.text, consts) and constant(b.text, consts) and rng.random() >= CONSTANT_CONDITIONS:
            a = self.valued_leaf(self.sub(S))
        return f"{a.text} {op} {b.text}"

    def consts(self) -> list[str]:
        return [n for n, i in self.scope.items() if i.const]

    def valued_leaf(self, S) -> E:
        """A leaf that is a value, never a trace-time constant."""
        if self.ew_only:  # a helper's parameters: they broadcast to its result
            return self.name_expr(self.rng.choice([n for n, i in self.scope.items() if i.shape == ("H",)]))
        exact = [n for n in self.names_of(S) if not self.scope[n].const]
        if exact:
            return self.name_expr(self.rng.choice(exact))
        derived = [e for name in self.scope for e in self.derive(name, S)]
        if derived:
            return self.rng.choice(derived)
        return self.compose(S) or self.broadcast_up(S)

    def p_where(self, S, depth):
        a, b = self.operands(S, depth)
        return E(f"np.where({self.comparison(S, depth)}, {bare(a.text)}, {bare(b.text)})", S)

    def p_mask(self, S, depth):
        x = self.expr(S, depth)
        return E(f"({x.text} * ({self.comparison(S, depth)}))", S)

    def scope_shapes(self, ok) -> list[tuple]:
        """Shapes of names in scope (and loop items) for which ok(shape) holds, in a fixed order."""
        seen = []
        for shape in [i.shape for i in self.scope.values()] + [e.shape for e in self.loop]:
            if shape not in seen and shape != ("H",) and ok(shape):
                seen.append(shape)
        return seen

    def p_reduce(self, S, depth):
        rng = self.rng
        if len(S) >= 3:
            return None
        if S == () and rng.random() < 0.12:
            # a reduction of a scalar (np.sum(x) of a Python float: numpy gives a 0-d value, and its
            # gradient is a 0-d view flatgen must not write into)
            x = self.expr((), depth)
            return E(f"np.{self.pick([('sum', 5), ('mean', 3), ('max', 2), ('min', 2)])}({bare(x.text)})", ())
        known = self.scope_shapes(lambda T: T != S and reducible(T, S))
        if known and rng.random() < 0.7:
            T = rng.choice(known)
        elif S == ():
            T = rng.choice([s for s in self.universe() if s])
        else:
            ones = [i for i, n in enumerate(S) if n == 1]
            if ones and rng.random() < 0.5:  # keepdims
                T = list(S)
                for i in ones:
                    if rng.random() < 0.7 or i == ones[-1]:
                        T[i] = rng.choice([d for d in self.dims if d != 1] or [2])
            else:
                T = list(S)
                T.insert(rng.randrange(len(S) + 1), rng.choice(self.dims))
            T = tuple(T)
            if T == S or len(T) > 3:
                return None
        x = self.expr(T, depth)
        if S == () and rng.random() < 0.6:
            return self.reduction_text(x, tuple(range(len(T))), len(T), False, ())
        options = self.reductions(x, S, T)
        return rng.choice(options) if options else None

    def p_matmul(self, S, depth):
        rng = self.rng
        if len(S) == 3:  # a stack of matrix products (issue 13): stack @ stack, or stack @ one matrix
            c = rng.choice(self.dims)
            a = self.expr((S[0], S[1], c), depth)
            if rng.random() < 0.5:
                b = self.expr((S[0], c, S[2]), depth)
                return E(f"np.matmul({bare(a.text)}, {bare(b.text)})", S)
            b = self.expr((c, S[2]), depth)
            return E(f"{rng.choice(['np.matmul', 'np.dot'])}({bare(a.text)}, {bare(b.text)})", S)
        if len(S) == 2:
            known = [T[1] for T in self.scope_shapes(lambda T: len(T) == 2 and T[0] == S[0])]
            known += [T[0] for T in self.scope_shapes(lambda T: len(T) == 2 and T[1] == S[1])]
        elif len(S) == 1:
            known = [T[1] for T in self.scope_shapes(lambda T: len(T) == 2 and T[0] == S[0])]
            known += [T[0] for T in self.scope_shapes(lambda T: len(T) == 2 and T[1] == S[0])]
        else:
            known = [T[0] for T in self.scope_shapes(lambda T: len(T) == 1)]
        c = rng.choice(known) if known and rng.random() < 0.8 else rng.choice(self.dims)
        if len(S) == 2:
            a, b = self.expr((S[0], c), depth), self.expr((c, S[1]), depth)
        elif len(S) == 1:
            if rng.random() < 0.6:
                a, b = self.expr((S[0], c), depth), self.expr((c,), depth)
            else:
                a, b = self.expr((c,), depth), self.expr((c, S[0]), depth)
        else:
            a, b = self.expr((c,), depth), self.expr((c,), depth)
        spelling = self.pick([("@", 6), ("np.dot", 2), ("np.matmul", 1)])
        if spelling == "@":
            return E(f"({a.text} @ {b.text})", S)
        return E(f"{spelling}({bare(a.text)}, {bare(b.text)})", S)

    def p_outer(self, S, depth):
        a, b = self.expr((S[0],), depth), self.expr((S[1],), depth)
        return E(f"np.outer({bare(a.text)}, {bare(b.text)})", S)

    def p_layout(self, S, depth):
        rng = self.rng
        kind = self.pick([("T", 4 if len(S) >= 2 else 0), ("perm", 2 if len(S) == 3 else 0), ("reshape", 3),
                          ("expand", 3 if 1 in S else 0), ("reverse", 1), ("cumsum", 2)])
        if kind == "cumsum":  # a running sum along an axis; of a flattened array when S is 1-D
            if len(S) == 1 and rng.random() < 0.4:
                cands = [T for T in self.universe() if len(T) >= 2 and size(T) == S[0]]
                if cands:
                    x = self.expr(rng.choice(cands), depth)
                    return E(f"np.cumsum({bare(x.text)})", S)
            x = self.expr(S, depth)
            k = rng.randrange(len(S))
            k = k - len(S) if rng.random() < 0.3 else k
            return E(f"{x.text}.cumsum(axis={k})" if rng.random() < 0.3 else f"np.cumsum({bare(x.text)}, axis={k})",
                     S)
        if kind == "reverse":
            x = self.expr(S, depth)
            return E(f"{x.text}[::-1]", S, x.base)
        if kind == "T":
            x = self.expr(tuple(reversed(S)), depth)
            return E(rng.choice([f"{x.text}.T", f"np.transpose({bare(x.text)})"]), S, x.base)
        if kind == "perm":
            p = list(range(3))
            rng.shuffle(p)
            inv = [p.index(i) for i in range(3)]
            x = self.expr(tuple(S[i] for i in inv), depth)  # x.shape[p[i]] == S[i]
            assert tuple(x.shape[i] for i in p) == S
            return E(f"np.transpose({bare(x.text)}, {tuple(p)})", S, x.base)
        if kind == "reshape":
            n = size(S)
            cands = self.scope_shapes(lambda T: T and size(T) == n and T != S)
            if not cands or rng.random() < 0.3:
                cands = [s for s in self.universe() + [(n,)] if s and size(s) == n and s != S]
            if not cands:
                return None
            T = rng.choice(cands)
            x = self.expr(T, depth)
            return E(self.reshape_text(x.text, T, S), S, x.base)
        i = rng.choice([i for i, m in enumerate(S) if m == 1])
        T = S[:i] + S[i + 1:]
        x = self.expr(T, depth)
        return E(self.expand_text(x.text, T, i), S, x.base)

    def p_index(self, S, depth):
        rng = self.rng
        r = rng.random()
        known = self.scope_shapes(lambda T: len(T) <= 3 and self.index_text(T, S) is not None)
        if known and rng.random() < 0.7:
            T = rng.choice(known)
        elif len(S) <= 1 and r < 0.5:
            T = (rng.choice(self.dims),) + S
        elif len(S) == 1 and r < 0.75:
            T = (S[0], rng.choice(self.dims))
        elif len(S) >= 1:
            T = (S[0] + 1,) + S[1:] if rng.random() < 0.6 else (2 * S[0],) + S[1:]
        else:
            T = (rng.choice(self.dims), rng.choice(self.dims))
        if len(T) > 3:
            return None
        idx = self.index_text(T, S)
        if idx is None:
            return None
        x = self.expr(T, depth)
        return E(f"{x.text}{idx}", S, x.base if S != () else None)

    def p_helper(self, S, depth):
        rng = self.rng
        name, kind, n = rng.choice(self.helpers)
        if kind == "red":
            if S != ():
                return None
            T = rng.choice([s for s in self.universe() if s])
            args = [self.expr(T, depth)] + [self.expr(self.sub(T), depth) for _ in range(n - 1)]
        else:
            args = [self.expr(S, depth)] + [self.expr(self.sub(S), depth) for _ in range(n - 1)]
            rng.shuffle(args)
        return E(f"{name}({', '.join(bare(a.text) for a in args)})", S)

    def p_const(self, S, depth):
        rng = self.rng
        x = self.expr(S, depth)
        r = rng.random()
        if r < 0.6:
            c = self.int_constant()
            if c is None:
                return None
            op = rng.choice(["*", "/", "+", "-"])
            return E(f"({x.text} {op} {c})", S)
        if r < 0.8 and S:
            like = rng.choice(["np.zeros_like", "np.ones_like"])
            y = bare(self.leaf(S).text)
            return E(f"({x.text} + {like}({y}))" if like.endswith("zeros_like") else f"({x.text} * {like}({y}))", S)
        if S:
            fn = rng.choice(["np.ones", "np.zeros"])
            shp = shape_text(S)
            if S[0] > 0:
                arrays = [n for n, i in self.scope.items() if i.array and i.shape and i.shape[0] == S[0]]
                if arrays and rng.random() < 0.4:
                    dims = [f"len({rng.choice(arrays)})", *map(str, S[1:])]
                    shp = "(" + ", ".join(dims) + ("," if len(S) == 1 else "") + ")"
            return E(f"({x.text} * {fn}({shp}))" if fn == "np.ones" else f"({fn}({shp}) + {x.text})", S)
        return None

    # -- making arrays and index arrays (issue 13) ---------------------------------------------------

    def p_make(self, S, depth):
        """np.array / np.stack / np.concatenate / np.hstack / np.vstack, np.pad, np.atleast_*, ravel, flatten,
        squeeze, copies and casts, constants (np.eye, np.arange, np.full, np.linspace), and reads through
        index arrays: lists with repeated indices, x[np.arange(n), labels], a mask x[x > c] summed."""
        rng = self.rng
        kind = self.pick([("fancy", 4), ("join", 4), ("array", 2 if len(S) <= 2 and S and S[0] <= 4 else 0),
                          ("pad", 2 if S and min(S) >= 3 else 0), ("relayout", 3), ("copy", 2),
                          ("constant", 2 if S else 0), ("mask", 1 if S == () else 0)])
        return getattr(self, f"make_{kind}")(S, depth)

    def make_fancy(self, S, depth):
        rng = self.rng
        if len(S) == 1 and rng.random() < 0.4:  # X[np.arange(n), labels]: one element per row
            n, d = S[0], rng.choice(self.dims)
            x = self.expr((n, d), depth)
            labels = [rng.randrange(d) for _ in range(n)]
            rows = rng.choice([f"np.arange({n})", f"range({n})"])
            return E(f"{x.text}[{rows}, np.array({labels})]", S)
        if not S:
            return None
        m = rng.choice(self.dims)
        picks = [rng.randrange(m) for _ in range(S[0])]
        if len(picks) >= 2 and len(set(picks)) == len(picks) and m > 0:
            picks[-1] = picks[0]  # a repeat: its gradients must add up
        x = self.expr((m,) + S[1:], depth)
        index = str(picks) if rng.random() < 0.6 else f"np.array({picks})"
        return E(f"{x.text}[{index}]", S)

    def make_mask(self, S, depth):
        T = self.rng.choice([s for s in self.universe() if s])
        x = self.expr(T, depth)
        return E(f"np.sum({x.text}[{x.text} > {self.rng.choice(['0.37', '-0.41', '0.13'])}])", S)

    def make_join(self, S, depth):
        rng = self.rng
        if not S:
            return None
        twos = [k for k, n in enumerate(S) if n == 2]
        if twos and rng.random() < 0.5:
            k = rng.choice(twos)
            part = S[:k] + S[k + 1:]
            a, b = self.expr(part, depth), self.expr(part, depth)
            axis = "" if k == 0 and rng.random() < 0.5 else f", axis={k - len(S) if rng.random() < 0.3 else k}"
            return E(f"np.stack([{bare(a.text)}, {bare(b.text)}]{axis})", S)
        splits = [k for k, n in enumerate(S) if n >= 2]
        if not splits:
            return None
        k = rng.choice(splits)
        cut = rng.randrange(1, S[k])
        A, B = S[:k] + (cut,) + S[k + 1:], S[:k] + (S[k] - cut,) + S[k + 1:]
        a, b = self.expr(A, depth), self.expr(B, depth)
        if len(S) == 1 and rng.random() < 0.4:
            return E(f"np.hstack([{bare(a.text)}, {bare(b.text)}])", S)
        if len(S) == 2 and k == 1 and rng.random() < 0.4:
            return E(f"np.hstack(({bare(a.text)}, {bare(b.text)}))", S)
        if len(S) == 2 and k == 0 and rng.random() < 0.4:
            if cut == 1 and rng.random() < 0.5:  # a vector becomes a row
                a = self.expr((S[1],), depth)
            return E(f"np.vstack([{bare(a.text)}, {bare(b.text)}])", S)
        axis = "" if k == 0 and rng.random() < 0.5 else f", axis={k}"
        return E(f"np.concatenate([{bare(a.text)}, {bare(b.text)}]{axis})", S)

    def make_array(self, S, depth):
        items = [bare(self.expr(S[1:], depth).text) for _ in range(S[0])]
        items = [f"{t}.0" if t.lstrip("-").isdigit() else t for t in items]  # np.array([1, 2]) holds integers
        fn = self.rng.choice(["np.array", "np.asarray"])
        return E(f"{fn}([{', '.join(items)}])", S)

    def make_pad(self, S, depth):
        rng = self.rng
        if rng.random() < 0.3:
            x = self.expr(tuple(n - 2 for n in S), depth)
            return E(f"np.pad({bare(x.text)}, 1)", S)
        pads = [(rng.randrange(2), rng.randrange(2)) for _ in S]
        x = self.expr(tuple(n - b - a for n, (b, a) in zip(S, pads)), depth)
        value = "" if rng.random() < 0.7 else f", constant_values={rng.choice(['0.5', '-1.0'])}"
        return E(f"np.pad({bare(x.text)}, {tuple(pads)!r}{value})", S)

    def make_relayout(self, S, depth):
        rng = self.rng
        if len(S) == 1 and rng.random() < 0.6:  # flattened
            cands = [T for T in self.universe() if len(T) >= 2 and size(T) == S[0]]
            if cands:
                x = self.expr(rng.choice(cands), depth)
                text = rng.choice([f"{x.text}.ravel()", f"np.ravel({bare(x.text)})", f"{x.text}.flatten()"])
                return E(text, S, None if "flatten" in text else x.base)
        if len(S) == 2 and S[0] == 1:
            x = self.expr(S[1:], depth)
            return E(f"np.atleast_2d({bare(x.text)})", S, x.base)
        if S and rng.random() < 0.5:
            x = self.expr(S, depth)
            return E(f"np.atleast_1d({bare(x.text)})", S, x.base)
        if len(S) > 2:  # (the writer's shapes have at most 3 axes)
            return None
        i = rng.randrange(len(S) + 1)
        x = self.expr(S[:i] + (1,) + S[i:], depth)
        text = f"{x.text}.squeeze()" if 1 not in S and rng.random() < 0.5 else f"np.squeeze({bare(x.text)}, axis={i})"
        return E(text, S, x.base)

    def make_copy(self, S, depth):
        if not S:  # (a Python float has no .copy())
            return None
        x = self.expr(S, depth)
        spelled = [f"{x.text}.copy()", f"np.copy({bare(x.text)})", f"{x.text}.astype(float)"]
        if S:
            spelled.append(f"np.array({bare(x.text)})")
        return E(self.rng.choice(spelled), S)

    def make_constant(self, S, depth):
        rng = self.rng
        x = self.expr(S, depth)
        options = [f"np.full({shape_text(S)}, {rng.choice(['0.5', '1.5', '-2.0'])})"]
        if len(S) == 2 and S[0] == S[1]:
            options.append(f"np.eye({S[0]})")
        if len(S) == 2 and rng.random() < 0.5:
            options.append(f"np.eye({S[0]}, {S[1]}, k={rng.choice([-1, 0, 1])})")
        if len(S) == 1:
            options += [f"np.arange({S[0]})", f"np.arange(1, {S[0] + 1})", f"np.linspace(-1.0, 1.0, {S[0]})"]
        return E(f"({x.text} * {rng.choice(options)})", S)

    # -- statements ---------------------------------------------------------------------------------

    def statement_shape(self):
        rng = self.rng
        names = list(self.scope)
        if names and rng.random() < 0.75:
            return self.scope[rng.choice(names)].shape
        return rng.choice(self.universe())

    def fresh_name(self, pool: list[str]) -> str:
        free = [n for n in pool if n not in self.scope and n not in self.taken]
        if not free:
            return None
        return self.rng.choice(free)

    def bind(self, name: str, e: E, array: bool = True) -> None:
        token = e.base if e.base is not None else next(self.tokens)
        const = constant(e.text, self.consts())
        self.scope.pop(name, None)
        self.scope[name] = Info(e.shape, token, array and not const, const)
        self.recent.append(name)
        if self.rng.random() < 0.25 and name not in self.hot:
            self.hot.append(name)

    def may_update_in_place(self, name: str) -> bool:
        """`name op= ...` is in place on an array: only when no other name can see that array."""
        info = self.scope[name]
        if not info.array or info.shape == ():
            return True
        return all(other == name or i.token != info.token for other, i in self.scope.items())

    def statement(self, pool: list[str], in_loop: bool = False) -> str | None:
        rng = self.rng
        self.budget = rng.randint(6, 16)
        depth = rng.randint(1, 3)
        r = rng.random()
        names = [n for n in self.scope if self.scope[n].array or self.scope[n].shape == ()]
        if r < 0.45 or not names:  # a new name
            target = self.fresh_name(pool)
            if target is None:
                return None
            S = self.statement_shape()
            e = self.expr(S, depth)
            if in_loop and e.base is not None and e.base in self.loop_written:
                return None  # an alias of an array the body updates in place: the next iteration writes into it
            self.bind(target, e)
            return f"{target} = {bare(e.text)}"
        target = rng.choice(self.hot) if self.hot and rng.random() < 0.35 else rng.choice(names)
        if target not in self.scope:
            return None
        S = self.scope[target].shape
        if r < 0.72:  # rebinding
            keep_shape = in_loop or rng.random() < 0.8
            if rng.random() < 0.6:
                op = rng.choice(["*", "+", "-", "*"])
                if keep_shape:
                    e = self.expr(self.sub(S), depth)
                else:
                    e = self.expr(S, depth)
                text = f"{target} {op} {e.text}"
                self.bind(target, E(text, S))
                return f"{target} = {text}"
            T = S if keep_shape else self.statement_shape()
            e = self.expr(T, depth)
            if in_loop and e.base is not None and e.base in self.loop_written:
                return None  # (as above)
            self.bind(target, e)
            return f"{target} = {bare(e.text)}"
        # augmented assignment
        if not self.may_update_in_place(target):
            return None
        op = self.pick([("+=", 4), ("-=", 2), ("*=", 3), ("/=", 2), ("**=", 1)])
        if op == "/=":
            text = f"{target} /= {self.positive(self.expr(self.sub(S), min(depth, 2)), '1.0')}"
        elif op == "**=":
            text = f"{target} **= {rng.choice(['2', '2', '3'])}"
        else:
            text = f"{target} {op} {bare(self.expr(self.sub(S), depth).text)}"
        info = self.scope[target]
        if in_loop and info.array and info.shape:
            self.loop_written.add(info.token)
        const = info.const and constant(text.split("=", 1)[1].strip(), self.consts())
        self.scope[target] = Info(S, info.token if info.shape else next(self.tokens), info.array, const)
        self.recent.append(target)
        return text


def uniform_array(rng: random.Random, shape, scale: float):
    a = np.array([rng.uniform(-scale, scale) for _ in range(size(shape))], dtype=np.float64).reshape(shape)
    return a


class ProgramWriter:
    """One program: parameters and their values, an optional helper, the body of f."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def write(self):
        rng = self.rng
        dims = [rng.choice([2, 3, 4]), rng.choice([2, 3, 4]), rng.choice([1, 2, 3])]
        if rng.random() < 0.15:
            dims[rng.randrange(2)] = 1
        w = Writer(rng, dims)
        nparams = rng.randint(1, 4)
        names = rng.sample(PARAM_NAMES, nparams)
        universe = w.universe()
        shapes = [rng.choice(universe) for _ in range(nparams)]
        if all(s == () for s in shapes):
            shapes[rng.randrange(nparams)] = rng.choice([s for s in universe if s])
        loop_len = None
        if rng.random() < 0.25:  # a sequence to loop over: xs[t]
            loop_len = rng.choice([2, 3, 3, 4])
            item = rng.choice([(dims[1],), (dims[0], dims[1]), (dims[1],), ()])
            names.append("xs" if "xs" not in names else "ys")
            shapes.append((loop_len,) + item)
        params = names
        for p, s in zip(params, shapes):
            w.scope[p] = Info(s, next(w.tokens), True)
        w.hot = [rng.choice(params)]
        w.taken = set(params) | {"t", "np", "sigmoid", "f"}
        pool = LOCAL_NAMES + (TRICKY_NAMES if w.tricky else [])
        w.taken -= {"f"} if w.tricky else set()

        helper_text = ""
        if rng.random() < 0.35:
            helper_text = self.helper(w)
            w.taken.add(w.helpers[0][0])

        body: list[str] = []
        nstmts = rng.randint(1, 7)
        loop_at = rng.randint(0, nstmts) if loop_len else None
        for i in range(nstmts + 1):
            if i == loop_at:
                body += self.loop(w, params[-1], pool)
            if i < nstmts:
                stmt = w.statement(pool)
                if stmt is not None:
                    body.append(stmt)
        # the result leans on the names bound last, so most statements reach the output
        w.budget = rng.randint(6, 14)
        ret = self.result(w)
        used = {n.id for n in ast.walk(ast.parse(ret.text, mode="eval")) if isinstance(n, ast.Name)}
        if not used & set(w.scope):  # a constant result: lean on a value instead
            last = [n for n in reversed(w.recent) if n in w.scope] or params
            ret = E(f"({ret.text} + np.sum({last[0]}))", ())
        lines = [f"def f({', '.join(params)}):"]
        if rng.random() < 0.1:
            lines.append('    """A fuzzed array function."""')
        lines += ["    " + s for s in body]
        lines.append(f"    return {bare(ret.text)}")
        source = HEADER + "\n\n" + (helper_text + "\n\n" if helper_text else "") + "\n".join(lines) + "\n"
        return source, params, shapes

    def result(self, w: Writer) -> E:
        rng = w.rng
        recent = [n for n in reversed(w.recent) if n in w.scope][:2]
        r = rng.random()
        if recent and r < 0.7:
            name = recent[0]
            S = w.scope[name].shape
            x = w.expr(S, rng.randint(0, 2)) if rng.random() < 0.4 else w.name_expr(name)
            if S == ():
                return x if rng.random() < 0.5 else E(f"({x.text} + {w.expr((), 1).text})", ())
            return w.reduction_text(x, tuple(range(len(S))), len(S), False, ())
        return w.expr((), rng.randint(1, 3))

    def helper(self, w: Writer) -> str:
        rng = self.rng
        params = list(rng.choice(HELPER_PARAMS))
        kind = "red" if rng.random() < 0.3 else "ew"
        name = "h0"
        H = ("H",)  # every helper parameter: one abstract shape (the helper is elementwise)
        saved = w.scope, w.hot, w.recent
        w.scope = {p: Info(H, ("helper", p), True) for p in params}
        w.hot, w.recent = [rng.choice(params)], []
        w.ew_only = True
        lines = [f"def {name}({', '.join(params)}):"]
        for _ in range(rng.randint(0, 2)):
            target = rng.choice([n for n in ["w1", "w2", "k"] if n not in w.scope] or ["w1"])
            w.budget = rng.randint(4, 10)
            e = w.expr(H, rng.randint(1, 2))
            w.bind(target, E(e.text, H))
            lines.append(f"    {target} = {bare(e.text)}")
        w.budget = rng.randint(4, 10)
        e = w.expr(H, rng.randint(1, 3))
        # every parameter reaches the result, so its shape is the broadcast of the arguments' shapes
        text = e.text
        reach = {p for p in params if p in used_by(text, lines[1:], params)}
        for p in params:
            if p not in reach:
                text = f"({text} {rng.choice(['+', '*', '-'])} {p})"
        e = E(text, H)
        if kind == "red":
            fn = rng.choice(["np.sum", "np.mean", "np.sum"])
            lines.append(f"    return {fn}({bare(e.text)})")
        else:
            lines.append(f"    return {bare(e.text)}")
        w.ew_only = False
        w.scope, w.hot, w.recent = saved
        w.helpers.append((name, kind, len(params)))
        return "\n".join(lines) + "\n"

    def loop(self, w: Writer, seq: str, pool) -> list[str]:
        """`for t in range(T):` over the sequence parameter `seq` (as it is now), with a state carried
        across iterations and a few more statements that may read xs[t] and t."""
        rng = self.rng
        lines = []
        shape = w.scope[seq].shape  # xs may have been rebound since: loop over what it is now
        if not shape or shape[0] > 6:
            return []
        length, item = shape[0], shape[1:]
        # a state carried across iterations, initialised before the loop
        state = w.fresh_name(["hs", "state", "total"])
        init = rng.random()
        if item and init < 0.5:
            lines.append(f"{state} = np.zeros({shape_text(item)})")
            w.scope[state] = Info(item, next(w.tokens), True)
        else:
            lines.append(f"{state} = 0.0")
            w.scope[state] = Info((), next(w.tokens), False, True)
        head = rng.choice([f"range({length})", f"range(len({seq}))", f"range({seq}.shape[0])"])
        lines.append(f"for t in {head}:")
        token = w.scope[seq].token  # xs[t] is a view of xs
        w.loop = [E(f"{seq}[t]", item, token if item else None)]
        if item and len(item) == 2 and rng.random() < 0.3:
            w.loop.append(E(f"{seq}[t, 0]", item[1:], token))
        w.hot.append(state)
        w.loop_index = True
        body = []
        S = w.scope[state].shape
        w.budget = rng.randint(6, 14)
        # the state is updated from itself and xs[t] (scalar states get a reduction)
        update = w.expr(S if S else (), rng.randint(1, 3))
        op = rng.choice(["+", "*", "="])
        if op == "=":
            body.append(f"{state} = {bare(update.text)}")
        elif op == "*" and S:
            body.append(f"{state} = {state} * {update.text}")
        else:
            body.append(f"{state} = {state} + {update.text}")
        # `state = np.transpose(xs[t])` leaves state a view of xs: the same token, so no `state += ...` after
        token = update.base if op == "=" and update.base is not None else next(w.tokens)
        w.scope[state] = Info(S, token, bool(S), constant(update.text, w.consts()))
        w.loop_written = set()  # tokens of arrays the body updates in place (no alias of them may be bound)
        for _ in range(rng.randint(0, 2)):
            stmt = w.statement(pool, in_loop=True)
            if stmt is not None:
                body.append(stmt)
        w.loop = []
        w.loop_index = False
        # names bound only inside the loop stay bound after it (Python), as their last iteration's value
        lines += ["    " + s for s in body]
        return lines


# -- the sanity check (flatgen plays no part in it) -------------------------------------------------------


class _InPlaceToRebind(ast.NodeTransformer):
    """`a op= b` -> `a = a op b`: flatgen's reading of augmented assignment."""

    def visit_AugAssign(self, node):
        target = ast.Name(node.target.id, ast.Load())
        return ast.copy_location(ast.Assign([ast.Name(node.target.id, ast.Store())],
                                            ast.BinOp(target, node.op, node.value)), node)


def rebound(source: str) -> str:
    tree = _InPlaceToRebind().visit(ast.parse(source))
    return ast.unparse(ast.fix_missing_locations(tree))


def user_function(source: str, name: str = "f", filename: str = "<fuzz array program>"):
    ns: dict = {"__name__": "fuzz_arrays_program"}
    exec(compile(source, filename, "exec"), ns)
    return ns[name]


def copies(args):
    return tuple(np.array(a) if isinstance(a, np.ndarray) else a for a in args)


class _Watch:
    """numpy, with the kinks of the rows issue 13 added raising FloatingPointError near them: np.clip's
    argument within 1e-3 of a bound, np.std or a 2-norm below 1e-3 (sqrt at 0).  Central differences
    cannot check a gradient there, and test_fuzz_arrays.py's kink detection knows the lecture's routers only."""

    def __init__(self, module=np):
        self.module = module

    def __getattr__(self, name):
        value = getattr(self.module, name)
        return _Watch(value) if name == "linalg" else value

    @staticmethod
    def _near(values, what):
        if np.any(np.asarray(values) < 1e-3):
            raise FloatingPointError(f"near a kink of {what}")

    def clip(self, x, lo, hi):
        self._near(np.minimum(np.abs(np.subtract(x, lo)), np.abs(np.subtract(x, hi))), "np.clip")
        return np.clip(x, lo, hi)

    def std(self, x, *args, **kwargs):
        out = np.std(x, *args, **kwargs)
        self._near(out, "np.std")
        return out

    def norm(self, x, ord=None, axis=None, keepdims=False):
        out = np.linalg.norm(x, ord, axis, keepdims)
        if ord is None:  # (ord=1 is |x| summed: its kinks, at zeros, make the differences disagree: "steep")
            self._near(out, "np.linalg.norm")
        return out


def sane(source: str, args: tuple) -> bool:
    """Finite, |value| <= VALUE_LIMIT, no floating-point error inside, the same value as flatgen's
    reading of `op=`, at `args` and at points 1e-4 away (and no kink of _Watch nearby)."""
    f = user_function(source)
    g = user_function(rebound(source))
    f.__globals__["np"] = _Watch()
    points = [args]
    for i, x in enumerate(args):
        moved = list(args)
        moved[i] = x + 1e-4 * np.maximum(1.0, np.abs(x)) if np.ndim(x) else float(x) + 1e-4 * max(1.0, abs(float(x)))
        points.append(tuple(moved))
    with np.errstate(all="raise", under="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        for p in points:
            try:
                v = f(*copies(p))
                w = g(*copies(p))
            except (ArithmeticError, RuntimeWarning, TypeError):  # TypeError: `a += 0.5` into integers
                return False
            if np.shape(v) != () or not np.isfinite(v) or abs(v) > VALUE_LIMIT:
                return False
            if not np.array_equal(v, w):  # `op=` wrote into an array another name sees
                return False
    return True


def live_parameters(source: str, args: tuple) -> list[int]:
    """The parameters (by index) the output moves along: central differences along a fixed random
    direction (step 1e-4 * max(1, |x|) per element) that are finite and not zero."""
    f = user_function(source)
    directions = np.random.default_rng(0)
    live = []
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, x in enumerate(args):
            d = directions.uniform(0.5, 1.0, size=np.shape(x)) * directions.choice([-1.0, 1.0], size=np.shape(x))
            h = 1e-4 * np.maximum(1.0, np.abs(x))
            up, down = list(args), list(args)
            up[i] = x + h * d if np.ndim(x) else type(x)(float(x) + float(h * d))
            down[i] = x - h * d if np.ndim(x) else type(x)(float(x) - float(h * d))
            try:
                diff = float(f(*copies(up))) - float(f(*copies(down)))
            except (ArithmeticError, ValueError):
                continue
            if np.isfinite(diff) and diff != 0.0:
                live.append(i)
    return live


def annotate(source: str, shapes) -> str:
    """The source with every parameter of f annotated by its shape as a string: W: "(2, 3)"."""
    old = f"def f({', '.join(n for n, _ in shapes)}):"
    new = "def f(" + ", ".join(f'{n}: "{shape_text(s) if s else "()"}"' for n, s in shapes) + "):"
    assert old in source
    return source.replace(old, new, 1)


def generate(seed: int) -> Program:
    """The program for `seed`: deterministic, shape-correct, finite near its sample point."""
    rng = random.Random(seed)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        source, params, shapes = ProgramWriter(rng).write()
        scale = rng.choice([1.0, 1.0, 1.5, 0.5])
        args = []
        for s in shapes:
            if s == ():
                x = rng.uniform(-scale, scale)
                args.append(x if rng.random() < 0.5 else np.float64(x))
            else:
                args.append(uniform_array(rng, s, scale))
        if rng.random() < 0.2:  # ties and round values: max/min ties, abs and relu at 0, where on ==
            for a in args:
                if isinstance(a, np.ndarray) and a.size >= 2 and rng.random() < 0.6:
                    flat = a.reshape(-1)  # a view: writes go into a
                    r = rng.random()
                    if r < 0.3:  # a tie for the largest element
                        flat[0] = flat[1] = flat.max()
                    elif r < 0.6:
                        flat[rng.randrange(1, a.size)] = flat[0]
                    else:
                        flat[rng.randrange(a.size)] = rng.choice(ROUND_VALUES)
        args = tuple(args)
        if sane(source, args):
            live = live_parameters(source, args)
            if len(live) == len(params) or (live and attempt > ALL_LIVE_ATTEMPTS):
                break
    else:  # pragma: no cover
        raise RuntimeError(f"seed {seed}: no sane program in {MAX_ATTEMPTS} attempts")
    knobs = random.Random(f"flatgen array fuzz options {seed}")
    wrt = None
    if knobs.random() < 0.3:
        wrt = tuple(knobs.sample(params, knobs.randint(1, len(params))))
        if not set(wrt) & {params[i] for i in live}:  # a gradient of zeros only: add one that moves the output
            wrt += (params[live[0]],)
    style = knobs.choice(["lecture", "compact"])
    free = knobs.random() < 0.4
    decorator = knobs.choice(["example", "example", "shapes", "call"])
    cli = knobs.choice([None, "shapes", "shapes", "annotations"])
    cli_style = knobs.choice(["lecture", "compact"])
    cli_free = knobs.random() < 0.4
    shapes_t = tuple((p, tuple(s)) for p, s in zip(params, shapes))
    return Program(seed, source, tuple(params), shapes_t, args, wrt, style, free, decorator, cli, cli_style,
                   cli_free, attempt, annotate(source, shapes_t))


if __name__ == "__main__":  # python tests/fuzzgen_arrays.py SEED: print a program and its point
    import sys

    program = generate(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(program.source)
    print(f"# {program.describe()}  (attempts: {program.attempts})")
    with np.printoptions(precision=17):
        for p, a in zip(program.params, program.args):
            print(f"# {p} = {a!r}")
