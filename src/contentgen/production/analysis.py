"""The old analysis helpers, kept for callers not yet moved to ``contentgen.quality``.

The pipeline no longer post-processes pieces: ``write_piece`` returns a ``Piece`` with its
``ComplianceReport`` (``contentgen.quality.analyse``). ``drop_repeats`` is the Markdown-aware
small-model clean-up now (``quality.tidy.tidy_markdown``): it never drops table rows, rules,
fences or list items, which the old line filter did to every piece.
"""

from __future__ import annotations

from dataclasses import dataclass

from contentgen.instructions.builder import WritingPlan
from contentgen.quality.markdown import parse
from contentgen.quality.markdown import word_count as word_count
from contentgen.quality.measures import heading_matches, keyword_hits
from contentgen.quality.measures import keyword_density as keyword_density
from contentgen.quality.sections import make_title as make_title
from contentgen.quality.tidy import tidy_markdown


def first_heading(text: str) -> str | None:
    """The piece's ``# `` title (a ``##`` is never taken for it)."""
    return parse(text).title


def keywords_used(text: str, keywords: list[str]) -> list[str]:
    """The keywords the piece's visible text uses (whole words, any case)."""
    visible = parse(text).visible_text()
    return [k for k in keywords if keyword_hits(visible, k)]


def drop_repeats(text: str, seen: list[str] | None = None) -> str:
    """Small-model clean-up of a piece (Markdown-aware; see ``quality.tidy``)."""
    return tidy_markdown(text, seen=seen or ())


def ensure_title(text: str, title: str) -> str:
    """Make sure the piece starts with a '# ' title line."""
    stripped = text.lstrip()
    if parse(stripped).title is not None and stripped.startswith("# "):
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
    """Word range, sections and keywords in short notes (``quality.analyse`` has the full
    report)."""
    notes = [f"{words} words (target {plan.min_words}-{plan.max_words})"]
    if words < plan.min_words:
        notes.append("below the minimum word count")
    elif words > plan.max_words:
        notes.append("above the maximum word count")
    headings = [h.text for h in parse(text).headings if h.level >= 2]
    missing = [s for s in plan.sections if not any(heading_matches(h, s) for h in headings)]
    if missing:
        notes.append("missing sections: " + ", ".join(missing))
    found = set(keywords_used(text, plan.keywords) if used is None else used)
    unused = [k for k in plan.keywords if k not in found]
    if unused:
        notes.append("keywords not used: " + ", ".join(unused))
    return Compliance(notes)
