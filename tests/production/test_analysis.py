from __future__ import annotations

from contentgen.instructions.builder import WritingPlan
from contentgen.production.analysis import (
    check_compliance,
    drop_repeats,
    ensure_title,
    first_heading,
    keyword_density,
    keywords_used,
    make_title,
    word_count,
)


def test_word_count_ignores_markdown_markers() -> None:
    assert word_count("# Solar Power\n\n## Why\n\n- It's cheap, and *clean*.") == 7


def test_first_heading_and_fallback_title() -> None:
    assert first_heading("intro\n\n# **Solar for Offices** \n\ntext") == "Solar for Offices"
    assert first_heading("no heading here") is None
    assert make_title("why solar panels pay off for a small office.") == (
        "Why Solar Panels Pay Off for a Small Office"
    )


def test_keywords_used_matches_whole_words_and_phrases_case_insensitively() -> None:
    text = "Solar panels are great. A heat   pump too. Solaris is not a keyword."
    assert keywords_used(text, ["solar", "Heat Pump", "wind", "sola"]) == ["solar", "Heat Pump"]


def test_keyword_density_per_hundred_words() -> None:
    text = " ".join(["solar"] * 2 + ["word"] * 98)
    assert keyword_density(text, "solar") == 2.0
    assert keyword_density("", "solar") == 0.0


def test_drop_repeats_removes_looping_sentences_but_keeps_markdown_structure() -> None:
    text = (
        "# T\n\n## A\n\nThe sun is good for you. The sun is good for you. Wind too.\n\n"
        "| a |\n|---|\n| 1 |\n| 1 |\n\n---\n\n- x\n- x\n\n## B\n\nThe sun is good for you.\n"
    )
    assert drop_repeats(text) == (
        "# T\n\n## A\n\nThe sun is good for you. Wind too.\n\n"
        "| a |\n|---|\n| 1 |\n| 1 |\n\n---\n\n- x\n- x\n\n## B\n"
    )


def test_ensure_title_adds_heading_only_when_missing() -> None:
    assert ensure_title("body", "Title") == "# Title\n\nbody"
    assert ensure_title("\n# Own\nbody", "Title") == "# Own\nbody"


def test_compliance_names_missing_sections_unused_keywords_and_range() -> None:
    plan = WritingPlan(["Intro", "FAQ"], 10, 20, 15, ["solar", "wind"])
    text = "# T\n\n## Intro\n\nsolar " + "word " * 3
    notes = check_compliance(text, plan, word_count(text)).notes
    assert notes[0].startswith("6 words (target 10-20)")
    assert "below the minimum word count" in notes
    assert "missing sections: FAQ" in notes
    assert "keywords not used: wind" in notes
