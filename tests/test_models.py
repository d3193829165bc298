from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from contentgen.errors import InvalidInput
from contentgen.models import (
    ContentRequest,
    Job,
    JobStatus,
    Length,
    Priority,
    StrategyConfig,
    invalid_input_from,
)

CLIENT = uuid.uuid4()


def request(**fields: object) -> ContentRequest:
    return ContentRequest(client_id=CLIENT, **{"topic": "Solar panels", "content_type": "blog",
                                               **fields})  # fmt: skip


def test_defaults_and_stripping() -> None:
    req = request(topic="   Solar panels for offices  ", keywords=[" solar ", "Solar", "roof"])
    assert req.topic == "Solar panels for offices"
    assert req.keywords == ["solar", "roof"]  # stripped, case-insensitive duplicates dropped
    assert req.length is Length.MEDIUM and req.priority is Priority.BALANCED


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"topic": "abcd"}, "topic: must be at least 5 characters (got 4)"),
        ({"topic": "x" * 1001}, "topic: must be at most 1000 characters (got 1001)"),
        ({"topic": "see javascript:alert(1)"}, "topic: must not contain 'javascript:'"),
        ({"topic": "img ONERROR=x here"}, "topic: must not contain 'onerror='"),
        ({"content_type": "video"}, "content_type: Input should be 'blog', 'social' or 'local'"),
        ({"keywords": [str(i) for i in range(11)]},
         "keywords: at most 10 keywords allowed (got 11)"),
        ({"length": "xl"}, "length: Input should be 'short', 'medium' or 'long'"),
        ({"priority": "cheap"},
         "priority: Input should be 'cost', 'quality', 'speed' or 'balanced'"),
    ],
)  # fmt: skip
def test_validation_messages_name_field_and_allowed_values(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError) as info:
        request(**fields)
    err = invalid_input_from(info.value)
    assert isinstance(err, InvalidInput)
    assert str(err) == message


def test_long_keyword_message() -> None:
    with pytest.raises(ValidationError) as info:
        request(keywords=["k" * 51])
    assert str(invalid_input_from(info.value)).startswith(
        "keywords: each keyword must be at most 50 characters"
    )


def test_identity_ignores_case_spacing_and_keyword_order() -> None:
    a = request(topic="Solar  Panels", keywords=["b", "A"])
    b = request(topic="solar panels", keywords=["a", "B"])
    assert a.identity() == b.identity()
    assert a.identity() != request(topic="Solar panels", length="long").identity()


def test_status_view_is_the_reference_shape() -> None:
    job = Job(params=request())
    view = job.status_view()
    assert view["status"] == "pending" and view["job_id"] == str(job.id)
    assert "result" not in view and "error" not in view
    assert JobStatus.FAILED.finished and not JobStatus.IN_PROGRESS.finished


def test_strategy_config_forbids_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        StrategyConfig.model_validate({"tone": {"colour": "blue"}})
    cfg = StrategyConfig.model_validate({"content_guidelines": {"min_words": 300}})
    assert cfg.content_guidelines.min_words == 300 and cfg.tone.voice is None
