import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))  # tests/corpus.py, tests/numerics.py
sys.path.insert(0, str(ROOT / "examples"))

# Golden files (tests/golden/) are rewritten only on request:
# FLATGEN_UPDATE_GOLDENS=1 python -m pytest -q tests/test_examples.py
UPDATE_GOLDENS = os.environ.get("FLATGEN_UPDATE_GOLDENS") == "1"


def checkout_env(*extra_paths, **variables) -> dict:
    """The environment for a subprocess that must run this checkout's flatgen, whatever flatgen is
    installed (a wheel, another checkout's editable install): the checkout first on PYTHONPATH, then
    `extra_paths` (e.g. tests/ for the fuzzers), then what PYTHONPATH held before.  Use it with
    `sys.executable -m flatgen ...` (the console script would run the installed code)."""
    old = os.environ.get("PYTHONPATH", "")
    path = os.pathsep.join([str(ROOT), *map(str, extra_paths), *([old] if old else [])])
    return {**os.environ, "PYTHONPATH": path, **variables}


CHECKOUT_FLATGEN = [sys.executable, "-m", "flatgen"]  # the checkout's command line (with checkout_env())
