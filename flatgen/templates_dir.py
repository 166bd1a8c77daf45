"""Where the Jinja2 templates are: inside the installed package, or in the source checkout.

A wheel carries templates/ as flatgen/templates (hatchling force-include).  An editable install
imports flatgen from the checkout, where the templates sit beside the package instead.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def templates_dir() -> Path:
    packaged = resources.files("flatgen") / "templates"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parent.parent / "templates"
    if checkout.is_dir():
        return checkout
    raise RuntimeError(f"flatgen's templates are missing (looked in {packaged} and {checkout}): broken install")
