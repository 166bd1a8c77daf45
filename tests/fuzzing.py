"""The harness the three fuzzers share (tests/test_fuzz.py, test_fuzz_arrays.py, test_fuzz_language.py).

What each fuzzer checks, and its environment variables, stay in its own module and docstring; here
are the pieces they run the same way: the finite-difference constants, seeds in batches, the loop
that checks a batch of programs and names every failure in full, the failure report, the summary
line printed at the end of the run, the determinism check of a generator, importing a written
program, the Black check and central differences in np.longdouble.
"""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
import traceback
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pytest

from conftest import checkout_env
from flatgen.format import format_source
from numerics import FD_FRACTION

BATCH = 20  # programs per test
EPS = 1e-6  # the finite-difference step, times max(1, |x|)
FD_RTOL = 1e-5
FD_ATOL = 1e-7  # times the gradient's scale: max(1, the largest difference quotient)
GRAD_RTOL = 1e-12  # generated vs interpreter
F64 = np.finfo(np.float64).eps
LD = np.finfo(np.longdouble).eps


# -- seeds in batches ---------------------------------------------------------------------------------------


def batches(first: int, n: int, size: int = BATCH) -> list[range]:
    """Seeds first .. first + n - 1, in runs of `size`."""
    return [range(first + b, min(first + b + size, first + n)) for b in range(0, n, size)]


def batch_ids(runs: list[range], prefix: str = "seeds") -> list[str]:
    return [f"{prefix}{r.start}-{r.stop - 1}" for r in runs]


# -- checking programs --------------------------------------------------------------------------------------


def run_checks(programs, check: Callable, report: Callable, stats: Counter, key: str = "",
               what: str = "fuzzed programs") -> list:
    """check(program) for each program, counting in `stats` (under `key`): programs, failures, gradient
    entries, the non-zero ones and programs with a non-zero gradient.  One assertion at the end names
    every failing program, in full (report(program, exc)); returns (program, outcome) for the others."""
    failures = []
    outcomes = []
    for program in programs:
        stats[f"{key}programs"] += 1
        try:
            outcome = check(program)
        except Exception as exc:  # noqa: BLE001 - a flatgen error on a valid program is a failure too
            stats[f"{key}failures"] += 1
            failures.append(report(program, exc))
            continue
        stats[f"{key}entries"] += outcome.nonzero[1]
        stats[f"{key}entries non-zero"] += outcome.nonzero[0]
        stats[f"{key}programs with a gradient"] += outcome.nonzero[0] > 0
        outcomes.append((program, outcome))
    assert not failures, f"{len(failures)} of {len(programs)} {what} failed:\n\n" + "\n\n".join(failures)
    return outcomes


def assert_gradients(checked, programs) -> None:
    """At least 90% of fuzzed programs with a non-zero gradient (a gradient of zeros agrees with everything);
    `checked`: run_checks' (program, outcome) pairs."""
    with_gradient = sum(outcome.nonzero[0] > 0 for _, outcome in checked)
    assert with_gradient >= 0.9 * len(programs), (
        f"only {with_gradient} of {len(programs)} programs have a non-zero gradient")


def known_program(known: dict, seed: int):
    """The program tests/fuzz_known.py keeps under `seed` (which must say what it found)."""
    found, program = known[seed]
    assert program.seed == seed and found
    return program


def is_known(known: dict, program) -> bool:
    """Whether `program` is the one tests/fuzz_known.py keeps under its seed."""
    return known.get(program.seed, (None, None))[1] is program


def failure(title: str, how: str, details: str, source: str, exc: BaseException, point: str | None = None) -> str:
    """One failing program, in full: how to reproduce it, how it was generated, the program and the error."""
    error = "".join(traceback.format_exception(exc, limit=-6)).strip()
    return (
        f"=== {title} ===\n"
        f"reproduce: {how}\n"
        f"{details}\n"
        f"--- program ---\n{source}"
        + ("" if point is None else f"--- point ---\n{point}\n")
        + f"--- error ---\n{error}"
    )


# -- the summary at the end of the run ----------------------------------------------------------------------


