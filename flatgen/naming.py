"""Naming: every name in printed IR and generated code comes from here.

Rules, in the order names are handed out (so a user's name always wins):
1. parameters keep their names exactly (they are the generated functions' API), and so does the
   `seed=` keyword of a function with several outputs (unless a parameter is called seed);
2. the first value bound to a user's name keeps it (`s3`); later rebindings of that name get the
   next free suffix (`x`, `x_1`, ...), and every name the user wrote is reserved first, so a suffixed
   name never collides with one of theirs;
3. module-level names the generated code refers to (numpy's alias, support functions such as
   sigmoid) take their usual spelling unless the user's code uses it, then the next free suffix;
4. temporaries of nested expressions are t1, t2, ...; gradients are grad_<name>; contributions
   written inline are d1, d2, ... (seen only in printed IR); all skip taken names.
Names depend only on the order of equations, so output is the same on every run.
"""

from __future__ import annotations

import keyword

from .graph import ROLES, Graph, Var, is_loop


# Name temporaries, contributions and gradients in one loop per role where that gives the names the one
# loop over every variable gives (tests/test_naming.py turns it off to compare the two).
ONE_LOOP_PER_ROLE = True


class Namer:
    def __init__(self, taken=()):
        self.taken: set[str] = set(taken) | set(keyword.kwlist)
        self.names: dict[Var, str] = {}
        self.globals: dict[str, str] = {}
        self._next: dict[str, int] = {}  # per base: the lowest suffix that may still be free

    def fresh(self, base: str) -> str:
        """`base` if free, else base_1, base_2, ..."""
        if base not in self.taken:
            self.taken.add(base)
            return base
        return self._suffixed(base, f"{base}_")

    def numbered(self, prefix: str) -> str:
        """prefix1, prefix2, ...: the next free one."""
        return self._suffixed(prefix, prefix)

    def _suffixed(self, key: str, stem: str) -> str:
        i = self._next.get(stem, 1)  # suffixes below i are all taken: each call resumes where the last stopped
        name = f"{stem}{i}"
        while name in self.taken:
            i += 1
            name = f"{stem}{i}"
        self._next[stem] = i + 1
        self.taken.add(name)
        return name

    def _number(self, variables: list[Var], prefix: str) -> None:
        """names[v] = self.numbered(prefix) for each v in turn, in one loop."""
        taken, names = self.taken, self.names
        i = self._next.get(prefix, 1)
        for v in variables:
            name = f"{prefix}{i}"
            while name in taken:
                i += 1
                name = f"{prefix}{i}"
            i += 1
            taken.add(name)
            names[v] = name
        self._next[prefix] = i

    def __getitem__(self, var: Var) -> str:
        return self.names[var]

    @classmethod
    def for_graph(cls, graph: Graph, globals_: tuple[str, ...] = (), reserved: tuple[str, ...] = (),
                  extra: Graph | None = None) -> "Namer":
        """Names for every variable of `graph`, and aliases for the module-level names in `globals_`
        (which also avoid `reserved`, the module's own function names)."""
        variables, separate = _in_order(graph, extra)
        by_role: dict[str, list[Var]] = {role: [] for role in ROLES}
        for v in variables:
            by_role.setdefault(v.role, []).append(v)
        user = {v.hint for v in by_role["param"] + by_role["value"] if v.hint}
        self = cls(user)
        names = self.names
        for v in by_role["param"]:  # rule 1
            names[v] = v.hint
        claimed: set[str] = set(names.values())
        for v in by_role["seed"]:  # the gradient function's `seed=` keyword keeps its documented name
            if "seed" not in claimed:
                names[v] = "seed"
                claimed.add("seed")
        for v in by_role["value"]:  # rule 2
            if v.hint not in claimed:
                claimed.add(v.hint)
                names[v] = v.hint
            else:
                names[v] = self.fresh(v.hint)
        self.taken.update(reserved)
        for g in globals_:  # rule 3
            self.globals[g] = self.fresh(g.removesuffix("_math"))  # sigmoid_math is `sigmoid` in the module
        parent = _shared_names(graph)
        if ONE_LOOP_PER_ROLE and not by_role["tangent"] and len(by_role) == len(ROLES) and not separate:
            # t1, t2 ..., d1, d2 ..., grad_x ... and seed_1 are names of different forms: with no tangent
            # (named after the value it is of, where that value comes first), each role in one loop.
            # Not with a value function of its own (`extra`): a gradient may come before the value it is
            # of, and grad_<name> is given only after a value named earlier.
            self._number(by_role["temp"], "t")
            self._number(by_role["partial"], "d")
            variables = by_role["grad"] + by_role["seed"]

        for v in variables:  # rule 4
            if v in names:
                continue
            role = v.role
            if role == "temp":
                names[v] = self.numbered("t")
            elif role == "partial":
                names[v] = self.numbered("d")
            elif role == "grad":
                r = v
                while r in parent:  # _root(parent, v), inline: once per gradient
                    r = parent[r]
                if r in names:
                    # `grad_x += d` rebinds the name: the old value's only use is this accumulation.
                    names[v] = names[r]
                else:
                    base = names[v.of] if v.of is not None and v.of in names else "out"
                    names[v] = self.fresh(f"grad_{base}")
                    names.setdefault(r, names[v])
            elif role == "seed":  # the gradient function's keyword parameter, beside the user's
                names[v] = self.fresh("seed")
            elif role == "tangent":  # forward mode: after its value, dot_s3 (a tape's, dot_h_tape: below)
                if v.of in names:
                    names[v] = self.fresh(f"dot_{names[v.of]}")
            elif role != "tape":  # tapes after their values: h_tape (named below, once every value has its name)
                names[v] = self.fresh(v.hint or "v")
        for v in by_role["tape"]:
            names[v] = self.fresh(f"{names[v.of]}_tape")
        for v in by_role["tangent"]:  # a value the code does not keep (an HVP needs only the tangent of a
            if v not in names:        # gradient): the name it would have, its hint, or dot_v
                of = v.of
                base = names.get(of) or (f"grad_{names[of.of]}" if of.role == "grad" and of.of in names else None)
                names[v] = self.fresh(f"dot_{base or of.hint or 'v'}")
        return self


