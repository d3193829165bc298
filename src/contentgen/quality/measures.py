"""The measures: pure functions of a parsed piece, each with a known answer on a fixed text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from contentgen.quality.markdown import URL, Doc, Prose, normalise, sentences, words

MIN_SECTION_WORDS = 20
MIN_LONG_FORM_SECTIONS = 3
NGRAM = 8
ECHO_NGRAM = 6
MIN_DUPLICATE_WORDS = 5


# --- keywords ---------------------------------------------------------------------------------
@cache
def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """Whole words, case-insensitive; spaces and hyphens between the keyword's words are
    interchangeable (``wood-fired`` = ``wood fired``); a plural ``s``/``es`` is accepted.
    "car" does not match "carpet", "scar" or "car-free"."""
    parts = [p for p in re.split(r"[\s\-‐–]+", keyword.strip()) if p]
    body = r"[\s\-‐–]+".join(re.escape(p) for p in parts)
    plural = "(?:s|es)?" if parts and parts[-1][-1:].isalpha() else ""
    return re.compile(rf"(?<![\w'’\-]){body}{plural}(?![\w'’]|-\w)", re.IGNORECASE)


def keyword_hits(text: str, keyword: str) -> int:
    return len(keyword_pattern(keyword).findall(text)) if keyword.strip() else 0


def keyword_density(text: str, keyword: str, total_words: int | None = None) -> float:
    """The share of the text's words that are the keyword's, in percent (a two-word keyword
    used once in 100 words is 2.0)."""
    total = len(words(text)) if total_words is None else total_words
    if not total:
        return 0.0
    size = max(1, len(re.split(r"[\s\-‐–]+", keyword.strip())))
    return round(100.0 * keyword_hits(text, keyword) * size / total, 2)


def density_band(target: float) -> tuple[float, float]:
    """Densities that pass for a target: half of it to twice it."""
    return round(target / 2, 2), round(target * 2, 2)


# --- title ------------------------------------------------------------------------------------
_TITLE_DEBRIS = re.compile(
    r"[\[\]{}<>|#`*=~^\\]|^[\W_]{2,}|[:;,\-–—]\s*$|\.\.\.|\btitle\s*:|\b(?:markdown|no quot\w*|"
    r"one line|heading|meta description|at most \d+|\d+ words|word count|instructions?|prompt|"
    r"placeholder|here(?:'s| is)|as an ai)\b",
    re.IGNORECASE,
)


def title_problems(title: str | None, *, allowed: str = "", max_words: int = 14) -> list[str]:
    """What is wrong with a title; empty when it is sane."""
    if title is None or not title.strip():
        return ["no title"]
    problems = []
    if URL.search(title) or re.search(r"\b[\w-]+\.(?:com|org|net|io)\b", title, re.I):
        problems.append("contains a URL")
    for match in _TITLE_DEBRIS.finditer(title):
        token = match.group(0).strip()
        if any(c.isalpha() for c in token) and token.lower() in allowed.lower():
            continue  # "Markdown tips" is a fine title for a piece about Markdown
        problems.append(f"contains Markdown or instruction debris ({token!r})")
        break
    count = len(words(title))
    if count > max_words:
        problems.append(f"{count} words (at most {max_words})")
    elif count < 2:
        problems.append("fewer than 2 words")
    return problems


# --- sections ---------------------------------------------------------------------------------
def heading_matches(heading: str, section: str) -> bool:
    """``Introduction`` matches the headings "Introduction" and "Introduction: why solar"."""
    h, s = normalise(heading), normalise(section)
    if not s:
        return False
    if h == s:
        return True
    return h.startswith(s + " ") and bool(re.match(rf"\s*{re.escape(section.strip())}\s*[:\-–—(]",
                                                   heading, re.IGNORECASE))  # fmt: skip


def section_positions(doc: Doc, sections: list[str]) -> dict[str, int]:
    """Index (among level-2+ headings) of the first heading matching each required section."""
    found: dict[str, int] = {}
    subs = [h for h in doc.headings if h.level >= 2]
    for section in sections:
        for i, heading in enumerate(subs):
            if heading_matches(heading.text, section):
                found[section] = i
                break
    return found


def in_order(positions: dict[str, int], sections: list[str]) -> list[str]:
    """Required sections that appear before one that should precede them (empty: in order)."""
    order = [positions[s] for s in sections if s in positions]
    names = [s for s in sections if s in positions]
    return [names[i] for i in range(1, len(order)) if order[i] < max(order[:i])]


@dataclass(frozen=True)
class SectionText:
    heading: str
    words: int


def section_texts(doc: Doc) -> list[SectionText]:
    """Each level-2 section with the words of its prose (deeper headings belong to it)."""
    subs = [h for h in doc.headings if h.level == 2]
    out = []
    for i, heading in enumerate(subs):
        end = subs[i + 1].start if i + 1 < len(subs) else len(doc.lines)
        count = sum(len(words(p.text)) for p in doc.body_prose() if heading.end <= p.start < end)
        count += sum(len(words(h.text)) for h in doc.headings
                     if h.level > 2 and heading.end <= h.start < end)  # fmt: skip
        out.append(SectionText(heading.text, count))
    return out


# --- repetition -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Passage:
    """A repeated passage and the prose item where it comes back."""

    text: str
    prose_index: int


def repeated_passages(prose: list[Prose]) -> list[Passage]:
    """Duplicate sentences (of 5+ words) and repeated 8-word sequences, where they come back.
    A duplicate sentence is reported once, not again as its 8-word sequences."""
    found: list[Passage] = []
    seen_sentences: set[str] = set()
    for index, item in enumerate(prose):
        for sentence in sentences(item.text):
            norm = normalise(sentence)
            if len(norm.split()) >= MIN_DUPLICATE_WORDS and norm in seen_sentences:
                found.append(Passage(sentence, index))
            seen_sentences.add(norm)
    duplicates = [normalise(p.text) for p in found]
    first_seen: dict[tuple[str, ...], tuple[int, int]] = {}
    for index, item in enumerate(prose):
        tokens = [w.lower() for w in words(item.text)]
        runs: list[list[int]] = []  # [start, end] of runs of repeated 8-gram starts
        for i in range(len(tokens) - NGRAM + 1):
            gram = tuple(tokens[i : i + NGRAM])
            if first_seen.setdefault(gram, (index, i)) == (index, i):
                continue
            if runs and runs[-1][1] == i - 1:
                runs[-1][1] = i
            else:
                runs.append([i, i])
        for start, end in runs:
            text = " ".join(tokens[start : end + NGRAM])
            if not any(text in d for d in duplicates):
                found.append(Passage(text, index))
    return found


# --- readability ------------------------------------------------------------------------------
def reading_ease(prose: list[Prose]) -> float | None:
    """Flesch reading ease of the prose (Markdown and URLs already stripped); None without
    prose. Each paragraph or list item counts as at least one sentence."""
    texts = []
    for item in prose:
        text = " ".join(URL.sub("", item.text).split())
        if words(text):
            texts.append(text if text[-1] in ".!?" else text + ".")
    if not texts:
        return None
    from contentgen.quality.readability import flesch_reading_ease  # textstat 0.7.8's, fast

    return round(flesch_reading_ease(" ".join(texts)), 1)


# --- citations --------------------------------------------------------------------------------
_CITATION = re.compile(
    r"https?://|\bwww\.|\[\^\w+\]|^\s*(?:sources?|references?)\s*:|\baccording to\b|"
    r"\bcited (?:by|in)\b|\(\s*[A-Z][\w.&' -]+,\s*(?:19|20)\d\d\s*\)|\b(?:study|survey|report|"
    r"research|data)(?: (?:conducted|published|released))? (?:by|from) (?:the )?(?-i:[A-Z])",
    re.IGNORECASE | re.MULTILINE,
)


def citation_count(body: str) -> int:
    """Links, footnotes, "Source:" lines, "according to ...", "(Author, 2021)", "a study by
    X" (X capitalised: a name) in the piece's Markdown. The form of a citation, not its
    truth: a small model's sources are as likely invented as not."""
    return len(_CITATION.findall(body))


