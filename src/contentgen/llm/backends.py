"""Where each model is called: the backend objects of one router, built on first use.

``target`` (``routing.py``) says which backend, endpoint and key a catalogue entry gets;
``Backends`` builds one backend per (kind, endpoint, key variable), answers why a model
cannot run here (``problem``: a missing key, extra or model file; known once), and applies
test overrides (a model name, a provider prefix or ``"*"`` mapped to an ``LLM``).
"""

from __future__ import annotations

from collections.abc import Mapping

from contentgen.errors import ConfigurationError, ContentgenError, MissingExtra, MissingKey
from contentgen.llm.base import LLM
from contentgen.llm.catalogue import Catalogue, ModelEntry
from contentgen.llm.routing import Target, target
from contentgen.llm.secrets import Secrets
from contentgen.settings import Settings


class Backends:
    def __init__(self, settings: Settings, catalogue: Catalogue, env: Mapping[str, str],
                 secrets: Secrets, overrides: Mapping[str, LLM] | None = None) -> None:  # fmt: skip
        self.settings = settings
        self.catalogue = catalogue
        self.env = env
        self.secrets = secrets
        self._overrides = dict(overrides or {})
        self._backends: dict[tuple[str, str | None, str | None], LLM] = {}
        self._problems: dict[str, ContentgenError | None] = {}

    def override(self, model: str) -> LLM | None:
        prefix = model.split("/", 1)[0] if "/" in model else ""
        for key in (model, prefix, "*"):
            if key and key in self._overrides:
                return self._overrides[key]
        return None

    def target(self, entry: ModelEntry) -> Target:
        return target(entry, self.catalogue, self.settings, self.env)

    def problem(self, model: str) -> ContentgenError | None:
        """Why ``model`` cannot be called here (missing key, extra or file), else None.

        Known once per router: settings and environment are fixed for its lifetime."""
        if model not in self._problems:
            self._problems[model] = self._problem(model)
        return self._problems[model]

    def _problem(self, model: str) -> ContentgenError | None:
        if self.override(model) is not None:
            return None
        entry = self.catalogue.entry(model)
        if entry.endpoint is not None and entry.endpoint not in self.catalogue.endpoints:
            return ConfigurationError(f"model {model}: no endpoint {entry.endpoint!r}")
        found = self.target(entry)
        if found.kind == "local":
            from contentgen.llm.local_llama import (
                MODEL_HINT,
                llama_cpp_available,
                resolve_model_path,
            )

            if not llama_cpp_available():
                return MissingExtra("local", "The embedded model", hint=MODEL_HINT)
            try:
                resolve_model_path(self.settings, model)
            except ContentgenError as exc:
                return exc
            return None
        if found.missing_key:
            assert found.key_variable is not None
            return MissingKey(model, found.provider, found.key_variable)
        return None

    def backend(self, entry: ModelEntry) -> LLM:
        override = self.override(entry.name)
        if override is not None:
            return override
        found = self.target(entry)
        cache_key = (found.kind, found.api_base, found.key_variable)
        backend = self._backends.get(cache_key)
        if backend is None:
            backend = self._backends[cache_key] = self._build(found)
        return backend

    def _build(self, found: Target) -> LLM:
        # Imported here: a command that never calls a model never pays for a backend.
        if found.kind == "local":
            from contentgen.llm.local_llama import LocalLlamaBackend

            return LocalLlamaBackend(self.settings)
        if found.kind == "fake":
            from contentgen.llm.fake import FakeLLM

            return FakeLLM()
        if found.kind == "aiohttp":
            from contentgen.llm.openai_compat import OpenAICompatBackend

            return OpenAICompatBackend(self.settings, api_base=found.api_base, api_key=found.key,
                                       key_variable=found.key_variable or "CONTENTGEN_API_KEY",
                                       secrets=self.secrets)  # fmt: skip
        from contentgen.llm.litellm_backend import LiteLLMBackend

        return LiteLLMBackend(self.settings, api_base=found.api_base, api_key=found.key,
                              key_variable=found.key_variable, secrets=self.secrets)  # fmt: skip

    def wire(self, entry: ModelEntry) -> str:
        """The model string the backend is called with."""
        found = self.target(entry)
        if found.kind == "litellm" and entry.endpoint is not None:
            return entry.wire if entry.wire.startswith("openai/") else f"openai/{entry.wire}"
        return entry.wire

    async def aclose(self) -> None:
        """Close every backend built here (overrides belong to the caller)."""
        backends, self._backends = list(self._backends.values()), {}
        for backend in backends:
            await backend.aclose()
