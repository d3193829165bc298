"""``sections`` mode: an outline call, then one call per part with its word budget.

The small-model path makes no outline call: the title comes from the topic and the body
headings from code (in a benchmark run of the embedded SmolLM2-135M, 1 of 42 body headings its
outlines proposed was kept, and its titles were no better than the topic's: the call bought
nothing for about 80 tokens a piece).

Code, not the model, decides what it can: the title (the model's if it is sane and on topic,
else one made from the topic), the required sections in their order, an opening paragraph and
a closing section when the required ones do not start or end the piece, the number of body
sections and each part's word budget, which keywords each part is asked to use, and the meta
description (the model's if it fits, else the opening's first sentences). Each part's prompt
carries a summary of the parts before it, so parts do not repeat each other.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from contentgen.quality import prompts
from contentgen.quality.draft import Draft, Section
from contentgen.quality.markdown import normalise, sentences, words
from contentgen.quality.measures import heading_matches, keyword_hits, title_problems
from contentgen.quality.session import Session
from contentgen.quality.spec import MAX_TITLE_WORDS, META_MIN_CHARS

INTRO_LIKE = re.compile(r"\b(?:intro\w*|overview|about|welcome|at a glance)\b", re.IGNORECASE)
CLOSING_LIKE = re.compile(
    r"\b(?:conclu\w*|final|wrap\w*|contact|visit|book\w*|get in touch|call us|next steps|"
    r"summary|takeaways?|faq)\b",
    re.IGNORECASE,
)
#: Words a part gets at least (a section under ``MIN_SECTION_WORDS`` counts as empty).
MIN_PART_WORDS = 35
#: Words per part the writer aims at: small models wander past ~90 words.
WORDS_PER_PART = {True: 65, False: 150}
MAX_BODY_SECTIONS = 6
OUTLINE_WORDS = 40
TITLE_WORDS = 14
#: Words of each earlier part a section prompt is reminded of, and how many parts back.
SUMMARY_WORDS = {False: 14, True: 10}
SUMMARY_PARTS = {False: 3, True: 2}
#: A reply with fewer words than this after clean-up is asked again, once.
JUNK_WORDS = 12
_SMALL = frozenset(
    ["a", "an", "and", "the", "of", "in", "on", "for", "to", "with", "or", "at", "by", "from"]
)
FALLBACK_HEADINGS = {
    "blog": ["What to Know About {k}", "How It Works", "Common Mistakes to Avoid",
             "Tips for Better Results", "What to Expect", "Choosing What Fits You"],
    "local": ["Why Choose Us for {k}", "How We Work", "What Our Customers Say",
              "Pricing and Estimates", "Areas We Serve", "Questions We Hear Often"],
}  # fmt: skip


def title_case(text: str) -> str:
    out = []
    for i, word in enumerate(text.split()):
        lower = word.lower()
        if i and lower in _SMALL:
            out.append(lower)
        elif any(c.isupper() for c in word):
            out.append(word)
        else:
            out.append("-".join(p[:1].upper() + p[1:] for p in word.split("-")))
    return " ".join(out)


def make_title(topic: str, max_words: int = 12) -> str:
    """A title from the topic: its first clause, title-cased, at most ``max_words`` words."""
    clause = re.split(r"[.!?;:\n]", topic.strip(), maxsplit=1)[0].strip() or topic.strip()
    tokens = clause.split()[:max_words]
    while len(tokens) > 2 and tokens[-1].lower() in _SMALL:
        tokens.pop()
    return title_case(" ".join(tokens)).strip(" ,-")


def _clean_line(line: str) -> str:
    line = re.sub(r"^\s*(?:[-*+>#]+|\d+[.)]|title\s*:|heading\s*:)\s*", "", line, flags=re.I)
    return line.strip().strip("\"'“”*_`").strip().rstrip(".:")


def relevant(title: str, topic: str, keywords: list[str]) -> bool:
    """On topic: it has the first keyword, or half of the topic's longer words."""
    if keywords:
        return keyword_hits(title, keywords[0]) > 0
    topic_words = {w.lower() for w in words(topic) if len(w) > 3}
    title_words = {w.lower() for w in words(title)}
    return bool(topic_words) and len(topic_words & title_words) * 2 >= len(topic_words)


def choose_title(candidate: str | None, session: Session) -> str:
    spec = session.spec
    if candidate:
        line = _clean_line(candidate)
        if (not title_problems(line, allowed=" ".join(spec.allowed), max_words=MAX_TITLE_WORDS)
                and relevant(line, session.topic, spec.keywords)):  # fmt: skip
            return line
    return make_title(session.topic)


