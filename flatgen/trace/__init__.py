"""Trace: walk a fenced function's AST into a graph of equations.

The function is read, never run.  Each statement becomes one or more equations (one per operation,
nested subexpressions get temporaries); rebinding a name makes a new variable (SSA inside, the
user's name kept as a hint outside); calls of module-level helpers are inlined with their locals
prefixed by the helper's name; `for i in range(N)` with a constant N is unrolled; operations on
constants only are folded at trace time.  Every variable gets its shape (when the parameters'
shapes are known), so the reverse transform can write out exactly the reductions it needs.

One walk, split by concern; each file is one part, and `Tracer` (tracer.py) composes them:

    tracer.py      the façade: Tracer(src, unroll).trace(fn, shapes, assumed) -> Graph
    shared.py      Part, the base of each part; the markers for names without a value here
    statements.py  a function body, assignments, unpacking, augmented assignments, item writes
    branches.py    an `if` decided now (only the taken branch) or on data (both, merged after)
    loops.py       `for` unrolled or kept rolled, `while`; a loop's state variables
    expressions.py one equation per operation, constant folding, shapes, indexing
    calls.py       numpy/math calls mapped onto table rows; helpers and closures inlined
    names.py       name resolution: locals, imports, builtins, module constants
    flow.py        blocks that leave early: return in branches, continue, break (the rest of a block
                   goes with each side of an `if` that has an exit; a loop's `running` flag)
    sequences.py   what `for v in ...` iterates: ranges, lists, tuples, array rows, zip, enumerate, reversed
    lists.py       lists built, appended to and read; comprehensions; a run-time sum as a rolled loop
    builtins.py    len, sum, max, min, list, tuple; print dropped, assert checked or kept
    dicts.py       dict parameters: one parameter per key (its ints and strings: settings)
    emitter.py     the equation list, the frames it is under, the statement traced, trial()
    views.py       which arrays a name may share, for numpy's in-place writes
"""

from .loops import UNROLL
from .tracer import Tracer

__all__ = ["Tracer", "UNROLL"]
