"""Settings the operator mistyped, said in one line each, as they set them.

A pydantic traceback for a typo in an environment variable is noise to an operator: every
command prints, instead, which variable (and which entry and field of a JSON one such as
``OPENREEL_UPSTREAMS``) was refused and why.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

__all__ = ["setting_errors"]


_HIDDEN = re.compile(r"key|secret|token|password|url|dsn", re.IGNORECASE)
"""Settings whose value is never repeated in an error: it may be a credential (a database URL
carries its password)."""


def setting_errors(exc: ValidationError) -> list[str]:
    """One line per setting :class:`Settings` refused, named as the operator set it (the
    environment variable, and the entry and field of a JSON one such as
    ``OPENREEL_UPSTREAMS``), with the value received unless it may be a credential, so a
    typo reads as a sentence rather than a traceback."""
    lines = []
    for error in exc.errors():
        loc = error["loc"]
        names = []
        for part in loc:
            if not isinstance(part, str):
                break
            names.append(part.upper())
        variable = "OPENREEL_" + "__".join(names) if names else "settings"
        rest = loc[len(names) :]
        if rest:
            index, *fields = rest
            inner = ".".join(str(f) for f in fields)
            where = (
                f" (entry {index}{': ' + inner if inner else ''})"
                if isinstance(index, int)
                else f" ({'.'.join(str(p) for p in rest)})"
            )
            variable += where
        message = str(error["msg"]).removeprefix("Value error, ")
        value = error.get("input")
        shown = isinstance(value, str | int | float | bool) and not any(
            _HIDDEN.search(str(part)) for part in loc
        )
        lines.append(f"{variable}: {message}" + (f"; got {value!r}" if shown else ""))
    return lines