def parse_outline(text: str) -> tuple[str | None, list[str]]:
    lines = [_clean_line(raw) for raw in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return None, []
    return lines[0], lines[1:]


def acceptable_heading(
    line: str, taken: list[str], *, avoid: Sequence[str] = (), keywords: Sequence[str] = ()
) -> bool:
    """A proposed body heading: short, no debris, not a copy of a taken one or of ``avoid``
    (the title, the topic), and no keyword a taken heading already has (one is enough: more
    push the keyword's density past its target)."""
    count = len(words(line))
    if not 2 <= count <= 7 or title_problems(line) or re.search(r"[():]", line):
        return False
    if re.search(r"\b(?:section|heading|title|part|introduction|conclusion)\b", line, re.I):
        return False
    if any(keyword_hits(line, k) and any(keyword_hits(t, k) for t in taken) for k in keywords):
        return False
    if any(_similar(line, a) for a in avoid):
        return False
    return all(normalise(line) != normalise(t) and not heading_matches(line, t) for t in taken)


def _similar(line: str, other: str) -> bool:
    """Most of ``line``'s words are ``other``'s (a heading that repeats the title)."""
    mine, theirs = set(normalise(line).split()), set(normalise(other).split())
    return bool(mine) and len(mine & theirs) >= 0.7 * len(mine)


@dataclass(frozen=True)
class Part:
    heading: str | None  # None: the opening paragraph (no heading)
    budget: int
    keywords: tuple[str, ...] = ()
    closing: bool = False


def frame(session: Session) -> tuple[bool, list[str]]:
    """Whether the piece gets an opening paragraph, and the closing section it gets, when the
    required sections do not start and end it (long forms only)."""
    spec = session.spec
    if not spec.long_form:
        return False, []
    required = spec.sections
    opening = not required or not INTRO_LIKE.search(required[0])
    closes = bool(required) and bool(CLOSING_LIKE.search(required[-1]))
    return opening, [] if closes else ["Conclusion"]


def plan_parts(session: Session, body: list[str]) -> list[Part]:
    """The parts in order with their word budgets and keywords (see the module docstring)."""
    spec = session.spec
    if not spec.long_form:
        keywords = assign_keywords(spec.keywords, None, spec.target_words, 1, False)[0]
        return [Part(None, spec.target_words, tuple(keywords))]
    required = list(spec.sections)
    opening, closing = frame(session)
    if closing or len(required) < 2:
        names = required + body if closing or not required else body + required
    else:
        names = required[:-1] + body + required[-1:]
    names += closing
    headings: list[str | None] = [None, *names] if opening else list(names)
    prose = max(spec.target_words - len(words(session.title)) - 3 * len(names), 40)
    last = len(headings) - 1
    weights = [0.8 if i in (0, last) else 1.0 for i in range(len(headings))]
    budgets = [max(MIN_PART_WORDS, round(prose * w / sum(weights))) for w in weights]
    placed = " ".join([session.title, *names])
    assigned = assign_keywords(spec.keywords, spec.keyword_density, spec.target_words,
                               len(headings), session.small, placed=placed)  # fmt: skip
    return [
        Part(h, budgets[i], tuple(assigned[i]), closing=i == last)
        for i, h in enumerate(headings)
    ]


def body_count(session: Session) -> int:
    """Body sections to add between the required ones: enough parts for the length at
    ``WORDS_PER_PART``, and at least 3 ``##`` sections in all."""
    opening, closing = frame(session)
    fixed = len(session.spec.sections) + len(closing)
    want = round(session.spec.target_words / WORDS_PER_PART[session.small])
    return min(max(want - fixed - int(opening), 3 - fixed, 0), MAX_BODY_SECTIONS)


def assign_keywords(
    keywords: list[str], density: float | None, target: int, parts: int, small: bool,
    *, placed: str = "",
) -> list[list[str]]:
    """Which keywords each part is asked to use: enough uses to reach the density target (or
    one each; two for a small model, which often leaves one out), less the uses the title and
    headings (``placed``) already have, spread from the start."""
    assigned: list[list[str]] = [[] for _ in range(parts)]
    if not parts:
        return assigned
    slot = 0
    for keyword in keywords:
        size = max(1, len(keyword.split()))
        have = keyword_hits(placed, keyword)
        if density:
            uses = math.ceil(density * target / (100 * size)) - have
        else:
            uses = 0 if have else (2 if small else 1)
        uses = min(max(uses, 0), parts)
        for _ in range(uses):
            assigned[slot % parts].append(keyword)
            slot += 1
    return assigned


def summary(parts: list[tuple[str | None, str]], small: bool = False) -> str:
    """What the last parts said: each one's first sentence, cut short."""
    said = []
    for heading, body in parts[-SUMMARY_PARTS[small] :]:
        first = sentences(body)[:1]
        if first:
            clipped = " ".join(first[0].split()[: SUMMARY_WORDS[small]])
            # a small model copies "Heading:" labels into its reply: it gets the words only
            said.append(f"{heading}: {clipped}" if heading and not small else clipped)
    return " / ".join(said)


def meta_from(text: str, limit: int) -> str | None:
    """A meta description from a part's first sentences, within ``limit`` characters."""
    out = ""
    for sentence in sentences(" ".join(text.split()).strip("\"'“”")):
        candidate = f"{out} {sentence}".strip()
        if len(candidate) > limit:
            break
        out = candidate
    if len(out) < META_MIN_CHARS:
        flat = " ".join(text.split())
        if len(flat) < META_MIN_CHARS:
            return None
        out = flat[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return out


def clean_meta(reply: str, limit: int) -> str | None:
    text = " ".join(line.strip().strip("\"'“”*_`").strip() for line in reply.splitlines())
    text = re.sub(r"^\W*meta[ -]?description\W*:?\s*", "", text, flags=re.IGNORECASE)
    found = meta_from(text, limit)
    return found if found and META_MIN_CHARS <= len(found) <= limit and "…" not in found else None


async def write_part(session: Session, part: Part, done: list[tuple[str | None, str]],
                     *, stream: bool = True) -> Section:  # fmt: skip
    spec = session.spec
    if session.social:
        prompt = prompts.social(session.kind, session.topic, session.style, part.budget,
                                list(part.keywords))  # fmt: skip
    else:
        prompt = prompts.section(session.kind, session.title, session.topic, session.style,
                                 part.heading, part.budget, list(part.keywords),
                                 summary(done, session.small),
                                 closing=part.closing and spec.long_form)  # fmt: skip
    seen = [session.title, *(body for _, body in done)]
    body, cut = "", False
    for _ in range(2):  # one more try when a small model's reply is all debris
        reply = await session.ask(prompt, part.budget, stream=stream, purpose="section")
        cut = reply.finish_reason == "length"
        body = session.clean(reply, part.heading or "", seen)
        if len(words(body)) >= min(part.budget // 3, JUNK_WORDS):
            break
    truncated = cut and not session.small  # a small model's cut sentence was dropped by tidy
    return Section(heading=part.heading or "", body=body, truncated=truncated)


async def write_sections(session: Session) -> Draft:
    spec = session.spec
    candidate: str | None = None
    body: list[str] = []
    if spec.long_form:
        count = body_count(session)
        proposed: list[str] = []
        if not session.small:  # a small model's outline is no better than code's: no call
            required = spec.sections or ["Introduction", "Conclusion"]
            keyword = spec.keywords[0] if spec.keywords else None
            prompt = prompts.outline(session.kind, session.topic, required[0], required[-1],
                                     max(count, 1), keyword)  # fmt: skip
            reply = await session.ask(prompt, OUTLINE_WORDS, purpose="outline")
            candidate, proposed = parse_outline(reply.text)
        session.title = choose_title(candidate, session)
        taken = list(spec.sections)
        avoid = [session.title, session.topic]
        for line in proposed:
            if len(body) < count and acceptable_heading(line, taken + body, avoid=avoid,
                                                        keywords=spec.keywords):  # fmt: skip
                body.append(line)
        body += fallback_headings(session, count - len(body), taken + body)
    session.title = session.title or choose_title(candidate, session)
    session.emit(f"# {session.title}\n\n")
    done: list[tuple[str | None, str]] = []
    draft = Draft(title=session.title)
    parts = plan_parts(session, body)
    session.labels = [p.heading for p in parts if p.heading]
    for part in parts:
        if part.heading:
            session.emit(f"## {part.heading}\n\n")
        section = await write_part(session, part, done)
        session.emit("\n\n")
        done.append((part.heading, section.body))
        if part.heading is None:
            draft = draft.changed(intro=section.body, intro_truncated=section.truncated)
        else:
            draft = draft.changed(sections=(*draft.sections, section))
    if spec.meta_description_length:
        draft = draft.changed(meta=await write_meta(session, draft))
    return draft


def fallback_headings(session: Session, count: int, taken: list[str]) -> list[str]:
    if count <= 0:
        return []
    key = "local" if session.spec.content_type.value == "local" else "blog"
    first = session.spec.keywords[0] if session.spec.keywords else ""
    # one heading with the keyword at most, none when the title has it: more push a keyword
    # with a density target past its top
    keyword = "" if any(keyword_hits(t, first) for t in [*taken, session.title]) else (
        title_case(first))  # fmt: skip
    out: list[str] = []
    for pattern in FALLBACK_HEADINGS[key]:
        if len(out) >= count:
            break
        if "{k}" in pattern and not keyword:
            pattern = pattern.replace(" for {k}", "").replace("{k}", "It")
        heading = pattern.format(k=keyword)
        if all(normalise(heading) != normalise(t) for t in taken + out):
            out.append(heading)
    return out


async def write_meta(session: Session, draft: Draft) -> str | None:
    """The model's meta description if it fits; the opening's first sentences if not (a small
    model is not asked: code does it as well, for no tokens)."""
    limit = session.spec.meta_description_length or 155
    found = None
    if not session.small:
        reply = await session.ask(prompts.meta(session.kind, session.title, limit),
                                  limit // 5, purpose="meta")  # fmt: skip
        found = clean_meta(reply.text, limit)
    if found is None:
        opening = draft.intro or (draft.sections[0].body if draft.sections else "")
        found = meta_from(opening, limit)
    return found