# --- forbidden phrases, prompt echo ----------------------------------------------------------
def forbidden_found(text: str, phrases: list[str]) -> list[str]:
    return [p for p in phrases if keyword_hits(text, p)]


ECHO = re.compile(
    r"\bno quot\w*|\bone line\b(?=\s*(?:[,.;:!)]|$|only\b))|"  # "one line of" is prose
    r"\bat most \d+ (?:words|characters)|\b(?:about|around|"
    r"approximately|exactly|next|these|the) \d+ words\b|\b(?:new|next|one more) paragraph\b|"
    r"\b(?:two|three|four|\d+) (?:short )?paragraphs\b|\bthe (?:first|second|third) paragraph\b|"
    r"\b\d+ to \d+ words\b|\bword (?:count|budget)\b|"
    r"\[(?:insert\b[^\]]{0,30}|your\b[^\]]{0,30}|(?:first |last |full )?name|company(?: name)?|"
    r"city|date|link|phone(?: number)?|address|email|brand|product)\]|"
    r"\bthe part (?:already|is still|says)\b|\bmarkdown\b|\bexact (?:phrase|words)\b|"
    r"\buse these keywords\b|\bkeywords? naturally\b|"
    r"\b(?:primary |seo )?keywords?\s*:|\bseo rule\b|\bmeta description\b|"
    r"\bhere(?:'s| is) (?:a|an|the|your|my) (?:\w+ )?(?:revised|rewritten|new|updated|blog|"
    r"section|paragraph|post|article|title|meta|version|sentence)\b|\bas an ai\b|"
    r"^\s*(?:sure|certainly|of course)\b[,!.]|^\s*(?:section|title|heading|paragraph|tone|topic|"
    r"length)\s*:|\bplaceholder\b|\{\{|\}\}|\{%|%\}|\blorem ipsum\b",
    re.IGNORECASE,
)


