"""Where an installed package's files are, found without importing it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any


def find_spec(name: str) -> Any:
    """``importlib.util.find_spec`` that answers None instead of raising."""
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None


def package_dirs(name: str) -> list[Path]:
    """The folders of an installed package (empty when it is not installed)."""
    spec = find_spec(name)
    if spec is None:
        return []
    if spec.submodule_search_locations:
        return [Path(p) for p in spec.submodule_search_locations]
    if spec.origin:
        return [Path(spec.origin).parent]
    return []