def _root(parent: dict, v):
    """The variable at the top of v's chain in a `_shared_names` forest: the one whose name v takes."""
    while v in parent:
        v = parent[v]
    return v


def _shared_names(graph: Graph) -> dict:
    """Variables that share one name, as a forest (child -> parent): an accumulation and what it
    updates (`grad_x += d`), a merge after an `if` and its then-branch value, a loop's gradient and
    its value at the end of the body."""
    parent: dict = {}

    def root(v):
        return _root(parent, v)

    updates = [e for e in graph.eqns if e.op.inplace and e.ins and isinstance(e.ins[0], Var)]
    made_by = {e.out: e for e in graph.eqns} if any(e.op.joins for e in updates) else {}
    for e in updates:
        g = made_by.get(e.ins[0]) if e.op.joins and e.out in parent else None
        if g is not None and g.op.zero_init and g.frames[: len(e.frames)] == e.frames:
            parent[root(g.out)] = root(e.out)  # the other branch's zeros: the same name (no copy)
            continue
        if e.params.get("carry"):
            a, b = root(e.ins[0]), root(e.out)  # the body's last value takes the loop's name
            if a is not b:
                parent[a] = b
        elif e.out not in parent and root(e.ins[0]) is not e.out:
            parent[e.out] = root(e.ins[0])
    return parent


def _in_order(graph: Graph, extra: Graph | None) -> tuple[list[Var], bool]:
    """Every variable of `graph` (and of `extra`, the value function's graph), in the order names are
    handed out: parameters, the seed, then as equations read and define them (a loop's header first);
    and whether `extra`'s equations were visited apart (they are not those `graph` starts with)."""
    seen: dict = {}  # in the order first seen (constants too: dropped at the end)
    add = seen.setdefault
    for p in graph.params:
        add(p)
    if graph.seed is not None:  # a keyword of the gradient function, used or not
        add(graph.seed)
    loops: set[int] = set()

    def visit(eqns):
        flat = []  # every variable as the equations read and define it, repeats included
        extend, append = flat.extend, flat.append
        for e in eqns:
            for f in e.frames:  # a loop's header, before its body: its index, bounds, condition, count
                if is_loop(f) and id(f) not in loops:
                    loops.add(id(f))
                    extend((f.index, *f.bounds, f.count))
                    extend(visit(f.head))
            extend(e.ins)
            append(e.out)
        return flat

    seen.update(dict.fromkeys(visit(graph.eqns)))  # each in the order first seen
    for o in graph.outs:
        add(o)
    separate = extra is not None and extra.eqns != graph.eqns[:len(extra.eqns)]  # Eqn compares by identity
    if separate:  # the value function's graph, when it differs
        seen.update(dict.fromkeys(visit(extra.eqns)))
    return [v for v in seen if type(v) is Var], separate
