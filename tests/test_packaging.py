"""The templates ship inside the wheel, and an editable install finds them in the checkout."""

import subprocess
import sys
import zipfile
from pathlib import Path

import flatgen
from conftest import ROOT
from flatgen.templates_dir import templates_dir


def test_editable_install_uses_the_checkouts_templates():
    # The test suite runs on `pip install -e .`: flatgen is imported from the checkout.
    assert Path(flatgen.__file__).resolve().parent == ROOT / "flatgen"
    assert templates_dir() == ROOT / "templates"


def test_wheel_carries_the_templates_and_works_without_the_checkout(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = tmp_path.glob("flatgen-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.relative_to(ROOT).as_posix().replace("templates/", "flatgen/templates/", 1)
               for p in (ROOT / "templates").rglob("*.j2")}
    assert shipped and shipped <= names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    (tmp_path / "m.py").write_text("def f(x):\n    return x * x\n")
    probe = (
        "import flatgen, flatgen.templates_dir as t, sys\n"
        "from flatgen.parse import load_target\nfrom flatgen.pipeline import generate\n"
        "print(flatgen.__file__); print(t.templates_dir())\n"
        "print(generate(*load_target('m.py:f')).source)\n"
    )
    r = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r})\n" + probe],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith(str(site)) and lines[1] == str(site / "flatgen" / "templates")
    assert "def f_value_and_grad(x):" in r.stdout
