"""The writer's own prompts: short, one job each (a small model follows a short prompt best;
every prompt token is paid once per call, and ``sections`` mode makes several calls).

``INSTRUCTIONS`` holds their fixed wording: a piece that repeats it is echoing the prompt.
"""

from __future__ import annotations

from contentgen.instructions.setup import EffectiveSetup
from contentgen.models import ContentType
from contentgen.quality.markdown import words
from contentgen.quality.spec import FORBIDDEN_KEYS

KIND = {
    ContentType.BLOG: "blog post",
    ContentType.SOCIAL: "social media post",
    ContentType.LOCAL: "local landing page",
}
#: Words of style a prompt carries (a small model gets the shorter brief).
MAX_STYLE_WORDS = {False: 45, True: 25}


def style_brief(setup: EffectiveSetup, *, small: bool = False) -> str:
    """Tone, preferences and SEO rules in one short line (cut at ``MAX_STYLE_WORDS``)."""
    tone = setup.config.tone
    parts = []
    toned = [t for t in (tone.formality, tone.voice, tone.engagement) if t]
    if toned:
        parts.append("Tone: " + ", ".join(toned) + ".")
    for key, pref in setup.preferences.items():
        if small and key.strip().lower().replace("-", "_") in FORBIDDEN_KEYS:
            continue  # naming them to a small model makes it use them; code removes them
        label = key.replace("_", " ").replace("-", " ").capitalize()
        parts.append(f"{label}: {pref.value.rstrip('.')}.")
    for rule in setup.seo_rules.values():
        parts.append(rule.value.rstrip(".") + ".")
    brief: list[str] = []
    for part in parts:
        if len(words(" ".join([*brief, part]))) > MAX_STYLE_WORDS[small]:
            break
        brief.append(part)
    return " ".join(brief)


def _uses(keywords: list[str]) -> str:
    if not keywords:
        return ""
    quoted = [f'"{k}"' for k in keywords]
    joined = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
    return f", using the words {joined}"


def _head(kind: str, title: str, topic: str, style: str) -> str:
    """The piece in one line: its kind and title (and topic, when the title does not say it)."""
    about = "" if set(words(topic.lower())) <= set(words(title.lower())) else f" about {topic}"
    return f'{kind.capitalize()} "{title}"{about}. {style}'.rstrip()


def outline(kind: str, topic: str, first: str, last: str, count: int, keyword: str | None) -> str:
    where = f'between "{first}" and "{last}"' if first != last else f'after "{first}"'
    use = f', one with "{keyword}"' if keyword else ""
    return (
        f"A title, then {count} section headings {where} of a {kind} about: {topic}. One per "
        f"line, 2 to 6 words{use}."
    )


#: Words of a "short paragraph": small models follow a count of paragraphs far better than a
#: count of words (asked for "about 90 words" SmolLM2 wrote ~25, for "two short paragraphs" ~80),
#: and writes more per token for two paragraphs than for one.
PARAGRAPH_WORDS = 30


def paragraphs(budget: int) -> str:
    count = max(1, round(budget / PARAGRAPH_WORDS))
    names = {1: "one short paragraph", 2: "two short paragraphs", 3: "three short paragraphs"}
    return names.get(count, f"{count} short paragraphs")


def section(
    kind: str, title: str, topic: str, style: str, heading: str | None, budget: int,
    keywords: list[str], before: str, *, closing: bool = False,
) -> str:  # fmt: skip
    about = "" if set(words(topic.lower())) <= set(words(title.lower())) else f" about {topic}"
    part = f"to open the {kind}" if heading is None else f'for the part "{heading}" of the {kind}'
    extra = " End with a call to action." if closing else ""
    seen = f"\nBefore this: {before}" if before else ""
    return (
        f"Write {paragraphs(budget)} (in about {budget} words) {part} \"{title}\"{about}"
        f"{_uses(keywords)}.{extra} {style}".rstrip() + seen
    )


def social(kind: str, topic: str, style: str, budget: int, keywords: list[str]) -> str:
    return (
        f"Write a {kind} about: {topic}. {style}\n"
        f"About {budget} words: a hook line, a short body, a call to action and up to three "
        f"hashtags{_uses(keywords)}."
    )


def expand(kind: str, title: str, topic: str, style: str, heading: str, budget: int,
           keywords: list[str], before: str) -> str:  # fmt: skip
    return (
        f"Write {paragraphs(budget)} (in about {budget} words) more for the part \"{heading}\" "
        f"of a {kind} titled \"{title}\"{_uses(keywords)}, saying something new. No headings. "
        f"{style}\nThe part already says: {before}"
    )


def rewrite(kind: str, title: str, topic: str, style: str, heading: str, budget: int,
            asks: list[str], body: str) -> str:  # fmt: skip
    return (
        f"{_head(kind, title, topic, style)}\nRewrite the part \"{heading}\" below: "
        f"{'; '.join(asks)}. About {budget} words of plain paragraphs, no heading.\n\n{body}"
    )


def sentence(kind: str, topic: str, keyword: str | None, *, cite: bool = False) -> str:
    if cite:  # small models follow a given start far better than "cite a source"; asked for
        # three, SmolLM2 names a source in one of them about twice as often per call
        return (f'Write three sentences about {topic}, each beginning "A study by" and naming '
                "who did it.")

    return f'Write one sentence for a {kind} about {topic} with the words "{keyword}" in it.'


def title(kind: str, topic: str, keyword: str | None) -> str:
    use = f', with "{keyword}" in it' if keyword else ""
    return f"Write a title for a {kind} about: {topic}. Up to 10 words{use}. Only the title."


def meta(kind: str, title_: str, limit: int) -> str:
    return (
        f"Write one sentence of under {limit} characters that sums up a {kind} "
        f'titled "{title_}".'
    )


#: The fixed wording of the prompts above (what a piece must not echo).
INSTRUCTIONS = (
    "A title, then section headings between and of a about: One per line, 2 to 6 words, one with",
    "Write short paragraphs in about words to open the, using the words. End with a call to "
    "action.",
    "Write two short paragraphs three short paragraphs for the part of the",
    "Before this:",
    "a hook line, a short body, a call to action and up to three hashtags",
    "more for the part of a titled, saying something new. No headings. The part already says:",
    "Rewrite the part below: words of plain paragraphs, no heading.",
    "Write one sentence for a with the words in it. that begins A study by, naming who did it.",
    "Write three sentences about each beginning A study by and naming who did it.",
    "Up to 10 words with in it. Only the title.",
    "Write one sentence of under characters that sums up a",
)