def _ngrams(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def instruction_ngrams(
    instructions: tuple[str, ...], allowed: tuple[str, ...]
) -> set[tuple[str, ...]]:
    """6-word sequences of the prompts, not counting ones that run through an allowed phrase
    (the topic, keywords, section names: a piece may repeat those)."""
    grams: set[tuple[str, ...]] = set()
    barrier = None
    if allowed:
        alts = sorted((re.escape(a.strip()) for a in allowed if a.strip()), key=len, reverse=True)
        barrier = re.compile("|".join(alts), re.IGNORECASE) if alts else None
    for text in instructions:
        segments = barrier.split(text) if barrier else [text]
        for segment in segments:
            grams |= _ngrams([w.lower() for w in words(segment)], ECHO_NGRAM)
    return grams


def echoes(texts: list[str], grams: set[tuple[str, ...]], allowed: str = "") -> list[str]:
    """Passages of ``texts`` that repeat the prompt or are instruction debris."""
    found = []
    for text in texts:
        match = ECHO.search(text)
        if match and match.group(0).strip().lower() not in allowed.lower():
            found.append(match.group(0).strip())
            continue
        tokens = [w.lower() for w in words(text)]
        shared = _ngrams(tokens, ECHO_NGRAM) & grams
        if shared:
            found.append(" ".join(sorted(shared)[0]))
    return found


_EMOJI = "\u2600-\u27bf\U0001f300-\U0001faff"
ENDS_CLEANLY = re.compile(rf"""[.!?…)"'”’*_\]>]\s*$|#\w+\s*$|[{_EMOJI}]\s*$""")


def ends_mid_sentence(doc: Doc) -> bool:
    """Whether the piece's last block is a paragraph stopping mid-sentence (a cut-off reply)."""
    if not doc.blocks or doc.blocks[-1].kind != "paragraph" or not doc.prose:
        return False
    last = doc.prose[-1]
    if last.start != doc.blocks[-1].start:
        return False
    return len(words(last.text)) >= 4 and not ENDS_CLEANLY.search(last.text)
