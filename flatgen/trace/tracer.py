"""The façade: `Tracer` holds what the whole trace shares and composes the parts that walk the AST.

`Tracer(src, unroll).trace(fn, shapes, assumed)` is all the rest of flatgen uses (and `hashed`, the
sources the result depends on, for the module's header).  The parts (shared.py) reach each other
through the tracer: its attributes below are the interface between them.
"""

from __future__ import annotations

import ast

from .. import fence
from ..graph import Graph, Var
from ..parse import Source
from .branches import Branches
from .builtins import Builtins
from .calls import Calls
from .dicts import Dicts
from .emitter import Emitter
from .expressions import Expressions
from .flow import Flow
from .lists import Lists, nested
from .loops import UNROLL, Loops
from .names import Names
from .sequences import Sequences
from .shared import segment
from .statements import Statements
from .views import Views


class Tracer:
    def __init__(self, src: Source, unroll: int = UNROLL):
        self.src = src
        self.unroll = unroll  # unroll constant loops up to this many iterations (0: keep every loop)
        self.ints: set[Var] = set()  # integer values: loop indices, loop-bound parameters, arithmetic on them
        self.floats: set[str] = set()  # parameters annotated float
        self.assumed: set[str] = set()  # parameters whose shape nobody gave (scalars by default)
        self.decided_on_assumed = False  # a trace-time decision read an assumed shape (`if v.ndim == 1:`)
        self.hashed: list[str] = []  # sources the result depends on (for the module's header)
        self.emit = Emitter(src)  # the equations, the frames they run under, the statement being traced
        self.views = Views(src)  # which arrays a name may share (for numpy's in-place writes)
        self.views.emit = self.emit
        self.statements = Statements(self)
        self.branches = Branches(self)
        self.loops = Loops(self)
        self.expressions = Expressions(self)
        self.calls = Calls(self)
        self.names = Names(self)
        self.flow = Flow(self)
        self.sequences = Sequences(self)
        self.lists = Lists(self)
        self.builtins = Builtins(self)
        self.dicts = Dicts(self)
        self._traced: ast.FunctionDef | None = None
        self._written: set[str] | None = None

    def trace(self, fn: ast.FunctionDef, shapes: dict | None = None, assumed: set = frozenset()) -> Graph:
        """`shapes`: parameter name -> shape tuple (() for a scalar) or None (unknown); default scalar.
        `assumed`: parameters whose shape nobody gave (scalars by default)."""
        fence.check_function(self.src, fn)
        self.hashed.append(segment(self.src, fn))
        self._traced, self._written = fn, None  # the names it writes: found when a hidden index needs them
        shapes = shapes or {}
        self.assumed = set(assumed)
        self.decided_on_assumed = False
        params, env = self.dicts.params(fn, shapes)  # a dict parameter: one per key (dicts.py)
        self.floats = {a.arg for a in fn.args.posonlyargs + fn.args.args
                       if a.annotation is not None and ast.unparse(a.annotation) == "float"}
        self.calls.stack.append(fn.name)  # a helper calling back into the target is recursion too
        out = self.statements.body(fn, env, prefix="", result_hint=fn.name)
        self.calls.stack.pop()
        out, structure = nested(out)  # `return loss, [h1, h2]`: the outputs flat, their structure kept
        outs = self.statements.outputs(fn, out)
        ints = frozenset(p for p in params if p in self.ints)
        graph = Graph(fn.name, params, self.emit.eqns, outs, ints=ints)
        if structure is not None:
            graph.structure = structure  # the decorator gives the values back in it (lists.rebuild)
        return graph

    def index_hint(self) -> str:
        """A name for the index of a loop kept as a loop over items (`for v in X:` is `for i in ...: v = X[i]`):
        one the function does not use."""
        return next((h for h in ("i", "j", "k", "idx") if h not in self.written), "idx")

    @property
    def written(self) -> set[str]:
        """Every name the traced function uses or writes, and its parameters (hidden loop indices avoid
        them): a walk of the whole function, so only when a hidden index is named."""
        if self._written is None:
            fn = self._traced
            self._written = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)} | {
                a.arg for a in fn.args.posonlyargs + fn.args.args} if fn is not None else set()
        return self._written
