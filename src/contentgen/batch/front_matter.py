"""YAML front matter for batch pieces: PyYAML's exact output, written directly when it can be.

A batch writes one front matter per row. ``yaml.safe_dump`` spends ~250 µs on nine fields
(~40 µs with libyaml's emitter, which however escapes characters such as emoji that PyYAML
writes as they are); most values are plain words, numbers, ``null`` or lists of plain words,
whose YAML is easy to write exactly as PyYAML writes it. Anything else — quotes, colons,
non-ASCII, long titles that PyYAML would fold — goes to ``yaml.safe_dump``, so the output is
always what ``yaml.safe_dump(data, sort_keys=False, allow_unicode=True)`` gives.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

#: PyYAML's line width: a plain scalar running past it is folded at a space.
_WIDTH = 80
# Starts with a letter (no indicator, number, timestamp or ``~``); words of letters, digits
# and ``./_-`` separated by single spaces (no ``: ``, `` #`` or trailing space).
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9./_-]*(?: [A-Za-z0-9./_-]+)*\Z")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
# Words YAML 1.1 (PyYAML's resolver) reads as booleans or null: these get quoted.
_RESERVED = frozenset(
    word
    for base in ("yes", "no", "true", "false", "on", "off", "null")
    for word in (base, base.capitalize(), base.upper())
)


def dump(data: dict[str, Any]) -> str:
    """``yaml.safe_dump(data, sort_keys=False, allow_unicode=True)``, faster for simple
    values."""
    fast = _fast(data)
    if fast is not None:
        return fast
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _fast(data: dict[str, Any]) -> str | None:
    """The YAML of ``data`` when every key and value is simple, else None."""
    lines: list[str] = []
    for key, value in data.items():
        if not (isinstance(key, str) and _is_plain(key, 0)):
            return None
        prefix = f"{key}: "
        if isinstance(value, list):
            if not value:
                lines.append(f"{prefix}[]")
                continue
            lines.append(f"{key}:")
            for item in value:
                if not (isinstance(item, str) and _is_plain(item, 2)):
                    return None
                lines.append(f"- {item}")
            continue
        scalar = _scalar(value, len(prefix))
        if scalar is None:
            return None
        lines.append(prefix + scalar)
    return "\n".join(lines) + "\n" if lines else None


def _scalar(value: Any, column: int) -> str | None:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        text = repr(value).lower()
        if "." not in text and "e" in text:
            text = text.replace("e", ".0e", 1)
        return text
    if isinstance(value, str) and _is_plain(value, column):
        return value
    return None


def _is_plain(text: str, column: int) -> bool:
    return (
        column + len(text) <= _WIDTH
        and text not in _RESERVED
        and (_PLAIN.match(text) is not None or _UUID.match(text) is not None)
    )
