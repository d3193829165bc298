"""The small-model clean-up: it cleans prose, and never changes valid Markdown structure."""

from __future__ import annotations

from contentgen.quality.markdown import parse
from contentgen.quality.tidy import add_sentence, drop_sentences, section_body, tidy_markdown

STRUCTURED = """\
---
title: Solar for Offices
tags: [solar, offices]
---
# Solar for Offices

| Item | Cost |
|---|---|
| Panel | $200 |
| Panel | $200 |

---

- Step one
  - Detail
  - Detail
- Step one

1. First
2. First

```python
print("same line")
print("same line")
```

***

> A quote.
> A quote.

Closing paragraph with a full sentence.
"""


def _blocks(text: str) -> list[tuple[str, int, int]]:
    return [(b.kind, b.start, b.end) for b in parse(text).blocks]


def test_tables_fences_rules_lists_quotes_and_front_matter_survive_byte_for_byte() -> None:
    assert tidy_markdown(STRUCTURED) == STRUCTURED
    assert tidy_markdown(STRUCTURED, cut=True) == STRUCTURED


def test_only_paragraphs_change_and_the_rest_keeps_its_structure() -> None:
    messy = STRUCTURED.replace(
        "Closing paragraph with a full sentence.",
        "Sure! Here is the revised post:\n\nClosing paragraph with a full sentence. "
        "Closing paragraph with a full sentence. <b>Bold</b> words stay.",
    )
    cleaned = tidy_markdown(messy)
    assert cleaned == STRUCTURED.replace(
        "Closing paragraph with a full sentence.",
        "Closing paragraph with a full sentence. Bold words stay.",
    )
    assert [k for k, _, _ in _blocks(cleaned)] == [k for k, _, _ in _blocks(STRUCTURED)]


def test_small_model_prose_is_cleaned() -> None:
    reply = (
        "Sure! Here's a revised version of the section:\n\n"
        "Section: Why Solar\n"
        '"Solar panels cut the bill. They last for decades."\n\n'
        "<p>Solar panels cut the bill.</p> Installers are easy to find.\n\n"
        '{"title": "json debris"}\n\n'
        "Batteries store the surplus for the evening and the night when the"
    )
    assert tidy_markdown(reply, cut=True) == (
        "Solar panels cut the bill. They last for decades.\n\nInstallers are easy to find."
    )


def test_sentences_seen_in_earlier_parts_are_dropped() -> None:
    seen = ["Intro. Solar panels last for decades."]
    assert tidy_markdown("Solar panels last for decades. New text here.", seen=seen) == (
        "New text here."
    )


def test_repeated_eight_word_runs_are_dropped() -> None:
    text = (
        "The best time to install panels is in the early spring season. "
        "Many agree the best time to install panels is in the early spring season too. Done."
    )
    assert tidy_markdown(text) == (
        "The best time to install panels is in the early spring season. Done."
    )


def test_section_body_drops_the_models_copy_of_the_heading_and_demotes_others() -> None:
    reply = "## Why Solar\n\nText here.\n\n## A Sub Point\n\nMore.\n\n# Why Solar\n\nEnd."
    assert section_body(reply, "Why Solar") == "Text here.\n\n### A Sub Point\n\nMore.\n\nEnd."


def test_drop_and_add_sentences_leave_lists_alone() -> None:
    body = "Keep this. Drop this one.\n\n- Drop this one.\n- Keep."
    assert drop_sentences(body, lambda s: s.startswith("Drop")) == (
        "Keep this.\n\n- Drop this one.\n- Keep."
    )
    assert add_sentence(body, "Added.") == (
        "Keep this. Drop this one. Added.\n\n- Drop this one.\n- Keep."
    )
    assert add_sentence("- only a list", "Added.") == "- only a list\n\nAdded."


def test_ordinary_sentences_that_look_like_debris_words_are_kept() -> None:
    """"one line" is debris only as an instruction echo ("..., one line, no quotes")."""
    kept = "We cover one line of products for offices.\n"
    assert tidy_markdown(kept) == kept
    assert tidy_markdown("Line one\nLine two.\n") == "Line one Line two.\n"
    assert tidy_markdown("Solar panels, one line, no quotes. Real text here.\n") == (
        "Real text here.\n"
    )
