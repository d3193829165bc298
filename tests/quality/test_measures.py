"""Every measure on fixed texts with known answers."""

from __future__ import annotations

import pytest

from contentgen.quality import measures as m
from contentgen.quality.markdown import parse, sentences, split_front_matter, word_count


# --- structure ------------------------------------------------------------------------------
def test_word_count_skips_markers_front_matter_code_urls_and_the_meta_line() -> None:
    text = (
        "---\ntitle: Not Counted Here\n---\n"
        "# Solar Power\n\n## Why\n\n- It's cheap, and *clean*: see https://example.com/x.\n\n"
        "```\nnot counted either\n```\n\nMeta description: not counted at all in the body.\n"
    )
    assert word_count(text) == 8  # Solar Power Why It's cheap and clean see


def test_word_count_counts_table_cells_and_link_text() -> None:
    assert word_count("| a | b |\n|---|---|\n| one | two |\n\nSee [the guide](http://x.io).") == 7


def test_front_matter_needs_a_closing_line_and_a_mapping() -> None:
    assert split_front_matter("---\ntitle: A\n---\n# T\n")[0] == "---\ntitle: A\n---\n"
    assert split_front_matter("---\n\nText after a rule.\n")[0] == ""
    assert split_front_matter("---\njust words\n---\n")[0] == ""


def test_headings_in_code_fences_are_not_headings() -> None:
    doc = parse("# Title\n\n```\n# not a heading\n```\n\nSub\n---\n")
    assert [(h.level, h.text) for h in doc.headings] == [(1, "Title"), (2, "Sub")]


def test_sentences_keep_their_punctuation() -> None:
    assert sentences('He said "yes." Then left! Why? e.g. this') == [
        'He said "yes."', "Then left!", "Why? e.g. this"
    ]


# --- title ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("title", "problem"),
    [
        ("[Markdown: # 1]", "debris"),
        ("---Dedicated Markdown", "debris"),
        ("Solar panels, one line, no quot", "debris"),
        ("Title: Solar panels for offices", "debris"),
        ("https://example.com/solar-panels", "URL"),
        ("Read more at solarpanels.com today", "URL"),
        ("A title that simply goes on and on far past the fourteen words that a title may have",
         "words"),
        ("Solar", "fewer than 2"),
        (None, "no title"),
        ("   ", "no title"),
    ],
)
def test_bad_titles_are_named(title: str | None, problem: str) -> None:
    problems = m.title_problems(title)
    assert problems and any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    "title",
    ["Solar Panels for Small Offices", "Why Heat Pumps Pay Off in Winter",
     "10 Questions to Ask Your Roofer"],
)  # fmt: skip
def test_sane_titles_pass(title: str) -> None:
    assert m.title_problems(title) == []


def test_a_debris_word_in_the_topic_is_allowed_in_the_title() -> None:
    assert m.title_problems("Markdown Tips for Writers") != []
    assert m.title_problems("Markdown Tips for Writers", allowed="markdown tips") == []


# --- sections ---------------------------------------------------------------------------------
def test_required_sections_found_in_any_case_and_with_a_subtitle() -> None:
    doc = parse("# T\n\n## introduction\n\nx\n\n## Services: what we do\n\nx\n\n## Contact\n")
    found = m.section_positions(doc, ["Introduction", "Services", "Contact Us"])
    assert found == {"Introduction": 0, "Services": 1}


def test_section_order() -> None:
    doc = parse("# T\n\n## Conclusion\n\n## Body\n\n## Introduction\n")
    positions = m.section_positions(doc, ["Introduction", "Conclusion"])
    assert m.in_order(positions, ["Introduction", "Conclusion"]) == ["Conclusion"]
    assert m.in_order({"Introduction": 0, "Conclusion": 2}, ["Introduction", "Conclusion"]) == []


def test_section_texts_count_each_sections_prose() -> None:
    doc = parse("# T\n\n## A\n\none two three\n\n### Deeper\n\nfour\n\n## B\n\n## C\n\nfive six\n")
    assert [(s.heading, s.words) for s in m.section_texts(doc)] == [("A", 5), ("B", 0), ("C", 2)]


# --- keywords ---------------------------------------------------------------------------------
def test_keywords_match_whole_words_only() -> None:
    text = "The carpet is new. A scar. Car-free streets. My car and two cars."
    assert m.keyword_hits(text, "car") == 2  # "car", "cars" (not carpet, scar, car-free)
    assert m.keyword_hits("Solaris is not solar-ish", "solar") == 0


