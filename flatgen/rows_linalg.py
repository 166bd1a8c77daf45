"""Rows of the primitive table for linear algebra: matrix products of every rank, einsum, the matrix functions.

Each gradient is the textbook one, never a Jacobian: a product sends the upstream gradient times the
other operand, transposed (summed over the batch axes an operand was broadcast along); einsum's
gradients are einsums with the subscripts permuted; the inverse's is -A^-T G A^-T, solve's one more
solve (with A transposed), det's det * A^-T, slogdet's A^-T.

`matmul_row` and `einsum_row` pick a row (and its params) from the operands' shapes, for the tracer.
"""

from __future__ import annotations

import functools
import string

from . import shapes as S
from .expr import Expr
from .op import Op, prim

# the rows of a @ b for operands of ranks up to 2 (primitives.py)
MATMUL_BY_RANK = {(2, 2): "matmul", (2, 1): "matmul_mv", (1, 2): "matmul_vm", (1, 1): "dot"}


def _product(name: str, rule_a: str, rule_b: str, params: dict) -> Op:
    return prim(name, "a b", "a @ b", (rule_a, rule_b), "matmul", (), S.matmul_nd, params, elementwise=False,
                tangent="multilinear")


# Batched products (an operand of rank 3 or more: a stack of matrices).  `swap` swaps the last two axes
# (np.transpose with axes), `lead` the batch axes a 2-D or 1-D operand was broadcast along.  The tracer
# always sets them (matmul_row); the defaults are None so that no value is dropped as a default when rendered.
_SWAP, _LEAD = {"swap_a": None, "swap_b": None}, {"lead": None}
LINALG_ROWS = [
    # a and b stacks of the same number of matrices
    _product("matmul_batch", "g @ np.transpose(b, swap_b)", "np.transpose(a, swap_a) @ g", _SWAP),
    # a stack times one matrix (x @ W on a batch): W's gradient sums over the stack
    _product("matmul_bm", "g @ b.T", "np.sum(np.transpose(a, swap_a) @ g, axis=lead)", _SWAP | _LEAD),
    _product("matmul_mb", "np.sum(g @ np.transpose(b, swap_b), axis=lead)", "a.T @ g", _SWAP | _LEAD),
    # a stack times a vector, a vector times a stack
    _product("matmul_bv", "np.expand_dims(g, -1) * b", "np.sum(np.expand_dims(g, -1) * a, axis=lead)", _LEAD),
    _product("matmul_vb", "np.sum(b * np.expand_dims(g, -2), axis=lead)",
             "np.expand_dims(a, -1) * np.expand_dims(g, -2)", _LEAD),
    # stacks whose batch axes broadcast: each gradient summed back over the axes its operand was broadcast along
    _product("matmul_bcast",
             "np.reshape(np.sum(g @ np.transpose(b, swap_b), axis=sum_a, keepdims=True), np.shape(a))",
             "np.reshape(np.sum(np.transpose(a, swap_a) @ g, axis=sum_b, keepdims=True), np.shape(b))",
             _SWAP | {"sum_a": None, "sum_b": None}),
    # The trace sends the gradient to the diagonal: d tr(A) / dA is the identity (n x m for a non-square A),
    # as a mask (times ones in out's type: g may be the seed 1.0, a Python float).
    prim("trace", "a", "np.trace(a)", ("g * np.ones_like(out) * (np.eye(n, m) == 1)",), "trace", ["numpy.trace"],
         S.trace, {"n": 0, "m": 0},
         elementwise=False, tangent="linear"),
    # The matrix functions.
    # (tangents: d inv(A) = -inv(A) dA inv(A); d solve(A, b) = solve(A, db - dA x); d det(A) = det(A) tr(A^-1 dA))
    prim("inv", "a", "np.linalg.inv(a)", ("-(out.T @ g @ out.T)",), "inv", ["numpy.linalg.inv"], S.inv,
         elementwise=False, tangent=("-(out @ t @ out)",)),
    prim("solve",   "a b", "np.linalg.solve(a, b)", ("-np.outer(np.linalg.solve(a.T, g), out)",
                                                     "np.linalg.solve(a.T, g)"), "solve", ["numpy.linalg.solve"],
         S.solve, elementwise=False, tangent=("-np.linalg.solve(a, t @ out)", "np.linalg.solve(a, t)")),
    prim("solve_m", "a b", "np.linalg.solve(a, b)", ("-(np.linalg.solve(a.T, g) @ out.T)",
                                                     "np.linalg.solve(a.T, g)"), "solve", (), S.solve,
         elementwise=False, tangent=("-np.linalg.solve(a, t @ out)", "np.linalg.solve(a, t)")),
    prim("det", "a", "np.linalg.det(a)", ("g * out * np.linalg.inv(a).T",), "det", ["numpy.linalg.det"], S.det,
         elementwise=False, tangent=("out * np.sum(np.linalg.inv(a).T * t)",)),
    # sign, logabsdet = np.linalg.slogdet(A): two rows, the sign piecewise constant.
    prim("slogdet", "a", "np.linalg.slogdet(a)[1]", ("g * np.linalg.inv(a).T",), "slogdet", ["numpy.linalg.slogdet"],
         S.det, elementwise=False, tangent=("np.sum(np.linalg.inv(a).T * t)",)),
    prim("slogdet_sign", "a", "np.linalg.slogdet(a)[0]", (None,), "step", (), S.det, elementwise=False),
]

