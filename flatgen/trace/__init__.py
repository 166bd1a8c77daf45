"""Trace: walk a fenced function's AST into a graph of equations.

The function is read, never run.  Each statement becomes one or more equations (one per operation,
nested subexpressions get temporaries); rebinding a name makes a new variable (SSA inside, the
user's name kept as a hint outside); calls of module-level helpers are inlined with their locals
prefixed by the helper's name; `for i in range(N)` with a constant N is unrolled; operations on
constants only are folded at trace time.  Every variable gets its shape (when the parameters'
shapes are known), so the reverse transform can write out exactly the reductions it needs.
"""

from __future__ import annotations

import ast
from collections import ChainMap
from dataclasses import dataclass

import numpy as np

from .. import fence
from ..errors import FlatgenError, NameResolutionError, ShapeError, UnsupportedSyntax
from ..graph import Atom, Branch, Eqn, Graph, Lit, Loop, Var, frame_reads, is_loop
from ..parse import Source
from .. import shapes
from ..primitives import (BUILTINS, CALLS, CONSTANTS, COPY, COPY_ARRAY, METHODS, SETITEM, TABLE, Op, constant,
                         index_at, setitem_at)
from .emitter import Emitter, replace

@dataclass(frozen=True)
class OneBranch:
    """A name assigned in only one branch of an `if` on data: it has no value after the `if`."""

    name: str
    stmt: ast.If


@dataclass(frozen=True)
class LoopLocal:
    """A name first assigned inside a rolled loop: it has no value after the loop (the loop may run
    zero times)."""

    name: str
    stmt: ast.stmt


@dataclass(frozen=True)
class Closure:
    """A function defined inside the traced function: inlined where it is called, reading the
    enclosing function's names (never writing them: its assignments are its own)."""

    fn: ast.FunctionDef
    env: dict


BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow", ast.MatMult: "matmul"}
COMPARE = {ast.Gt: "gt", ast.Lt: "lt", ast.GtE: "ge", ast.LtE: "le", ast.Eq: "eq", ast.NotEq: "ne"}
MATMUL_BY_RANK = {(2, 2): "matmul", (2, 1): "matmul_mv", (1, 2): "matmul_vm", (1, 1): "dot"}
REDUCTIONS = {"sum", "mean", "max", "min"}
MAX_UNROLL = 100_000
UNROLL = 16  # constant loops of at most this many iterations are unrolled; longer ones stay loops
INT_OPS = {"add", "sub", "mul", "neg"}  # integer arithmetic on loop indices and counts stays integer