def summary_fixture(stats: Counter, lines: dict[str, Callable[[], str]]):
    """A module fixture that clears `stats` and, after the module's tests, writes line() for each
    {count: line} whose count in `stats` is not 0 (shown without -s)."""

    @pytest.fixture(scope="module", autouse=True)
    def summary(request):
        stats.clear()
        yield
        plugins = request.config.pluginmanager
        reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
        if reporter is None or capture is None:
            return
        for count, line in lines.items():
            if stats[count]:
                with capture.global_and_fixture_disabled():  # shown without -s
                    reporter.write_line(f"\n{line()}")

    return summary


def gradient_summary(stats: Counter, key: str = "", entries: str = "entries") -> str:
    n = stats[f"{key}entries"]
    nonzero = stats[f"{key}entries non-zero"]
    return (f"{stats[f'{key}programs with a gradient']} with a non-zero gradient; gradient {entries} {n}, non-zero "
            f"{nonzero} ({100 * nonzero / max(n, 1):.0f}%)")


def skips_summary(stats: Counter, key: str = "", skip: str = "kink", where: str = "at kinks") -> str:
    return (f"flat (|g| <= atol) {stats[f'{key}fd zero']}, skipped {where} {stats[f'{key}fd {skip}']}, as too steep "
            f"{stats[f'{key}fd steep']}, as loose (tolerance > {FD_FRACTION:.0%} of the difference) "
            f"{stats[f'{key}fd loose']}")


# -- the generator ------------------------------------------------------------------------------------------


def digest(digests: Iterable[str]) -> str:
    return hashlib.sha256("".join(digests).encode()).hexdigest()


