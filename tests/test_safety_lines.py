"""safety.code_lines keeps exactly the lines the module check compares: split where Python ends
lines (\\r\\n, \\r, \\n), without blank lines and comments, as a line-by-line reading keeps them."""

from __future__ import annotations

import random
import re
import sys

from flatgen.safety import code_lines


def reference(text: str) -> list[str]:
    """The plain definition, one line at a time."""
    return [line for line in re.split(r"\r\n|\r|\n", text) if line.strip() and not line.lstrip().startswith("#")]


BLANKS = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()]
PIECES = ["x = 1", "#", "# c", "  ", "\t", "y", "'#'", "\r\n", "\r", "\n", "\x0c", "\x0b", "\x85", "\u2028", "\x00",
          "é", " # after code"] + BLANKS


def test_the_same_lines_as_a_line_by_line_reading():
    rng = random.Random(3)
    for _ in range(20000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 12)))
        assert code_lines(text) == reference(text), repr(text)


def test_a_comment_that_carried_a_line_end_leaves_code_behind():
    module = "def f(x):\n    # line 2: s = x\rimport os\n    return x\n"
    assert "import os" in code_lines(module)
    assert code_lines(module) != code_lines("def f(x):\n    return x\n")
