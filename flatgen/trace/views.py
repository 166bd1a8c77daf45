"""Views: which arrays a name may share, so that a write numpy makes in place is refused when another
name would see it.

numpy writes `a += y` and `a[i] = v` into a's own array.  flatgen traces them as a new version of
`a` (a copy with the write in it), which means the same only when no other name sees that array: the
same array under another name, a view of it (`x[0]`, `x.T`, a reshape), what it is a view of, a
value that is one of several arrays at run time (a branch's value, `a if c else b`), a caller's
array while a helper is inlined, or a helper's default value (Python makes it once, for all calls).
"""

from __future__ import annotations

from ..errors import UnsupportedSyntax
from ..graph import Var
from ..parse import Source
from ..primitives import Op
from .shared import Stale


class Views:
    def __init__(self, src: Source):
        self.src = src
        self.view_of: dict[Var, Var] = {}  # a view (x[0], x.T, a reshape, an alias) -> the array it shows
        self.shares: dict[Var, set[Var]] = {}  # a value chosen at run time -> the arrays it may be
        self.callers: list = []  # the callers' scopes while a helper is inlined: they see its arguments' arrays
        self.defaults: set[Var] = set()  # helper parameters' default values (Python makes each one once)
        self.emit = None  # the tracer's emitter (set by the tracer): where each in-place write happens
        self.writes: list[tuple[frozenset, int]] = []  # in-place writes: (the arrays written, equations before)

    def made(self, out: Var, op: Op, ins: tuple) -> None:
        """`out = op(ins)` was emitted: unless the op makes a new array, `out` is a view of its first input
        (an element is a copy)."""
        if not (op.expr.fresh or op.writes_item) and ins and isinstance(ins[0], Var) and out.shape != ():
            self.view_of[out] = self.view_of.get(ins[0], ins[0])

    def default(self, value) -> None:
        """`value` is a helper parameter's default value."""
        if isinstance(value, Var):
            self.defaults.add(self.view_of.get(value, value))

    def renamed(self, old: Var, new: Var) -> None:
        """The equations computing `old` compute `new` now (a loop's body retargeted to its state)."""
        if old in self.view_of:
            self.view_of[new] = self.view_of.pop(old)

    def may_share(self, out, *values) -> None:
        """`out` is one of `values` at run time (a branch's value, a conditional expression): it may
        share its array with any of theirs, for the in-place writes `writable` checks."""
        if isinstance(out, Var) and out.shape != ():
            self.shares[out] = set().union(*(self.bases(v) for v in values if isinstance(v, Var))) - {out}

    def bases(self, v: Var) -> set:
        """The arrays `v` may be, or be a view of (each value visited once: branches merged in a loop
        share along long chains)."""
        found, seen, todo = set(), set(), [v]
        while todo:
            x = todo.pop()
            if x in seen:
                continue
            seen.add(x)
            base = self.view_of.get(x, x)
            found.add(base)
            for b in (x, base):
                todo.extend(self.shares.get(b, ()))
        return found

    def writable(self, name: str, env, node, lazy: bool = True) -> None:
        """numpy writes `a += y` and `a[i] = v` into a's array: flatgen's new version of `a` means the
        same only when no other name sees that array (the same array, a view of it, or what it views).

        Refused at once where Python's write would reach outside the function's own arrays: a
        parameter (the caller's array; flatgen's modules never write into their arguments), a
        helper's default value, a caller's name while a helper is inlined.  Another local name that
        sees the array (`prev = h[t - 1]` before `h[t] = ...`) changes with it in Python: with `lazy`
        it becomes `Stale` (shared.py), refused where it is read again, and fine when it is not
        (rebound first, as `prev` is in the next iteration); without, it is refused here."""
        v = env.get(name)
        if not isinstance(v, Var):
            return
        bases = self.bases(v)
        self.writes.append((frozenset(bases), len(self.emit.eqns) if self.emit is not None else 0))
        hint = f"make a new array instead: {name} = {name} + ... (or copy it: np.zeros(...) + {name})"
        if bases & self.defaults:
            raise UnsupportedSyntax(
                f"numpy would write into `{name}` in place here, and `{name}` is a default value: Python makes it "
                "once, so every call would see the writes of the calls before", self.src.loc(node), hint)
        stale = []
        for scope, whose in [(env, ""), *((c, " (in the caller)") for c in reversed(self.callers))]:
            for other, w in list(scope.items()):
                if other == name and not whose:
                    continue
                if isinstance(w, tuple):  # a list or tuple holding the array: its item changes in Python
                    if any(isinstance(x, Var) and self.bases(x) & bases for x in w):
                        stale.append((other, w, whose))
                    continue
                if not (isinstance(w, Var) and self.bases(w) & bases):
                    continue
                if whose or not lazy or any(b.role == "param" for b in bases):  # the caller's array
                    raise UnsupportedSyntax(
                        f"numpy would write into `{name}` in place here, and `{other}`{whose} sees the same array",
                        self.src.loc(node), hint)
                stale.append((other, w, whose))
        for other, w, whose in stale:
            if whose:
                raise UnsupportedSyntax(
                    f"numpy would write into `{name}` in place here, and `{other}`{whose} holds the same array",
                    self.src.loc(node), hint)
            if isinstance(w, tuple):
                items = tuple(Stale(other, name, node) if isinstance(x, Var) and self.bases(x) & bases else x
                              for x in w)
                env[other] = type(w)(items) if type(w) is not tuple else items
            else:
                env[other] = Stale(other, name, node)
