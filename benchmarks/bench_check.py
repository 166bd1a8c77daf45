"""`flatgen check` over 50 targets, and the cost of importing flatgen and a generated module.

    python benchmarks/bench_check.py

Makes a throwaway project with 50 functions (scalar and array ones, a few dozen operations each),
runs `flatgen generate` once, then times the console script `flatgen check` (a whole process, as a
pre-commit hook runs it), `python -c "import flatgen"` and `python -c "import <generated module>"`
against `python -c "import numpy"`, medians of several runs.  Target (issue 7): check over 50
targets in a few seconds; imports close to numpy's own.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

FLATGEN = Path(sys.executable).parent / "flatgen"


def project(root: Path, n: int = 50) -> None:
    funcs = []
    for i in range(n):
        if i % 2:
            funcs.append(textwrap.dedent(f"""
                def f{i}(x, y, z):
                    a = x * y + z
                    for k in range(6):
                        a = np.tanh(a * {1 + i % 5}.0 + x) * sigmoid(y - a)
                    return a * a + np.exp(-z * z)
                """))
        else:
            funcs.append(textwrap.dedent(f"""
                def f{i}(W, x, b):
                    h = np.maximum(W @ x + b, 0.0)
                    for k in range(3):
                        h = np.tanh(h * {1 + i % 3}.0) + h
                    return np.sum(h ** 2) / {i + 1}
                """))
    (root / "model.py").write_text("import numpy as np\nfrom flatgen import sigmoid\n\n" + "\n".join(funcs))
    targets = []
    for i in range(n):
        if i % 2:
            targets.append(f'"model.py:f{i}"')
        else:
            targets.append(f'{{ target = "model.py:f{i}", shapes = {{ W = [8, 4], x = [4], b = [8] }} }}')
    (root / "pyproject.toml").write_text("[tool.flatgen]\ntargets = [\n    " + ",\n    ".join(targets) + ",\n]\n")


def timed(cmd, cwd, runs=5) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        assert r.returncode == 0, r.stderr
    return statistics.median(times)


def main():
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        project(root)
        subprocess.run([str(FLATGEN), "generate"], cwd=root, check=True, capture_output=True)
        lines = sum(len(p.read_text().splitlines()) for p in (root / "generated").glob("*.py"))
        check = timed([str(FLATGEN), "check"], root)
        numpy_import = timed([sys.executable, "-c", "import numpy"], root, runs=9)
        flatgen_import = timed([sys.executable, "-c", "import flatgen"], root, runs=9)
        module_import = timed([sys.executable, "-c", "import sys; sys.path.insert(0, 'generated'); import model_f1"],
                              root, runs=9)
        print(f"flatgen check, 50 targets ({lines} generated lines): {check:.2f} s")
        print(f"python -c 'import numpy'                          : {numpy_import * 1e3:.0f} ms")
        print(f"python -c 'import flatgen'                        : {flatgen_import * 1e3:.0f} ms")
        print(f"python -c 'import <a generated module>'           : {module_import * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
