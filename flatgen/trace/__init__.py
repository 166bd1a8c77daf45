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
    emitter.py     the equation list, the frames it is under, the statement traced, trial()
    views.py       which arrays a name may share, for numpy's in-place writes
"""

from .loops import UNROLL
from .tracer import Tracer

__all__ = ["Tracer", "UNROLL"]
