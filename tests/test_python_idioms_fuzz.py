"""Fuzzing Python as people write it (issue 14): random programs from fuzzgen_language.generate_idioms,
each checked the six ways tests/test_fuzz_language.py checks its programs (generated == interpreter ==
central differences, by the command-line path and the decorator, both styles, Black-stable, and
branches exactly where the program has `if`s on data or breaks in loops kept as loops).

The programs combine loops over sequences (an array's elements, list literals, zip, enumerate,
reversed, range(a, b, step), range(n) over an int parameter), continue and break (on data and decided
now), `while True:` and `while c:` ending by a break, lists built and appended to and read (sum, max,
min, [-1], len), comprehensions and generator expressions (sum over a run-time count too), integer
arithmetic on sizes, early returns (on data and decided now), and docstrings, pass, print and assert;
long arrays and unroll=0 keep loops rolled.

CI runs IDIOMS_N programs (60, in batches of 20; about 15 s).  On demand, any number from any seed:

    FLATGEN_FUZZ_IDIOMS_N=2000 python -m pytest -q tests/test_python_idioms_fuzz.py
    FLATGEN_FUZZ_IDIOMS_N=2000 FLATGEN_FUZZ_IDIOMS_SEED=100000 python -m pytest -q tests/test_python_idioms_fuzz.py

A failure names the seed and prints the program; `python tests/fuzzgen_language.py --idioms SEED` prints
it again, and `FLATGEN_FUZZ_IDIOMS_SEED=SEED FLATGEN_FUZZ_IDIOMS_N=1 python -m pytest -q
tests/test_python_idioms_fuzz.py` checks it alone.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

import fuzzgen_language as fz
import fuzzing
from test_fuzz_language import check

IDIOMS_N = int(os.environ.get("FLATGEN_FUZZ_IDIOMS_N", "60"))
IDIOMS_SEED = int(os.environ.get("FLATGEN_FUZZ_IDIOMS_SEED", "0"))

STATS: Counter = Counter()


def report(program: fz.Program, exc: BaseException) -> str:
    configs = "\n".join(f"  {c}" for c in program.configs)
    how = (f"python tests/fuzzgen_language.py --idioms {program.seed}   or   FLATGEN_FUZZ_IDIOMS_SEED={program.seed} "
           f"FLATGEN_FUZZ_IDIOMS_N=1 python -m pytest -q tests/test_python_idioms_fuzz.py")
    return fuzzing.failure(f"idiom seed {program.seed}", how,
                           f"args = {program.args!r}\nunroll = {program.unroll!r}\nconfigs:\n{configs}",
                           program.source, exc)


def summary_line() -> str:
    features = ", ".join(f"{k} {v}" for k, v in sorted(STATS.items()) if k.startswith("feature "))
    return (f"idiom fuzz: {STATS['idiom programs']} programs (seeds from {IDIOMS_SEED}), {STATS['idiom modules']} "
            f"modules, {STATS['idiom data ifs']} with branches; finite differences checked in "
            f"{STATS['idiom fd programs checked']} programs ({STATS['idiom fd checked']} elements), skipped near a "
            f"flip in {STATS['idiom fd programs flip']}; {fuzzing.gradient_summary(STATS, 'idiom ')}; failures "
            f"{STATS['idiom failures']}; {features.replace('feature ', '')}")


summary = fuzzing.summary_fixture(STATS, {"idiom programs": summary_line})
BATCHES = fuzzing.batches(IDIOMS_SEED, IDIOMS_N)


@pytest.mark.parametrize("seeds", BATCHES, ids=fuzzing.batch_ids(BATCHES, "idiom_seeds"))
def test_fuzz_idioms(seeds, tmp_path):
    programs = [fz.generate_idioms(seed) for seed in seeds]
    for program in programs:
        STATS.update(f"feature {k}" for k in program.features)
    checked = fuzzing.run_checks(programs, lambda program: check(program, tmp_path), report, STATS, "idiom ")
    fd_checked = 0
    for program, outcome in checked:
        STATS["idiom modules"] += outcome.builds
        STATS[f"idiom fd programs {outcome.fd}"] += 1
        STATS.update({f"idiom fd {k}": v for k, v in outcome.counts.items()})
        STATS["idiom data ifs"] += program.data_ifs > 0
        fd_checked += outcome.fd == "checked"
    fuzzing.assert_gradients(checked, programs)
    assert fd_checked >= len(programs) // 2, f"finite differences checked on only {fd_checked} of {len(programs)}"


def test_the_generator_reaches_every_idiom():
    """Over 200 seeds every construct appears (so a batch of the CI's size sees most of them)."""
    seen = Counter(k for seed in range(200) for k in fz.generate_idioms(seed).features)
    wanted = {"loop over array", "loop over list", "loop over zip", "loop over enumerate", "loop over reversed",
              "loop over range", "loop over run-time range", "rolled loop over a sequence", "continue on data",
              "break on data", "continue decided now", "break decided now", "while True with break",
              "while with a test and a break", "list append", "list comprehension", "list read", "comprehension",
              "sum over a run-time count", "integer arithmetic", "early return on data", "early return decided now",
              "statement without gradient", "unroll=0"}
    assert wanted <= set(seen), sorted(wanted - set(seen))


def test_the_generator_is_deterministic():
    a = [fz.generate_idioms(s).source for s in range(5)]
    assert a == [fz.generate_idioms(s).source for s in range(5)]
