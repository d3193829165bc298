"""Fixtures for the writer tests: a built prompt for a strategy, and a ``ModelCall`` bound by
the real ``Router`` to a scripted ``FakeLLM``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contentgen.instructions.builder import BuiltPrompt, make_plan
from contentgen.instructions.setup import EffectiveSetup, Inherited
from contentgen.llm.base import ModelCall
from contentgen.llm.fake import FakeLLM
from contentgen.llm.router import Router
from contentgen.models import (
    Client,
    ContentRequest,
    ContentType,
    Length,
    PromptMetadata,
    StrategyConfig,
)
from contentgen.settings import Settings

TOPIC = "Solar panels for small offices"
PROMPT = "Write a blog post in Markdown about: Solar panels for small offices."


def build(
    config: dict[str, Any],
    *,
    content_type: ContentType = ContentType.BLOG,
    preferences: dict[str, str] | None = None,
    keywords: list[str] | None = None,
    model: str = "openai/gpt-4o-mini",
    topic: str = TOPIC,
    prompt: str = PROMPT,
    **request: Any,
) -> tuple[BuiltPrompt, ContentRequest]:
    client = Client(name="acme")
    setup = EffectiveSetup(
        client=client, chain=[client], config=StrategyConfig.model_validate(config),
        strategy_version=1,
        preferences={k: Inherited(value=v, origin="acme") for k, v in (preferences or {}).items()},
    )  # fmt: skip
    req = ContentRequest(topic=topic, content_type=content_type, client_id=client.id,
                         keywords=keywords or [], length=Length.SHORT, model=model,
                         **request)  # fmt: skip
    plan = make_plan(req.prompt_request(), setup)
    meta = PromptMetadata(client_id=client.id, content_type=content_type, keywords=plan.keywords,
                          template_version="builtin-1", strategy_version=1)  # fmt: skip
    return BuiltPrompt(prompt, meta, plan, setup), req


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", retry_wait=0)


@pytest.fixture
def fake() -> FakeLLM:
    return FakeLLM()


Bind = Callable[[ContentRequest], ModelCall]


@pytest.fixture
def bind(settings: Settings, fake: FakeLLM) -> Bind:
    router = Router(settings, overrides={"*": fake})
    return lambda request: router.bind(request)
