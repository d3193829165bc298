"""What comes in: content requests and each client's setup (strategy, SEO rules, preferences,
templates), as pydantic v2 models with the limits and checks they are validated against.

``contentgen.models`` re-exports every public name here; the job, result and usage records it
defines build on ``_Model``, ``utcnow`` and ``new_id`` from this module.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

TOPIC_MIN, TOPIC_MAX = 5, 1000
MAX_KEYWORDS, KEYWORD_MAX = 10, 50
#: How a piece is written: one call (capable models) or an outline then one call per section.
GenerationMode = Literal["single", "sections"]

# Strategy limits: a strategy is part of every prompt, so it stays small.
MAX_SECTIONS, SECTION_MAX = 20, 100  # required_sections: how many, characters each
MAX_PRIMARY_KEYWORDS = 20  # primary_keywords (each at most KEYWORD_MAX characters)
TONE_MAX = 100  # characters of each tone field
NAME_MAX = 100  # characters of a strategy's name, a rule's name, a preference's key
RULE_MAX = 1000  # characters of an SEO rule or a preference value
TEMPLATE_MAX = 20_000  # characters of a prompt template
STRATEGY_MAX_BYTES = 16_384  # a whole strategy config, as JSON

#: What a topic must not contain (the reference's list and its siblings), matched ignoring
#: case, whitespace, HTML character references, compatibility forms (fullwidth letters and
#: brackets) and invisible characters.
FORBIDDEN_TOPIC_PATTERNS = (
    "<script", "<iframe", "<frame", "<frameset", "<object", "<embed", "<applet",
    "javascript:", "vbscript:", "data:text/html", "on<event>=",
)  # fmt: skip
_EVENTS = (
    "abort|afterprint|animationend|animationiteration|animationstart|auxclick|beforeinput|"
    "beforeprint|beforeunload|begin|blur|cancel|canplay|canplaythrough|change|click|close|"
    "contextmenu|copy|cuechange|cut|dblclick|drag|dragend|dragenter|dragleave|dragover|"
    "dragstart|drop|durationchange|emptied|end|ended|error|focus|focusin|focusout|"
    "formdata|gotpointercapture|hashchange|input|invalid|keydown|keypress|keyup|load|"
    "loadeddata|loadedmetadata|loadend|loadstart|lostpointercapture|message|mousedown|"
    "mouseenter|mouseleave|mousemove|mouseout|mouseover|mouseup|mousewheel|offline|online|"
    "pagehide|pageshow|paste|pause|play|playing|pointercancel|pointerdown|pointerenter|"
    "pointerleave|pointermove|pointerout|pointerover|pointerup|popstate|progress|ratechange|"
    "repeat|reset|resize|scroll|scrollend|search|securitypolicyviolation|seeked|seeking|"
    "select|selectionchange|selectstart|show|stalled|storage|submit|suspend|timeupdate|"
    "toggle|touchcancel|touchend|touchmove|touchstart|transitionend|unload|volumechange|"
    "waiting|wheel"
)
_FORBIDDEN_TAG = re.compile(r"<\s*/?\s*(script|iframe|frameset|frame|object|embed|applet)(?![a-z])")
_FORBIDDEN_HANDLER = re.compile(rf"(?<![a-z0-9_-])on({_EVENTS})\s*=")
_FORBIDDEN_SCHEMES = ("javascript:", "vbscript:", "data:text/html")
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad\u200b-\u200f\u2060\ufeff]")


def forbidden_pattern(text: str) -> str | None:
    """The forbidden pattern ``text`` contains (e.g. ``'<script'``, ``'onerror='``), or None.

    Case, whitespace inside the pattern (``< script``, ``onError = x``, ``java script:``),
    HTML character references (``&#106;avascript:``), compatibility forms (fullwidth letters
    and brackets, which NFKC folds to ASCII) and invisible characters do not hide it."""
    import html
    import unicodedata

    folded = unicodedata.normalize("NFKC", html.unescape(text))
    lowered = _INVISIBLE.sub("", folded).lower()
    tag = _FORBIDDEN_TAG.search(lowered)
    if tag:
        return f"<{tag.group(1)}"
    handler = _FORBIDDEN_HANDLER.search(lowered)
    if handler:
        return f"on{handler.group(1)}="
    squeezed = re.sub(r"\s+", "", lowered)
    return next((scheme for scheme in _FORBIDDEN_SCHEMES if scheme in squeezed), None)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class ContentType(StrEnum):
    BLOG = "blog"
    SOCIAL = "social"
    LOCAL = "local"


class Length(StrEnum):
    SHORT = "short"
    MEDIUM = "medium"
    LONG = "long"


class Priority(StrEnum):
    COST = "cost"
    QUALITY = "quality"
    SPEED = "speed"
    BALANCED = "balanced"


def _check_topic(value: str) -> str:
    value = value.strip()
    if len(value) < TOPIC_MIN:
        raise ValueError(f"must be at least {TOPIC_MIN} characters (got {len(value)})")
    if len(value) > TOPIC_MAX:
        raise ValueError(f"must be at most {TOPIC_MAX} characters (got {len(value)})")
    found = forbidden_pattern(value)
    if found:
        raise ValueError(f"must not contain {found!r}")
    return value


def _check_keywords(values: list[str]) -> list[str]:
    if len(values) > MAX_KEYWORDS:
        raise ValueError(f"at most {MAX_KEYWORDS} keywords allowed (got {len(values)})")
    cleaned: list[str] = []
    for kw in values:
        kw = kw.strip()
        if len(kw) > KEYWORD_MAX:
            raise ValueError(
                f"each keyword must be at most {KEYWORD_MAX} characters "
                f"({kw[:20]!r}... has {len(kw)})"
            )
        if kw and kw.lower() not in {c.lower() for c in cleaned}:
            cleaned.append(kw)
    return cleaned


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False, defer_build=True)


class PromptRequest(_Model):
    """What the IM needs to build a prompt (reference: "IM API")."""

    topic: str
    content_type: ContentType
    client_id: uuid.UUID
    keywords: list[str] = Field(default_factory=list)
    length: Length = Length.MEDIUM

    _topic = field_validator("topic")(_check_topic)
    _keywords = field_validator("keywords")(_check_keywords)


class ContentRequest(PromptRequest):
    """A request for one piece of content (reference: ContentRequest)."""

    priority: Priority = Priority.BALANCED
    llm_provider: str | None = None
    model: str | None = None
    #: Overrides the strategy's and the model's generation mode for this request.
    mode: GenerationMode | None = None

    def identity(self) -> str:
        """A stable hash of the normalised request (batch rows are resumed by it)."""
        import hashlib
        import json

        data = self.model_dump(mode="json")
        if data.get("mode") is None:  # requests made before the field existed hash the same
            data.pop("mode", None)
        data["topic"] = " ".join(self.topic.split()).lower()
        data["keywords"] = sorted(k.lower() for k in self.keywords)
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]

    def prompt_request(self) -> PromptRequest:
        return PromptRequest(
            topic=self.topic,
            content_type=self.content_type,
            client_id=self.client_id,
            keywords=self.keywords,
            length=self.length,
        )


class Client(_Model):
    id: uuid.UUID = Field(default_factory=new_id)
    name: str
    parent_id: uuid.UUID | None = None
    created_at: datetime = Field(default_factory=utcnow)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value or len(value) > 200:
            raise ValueError("must be 1..200 characters")
        return value


# --- Strategy: every field optional, so a child can override field by field ----------------


def _bounded_list(values: list[str], *, count: int, each: int, what: str) -> list[str]:
    if len(values) > count:
        raise ValueError(f"at most {count} {what} allowed (got {len(values)})")
    cleaned = [v.strip() for v in values]
    for v in cleaned:
        if not v:
            raise ValueError(f"{what} must not be empty")
        if len(v) > each:
            raise ValueError(f"each of the {what} must be at most {each} characters "
                             f"({v[:20]!r}... has {len(v)})")  # fmt: skip
    return cleaned


ToneText = Annotated[str, Field(max_length=TONE_MAX)]


class ContentGuidelines(_Model):
    min_words: Annotated[int, Field(ge=1, le=20000)] | None = None
    max_words: Annotated[int, Field(ge=1, le=20000)] | None = None
    required_sections: list[str] | None = None
    citation_required: bool | None = None
    #: "single" (one call) or "sections" (outline, then a call per section); unset: the model's
    generation_mode: GenerationMode | None = None
    #: Lowest Flesch reading ease a piece may have (unset: 30, "difficult" below that).
    min_reading_ease: Annotated[float, Field(ge=0, le=100)] | None = None
    #: True: a piece still failing a check after its repair rounds ends the job ``failed``.
    fail_on_noncompliance: bool | None = None

    @field_validator("required_sections")
    @classmethod
    def _sections(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return _bounded_list(value, count=MAX_SECTIONS, each=SECTION_MAX, what="sections")

    @model_validator(mode="after")
    def _range(self, info: ValidationInfo) -> ContentGuidelines:
        # An effective (merged) setup may combine one client's min with another's max; the
        # prompt builder refuses that naming both origins (context {"effective": True}).
        effective = bool(info.context and info.context.get("effective"))
        lo, hi = self.min_words, self.max_words
        if lo is not None and hi is not None and lo > hi and not effective:
            raise ValueError(f"min_words ({lo}) must not exceed max_words ({hi})")
        return self


class SeoFocus(_Model):
    primary_keywords: list[str] | None = None
    keyword_density: Annotated[float, Field(ge=0, le=10)] | None = None
    meta_description_length: Annotated[int, Field(ge=50, le=500)] | None = None

    @field_validator("primary_keywords")
    @classmethod
    def _keywords(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return _bounded_list(value, count=MAX_PRIMARY_KEYWORDS, each=KEYWORD_MAX,
                             what="keywords")  # fmt: skip


class Tone(_Model):
    formality: ToneText | None = None
    voice: ToneText | None = None
    engagement: ToneText | None = None


class StrategyConfig(_Model):
    content_guidelines: ContentGuidelines = Field(default_factory=ContentGuidelines)
    seo_focus: SeoFocus = Field(default_factory=SeoFocus)
    tone: Tone = Field(default_factory=Tone)

    @model_validator(mode="after")
    def _size(self) -> StrategyConfig:
        size = len(self.model_dump_json(exclude_none=True))
        if size > STRATEGY_MAX_BYTES:
            raise ValueError(f"the strategy is {size:,} bytes as JSON; at most "
                             f"{STRATEGY_MAX_BYTES:,} are allowed")  # fmt: skip
        return self


class Strategy(_Model):
    id: uuid.UUID = Field(default_factory=new_id)
    client_id: uuid.UUID
    name: Annotated[str, Field(max_length=NAME_MAX)] = "default"
    config: StrategyConfig = Field(default_factory=StrategyConfig)
    version: int = 1
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class StrategyHistoryEntry(_Model):
    id: uuid.UUID = Field(default_factory=new_id)
    strategy_id: uuid.UUID
    client_id: uuid.UUID
    version: int
    action: str  # "created" | "activated"
    changes: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)


class SeoRule(_Model):
    id: uuid.UUID = Field(default_factory=new_id)
    client_id: uuid.UUID
    name: Annotated[str, Field(min_length=1, max_length=NAME_MAX)]
    rule: Annotated[str, Field(min_length=1, max_length=RULE_MAX)]
    created_at: datetime = Field(default_factory=utcnow)


class ContentPreference(_Model):
    id: uuid.UUID = Field(default_factory=new_id)
    client_id: uuid.UUID
    key: Annotated[str, Field(min_length=1, max_length=NAME_MAX)]
    value: Annotated[str, Field(min_length=1, max_length=RULE_MAX)]
    created_at: datetime = Field(default_factory=utcnow)


class PromptTemplate(_Model):
    id: uuid.UUID = Field(default_factory=new_id)
    client_id: uuid.UUID
    content_type: ContentType
    body: Annotated[str, Field(max_length=TEMPLATE_MAX)]
    version: int = 1
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


def invalid_input_from(exc: Any) -> Any:
    """Turn a pydantic ``ValidationError`` into one-line ``InvalidInput`` naming the field."""
    from contentgen.errors import InvalidInput

    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "input"
    msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    extra = len(exc.errors()) - 1
    suffix = f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else ""
    return InvalidInput(f"{field}: {msg}{suffix}", field=field, errors=_plain_errors(exc))


def _plain_errors(exc: Any) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg"))}
        for e in exc.errors()
    ]
