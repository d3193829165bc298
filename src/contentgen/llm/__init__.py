"""LLM backends behind one small protocol (``LLM``), and the choice between them.

Importing this package imports no backend: each name loads on first use, and each backend
imports its heavy library (litellm, llama_cpp) on its first call.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contentgen.llm.base import LLM, Completion, CompletionParams
    from contentgen.llm.fake import FakeLLM
    from contentgen.llm.litellm_backend import LiteLLMBackend
    from contentgen.llm.local_llama import LocalLlamaBackend
    from contentgen.llm.openai_compat import OpenAICompatBackend
    from contentgen.llm.registry import BackendRegistry, ModelChoice, choose_model

_WHERE = {
    "LLM": "contentgen.llm.base",
    "Completion": "contentgen.llm.base",
    "CompletionParams": "contentgen.llm.base",
    "FakeLLM": "contentgen.llm.fake",
    "LiteLLMBackend": "contentgen.llm.litellm_backend",
    "LocalLlamaBackend": "contentgen.llm.local_llama",
    "OpenAICompatBackend": "contentgen.llm.openai_compat",
    "BackendRegistry": "contentgen.llm.registry",
    "ModelChoice": "contentgen.llm.registry",
    "choose_model": "contentgen.llm.registry",
}

__all__ = [
    "LLM",
    "BackendRegistry",
    "Completion",
    "CompletionParams",
    "FakeLLM",
    "LiteLLMBackend",
    "LocalLlamaBackend",
    "ModelChoice",
    "OpenAICompatBackend",
    "choose_model",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'contentgen.llm' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
