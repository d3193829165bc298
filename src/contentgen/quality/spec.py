"""What a piece must meet: the writing plan and the client's setup, as one flat spec."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from contentgen.instructions.builder import BuiltPrompt, WritingPlan
from contentgen.instructions.setup import EffectiveSetup
from contentgen.models import ContentType

#: Flesch reading ease below which prose counts as hard to read ("difficult" is 30-50).
DEFAULT_MIN_READING_EASE = 30.0
MAX_TITLE_WORDS = 14
#: Preference keys whose value lists phrases a piece must never contain.
FORBIDDEN_KEYS = frozenset({"forbidden_phrases", "forbidden", "banned_phrases", "never_say"})
#: Shortest useful meta description (characters); the strategy sets the longest.
META_MIN_CHARS = 50


def forbidden_phrases(setup: EffectiveSetup) -> list[str]:
    """Phrases from the client's ``forbidden_phrases`` preference (separated by ``;``, ``,``,
    ``|`` or new lines)."""
    found: list[str] = []
    for key, pref in setup.preferences.items():
        if key.strip().lower().replace("-", "_").replace(" ", "_") not in FORBIDDEN_KEYS:
            continue
        for part in re.split(r"[;,|\n]", pref.value):
            phrase = part.strip().strip("\"'“”‘’").strip()
            if phrase and phrase.lower() not in {p.lower() for p in found}:
                found.append(phrase)
    return found


@dataclass(frozen=True)
class QualitySpec:
    """The targets every check measures against."""

    content_type: ContentType
    min_words: int
    max_words: int
    target_words: int
    sections: list[str]
    keywords: list[str]
    keyword_density: float | None = None  # % of words, per keyword
    meta_description_length: int | None = None  # max characters; None: not required
    citation_required: bool = False
    forbidden: list[str] = field(default_factory=list)
    min_reading_ease: float | None = DEFAULT_MIN_READING_EASE
    #: Prompt texts the piece must not echo (the client's prompt and the writer's own).
    instructions: tuple[str, ...] = ()
    #: Words an instruction may share with a piece without it being an echo (topic, names).
    allowed: tuple[str, ...] = ()
    fail_on_noncompliance: bool = False

    @property
    def long_form(self) -> bool:
        """Blog posts and local pages need body sections; social posts do not."""
        return self.content_type is not ContentType.SOCIAL

    @classmethod
    def from_plan(
        cls,
        plan: WritingPlan,
        setup: EffectiveSetup,
        content_type: ContentType,
        *,
        prompt: str = "",
        topic: str = "",
    ) -> QualitySpec:
        cfg = setup.config
        guide = cfg.content_guidelines
        ease = guide.min_reading_ease
        allowed = (topic, setup.client.name, *plan.keywords, *plan.sections)
        return cls(
            content_type=content_type,
            min_words=plan.min_words,
            max_words=plan.max_words,
            target_words=plan.target_words,
            sections=list(plan.sections),
            keywords=list(plan.keywords),
            keyword_density=cfg.seo_focus.keyword_density or None,
            meta_description_length=cfg.seo_focus.meta_description_length,
            citation_required=bool(guide.citation_required),
            forbidden=forbidden_phrases(setup),
            min_reading_ease=DEFAULT_MIN_READING_EASE if ease is None else ease,
            instructions=(prompt,) if prompt else (),
            allowed=tuple(a for a in allowed if a),
            fail_on_noncompliance=bool(guide.fail_on_noncompliance),
        )

    @classmethod
    def from_built(cls, built: BuiltPrompt, topic: str) -> QualitySpec:
        return cls.from_plan(
            built.plan, built.setup, built.metadata.content_type, prompt=built.prompt, topic=topic
        )

    def with_instructions(self, *texts: str) -> QualitySpec:
        """The same spec, also guarding against echoes of ``texts`` (the writer's prompts)."""
        from dataclasses import replace

        return replace(self, instructions=(*self.instructions, *texts))
