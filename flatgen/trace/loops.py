"""Loops: `for i in range(...)` unrolled when short and constant, else kept as a loop; `while` kept.

An unrolled loop traces its body once per iteration with the index a constant.  A rolled loop (a
bound known only at run time, a long constant loop, a `while` on data) traces its body once, each
equation under the `Loop` frame.  A name the body assigns that has a value before the loop is the
loop's state: one variable, defined before the loop (by the equation that made it, or a copy) and
last in the body (by the equation that computes it there, retargeted, or a copy), read by the next
iteration and after the loop.  A name first assigned in the body has no value after the loop (it
may run zero times: `LoopLocal`).  Loop indices, and the parameters used as bounds, are integers
(`t.ints`): never differentiated.
"""

from __future__ import annotations

import ast

from ..errors import ShapeError, UnsupportedSyntax
from ..graph import Lit, Loop, Var, frame_reads, is_loop
from ..primitives import COPY, COPY_ARRAY
from .emitter import replace
from .shared import Closure, LoopLocal, OneBranch, Part, Stale, is_int, is_number

MAX_UNROLL = 100_000
UNROLL = 16  # constant loops of at most this many iterations are unrolled; longer ones stay loops


class Loops(Part):
    def __init__(self, t):
        super().__init__(t)
        self.carriers: dict = {}  # loop being traced -> the variables it updates

    def for_statement(self, stmt: ast.For, env, prefix: str) -> None:
        t = self.t
        for node in ast.walk(stmt.iter):  # a parameter in a bound is an integer: range(n - 1)
            v = env.get(node.id) if isinstance(node, ast.Name) else None
            if isinstance(v, Var) and v.role == "param" and v.shape == () and v.hint not in t.floats:
                t.ints.add(v)
        bounds = [self.expr(a, env, None) for a in stmt.iter.args]
        if all(isinstance(b, Lit) for b in bounds):
            if not all(is_int(b.value) for b in bounds):
                raise UnsupportedSyntax("range() bounds must be integers", self.src.loc(stmt.iter),
                                        "loop a whole number of times, e.g. for t in range(4)")
            steps = range(*(b.value for b in bounds))
            if len(steps) <= min(t.unroll, MAX_UNROLL):  # unrolled
                for i in steps:
                    env[stmt.target.id] = Lit(i)
                    with self.emit.iteration(f"{stmt.target.id} = {i}"):
                        for s in stmt.body:
                            self.statement(s, env, prefix)
                return
        self.rolled(stmt, env, prefix, bounds)

    def while_statement(self, stmt: ast.While, env, prefix: str) -> None:
        updated = _assigned(stmt.body)  # a condition on what the loop updates is decided as it runs
        reads = {n.id for n in ast.walk(stmt.test) if isinstance(n, ast.Name)}
        known = None if reads & set(updated) else self.t.branches.truth(stmt.test, env)
        if known is False:
            return
        if known is True:
            raise UnsupportedSyntax("this `while` never ends: its condition is always true", self.src.loc(stmt.test),
                                    "loop while a value computed in the loop says so: while err > tol:")
        self.rolled(stmt, env, prefix)

    def rolled(self, stmt: ast.For | ast.While, env, prefix: str, bounds: list | None = None) -> None:
        """A loop kept as a loop: its body is traced once, each equation tagged with the Loop frame.

        A name the body assigns that has a value before the loop is the loop's state: one variable,
        defined before the loop and (last) in the body, read by the next iteration and after the loop.
        A name first assigned in the body has no value after it (the loop may run zero times).
        """
        self.emit.stmt = stmt
        loop = Loop("for" if isinstance(stmt, ast.For) else "while")
        assigned = _assigned(stmt.body)
        target = stmt.target.id if isinstance(stmt, ast.For) else None
        frames = self.emit.here()
        state = self._state(stmt, assigned, target, env, prefix, frames)
        self.carriers[loop] = set(state.values())
        if target is not None:
            self._index(loop, stmt, target, bounds, env, prefix)
        else:
            self._condition(loop, stmt, env)
        start = len(self.emit.eqns)
        with self.emit.under(loop):
            for s in stmt.body:
                self.statement(s, env, prefix)
        self.emit.stmt = stmt
        self._close(loop, stmt, state, env, frames, start)
        for name in [*assigned, *([target] if target else [])]:
            if name not in state:
                env[name] = LoopLocal(name, stmt)
        del self.carriers[loop]

    def _state(self, stmt, assigned: dict, target: str | None, env, prefix: str, frames: tuple) -> dict[str, Var]:
        """The loop's state: each name the body assigns that holds a number or an array before the
        loop, mapped to the variable that carries it (now in `env`)."""
        written = _written_in_place(stmt.body)
        state: dict[str, Var] = {}
        # a nested loop's index is that loop's own, not this loop's state
        indices = {n.target.id for st in stmt.body for n in ast.walk(st) if isinstance(n, ast.For)}
        for name in assigned:
            if name == target or name in indices or name not in env \
                    or isinstance(env[name], (OneBranch, LoopLocal, Closure)):
                continue
            pre = env[name]
            if isinstance(pre, tuple) or (isinstance(pre, Lit) and not is_number(pre.value)):
                raise UnsupportedSyntax(f"`{name}` is a {'tuple' if isinstance(pre, tuple) else 'constant'} "
                                        "that this loop assigns again", self.src.loc(stmt),
                                        "loops update numbers and arrays: unpack tuples before the loop")
            if name in _written_in_place(stmt.body, augmented=True) and isinstance(pre, Var) and pre.shape != ():
                # `z[i] = ...` or `z += ...` writes into the array z holds before the loop: refused where a name
                # the body does not assign again sees that array (its every read may come after a write); a
                # name the body assigns is judged where it is read (views.py: Stale)
                self.t.views.writable(name, {k: v for k, v in env.items() if k == name or k not in assigned},
                                      _first_write(stmt.body, name), lazy=False)
            state[name] = self._carrier(name, pre, env, prefix, frames, name in written)
            env[name] = state[name]
        return state

    def _index(self, loop: Loop, stmt: ast.For, target: str, bounds: list, env, prefix: str) -> None:
        """A rolled `for`: its bounds are integers (constants, int parameters, arithmetic on them), its
        index an integer variable."""
        ints = self.t.ints
        for b, node in zip(bounds, stmt.iter.args):
            if isinstance(b, Lit) and is_int(b.value):
                continue
            if isinstance(b, Var) and b.shape == () and (
                    b in ints or (b.role == "param" and b.hint not in self.t.floats)):
                ints.add(b)  # a parameter used as a bound is an integer: never differentiated
                continue
            raise UnsupportedSyntax(f"range() needs integers: `{ast.unparse(node)}` is not an integer parameter "
                                    "or arithmetic on one", self.src.loc(node),
                                    "pass the count as an int parameter: def f(x, n): ... for i in range(n):")
        loop.index = Var(prefix + target, "value", shape=())
        loop.bounds = tuple(bounds)
        ints.add(loop.index)
        env[target] = loop.index

    def _condition(self, loop: Loop, stmt: ast.While, env) -> None:
        """A `while` on data: its condition, traced into the loop's header."""
        if isinstance(stmt.test, (ast.BoolOp, ast.UnaryOp)):
            raise UnsupportedSyntax("`and`/`or`/`not` on data in a `while` are not in flatgen's subset yet",
                                    self.src.loc(stmt.test), "compare once: while err > tol:")
        with self.emit.into(loop.head):  # the condition's equations run before every iteration
            cond = self.expr(stmt.test, env, None)
        for e in loop.head:  # evaluated by the loop's header, outside any frame
            e.frames = ()
        if not isinstance(cond, Var) or cond.shape != ():
            raise ShapeError("a `while` on data needs one true/false value: this condition is an array",
                             self.src.loc(stmt.test), "reduce it first, e.g. while np.max(err) > tol:")
        loop.cond = cond

    def _close(self, loop: Loop, stmt, state: dict[str, Var], env, frames: tuple, start: int) -> None:
        """The body's last value of each state variable becomes the variable itself: the equation that
        computes it is retargeted when it can be, else a copy closes the body."""
        emit = self.emit
        # ... and at the body's end: a value the next iteration writes into in place must be the loop's
        # own (`b += 1.0; b = a` would write into a in the next iteration)
        assigned = _assigned(stmt.body)
        for name in _written_in_place(stmt.body, augmented=True) & set(state):
            if isinstance(env[name], Var) and env[name].shape != ():
                self._carried_views(name, state, env, stmt, start, assigned)
        # `x, y = y, x`: a loop variable ending as another one's old value is copied first, before
        # the copies that close the body overwrite it
        for name, carried in state.items():
            final = env[name]
            if final is not carried and any(final is c for c in state.values()):
                held = Var(None, "temp", shape=final.shape)
                emit.eqns.append(emit.copy(held, final, frames + (loop,)))
                env[name] = held
        claimed: dict = {}  # a body value now computed under a loop variable's name -> that variable
        for name, carried in state.items():
            final = env[name]
            final = claimed.get(final, final) if isinstance(final, Var) else final
            if isinstance(final, Stale):  # changed in place after it was made: the next iteration may not read it
                read = _read_after(carried, emit.eqns, start)
                if read is not None:
                    raise self.t.names.stale(final, read.loc)
                continue
            if isinstance(final, (tuple, OneBranch, LoopLocal, Closure)) or (
                    isinstance(final, Lit) and not is_number(final.value)):
                raise UnsupportedSyntax(f"`{name}` is a number or an array before this loop and not after its body",
                                        self.src.loc(stmt),
                                        f"give `{name}` a value of the same kind in every iteration")
            if final.shape != carried.shape and None not in (final.shape, carried.shape):
                raise ShapeError(f"`{name}` has shape {carried.shape} before the loop and {final.shape} after its "
                                 "body", self.src.loc(stmt),
                                 f"give `{name}` its final shape before the loop, e.g. np.zeros(...)")
            if final is not carried:
                if self._can_retarget(final, carried, start, claimed, loop):
                    replace(emit.eqns[start:], final, carried)
                    self.t.views.renamed(final, carried)
                    claimed[final] = carried
                else:
                    emit.eqns.append(emit.copy(carried, final, frames + (loop,)))
            env[name] = carried
        emit.eqns[start:] = [e for e in emit.eqns[start:] if not (e.op is COPY and e.ins[0] is e.out)]

    def _carried_views(self, name: str, state: dict, env, stmt, start: int, assigned: dict) -> None:
        """The body writes into the array `name` carries, in place; at the body's end another name sees
        that array.  A name the body does not assign (a parameter, a name from before the loop) would see
        every later write: refused.  A loop variable (`prev = h[t]` at the end, `h[t + 1] = ...` in the
        next iteration) is fine unless the next iteration reads it after its first write into the array."""
        views = self.t.views
        bases = views.bases(env[name])
        node = _first_write(stmt.body, name)
        for other, w in list(env.items()):
            if other == name or not (isinstance(w, Var) and views.bases(w) & bases):
                continue
            if other not in assigned or any(b.role == "param" for b in views.bases(w) | bases):
                views.writable(name, {name: env[name], other: w}, node, lazy=False)
            if other not in state:
                continue  # assigned in the body before it is read there: a value of this iteration
            carried = views.bases(state[name])
            first = next((k for b, k in views.writes if k >= start and b & carried), None)
            read = _read_after(state[other], self.emit.eqns, first) if first is not None else None
            if read is not None:
                raise UnsupportedSyntax(
                    f"`{other}` holds a view of `{name}` into the next iteration, which reads it after numpy has "
                    f"written into `{name}` in place (line {node.lineno}): in Python `{other}` has changed by then",
                    read.loc, f"copy it at the end of the body: {other} = ....copy(), or read it before the write")

    def _carrier(self, name: str, pre, env, prefix: str, frames: tuple, in_place: bool) -> Var:
        """The variable a loop updates: the value before the loop itself when only this name holds it
        and it was made here (or by an enclosing loop), else a copy (`s = 0.0`, `h = x`)."""
        if isinstance(pre, Var) and pre.role == "value" and pre.hint == prefix + name and pre not in self.t.ints:
            # the variable of the loop this one sits in (directly, not in a branch of it), or made here
            enclosing = frames[-1] if frames and is_loop(frames[-1]) else None
            made_here = pre in self.carriers.get(enclosing, ()) or any(
                e.out is pre and e.frames == frames for e in self.emit.eqns)
            others = [n for n, v in env.items() if n != name and (v is pre or (isinstance(v, tuple) and pre in v))]
            if made_here and not others:
                return pre
        shape = pre.shape
        carried = Var(prefix + name, "value", shape=shape)
        op = COPY_ARRAY if in_place and shape != () else COPY
        self.emit.eqns.append(self.emit.copy(carried, pre, frames, op))
        if isinstance(pre, Var):  # Python's loop variable is the array itself (even where flatgen copies it)
            self.t.views.made(carried, COPY, (pre,))
        return carried

    def _can_retarget(self, final, carried: Var, start: int, claimed: dict, loop: Loop) -> bool:
        """Can the body compute `carried` directly where it computes `final`?  Only when `final` is made
        in the body and the old value of `carried` is not read after that point."""
        if not isinstance(final, Var) or final in claimed or final in claimed.values() or final.role == "param" \
                or final in self.t.ints:
            return False
        body = self.emit.eqns[start:]
        first = next((k for k, e in enumerate(body) if e.out is final), None)
        if first is None:
            return False
        for e in body:
            # `s = s * w`: the backward reads the old s (for w's gradient); `h = np.tanh(h)`: the new h
            # (its output).  One name cannot hold both at once: then the new value gets its own name.
            if e.out is final and carried in e.ins:
                slots = e.op.rule_slots
                own = {s for s, a in zip(e.op.expr.slots, e.ins) if a is carried}
                # `x = x * x`: two contributions to the old x, each reading the gradient of the new
                if "out" in slots and own & slots or len(own) > 1:
                    return False
        for e in body[first + 1:]:
            reads = [*e.ins, *(v for f in e.frames if f is not loop for v in frame_reads(f))]
            if any(a is carried for a in reads):
                return False
        return True


