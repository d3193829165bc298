"""Audit any Markdown text against a client's strategy (``contentgen check``)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from contentgen.instructions.builder import make_plan
from contentgen.instructions.setup import EffectiveSetup
from contentgen.models import TOPIC_MIN, ContentType, Length, PromptRequest
from contentgen.quality.analyse import analyse
from contentgen.quality.markdown import parse
from contentgen.quality.prompts import INSTRUCTIONS
from contentgen.quality.report import ComplianceReport
from contentgen.quality.spec import QualitySpec

FALLBACK_TOPIC = "the audited piece"


def topic_of(text: str) -> str:
    """What the piece is about, as far as a check can tell: its title."""
    doc = parse(text)
    title = doc.title or doc.front.get("title")
    if isinstance(title, str) and len(title.strip()) >= TOPIC_MIN:
        return title.strip()[:200]
    return FALLBACK_TOPIC


def audit(
    text: str,
    setup: EffectiveSetup,
    content_type: ContentType,
    *,
    length: Length = Length.MEDIUM,
    keywords: Sequence[str] = (),
    prompt: str = "",
) -> ComplianceReport:
    """The piece's report against the strategy of ``setup``: the word range of ``length``
    when the strategy sets none, the strategy's keywords plus ``keywords``. ``prompt`` (the
    client's prompt for the piece) is checked for echoes, with the writer's own wording."""
    try:
        request = PromptRequest(topic=topic_of(text), content_type=content_type,
                                client_id=setup.client.id, keywords=list(keywords),
                                length=length)  # fmt: skip
    except ValidationError:
        request = PromptRequest(topic=FALLBACK_TOPIC, content_type=content_type,
                                client_id=setup.client.id, keywords=list(keywords),
                                length=length)  # fmt: skip
    plan = make_plan(request, setup)
    spec = QualitySpec.from_plan(plan, setup, content_type, prompt=prompt, topic=request.topic)
    return analyse(text, spec.with_instructions(*INSTRUCTIONS))
