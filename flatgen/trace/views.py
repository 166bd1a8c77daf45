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


class Views:
    def __init__(self, src: Source):
        self.src = src
        self.view_of: dict[Var, Var] = {}  # a view (x[0], x.T, a reshape, an alias) -> the array it shows
        self.shares: dict[Var, set[Var]] = {}  # a value chosen at run time -> the arrays it may be
        self.callers: list = []  # the callers' scopes while a helper is inlined: they see its arguments' arrays
        self.defaults: set[Var] = set()  # helper parameters' default values (Python makes each one once)

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
        """The arrays `v` may be, or be a view of."""
        base = self.view_of.get(v, v)
        found = {base}
        for b in (v, base):
            for other in self.shares.get(b, ()):
                found |= self.bases(other)
        return found

    def writable(self, name: str, env, node) -> None:
        """numpy writes `a += y` and `a[i] = v` into a's array: flatgen's new version of `a` means the
        same only when no other name sees that array (the same array, a view of it, or what it views).
        (A parameter updated in place changes the caller's array in Python; flatgen's modules never
        write into their arguments.)"""
        v = env.get(name)
        if not isinstance(v, Var):
            return
        bases = self.bases(v)
        hint = f"make a new array instead: {name} = {name} + ... (or copy it: np.zeros(...) + {name})"
        if bases & self.defaults:
            raise UnsupportedSyntax(
                f"numpy would write into `{name}` in place here, and `{name}` is a default value: Python makes it "
                "once, so every call would see the writes of the calls before", self.src.loc(node), hint)
        for scope, whose in [(env, ""), *((c, " (in the caller)") for c in reversed(self.callers))]:
            for other, w in scope.items():
                if (other != name or whose) and isinstance(w, Var) and self.bases(w) & bases:
                    raise UnsupportedSyntax(
                        f"numpy would write into `{name}` in place here, and `{other}`{whose} sees the same array",
                        self.src.loc(node), hint)
