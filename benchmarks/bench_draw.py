"""Drawing at scale: the circuit picture of synthetic functions of about N gates.

    python benchmarks/bench_draw.py [--sizes 100 1000 3000] [--runs 5]

Shapes of function: a long chain (each value used by the next), a mixed chain where every line reads
the two parameters again (wide fan-out: long wires from the inputs), and a wide sum of independent
terms (a tall layer).  Prints, per function and size, the median time to draw the graph alone and
with its values (the interpreter's run included), from the Generated module to the SVG text.  The
target: under a second at 1,000 gates.  Run on demand; never part of the tests.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from flatgen.draw import draw
from flatgen.parse import load_target
from flatgen.pipeline import generate


def chain(n: int) -> str:
    body = ["    a = x * y"] + ["    a = np.sin(a) * x" if i % 2 else "    a = a * a + y" for i in range(n // 2)]
    return "import numpy as np\n\n\ndef f(x, y):\n" + "\n".join(body) + "\n    return a\n"


def mixed(n: int) -> str:
    forms = ["    s = s * x + y", "    s = np.sin(s) * y - x", "    s = s + x * y * {c}.0",
             "    s = np.tanh(s + x) * y", "    s = s / (y + {c}.0) + x"]
    body = ["    s = x * y"] + [forms[i % len(forms)].format(c=i % 7 + 2) for i in range(n * 10 // 27)]
    return "import numpy as np\n\n\ndef f(x, y):\n" + "\n".join(body) + "\n    return s\n"


def wide(n: int) -> str:
    k = n // 3
    terms = [f"    a{i} = np.sin(x * {i + 1}.0) * y" for i in range(k)]
    sums = ["    s = a0"] + [f"    s = s + a{i}" for i in range(1, k)]
    return "import numpy as np\n\n\ndef f(x, y):\n" + "\n".join(terms + sums) + "\n    return s\n"


def timed(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 3000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("| function | gates | graph alone | with values | SVG size |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in (("chain", chain), ("mixed", mixed), ("wide", wide)):
            for n in args.sizes:
                path = Path(tmp) / f"{name}_{n}.py"
                path.write_text(make(n))
                g = generate(*load_target(f"{path}:f"))
                plain = timed(lambda: draw(g).svg, args.runs)
                valued = timed(lambda: draw(g, (0.3, 0.7)).svg, args.runs)
                size = len(draw(g, (0.3, 0.7)).svg.encode())
                print(f"| {name} | {len(g.graph.eqns):,} | {plain:.3f} s | {valued:.3f} s | {size / 1e6:.1f} MB |")


if __name__ == "__main__":
    main()
