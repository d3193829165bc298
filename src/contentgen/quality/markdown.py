"""The structure of a Markdown piece, read with markdown-it-py (CommonMark + tables).

A parser, not regular expressions, decides what is a heading, a paragraph, a table, a fence or
a rule: a ``#`` inside a code fence is no heading, a ``---`` under a line is a setext heading,
``|---|`` is a table row. Everything here only reads; ``Doc.lines`` keeps the text exactly, so
callers can rebuild a piece from line ranges without touching what they did not change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

WORD = re.compile(r"[A-Za-z0-9À-ÖØ-öø-ÿ]+(?:['’\-][A-Za-z0-9À-ÖØ-öø-ÿ]+)*")
URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]]+", re.IGNORECASE)
META_LINE = re.compile(r"^\W*meta[ -]?description\W*:\s*(.*)$", re.IGNORECASE | re.DOTALL)
_FRONT_OPEN = re.compile(r"---[ \t]*\r?\n")
_FRONT_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)


@cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("table")


def split_front_matter(text: str) -> tuple[str, str]:
    """``(front matter block with its --- lines, rest)``; ``("", text)`` when there is none.

    Front matter is a YAML mapping between a first line ``---`` and a closing ``---`` (or
    ``...``); a piece that merely starts with a horizontal rule has none."""
    if not _FRONT_OPEN.match(text):
        return "", text
    close = _FRONT_CLOSE.search(text, text.index("\n") + 1)
    if close is None:
        return "", text
    end = text.find("\n", close.end())
    end = len(text) if end < 0 else end + 1
    if not isinstance(front_matter_data(text[:end]), dict):
        return "", text
    return text[:end], text[end:]


def front_matter_data(block: str) -> dict[str, Any] | None:
    """The YAML mapping of a front matter block, or None when it is not one."""
    import yaml

    inner = block.split("\n", 1)[1] if "\n" in block else ""
    inner = _FRONT_CLOSE.split(inner, maxsplit=1)[0]
    try:
        data = yaml.safe_load(inner)
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def plain_inline(token: Token, *, code: bool = True) -> str:
    """The visible text of an inline token: emphasis markers, link targets, HTML tags and bare
    URLs removed; link and image text kept; inline code kept only when ``code``."""
    parts: list[str] = []
    in_autolink = False
    for child in token.children or []:
        kind = child.type
        if kind == "link_open":
            in_autolink = child.markup == "autolink"
        elif kind == "link_close":
            in_autolink = False
        elif kind == "text" and not in_autolink:
            parts.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif (kind == "code_inline" and code) or kind == "image":
            parts.append(child.content)
    return URL.sub("", "".join(parts)).strip()


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    start: int  # first line (0-based, in Doc.lines)
    end: int  # line after the heading


@dataclass(frozen=True)
class Block:
    """A top-level block: heading, paragraph, list, table, fence, code, hr, html, quote."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Prose:
    """A paragraph's visible text (in a list item or quote too), with its lines."""

    text: str
    start: int
    end: int
    in_list: bool


@dataclass(frozen=True)
class Doc:
    """A parsed piece: front matter apart, then the body's lines, headings, blocks, prose.
    Shared by everyone who parses the same text (``parse`` keeps the last few): read it,
    never change it."""

    front_matter: str
    body: str
    lines: list[str]
    headings: list[Heading] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    prose: list[Prose] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)  # table cells' text

    @property
    def front(self) -> dict[str, Any]:
        return (front_matter_data(self.front_matter) or {}) if self.front_matter else {}

    @property
    def title(self) -> str | None:
        """The first level-1 heading."""
        return next((h.text for h in self.headings if h.level == 1), None)

    def meta_description(self) -> str | None:
        """The text of a ``Meta description:`` paragraph, else the front matter's
        ``description`` / ``meta_description``."""
        for item in self.prose:
            match = META_LINE.match(item.text)
            if match:
                return " ".join(match.group(1).split()).strip("\"'")
        for key in ("meta_description", "description"):
            value = self.front.get(key)
            if isinstance(value, str) and value.strip():
                return " ".join(value.split())
        return None

    def body_prose(self) -> list[Prose]:
        """Prose without the meta description line."""
        return [p for p in self.prose if not META_LINE.match(p.text)]

    def visible_text(self) -> str:
        """Headings, prose and table cells (no front matter, code, HTML or URLs)."""
        parts = [h.text for h in self.headings]
        parts += [p.text for p in self.body_prose()]
        parts += self.cells
        return "\n\n".join(parts)


#: Documents ``parse`` keeps: a piece is parsed by the writer, the analysis and the result
#: (and a repair round by each check it runs): the same text comes back within a few calls.
PARSED = 32


@lru_cache(maxsize=PARSED)
def parse(text: str) -> Doc:
    """Read a Markdown piece (the same ``Doc`` for the same text while it is among the
    last ``PARSED`` read)."""
    front, body = split_front_matter(text)
    doc = Doc(front_matter=front, body=body, lines=body.split("\n"))
    tokens = _parser().parse(body)
    depth_list = 0
    in_table = 0
    pending_heading: Token | None = None
    for index, tok in enumerate(tokens):
        kind = tok.type
        if tok.level == 0 and tok.map is not None and not kind.endswith("_close"):
            name = _BLOCK_KINDS.get(kind, kind.removesuffix("_open"))
            doc.blocks.append(Block(name, tok.map[0], tok.map[1]))
        if kind in ("bullet_list_open", "ordered_list_open"):
            depth_list += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            depth_list -= 1
        elif kind == "table_open":
            in_table += 1
        elif kind == "table_close":
            in_table -= 1
        elif kind == "heading_open":
            pending_heading = tok
        elif kind == "inline":
            if pending_heading is not None and pending_heading.map is not None:
                level = int(pending_heading.tag[1])
                start, end = pending_heading.map
                doc.headings.append(Heading(level, plain_inline(tok), start, end))
                pending_heading = None
            elif in_table:
                doc.cells.append(plain_inline(tok))
            elif tok.map is not None and tokens[index - 1].type == "paragraph_open":
                start, end = tok.map
                doc.prose.append(Prose(plain_inline(tok), start, end, depth_list > 0))
    return doc


_BLOCK_KINDS = {
    "heading_open": "heading",
    "paragraph_open": "paragraph",
    "bullet_list_open": "list",
    "ordered_list_open": "list",
    "table_open": "table",
    "blockquote_open": "quote",
    "fence": "fence",
    "code_block": "code",
    "hr": "hr",
    "html_block": "html",
}


def words(text: str) -> list[str]:
    """The words of a text (``wood-fired`` and ``it's`` are one word each)."""
    return WORD.findall(text)


def word_count(text: str) -> int:
    """Words of a piece's visible text: front matter, code, URLs, Markdown markers and the
    meta description line are not counted."""
    return len(words(parse(text).visible_text()))


_SENTENCE_END = re.compile(r"[.!?…]+[\"')\]”’]*(?=\s+[\"'(\[“‘*_]?[A-Z0-9À-Ö])")


def sentences(text: str) -> list[str]:
    """A paragraph split into sentences (after ``.``, ``!``, ``?`` before a capital); the
    sentences keep their punctuation and quotes."""
    flat = " ".join(text.split())
    out, start = [], 0
    for match in _SENTENCE_END.finditer(flat):
        out.append(flat[start : match.end()].strip())
        start = match.end()
    out.append(flat[start:].strip())
    return [s for s in out if s]


def normalise(text: str) -> str:
    """Lower-case words joined by spaces: the form in which texts are compared."""
    return " ".join(w.lower() for w in words(text))