def _assigned(body: list[ast.stmt]) -> dict[str, None]:
    """The names statements bind, in source order (nested blocks included; nested functions' own
    names excluded).  A dict, not a set: the order decides the generated code's order and names."""
    names: dict[str, None] = {}

    def targets(t):
        if isinstance(t, ast.Name):
            names[t.id] = None
        elif isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name):
            names[t.value.id] = None
        elif isinstance(t, (ast.Tuple, ast.List)):
            for x in t.elts:
                targets(x)

    for stmt in body:
        if isinstance(stmt, ast.Assign):
            targets(stmt.targets[0])
        elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
            targets(stmt.target)
        elif isinstance(stmt, ast.FunctionDef):
            names[stmt.name] = None
        elif isinstance(stmt, (ast.For, ast.While, ast.If)):
            if isinstance(stmt, ast.For):
                targets(stmt.target)
            names.update(_assigned(stmt.body))
            names.update(_assigned(stmt.orelse))
    return names


def _written_in_place(body: list[ast.stmt], augmented: bool = False) -> set[str]:
    """The names of arrays statements write items into (`z[i] = v`, `z[i] += v`), and with `augmented`
    the names updated with `z += v` (in place when z is an array)."""
    names = {n.value.id for stmt in body for n in ast.walk(stmt)
             if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name)}
    if augmented:
        names |= {n.target.id for stmt in body for n in ast.walk(stmt)
                  if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name)}
    return names


def _read_after(var: Var, eqns: list, start: int):
    """The first equation of eqns[start:] that reads `var` (an input, or a frame's condition), or None."""
    for e in eqns[start:]:
        if any(a is var for a in e.ins) or any(v is var for f in e.frames for v in frame_reads(f)):
            return e
    return None


def _first_write(body: list[ast.stmt], name: str) -> ast.AST:
    """The first `name[...] = ...` (or `+=`) in `body`: where an in-place write is reported."""
    return next(n for stmt in body for n in ast.walk(stmt)
                if (isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name)
                    and n.value.id == name)
                or (isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name) and n.target.id == name))
