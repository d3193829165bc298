"""Measure a generated piece: title, word count, keywords used, compliance with the plan."""

from __future__ import annotations

import re
from dataclasses import dataclass

from contentgen.instructions.builder import WritingPlan

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)
_WORD = re.compile(r"[A-Za-z0-9À-ÿ]+(?:['’\-][A-Za-z0-9À-ÿ]+)*")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+")


def word_count(text: str) -> int:
    """Words of the visible text (Markdown markers are not words)."""
    return len(_WORD.findall(text))


def first_heading(text: str) -> str | None:
    match = _HEADING.search(text)
    if match is None:
        return None
    title = match.group(2).strip().strip("*_` ")
    return title or None


def make_title(topic: str) -> str:
    """A title from the topic, for pieces the model wrote without a heading."""
    topic = topic.strip().rstrip(".!?")
    small = {"a", "an", "and", "the", "of", "in", "on", "for", "to", "with", "or", "at", "by"}
    words = topic.split()
    out = [
        w if (i and w.lower() in small) or any(c.isupper() for c in w) else w.capitalize()
        for i, w in enumerate(words)
    ]
    return " ".join(out)


def keywords_used(text: str, keywords: list[str]) -> list[str]:
    """The keywords that appear as whole words or phrases, case-insensitively."""
    used = []
    for kw in keywords:
        words = kw.split()
        if not words:
            continue
        pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)"
        if re.search(pattern, text, re.IGNORECASE):
            used.append(kw)
    return used


def keyword_density(text: str, keyword: str) -> float:
    """Occurrences of the keyword per 100 words."""
    words = word_count(text)
    if not words:
        return 0.0
    pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in keyword.split()) + r"(?!\w)"
    hits = len(re.findall(pattern, text, re.IGNORECASE))
    return round(100.0 * hits * max(1, len(keyword.split())) / words, 2)


def drop_repeats(text: str, seen: list[str] | None = None) -> str:
    """Remove repeated sentences and lines (small models loop); keeps the first occurrence.
    Sentences equal to one of ``seen`` (e.g. the title) are dropped too."""
    seen_set = {" ".join(_WORD.findall(s.lower())) for s in seen or []}
    out_lines: list[str] = []
    for line in text.splitlines():
        if _HEADING.match(line) or not line.strip():
            out_lines.append(line)
            continue
        kept = []
        for sentence in _SENTENCE_SPLIT.split(line.strip()):
            norm = " ".join(_WORD.findall(sentence.lower()))
            if not norm or norm in seen_set:
                continue
            seen_set.add(norm)
            kept.append(sentence)
        if kept:
            out_lines.append(" ".join(kept))
    text = "\n".join(out_lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def ensure_title(text: str, title: str) -> str:
    """Make sure the piece starts with a '# ' title line."""
    stripped = text.lstrip()
    if stripped.startswith("# "):
        return stripped
    return f"# {title}\n\n{stripped}"


@dataclass(frozen=True)
class Compliance:
    notes: list[str]

    def __str__(self) -> str:
        return "; ".join(self.notes)


def check_compliance(
    text: str, plan: WritingPlan, words: int, used: list[str] | None = None
) -> Compliance:
    """How the piece measures against the plan (word range, sections, keywords).

    ``used`` is ``keywords_used(text, plan.keywords)`` when the caller has it already."""
    notes = [f"{words} words (target {plan.min_words}-{plan.max_words})"]
    if words < plan.min_words:
        notes.append("below the minimum word count")
    elif words > plan.max_words:
        notes.append("above the maximum word count")
    headings = {m.group(2).strip().lower() for m in _HEADING.finditer(text)}
    missing = [s for s in plan.sections if s.lower() not in headings]
    if missing:
        notes.append("missing sections: " + ", ".join(missing))
    found = set(keywords_used(text, plan.keywords) if used is None else used)
    unused = [k for k in plan.keywords if k not in found]
    if unused:
        notes.append("keywords not used: " + ", ".join(unused))
    return Compliance(notes)
