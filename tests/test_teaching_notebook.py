"""Teaching (issue 16): examples/backprop.ipynb, the lecture as a notebook, run headless in a fresh
kernel; every step shows its table (HTML) and its picture (SVG), the lecture's numbers, no error."""

import ipykernel  # noqa: F401  (the kernel the notebook runs in: a test extra, never skipped)
import nbclient
import nbformat
import pytest

from conftest import ROOT, checkout_env

NOTEBOOK = ROOT / "examples" / "backprop.ipynb"


@pytest.fixture(scope="module")
def executed():
    import os

    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = checkout_env()["PYTHONPATH"]  # the kernel imports this checkout's flatgen
    try:
        nb = nbformat.read(NOTEBOOK, as_version=4)
        client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                         resources={"metadata": {"path": str(NOTEBOOK.parent)}})
        client.execute()
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    return [c for c in nb.cells if c.cell_type == "code"]


def outputs(cell, mime: str) -> list[str]:
    return [o["data"][mime] for o in cell.outputs if "data" in o and mime in o["data"]]


def test_notebook_runs_without_errors(executed):
    for cell in executed:
        kinds = {o.output_type for o in cell.outputs}
        assert "error" not in kinds, cell.source
        streams = [o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.get("name") == "stderr"]
        assert not any("Traceback" in s for s in streams), cell.source


def test_every_step_has_its_table_and_its_picture(executed):
    last = lambda c: c.source.strip().splitlines()[-1].split("(")[0]  # noqa: E731 - what the cell shows
    tables = [c for c in executed if last(c).endswith(".explain")]
    pictures = [c for c in executed if last(c).endswith(".draw")]
    assert len(tables) >= 7 and len(pictures) >= 7
    for c in tables:
        (html,) = outputs(c, "text/html")
        assert html.startswith('<table class="flatgen-explain">'), c.source
    for c in pictures:
        (svg,) = outputs(c, "image/svg+xml")
        assert svg.startswith("<svg ") and "</svg>" in svg, c.source
    modules = [c for c in executed if c.source.strip() in ("circuit", "rnn")]
    assert modules and all("value_and_grad" in outputs(c, "text/html")[0] for c in modules)


def test_the_lecture_numbers(executed):
    text = "\n".join(t for c in executed for t in outputs(c, "text/plain"))
    for shown in ("q = 3", "f = -12", "d = 1.368", "-0.5344", "-0.1966", "0.3932", "-0.5898",
                  "(2, 2) [0.088, 0.176, 0.104, 0.208]", "(2,) [-0.112, 0.636]", "max (router)", "9 + 2 + 2 = 13"):
        assert shown in text
