"""Helpers for testing code that uses contentgen (they ship with the library).

``FakeOpenAIServer`` is an OpenAI-compatible HTTP server on loopback (``run_in_thread`` runs one
for synchronous tests); ``FakeLLM`` (``contentgen.llm.FakeLLM``) is the in-process scriptable
model. Names are loaded on first access so ``python -m contentgen.testing.openai_server`` runs
the module once, cleanly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contentgen.llm.fake import article_from_prompt
    from contentgen.testing.openai_server import FakeOpenAIServer, run_in_thread

__all__ = ["FakeOpenAIServer", "article_from_prompt", "run_in_thread"]

_WHERE = {
    "FakeOpenAIServer": "contentgen.testing.openai_server",
    "run_in_thread": "contentgen.testing.openai_server",
    "article_from_prompt": "contentgen.llm.fake",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
