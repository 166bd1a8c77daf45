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
from .flow import BREAK, breaks
from .shared import Closure, LoopLocal, OneBranch, Part, Stale, is_int, is_number

MAX_UNROLL = 100_000
UNROLL = 16  # constant loops of at most this many iterations are unrolled; longer ones stay loops


class Loops(Part):
    def __init__(self, t):
        super().__init__(t)
        self.carriers: dict = {}  # loop being traced -> the variables it updates

    def for_statement(self, stmt: ast.For, env, prefix: str) -> None:
        """`for target in <sequence>:` (sequences.py) unrolled when its items are values flatgen holds, or
        when its length is a constant of at most `unroll` (any constant when the body grows a list: its
        length must be known), else kept as a loop over the items' index."""
        seq = self.t.sequences.of(stmt.iter, env)
        grows = _grown_lists(stmt.body, env)
        if seq.trace_time or (seq.length is not None and (seq.length <= min(self.t.unroll, MAX_UNROLL) or grows)):
            self.unrolled(stmt, seq, env, prefix)
            return
        if grows:
            raise UnsupportedSyntax(
                f"`{grows[0]}` grows in a loop whose count is known only at run time: a list's length must be "
                "known when the module is generated", self.src.loc(stmt.iter),
                "write into an array made before the loop (hs = np.zeros((n, ...)); hs[i] = h), or give a "
                "constant count")
        self.rolled(stmt, env, prefix, seq)

    def unrolled(self, stmt: ast.For, seq, env, prefix: str) -> None:
        """Each iteration traced in turn, the target bound to its item; after a `break` on data the later
        iterations run under `if running:` (a `break` decided now ends the unrolling)."""
        flow = self.t.flow
        flag = BREAK.format(len(flow.breaks)) if breaks(stmt.body) else None
        if flag:
            env[flag] = Lit(True)
            flow.breaks.append(flag)
        ranged = _is_range(stmt.iter, env, self.t.names)
        try:
            for k in range(seq.length):
                running = env[flag] if flag else Lit(True)
                if isinstance(running, Lit) and not running.value:
                    break
                iteration = self._iteration(stmt, seq, Lit(k), prefix, ranged)
                if isinstance(running, Var):
                    self.t.branches.fork(running, stmt, env, prefix, (iteration, []))
                else:
                    iteration(env)
        finally:
            if flag:
                flow.breaks.pop()
                env.pop(flag, None)

    def _iteration(self, stmt: ast.For, seq, k, prefix: str, ranged: bool):
        """A function tracing iteration k (a Lit) of an unrolled loop into a scope."""
        def run(scope):
            target = ast.unparse(stmt.target)
            text = f"{target} = {seq.at(k, None).value}" if ranged else f"{target}: item {k.value}"
            with self.emit.iteration(text):
                self.emit.stmt = stmt
                item = seq.at(k, stmt.target.id if isinstance(stmt.target, ast.Name) else None)
                self.t.statements.bind(stmt.target, item, scope, prefix)
                self.t.flow.loop_body(stmt.body, scope, prefix)
        return run

    def while_statement(self, stmt: ast.While, env, prefix: str) -> None:
        updated = _assigned(stmt.body)  # a condition on what the loop updates is decided as it runs
        reads = {n.id for n in ast.walk(stmt.test) if isinstance(n, ast.Name)}
        known = None if reads & set(updated) else self.t.branches.truth(stmt.test, env)
        if known is False:
            return
        if known is True and not breaks(stmt.body):
            raise UnsupportedSyntax("this `while` never ends: its condition is always true", self.src.loc(stmt.test),
                                    "loop while a value computed in the loop says so: while err > tol:")
        self.rolled(stmt, env, prefix, always=known is True)

    def rolled(self, stmt: ast.For | ast.While, env, prefix: str, seq=None, always: bool = False) -> None:
        """A loop kept as a loop: its body is traced once, each equation tagged with the Loop frame.

        A name the body assigns that has a value before the loop is the loop's state: one variable,
        defined before the loop and (last) in the body, read by the next iteration and after the loop.
        A name first assigned in the body has no value after it (the loop may run zero times).  With a
        `break`, a flag is state too (`running = True`): a `for` runs its body under `if running:`, a
        `while` is `while running:`, its own test (if any) first in the body.  `always`: `while True:`.
        """
        self.emit.stmt = stmt
        grows = _grown_lists(stmt.body, env)
        if grows:  # (a `for` over a constant count was unrolled for it)
            raise UnsupportedSyntax(
                f"`{grows[0]}` grows in a loop kept as a loop: a list's length must be known when the module is "
                "generated", self.src.loc(stmt), "write into an array made before the loop (hs = np.zeros(...); "
                "hs[i] = h), or loop a constant number of times")
        loop = Loop("for" if isinstance(stmt, ast.For) else "while")
        assigned = _assigned(stmt.body)
        targets = _names(stmt.target) if isinstance(stmt, ast.For) else []
        frames = self.emit.here()
        state = self._state(stmt, assigned, targets, env, prefix, frames)
        flow = self.t.flow
        flag = BREAK.format(len(flow.breaks)) if breaks(stmt.body) else None
        if flag:
            state[flag] = env[flag] = Var(prefix + "running", "value", shape=())
            self.emit.eqns.append(self.emit.copy(state[flag], Lit(True), frames))
            flow.breaks.append(flag)
        self.carriers[loop] = set(state.values())
        if isinstance(stmt, ast.For):
            self._index(loop, stmt, seq, env, prefix)
        elif flag:
            loop.cond = state[flag]  # while running: (the test, if any, is the body's first `if`)
        else:
            self._condition(loop, stmt, env)
        start = len(self.emit.eqns)
        try:
            with self.emit.under(loop):
                self._body(loop, stmt, seq, env, prefix, flag, always)
        finally:
            if flag:
                flow.breaks.pop()
        self.emit.stmt = stmt
        self._close(loop, stmt, state, env, frames, start)
        for name in [*assigned, *targets]:
            if name not in state:
                env[name] = LoopLocal(name, stmt)
        if flag:
            env.pop(flag, None)
        del self.carriers[loop]

    def _body(self, loop: Loop, stmt, seq, env, prefix: str, flag: str | None, always: bool) -> None:
        """The body of a loop kept as a loop, once, under its frame."""
        flow = self.t.flow

        def body(scope):
            if isinstance(stmt, ast.For):
                self.emit.stmt = stmt
                item = seq.at(loop.index, stmt.target.id if isinstance(stmt.target, ast.Name) else None)
                if item is not loop.index or not isinstance(stmt.target, ast.Name):
                    self.t.statements.bind(stmt.target, item, scope, prefix)
            flow.loop_body(stmt.body, scope, prefix)

        if flag is None:
            body(env)
        elif isinstance(stmt, ast.For):  # iterations after a break do nothing
            self.t.branches.fork(env[flag], stmt, env, prefix, (body, []))
        elif always:  # while True: ... break
            body(env)
        else:  # while running: test first; when it fails, the loop stops as Python's would
            self.emit.stmt = stmt
            if isinstance(stmt.test, (ast.BoolOp, ast.UnaryOp)):
                raise UnsupportedSyntax("`and`/`or`/`not` on data in a `while` are not in flatgen's subset yet",
                                        self.src.loc(stmt.test), "compare once: while err > tol:")
            test = self.expr(stmt.test, env, None)
            if not isinstance(test, Var) or test.shape != ():
                raise ShapeError("a `while` on data needs one true/false value: this condition is an array",
                                 self.src.loc(stmt.test), "reduce it first, e.g. while np.max(err) > tol:")
            self.t.branches.fork(test, stmt, env, prefix, (body, lambda scope: scope.__setitem__(flag, Lit(False))))

    def _state(self, stmt, assigned: dict, targets: list, env, prefix: str, frames: tuple) -> dict[str, Var]:
        """The loop's state: each name the body assigns that holds a number or an array before the
        loop, mapped to the variable that carries it (now in `env`)."""
        written = _written_in_place(stmt.body)
        state: dict[str, Var] = {}
        # a nested loop's index is that loop's own, not this loop's state
        indices = {i for st in stmt.body for n in ast.walk(st) if isinstance(n, ast.For) for i in _names(n.target)}
        for name in assigned:
            if name in targets or name in indices or name not in env \
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

    def _index(self, loop: Loop, stmt: ast.For, seq, env, prefix: str) -> None:
        """A rolled `for`: its bounds are integers (constants, int parameters, arithmetic on them), its
        index an integer variable (the target itself for a range, else a name of its own: `v = X[i]`)."""
        ints = self.t.ints
        nodes = stmt.iter.args if _is_range(stmt.iter, env, self.t.names) and len(stmt.iter.args) == len(seq.bounds) \
            else [stmt.iter] * len(seq.bounds)
        for b, node in zip(seq.bounds, nodes):
            if isinstance(b, Lit) and is_int(b.value):
                continue
            if isinstance(b, Var) and b.shape == () and (
                    b in ints or (b.role == "param" and b.hint not in self.t.floats)):
                ints.add(b)  # a parameter used as a bound is an integer: never differentiated
                continue
            raise UnsupportedSyntax(f"range() needs integers: `{ast.unparse(node)}` is not an integer parameter "
                                    "or arithmetic on one", self.src.loc(node),
                                    "pass the count as an int parameter: def f(x, n): ... for i in range(n):")
        own = isinstance(stmt.target, ast.Name) and seq.own
        loop.index = Var(prefix + (stmt.target.id if own else self.t.index_hint()), "value", shape=())
        loop.bounds = tuple(seq.bounds)
        ints.add(loop.index)
        if own:
            env[stmt.target.id] = loop.index

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
                    isinstance(final, Lit) and not is_number(final.value) and not isinstance(final.value, bool)):
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
            if other not in assigned or any(b.role == "param" for b in bases):
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


def _names(target: ast.expr) -> list[str]:
    """The names a `for` target binds: `i`, `k, (a, b)`."""
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def _is_range(node: ast.expr, env, names) -> bool:
    """Is this `range(...)` (the builtin)?"""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in env
            and names.dotted(node.func, env) == "builtins.range")


def _grown_lists(body: list[ast.stmt], env) -> list[str]:
    """The lists from before the loop that its body appends to (`hs.append(h)`, `hs.extend(...)`)."""
    found = []
    for stmt in body:
        for n in ast.walk(stmt):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("append", "extend") \
                    and isinstance(n.func.value, ast.Name) and isinstance(env.get(n.func.value.id), tuple) \
                    and n.func.value.id not in found:
                found.append(n.func.value.id)
    return found


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