def test_keyword_phrases_match_across_spaces_hyphens_and_case() -> None:
    text = "Wood-fired pizza, wood fired  PIZZA and woodfired pizza."
    assert m.keyword_hits(text, "wood-fired pizza") == 2


def test_keyword_density_is_the_keywords_share_of_words() -> None:
    text = " ".join(["solar"] * 2 + ["word"] * 98)
    assert m.keyword_density(text, "solar") == 2.0
    assert m.keyword_density("heat pump " + "word " * 98, "heat pump") == 2.0
    assert m.keyword_density("", "solar") == 0.0
    assert m.density_band(1.5) == (0.75, 3.0)


# --- readability ------------------------------------------------------------------------------
def test_reading_ease_of_plain_prose() -> None:
    doc = parse("The cat sat on the mat. It was a sunny day and the dog ran far away.")
    assert m.reading_ease(doc.prose) == 103.7


def test_markdown_and_urls_are_stripped_before_readability() -> None:
    plain = parse("The cat sat on the mat. It was a sunny day and the dog ran far away.")
    marked = parse(
        "**The cat** sat on [the mat](https://example.com/a-very-long-address/with-parts). "
        "It was a *sunny* day and the dog ran far away https://example.org/more."
    )
    assert m.reading_ease(marked.prose) == m.reading_ease(plain.prose)


def test_hard_prose_scores_low() -> None:
    doc = parse(
        "Notwithstanding considerable organizational heterogeneity, implementation "
        "methodologies necessitate comprehensive interdepartmental documentation."
    )
    ease = m.reading_ease(doc.prose)
    assert ease is not None and ease < 0
    assert m.reading_ease([]) is None


# --- repetition -------------------------------------------------------------------------------
def test_duplicate_sentences_and_repeated_8_grams() -> None:
    doc = parse(
        "Solar panels cut the bill every month. Wind helps too.\n\n"
        "Solar panels cut the bill every month.\n\n"
        "In the end the roof of the house is the best place for panels. "
        "Many say the roof of the house is the best place for panels as well."
    )
    found = m.repeated_passages(doc.prose)
    assert [(p.text, p.prose_index) for p in found] == [
        ("Solar panels cut the bill every month.", 1),
        ("the roof of the house is the best place for panels", 2),
    ]


def test_no_repetition_in_varied_text() -> None:
    doc = parse("One idea here. Another idea there.\n\nA third thought, quite different.")
    assert m.repeated_passages(doc.prose) == []


# --- citations, forbidden phrases, echo, truncation ----------------------------------------
@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("See [the study](https://example.org/study).", 1),
        ("According to the IEA, solar grew.", 1),
        ("Costs fell (Smith, 2021).", 1),
        ("A study by MIT found it.", 1),
        ("Sources: the IEA yearbook.", 1),
        ("Solar is good and cheap.", 0),
    ],
)
def test_citations(text: str, count: int) -> None:
    assert m.citation_count(text) == count


def test_forbidden_phrases_whole_words_any_case() -> None:
    text = "This is a Game Changer. Synergies abound."
    assert m.forbidden_found(text, ["game changer", "synergy", "abounds"]) == ["game changer"]


def test_prompt_echo_by_shared_six_words_and_instruction_debris() -> None:
    prompt = "Write a blog post in Markdown about: solar panels. Use these keywords naturally."
    grams = m.instruction_ngrams((prompt,), ("solar panels",))
    assert m.echoes(["Solar panels are cheap."], grams) == []
    assert m.echoes(["So we write a blog post in the end, about it."], grams) == []
    assert m.echoes(["We write a blog post in markdown about it."], grams) != []
    assert m.echoes(["Use these keywords naturally: pizza, oven."], set()) != []
    assert m.echoes(["Length: 600 to 1200 words.", "{{ topic }}"], set()) == [
        "Length:", "{{"
    ]
    assert m.echoes(["Title: Solar", "Here's a revised version of the post:"], set()) != []
    # the topic is no echo even though the prompt has it
    assert m.echoes(["Write a blog post about solar panels"], grams) == []


def test_a_piece_ending_mid_sentence_is_seen_as_cut() -> None:
    assert m.ends_mid_sentence(parse("# T\n\nIt is your go-to for"))
    assert not m.ends_mid_sentence(parse("# T\n\nIt ends well."))
    assert not m.ends_mid_sentence(parse("Try it today #solar"))
    assert not m.ends_mid_sentence(parse("# T\n\n- a list\n- ends"))
