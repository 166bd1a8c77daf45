"""Second order: Hessian-vector products by forward mode over the reverse-mode gradient graph.

    H v = d/de grad f(x + e v) at e = 0

The gradient graph (forward equations, then the backward pass) is lowered to the table's primitives
(flatgen/lower.py: every rule and bookkeeping op written as equations with rules of their own), then
flatgen/jvp.py pushes the tangent `v` through it, equation by equation.  Forward over reverse, as
JAX's `jvp(grad(f))`: one pass, about the cost of two gradients, and exact: no step size.  Reverse over
reverse would need rules for a rolled loop's tapes (lower.py's docstring says why it has none); forward
mode handles them naturally, a tangent tape beside each tape, the tangent pushed and popped beside its
value.

`hessian` builds the dense matrix from n products with the unit vectors, for small n only.
"""

from __future__ import annotations

import numpy as np

from .errors import UsageError
from .graph import Graph, Var
from .jvp import jvp_graph
from .lower import LoweringError, lower_graph

# the dense Hessian: at most this many differentiated numbers (n products, an n x n matrix)
HESSIAN_LIMIT = 2000


def hvp_graph(grad: Graph, wrt: list[Var]) -> Graph:
    """The graph of `<name>_hvp`: the gradient graph's parameters, then a vector block per parameter of
    wrt (their tangents); its outputs, the Hessian times that vector, one block per parameter of wrt."""
    if grad.seed is not None:
        raise UsageError(f"{grad.name}() has {'several outputs' if grad.n_values > 1 else 'an array output'}: "
                         "Hessian-vector products are of a scalar function",
                         hint="return one scalar (the loss) from the function to differentiate twice")
    try:
        lowered = lower_graph(grad)
    except LoweringError as e:
        raise UsageError(f"second order of {grad.name}(): {e}",
                         hint="give the parameters' shapes (example=, shapes=, --shape): lowering needs them") from None
    n = grad.n_values
    return jvp_graph(lowered, wrt, outs=list(grad.outs[n:]), values=[], name=grad.name)


def hessian(hvp, sizes: list[tuple], limit: int = HESSIAN_LIMIT) -> np.ndarray:
    """The dense Hessian over the flattened parameters (in wrt order), one product per unit vector:
    `hvp(vectors)` gives H v as blocks of the parameters' shapes."""
    n = sum(int(np.prod(s)) for s in sizes)
    if n > limit:
        raise UsageError(f"the Hessian of {n} numbers would take {n} products and {n * n:,} entries (the limit is "
                         f"{limit} numbers)", hint="use .hvp(*args, vectors=...): the product with one vector, "
                                                   "in about the time of two gradients")
    H = np.zeros((n, n))
    for k in range(n):
        unit = np.zeros(n)
        unit[k] = 1.0
        H[:, k] = np.concatenate([np.ravel(b) for b in hvp(split(unit, sizes))]) if n else 0.0
    return H


def split(flat: np.ndarray, sizes: list[tuple]) -> tuple:
    """A flat vector as blocks of these shapes (a float for a scalar)."""
    out, k = [], 0
    for s in sizes:
        m = int(np.prod(s))
        block = flat[k:k + m]
        out.append(float(block[0]) if s == () else block.reshape(s))
        k += m
    return tuple(out)
