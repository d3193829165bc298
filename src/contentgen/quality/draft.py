"""A piece as parts: title, an optional intro without heading, ``##`` sections, meta line.

The writer builds a ``Draft`` part by part (``sections`` mode) or reads a whole reply into one
(``single`` mode); repairs replace one part at a time. ``Draft.parse`` keeps the raw lines of
every part it does not change, so an untouched piece renders back to its own Markdown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from contentgen.quality.markdown import META_LINE, parse, words


@dataclass(frozen=True)
class Section:
    heading: str
    body: str = ""
    #: The heading's own line(s) when read from a piece (kept as written).
    raw_heading: str | None = None
    #: The text came from a reply the provider cut at its token limit (and was not redone).
    truncated: bool = False

    @property
    def words(self) -> int:
        return len(words(self.body))


@dataclass(frozen=True)
class Draft:
    title: str
    sections: tuple[Section, ...] = ()
    intro: str = ""  # text between the title and the first ## heading
    meta: str | None = None
    front_matter: str = ""
    lead: str = ""  # text before the title (kept where it was)
    raw_title: str | None = None
    intro_truncated: bool = False
    #: The text this draft was read from, while no part of it has changed.
    source: str | None = field(default=None, compare=False)

    def render(self) -> str:
        if self.source is not None:
            return self.source
        parts = [self.lead, self.raw_title or f"# {self.title}", self.intro]
        for section in self.sections:
            parts.append(section.raw_heading or f"## {section.heading}")
            parts.append(section.body)
        if self.meta:
            parts.append(f"Meta description: {self.meta}")
        body = "\n\n".join(p.strip("\n") for p in parts if p and p.strip())
        return self.front_matter + body + "\n"

    def truncated_parts(self) -> list[str]:
        cut = ["the introduction"] if self.intro_truncated else []
        return cut + [f"section {s.heading!r}" for s in self.sections if s.truncated]

    # -- edits (each returns a new draft) -------------------------------------------------------
    def changed(self, **fields: object) -> Draft:
        return replace(self, source=None, **fields)  # type: ignore[arg-type]

    def with_section(self, index: int, section: Section) -> Draft:
        sections = list(self.sections)
        sections[index] = section
        return self.changed(sections=tuple(sections))

    def inserted(self, index: int, section: Section) -> Draft:
        sections = list(self.sections)
        sections.insert(index, section)
        return self.changed(sections=tuple(sections))

    @property
    def text_parts(self) -> list[str]:
        """Every part's text, in order (what a later part must not repeat)."""
        return [self.title, self.intro, *(s.body for s in self.sections)]

    @classmethod
    def parse(cls, text: str, *, title: str, truncated: bool = False) -> Draft:
        """Read a whole piece. ``title`` is used when it has no ``# `` heading (a ``##`` is
        never promoted to the title); ``truncated`` marks its last part as cut. Later ``# ``
        headings become sections (``##``): a piece has one title."""
        doc = parse(text)
        lines = doc.lines
        h1 = next((h for h in doc.headings if h.level == 1 and h.text), None)
        after = [h for h in doc.headings if h1 is None or h.start > h1.start]
        subs = [h for h in after if h.level <= 2]
        start = h1.end if h1 else 0
        first_sub = subs[0].start if subs else len(lines)
        sections = []
        for i, heading in enumerate(subs):
            end = subs[i + 1].start if i + 1 < len(subs) else len(lines)
            raw = "\n".join(lines[heading.start : heading.end])
            sections.append(Section(
                heading=heading.text,
                body="\n".join(lines[heading.end : end]).strip("\n"),
                raw_heading=raw if heading.level == 2 else f"## {heading.text}",
            ))  # fmt: skip
        draft = cls(
            title=h1.text if h1 else title,
            sections=tuple(sections),
            intro="\n".join(lines[start:first_sub]).strip("\n"),
            front_matter=doc.front_matter,
            lead="\n".join(lines[: h1.start]).strip("\n") if h1 else "",
            raw_title="\n".join(lines[h1.start : h1.end]) if h1 else None,
        )
        draft = _split_meta(draft)
        if truncated and draft.sections:
            last = replace(draft.sections[-1], truncated=True)
            draft = draft.with_section(len(draft.sections) - 1, last)
        elif truncated:
            draft = draft.changed(intro_truncated=True)
        faithful = h1 is not None and all(h.level == 2 for h in subs)
        return replace(draft, source=text if faithful else None)


def _split_meta(draft: Draft) -> Draft:
    """Move a trailing ``Meta description:`` paragraph out of the last part into ``meta``."""
    holder = draft.sections[-1].body if draft.sections else draft.intro
    paragraphs = re.split(r"\n\s*\n", holder.strip("\n"))
    if not paragraphs:
        return draft
    match = META_LINE.match(re.sub(r"[*_]", "", paragraphs[-1]).strip())
    if match is None:
        return draft
    meta = " ".join(match.group(1).split()).strip("\"'")
    rest = "\n\n".join(paragraphs[:-1])
    if draft.sections:
        last = replace(draft.sections[-1], body=rest)
        return draft.with_section(len(draft.sections) - 1, last).changed(meta=meta or None)
    return draft.changed(intro=rest, meta=meta or None)