LINALG_METHODS = {"dot": "numpy.dot", "trace": "numpy.trace"}


def _axes(n: int):
    """Axes 0..n-1 as an axis param: an int for one."""
    return 0 if n == 1 else tuple(range(n))


def _swap(nd: int) -> tuple:
    """The axes of np.transpose that swap the last two of `nd`."""
    return tuple(range(nd - 2)) + (nd - 1, nd - 2)


def matmul_row(a: S.Shape, b: S.Shape) -> tuple[str, dict]:
    """The row (and its params) for `a @ b` with operands of these shapes."""
    if a is None or b is None or not a or not b or (len(a) <= 2 and len(b) <= 2):
        return MATMUL_BY_RANK.get((len(a or ()), len(b or ())), "matmul"), {}  # the shape rule says what is wrong
    na, nb = len(a), len(b)
    if nb == 1:
        return "matmul_bv", {"lead": _axes(na - 1)}
    if na == 1:
        return "matmul_vb", {"lead": tuple(range(nb - 2)) + (nb - 1,)}
    if nb == 2:
        return "matmul_bm", {"swap_a": _swap(na), "lead": _axes(na - 2)}
    if na == 2:
        return "matmul_mb", {"swap_b": _swap(nb), "lead": _axes(nb - 2)}
    if a[:-2] == b[:-2]:
        return "matmul_batch", {"swap_a": _swap(na), "swap_b": _swap(nb)}
    out = S.matmul_nd(a, b)
    sums = []
    for x in (a, b):
        lead, ones = S.unbroadcast_axes(x[:-2], out[:-2])
        sums.append(lead + tuple(len(lead) + i for i in ones))
    return "matmul_bcast", {"swap_a": _swap(na), "swap_b": _swap(nb), "sum_a": sums[0], "sum_b": sums[1]}


def dot_subscripts(na: int, nb: int) -> str:
    """np.dot of an N-D a and a b of 3 or more dimensions (not a matrix product): the sum over a's last
    axis and b's second-to-last, as einsum subscripts."""
    letters = iter(string.ascii_lowercase)
    a = "".join(next(letters) for _ in range(na - 1))
    b = "".join(next(letters) for _ in range(nb - 2))
    k, m = next(letters), next(letters)
    return f"{a}{k},{b}{k}{m}->{a}{b}{m}"


# -- einsum --------------------------------------------------------------------------------------------


def parse_einsum(spec: str, shapes: tuple) -> tuple[list[str], str, dict[str, int]]:
    """(input subscripts, output subscripts, the size of each letter); ValueError for what flatgen does
    not take (implicit output, `...`, letters without a size of their own)."""
    spec = spec.replace(" ", "")
    if "->" not in spec:
        raise ValueError("np.einsum needs its output written out: 'ij,jk->ik', not 'ij,jk'")
    if "." in spec:
        raise ValueError("np.einsum with `...` is not in flatgen's subset: write every axis's letter")
    lhs, out = spec.split("->")
    ins = lhs.split(",")
    if not all(s.isalpha() and s.isascii() or s == "" for s in ins + [out]):
        raise ValueError(f"np.einsum subscripts {spec!r}: one letter per axis")
    if len(ins) != len(shapes):
        raise ValueError(f"np.einsum subscripts {spec!r} name {len(ins)} operand(s), the call passes {len(shapes)}")
    sizes: dict[str, int] = {}
    for sub, shape in zip(ins, shapes):
        if shape is None:
            raise ValueError("np.einsum needs known shapes here: give example shapes (see README, Shapes)")
        if len(sub) != len(shape):
            raise ValueError(f"np.einsum subscripts {sub!r} for an operand of shape {shape}")
        for c, n in zip(sub, shape):
            if sizes.setdefault(c, n) != n:
                raise ValueError(f"np.einsum: axis {c!r} has sizes {sizes[c]} and {n} (flatgen broadcasts none here)")
    if len(set(out)) != len(out) or set(out) - set(sizes):
        raise ValueError(f"np.einsum output {out!r}: each letter once, and from the inputs")
    return ins, out, sizes


