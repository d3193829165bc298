"""LLM backends behind one small protocol (``LLM``), and the choice between them.

Importing this package imports neither litellm nor llama_cpp: each backend imports its heavy
library on first use.
"""

from __future__ import annotations

from contentgen.llm.base import LLM, Completion, CompletionParams
from contentgen.llm.fake import FakeLLM
from contentgen.llm.litellm_backend import LiteLLMBackend
from contentgen.llm.local_llama import LocalLlamaBackend
from contentgen.llm.openai_compat import OpenAICompatBackend
from contentgen.llm.registry import BackendRegistry, ModelChoice, choose_model

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