class Tracer:
    def __init__(self, src: Source, unroll: int = UNROLL):
        self.src = src
        self.unroll = unroll  # unroll constant loops up to this many iterations (0: keep every loop)
        self.ints: set[Var] = set()  # integer values: loop indices, loop-bound parameters, arithmetic on them
        self.carriers: dict = {}  # loop being traced -> the variables it updates
        self.floats: set[str] = set()  # parameters annotated float
        self.stack: list[str] = []  # helpers being inlined, for recursion
        self.hashed: list[str] = []  # sources the result depends on (for the module's header)
        self._constants: dict[str, Lit | None] = {}
        self.emit = Emitter(src)  # the equations, their frames and the statement being traced
        # For `a += y` and `z[i] = v` on arrays, which numpy does in place: the array each view
        # (x[0], x.T, a reshape, an alias) shows, so a write can tell whether another name sees it.
        self.view_of: dict[Var, Var] = {}
        self.callers: list = []  # the callers' scopes while a helper is inlined: they see its arguments' arrays
        self.defaults: set[Var] = set()  # helper parameters' default values (Python makes each one once)
        self.shares: dict[Var, set[Var]] = {}  # a value chosen at run time -> the arrays it may be

    # -- functions and statements ----------------------------------------------------------------

    def trace(self, fn: ast.FunctionDef, shapes: dict | None = None, assumed: set = frozenset()) -> Graph:
        """`shapes`: parameter name -> shape tuple (() for a scalar) or None (unknown); default scalar.
        `assumed`: parameters whose shape nobody gave (scalars by default)."""
        fence.check_function(self.src, fn)
        self.hashed.append(self._segment(fn))
        shapes = shapes or {}
        self.assumed = set(assumed)
        self.decided_on_assumed = False  # a trace-time decision read an assumed shape (`if v.ndim == 1:`)
        params = [Var(a.arg, "param", shape=shapes.get(a.arg, ())) for a in fn.args.posonlyargs + fn.args.args]
        self.floats = {a.arg for a in fn.args.posonlyargs + fn.args.args
                       if a.annotation is not None and ast.unparse(a.annotation) == "float"}
        env: dict[str, Atom] = {p.hint: p for p in params}
        self.stack.append(fn.name)  # a helper calling back into the target is recursion too
        out = self._body(fn, env, prefix="", result_hint=fn.name)
        self.stack.pop()
        if isinstance(out, Lit) and isinstance(out.value, tuple):  # return 1.0, 2.0: constants, still several
            out = tuple(Lit(v) for v in out.value)
        outs = list(out) if isinstance(out, tuple) else [out]  # `return loss, aux`: several outputs
        made_by = {e.out: e for e in self.emit.eqns}
        where = self.src.loc(self._return(fn).value)
        for i, o in enumerate(outs):
            if isinstance(o, tuple):
                raise UnsupportedSyntax(f"{fn.name}() returns a nested tuple", where, "return a flat tuple of values")
            if o in made_by and made_by[o].op.mask:
                raise UnsupportedSyntax(f"{fn.name}() returns a comparison (a mask), which has no gradient",
                                        where, "return a number computed from the values")
            if isinstance(o, Var) and o.shape not in ((), None):
                raise ShapeError(
                    f"{fn.name}() returns an array of shape {o.shape}; flatgen differentiates scalar outputs",
                    where, "reduce it first, e.g. return np.sum(...) or np.mean(...)",
                )
            if isinstance(o, Var) and o.role == "temp" and len(outs) > 1:
                o.hint, o.role = f"{fn.name}_{i}", "value"
        ints = frozenset(p for p in params if p in self.ints)
        return Graph(fn.name, params, self.emit.eqns, outs, ints=ints)

    def _return(self, fn):
        return next(s for s in fn.body if isinstance(s, ast.Return))

    def _body(self, fn: ast.FunctionDef, env: dict[str, Atom], prefix: str, result_hint: str) -> Atom:
        for stmt in fn.body:
            if isinstance(stmt, ast.Return):
                self.emit.stmt = stmt
                return self.expr(stmt.value, env, result_hint)
            self._stmt(stmt, env, prefix)
        raise AssertionError("the fence guarantees a final return")  # pragma: no cover

    def _stmt(self, stmt: ast.stmt, env: dict[str, Atom], prefix: str) -> None:
        self.emit.stmt = stmt
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
            hint = prefix + target.id if isinstance(target, ast.Name) else None
            self.bind(target, self.expr(stmt.value, env, hint), env, prefix)
        elif isinstance(stmt, ast.FunctionDef):
            # A nested helper sees the enclosing function's names as they are when it is called.
            env[stmt.name] = Closure(stmt, env)
        elif isinstance(stmt, ast.If):
            known = self.truth(stmt.test, env)
            if known is None:
                self.if_on_data(stmt, env, prefix)
            else:  # decided now: only the taken branch
                self.emit.stmt = stmt
                for s in stmt.body if known else stmt.orelse:
                    self._stmt(s, env, prefix)
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Subscript):  # z[0] += v
            current = self.expr(stmt.target, env, None)
            self.setitem(stmt.target, self.binop(stmt.op, current, self.expr(stmt.value, env, None), None), env, prefix)
        elif isinstance(stmt, ast.AugAssign):
            name = stmt.target.id
            left = self.number(self.lookup(name, stmt.target, env), stmt.target)
            if isinstance(left, Var) and left.shape != ():
                self.writable(name, env, stmt.target)
            right = self.expr(stmt.value, env, None)
            result = self.binop(stmt.op, left, right, prefix + name)
            if isinstance(left, Var) and left.shape not in ((), None) and result.shape != left.shape:
                raise ShapeError(f"`{name} {_op_symbol(stmt.op)}= ...` would change {name}'s shape from {left.shape} "
                                 f"to {result.shape}; numpy refuses that", self.src.loc(stmt),
                                 f"write {name} = {name} {_op_symbol(stmt.op)} ... to make a new array")
            env[name] = result
        elif isinstance(stmt, ast.For):
            for node in ast.walk(stmt.iter):  # a parameter in a bound is an integer: range(n - 1)
                v = env.get(node.id) if isinstance(node, ast.Name) else None
                if isinstance(v, Var) and v.role == "param" and v.shape == () and v.hint not in self.floats:
                    self.ints.add(v)
            bounds = [self.expr(a, env, None) for a in stmt.iter.args]
            if all(isinstance(b, Lit) for b in bounds):
                if not all(_is_int(b.value) for b in bounds):
                    raise UnsupportedSyntax("range() bounds must be integers", self.src.loc(stmt.iter),
                                            "loop a whole number of times, e.g. for t in range(4)")
                steps = range(*(b.value for b in bounds))
                if len(steps) <= min(self.unroll, MAX_UNROLL):
                    for i in steps:
                        env[stmt.target.id] = Lit(i)
                        with self.emit.iteration(f"{stmt.target.id} = {i}"):
                            for s in stmt.body:
                                self._stmt(s, env, prefix)
                    return
            self.rolled(stmt, env, prefix, bounds)
        elif isinstance(stmt, ast.While):
            updated = _assigned(stmt.body)  # a condition on what the loop updates is decided as it runs
            reads = {n.id for n in ast.walk(stmt.test) if isinstance(n, ast.Name)}
            known = None if reads & set(updated) else self.truth(stmt.test, env)
            if known is False:
                return
            if known is True:
                raise UnsupportedSyntax("this `while` never ends: its condition is always true", self.src.loc(stmt.test),
                                        "loop while a value computed in the loop says so: while err > tol:")
            self.rolled(stmt, env, prefix)
        # docstrings and `pass` trace to nothing

    def rolled(self, stmt: ast.For | ast.While, env, prefix: str, bounds: list | None = None) -> None:
        """A loop kept as a loop: its body is traced once, each equation tagged with the Loop frame.

        A name the body assigns that has a value before the loop is the loop's state: one variable,
        defined before the loop and (last) in the body, read by the next iteration and after the loop.
        A name first assigned in the body has no value after it (the loop may run zero times).
        """
        self.emit.stmt = stmt
        loop = Loop("for" if isinstance(stmt, ast.For) else "while")
        assigned = _assigned(stmt.body)
        written = _written_in_place(stmt.body)
        target = stmt.target.id if isinstance(stmt, ast.For) else None
        frames = self.emit.here()
        state: dict[str, Var] = {}
        # a nested loop's index is that loop's own, not this loop's state
        indices = {n.target.id for st in stmt.body for n in ast.walk(st) if isinstance(n, ast.For)}
        for name in assigned:
            if name == target or name in indices or name not in env \
                    or isinstance(env[name], (OneBranch, LoopLocal, Closure)):
                continue
            pre = env[name]
            if isinstance(pre, tuple) or (isinstance(pre, Lit) and not _is_number(pre.value)):
                raise UnsupportedSyntax(f"`{name}` is a {'tuple' if isinstance(pre, tuple) else 'constant'} "
                                        "that this loop assigns again", self.src.loc(stmt),
                                        "loops update numbers and arrays: unpack tuples before the loop")
            state[name] = self._carrier(name, pre, env, prefix, frames, name in written)
            env[name] = state[name]
        self.carriers[loop] = set(state.values())
        if target is not None:
            for b, node in zip(bounds, stmt.iter.args):
                if isinstance(b, Lit) and _is_int(b.value):
                    continue
                if isinstance(b, Var) and b.shape == () and (b in self.ints or (b.role == "param" and b.hint not in self.floats)):
                    self.ints.add(b)  # a parameter used as a bound is an integer: never differentiated
                    continue
                raise UnsupportedSyntax(f"range() needs integers: `{ast.unparse(node)}` is not an integer parameter "
                                        "or arithmetic on one", self.src.loc(node),
                                        "pass the count as an int parameter: def f(x, n): ... for i in range(n):")
            loop.index = Var(prefix + target, "value", shape=())
            loop.bounds = tuple(bounds)
            self.ints.add(loop.index)
            env[target] = loop.index
        else:
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
        start = len(self.emit.eqns)
        with self.emit.under(loop):
            for s in stmt.body:
                self._stmt(s, env, prefix)
        self.emit.stmt = stmt
        # `x, y = y, x`: a loop variable ending as another one's old value is copied first, before
        # the copies that close the body overwrite it
        for name, carried in state.items():
            final = env[name]
            if final is not carried and any(final is c for c in state.values()):
                held = Var(None, "temp", shape=final.shape)
                self.emit.eqns.append(self.emit.copy(held, final, frames + (loop,)))
                env[name] = held
        claimed: dict = {}  # a body value now computed under a loop variable's name -> that variable
        for name, carried in state.items():
            final = env[name]
            final = claimed.get(final, final) if isinstance(final, Var) else final
            if isinstance(final, (tuple, OneBranch, LoopLocal, Closure)) or (
                    isinstance(final, Lit) and not _is_number(final.value)):
                raise UnsupportedSyntax(f"`{name}` is a number or an array before this loop and not after its body",
                                        self.src.loc(stmt), f"give `{name}` a value of the same kind in every iteration")
            if final.shape != carried.shape and None not in (final.shape, carried.shape):
                raise ShapeError(f"`{name}` has shape {carried.shape} before the loop and {final.shape} after its body",
                                 self.src.loc(stmt), f"give `{name}` its final shape before the loop, e.g. np.zeros(...)")
            if final is not carried:
                if self._can_retarget(final, carried, start, claimed, loop):
                    replace(self.emit.eqns[start:], final, carried)
                    if final in self.view_of:
                        self.view_of[carried] = self.view_of.pop(final)
                    claimed[final] = carried
                else:
                    self.emit.eqns.append(self.emit.copy(carried, final, frames + (loop,)))
            env[name] = carried
        self.emit.eqns[start:] = [e for e in self.emit.eqns[start:] if not (e.op is COPY and e.ins[0] is e.out)]
        for name in [*assigned, *([target] if target else [])]:
            if name not in state:
                env[name] = LoopLocal(name, stmt)
        del self.carriers[loop]

    def _carrier(self, name: str, pre, env, prefix: str, frames: tuple, in_place: bool) -> Var:
        """The variable a loop updates: the value before the loop itself when only this name holds it
        and it was made here (or by an enclosing loop), else a copy (`s = 0.0`, `h = x`)."""
        if isinstance(pre, Var) and pre.role == "value" and pre.hint == prefix + name and pre not in self.ints:
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
        return carried

    def _can_retarget(self, final, carried: Var, start: int, claimed: dict, loop: Loop) -> bool:
        """Can the body compute `carried` directly where it computes `final`?  Only when `final` is made
        in the body and the old value of `carried` is not read after that point."""
        if not isinstance(final, Var) or final in claimed or final in claimed.values() or final.role == "param" \
                or final in self.ints:
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

    def bind(self, target: ast.expr, value, env: dict, prefix: str) -> None:
        """`x = v`, or `a, (b, c) = v` for a tuple value of the same structure."""
        if isinstance(target, ast.Name):
            env[target.id] = value
            return
        if isinstance(target, ast.Subscript):
            self.setitem(target, value, env, prefix)
            return
        items = value.value if isinstance(value, Lit) and isinstance(value.value, tuple) else value
        if not isinstance(items, tuple):
            raise UnsupportedSyntax("only a tuple can be unpacked here", self.src.loc(target),
                                    "unpack what a tuple-valued expression or helper returns: a, b = h(x)")
        if len(items) != len(target.elts):
            raise UnsupportedSyntax(f"{len(target.elts)} names for a tuple of {len(items)}", self.src.loc(target),
                                    "unpack into as many names as the tuple has items")
        for t, v in zip(target.elts, items):
            if isinstance(v, Var) and isinstance(t, ast.Name) and v.role == "temp":
                v.hint, v.role = prefix + t.id, "value"  # a tuple item made here takes the name it is bound to
            self.bind(t, Lit(v) if isinstance(v, (int, float)) else v, env, prefix)

    def writable(self, name: str, env, node) -> None:
        """numpy writes `a += y` and `a[i] = v` into a's array: flatgen's new version of `a` means the
        same only when no other name sees that array (the same array, a view of it, or what it views).
        (A parameter updated in place changes the caller's array in Python; flatgen's modules never
        write into their arguments.)"""
        v = env.get(name)
        if not isinstance(v, Var):
            return
        bases = self._bases(v)
        hint = f"make a new array instead: {name} = {name} + ... (or copy it: np.zeros(...) + {name})"
        if bases & self.defaults:
            raise UnsupportedSyntax(
                f"numpy would write into `{name}` in place here, and `{name}` is a default value: Python makes it "
                "once, so every call would see the writes of the calls before", self.src.loc(node), hint)
        for scope, whose in [(env, ""), *((c, " (in the caller)") for c in reversed(self.callers))]:
            for other, w in scope.items():
                if (other != name or whose) and isinstance(w, Var) and self._bases(w) & bases:
                    raise UnsupportedSyntax(
                        f"numpy would write into `{name}` in place here, and `{other}`{whose} sees the same array",
                        self.src.loc(node), hint)

    def setitem(self, target: ast.Subscript, value, env: dict, prefix: str) -> None:
        """z[idx] = v: z becomes a new version, a copy of the old one with v written in."""
        name = target.value.id
        self.writable(name, env, target)
        z = self.lookup(name, target.value, env)
        v = self.number(value, target)
        if not isinstance(z, Var) or z.shape in ((), None):
            raise UnsupportedSyntax(f"`{name}` is not a local array of known shape, so flatgen cannot write into it",
                                    self.src.loc(target), "write into a local array: z = np.zeros(3); z[0] = a * b")
        dynamic = self.dynamic_index(target.slice, env)
        if dynamic is not None:  # z[i] = v with a run-time integer i
            sig, ints, idx = dynamic
        else:
            idx = self.static(target.slice, env, "an index")
            idx = idx if isinstance(idx, tuple) else (idx,)
            idx = idx[0] if len(idx) == 1 else idx
        slot = self._index_shape(z, idx, target)
        if v.shape != slot:
            raise ShapeError(f"{name}[...] has shape {slot}, the value {v.shape}: flatgen writes values of the slot's shape",
                             self.src.loc(target), "broadcast the value first, e.g. v * np.ones(shape)")
        if dynamic is not None:
            env[name] = self.apply(setitem_at(sig), (z, v, *ints), prefix + name, target)
        else:
            env[name] = self.apply(SETITEM, (z, v), prefix + name, target, idx=idx)

    def if_on_data(self, stmt: ast.If, env, prefix: str) -> None:
        """An `if` on data: both branches are traced, each equation tagged with its condition; a name
        assigned in either branch becomes one variable, defined at the end of each (a copy, unless the
        branch computed it last)."""
        if isinstance(stmt.test, (ast.BoolOp, ast.UnaryOp)):
            # decided by a shape flatgen only assumed (v.ndim == 1 or ...): wait for the real shapes
            error = ShapeError if self.decided_on_assumed else UnsupportedSyntax
            raise error("`and`/`or`/`not` on data in an `if` are not in flatgen's subset yet",
                        self.src.loc(stmt.test), "nest the ifs, or compare once: if a > b:")
        self.emit.stmt = stmt
        c = self.expr(stmt.test, env, None)
        if not isinstance(c, Var) or c.shape != ():
            raise ShapeError("an `if` on data needs one true/false value: this condition is an array",
                             self.src.loc(stmt.test), "for arrays, select elementwise: np.where(c, a, b)")
        sides = []
        for want, body in ((True, stmt.body), (False, stmt.orelse)):
            local = ChainMap({}, env)  # what the branch assigns stays in local.maps[0]
            start = len(self.emit.eqns)
            with self.emit.under(Branch(c, want)):
                for s in body:
                    self._stmt(s, local, prefix)
            sides.append((local.maps[0], start, len(self.emit.eqns)))
        (then_vals, t0, t1), (else_vals, f0, f1) = sides
        names = list(dict.fromkeys([*then_vals, *else_vals]))
        taken: set = set()
        renamed: dict = {}  # else-branch values now computed under their merged name
        copies = ([], [])  # copies to append at the end of each branch
        for name in names:
            v_t = then_vals.get(name, env.get(name))
            v_f = else_vals.get(name, env.get(name))
            v_f = renamed.get(v_f, v_f) if isinstance(v_f, Var) else v_f
            if isinstance(v_t, LoopLocal) or isinstance(v_f, LoopLocal):
                env[name] = v_t if isinstance(v_t, LoopLocal) else v_f  # maybe never set: no value after
                continue
            if v_t is None or v_f is None or isinstance(v_t, OneBranch) or isinstance(v_f, OneBranch):
                env[name] = OneBranch(name, stmt)  # set on one path only: no value after the if
                continue
            if v_t is v_f:  # the same value either way (an alias, a constant): no merge needed
                env[name] = v_t
                continue
            for v in (v_t, v_f):
                if isinstance(v, (tuple, Closure)):
                    raise UnsupportedSyntax(f"`{name}` is a {type(v).__name__.lower()} assigned in a branch of an `if` on data",
                                            self.src.loc(stmt), "assign numbers and arrays in branches")
            if v_t.shape != v_f.shape:
                raise ShapeError(f"`{name}` has shape {v_t.shape} in one branch and {v_f.shape} in the other",
                                 self.src.loc(stmt), "give it the same shape in both branches")
            p = self._made_in(v_t, t0, t1, taken)
            if p is None:
                p = Var(prefix + name, "value", shape=v_t.shape)
                copies[0].append((p, v_t))
            taken.add(p)
            if self._made_in(v_f, f0, f1, taken | {v_t}) is v_f:
                replace(self.emit.eqns[f0:f1], v_f, p)  # the else branch computes p directly
                renamed[v_f] = p
            else:
                copies[1].append((p, v_f))
            env[name] = p
            self._may_share(p, v_t, v_f)
        # the copies close each branch: the then-branch's go before the else-branch's equations
        self.emit.stmt = stmt
        tail = [self._copy(p, v, Branch(c, False)) for p, v in copies[1]]
        head = [self._copy(p, v, Branch(c, True)) for p, v in copies[0]]
        self.emit.eqns[f1:f1] = tail
        self.emit.eqns[t1:t1] = head

    def _may_share(self, out, *values) -> None:
        """`out` is one of `values` at run time (a branch's value, a conditional expression): it may
        share its array with any of theirs, for the in-place writes `writable` checks."""
        if isinstance(out, Var) and out.shape != ():
            self.shares[out] = set().union(*(self._bases(v) for v in values if isinstance(v, Var))) - {out}

    def _bases(self, v: Var) -> set:
        """The arrays `v` may be, or be a view of."""
        base = self.view_of.get(v, v)
        found = {base}
        for b in (v, base):
            for other in self.shares.get(b, ()):
                found |= self._bases(other)
        return found

    def _made_in(self, v, start: int, end: int, taken: set):
        """`v` if it is a variable computed in eqns[start:end] and not already a merged name, else None."""
        if isinstance(v, Var) and v not in taken and any(e.out is v for e in self.emit.eqns[start:end]):
            return v
        return None

    def _copy(self, out: Var, value, frame: Branch) -> Eqn:
        return self.emit.copy(out, value, self.emit.here() + (frame,))  # the copy closes its branch

    def truth(self, test: ast.expr, env: dict) -> bool | None:
        """True/False when known at trace time, None when it depends on the data."""
        if isinstance(test, ast.BoolOp):
            values = [self.truth(v, env) for v in test.values]
            if isinstance(test.op, ast.And):
                return False if False in values else (None if None in values else True)
            return True if True in values else (None if None in values else False)
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            v = self.truth(test.operand, env)
            return None if v is None else not v
        with self.emit.trial() as trial:
            value = self.expr(test, env, None)
            if isinstance(value, Lit) and not isinstance(value.value, (tuple, slice)):
                return bool(value.value)
            trial.undo()  # decided by the data: traced where the `if` is
        return None

    def number(self, value, node):
        """A tuple where a number or an array belongs is refused."""
        if isinstance(value, tuple):
            raise UnsupportedSyntax("a tuple or list is not a number", self.src.loc(node),
                                    "unpack it first: a, b = ..., or index it with a constant: t[0]")
        return value

    # -- expressions -----------------------------------------------------------------------------

    def expr(self, node: ast.expr, env: dict[str, Atom], hint: str | None) -> Atom:
        """Trace `node`; its own equation (if it makes one) gets `hint`, nested ones temporaries."""
        if isinstance(node, ast.Constant):
            return Lit(node.value)
        if isinstance(node, ast.Name):
            return self.lookup(node.id, node, env)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, env, hint)
        if isinstance(node, ast.UnaryOp):
            x = self.number(self.expr(node.operand, env, None), node.operand)
            return x if isinstance(node.op, ast.UAdd) else self.apply(TABLE["neg"], (x,), hint, node)
        if isinstance(node, ast.BinOp):
            a = self.number(self.expr(node.left, env, None), node.left)
            b = self.number(self.expr(node.right, env, None), node.right)
            return self.binop(node.op, a, b, hint, node)
        if isinstance(node, ast.Compare):
            a = self.number(self.expr(node.left, env, None), node.left)
            b = self.number(self.expr(node.comparators[0], env, None), node.comparators[0])
            return self.apply(TABLE[COMPARE[type(node.ops[0])]], (a, b), hint, node)
        if isinstance(node, ast.IfExp):
            known = self.truth(node.test, env)
            if known is not None:  # decided when the module is generated: only the taken side
                return self.expr(node.body if known else node.orelse, env, hint)
            if isinstance(node.test, (ast.BoolOp, ast.UnaryOp)):
                error = ShapeError if self.decided_on_assumed else UnsupportedSyntax  # as in `branch`
                raise error("`and`/`or`/`not` on data are not in flatgen's subset yet", self.src.loc(node.test),
                            "write one comparison, or nest: a if c1 else (b if c2 else d)")
            c = self.expr(node.test, env, None)
            a = self.number(self.expr(node.body, env, None), node.body)
            b = self.number(self.expr(node.orelse, env, None), node.orelse)
            out = self.apply(TABLE["where"], (c, a, b), hint, node)  # a select: both sides are computed
            self._may_share(out, a, b)  # Python's `a if c else b` is a or b itself, not a copy
            return out
        if isinstance(node, ast.Call):
            return self.call(node, env, hint)
        if isinstance(node, (ast.Tuple, ast.List)):  # a list of values is a tuple here: indexed, unpacked
            items = [self.expr(e, env, None) for e in node.elts]
            if all(isinstance(i, Lit) for i in items):
                return Lit(tuple(i.value for i in items))  # a constant: a shape, an axis tuple
            return tuple(items)  # a tuple of values exists only while tracing: unpacked, indexed or returned
        if isinstance(node, ast.Subscript):
            return self.subscript(node, env, hint)
        if isinstance(node, ast.Slice):
            part = lambda p: None if p is None else self.static(p, env, "slice bounds")  # noqa: E731
            return Lit(slice(part(node.lower), part(node.upper), part(node.step)))
        fence.refuse(self.src, node)

    def binop(self, op: ast.operator, a: Atom, b: Atom, hint: str | None, node: ast.AST | None = None) -> Atom:
        if isinstance(op, ast.MatMult):
            return self.matmul(a, b, hint, node)
        if isinstance(op, ast.Pow) and isinstance(b, Lit) and _is_number(b.value) and b.value == 0 and isinstance(a, Var):
            # x ** 0 is the constant 1: its gradient is 0 everywhere, where the power rule would give
            # 0 * x ** -1 (nan at x = 0)
            return Lit(1.0) if a.shape == () else self.apply(TABLE["ones_like"], (a,), hint, node)
        return self.apply(TABLE[BINOPS[type(op)]], (a, b), hint, node)

    def matmul(self, a: Atom, b: Atom, hint: str | None, node) -> Atom:
        ranks = (len(a.shape) if a.shape is not None else None, len(b.shape) if b.shape is not None else None)
        name = MATMUL_BY_RANK.get(ranks, "matmul")
        return self.apply(TABLE[name], (a, b), hint, node)

    def apply(self, op: Op, ins: tuple[Atom, ...], hint: str | None, node: ast.AST | None = None, **params) -> Atom:
        """Emit `hint = op(ins)` with its shape, or fold it when every input is a number."""
        for a in ins:
            self.number(a, node or self.emit.stmt)
            if isinstance(a, Lit) and not (_is_number(a.value) or isinstance(a.value, bool)):  # True is 1
                raise UnsupportedSyntax(f"{a.value!r} is not a number", self.src.loc(node or self.emit.stmt),
                                        "use numbers and arrays in arithmetic")
        if ins and all(isinstance(a, Lit) for a in ins):
            value = op(*(a.value for a in ins), **params)
            if isinstance(value, np.generic):
                value = value.item()
            if _is_number(value) or (op.mask and isinstance(value, bool)):
                return Lit(value)
        try:
            shape = op.shape(*(a.shape for a in ins), **{**op.defaults, **params})
        except ValueError as e:
            raise ShapeError(str(e), self.src.loc(node or self.emit.stmt),
                                    "check the shapes flatgen was given (example=, shapes in [tool.flatgen])") from None
        out = Var(hint, "value", shape=shape) if hint else Var(None, "temp", shape=shape)
        self.emit.equation(out, op, ins, params)
        if op.name in INT_OPS and any(a in self.ints for a in ins) and all(
                a in self.ints or (isinstance(a, Lit) and _is_int(a.value)) for a in ins):
            self.ints.add(out)  # i + 1, n - 1: an integer (an index, a bound), never differentiated
        if not (op.expr.fresh or op.writes_item) and ins and isinstance(ins[0], Var) and shape != ():
            self.view_of[out] = self.view_of.get(ins[0], ins[0])  # a view of its input (an element is a copy)
        return out

    def call(self, node: ast.Call, env: dict[str, Atom], hint: str | None) -> Atom:
        func = node.func
        args = list(node.args)
        if isinstance(func, ast.Attribute) and not self._is_module_path(func.value, env):
            obj = self.expr(func.value, env, None)  # a method call on a value: x.sum(axis=1)
            name = METHODS.get(func.attr)
            if name is None or not isinstance(obj, Var):
                raise NameResolutionError(
                    f"the method `.{func.attr}()` is not in flatgen's subset", self.src.loc(func),
                    "methods in the subset: " + ", ".join(f".{m}()" for m in METHODS),
                )
            inputs = [obj]
            if name in ("numpy.reshape", "numpy.transpose") and len(args) > 1:  # x.reshape(2, 3)
                inputs.append(Lit(tuple(self.static(a, env, "shape") for a in args)))
                args = []
        elif isinstance(func, ast.Name) and isinstance(env.get(func.id), Closure):
            closure = env[func.id]
            # Called in the function that defined it (a branch of it too): it sees the names as they
            # are now, as a Python closure does.
            scope = env if env is closure.env or closure.env in getattr(env, "maps", ()) else closure.env
            return self.inline(closure.fn, node, env, hint, scope)
        else:
            if isinstance(func, ast.Name) and func.id in env:
                raise NameResolutionError(
                    f"`{func.id}` is a value here (a parameter or a local variable), not a function",
                    self.src.loc(func), f"rename the value, or the module-level function {func.id}()",
                )
            name = self.dotted(func, env)
            helper = self.src.functions.get(name) if "." not in name else None
            if helper is not None:
                return self.inline(helper, node, env, hint)
            inputs = []
        if name == "builtins.len":
            if len(args) != 1 or node.keywords:
                raise UnsupportedSyntax("len() takes one array", self.src.loc(node))
            shape = self._shape_of(self.expr(args[0], env, None), node)
            if not shape:
                raise ShapeError("len() of a scalar", self.src.loc(node), "len() takes an array")
            return Lit(shape[0])
        op = CALLS.get(name)
        if op is None:
            raise NameResolutionError(
                f"`{ast.unparse(func)}` ({name}) is not a function flatgen can differentiate",
                self.src.loc(func), _call_hint(name),
            )
        inputs += [self.expr(a, env, None) for a in args]
        kwargs = {k.arg: self.static(k.value, env, f"`{k.arg}=`") for k in node.keywords}
        return self.dispatch(op, inputs, kwargs, hint, node)

    def dispatch(self, op: Op, inputs: list[Atom], kwargs: dict, hint: str | None, node: ast.Call) -> Atom:
        """Map a numpy-style call (positional and keyword arguments) onto a table row and its params."""
        family = op.name

        def takes(*names):
            unknown = [k for k in node.keywords if k.arg not in names]
            if unknown:
                raise UnsupportedSyntax(
                    f"`{ast.unparse(node.func)}` takes no keyword argument `{unknown[0].arg}=` in flatgen's subset",
                    self.src.loc(unknown[0]), f"keyword arguments here: {', '.join(names) or 'none'}")

        def static_arg(i, what):
            if len(inputs) <= i:
                return None
            if not isinstance(inputs[i], Lit):
                raise UnsupportedSyntax(f"{what} must be a constant", self.src.loc(node), "write the number(s) in")
            return inputs[i].value

        if family in REDUCTIONS:
            takes("axis", "keepdims")
            self._arity(node, inputs, 1, 2)
            axis = kwargs.get("axis", static_arg(1, "the axis"))
            keepdims = bool(kwargs.get("keepdims", False))
            x = inputs[0]
            all_axes = axis is None or (x.shape is not None and len(_axes(axis)) == len(x.shape))
            row = family if keepdims or all_axes else f"{family}_axis"
            return self.apply(TABLE[row], (x,), hint, node, axis=_tuple_axis(axis), keepdims=keepdims)
        if family == "reshape":
            takes("shape", "newshape")
            self._arity(node, inputs, 1, 2)
            shape = kwargs.get("shape", kwargs.get("newshape", static_arg(1, "the shape")))
            shape = (shape,) if isinstance(shape, int) else tuple(shape or ())
            return self.apply(op, (inputs[0],), hint, node, shape=shape)
        if family == "transpose":
            takes("axes")
            self._arity(node, inputs, 1, 2)
            axes = kwargs.get("axes", static_arg(1, "the axes"))
            if axes is None:
                return self.apply(TABLE["T"], (inputs[0],), hint, node)
            axes = tuple(axes)
            return self.apply(op, (inputs[0],), hint, node, axes=axes, inverse=tuple(int(i) for i in np.argsort(axes)))
        if family == "expand_dims":
            takes("axis")
            self._arity(node, inputs, 1, 2)
            axis = kwargs.get("axis", static_arg(1, "the axis"))
            return self.apply(op, (inputs[0],), hint, node, axis=_tuple_axis(axis))
        if family in ("zeros", "ones"):
            takes("shape")
            shape = kwargs.get("shape", static_arg(0, "the shape"))
            shape = (shape,) if isinstance(shape, int) else tuple(shape or ())
            return self.apply(op, (), hint, node, shape=shape)
        takes()
        n = len(op.expr.slots)
        if family == "pow":  # np.power(x, 0) is x ** 0
            self._arity(node, inputs, 2, 2)
            return self.binop(ast.Pow(), inputs[0], inputs[1], hint, node)
        if family == "matmul":  # np.dot / np.matmul: the row depends on the operands' ranks
            self._arity(node, inputs, 2, 2)
            return self.matmul(inputs[0], inputs[1], hint, node)
        self._arity(node, inputs, n, n)
        return self.apply(op, tuple(inputs), hint, node)

    def _arity(self, node: ast.Call, inputs, low: int, high: int) -> None:
        if not low <= len(inputs) <= high:
            want = str(low) if low == high else f"{low} to {high}"
            raise UnsupportedSyntax(
                f"`{ast.unparse(node.func)}` takes {want} argument(s) here, got {len(inputs)}", self.src.loc(node),
                "max(a, b) and min(a, b) take exactly two values (np.max(x) reduces an array)"
                if ast.unparse(node.func) in ("max", "min") else "pass the arguments the numpy function takes",
            )

    def attribute(self, node: ast.Attribute, env: dict[str, Atom], hint: str | None) -> Atom:
        if self._is_module_path(node.value, env):
            return self.constant(self.dotted(node, env), node)
        x = self.expr(node.value, env, None)
        if node.attr == "T" and isinstance(x, Var):
            return self.apply(TABLE["T"], (x,), hint, node)
        if node.attr in ("shape", "ndim", "size"):
            shape = self._shape_of(x, node)
            if isinstance(x, Var) and x.role == "param" and x.hint in self.assumed:
                self.decided_on_assumed = True
            return Lit({"shape": shape, "ndim": len(shape), "size": int(np.prod(shape))}[node.attr])
        raise UnsupportedSyntax(
            f"the attribute `.{node.attr}` of a value is not in flatgen's subset", self.src.loc(node),
            "on arrays: .T, .shape, .ndim, .size, and the methods .sum() .mean() .max() .min() .reshape() .transpose()",
        )

    def _shape_of(self, x: Atom, node) -> tuple:
        if x.shape is None:
            raise ShapeError(
                "the shape of this array is not known when the module is generated", self.src.loc(node),
                "give example shapes: flatgen.flat(f, example=(...)), or `shapes` in [tool.flatgen]",
            )
        return x.shape

    def subscript(self, node: ast.Subscript, env: dict[str, Atom], hint: str | None) -> Atom:
        x = self.expr(node.value, env, None)
        dynamic = self.dynamic_index(node.slice, env) if isinstance(x, Var) else None
        if dynamic is not None:  # x[i] with a run-time integer i (a rolled loop's index)
            sig, ints, shape_idx = dynamic
            self._index_shape(x, shape_idx, node)
            return self.apply(index_at(sig), (x, *ints), hint, node, shape_idx=shape_idx)
        idx = self.static(node.slice, env, "an index")
        if isinstance(x, tuple):  # an item of a tuple of values
            try:
                item = x[idx]
            except (TypeError, IndexError) as e:
                raise UnsupportedSyntax(f"cannot index a tuple of {len(x)} with {idx!r}: {e}", self.src.loc(node)) from None
            return item
        if isinstance(x, Lit):
            try:
                return Lit(x.value[idx])
            except (TypeError, IndexError) as e:
                raise ShapeError(f"cannot index {x.value!r} with {idx!r}: {e}", self.src.loc(node)) from None
        if not isinstance(idx, tuple):
            idx = (idx,)
        for i in idx:
            if not (i is None or i is Ellipsis or isinstance(i, slice) or (isinstance(i, int) and not isinstance(i, bool))):
                raise UnsupportedSyntax(f"index {i!r} is not in flatgen's subset", self.src.loc(node.slice),
                                        "index with constant ints, slices, None and ...")
        return self.apply(TABLE["index"], (x,), hint, node, idx=idx[0] if len(idx) == 1 else idx)

    def dynamic_index(self, node: ast.expr, env):
        """(signature, integer variables, index for the shape rule) when the index holds a run-time
        integer (a loop index, or arithmetic on one), else None (a constant index)."""
        parts = node.elts if isinstance(node, ast.Tuple) else [node]
        if not any(isinstance(p, (ast.Name, ast.BinOp, ast.UnaryOp)) for p in parts):
            return None
        with self.emit.trial() as trial:
            values = [None if isinstance(p, ast.Slice) else self.expr(p, env, None) for p in parts]
            if not any(isinstance(v, Var) for v in values):
                trial.undo()  # a constant index after all: x[n - 1] with n a constant
                return None
        sig, ints, shape_idx = [], [], []
        for p, v in zip(parts, values):
            if isinstance(v, Var):
                if v not in self.ints or v.shape != ():
                    raise UnsupportedSyntax("an index must be a constant or an integer loop index (arithmetic on one)",
                                            self.src.loc(p), "index with a loop's variable: for i in range(n): x[i]")
                sig.append("#")
                ints.append(v)
                shape_idx.append(0)
            else:
                value = self.static(p, env, "an index") if v is None else v.value
                if not (value is None or value is Ellipsis or isinstance(value, slice) or _is_int(value)):
                    raise UnsupportedSyntax(f"index {value!r} is not in flatgen's subset", self.src.loc(p),
                                            "index with constant ints, slices, None and ...")
                sig.append(ast.unparse(constant(value)))
                shape_idx.append(value)
        return tuple(sig), tuple(ints), shape_idx[0] if len(shape_idx) == 1 else tuple(shape_idx)

    def _index_shape(self, x: Var, idx, node) -> tuple | None:
        try:
            return shapes.index(x.shape, idx=idx)
        except ValueError as e:
            raise ShapeError(str(e), self.src.loc(node)) from None

    def static(self, node: ast.expr, env: dict[str, Atom], what: str):
        """A trace-time constant: a number, a tuple of them, None, a bool, a slice."""
        with self.emit.trial() as trial:
            value = self.expr(node, env, None)
            if not isinstance(value, Lit) or trial.emitted:  # the error undoes the trial's equations
                raise UnsupportedSyntax(f"{what} must be a constant known when the module is generated",
                                        self.src.loc(node), "write a number, a tuple of numbers, or use x.shape")
        return value.value

    def inline(self, fn: ast.FunctionDef, call: ast.Call, env: dict[str, Atom], hint: str | None,
               enclosing: dict | None = None) -> Atom:
        if fn.name in self.stack:
            chain = " -> ".join([*self.stack, fn.name])
            raise UnsupportedSyntax(
                f"recursion is not in flatgen's subset ({chain})", self.src.loc(call),
                "flat code is straight-line: write the recursion out as a fixed number of steps",
            )
        fence.check_function(self.src, fn, helper=True)
        bound = self.bind_call(fn, call, env)
        self.hashed.append(self._segment(fn))
        self.stack.append(fn.name)
        self.callers.append(env)
        try:
            scope = bound if enclosing is None else ChainMap(bound, enclosing)  # writes stay local
            with self.emit.elsewhere():
                result = self._body(fn, scope, f"{fn.name}_", hint or f"{fn.name}_out")
        finally:
            self.stack.pop()
            self.callers.pop()
        return result

    def bind_call(self, fn: ast.FunctionDef, call: ast.Call, env: dict) -> dict:
        """A helper's parameters bound as Python binds them: by position, by keyword, else the default."""
        a = fn.args
        positional = [p.arg for p in a.posonlyargs + a.args]
        keyword_only = [p.arg for p in a.kwonlyargs]
        usage = f"call it as {fn.name}({', '.join(positional + [f'{k}=...' for k in keyword_only])})"
        if len(call.args) > len(positional):
            raise UnsupportedSyntax(f"{fn.name}() takes {len(positional)} positional argument(s), got {len(call.args)}",
                                    self.src.loc(call), usage)
        bound = {p: self.expr(v, env, None) for p, v in zip(positional, call.args)}
        for kw in call.keywords:
            if kw.arg not in positional + keyword_only:
                raise UnsupportedSyntax(f"{fn.name}() has no parameter `{kw.arg}`", self.src.loc(kw), usage)
            if kw.arg in bound:
                raise UnsupportedSyntax(f"{fn.name}() got `{kw.arg}` twice", self.src.loc(kw), usage)
            bound[kw.arg] = self.expr(kw.value, env, None)
        defaults = dict(zip(positional[len(positional) - len(a.defaults):], a.defaults))
        defaults |= {k: d for k, d in zip(keyword_only, a.kw_defaults) if d is not None}
        for p in positional + keyword_only:
            if p not in bound:
                if p not in defaults:
                    raise UnsupportedSyntax(f"{fn.name}() is missing the argument `{p}`", self.src.loc(call), usage)
                with self.emit.elsewhere():  # evaluated where Python evaluates it: the module
                    bound[p] = self.expr(defaults[p], {}, None)
                if isinstance(bound[p], Var):
                    self.defaults.add(self.view_of.get(bound[p], bound[p]))
        return bound

    # -- names -----------------------------------------------------------------------------------

    def lookup(self, name: str, node: ast.AST, env: dict[str, Atom]) -> Atom:
        if name in env:
            if isinstance(env[name], OneBranch):
                raise (ShapeError if self.decided_on_assumed else NameResolutionError)(
                    f"`{name}` is assigned in only one branch of the `if` on line {env[name].stmt.lineno}",
                    self.src.loc(node), f"give `{name}` a value before the `if`, or in both branches")
            if isinstance(env[name], Closure):
                raise NameResolutionError(f"`{name}` is a function, used here as a value", self.src.loc(node),
                                          f"call it: {name}(...)")
            if isinstance(env[name], LoopLocal):
                raise NameResolutionError(
                    f"`{name}` is first assigned inside the loop on line {env[name].stmt.lineno}, which may run zero times",
                    self.src.loc(node), f"give `{name}` a value before the loop")
            return env[name]
        return self.constant(self.dotted(node, env), node)

    def _is_module_path(self, node: ast.expr, env) -> bool:
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
        if not values and self.decided_on_assumed and name not in self.src.functions:
            raise ShapeError(f"name `{name}` has no value here, after a decision on a shape flatgen assumed (a scalar)",
                             self.src.loc(node), "give the shapes: flatgen.flat(f, example=(...)), or call it first")
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
            if not isinstance(value, Lit) or trial.emitted or not _is_number(value.value):
                self._constants.pop(name, None)
                raise NameResolutionError(  # and the trial's equations are undone
                    f"module-level `{name}` is not a numeric constant flatgen can read", self.src.loc(node),
                    "module constants must be numbers (or arithmetic on numbers); pass anything else as a parameter",
                )
        self._constants[name] = value
        self.hashed.append(f"{name} = {value.value!r}")
        return value

    def _segment(self, fn: ast.FunctionDef) -> str:
        return ast.get_source_segment(self.src.text, fn) or ast.dump(fn)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


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


def _written_in_place(body: list[ast.stmt]) -> set[str]:
    """The names of arrays statements write items into (`z[i] = v`, `z[i] += v`)."""
    return {n.value.id for stmt in body for n in ast.walk(stmt)
            if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name)}


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _axes(axis) -> tuple:
    return (axis,) if isinstance(axis, int) else tuple(axis)


def _tuple_axis(axis):
    """Axis params as numpy takes them: None, an int, or a tuple of ints."""
    return tuple(axis) if isinstance(axis, list) else axis


def _op_symbol(op: ast.operator) -> str:
    return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}[type(op)]


def _call_hint(name: str) -> str:
    known = sorted({c.split(".")[-1] for c in CALLS if c.startswith("numpy.")})
    if name.startswith("numpy."):
        return "numpy functions in the subset: " + ", ".join(f"np.{k}" for k in known)
    if name.startswith("math."):
        return "math functions in the subset: " + ", ".join(sorted(c for c in CALLS if c.startswith("math.")))
    if name.split(".")[0] in ("builtins", "eval", "exec", "getattr", "print", "open"):
        return "flat code calls no builtins but abs, max, min and len"
    return "call numpy/math functions from the subset, flatgen.sigmoid, or a helper defined in this module"