def assert_deterministic(seeds: range, program_digest: Callable, source: Callable, code: str, afresh: int) -> None:
    """The generator draws the same programs for `seeds`: in fresh interpreters (running this checkout,
    `code` prints the digest) whatever the hash randomization, and afresh in the reverse order (no state
    carried from one program to the next).  program_digest(seed, fresh); source(seed): the program's text."""
    runs = [subprocess.Popen([sys.executable, "-c", code], env=checkout_env(Path(__file__).parent, PYTHONHASHSEED=h),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for h in ("1", "2")]
    each = {s: program_digest(s, False) for s in seeds}  # (as the batches drew them)
    assert {s: program_digest(s, True) for s in reversed(seeds[:afresh])} == {s: each[s] for s in seeds[:afresh]}
    assert len({source(s) for s in seeds}) == len(seeds)
    expected = digest(each[s] for s in seeds)
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        assert out.strip() == expected


# -- programs and their modules -----------------------------------------------------------------------------


def import_program(path: Path, name: str):
    """Import the written program as a real module: `f` is a function whose source inspect can read."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


def check_black(label: str, source: str) -> None:
    """Black leaves the module as it is."""
    formatted = format_source(source)
    if formatted != source:
        import difflib

        diff = "".join(difflib.unified_diff(source.splitlines(True), formatted.splitlines(True), "generated", "black"))
        raise AssertionError(f"{label}: the module is not Black-stable:\n{diff}")


# -- central differences ------------------------------------------------------------------------------------


def longdouble_args(args, keep=()) -> list:
    """The arguments in np.longdouble (arrays as arrays, scalars as scalars); positions in `keep` as they are."""
    return [a if k in keep else np.asarray(a, dtype=np.longdouble) if np.ndim(a) else np.longdouble(float(a))
            for k, a in enumerate(args)]


def central_difference(fn, args, i: int, idx, h: float) -> float:
    """(f(x + h e) - f(x - h e)) / 2h for element `idx` of args[i], `args` in np.longdouble
    (longdouble_args), every operation of the program included.  Arrays are passed as copies (a
    program's `x += ...` writes into them)."""
    up, down = [[a.copy() if isinstance(a, np.ndarray) else a for a in args] for _ in range(2)]
    if np.ndim(args[i]):
        up[i][idx] += np.longdouble(h)
        down[i][idx] -= np.longdouble(h)
        width = up[i][idx] - down[i][idx]
    else:
        up[i] = args[i] + np.longdouble(h)
        down[i] = args[i] - np.longdouble(h)
        width = up[i] - down[i]
    return float((fn(*up) - fn(*down)) / width)


# -- forward mode and second order (issue 17) ----------------------------------------------------------------


def check_modes(result, args, vg, grads, wrt: list[int], rng_seed: int, hvp: bool = True) -> str:
    """Forward mode and second order on a fuzzed program, through the interpreter (no second module to
    render and format: the examples' tests check the generated <name>_jvp and <name>_hvp):

    - the JVP graph's tangent along a random direction (one block per parameter, of its shape) ==
      <the generated gradient, direction> (1e-9);
    - the HVP graph's product with a random vector == central differences of the generated gradient
      (`vg`) along it, element by element where differences at h and h / 10 agree and so do the two
      one-sided differences (a kink or a steep point: skipped).  With hvp=False (the point is at a
      kink: abs(p1) ** 2 at p1 = 0 has a smooth gradient, 2 abs(p1) sign(p1), whose derivative there,
      2, is not the HVP's 2 sign(0) ** 2 = 0), the HVP is evaluated but not compared.
    Returns "checked", or why not: "outputs" (several outputs), "lowering" (a gradient graph lowering
    does not take: a mask read, whose shape is known only at run time), "kink" (hvp=False)."""
    from flatgen import interpret
    from flatgen.hvp import hvp_graph
    from flatgen.jvp import jvp_graph
    from flatgen.errors import FlatgenError
    from flatgen.lower import LoweringError

    graph = result.graph
    if result.grad_graph.seed is not None:
        return "outputs"
    rng = np.random.default_rng(abs(rng_seed))
    t = [rng.uniform(-1, 1, size=np.shape(args[i])) if np.ndim(args[i]) else float(rng.uniform(-1, 1))
         for i in wrt]
    outs = list(graph.outs)
    with np.errstate(all="ignore"):
        dot = interpret.evaluate(jvp_graph(graph, result.wrt, outs, outs), [*args, *t])[-1]
    want = sum(float(np.sum(np.asarray(g, dtype=np.float64) * d)) for g, d in zip(grads, t))
    scale = max([1.0] + [float(np.max(np.abs(g))) for g in grads if np.size(g)])
    scale *= max([1.0] + [float(np.sum(np.abs(d))) for d in t])
    if np.isfinite(want):
        assert abs(float(dot) - want) <= 1e-9 * scale, f"JVP {float(dot)!r} vs <grad, t> {want!r}"
    try:
        second = hvp_graph(result.grad_graph, result.wrt)
    except (LoweringError, FlatgenError) as e:  # flatgen.hvp refuses what lowering does not take, by name
        assert "second order" in str(e) or isinstance(e, LoweringError), e
        return "lowering"
    with np.errstate(all="ignore"):
        hv = interpret.evaluate(second, [*args, *t])
    if not hvp:
        return "kink"
    size = max([1.0] + [float(np.max(np.abs(args[i]))) for i in wrt if np.size(args[i])])

    def grad_at(h):
        moved = list(args)
        for i, d in zip(wrt, t):
            moved[i] = args[i] + h * d
        with np.errstate(all="ignore"):
            return [np.asarray(g, dtype=np.float64) for g in vg(*moved)[1]]

    h = EPS * size
    up, down, up_fine, down_fine, centre = grad_at(h), grad_at(-h), grad_at(h / 10), grad_at(-h / 10), grad_at(0.0)
    fds = [(u - d) / (2 * h) for u, d in zip(up, down)]
    fines = [(u - d) / (h / 5) for u, d in zip(up_fine, down_fine)]
    # one-sided differences: where they disagree the gradient has a kink of its own (max(b) at a tie,
    # squared): central differences at h and h / 10 agree there, on the mean of the two sides
    sides = [(u - c) / h - (c - d) / h for u, d, c in zip(up, down, centre)]
    hscale = max([1.0] + [float(np.max(np.abs(x[np.isfinite(x)]))) for x in fds if np.isfinite(x).any()])
    for k, (got, fd, fine, side) in enumerate(zip(hv, fds, fines, sides)):
        got = np.asarray(got, dtype=np.float64)
        assert got.shape == fd.shape, f"HVP block {k}: shape {got.shape}, the parameter's {fd.shape}"
        for idx in np.ndindex(fd.shape):
            a, b = fd[idx], fine[idx]
            tol = 1e-4 * hscale + 1e-4 * abs(a)
            if not (np.isfinite(a) and abs(a - b) <= 0.1 * tol and abs(side[idx]) <= tol):
                continue  # a kink (of the gradient or of its derivative) or a steep point: no reference
            assert abs(got[idx] - a) <= tol, (
                f"HVP block {k}{list(idx) if idx else ''}: {got[idx]!r} vs differences of the gradient {a!r}")
    return "checked"
