"""Fuzzing the language: random programs from tests/fuzzgen_language.py, each checked six ways.

The programs combine, at random, what README.md lists under "The subset" beyond arithmetic:
`if`/`elif`/`else` on data (nested, in unrolled loops, in helpers and nested helpers; names bound in
both branches, before and in one, or local to one; constants, aliases and computed values), branches
and `a if c else b` decided when the module is generated (module constants, shapes, loop indices,
and/or/not), selects on data, tuples and lists (built, unpacked, swapped, nested, indexed, from
helpers), several return values, helpers with keyword, keyword-only and default arguments, nested
pure helpers reading the enclosing names, item assignment into local arrays, a small array parameter
now and then, and the scalar primitives with fan-out.  See fuzzgen_language.py.

For every program (seed s) and each style ("lecture", "compact") with the program's math mode (None,
or True for Python-float points) and `free`, flatgen generates the module by the command-line path
(`parse.load_target("file.py:f")` + `pipeline.generate(src, fn, Options(...))`, then exec of
`g.source`) and/or by the decorator (`flatgen.flat(f, ...)` on the imported program, with the shapes
from example=, shapes= or the first call).  Then, at the program's point and for every upstream
gradient `seed=` the program lists (the default, and random tuples when it has several outputs):

1. the generated values (`f`, and the value of `f_value_and_grad`) == the interpreter's
   (`interpret.value_and_grad(g.graph, args, g.wrt, seed)`), bit for bit; every output a scalar;
2. the generated gradients == the interpreter's, to 1e-12 relative (atol scaled by the largest
   gradient element); each of its parameter's shape and of dtype float64;
3. both == central finite differences of the user's own function weighted by the seed (step
   1e-6 * max(1, |x|), rtol 1e-5, atol 1e-7 * the differences' scale plus a bound on their
   rounding), computed in np.longdouble.  Skipped (and counted) where differences cannot be
   trusted: where a condition on data, an abs, a max or a min decides differently when a parameter
   moves 1 or 10 steps either way ("flip": the generator keeps conditions 1e-4 away from flipping,
   so these are the steep ones), or, element by element, where the step and a tenth of it disagree
   ("steep").  The tolerance never exceeds 10% of the difference it checks (numerics.fd_verdict): an
   element where it would is skipped and counted as "loose", never passed; an element whose
   differences are exactly 0 (the function is flat along it) must be within atol of 0;
4. the user's own function (math, builtins) == the generated values to 1e-12 relative (and 4 ulps
   of the largest value inside, for cancellation);
5. the module is Black-stable: `flatgen.format.format_source(g.source) == g.source`;
6. branches stay branches: the trace has equations under a condition exactly when the program has an
   `if` on data that the trace meets (the generator counts them), and each generated function has an
   `if` statement exactly when its graph has such equations (in the lecture style, both functions
   then have one); a program whose ifs are all decided when generating has no `if` at all.

Rolled loops have programs of their own (fuzzgen_language.generate_loops, test_fuzz_loops): int
parameters (loop counts, Python ints 0 to 5, never differentiated: the gradients are for the other
parameters), `for i in range(...)` over them and over an enclosing loop's index, `while` loops on data
that certainly end, constant loops longer than flatgen unrolls, and the unroll option (None: the default;
0: every loop rolled; 1 or 2), given to the decorator (`flat(f, unroll=...)`) and to the command-line
path (`Options(unroll=...)`, and then `flatgen show FILE.py:f --unroll K ...` must print the same
module).  The same six checks, with these differences: a loop's frame is no condition (check 6 counts
`if`s only); the finite differences move only the float parameters, and a `while` whose count of
iterations changes nearby counts as a flip (its condition is a decision, once per iteration).

CI runs FUZZ_N programs (160: seeds 0..159, in batches of 20; about 25 s) and LOOPS_N loop programs (70,
about 20 s).  On demand, any number from any first seed (3000 take about eight minutes on one core):

    FLATGEN_FUZZ_LANGUAGE_N=3000 python -m pytest -q tests/test_fuzz_language.py
    FLATGEN_FUZZ_LANGUAGE_N=3000 FLATGEN_FUZZ_LANGUAGE_SEED=100000 python -m pytest -q tests/test_fuzz_language.py
    FLATGEN_FUZZ_LOOPS_N=1500 FLATGEN_FUZZ_LOOPS_SEED=100000 python -m pytest -q tests/test_fuzz_language.py -k loop_seeds

A failure names the seed and prints the whole program, its point, how it was generated and the
error.  To reproduce:

    python tests/fuzzgen_language.py SEED                             # the program, its point, its configs
    FLATGEN_FUZZ_LANGUAGE_SEED=SEED FLATGEN_FUZZ_LANGUAGE_N=1 python -m pytest -q tests/test_fuzz_language.py -k seeds
    python tests/fuzzgen_language.py --loops SEED                     # a loop program
    FLATGEN_FUZZ_LOOPS_SEED=SEED FLATGEN_FUZZ_LOOPS_N=1 python -m pytest -q tests/test_fuzz_language.py -k loop_seeds

A program that once found a bug goes into tests/fuzz_known.py (LANGUAGE), verbatim, and a minimal
program for the bug into REGRESSIONS: those are checked on every run.  Each batch of fuzzed programs
must have a non-zero gradient (for the default upstream gradient) in at least 90% of its programs
and finite differences checked in at least half of them.  The line "language fuzz: ..." at the end
of the run counts programs, generated modules, non-zero gradient elements, finite-difference checks
and skips; "loop fuzz: ..." the same for the loop programs, with how many use each kind of loop and
each unroll option.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import itertools
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from dataclasses import replace as dataclasses_replace
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import numpy as np
import pytest

import flatgen
import fuzz_known
import fuzzgen_language as fz
import fuzzing
from flatgen import interpret
from flatgen.graph import Graph, Lit, is_loop
from flatgen.parse import load_target
from flatgen.pipeline import Options, generate
from flatgen.simplify import simplify
from fuzzing import EPS, F64, FD_ATOL, FD_RTOL, GRAD_RTOL, LD
from numerics import fd_verdict, nonzero_entries

FUZZ_N = int(os.environ.get("FLATGEN_FUZZ_LANGUAGE_N", "160"))
FUZZ_SEED = int(os.environ.get("FLATGEN_FUZZ_LANGUAGE_SEED", "0"))
LOOPS_N = int(os.environ.get("FLATGEN_FUZZ_LOOPS_N", "70"))  # programs with rolled loops (generate_loops)
LOOPS_SEED = int(os.environ.get("FLATGEN_FUZZ_LOOPS_SEED", "0"))

# Programs that once found a bug (tests/fuzz_known.py: kept verbatim, since the generator has changed
# since): they must pass, on every run.  A new one: add the program there (seed -> (what it found, Program)).
KNOWN = fuzz_known.LANGUAGE

STEPS = (1, 10)  # a decision must not change this many steps away for the differences to count
DECISIONS = {"gt", "lt", "ge", "le", "eq", "ne", "abs", "maximum", "minimum", "max2", "min2"}  # (the programs reduce with sum/mean only)
IF_LINE = re.compile(r"^ +(?:if|elif) (?!np\.shape\().*:$", re.M)  # not the shape checks

STATS: Counter = Counter()
_TAGS = itertools.count()  # module names for the imported programs, never reused


@dataclass
class Built:
    """One generated module and how to call it, by either path."""

    label: str
    source: str
    graph: Graph  # the forward graph
    grad_graph: Graph
    style: str
    wrt: list[str]  # the parameters the gradients are for, in order
    forward: Callable
    value_and_grad: Callable  # (args, seed) -> (value, grads)
    interpret: Callable  # (args, seed) -> (value, grads), the reference


@dataclass
class Outcome:
    fd: str = "checked"  # the program: "checked" (some element was), "flip" (none: a decision flips nearby), ...
    counts: Counter = field(default_factory=Counter)  # per element and seed: numerics.fd_verdict's verdicts, "flip"
    nonzero: tuple = (0, 0)  # (non-zero gradient elements, elements) for the default upstream gradient
    builds: int = 0
    paths: Counter = field(default_factory=Counter)


# Minimal programs for the bugs this fuzzer found (each also in fuzz_known.LANGUAGE when a seed found it):
# name -> (body of `def f(...)` and what comes before it, the point, outputs, upstream gradients,
# `if`s on data, configs).  They must pass, on every run.
BOTH_PATHS = (fz.Config("lecture", None, False, ("cli", "decorator"), "example"),
              fz.Config("compact", None, True, ("cli", "decorator"), "call"))
REGRESSIONS = {
    # Both branches bind a name to the same value (an alias of one name, a module constant): the
    # name kept its value from before the `if`, or was unknown after it.
    "same alias in both branches": (
        "def f(x, y):\n    z = y\n    if x > 0:\n        w = x * 2.0\n        z = x\n    else:\n        z = x\n"
        "    return z * 2.0 + y\n", (1.0, 3.0), 1, (None,), 1, BOTH_PATHS),
    "same constant in both branches": (
        "C0 = 1.5\n\n\ndef f(x, y):\n    if x > 0:\n        w = x * y\n        z = C0\n    else:\n        z = C0\n"
        "    return z * x\n", (1.0, 3.0), 1, (None,), 1, BOTH_PATHS),
    # A nested helper called inside a branch read the enclosing names as they were before the `if`.
    "nested helper called in a branch": (
        "def f(x, y):\n    def g(u):\n        return u * s\n\n    s = x\n    if x > 0:\n        s = x * 2.0\n"
        "        w = g(y)\n    else:\n        w = g(y)\n    return w\n", (1.0, 3.0), 1, (None,), 1, BOTH_PATHS),
    # A name local to one branch, bound again in a branch later (the next iteration): refused.
    "one-branch name bound again": (
        "def f(x, y):\n    acc = y\n    for t in range(2):\n        if acc > 0:\n            w = acc * x\n"
        "            acc = w + 1.0\n        else:\n            acc = acc - x\n    return acc\n",
        (0.5, 3.0), 1, (None,), 1, BOTH_PATHS),
    # Math mode (Python floats) with a local array: math.sin got the array.
    "math mode with a local array": (
        "def f(x):\n    z = np.zeros(2)\n    z[0] = x\n    return np.sum(np.sin(z))\n", (0.7,), 1, (None,), 0,
        (fz.Config("lecture", True, False, ("cli", "decorator"), "example"),
         fz.Config("compact", None, False, ("decorator",), "call"))),
    # Several outputs, all constants: one output holding a tuple, and no seed= in the module.
    "several constant outputs": (
        "def f(x):\n    w = np.cos(1.0)\n    return w, 2.0\n", (0.7,), 2, (None, (0.0, 1.0), (0.5, -2.0)), 0, BOTH_PATHS),
    # A gradient zeroed before a backward `if` (a 0-d array), passed on unchanged by an add gate to two
    # names, then `+=` into one of them: the other changed too (numpy mode; wrong gradient 6.0, not 4.0).
    "zeroed gradient aliased then added to": (
        "def f(x):\n    a = x * 2.0\n    b = a + x\n    y = x + b\n    if y < 0:\n        y = y - 1.0\n    return y\n",
        (1.5,), 1, (None,), 1, BOTH_PATHS),
    # The decorator without shapes traces array parameters as scalars first: a branch on v.ndim then
    # left y unbound, and flatgen.flat raised instead of waiting for the first call's shapes.
    "decorator, shapes from the first call": (
        "def f(x, v):\n    if v.ndim == 1:\n        y = np.sum(v) * x\n    return y\n",
        (2.0, np.array([1.0, 2.0])), 1, (None,), 0,
        (fz.Config("lecture", None, False, ("cli", "decorator"), "call"),)),
    # A local called `seed`, and outputs that do not depend on the parameters: the module's keyword
    # became `seed_1` (f_value_and_grad(x, seed=...) raised TypeError).
    "a local called seed": (
        "def f(x):\n    seed = x * 2.0\n    return 1.0, 2.0\n", (0.7,), 2, (None, (0.0, 1.0)), 0, BOTH_PATHS),
    "decorator, shapes from the first call, or": (
        "def f(x, v):\n    if v.ndim == 1 or x > 2.0:\n        y = np.sum(v) * x\n    else:\n        y = x\n"
        "    return y\n", (1.0, np.array([1.0, 2.0])), 1, (None,), 0,
        (fz.Config("lecture", None, False, ("cli", "decorator"), "call"),)),
    # A name holding an int in one branch: its zeroed gradient was an int array (+= raised), and the
    # compact style handed the int on as a gradient (3, not 3.0).
    "int constant in a branch": (
        "def f(x):\n    a = 2\n    if x > 1.0:\n        a = x\n    if x > 0.0:\n        y = a * x\n    else:\n"
        "        y = x\n    return y\n", (0.5,), 1, (None,), 2, BOTH_PATHS),
    "int constant in a branch, compact": (
        "def f(x):\n    a = 3\n    if x > 2.0:\n        a = x * 2.0\n    return a * x\n", (0.5,), 1, (None,), 1,
        BOTH_PATHS),
}


# Minimal programs for the bugs the loop fuzzer (generate_loops) found when rolled loops were new
# (fixed in 29ff434), in the same form, with the unroll option last (None: flatgen's default).
MATH_PATHS = (fz.Config("lecture", True, False, ("cli", "decorator"), "example"),
              fz.Config("compact", True, True, ("cli", "decorator"), "call"))
REGRESSIONS.update({
    # Math mode: a select's contribution (`0.0 if c else g`, the math form of np.where) added to a
    # gradient that is not flatgen's own was written `grad_x = grad_x + 0.0 if t1 else grad_z`, which
    # Python reads as `(grad_x + 0.0) if t1 else grad_z`: the first contribution is lost when c is false
    # (found by loop seed 62 of the generator with integer literals; open since 6739455).
    "select added to a shared gradient, math mode": (
        "def f(x, y):\n    z = 2.0 if y > 0.0 else x\n    return z + x\n", (0.7, -0.5), 1, (None,), 0, MATH_PATHS),
})
ZERO_ONE = (fz.Config("lecture", None, False, ("cli", "decorator"), "example"),
            fz.Config("compact", None, True, ("cli", "decorator"), "call"))
REGRESSIONS.update({
    # A value computed before a rolled loop, read by the backward of an earlier gate (sin reads v; exp
    # reads its own output), is updated in place by the loop: the backward reads the loop's final value.
    "loop overwrites a value an earlier gate's backward reads": (
        "def f(x, n):\n    v = x * 2.0\n    h = np.sin(v)\n    for t in range(n):\n        v = v * 0.5\n    return h + v\n",
        (0.7, 2), 1, (None,), 0, ZERO_ONE, None),
    "loop overwrites the output of exp before it": (
        "def f(x, n):\n    x = np.exp(x)\n    for t in range(n):\n        x = 0.5 * x\n    return x\n",
        (0.3, 1), 1, (None,), 0, ZERO_ONE, None),
    "while in a loop overwrites what the loop's backward reads": (
        "def f(x, y):\n    w = y\n    h = y\n    for t in range(2):\n        h = h * w\n        e = 2.0\n"
        "        while e > 1.0:\n            w = x\n            e = e * 0.5\n    return h\n",
        (1.0, 3.0), 1, (None,), 0, ZERO_ONE, 0),
    # range(n - 1) where n is not yet a bare range() bound: refused as not an integer.
    "range(n - 1) as the first use of n": (
        "def f(x, n):\n    for i in range(n - 1):\n        x = x * 2.0\n    return x\n", (0.7, 3), 1, (None,), 0,
        ZERO_ONE, None),
    # A name first bound in a rolled loop (no value after it) meets an `if` on data that binds it:
    # AttributeError 'LoopLocal' object has no attribute 'shape' (also: the same loop variable in both branches).
    "loop variable in both branches": (
        "def f(x, n):\n    if x > 0.0:\n        for t in range(n):\n            x = x * 2.0\n    else:\n"
        "        for t in range(n):\n            x = x * 3.0\n    return x\n", (0.5, 2), 1, (None,), 1, ZERO_ONE, None),
    "loop-local name bound again in a branch": (
        "def f(x, n):\n    for i in range(n):\n        s = x\n    if x > 0.0:\n        s = x * 2.0\n    return x\n",
        (0.7, 3), 1, (None,), 1, ZERO_ONE, None),
    # Two names a loop updates, one assigned the other's new value: NameError x_2 in the module.
    "loop state aliasing loop state": (
        "def f(x, y, n):\n    for t in range(n):\n        x = x + 1.0\n        y = x\n    return x * y\n",
        (0.5, 2.0, 2), 1, (None,), 0, ZERO_ONE, None),
    # The interpreter runs a `while`'s condition with the enclosing loop's frames: it reruns the
    # enclosing `for` around it, leaving its index at the last value (reference value 4.0, not 3.0).
    "while in a rolled for, reading its index": (
        "def f(xs, n):\n    s = 0.0\n    for t in range(n):\n        e = 2.0\n        while e > 1.0:\n"
        "            s = s + xs[t]\n            e = e * 0.5\n    return s\n", (np.array([1.0, 2.0, 3.0]), 2), 1, (None,),
        0, ZERO_ONE, None),
    # x * x of the loop's value: the second rule reads the gradient the first one overwrote (1.71, not 1.8).
    "x * x in a loop": (
        "def f(x, n):\n    for i in range(n):\n        x = x * x\n    return x\n", (0.9, 1), 1, (None,), 0, ZERO_ONE, None),
    # A gate whose gradient reads its output, on the loop's value: the backward reads the restored input.
    "x / y in a loop": (
        "def f(x, y, n):\n    for t in range(n):\n        x = x / y\n    return x\n", (0.9, 0.5, 1), 1, (None,), 0,
        ZERO_ONE, None),
    "np.tanh(x) in a loop": (
        "def f(x, n):\n    for t in range(n):\n        x = np.tanh(x)\n    return x\n", (0.9, 2), 1, (None,), 0,
        ZERO_ONE, None),
    # Parallel assignment in a loop: the new values are copied one after the other (no swap happens).
    "swap in a loop": (
        "def f(x, y, n):\n    for t in range(n):\n        x, y = y, x\n    return x * 2.0 + y\n", (0.7, 0.2, 1), 1,
        (None,), 0, ZERO_ONE, None),
    # A `while` in a branch on data, on a name the branch binds: NameError h_1 in the module.
    "while in a branch": (
        "def f(x):\n    if x < 0.0:\n        h = x * 2.0\n    else:\n        h = 0.0\n        while h < 1.5:\n"
        "            h += 1.0\n    return x + h\n", (0.8,), 1, (None,), 1, ZERO_ONE, None),
    # Found after 29ff434.  A loop on a name, then a loop on it in one branch of an `if`: the
    # gradient of the other branch went to a name that was zeroed after the `if` (0.0, not 1.0).
    "loop, then a loop on the same name in a branch": (
        "def f(x, y, n):\n    for i in range(n):\n        y = x\n    if y > 2.0:\n        for t in range(n):\n"
        "            y = x\n        y = y * 2.0\n    return y\n", (-0.3, 1.19, 0), 1, (None,), 1, ZERO_ONE, 0),
    # A value the outer body's backward reads (h in h * h; the output of tanh) is updated by an inner
    # loop in the next iteration, and not saved per outer iteration.
    "inner loop overwrites what the outer body's backward reads": (
        "def f(x, n):\n    b = 0.5\n    h = x\n    for t in range(n):\n        for i in range(n):\n"
        "            h = h + b\n        b = h * h\n    return h\n", (0.3, 2), 1, (None,), 0, ZERO_ONE, None),
    "inner while overwrites the output of tanh": (
        "def f(x, n):\n    for t in range(n):\n        s = 1.0\n        while 0.5 < s:\n            s *= 0.6\n"
        "            x += 0.5\n        x = np.tanh(x)\n    return x\n", (-0.65, 2), 1, (None,), 0, ZERO_ONE, None),
    # A row of a 2-D array, z[t] (a numpy view), read in a loop that writes into the array in place:
    # the backward reads the row after the write.
    "row of an array written in place in a loop": (
        "def f(x, m):\n    z = np.ones((4, 2))\n    for t in range(m):\n        z[t] = z[t] * x\n    return np.sum(z)\n",
        (-0.88, 2), 1, (None,), 0, ZERO_ONE, None),
    # An inner rolled loop's variable that was bound before the outer loop (here by an unrolled loop,
    # or `k = 0.0`): refused as "`t` is a number or an array before this loop and not after its body".
    "inner loop variable bound before the outer loop": (
        "def f(x, n):\n    for t in range(2):\n        x = x * 2.0\n    for i in range(n):\n        for t in range(n):\n"
        "            x = x * 0.5\n    return x\n", (0.7, 2), 1, (None,), 0, ZERO_ONE, None),
    "column write from a row in a loop": (
        "def f(y, n):\n    z = np.ones((2, 2))\n    for t in range(n):\n        z[:, 0] = z[0] * y\n    return np.sum(z)\n",
        (-0.94, 2), 1, (None,), 0, ZERO_ONE, None),
})


def hand_written(name: str, source: str, args, n_outputs=1, seeds=(None,), data_ifs=0, configs=BOTH_PATHS,
                 wrt=None, unroll=None) -> fz.Program:
    """A Program from a hand-written source; the parameters given Python ints are loop counts."""
    import ast

    node = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == "f")
    shapes = tuple((a.arg, tuple(np.shape(v))) for a, v in zip(node.args.args, args))
    ints = tuple(a.arg for a, v in zip(node.args.args, args) if isinstance(v, int) and not isinstance(v, bool))
    return fz.Program(-1, fz.HEADER + "\n\n" + source, tuple(args), shapes, wrt, n_outputs, seeds, data_ifs,
                      (name,), False, configs, 1, ints, unroll)


# -- generating, both ways ----------------------------------------------------------------------------------


def import_program(path: Path):
    """Import the written program as a real module: `f` is a function whose source inspect can read."""
    return fuzzing.import_program(path, f"fuzz_language_{next(_TAGS)}")


def build_cli(program: fz.Program, config: fz.Config, path: Path) -> Built:
    shapes = tuple((n, s) for n, s in program.shapes if s) or None
    options = Options(wrt=program.wrt, shapes=shapes, math=config.math, style=config.style, free=config.free,
                      **({} if program.unroll is None else {"unroll": program.unroll}))
    g = generate(*load_target(f"{path}:f"), options)
    if program.unroll is not None:
        check_command_line(program, config, path, g.source)
    ns: dict = {"__name__": f"flatgen_language_fuzz_{program.seed}"}
    exec(compile(g.source, f"<flatgen language fuzz {program.seed}>", "exec"), ns)
    vg = ns["f_value_and_grad"]
    return Built(
        f"cli {config.style} math={config.math} free={config.free}", g.source, g.graph, g.grad_graph,
        config.style, [v.hint for v in g.wrt], ns["f"],
        lambda args, seed: vg(*args) if seed is None else vg(*args, seed=seed),
        lambda args, seed: interpret.value_and_grad(g.graph, args, g.wrt, seed),
    )


def build_decorator(program: fz.Program, config: fz.Config, fn) -> Built:
    kwargs: dict = dict(wrt=program.wrt, math=config.math, style=config.style, free=config.free)
    if program.unroll is not None:
        kwargs["unroll"] = program.unroll
    if config.shapes_by == "example":
        kwargs["example"] = program.args
    elif config.shapes_by == "shapes":
        kwargs["shapes"] = dict(program.shapes)
    flat = flatgen.flat(fn, **kwargs)
    flat.value_and_grad(*program.args)  # the first call picks (or specialises) the module
    g = flat.generated
    return Built(
        f"decorator {config.style} math={config.math} free={config.free} shapes by {config.shapes_by}",
        flat.source, g.graph, g.grad_graph, config.style, [v.hint for v in g.wrt],
        getattr(flat.module, "f"),
        lambda args, seed: flat.value_and_grad(*args, seed=seed),
        lambda args, seed: flat.interpret(*args, seed=seed),
    )


def check_command_line(program: fz.Program, config: fz.Config, path: Path, source: str) -> None:
    """`flatgen show FILE.py:f --unroll K ...` (the command's own argument parsing, in process) prints
    the module the command-line path generated."""
    import contextlib
    import io

    from flatgen import cli

    argv = ["show", f"{path}:f", "--unroll", str(program.unroll), "--style", config.style]
    argv += [f"--shape={n}={','.join(map(str, s))}" for n, s in program.shapes if s]
    if program.wrt is not None:
        argv += ["--wrt", ",".join(program.wrt)]
    if config.math:
        argv.append("--math")
    if config.free:
        argv.append("--free")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    assert code == 0, f"flatgen {' '.join(argv)}: exit {code}\n{err.getvalue()}"
    assert out.getvalue() == source, f"flatgen {' '.join(argv)} printed another module than Options(unroll=...) made"
    STATS["command line --unroll"] += 1


# -- the checks ---------------------------------------------------------------------------------------------


def check(program: fz.Program, workdir: Path) -> Outcome:
    """All six checks for one program; raises (AssertionError or flatgen's own error) on a failure."""
    path = workdir / f"fuzz_language_{program.seed}.py"
    path.write_text(program.source)
    user = import_program(path)
    args = program.args
    outcome = Outcome()
    reference = {}  # seed -> the finite differences (None when skipped)
    for config in program.configs:
        for route in config.paths:
            built = build_cli(program, config, path) if route == "cli" else build_decorator(program, config, user)
            outcome.builds += 1
            outcome.paths[route] += 1
            check_black(built)
            check_branches(program, built)
            if outcome.builds == 1:
                outcome.fd = fd_skip_reason(built.graph, args, program) or "checked"
                if outcome.fd == "flip":
                    outcome.counts["flip"] += sum(int(np.size(program.args[program.params.index(n)]))
                                                  for n in built.wrt)
            for seed in program.seeds:
                with np.errstate(all="ignore"):
                    forward = built.forward(*args)
                    value, grads = built.value_and_grad(args, seed)
                    ref_value, ref_grads = built.interpret(args, seed)
                    env = interpret.run(built.graph, args)
                    mine = user(*args)
                check_values(built.label, program, forward, value, ref_value, mine, env)
                check_gradients(built.label, program, built.wrt, grads, ref_grads)
                if outcome.fd == "flip":
                    continue
                if seed not in reference:
                    reference[seed] = finite_differences(program, seed, env)
                    outcome.counts.update(v for name in built.wrt for v in reference[seed][name][2].ravel())
                if seed == program.seeds[0]:
                    outcome.nonzero = nonzero_entries(grads)
                for k, name in enumerate(built.wrt):
                    fd, tol, verdicts = reference[seed][name]
                    for who, g in (("generated", grads[k]), ("interpreter", ref_grads[k])):
                        g = np.asarray(g, dtype=np.float64)
                        for idx in np.ndindex(verdicts.shape):
                            if verdicts[idx] in ("checked", "zero"):
                                assert abs(g[idx] - fd[idx]) <= tol[idx], (
                                    f"{built.label}, seed={seed}: grad {name}{list(idx) if idx else ''}: {who} "
                                    f"{g[idx]!r} vs central differences {fd[idx]!r}; tolerance {tol[idx]:.3g}"
                                    + (" (the function is flat here)" if verdicts[idx] == "zero" else ""))
            if outcome.builds == 1 and outcome.fd != "flip":  # forward mode and second order (issue 17)
                check_modes(program, built, args)
    if outcome.fd != "flip":
        outcome.fd = "checked" if outcome.counts["checked"] else max(outcome.counts, key=outcome.counts.get,
                                                                       default="checked")
    return outcome


def check_modes(program: fz.Program, built: Built, args) -> None:
    """The JVP against <the generated gradient, a tangent>, the HVP against differences of the generated
    gradient (fuzzing.check_modes: scalar parameters and one output; others are left to tests/test_jvp.py)."""
    by_name = {p.hint: p for p in built.graph.params}
    result = SimpleNamespace(graph=built.graph, grad_graph=built.grad_graph, wrt=[by_name[n] for n in built.wrt])
    with np.errstate(all="ignore"):
        _, grads = built.value_and_grad(args, None)
    fuzzing.check_modes(result, args, lambda *a: built.value_and_grad(a, None), grads,
                        [program.params.index(n) for n in built.wrt], program.seed)


def outputs(value, n: int) -> tuple:
    if n == 1:
        return (value,)
    assert isinstance(value, tuple) and len(value) == n, f"expected {n} outputs, got {value!r}"
    return value


def magnitude(x) -> float:
    """The largest |element| of a float value (0 for the rest: Python ints are exact, and a loop may
    make one too large for a float, 4 ** 2 ** 12)."""
    if isinstance(x, bool) or not isinstance(x, (float, np.ndarray, np.generic)) or not np.size(x):
        return 0.0
    if np.asarray(x).dtype == object:
        return 0.0
    return float(np.max(np.abs(x)))


def check_values(label, program, forward, value, ref_value, mine, env) -> None:
    """Checks 1 and 4."""
    n = program.n_outputs
    ref, fwd, val, user = (outputs(x, n) for x in (ref_value, forward, value, mine))
    scale = max([magnitude(x) for x in env.values()] + [1e-300])
    for i, (r, a, b, u) in enumerate(zip(ref, fwd, val, user)):
        where = f"{label}: output {i}" if n > 1 else label
        assert np.shape(r) == np.shape(a) == np.shape(b) == (), f"{where}: not a scalar: {a!r}, {b!r}, {r!r}"
        assert np.array_equal(a, r), f"{where}: generated f() = {a!r}, interpreter = {r!r}"
        assert np.array_equal(b, r), f"{where}: generated f_value_and_grad value = {b!r}, interpreter = {r!r}"
        assert np.isclose(float(u), float(b), rtol=1e-12, atol=4 * F64 * scale), (
            f"{where}: the user's function = {u!r}, generated = {b!r}")


def check_gradients(label, program, wrt, grads, ref_grads) -> None:
    """Check 2."""
    shapes = dict(program.shapes)
    expected = list(program.wrt) if program.wrt is not None else program.floats  # (int parameters: never)
    assert wrt == expected, f"{label}: gradients for {wrt}, asked for {expected}"
    assert len(grads) == len(ref_grads) == len(wrt), f"{label}: {len(grads)} gradients, interpreter {len(ref_grads)}"
    for name, g, r in zip(wrt, grads, ref_grads):
        for who, x in (("generated", g), ("interpreter", r)):
            assert np.shape(x) == shapes[name], f"{label}: {who} grad {name} has shape {np.shape(x)}"
            assert np.result_type(x) == np.float64, f"{label}: {who} grad {name} = {x!r} is not a float64"
        scale = float(np.max(np.abs(r))) if np.size(r) else 0.0
        np.testing.assert_allclose(g, r, rtol=GRAD_RTOL, atol=GRAD_RTOL * scale + 1e-300,
                                   err_msg=f"{label}: grad {name}: generated vs interpreter")


def check_black(built: Built) -> None:
    """Check 5."""
    fuzzing.check_black(built.label, built.source)


def if_statements(source: str) -> tuple[int, int]:
    """The `if`/`elif` statements of the generated `f` and of `f_value_and_grad` (shape checks aside)."""
    forward, _, backward = source.partition("\ndef f_value_and_grad(")
    assert backward, "no f_value_and_grad in the module"
    return len(IF_LINE.findall(forward)), len(IF_LINE.findall(backward))


def conditions(e) -> list:
    """The `if` frames an equation runs under (a rolled loop's frame is no condition)."""
    return [f for f in e.frames if not is_loop(f)]


def all_eqns(graph: Graph) -> list:
    """The graph's equations and those of its `while` loops' conditions."""
    heads = {id(f): f for e in graph.eqns for f in e.frames if is_loop(f) and f.head}
    return list(graph.eqns) + [h for f in heads.values() for h in f.head]


def check_branches(program: fz.Program, built: Built) -> None:
    """Check 6: branches on data stay branches; branches decided when generating leave no `if`."""
    traced = any(conditions(e) for e in built.graph.eqns)
    assert traced == (program.data_ifs > 0), (
        f"{built.label}: the program has {program.data_ifs} `if`(s) on data that the trace meets, "
        f"but the forward graph has {'' if traced else 'no '}equations under a condition")
    in_f, in_vg = if_statements(built.source)
    forward = simplify(built.graph, built.style)
    want_f = any(conditions(e) for e in forward.eqns)
    want_vg = any(conditions(e) for e in built.grad_graph.eqns)
    assert bool(in_f) == want_f, (
        f"{built.label}: generated f has {in_f} `if` statement(s); its graph has "
        f"{'' if want_f else 'no '}equations under a condition")
    assert bool(in_vg) == want_vg, (
        f"{built.label}: generated f_value_and_grad has {in_vg} `if` statement(s); its graph has "
        f"{'' if want_vg else 'no '}equations under a condition")
    if built.style == "lecture" and program.data_ifs:
        assert in_f and in_vg, f"{built.label}: an `if` on data, but no `if` in the module (f: {in_f}, vg: {in_vg})"


# -- finite differences -------------------------------------------------------------------------------------


def decisions(graph: Graph, args) -> list:
    """What every comparison, abs, max and min decides at `args`, in the order they ran (a loop's once
    per iteration); a different sequence means a different path or a kink crossed."""
    out = []

    def record(e, values, result):
        if e.op.name not in DECISIONS:
            return
        a, *b = [np.asarray(x, dtype=np.float64) for x in values]
        if e.op.mask:
            d = np.asarray(result)
        elif e.op.name == "abs":
            d = np.sign(a)
        else:  # the first input wins ties, as max(a, b) returns a
            d = a >= b[0] if e.op.name in ("maximum", "max2") else a <= b[0]
        out.append((id(e), np.asarray(d).tobytes()))

    with np.errstate(all="ignore"):
        interpret.run(graph, args, on_eqn=record)
    return out


def moved(args, i: int, idx, step: float) -> tuple:
    p = list(args)
    if np.ndim(args[i]):
        x = np.array(args[i], dtype=np.float64)
        x[idx] += step
        p[i] = x
    else:
        p[i] = type(args[i])(args[i] + step)
    return tuple(p)


def fd_skip_reason(graph: Graph, args, program: fz.Program) -> str | None:
    """"flip" when a decision changes within STEPS steps of the point along any parameter, else None."""
    if not any(e.op.name in DECISIONS for e in all_eqns(graph)):
        return None
    here = decisions(graph, args)
    for i, name in enumerate(program.params):
        if name in program.ints:  # a loop count: never moved
            continue
        for idx in np.ndindex(np.shape(args[i])):
            h = EPS * max(1.0, abs(float(np.asarray(args[i])[idx])))
            for step in STEPS:
                for sign in (1, -1):
                    if decisions(graph, moved(args, i, idx, sign * step * h)) != here:
                        return "flip"
    return None


def finite_differences(program: fz.Program, seed, env) -> dict:
    """{parameter: (central differences of the seed-weighted user function, their tolerance, and each
    element's verdict: numerics.fd_verdict's "checked", "zero", "loose" or "steep")}."""
    fn = fz.numpy_function(program.source)
    n = program.n_outputs
    weights = (1.0,) + (0.0,) * (n - 1) if seed is None else seed

    def weighted(*a):
        out = fn(*a)
        return out if n == 1 else sum(np.longdouble(w) * o for w, o in zip(weights, out))

    ld_args = fuzzing.longdouble_args(program.args, keep={k for k, name in enumerate(program.params)
                                                          if name in program.ints})
    scale = max([magnitude(x) for x in env.values()] + [1.0])
    # Local arrays are float64 whatever goes in: those programs round in float64.
    unit = F64 if "np.zeros" in program.source or "np.ones" in program.source else LD
    result = {}
    for i, name in enumerate(program.params):
        if name in program.ints:
            continue
        shape = program.shapes[i][1]
        fd = np.zeros(shape)
        tols = np.zeros(shape)
        verdicts = np.empty(shape, dtype=object)
        pairs = []
        for idx in np.ndindex(shape):
            x = float(np.asarray(program.args[i])[idx])
            h = EPS * max(1.0, abs(x))
            with np.errstate(all="ignore"):
                coarse = fuzzing.central_difference(weighted, ld_args, i, idx, h)
                fine = fuzzing.central_difference(weighted, ld_args, i, idx, h / 10)
            pairs.append((idx, coarse, fine, h))
        gscale = max([1.0] + [abs(d) for _, c, f, _ in pairs for d in (c, f) if np.isfinite(d)])
        for idx, coarse, fine, h in pairs:
            atol = FD_ATOL * gscale + 16 * unit * scale / h  # + the differences' own rounding
            verdicts[idx] = fd_verdict(coarse, fine, atol, FD_RTOL)
            fd[idx] = coarse
            tols[idx] = atol + FD_RTOL * abs(coarse) if verdicts[idx] == "checked" else atol
        result[name] = (fd, tols, verdicts)
    return result


# -- running seeds ------------------------------------------------------------------------------------------


LOOP_KINDS = ("rolled for over an int parameter", "rolled for over a loop index", "nested rolled loops",
              "rolled constant loop (unroll option)", "rolled long constant loop", "while (counter)", "while (add)",
              "while (decay)", "while (newton)", "if on data in a rolled loop", "if on a rolled loop index",
              "loop in a branch on data", "loop in a helper", "dynamic index read", "dynamic index write",
              "array state updated in a loop", "zero iterations")


def run_seeds(seeds, workdir: Path, loops: bool = False) -> None:
    """Check each seed's program (generate_loops' with `loops`); one assertion at the end naming every
    failing seed, in full."""
    run_programs([program_for(seed, loops) for seed in seeds], workdir, loops, fuzzed=True)


@functools.lru_cache(maxsize=None)
def program_for(seed: int, loops: bool = False) -> fz.Program:
    """The seed's program, generated once per session (the batches, the feature and determinism tests
    share them; the determinism test also generates afresh)."""
    return fz.generate_loops(seed) if loops else fz.generate(seed)


def run_programs(programs, workdir: Path, loops: bool, fuzzed: bool) -> None:
    """Check each program; one assertion at the end naming every failing program, in full.  For fuzzed
    programs, also that they checked something: at least 90% with a non-zero gradient (a gradient of
    zeros agrees with everything), and finite differences checked on at least half of the programs."""
    key = "loop " if loops else ""
    if loops:
        for program in programs:
            STATS.update(f"loop feature {k}" for k in LOOP_KINDS if k in program.features)
            STATS[f"loop unroll={program.unroll}"] += 1
    checked = fuzzing.run_checks(programs, lambda program: check(program, workdir), report, STATS, key)
    fd_checked = 0
    for program, outcome in checked:
        STATS[f"{key}modules"] += outcome.builds
        STATS.update({f"{key}path {k}": v for k, v in outcome.paths.items()})
        STATS[f"{key}fd programs {outcome.fd}"] += 1
        STATS.update({f"{key}fd {k}": v for k, v in outcome.counts.items()})
        STATS[f"{key}data ifs"] += program.data_ifs > 0
        fd_checked += outcome.fd == "checked"
    if fuzzed:
        fuzzing.assert_gradients(checked, programs)
        # The finite-difference check must not quietly skip everything.
        assert fd_checked >= len(programs) // 2, (
            f"finite differences checked on only {fd_checked} of {len(programs)} programs")


def report(program: fz.Program, exc: BaseException) -> str:
    configs = "\n".join(f"  {c}" for c in program.configs)
    if fuzzing.is_known(fuzz_known.LANGUAGE, program):
        how = (f"fuzz_known.LANGUAGE[{program.seed}]   or   python -m pytest -q tests/test_fuzz_language.py "
               f"-k 'known and {program.seed}'")
    elif program.unroll is not None or program.ints:  # generate_loops
        how = (f"python tests/fuzzgen_language.py --loops {program.seed}   or   FLATGEN_FUZZ_LOOPS_SEED={program.seed} "
               f"FLATGEN_FUZZ_LOOPS_N=1 python -m pytest -q tests/test_fuzz_language.py -k loop_seeds")
    else:
        how = (f"python tests/fuzzgen_language.py {program.seed}   or   FLATGEN_FUZZ_LANGUAGE_SEED={program.seed} "
               f"FLATGEN_FUZZ_LANGUAGE_N=1 python -m pytest -q tests/test_fuzz_language.py -k seeds")
    return fuzzing.failure(
        f"{'loop ' if program.ints else ''}seed {program.seed}", how,
        f"args = {program.args!r}\nshapes = {program.shapes!r}, wrt = {program.wrt!r}, seeds = {program.seeds!r}, "
        f"unroll = {program.unroll!r}\nconfigs:\n{configs}", program.source, exc)


def language_line() -> str:
    return (
        f"language fuzz: {STATS['programs']} programs (seeds from {FUZZ_SEED}), {STATS['modules']} modules "
        f"(command line {STATS['path cli']}, decorator {STATS['path decorator']}), with ifs on data "
        f"{STATS['data ifs']}; {fd_summary('')}; failures {STATS['failures']}")


def loop_line() -> str:
    kinds = ", ".join(f"{k} {STATS['loop feature ' + k]}" for k in LOOP_KINDS)
    unrolls = ", ".join(f"{k[5:]} {v}" for k, v in sorted(STATS.items()) if k.startswith("loop unroll="))
    return (
        f"loop fuzz: {STATS['loop programs']} programs (seeds from {LOOPS_SEED}), {STATS['loop modules']} "
        f"modules (command line {STATS['loop path cli']}, of which also `flatgen show --unroll` "
        f"{STATS['command line --unroll']}; decorator {STATS['loop path decorator']}), with ifs on data "
        f"{STATS['loop data ifs']}; {unrolls}; programs with {kinds}; {fd_summary('loop ')}; "
        f"failures {STATS['loop failures']}")


summary = fuzzing.summary_fixture(STATS, {"programs": language_line, "loop programs": loop_line})


def fd_summary(key: str) -> str:
    return (
        f"{fuzzing.gradient_summary(STATS, key, entries='elements')}; finite differences (per element and upstream "
        f"gradient) checked on {STATS[f'{key}fd checked']} (in {STATS[f'{key}fd programs checked']} programs), "
        f"{fuzzing.skips_summary(STATS, key, skip='flip', where='near a flip')}"
    )


BATCHES = fuzzing.batches(FUZZ_SEED, FUZZ_N)


@pytest.mark.parametrize("seeds", BATCHES, ids=fuzzing.batch_ids(BATCHES))
def test_fuzz(seeds, tmp_path):
    run_seeds(seeds, tmp_path)


LOOP_BATCHES = fuzzing.batches(LOOPS_SEED, LOOPS_N)


@pytest.mark.parametrize("seeds", LOOP_BATCHES, ids=fuzzing.batch_ids(LOOP_BATCHES, "loop_seeds"))
def test_fuzz_loops(seeds, tmp_path):
    """Programs with rolled loops (fuzzgen_language.generate_loops), checked as the others are."""
    run_seeds(seeds, tmp_path, loops=True)


if KNOWN:  # no empty parametrization (pytest would report a skip)

    @pytest.mark.parametrize("seed", sorted(KNOWN))
    def test_known_program(seed, tmp_path):
        """A program that once found a bug (tests/fuzz_known.py says which)."""
        program = fuzzing.known_program(KNOWN, seed)
        run_programs([program], tmp_path, loops=bool(program.ints), fuzzed=False)


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regression(name, tmp_path):
    """A minimal program for a bug the fuzzer found (REGRESSIONS says which)."""
    source, args, n, seeds, data_ifs, configs, *unroll = REGRESSIONS[name]
    program = hand_written(name, source, args, n, seeds, data_ifs, configs, unroll=unroll[0] if unroll else None)
    outcome = check(program, tmp_path)
    assert outcome.builds == sum(len(c.paths) for c in configs)


# -- the fuzzer itself --------------------------------------------------------------------------------------


def _program_digest(seed: int, loops: bool = False, fresh: bool = True) -> str:
    p = (fz.generate_loops(seed) if loops else fz.generate(seed)) if fresh else program_for(seed, loops)
    text = f"{p.source}{p.args!r}{p.shapes!r}{p.wrt!r}{p.seeds!r}{p.data_ifs}{p.configs!r}"
    if loops:
        text += f"{p.ints!r}{p.unroll!r}"
    return hashlib.sha256(text.encode()).hexdigest()


def _digest(seeds, loops: bool = False) -> str:
    return fuzzing.digest(_program_digest(s, loops) for s in seeds)


@pytest.mark.parametrize("loops", [False, True], ids=["language", "loops"])
def test_generator_is_deterministic(loops):
    fuzzing.assert_deterministic(range(30), lambda s, fresh: _program_digest(s, loops, fresh=fresh),
                                 lambda s: program_for(s, loops).source,
                                 f"from test_fuzz_language import _digest; print(_digest(range(30), {loops}))",
                                 afresh=10)


# What the generator promises (fuzzgen_language.py's docstring): the CI seeds between them must write each.
PROMISED = [
    "if on data", "elif", "else", "nested if on data", "if on data in a loop", "if on data in a helper",
    "if on data in a nested helper", "assigned in every branch", "assigned before and in one branch",
    "local to one branch", "branch assigns constant", "branch assigns alias", "branch assigns computed",
    "static if", "static if on shapes", "static if on a loop index", "static and/or", "static not",
    "static and/or decided with data", "select on data", "select on constants", "select on a loop index",
    "tuple build", "list literal", "swap", "nested unpack", "unpack a tuple name", "unpack a helper's tuple",
    "helper returns a tuple", "index a helper's tuple", "tuple index", "tuple index negative",
    "tuple indexed by a loop index", "literal indexed", "2 outputs", "3 outputs", "return a tuple name",
    "return a helper's tuple", "return a name twice", "return a constant", "helper call", "helper calls helper",
    "keyword argument", "keyword-only argument", "helper keyword-only parameter", "helper default",
    "default used", "default from a module constant", "nested helper", "nested helper reads enclosing names",
    "nested helper local shadows an enclosing name", "nested helper call", "nested helper calls helper",
    "nested helper calls nested helper", "local array", "2-D local array", "setitem", "setitem slice",
    "setitem +=", "setitem in a loop", "setitem in a branch", "array element", "reduce an array",
    "condition on an array element", "condition calls a helper", "loop", "loop index as a value", "alias",
    "constant", "rebinding", "augmented assignment", "annotated assignment", "array parameter",
    "Python floats", "numpy scalars", "wrt",
]
# The scalar primitives (README, "Gradient rules") and the language's own operations.
PRIMITIVES = {"add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "tanh", "sin", "cos", "abs",
              "maximum", "minimum", "sigmoid", "where", "gt", "lt", "ge", "le", "setitem", "index", "copy",
              "zeros", "ones", "sum", "mean", "dot"}


def test_generator_reaches_every_feature(tmp_path):
    """The CI seeds between them write every construct the generator promises, trace to every
    primitive, and use every way of generating (styles, math mode, free, both paths, shapes)."""
    features: Counter = Counter()
    ops: set = set()
    fan_out = 0
    for seed in range(FUZZ_SEED, FUZZ_SEED + max(FUZZ_N, 160)):
        program = program_for(seed)
        features.update(program.features)
        for c in program.configs:
            features.update([f"style {c.style}", f"math {c.math}", f"free {c.free}", *(f"path {p}" for p in c.paths)])
            if "decorator" in c.paths:
                features[f"decorator shapes by {c.shapes_by}"] += program.has_arrays
        features["several seeds"] += len(program.seeds) > 1
        for node in ast.walk(ast.parse(program.source)):
            if isinstance(node, ast.Constant) and type(node.value) is int and node.value in (0, 1, 2, 3):
                features[f"int literal {node.value}"] += 1
            elif (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
                  and isinstance(node.operand, ast.Constant) and node.operand.value == 1):
                features["int literal -1"] += 1
        path = tmp_path / f"fuzz_language_{seed}.py"
        path.write_text(program.source)
        shapes = tuple((n, s) for n, s in program.shapes if s) or None
        try:
            graph = generate(*load_target(f"{path}:f"), Options(shapes=shapes)).graph
        except flatgen.FlatgenError:
            continue  # (test_fuzz reports it)
        ops |= {e.op.name for e in graph.eqns}
        uses = Counter(a for e in graph.eqns for a in e.ins if not isinstance(a, Lit))
        fan_out += bool(uses) and max(uses.values()) >= 5
    missing = [f for f in PROMISED if features[f] == 0]
    assert not missing, f"features never generated: {missing}"
    ways = ["style lecture", "style compact", "math None", "math True", "free True", "free False", "path cli",
            "path decorator", "decorator shapes by example", "decorator shapes by shapes", "decorator shapes by call",
            "several seeds", "int literal 0", "int literal 1", "int literal -1", "int literal 2", "int literal 3"]
    assert all(features[w] for w in ways), {w: features[w] for w in ways}
    assert PRIMITIVES <= ops, f"operations never traced: {sorted(PRIMITIVES - ops)}"
    assert fan_out >= 10, f"only {fan_out} programs use a value 5 times or more"


# What generate_loops promises (its docstring): the CI loop seeds between them must write each.
PROMISED_LOOPS = [
    "rolled for over an int parameter", "rolled for over a loop index", "range(start, stop)", "range of int arithmetic",
    "inner range from the outer index", "nested loops", "nested rolled loops", "rolled constant loop (unroll option)",
    "rolled long constant loop", "while (counter)", "while (add)", "while (decay)", "while (newton)",
    "while up to an int parameter", "if on data in a rolled loop", "if on a rolled loop index",
    "select on a rolled loop index", "loop in a branch on data", "loop in a helper", "loop-carried scalar",
    "array loop state", "array state updated in a loop", "array += in a loop", "dynamic index read",
    "dynamic index write", "dynamic index +=", "dynamic row write", "rolled loop index as a value",
    "int parameter as a value", "zero iterations", "unroll=None", "unroll=0", "unroll=1", "unroll=2",
    "helper call", "nested helper call", "local array", "2-D local array", "array parameter", "Python floats",
    "numpy scalars", "wrt", "2 outputs",
]


def test_loop_generator_reaches_every_feature(tmp_path):
    """The CI loop seeds between them write every loop construct generate_loops promises, trace to
    rolled `for` and `while` loops, keep the int parameters out of the gradients, and use both paths."""
    features: Counter = Counter()
    kinds: Counter = Counter()
    for seed in range(LOOPS_SEED, LOOPS_SEED + max(LOOPS_N, 100)):
        program = program_for(seed, loops=True)
        features.update(program.features)
        features.update(f"path {p}" for c in program.configs for p in c.paths)
        assert program.ints and all(isinstance(program.args[program.params.index(n)], int) for n in program.ints)
        assert all(0 <= program.args[program.params.index(n)] <= 5 for n in program.ints)
        path = tmp_path / f"fuzz_loops_{seed}.py"
        path.write_text(program.source)
        shapes = tuple((n, s) for n, s in program.shapes if s) or None
        options = Options(shapes=shapes, **({} if program.unroll is None else {"unroll": program.unroll}))
        try:
            g = generate(*load_target(f"{path}:f"), options)
        except Exception:  # noqa: BLE001 - a flatgen error or bug: test_fuzz_loops reports it
            continue
        kinds.update({f.kind for e in g.graph.eqns for f in e.frames if is_loop(f)})
        kinds["int parameters kept out of the gradients"] += [v.hint for v in g.wrt] == program.floats
    missing = [f for f in PROMISED_LOOPS if features[f] == 0]
    assert not missing, f"loop features never generated: {missing}"
    assert features["path cli"] and features["path decorator"], features
    assert kinds["for"] >= 20 and kinds["while"] >= 10, kinds
    assert kinds["int parameters kept out of the gradients"] >= 20, kinds


def test_the_checks_can_fail(tmp_path, monkeypatch):
    """Each check fails when what it checks is wrong."""
    body = ("def f(x, y):\n    if x > y:\n        z = x * y\n    else:\n        z = np.sin(x)\n"
            "    a, b = z, y\n    return a * b + x\n")
    program = hand_written("checks", body, (0.7, -1.3), data_ifs=1)
    assert check(program, tmp_path).fd == "checked"
    # 2: the interpreter (the reference) disagrees with the generated gradients
    real = interpret.value_and_grad
    monkeypatch.setattr(interpret, "value_and_grad",
                        lambda *a: (lambda v, g: (v, (g[0] * (1 + 1e-11), *g[1:])))(*real(*a)))
    with pytest.raises(AssertionError, match="grad x: generated vs interpreter"):
        check(dataclasses_replace(program, configs=program.configs[:1]), tmp_path)
    monkeypatch.undo()
    # 3: a wrong rule, in the generated code and the interpreter alike
    from flatgen.expr import Expr
    from flatgen.primitives import TABLE

    mul = TABLE["mul"]
    rules = mul.rules
    object.__setattr__(mul, "rules", (dataclasses_replace(rules[0], expr=Expr("g * b * 1.0001", ("g", "out", "a", "b"))),
                                      rules[1]))
    try:
        with pytest.raises(AssertionError, match="grad x: generated .* vs central differences"):
            check(program, tmp_path)
    finally:
        object.__setattr__(mul, "rules", rules)
    # 1 and 4: values
    with pytest.raises(AssertionError, match="generated f\\(\\) = "):
        check_values("v", program, 1.5, 1.0, 1.0, 1.0, {})
    with pytest.raises(AssertionError, match="the user's function"):
        check_values("v", program, 1.0, 1.0, 1.0, 1.0 + 1e-9, {})
    with pytest.raises(AssertionError, match="expected 2 outputs"):
        check_values("v", dataclasses_replace(program, n_outputs=2), (1.0, 2.0), (1.0, 2.0), (1.0, 2.0), 1.0, {})
    # 2: types and shapes of gradients
    with pytest.raises(AssertionError, match="is not a float64"):
        check_gradients("g", program, ["x", "y"], (3, 1.0), (3.0, 1.0))
    with pytest.raises(AssertionError, match="has shape"):
        check_gradients("g", program, ["x", "y"], (np.zeros(2), 1.0), (0.0, 1.0))
    # 5: a module Black would change
    built = build_cli(program, program.configs[0], tmp_path / "fuzz_language_-1.py")
    with pytest.raises(AssertionError, match="not Black-stable"):
        check_black(dataclasses_replace(built, source=built.source.replace("import numpy as np", "import numpy as np;")))
    # 6: an `if` on data that left no branch, and branches the module does not show
    with pytest.raises(AssertionError, match="but the forward graph has equations"):
        check_branches(dataclasses_replace(program, data_ifs=0), built)
    flattened = re.sub(r"^( +)(if|elif) (?!np\.shape).*:$", r"\1while False:", built.source, flags=re.M)
    with pytest.raises(AssertionError, match="`if` statement"):
        check_branches(program, dataclasses_replace(built, source=flattened))
    assert if_statements(built.source) >= (1, 2)  # the forward `if`, and the same `if` in both passes


def test_loop_checks_can_fail(tmp_path):
    """The checks hold on rolled loops: int parameters get no gradient, a loop's frame is no condition,
    zero iterations are checked too, a wrong rule in a loop body is caught by the differences, a
    `while` whose count of iterations changes nearby skips them, and `flatgen show --unroll` must
    print the module the command-line path made."""
    rnn = hand_written("rnn", "def f(x, w, n):\n    h = x\n    for i in range(n):\n        h = np.tanh(h * w)\n"
                       "    return h\n", (0.7, 1.3, 3), unroll=0)
    assert rnn.ints == ("n",) and rnn.floats == ["x", "w"]
    outcome = check(rnn, tmp_path)
    assert (outcome.fd, outcome.builds) == ("checked", 4)
    assert check(dataclasses_replace(rnn, args=(0.7, 1.3, 0)), tmp_path).fd == "checked"  # zero iterations
    with pytest.raises(AssertionError, match="gradients for \\['x', 'w', 'n'\\], asked for \\['x', 'w'\\]"):
        check_gradients("g", rnn, ["x", "w", "n"], (1.0, 1.0, 0.0), (1.0, 1.0, 0.0))
    path = tmp_path / "fuzz_language_-1.py"
    built = build_cli(rnn, rnn.configs[0], path)
    assert any(is_loop(f) for e in built.graph.eqns for f in e.frames)
    check_branches(rnn, built)  # a loop is no `if`
    with pytest.raises(AssertionError, match="but the forward graph has no equations under a condition"):
        check_branches(dataclasses_replace(rnn, data_ifs=1), built)
    with pytest.raises(AssertionError, match="printed another module"):
        check_command_line(rnn, rnn.configs[0], path, built.source.replace("for i in range(n):", "for i in range(0, n):"))
    from flatgen.expr import Expr
    from flatgen.primitives import TABLE

    mul = TABLE["mul"]
    rules = mul.rules
    object.__setattr__(mul, "rules", (dataclasses_replace(rules[0], expr=Expr("g * b * 1.0001", ("g", "out", "a", "b"))),
                                      rules[1]))
    try:
        with pytest.raises(AssertionError, match="grad x: generated .* vs central differences"):
            check(rnn, tmp_path)
    finally:
        object.__setattr__(mul, "rules", rules)
    near = hand_written("while near", "def f(x):\n    s = x\n    while s < 2.0:\n        s = s + 0.5\n    return s * x\n",
                        (1.0 + 2e-6,), unroll=0)
    assert check(near, tmp_path).fd == "flip"  # 2 iterations here, 3 ten steps down
    assert check(dataclasses_replace(near, args=(1.1,)), tmp_path).fd == "checked"


def test_flips_and_steep_points_skip_only_the_finite_differences(tmp_path, monkeypatch):
    near = hand_written("near", "def f(x, y):\n    if x > 1.0:\n        z = x * y\n    else:\n        z = y\n"
                        "    return z\n", (1.0 + 3e-6, 2.0), data_ifs=1)
    assert check(near, tmp_path).fd == "flip"  # a condition 3 steps from flipping
    kink = hand_written("kink", "def f(x, y):\n    return max(x, y) * y\n", (2.0, 2.0 + 1e-6))
    assert check(kink, tmp_path).fd == "flip"
    far = hand_written("far", "def f(x, y):\n    if x > 1.0:\n        z = x * y\n    else:\n        z = y\n"
                       "    return z\n", (1.001, 2.0), data_ifs=1)
    assert check(far, tmp_path).fd == "checked"
    steep = hand_written("steep", "def f(x, y):\n    return np.sin(100000000.0 * x) + y\n", (0.3, 2.0))
    outcome = check(steep, tmp_path)
    assert (outcome.fd, outcome.counts) == ("checked", Counter(steep=1, checked=1))  # x too steep, y checked
    flat = hand_written("flat", "def f(x, y):\n    return np.sin(x) + 0.0 * y\n", (0.3, 2.0))
    assert check(flat, tmp_path).counts == Counter(checked=1, zero=1)  # the output ignores y: |grad y| <= atol
    # the other checks still run at a skipped point: an interpreter that disagrees is caught
    real = interpret.value_and_grad
    monkeypatch.setattr(interpret, "value_and_grad",
                        lambda *a: (lambda v, g: (v, (g[0], g[1] * (1 + 1e-11))))(*real(*a)))
    with pytest.raises(AssertionError, match="grad y: generated vs interpreter"):
        check(near, tmp_path)