def einsum_row(spec: str, shapes: tuple) -> tuple[str, object]:
    """What np.einsum(spec, *operands) is: ("einsum", its Op), or for one operand whose letters are only
    relabelled ("ij->ji", "ij->ij"), ("transpose", axes): numpy returns a view then, as np.transpose does."""
    ins, out, sizes = parse_einsum(spec, shapes)
    if len(ins) == 1 and len(set(ins[0])) == len(ins[0]) == len(out):
        return "transpose", tuple(ins[0].index(c) for c in out)
    return "einsum", einsum_op(",".join(ins) + "->" + out, tuple(tuple(s) for s in shapes))


def _einsum_rule(ins: list[str], out: str, i: int, sizes: dict, slots: tuple) -> str:
    """The gradient of operand i: the upstream gradient (subscripts `out`) contracted with the other
    operands, into operand i's subscripts.  A letter repeated in operand i (a diagonal) is written once
    and tied to a fresh one by an identity matrix; a letter only operand i has (summed there) comes from
    a vector of ones: the gradient is the same along it."""
    free = (c for c in string.ascii_letters if c not in sizes)
    target, extra = [], []
    for c in ins[i]:
        if c in target:
            d = next(free)
            extra.append((c + d, f"(np.eye({sizes[c]}) == 1)"))  # booleans: the operands' float type stays
            c = d
        target.append(c)
    others = [(s, slots[j]) for j, s in enumerate(ins) if j != i]
    operands = [(out, "g")] * bool(out) + others + extra
    known = set("".join(s for s, _ in operands))
    operands += [(c, f"np.ones({sizes[c]}, np.bool_)") for c in dict.fromkeys(target) if c not in known]
    sub = ",".join(s for s, _ in operands) + "->" + "".join(target)
    product = f"np.einsum({sub!r}, {', '.join(t for _, t in operands)})"
    if len(operands) == 1 and operands[0][0] == "".join(target):  # one operand, as it is: no einsum needed
        product = operands[0][1]
    if out:
        return product
    # A number out: g (the seed 1.0 may be a Python float, which einsum would make float64) multiplies the
    # einsum of the rest, in out's float type when the rest are masks (ones, identities) only.
    if not others:
        g = "g * np.ones_like(out)"
        return f"{g} * {product}" if extra else f"np.broadcast_to({g}, np.shape({slots[i]}))"
    return f"g * {product}"


@functools.cache
def einsum_op(spec: str, shapes: tuple) -> Op:
    """The row of np.einsum(spec, ...) for operands of these shapes (its rules' ones and identities
    have their sizes), one per spec and shapes, like index_at's rows."""
    ins, out, sizes = parse_einsum(spec, shapes)
    slots = tuple(string.ascii_lowercase[:len(ins)]) if len(ins) <= 6 else tuple(f"x{k}" for k in range(len(ins)))
    forward = Expr(f"np.einsum({spec!r}, {', '.join(slots)})", slots)
    if len(ins) == 1 and not set(ins[0]) - set(out):
        forward.fresh = False  # a diagonal of one operand, nothing summed: numpy returns a view
    rules = tuple(Op(f"einsum.d{slots[i]}", Expr(_einsum_rule(ins, out, i, sizes, slots), ("g", "out", *slots)),
                     "einsum", elementwise=False) for i in range(len(ins)))
    shape = tuple(sizes[c] for c in out)
    return Op("einsum", forward, "einsum", rules, shape=lambda *_, **__: shape, elementwise=False,
              tangent="multilinear")

