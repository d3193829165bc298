"""FakeLLM: the scriptable model that ships for users' tests."""

from __future__ import annotations

import pytest

from contentgen.errors import ProviderError
from contentgen.llm import LLM, FakeLLM, pricing


async def test_canned_replies_then_default() -> None:
    llm = FakeLLM(["first", "second"], default="fallback")
    llm.enqueue("third")
    texts = [(await llm.complete("p", model="fake/m")).text for _ in range(5)]
    assert texts == ["first", "second", "third", "fallback", "fallback"]
    assert llm.pending == 0


async def test_enqueued_exception_is_raised_and_recorded() -> None:
    boom = ProviderError("down", provider="fake", model="fake/m", attempts=3)
    llm = FakeLLM()
    llm.enqueue(boom, "after")
    with pytest.raises(ProviderError) as info:
        await llm.complete("one", model="fake/m")
    assert info.value is boom
    assert (await llm.complete("two", model="fake/m")).text == "after"
    assert llm.history == [("fake/m", "one"), ("fake/m", "two")]
    assert llm.calls == 2


async def test_generated_article_is_deterministic_markdown() -> None:
    llm = FakeLLM()
    prompt = "Write a blog post about sourdough baking for beginners in Lisbon"
    first = await llm.complete(prompt, model="fake/m")
    second = await llm.complete(prompt, model="fake/m")
    assert first.text == second.text
    lines = first.text.splitlines()
    assert lines[0].startswith("# ")
    assert sum(line.startswith("## ") for line in lines) >= 3
    for word in ("sourdough", "baking", "lisbon"):
        assert word in first.text.lower()


async def test_usage_cost_and_provider() -> None:
    llm = FakeLLM(default="one two three")
    priced = await llm.complete("a b", model="openai/gpt-4o-mini")
    assert (priced.input_tokens, priced.output_tokens) == (2, 3)
    assert priced.cost == pricing.cost("openai/gpt-4o-mini", 2, 3) > 0
    assert priced.provider == "openai"
    free = await llm.complete("a b", model="fake/model")
    assert free.cost == 0.0
    assert free.provider == "fake"
    bare = await llm.complete("a b", model="mystery")
    assert (bare.provider, bare.cost) == ("fake", None)  # no price known: never a silent 0


async def test_latency_streaming_and_finish_reason() -> None:
    llm = FakeLLM(latency=0.02, default="one two three", finish_reason="length")
    assert isinstance(llm, LLM)
    pieces: list[str] = []
    result = await llm.complete("x", model="fake/m", on_text=pieces.append)
    assert result.latency_ms >= 15
    assert "".join(pieces) == result.text == "one two three"
    assert result.finish_reason == "length"


async def test_empty_reply_is_a_failed_attempt() -> None:
    llm = FakeLLM([""])
    with pytest.raises(ProviderError) as info:
        await llm.complete("a b c", model="openai/gpt-4o-mini")
    assert info.value.kind == "empty" and info.value.transient
    [attempt] = info.value.attempts
    assert attempt.input_tokens == 3 and attempt.error
    assert attempt.cost == pricing.cost("openai/gpt-4o-mini", 3, 0)


async def test_aclose() -> None:
    llm = FakeLLM()
    await llm.aclose()
    assert llm.closed
