"""Name resolution: what a name in the traced code stands for.

A name is a local (a parameter, an assignment, a nested function: the scope `env`), else something
the module gives: an imported module or function (`np.exp` is `numpy.exp`, `exp` after `from math
import exp` is `math.exp`), a builtin, a helper, or a module-level numeric constant.  flatgen reads
the source, never the running module, so a module constant is traced from its one assignment (and
goes into the module's source hash).  A local that has no value here (assigned in one branch, first
assigned in a loop that may run zero times, a function) is refused with the reason.
"""

from __future__ import annotations

import ast

from ..errors import FlatgenError, NameResolutionError, ShapeError, UnsupportedSyntax
from ..graph import Atom, Lit
from ..primitives import BUILTINS, CONSTANTS
from .shared import Closure, LoopLocal, OneBranch, Part, Stale, is_number


class Names(Part):
    def __init__(self, t):
        super().__init__(t)
        self._constants: dict[str, Lit | None] = {}  # module constants read so far (None: being read)

    @property
    def constants(self) -> dict[str, object]:
        """The module-level constants the function read, by name, with the values flatgen read."""
        return {name: lit.value for name, lit in self._constants.items() if lit is not None}

    def lookup(self, name: str, node: ast.AST, env: dict[str, Atom]) -> Atom:
        if name in env:
            if isinstance(env[name], OneBranch):
                raise (ShapeError if self.t.decided_on_assumed else NameResolutionError)(
                    f"`{name}` is assigned in only one branch of the `if` on line {env[name].stmt.lineno}",
                    self.src.loc(node), f"give `{name}` a value before the `if`, or in both branches")
            if isinstance(env[name], Closure):
                raise NameResolutionError(f"`{name}` is a function, used here as a value", self.src.loc(node),
                                          f"call it: {name}(...)")
            if isinstance(env[name], LoopLocal):
                raise NameResolutionError(
                    f"`{name}` is first assigned inside the loop on line {env[name].stmt.lineno}, "
                    "which may run zero times", self.src.loc(node), f"give `{name}` a value before the loop")
            if isinstance(env[name], Stale) or (isinstance(env[name], tuple) and any(
                    isinstance(x, Stale) for x in env[name])):
                raise self.stale(env[name] if isinstance(env[name], Stale) else
                                 next(x for x in env[name] if isinstance(x, Stale)), self.src.loc(node))
            return env[name]
        return self.constant(self.dotted(node, env), node)

    def stale(self, s: Stale, where) -> UnsupportedSyntax:
        """The error for reading `s` (at the Loc `where`)."""
        held = f"`{s.name}` holds" if s.name != s.written else "it holds"
        return UnsupportedSyntax(
            f"{held} an array that numpy wrote into in place on line {s.node.lineno} (through `{s.written}`), "
            f"so in Python `{s.name}` has changed since it was made", where,
            f"read `{s.name}` before that write, or make it a copy when you take it: {s.name} = ....copy()")

    def is_module_path(self, node: ast.expr, env) -> bool:
        """Does `node` (`np.linalg`, `math`) name something of the module, not a local value?"""
        while isinstance(node, ast.Attribute):
            node = node.value
        return isinstance(node, ast.Name) and node.id not in env

    def dotted(self, node: ast.expr, env: dict[str, Atom]) -> str:
        """`np.exp` -> 'numpy.exp', `exp` (from math import exp) -> 'math.exp', a helper -> its name."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            raise UnsupportedSyntax("only calls of plain names are in flatgen's subset", self.src.loc(node),
                                    "call a numpy/math function or a module-level helper by name")
        root = node.id
        if root in env:
            return root
        self.src.check_bound_once(root, node)
        if root in self.src.imports:
            root = self.src.imports[root]
        elif root in BUILTINS and root not in self.src.functions and root not in self.src.assignments:
            root = BUILTINS[root]
        return ".".join([root, *reversed(parts)])

    def constant(self, name: str, node: ast.AST) -> Lit:
        """A module constant: np.pi and friends, or a module-level NAME = <numeric expression>."""
        if name in CONSTANTS:
            return Lit(CONSTANTS[name])
        if name in self._constants:
            if self._constants[name] is None:
                raise NameResolutionError(f"module-level `{name}` is defined through itself", self.src.loc(node))
            return self._constants[name]
        values = self.src.assignments.get(name)
        if not values and self.t.decided_on_assumed and name not in self.src.functions:
            raise ShapeError(f"name `{name}` has no value here, after a decision on a shape flatgen assumed "
                             "(a scalar)", self.src.loc(node),
                             "give the shapes: flatgen.flat(f, example=(...)), or call it first")
        if not values:
            if name in self.src.functions:
                msg, hint = f"`{name}` is a function, used here as a value", f"call it: {name}(...)"
            else:
                msg = f"name `{name}` is not a parameter, a local variable or a module-level numeric constant"
                hint = "pass it as a parameter, or define it at module level as NAME = <number>"
            raise NameResolutionError(msg, self.src.loc(node), hint)
        if len(values) > 1 or values[0] is None:
            raise NameResolutionError(
                f"module-level `{name}` is assigned more than once; flatgen reads the source, not the running module",
                self.src.loc(node), "give the constant one assignment at module level, or pass it as a parameter",
            )
        self._constants[name] = None  # a constant defined through itself is refused above
        with self.emit.trial() as trial:
            try:
                with self.emit.elsewhere():
                    value = self.expr(values[0], {}, None)
            except FlatgenError:
                value = None
            if not isinstance(value, Lit) or trial.emitted or not is_number(value.value):
                self._constants.pop(name, None)
                raise NameResolutionError(  # and the trial's equations are undone
                    f"module-level `{name}` is not a numeric constant flatgen can read", self.src.loc(node),
                    "module constants must be numbers (or arithmetic on numbers); pass anything else as a parameter",
                )
        self._constants[name] = value
        self.t.hashed.append(f"{name} = {value.value!r}")
        return value
