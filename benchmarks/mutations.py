"""Mutation check: deliberate faults in flatgen, and whether the test suite notices each one.

    python benchmarks/mutations.py                 # every mutation, the fast subset of the tests
    python benchmarks/mutations.py --full          # the whole suite for each mutation (slow)
    python benchmarks/mutations.py --behaviour     # no text comparisons (goldens, generated/ freshness,
                                                   # README): every fault must change a computed result
    python benchmarks/mutations.py --only div.db --only simplify.sub0 --jobs 1 --from-head

Run on demand, never in CI.  The checkout is copied to a temporary directory (the working tree as it
is, or `git archive HEAD` with --from-head); the checkout itself is never written.  Each mutation is
a textual replacement (file, old, new) in flatgen/primitives.py (the table's rules), flatgen/reverse.py
(the reverse transform), flatgen/simplify.py (the compact style's passes) or flatgen/render.py (the
renderer), applied to a fresh copy of the file; `old` must occur exactly once, else the mutation is
reported "stale" (the code moved on: update its anchor) and skipped.  For each mutation the tests run
as `python -m pytest -x -q` from the copy with the copy first on PYTHONPATH (FAST_TESTS, ordered so that
behavioural tests come before the change detectors), and the first failing test is reported.  A
mutation that no test notices "survived": add a test.  The unmutated copy runs first and must pass.

The exit status is 0 when no mutation survived (stale ones are listed, not counted), 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutation:
    name: str
    file: str  # relative to the checkout
    old: str  # must occur exactly once
    new: str
    what: str


P, R, S, D = "flatgen/primitives.py", "flatgen/reverse.py", "flatgen/simplify.py", "flatgen/render.py"
X = "flatgen/rows_index.py"
E, T = "flatgen/expr.py", "flatgen/tapes.py"  # the expressions' math forms; a rolled loop's saves

MUTATIONS = [
    # -- the primitive table's rules -----------------------------------------------------------------
    Mutation("div.db", P, '"-g * out / b"', '"g * out / b"', "div: the divisor's gradient loses its sign"),
    Mutation("sqrt.dx", P, '"g / (2 * out)"', '"g / out"', "sqrt: a factor 2"),
    Mutation("tanh.dx", P, '"g * (1 - out**2)"', '"g * (1 + out**2)"', "tanh: 1 + out**2"),
    Mutation("sin.dx", P, '"g * np.cos(x)"', '"g * np.sin(x)"', "sin: sin instead of cos"),
    Mutation("cos.dx", P, '"-g * np.sin(x)"', '"g * np.sin(x)"', "cos: sign"),
    Mutation("exp.dx", P, '("g * out",)', '("g",)', "exp: the upstream gradient only"),
    Mutation("log.dx", P, '("g / x",)', '("g * x",)', "log: times instead of divided"),
    Mutation("sigmoid.dx", P, '"g * (1 - out) * out"', '"g * (1 - out)"', "sigmoid: a factor out missing"),
    Mutation("pow.da", P, '"g * b * a ** (b - 1)"', '"g * b * a ** b"', "pow: the base's exponent off by one"),
    Mutation("pow.db", P, '"g * out * np.log(', '"g * np.log(', "pow: the exponent's gradient without out"),
    Mutation("maximum.forward", P, '"np.maximum(a, b)",', '"np.minimum(a, b)",', "np.maximum computes the minimum"),
    Mutation("where.swap", P, '"np.where(c, g, 0.0)", "np.where(c, 0.0, g)"', '"np.where(c, 0.0, g)", "np.where(c, g, 0.0)"',
             "np.where: the gradient goes to the branch not taken"),
    Mutation("matmul.da", P, '"g @ b.T"', '"g.T @ b"', "matmul: transpose in the wrong place"),
    Mutation("matmul_mv.da", P, '"np.outer(g, b)"', '"np.outer(b, g)"', "matrix-vector: outer product reversed"),
    Mutation("outer.da", P, '"g @ b", "a @ g"', '"g @ b[::-1]", "a @ g"', "outer: the first operand's gradient reads b reversed"),
    Mutation("transpose.dx", P, '"np.transpose(g, inverse)"', '"np.transpose(g, axes)"',
             "transpose: the permutation instead of its inverse"),
    Mutation("mean.dx", P, '"np.broadcast_to(g / (np.size(x) / np.size(out)) * np.ones_like(out), np.shape(x))"',
             '"np.broadcast_to(g / np.size(x) * np.ones_like(out), np.shape(x))"',
             "mean with kept axes: divided by every element"),
    Mutation("maxreduce.ties", P, '({g} / np.sum((x == {out}) * np.ones_like(x), axis=axis, keepdims=True))', '{g}',
             "max/min reductions: ties each get the whole gradient"),
    Mutation("scatter.acc", X, '"OUT[idx] += g"', '"OUT[idx] = g"', "x[idx] read twice: the second overwrites"),
    Mutation("setitem.dx", X, r'"OUT = g.copy()\nOUT[idx] = 0.0"', '"OUT = g.copy()"',
             "z[idx] = v: the overwritten elements keep their gradient"),
    Mutation("sum_ones", P, '"np.sum(x, axis=axis, keepdims=True)"', '"np.sum(x, axis=axis)"',
             "broadcast size-1 axes: summed without keepdims"),
    Mutation("copy_array", P, '"np.copy(x)"', '"x"', "a loop's array state aliases the value it starts from"),
    Mutation("push_copy", P, '"OUT.append(x.copy())"', '"OUT.append(x)"', "tapes save a view of an array written in place"),
    Mutation("sigmoid_math", E, "1 / (1 + math.exp(-x)) if", "1 / (1 + math.exp(x)) if", "math mode's sigmoid"),
    Mutation("sign_math", E, "[ast.Compare(x, [ast.Gt()], [ast.Constant(0)])]", "[ast.Compare(x, [ast.GtE()], [ast.Constant(0)])]",
             "math mode's sign(0) is 1: abs at 0 sends gradient"),
    # -- the reverse transform -----------------------------------------------------------------------
    Mutation("reverse.first", R, "first = gx is None", "first = True",
             "fan-out: every contribution overwrites the gradient"),
    Mutation("reverse.acc", R, "ACC, (gx, d), e", "ACC, (d, d), e", "fan-out: the running gradient is dropped"),
    Mutation("reverse.loop_order", R, "Loop(\"for\", fwd.index, fwd.bounds, reverse=True)",
             "Loop(\"for\", fwd.index, fwd.bounds, reverse=False)", "backward loops run forwards"),
    Mutation("reverse.in_place", R, '{"fresh": True} if gx in owned else {}',
             '{"fresh": True}', "+= into gradients that are views or aliases"),
    Mutation("reverse.lead_axes", R, 'params={"axis": lead if len(lead) > 1 else lead[0]}',
             'params={"axis": lead[0]}', "broadcast: only the first leading axis summed back"),
    Mutation("reverse.merge", R, "if gt is gf:", "if True:", "after an if on data: the then-branch's gradient only"),
    Mutation("reverse.outputs", R, "ACC, (self.grad[out], g), None", "ACC, (g, g), None",
             "a value returned twice: the first seed dropped"),
    Mutation("reverse.restore", R, "if reads_old:", "if not reads_old:", "loops: old values restored at the wrong time"),
    # -- the compact style's passes -------------------------------------------------------------------
    Mutation("simplify.sub0", S, '"sub": [(0, (1, 0))],', '"sub": [(0, (1, 0)), (1, (0, 0))],', "0 - x becomes x"),
    Mutation("simplify.mul0", S, '"mul": [(0, (1, 1)), (1, (0, 1))],', '"mul": [(0, (1, 1)), (1, (0, 0))],',
             "0 * x becomes x"),
    Mutation("simplify.div1", S, '"div": [(0, (1, 1))],', '"div": [(0, (1, 1)), (1, (0, 1))],', "1 / x becomes x"),
    Mutation("simplify.pow1", S, '"pow": [(0, (1, 1))],', '"pow": [(0, (1, 1)), (1, (0, 1))],', "1 ** x becomes x"),
    Mutation("simplify.float", S, "type(b.value) is int", "isinstance(b.value, (int, float))",
             "x * 1.0 becomes x (an int stays an int)"),
    Mutation("simplify.masks", S, "and a not in masks", "", "1 * (a < b) becomes a bool"),
    Mutation("simplify.common_loops", S, " or any(defs[a] > 1 for a in e.ins if isinstance(a, Var))", "",
             "common subexpressions across a loop's updates"),
    Mutation("simplify.dead_loops", S, "if e.out in needed or any(is_loop(f) for f in e.frames):",
             "if e.out in needed:", "dead code inside loops"),
    Mutation("simplify.returned", S, 'e.out not in graph.outs[1:] and e.out.role != "partial"', 'e.out.role != "partial"',
             "copy propagation drops a returned gradient's own statement"),
    # -- the renderer -------------------------------------------------------------------------------
    Mutation("render.select_parens", D, 'd = f"({d})"', "d = d",
             "math mode: a select added to a gradient loses its parentheses"),
    Mutation("render.merges", D, " and value == target:  # both sides of an", ":  # both sides of an",
             "merges and copies never written"),
    Mutation("render.acc_sign", D, "{self.text(e.ins[0])} + {d}", "{self.text(e.ins[0])} - {d}",
             "accumulation subtracts (gradients not owned)"),
    Mutation("render.acc_inplace", D, 'return [f"{target} += {d}"]', 'return [f"{target} = {d}"]',
             "accumulation overwrites (gradients owned)"),
    Mutation("render.if_not", D, "f\"if {'' if frame.want else 'not '}", "f\"if {'not ' if frame.want else ''}",
             "branches swapped"),
    Mutation("render.reversed", D, "f'reversed({bounds})' if frame.reverse else bounds", "bounds",
             "backward loops written forwards"),
    Mutation("render.count", D, 'return [f"{target} += 1"]', 'return [f"{target} += 2"]',
             "a while loop's iterations counted twice"),
    Mutation("render.setitem", D, "lines = lines[1:]  # a loop writing", "lines = lines[2:]  # a loop writing",
             "z[i] = v in a loop: the write dropped"),
    Mutation("render.free", D, "keep |= {e.ins[0] for e in eqns if e.op.inplace}", "pass",
             "free=True deletes a gradient that is still accumulated into"),
]

# Behavioural tests first, the change detectors (goldens, generated/ freshness, README) last.
FAST_TESTS = [
    "tests/test_op_specs.py", "tests/test_sympy_oracle.py", "tests/test_primitives.py", "tests/test_simplify.py",
    "tests/test_math_mode.py", "tests/test_language.py", "tests/test_tuples_branches.py", "tests/test_loops.py",
    "tests/test_vectorized.py", "tests/test_memory.py", "tests/test_fuzz.py", "tests/test_fuzz_arrays.py",
    "tests/test_fuzz_language.py", "tests/test_examples.py",
]
FAST_ENV = {"FLATGEN_FUZZ_N": "100", "FLATGEN_FUZZ_ARRAYS_N": "60", "FLATGEN_FUZZ_LANGUAGE_N": "60",
            "FLATGEN_FUZZ_LOOPS_N": "40"}
# text comparisons: --behaviour deselects them
CHANGE_DETECTORS = ["tests/test_examples.py::test_neuron_module_golden", "tests/test_examples.py::test_neuron_graph_golden",
                    "tests/test_examples.py::test_committed_generated_modules_are_fresh",
                    "tests/test_examples.py::test_readme_shows_the_current_neuron_module",
                    "tests/test_examples.py::test_readme_shows_the_current_branch_example",
                    "tests/test_examples.py::test_neuron_backward_is_the_slide",
                    "tests/test_loops.py::test_generation_is_deterministic_across_hash_seeds",  # vs generated/
                    "tests/test_loops.py::test_readme_shows_the_current_rolled_rnn"]
IGNORE = shutil.ignore_patterns(".git", "__pycache__", ".pytest_cache", "*.egg-info", "build", "dist", ".venv")


def copy_checkout(dest: Path, from_head: bool) -> None:
    if from_head:
        dest.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    else:
        shutil.copytree(ROOT, dest, ignore=IGNORE)


def run_tests(copy: Path, args) -> tuple[int, str, float]:
    tests = [] if args.full else list(FAST_TESTS)
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    if args.behaviour:
        cmd += [f"--deselect={t}" for t in CHANGE_DETECTORS]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(copy), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
           "PYTHONDONTWRITEBYTECODE": "1"}
    if not args.full:
        env.update({k: v for k, v in FAST_ENV.items() if k not in os.environ})
    start = time.perf_counter()
    try:
        r = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True, timeout=args.timeout)
        code, out = r.returncode, r.stdout + r.stderr
    except subprocess.TimeoutExpired as e:
        code, out = -1, f"timeout after {args.timeout} s\n{e.stdout or ''}"
    return code, out, time.perf_counter() - start


def first_failure(out: str) -> str:
    m = re.search(r"^(?:FAILED|ERROR) (.+?)(?: - |$)", out, re.M)
    if m:
        return m.group(1)
    m = re.search(r"^E\s+(.*)$", out, re.M)
    return m.group(1)[:100] if m else out.strip().splitlines()[-1][:100] if out.strip() else "?"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="run the whole suite for each mutation")
    ap.add_argument("--behaviour", action="store_true", help="deselect the text comparisons (goldens, freshness, README)")
    ap.add_argument("--only", action="append", default=[], help="run only this mutation (repeatable)")
    ap.add_argument("--jobs", type=int, default=2, help="mutations run in parallel (default 2)")
    ap.add_argument("--from-head", action="store_true", help="copy `git archive HEAD` instead of the working tree")
    ap.add_argument("--timeout", type=float, default=1200, help="seconds per test run")
    args = ap.parse_args(argv)
    mutations = [m for m in MUTATIONS if not args.only or m.name in args.only]
    unknown = set(args.only) - {m.name for m in MUTATIONS}
    if unknown:
        ap.error(f"unknown mutations: {sorted(unknown)}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="flatgen-mutations-") as tmp:
        base = Path(tmp) / "base"
        copy_checkout(base, args.from_head)
        print(f"copied {'HEAD' if args.from_head else 'the working tree'} of {ROOT} to {base}", flush=True)
        code, out, secs = run_tests(base, args)
        print(f"baseline (no mutation): {'passed' if code == 0 else 'FAILED'} in {secs:.0f} s", flush=True)
        if code != 0:
            print(f"the unmutated copy fails its tests ({first_failure(out)}): nothing to compare against\n"
                  + "\n".join(out.splitlines()[-30:]))
            return 2
        workers = [Path(tmp) / f"worker{k}" for k in range(max(1, args.jobs))]
        for w in workers:
            shutil.copytree(base, w)
        free = list(workers)
        results: dict[str, tuple[str, str, float]] = {}

        def one(m: Mutation):
            w = free.pop()
            try:
                pristine = (base / m.file).read_text()  # the copy as it was made: never the checkout
                n = pristine.count(m.old)
                if n != 1:
                    return m, ("stale", f"the anchor occurs {n} times in {m.file}", 0.0)
                (w / m.file).write_text(pristine.replace(m.old, m.new))
                try:
                    code, out, secs = run_tests(w, args)
                finally:
                    (w / m.file).write_text(pristine)
                if code == 0:
                    return m, ("SURVIVED", "no test failed", secs)
                return m, ("killed" if code in (1, 2, 3) else f"error (exit {code})", first_failure(out), secs)
            finally:
                free.append(w)

        with ThreadPoolExecutor(max_workers=len(workers)) as pool:
            for m, result in pool.map(one, mutations):
                results[m.name] = result
                status, detail, secs = result
                print(f"{status:9} {m.name:22} {secs:6.0f} s  {m.what}  [{detail}]", flush=True)
    killed = sum(r[0] == "killed" for r in results.values())
    survived = [n for n, r in results.items() if r[0] == "SURVIVED"]
    stale = [n for n, r in results.items() if r[0] == "stale"]
    errors = [n for n, r in results.items() if r[0].startswith("error")]
    print(f"\n{len(results)} mutations: {killed} killed, {len(survived)} survived {survived or ''}, "
          f"{len(stale)} stale {stale or ''}, {len(errors)} errors {errors or ''}; "
          f"{time.perf_counter() - started:.0f} s in all ({'whole suite' if args.full else 'fast subset'}"
          f"{', text comparisons deselected' if args.behaviour else ''}, {len(workers)} jobs)")
    return 1 if survived or errors else 0


if __name__ == "__main__":
    sys.exit(main())
