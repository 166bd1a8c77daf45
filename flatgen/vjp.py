"""Vector-Jacobian products: functions whose output is an array (or a tuple holding arrays).

The backward pass of a layer never builds a Jacobian: it takes the upstream gradient of the output,
`dout` (the `seed`), of the output's shape, and sends it back statement by statement, as for a
scalar loss whose seed is 1.0.  This module holds what that adds around the reverse transform:

- `takes_seed`: whether a gradient function takes the upstream gradient as a parameter (an array
  output, several outputs; every output in the layer form);
- `check_seed`: the `seed=` a caller passes, checked against the outputs' shapes, with a clear
  FlatgenError when it is missing or does not fit.
"""

from __future__ import annotations


import numpy as np

from .errors import UsageError
from .graph import Graph


def values(graph: Graph) -> list:
    """The function's outputs: a forward graph's outs, the leading n_values of a gradient graph's."""
    return graph.outs if graph.n_forward is None else graph.outs[: graph.n_values]


def is_array(shape) -> bool:
    """An output of known, non-scalar shape: its upstream gradient cannot default to 1.0."""
    return shape not in ((), None)


def takes_seed(graph: Graph, layer: bool = False) -> bool:
    """Does the gradient function take the upstream gradients as a parameter?  Several outputs do (a
    tuple, one each), an array output does (its `dout`), and every output of the layer form does (its
    backward is called with the gradient from the layer above).  A lone scalar output: its seed is 1.0."""
    outs = values(graph)
    return layer or len(outs) > 1 or is_array(outs[0].shape)


def seed_required(graph: Graph) -> bool:
    """Must the caller give `seed`?  Yes when an output is an array: no default fits it (scalars: 1.0
    for a lone output, (1.0, 0.0, ...) for several, as before)."""
    return any(is_array(o.shape) for o in values(graph))


def seed_hint(graph: Graph) -> str:
    """How to write a seed for these outputs (for messages)."""
    def one(o):
        return f"np.ones({o.shape})" if is_array(o.shape) else "1.0"
    outs = values(graph)
    return f"seed={one(outs[0])}" if len(outs) == 1 else f"seed=({', '.join(one(o) for o in outs)})"


def check_seed(name: str, graph: Graph, seed, what: str = "seed=") -> object:
    """`seed` checked against `graph`'s outputs: one upstream gradient per output, each a real number
    or array of that output's shape (a list or tuple becomes an array).  Returns it ready to pass on:
    the array itself for one output, a tuple for several.  None stays None (the default), unless an
    output is an array, which has none."""
    outs = values(graph)
    hint = seed_hint(graph)
    if seed is None:
        if seed_required(graph):
            shapes = ", ".join(str(o.shape) for o in outs)
            raise UsageError(f"{name}() returns {'an array' if len(outs) == 1 else 'arrays'} of shape {shapes}: "
                             f"{what} must give the upstream gradient{'s' if len(outs) > 1 else ''} "
                             f"(dout, of the output's shape); there is no default", hint=hint)
        return None
    if len(outs) == 1:
        return _one(name, outs[0], seed, what, hint)
    if not (isinstance(seed, (tuple, list)) and len(seed) == len(outs)):
        raise UsageError(f"{what} gives one upstream gradient per output (a number or an array each); {name}() has "
                         f"{len(outs)} outputs, got {seed!r:.80}", hint=hint)
    return tuple(_one(name, o, s, f"{what}[{k}]", hint) for k, (o, s) in enumerate(zip(outs, seed)))


def _one(name: str, out, s, what: str, hint: str):
    try:
        array = np.asarray(s)
        kind = array.dtype.kind
    except (TypeError, ValueError):  # ragged lists and the like
        kind = "O"
    if kind not in "biuf":
        raise UsageError(f"{what} is the upstream gradient of an output of {name}(): a real number or an array "
                         f"of them, got {type(s).__name__}", hint=hint)
    shape = out.shape
    if shape is not None and array.shape != shape:
        raise UsageError(f"{what} has shape {array.shape}; the output of {name}() it is the upstream gradient "
                         f"of has shape {shape}", hint=hint)
    return array if isinstance(s, (list, tuple)) else s
