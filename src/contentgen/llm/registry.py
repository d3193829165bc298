"""Which model a request uses, and which backend runs it.

``choose_model`` applies the precedence request model -> catalogue entry for the priority ->
``CONTENTGEN_MODEL`` -> the embedded model. ``BackendRegistry`` builds one backend per kind on
first use (importing nothing heavy until then) and closes them all in ``aclose``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from contentgen.errors import MissingExtra
from contentgen.llm.base import LLM
from contentgen.settings import EMBEDDED_MODEL, Settings

__all__ = ["EMBEDDED_MODEL", "BackendRegistry", "ModelChoice", "choose_model"]

BackendKind = Literal["local", "fake", "openai_compat", "litellm"]


@dataclass(frozen=True)
class ModelChoice:
    """The model a request will use and why (shown by ``contentgen models`` and in logs)."""

    model: str
    reason: str


def choose_model(
    settings: Settings, *, model: str | None, provider: str | None, priority: str
) -> ModelChoice:
    """Pick the model for one request.

    A request's ``model`` wins (``provider`` is prepended when the model has no ``/``); then
    ``settings.catalogue[priority]``; then ``CONTENTGEN_MODEL``; then the embedded model.
    ``provider`` alone does not pick a model.
    """
    if model:
        if provider and "/" not in model:
            model = f"{provider}/{model}"
        return ModelChoice(model, "request")
    catalogued = settings.catalogue.get(priority)
    if catalogued:
        return ModelChoice(catalogued, f"catalogue for priority {priority!r}")
    if settings.model:
        return ModelChoice(settings.model, "CONTENTGEN_MODEL")
    return ModelChoice(EMBEDDED_MODEL, "embedded default")


def prefix_of(model: str) -> str:
    """``openai`` for ``openai/gpt-4o-mini``; ``""`` for a model without a provider prefix."""
    return model.split("/", 1)[0] if "/" in model else ""


class BackendRegistry:
    """Builds and caches the backend for each kind of model string.

    ``overrides`` maps a full model string, a prefix (``"openai"``) or ``"*"`` to an ``LLM``
    used instead (tests inject a ``FakeLLM`` this way); overrides belong to the caller and are
    not closed here.
    """

    def __init__(self, settings: Settings, overrides: Mapping[str, LLM] | None = None) -> None:
        self._settings = settings
        self._overrides = dict(overrides or {})
        self._backends: dict[BackendKind, LLM] = {}

    def kind(self, model: str) -> BackendKind:
        """Which backend runs ``model`` (ignoring overrides)."""
        prefix = prefix_of(model)
        if prefix == "local" or model == "local":
            return "local"
        if prefix == "fake":
            return "fake"
        forced = self._settings.llm_backend
        if forced == "litellm":
            return "litellm"
        if forced == "httpx" or (self._settings.api_base and prefix in ("", "openai")):
            return "openai_compat"
        return "litellm"

    def _override(self, model: str) -> LLM | None:
        for key in (model, prefix_of(model), "*"):
            if key and key in self._overrides:
                return self._overrides[key]
        return None

    def get(self, model: str) -> LLM:
        """The backend for ``model``: an override if one matches, else a cached one."""
        override = self._override(model)
        if override is not None:
            return override
        kind = self.kind(model)
        backend = self._backends.get(kind)
        if backend is None:
            backend = self._backends[kind] = self._build(kind)
        return backend

    def _build(self, kind: BackendKind) -> LLM:
        # Backends are imported here, so a command that never calls a model never pays for
        # httpx, tenacity or the backends' own imports.
        from contentgen.llm.fake import FakeLLM
        from contentgen.llm.litellm_backend import LiteLLMBackend
        from contentgen.llm.local_llama import LocalLlamaBackend
        from contentgen.llm.openai_compat import OpenAICompatBackend

        if kind == "local":
            return LocalLlamaBackend(self._settings)
        if kind == "fake":
            return FakeLLM()
        if kind == "openai_compat":
            return OpenAICompatBackend(self._settings)
        return LiteLLMBackend(self._settings)

    def check_available(self, model: str) -> None:
        """Fail early (before a job is queued) when ``model`` cannot run here.

        For ``local/`` models: ``MissingExtra`` when llama-cpp-python or the bundled model is not
        installed, ``ConfigurationError`` when a named GGUF file does not exist. Nothing is
        imported to find out.
        """
        if self._override(model) is not None or self.kind(model) != "local":
            return
        from contentgen.llm.local_llama import MODEL_HINT, llama_cpp_available, resolve_model_path

        if not llama_cpp_available():
            raise MissingExtra("local", "The embedded model", hint=MODEL_HINT)
        resolve_model_path(self._settings, model)

    async def aclose(self) -> None:
        """Close every backend this registry built."""
        backends, self._backends = list(self._backends.values()), {}
        for backend in backends:
            await backend.aclose()

    async def __aenter__(self) -> BackendRegistry:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
