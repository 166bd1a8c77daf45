"""Format: Black is the formatter of record for every generated module."""

from __future__ import annotations

from .errors import InternalError


def format_source(text: str) -> str:
    import black  # imported here: `import flatgen` stays fast

    try:
        return black.format_str(text, mode=black.Mode())
    except black.InvalidInput as e:
        numbered = "\n".join(f"{i:4} | {line}" for i, line in enumerate(text.splitlines(), 1))
        raise InternalError(
            f"the generated module is not valid Python ({e}); this is a flatgen bug, please report it "
            f"with the rendered source:\n{numbered}"
        ) from None
