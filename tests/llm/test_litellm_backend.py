"""LiteLLMBackend specifics: lazy import, litellm's own cost, provider detection, no printing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from contentgen.errors import ProviderError
from contentgen.llm import LiteLLMBackend, pricing
from contentgen.settings import Settings
from contentgen.testing import FakeOpenAIServer

MODEL = "openai/gpt-4o-mini"


@pytest.fixture
async def backend(settings: Settings, api_key: str) -> AsyncIterator[LiteLLMBackend]:
    llm = LiteLLMBackend(settings, api_base=settings.api_base, api_key=api_key)
    yield llm
    await llm.aclose()


def run_python(code: str, env_drop: tuple[str, ...] = ()) -> str:
    env = {k: v for k, v in os.environ.items() if k not in env_drop}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


def test_module_import_does_not_import_litellm() -> None:
    out = run_python(
        """
        import sys
        from contentgen.llm.litellm_backend import LiteLLMBackend
        from contentgen.settings import Settings
        LiteLLMBackend(Settings())
        print("litellm" in sys.modules)
        """
    )
    assert out == "False"


def test_first_call_defaults_local_cost_map_before_importing() -> None:
    out = run_python(
        """
        import asyncio, os, sys
        from contentgen.llm.litellm_backend import LiteLLMBackend
        from contentgen.settings import Settings
        assert "LITELLM_LOCAL_MODEL_COST_MAP" not in os.environ
        asyncio.run(LiteLLMBackend(Settings())._lib())
        print("litellm" in sys.modules, os.environ["LITELLM_LOCAL_MODEL_COST_MAP"])
        """,
        env_drop=("LITELLM_LOCAL_MODEL_COST_MAP",),
    )
    assert out == "True True"


async def test_cost_equals_litellm_completion_cost(
    backend: LiteLLMBackend, openai_server: FakeOpenAIServer
) -> None:
    import litellm

    openai_server.usage = (1000, 250)
    result = await backend.complete("hello", model=MODEL)
    usage = {"prompt_tokens": 1000, "completion_tokens": 250, "total_tokens": 1250}
    response = litellm.ModelResponse(
        model="gpt-4o-mini",
        choices=[{"index": 0, "message": {"role": "assistant", "content": "x"}}],
        usage=usage,
    )
    expected = litellm.completion_cost(completion_response=response)
    assert result.cost == pytest.approx(expected, rel=1e-12)
    assert result.cost == pytest.approx(pricing.cost(MODEL, 1000, 250), rel=1e-12)


async def test_model_without_prefix_gets_provider_from_litellm(
    backend: LiteLLMBackend, openai_server: FakeOpenAIServer
) -> None:
    result = await backend.complete("hello", model="gpt-4o-mini")
    assert result.provider == "openai"
    assert result.model == "gpt-4o-mini"
    assert openai_server.requests == 1


async def test_unknown_model_has_unknown_cost(
    backend: LiteLLMBackend, openai_server: FakeOpenAIServer
) -> None:
    result = await backend.complete("hello", model="openai/my-finetune-xyz")
    assert result.cost is None  # never a silent 0
    assert result.text


async def test_missing_credentials_are_an_auth_error_naming_the_variable(
    openai_server: FakeOpenAIServer,
) -> None:
    llm = LiteLLMBackend(Settings(), api_base=openai_server.base_url,
                         key_variable="OPENAI_API_KEY")  # fmt: skip
    with pytest.raises(ProviderError) as info:
        await llm.complete("hello", model=MODEL)
    await llm.aclose()
    assert info.value.kind == "auth" and len(info.value.attempts) == 1
    assert openai_server.requests == 0
    assert "OPENAI_API_KEY" in str(info.value)
    assert "Traceback" not in str(info.value) and len(str(info.value).splitlines()) == 1


async def test_settings_api_base_and_key_are_not_passed_by_default(
    openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 7, point 2: CONTENTGEN_API_BASE/KEY never reach another provider's endpoint."""
    seen: dict[str, object] = {}
    llm = LiteLLMBackend(Settings(api_base=openai_server.base_url,
                                  api_key=SecretStr("sk-contentgen-only")))  # fmt: skip
    litellm = await llm._lib()

    async def fake_acompletion(**kwargs: object) -> object:
        seen.update(kwargs)
        raise litellm.AuthenticationError("no", llm_provider="anthropic", model="x")

    monkeypatch.setattr(litellm, "acompletion", fake_acompletion)
    with pytest.raises(ProviderError):
        await llm.complete("hello", model="anthropic/claude-sonnet-4-5")
    assert "api_base" not in seen and "api_key" not in seen


async def test_litellm_prints_nothing_on_errors(
    backend: LiteLLMBackend, openai_server: FakeOpenAIServer, capfd: pytest.CaptureFixture[str]
) -> None:
    openai_server.fail_next(1, 500)
    with pytest.raises(ProviderError):
        await backend.complete("hello", model=MODEL)
    out, err = capfd.readouterr()
    assert "Give Feedback" not in out + err
    assert "LiteLLM.Info" not in out + err
