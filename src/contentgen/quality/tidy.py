"""Clean-up of what a small embedded model writes — Markdown-aware, small-model path only.

Small models leak HTML tags, JSON fragments, chatter ("Sure! Here's a revised version:"),
labels ("Section: ..."), wrapping quotes, loops and a cut-off last sentence. ``tidy_markdown``
removes those from *paragraphs* only: headings, lists, tables, code, rules, quotes, HTML blocks
and front matter are kept byte for byte, so valid Markdown keeps its structure. Capable
models' output is never passed through here.

``section_body`` shapes one section's reply in ``sections`` mode (any model): the model's own
copy of the heading goes, deeper headings stay below the section's level.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from contentgen.quality.markdown import Block, Doc, normalise, parse, sentences, words
from contentgen.quality.measures import ECHO, ENDS_CLEANLY, NGRAM

_TAG = re.compile(r"</?[a-zA-Z][^<>\n]*>")
#: HTML blocks a small model leaks around prose (tables, pre, script and the like are kept).
_PROSE_HTML = re.compile(r"\s*</?(?:p|div|span|br|b|i|em|strong|h[1-6])\b", re.IGNORECASE)
_CODE_LIKE = re.compile(
    r"""^\s*(?:[{}\[\],]+\s*$|[{\[]?\s*["']?[\w\-]+["']?\s*[:=]\s*["'{\[])"""
)
_CHATTER = re.compile(
    r"^\W*(?:(?:sure|certainly|of course|okay|ok|absolutely)\b[^.!?\n]*[.!?:]?\s*$|"
    r"here(?:'s| is| are) (?:a|an|the|your|my|some)\b[^\n]*:\s*$|"
    r"(?:section|title|heading|paragraph|topic|keywords?|tone|word count)\s*:)",
    re.IGNORECASE,
)
#: A reply that starts by repeating the prompt's first line ('Blog post "Title"...').
_KIND_ECHO = re.compile(r"^\W*(?:blog post|social media post|local landing page)\s*[\"“:]",
                        re.IGNORECASE)
_CHATTER_LEAD = re.compile(
    r"^\W*(?:sure|certainly|of course|absolutely)[,!.]\s*(?:here(?:'s| is)[^.!?:]*[.!?:]\s*)?|"
    r"^here(?:'s| is) (?:a|an|the|your|my) [^.!?:]{0,80}:\s*",
    re.IGNORECASE,
)
_WRAPPING_QUOTES = re.compile(r"""^["“'](.+)["”']$""", re.DOTALL)
_SENTENCE_END = re.compile(r"[.!?…][\"')\]”’*_]*(?=\s|$)")
MIN_DUPLICATE_WORDS = 4


class _Seen:
    """Sentences and 8-word sequences met so far in a piece."""

    def __init__(self, texts: list[str]) -> None:
        self.sentences: set[str] = set()
        self.grams: set[tuple[str, ...]] = set()
        for text in texts:
            self.add(text)

    def repeats(self, sentence: str) -> bool:
        norm = normalise(sentence)
        if len(norm.split()) >= MIN_DUPLICATE_WORDS and norm in self.sentences:
            return True
        return any(g in self.grams for g in _grams(norm.split()))

    def add(self, sentence: str) -> None:
        norm = normalise(sentence)
        self.sentences.add(norm)
        self.grams.update(_grams(norm.split()))


def _grams(tokens: list[str]) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + NGRAM]) for i in range(len(tokens) - NGRAM + 1)]


def _label_pattern(labels: Sequence[str]) -> re.Pattern[str] | None:
    """``Introduction:`` at the start of a line: a small model labelling its paragraph."""
    names = sorted({re.escape(x.strip()) for x in labels if x.strip()}, key=len, reverse=True)
    if not names:
        return None
    return re.compile(rf"^\W*(?:{'|'.join(names)})\s*[:\-–—]\s*", re.IGNORECASE)


#: A small model talking about the task instead of doing it.
_CHATTER_SENTENCE = re.compile(
    r"\bi'?m (?:ready|happy|glad|excited) to (?:help|begin|start|assist|share|write)\b|"
    r"\bas an ai\b|\blet me know if\b|\bhope this helps\b",
    re.IGNORECASE,
)


def _echoes(sentence: str, keep: str) -> bool:
    if _CHATTER_SENTENCE.search(sentence):
        return True
    match = ECHO.search(sentence)
    return match is not None and match.group(0).strip().lower() not in keep.lower()


def _clean_paragraph(
    lines: list[str], seen: _Seen, labels: re.Pattern[str] | None, keep: str
) -> str:
    kept_lines = []
    for raw in lines:
        line = _TAG.sub("", raw).strip()
        if not line or _CODE_LIKE.match(line) or _CHATTER.match(line) or _KIND_ECHO.match(line):
            continue
        line = _CHATTER_LEAD.sub("", line).strip()
        if labels is not None:
            line = labels.sub("", line).strip()
        if line:
            kept_lines.append(line)
    text = " ".join(kept_lines)
    quoted = _WRAPPING_QUOTES.match(text)
    if quoted and not re.search(r"[\"“”]", quoted.group(1)):
        text = quoted.group(1).strip()
    kept = []
    for sentence in sentences(text):
        if seen.repeats(sentence) or _echoes(sentence, keep):
            continue
        seen.add(sentence)
        kept.append(sentence)
    return " ".join(kept)


def _drop_fragment(text: str) -> str:
    """The paragraph up to its last sentence end; "" when no sentence ended."""
    ends = list(_SENTENCE_END.finditer(text))
    return text[: ends[-1].end()] if ends else ""


def _rebuild(text: str, doc: Doc, replaced: dict[int, tuple[Block, str]]) -> str:
    """``text`` with the given blocks' lines replaced (an empty replacement drops the block)."""
    if not replaced:
        return text
    out: list[str] = []
    index = 0
    while index < len(doc.lines):
        if index in replaced:
            block, cleaned = replaced[index]
            if cleaned:
                out.append(cleaned)
            index = block.end
            continue
        out.append(doc.lines[index])
        index += 1
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(out))
    return doc.front_matter + body.strip("\n") + ("\n" if text.endswith("\n") else "")


def tidy_markdown(
    text: str, *, seen: Sequence[str] = (), cut: bool = False, labels: Sequence[str] = (),
    keep: str = "",
) -> str:  # fmt: skip
    """Clean a small model's Markdown; only paragraphs change (see the module docstring).

    ``seen`` are texts written before (earlier sections, the title): sentences repeating them
    go too, as do sentences of instruction debris ("in about 90 words") unless ``keep`` (the
    topic, keywords) has the words. ``labels`` (section names) are taken off the start of
    paragraphs ("Introduction: ..."). ``cut``: the reply hit the token limit, so its last
    paragraph loses the unfinished sentence (any reply's does when it ends mid-sentence)."""
    doc = parse(text)
    state = _Seen([s for t in seen for s in sentences(t)])
    label = _label_pattern(labels)
    paragraphs = [
        b for b in doc.blocks
        if b.kind == "paragraph" or (b.kind == "html" and _PROSE_HTML.match(doc.lines[b.start]))
    ]  # fmt: skip
    replaced: dict[int, tuple[Block, str]] = {}
    for block in paragraphs:
        original = doc.lines[block.start : block.end]
        cleaned = _clean_paragraph(original, state, label, keep)
        if cleaned != "\n".join(original):
            replaced[block.start] = (block, cleaned)
    last = doc.blocks[-1] if doc.blocks else None
    if last is not None and last.kind == "paragraph":
        current = replaced.get(last.start, (last, "\n".join(doc.lines[last.start : last.end])))[1]
        if cut or not ENDS_CLEANLY.search(current):
            trimmed = _drop_fragment(current)
            if trimmed != current and (trimmed or len(words(current)) < 40 or cut):
                replaced[last.start] = (last, trimmed)
    return _rebuild(text, doc, replaced)


def drop_sentences(text: str, drop: Callable[[str], bool]) -> str:
    """``text`` without the sentences of its paragraphs for which ``drop`` is true (lists,
    tables, code and headings are left alone)."""
    doc = parse(text)
    replaced: dict[int, tuple[Block, str]] = {}
    for block in doc.blocks:
        if block.kind != "paragraph":
            continue
        original = " ".join(doc.lines[block.start : block.end])
        kept = [s for s in sentences(original) if not drop(s)]
        if len(kept) != len(sentences(original)):
            replaced[block.start] = (block, " ".join(kept))
    return _rebuild(text, doc, replaced)


def add_sentence(text: str, sentence: str) -> str:
    """``text`` with ``sentence`` at the end of its first paragraph (a new paragraph when it
    has none)."""
    doc = parse(text)
    first = next((b for b in doc.blocks if b.kind == "paragraph"), None)
    if first is None:
        return f"{text.rstrip()}\n\n{sentence}".strip()
    joined = " ".join(line.strip() for line in doc.lines[first.start : first.end])
    return _rebuild(text, doc, {first.start: (first, f"{joined} {sentence}")})


_LIST_MARKER = re.compile(r"^(?:[-*+•]|\d{1,2}[.)])\s+")
_FENCE = re.compile(r"^\s{0,3}(?:```|~~~)")
_HEADING_LINE = re.compile(r"^(\s{0,3})(#{1,6})(\s+)(.*)$")


def section_body(
    reply: str, heading: str, *, title: str = "", small: bool = False,
    seen: Sequence[str] = (), cut: bool = False, labels: Sequence[str] = (), keep: str = "",
) -> str:  # fmt: skip
    """One section's text from a model's reply: its copy of the section heading or the title
    goes; other headings become ``###`` or deeper (a section holds no ``#``/``##`` of its own).
    ``small``: then ``tidy_markdown`` (with ``seen``, ``cut``, ``labels``, ``keep``), after
    code fences and indentation go (a small model asked for paragraphs writes none on purpose).
    A fence left open is closed: it would swallow the sections after it."""
    if small:  # prose only: no fences, indentation or list markers
        reply = "\n".join(_LIST_MARKER.sub("", line.strip()) for line in reply.splitlines()
                          if not _FENCE.match(line))  # fmt: skip
    doc = parse(reply)
    drop = {normalise(heading), normalise(title)} - {""}
    lines = list(doc.lines)
    for h in doc.headings:
        text = doc.lines[h.start]
        match = _HEADING_LINE.match(text)
        if normalise(h.text) in drop or (h.start == 0 and h.level <= 2) or match is None:
            for i in range(h.start, h.end):
                lines[i] = "\x00"
            if h.end < len(lines) and not lines[h.end].strip():
                lines[h.end] = "\x00"  # and the blank line after it
        elif h.level < 3:
            lines[h.start] = f"{match.group(1)}###{match.group(3)}{match.group(4)}"
    body = "\n".join(line for line in lines if line != "\x00").strip()
    if sum(1 for line in body.splitlines() if _FENCE.match(line)) % 2:
        body += "\n```"
    if small:
        body = tidy_markdown(body, seen=seen, cut=cut, labels=labels, keep=keep).strip()
    return body
