"""Teaching (issue 16): functions defined in notebook cells, run headless in real kernels (nbclient,
ipykernel).  A helper and a constant come from other cells; a cell is edited and run again; two fresh
kernels write the same module; a FlatgenError shows as its message, not as flatgen's frames."""

from __future__ import annotations

import json
import os
import re

import ipykernel  # noqa: F401  (the kernel the notebook runs in: a test extra, never skipped)
import nbclient
import nbformat
import pytest

from conftest import checkout_env

CELLS = [
    "import numpy as np\nimport flatgen",
    "SCALE = 0.5",
    "def square(u):\n    return u * u",
    "@flatgen.flat\ndef f(x, y):\n    s = SCALE * square(x)\n    return s * np.sin(y)",
    "import json\nprint(json.dumps({'vg': f.value_and_grad(3.0, 2.0), 'source': f.source, 'path': str(f.write('out'))}))",
    "W = np.ones(2)\n\n@flatgen.flat\ndef bad(x):\n    return W * x",
]
EDITED_HELPER = "def square(u):\n    return u * u * u"
EDITED_FUNCTION = "@flatgen.flat\ndef f(x, y):\n    s = SCALE * square(x)\n    return s + y"


def run_kernel(folder, edits=()):
    """Run CELLS in a fresh kernel whose working folder is `folder`, then each (index, new source) of
    `edits` in turn, and the printing cell again.  Returns the executed cells, edited ones last."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(folder)}})
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = checkout_env()["PYTHONPATH"]  # the kernel imports this checkout's flatgen
    try:
        with client.setup_kernel():
            for i, cell in enumerate(nb.cells):
                client.execute_cell(cell, i)
            ran = list(nb.cells)
            for i, source in [*edits, *([(4, CELLS[4])] if edits else [])]:
                cell = nbformat.v4.new_code_cell(source)
                nb.cells.append(cell)
                client.execute_cell(cell, len(nb.cells) - 1)
                ran.append(cell)
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    return ran


def printed(cell) -> dict:
    (text,) = [o["text"] for o in cell.outputs if o.output_type == "stream" and o.name == "stdout"]
    return json.loads(text)


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    one, two = tmp_path_factory.mktemp("one"), tmp_path_factory.mktemp("two")
    return (one, run_kernel(one, edits=[(2, EDITED_HELPER), (3, EDITED_FUNCTION)])), (two, run_kernel(two))


def test_helpers_and_constants_of_other_cells(kernels):
    (_, cells), _ = kernels
    for cell in cells[:5]:
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source
    value, grads = printed(cells[4])["vg"]
    import math

    assert value == pytest.approx(0.5 * 9 * math.sin(2.0))
    assert grads == pytest.approx([0.5 * 2 * 3 * math.sin(2.0), 0.5 * 9 * math.cos(2.0)])


def test_two_fresh_kernels_write_the_same_module(kernels):
    (one, cells_one), (two, cells_two) = kernels
    a, b = printed(cells_one[4]), printed(cells_two[4])
    assert a["source"] == b["source"]
    header = a["source"].splitlines()[:4]
    assert re.fullmatch(r"# Source hash: [0-9a-f]{16} \(the function, its helpers and constants\)", header[1])
    assert header[2:] == ["# From: notebook:f", "# Regenerate: run the notebook, then f.write('generated')"]
    assert "ipykernel" not in a["source"] and "/tmp" not in a["source"]
    assert a["path"] == b["path"] == "out/f.py"  # write() names the module after the function
    assert (two / "out" / "f.py").read_text(encoding="utf-8") == b["source"]  # (one's was written again since)


def test_a_cell_edited_and_run_again(kernels):
    (one, cells), _ = kernels
    for cell in cells[6:]:
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source
    after = printed(cells[-1])
    value, grads = after["vg"]  # s = 0.5 * x**3, f = s + y
    assert value == pytest.approx(0.5 * 27 + 2.0) and grads == pytest.approx([0.5 * 3 * 9, 1.0])
    assert "s = 0.5 * square_out" in after["source"] and "square_out = t1 * x" in after["source"]
    assert after["source"] != printed(cells[4])["source"]
    assert (one / "out" / "f.py").read_text(encoding="utf-8") == after["source"]


def test_a_flatgen_error_shows_as_its_message(kernels):
    (_, cells), _ = kernels
    (error,) = [o for o in cells[5].outputs if o.output_type == "error"]
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in error.traceback]
    assert error.ename == "NameResolutionError"
    assert re.fullmatch(r"FlatgenError: Cell In\[\d+\]:5:12: unresolved: `W` is a numpy\.ndarray in the notebook; .*",
                        lines[0])
    assert lines[1:4] == ["    return W * x", "           ^", "hint: pass it as a parameter"]
    assert re.fullmatch(r"\(called from Cell In\[\d+\], line 3\)", lines[4]) and len(lines) == 5
    assert not any("flatgen/" in line or "Traceback" in line for line in lines)
