"""The writer's own prompts: short, one job each (a small model follows a short prompt best;
every prompt token is paid once per call, and ``sections`` mode makes several calls).

``INSTRUCTIONS`` holds their fixed wording: a piece that repeats it is echoing the prompt.
"""

from __future__ import annotations

from contentgen.instructions.setup import EffectiveSetup
from contentgen.models import ContentType
from contentgen.quality.markdown import words

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
        f"Plan a {kind} about: {topic}.\n"
        f"Give a title on the first line, then {count} section headings ({where}), one per "
        f"line, 2 to 6 words each{use}."
    )


def section(
    kind: str, title: str, topic: str, style: str, heading: str | None, budget: int,
    keywords: list[str], before: str, *, closing: bool = False,
) -> str:  # fmt: skip
    seen = f"\nBefore this: {before}" if before else ""
    task = "the opening paragraph" if heading is None else f'the part "{heading}"'
    extra = " End with a call to action." if closing else ""
    return (
        f"{_head(kind, title, topic, style)}{seen}\nWrite {task} in about {budget} words"
        f"{_uses(keywords)}. Plain paragraphs, no headings.{extra}"
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
        f"{_head(kind, title, topic, style)}\nThe part \"{heading}\" already says: {before}\n"
        f"Write one more paragraph for it in about {budget} words, adding something new"
        f"{_uses(keywords)}. Only the new paragraph."
    )


def rewrite(kind: str, title: str, topic: str, style: str, heading: str, budget: int,
            asks: list[str], body: str) -> str:  # fmt: skip
    return (
        f"{_head(kind, title, topic, style)}\nRewrite the part \"{heading}\" below: "
        f"{'; '.join(asks)}. About {budget} words of plain paragraphs, no heading.\n\n{body}"
    )


def sentence(kind: str, topic: str, keyword: str | None, *, cite: bool = False) -> str:
    if cite:
        return (
            f"Write one sentence for a {kind} about {topic} that names a credible source "
            "(an organisation or a study) for a fact."
        )
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
    "Give a title on the first line, then section headings, one per line, 2 to 6 words each, "
    "one with",
    "Write the opening paragraph in about words, using the words. Plain paragraphs, no "
    "headings. End with a call to action.",
    "Before this:",
    "a hook line, a short body, a call to action and up to three hashtags",
    "Write one more paragraph for it in about words, adding something new. Only the new "
    "paragraph.",
    "Rewrite the part below: words of plain paragraphs, no heading.",
    "Write one sentence for a that names a credible source (an organisation or a study) for "
    "a fact. with the words in it.",
    "Up to 10 words with in it. Only the title.",
    "Write one sentence of under characters that sums up a",
)
