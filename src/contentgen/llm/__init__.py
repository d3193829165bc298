"""LLM backends behind one small protocol (``LLM``), and the router that chooses between them.

Importing this package imports no backend: each name loads on first use, and each backend
imports its heavy library (aiohttp, litellm, llama_cpp) on its first call.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contentgen.llm.base import LLM, Attempt, Completion, CompletionParams, ModelCall
    from contentgen.llm.catalogue import Catalogue, ModelEntry, load_catalogue
    from contentgen.llm.fake import FakeLLM
    from contentgen.llm.litellm_backend import LiteLLMBackend
    from contentgen.llm.local_llama import LocalLlamaBackend
    from contentgen.llm.openai_compat import OpenAICompatBackend
    from contentgen.llm.router import Router
    from contentgen.llm.routing import Route

_WHERE = {
    "LLM": "contentgen.llm.base",
    "Attempt": "contentgen.llm.base",
    "Completion": "contentgen.llm.base",
    "CompletionParams": "contentgen.llm.base",
    "ModelCall": "contentgen.llm.base",
    "Catalogue": "contentgen.llm.catalogue",
    "ModelEntry": "contentgen.llm.catalogue",
    "load_catalogue": "contentgen.llm.catalogue",
    "FakeLLM": "contentgen.llm.fake",
    "LiteLLMBackend": "contentgen.llm.litellm_backend",
    "LocalLlamaBackend": "contentgen.llm.local_llama",
    "OpenAICompatBackend": "contentgen.llm.openai_compat",
    "Route": "contentgen.llm.routing",
    "Router": "contentgen.llm.router",
}

__all__ = [
    "LLM",
    "Attempt",
    "Catalogue",
    "Completion",
    "CompletionParams",
    "FakeLLM",
    "LiteLLMBackend",
    "LocalLlamaBackend",
    "ModelCall",
    "ModelEntry",
    "OpenAICompatBackend",
    "Route",
    "Router",
    "load_catalogue",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'contentgen.llm' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
