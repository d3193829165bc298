"""Issue 7, point 14: strategies are bounded (refused with the field named), a word range
must have min <= max (never silently swapped), and the topic blocklist cannot be dodged with
case, spaces or entities, and covers the obvious siblings of the reference's patterns."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import Result

from contentgen.client.setup_api import parse_strategy
from contentgen.errors import InvalidInput
from contentgen.models import ContentRequest, invalid_input_from

Cli = Callable[..., Result]


def topic_error(topic: str) -> str:
    with pytest.raises(ValidationError) as info:
        ContentRequest(client_id=uuid.uuid4(), topic=topic, content_type="blog")
    return str(invalid_input_from(info.value))


@pytest.mark.parametrize(
    ("topic", "pattern"),
    [
        ("Solar <script>alert(1)</script> panels", "<script"),
        ("Solar < script >alert(1) panels", "<script"),
        ("Solar </SCRIPT > panels", "<script"),
        ("Solar <ScRiPt\tsrc=x> panels", "<script"),
        ("Solar <iframe src=x> panels", "<iframe"),
        ("Solar <object data=x> panels", "<object"),
        ("Solar <embed src=x> panels", "<embed"),
        ("Solar <frame src=x> panels", "<frame"),
        ("Solar <FRAMESET> panels", "<frameset"),
        ("Solar <applet code=x> panels", "<applet"),
        ("Solar \uff1cscript\uff1ealert(1) panels", "<script"),  # fullwidth < and >
        ("Solar <\uff53\uff43\uff52\uff49\uff50\uff54> panels", "<script"),  # fullwidth word
        ("click \uff4aavascript\uff1aalert(1)", "javascript:"),
        ("img \uff4fnerror\uff1dalert(1) here", "onerror="),
        ("click javascript:alert(1) now", "javascript:"),
        ("click JavaScript :alert(1) now", "javascript:"),
        ("click java\tscript:alert(1) now", "javascript:"),
        ("click &#106;avascript:alert(1) now", "javascript:"),
        ("click java\u200bscript:alert(1)", "javascript:"),
        ("click vbscript:msgbox(1) now", "vbscript:"),
        ("open data:text/html;base64,PHNjcmlwdD4= now", "data:text/html"),
        ("open DATA : text/html,<b>x</b>", "data:text/html"),
        ("img onerror=alert(1) here", "onerror="),
        ("img onError = alert(1) here", "onerror="),
        ("img ONERROR\n=alert(1) here", "onerror="),
        ("<img/onerror=alert(1)> here", "onerror="),
        ("body onload=alert(1) here", "onload="),
        ("a onmouseover = alert(1) here", "onmouseover="),
        ("svg onbegin=alert(1) here", "onbegin="),
        ("div onclick='x()' here", "onclick="),
        ("x onfocus=y autofocus here", "onfocus="),
    ],
)
def test_forbidden_topic_patterns_are_found_however_written(topic: str, pattern: str) -> None:
    assert topic_error(topic) == f"topic: must not contain {pattern!r}"


@pytest.mark.parametrize(
    "topic",
    [
        "Why onboarding = retention for SaaS",
        "Turn it on = save money",
        "Scripts for sales calls",
        "Embedded systems in 2025",
        "Data: text and html for beginners",
        "Objects in JavaScript explained",
        "Sermon: one loads of joy",
        "A <b>bold</b> claim about solar",
        "Frameworks <framing> your offer",
        "Caf\u00e9 \ufb01nance: \ufb02oors and \ufb01xtures",  # ligatures fold to fi/fl: fine
    ],
)
def test_ordinary_topics_are_not_refused(topic: str) -> None:
    ContentRequest(client_id=uuid.uuid4(), topic=topic, content_type="blog")


def strategy_error(data: dict[str, Any]) -> str:
    with pytest.raises(InvalidInput) as info:
        parse_strategy(data)
    return str(info.value)


@pytest.mark.parametrize(
    ("data", "starts"),
    [
        ({"content_guidelines": {"required_sections": [f"S{i}" for i in range(21)]}},
         "content_guidelines.required_sections: at most 20 sections allowed (got 21)"),
        ({"content_guidelines": {"required_sections": ["x" * 101]}},
         "content_guidelines.required_sections: each of the sections must be at most 100"),
        ({"content_guidelines": {"required_sections": ["Intro", " "]}},
         "content_guidelines.required_sections: sections must not be empty"),
        ({"seo_focus": {"primary_keywords": [f"k{i}" for i in range(21)]}},
         "seo_focus.primary_keywords: at most 20 keywords allowed (got 21)"),
        ({"seo_focus": {"primary_keywords": ["k" * 51]}},
         "seo_focus.primary_keywords: each of the keywords must be at most 50 characters"),
        ({"tone": {"voice": "v" * 101}}, "tone.voice: String should have at most 100"),
        ({"content_guidelines": {"min_words": 900, "max_words": 600}},
         "content_guidelines: min_words (900) must not exceed max_words (600)"),
    ],
)  # fmt: skip
def test_strategy_limits_name_the_field(data: dict[str, Any], starts: str) -> None:
    assert strategy_error(data).startswith(starts)


def test_a_huge_strategy_file_is_refused_quickly(cli: Cli, tmp_path: Path) -> None:
    sections = "\n".join(f"  - Section number {i}" for i in range(100_000))
    path = tmp_path / "huge.yaml"
    path.write_text(f"content_guidelines:\n required_sections:\n{sections}\n")
    cli("clients", "add", "acme")
    message = cli("strategies", "set", "acme", str(path), code=2).stderr
    assert "content_guidelines.required_sections: at most 20 sections" in message
    assert json.loads(cli("strategies", "list", "acme", "--json").stdout) == []


def test_min_above_max_is_refused_not_swapped(cli: Cli) -> None:
    cli("clients", "add", "acme")
    message = cli("strategies", "set", "acme", "--min-words", "900", "--max-words", "600",
                  code=2).stderr  # fmt: skip
    assert "min_words (900) must not exceed max_words (600)" in message
    # across the chain: the parent's max and the child's min disagree
    cli("strategies", "set", "acme", "--max-words", "600")
    cli("clients", "add", "denver", "--parent", "acme")
    cli("strategies", "set", "denver", "--min-words", "900")
    refused = cli("prompt", "-c", "denver", "--topic", "Heat pumps", code=2).stderr
    assert "min_words 900 (from denver) exceeds content_guidelines.max_words 600 (from acme)"\
        in refused  # fmt: skip


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["rules", "set", "acme", "title", "r" * 1001], "rule: must be at most 1000"),
        (["rules", "set", "acme", "n" * 101, "rule"], "name: must be at most 100"),
        (["prefs", "set", "acme", "avoid", "v" * 1001], "value: must be at most 1000"),
        (["strategies", "set", "acme", "--voice", "warm", "--name", "n" * 101],
         "name: must be at most 100"),
    ],
)  # fmt: skip
def test_rules_preferences_and_names_are_bounded(cli: Cli, args: list[str], says: str) -> None:
    cli("clients", "add", "acme")
    assert says in cli(*args, code=2).stderr


def test_a_huge_template_is_refused(cli: Cli, tmp_path: Path) -> None:
    cli("clients", "add", "acme")
    (tmp_path / "big.j2").write_text("Write about {{ topic }}.\n" + "x" * 20_000)
    message = cli("templates", "set", "acme", "blog", str(tmp_path / "big.j2"), code=2).stderr
    assert "at most 20,000 are allowed" in message
