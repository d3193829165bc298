"""``write_piece``: modes, the title rule, Markdown kept, truncation, and the repair loop, on a
scripted ``FakeLLM`` behind the real ``Router``."""

from __future__ import annotations

import re
from typing import Any

import pytest

from contentgen.errors import NoncompliantPiece
from contentgen.llm.base import Attempt, Completion, CompletionParams, TextCallback
from contentgen.llm.fake import FakeLLM
from contentgen.models import ContentType
from contentgen.production.writer import piece_result, resolve_mode, write_piece
from contentgen.quality.markdown import word_count

from .conftest import Bind, build

INTRO = (
    "Solar panels on an office roof cut the power bill from the first month. Most small "
    "offices use power in the day, when the sun is up, so little of it goes to waste."
)
WORKS = (
    "Each panel turns light into power that the office uses at once. A small box on the wall "
    "keeps track of what you make and what you use, and any extra goes back to the grid for "
    "credit."
)
CLOSING = (
    "Ask two local installers for a quote this week. Compare the price per watt, the warranty "
    "and the time it takes to pay back, then pick the one that fits your roof."
)
PIECE = (
    f"# Solar Heat for Small Offices\n\n## Introduction\n\n{INTRO}\n\n"
    f"## How It Works\n\n{WORKS}\n\n## Conclusion\n\n{CLOSING}\n"
)
REQUIRED = ["Introduction", "Conclusion"]
STRATEGY = {"content_guidelines": {"min_words": 60, "max_words": 200,
                                   "required_sections": REQUIRED}}  # fmt: skip
WITH_HEAT_PUMP = (
    "Each panel turns light into power that the office uses at once. On cold days a heat "
    "pump can run on that power too, and any extra goes back to the grid for credit."
)


async def test_a_missing_keyword_gets_exactly_the_targeted_call_then_passes(
    bind: Bind, fake: FakeLLM
) -> None:
    built, request = build(STRATEGY, keywords=["heat pump"])
    fake.enqueue(PIECE, WITH_HEAT_PUMP)
    sink: list[Attempt] = []
    piece = await write_piece(bind(request), built, request, attempts_sink=sink, repair_rounds=3)
    assert fake.calls == 2
    repair_prompt = fake.history[1][1]
    assert 'Rewrite the part "How It Works"' in repair_prompt
    assert 'work in the words "heat pump"' in repair_prompt
    assert WORKS in repair_prompt  # the part that failed, not the whole piece
    assert INTRO not in repair_prompt
    assert piece.report.passed and piece.report.repair_rounds == 1
    assert piece.text == PIECE.replace(WORKS, WITH_HEAT_PUMP)
    assert len(sink) == 2


async def test_a_piece_that_never_passes_stops_after_n_rounds_with_its_best_version(
    bind: Bind, fake: FakeLLM
) -> None:
    built, request = build(STRATEGY, keywords=["heat pump", "wind turbine"])
    # round 1 works one keyword in (better); round 2's reply loses the part (kept out)
    fake.enqueue(PIECE, WITH_HEAT_PUMP, "No.")
    sink: list[Attempt] = []
    piece = await write_piece(bind(request), built, request, attempts_sink=sink, repair_rounds=2)
    assert fake.calls == 3 and len(sink) == 3
    assert 'work in the words "heat pump"' in fake.history[1][1]
    assert 'work in the words "wind turbine"' in fake.history[1][1]
    assert 'work in the words "wind turbine"' in fake.history[2][1]
    report = piece.report
    assert report.repair_rounds == 2 and not report.passed
    assert [c.name for c in report.failed] == ["keyword:wind turbine"]
    assert piece.text == PIECE.replace(WORKS, WITH_HEAT_PUMP)
    assert "keyword 'wind turbine' not used" in report.summary()


async def test_the_strategy_can_make_a_failing_piece_fail_the_job(
    bind: Bind, fake: FakeLLM
) -> None:
    strategy = {"content_guidelines": {**STRATEGY["content_guidelines"],
                                       "fail_on_noncompliance": True}}  # fmt: skip
    built, request = build(strategy, keywords=["wind turbine"])
    fake.enqueue(PIECE)
    fake.default = "No."
    sink: list[Attempt] = []
    with pytest.raises(NoncompliantPiece) as info:
        await write_piece(bind(request), built, request, attempts_sink=sink, repair_rounds=1)
    assert info.value.report.failed[0].name == "keyword:wind turbine"
    assert "keyword 'wind turbine' not used" in info.value.message
    assert len(sink) == 2  # the draft and the repair are both recorded


async def test_a_capable_models_markdown_is_kept_as_written(bind: Bind, fake: FakeLLM) -> None:
    rich = PIECE.replace(
        f"{CLOSING}\n",
        f"{CLOSING}\n\n| Size | Cost |\n|---|---|\n| 5 kW | $9,000 |\n| 5 kW | $9,000 |\n\n"
        "---\n\n- Quote\n  - Compare\n  - Compare\n\n```\nsame\nsame\n```\n",
    )
    built, request = build(STRATEGY)
    fake.enqueue(rich)
    piece = await write_piece(bind(request), built, request, attempts_sink=[], repair_rounds=0)
    assert piece.text == rich


async def test_the_title_is_the_h1_or_a_generated_one_never_a_promoted_h2(
    bind: Bind, fake: FakeLLM
) -> None:
    built, request = build(STRATEGY)
    fake.enqueue(PIECE.replace("# Solar Heat for Small Offices\n\n", ""))
    piece = await write_piece(bind(request), built, request, attempts_sink=[], repair_rounds=0)
    assert piece.title == "Solar Panels for Small Offices"  # from the topic
    assert piece.text.startswith("# Solar Panels for Small Offices\n\n## Introduction\n")
    assert piece.text.count("Introduction") == 1


async def test_the_small_model_path_tidies_and_the_capable_path_does_not(
    bind: Bind, fake: FakeLLM
) -> None:
    chatty = PIECE.replace(f"{INTRO}\n", f"Sure! Here is the post:\n\n{INTRO} {INTRO}\n")
    for model, tidied in (("local/smollm2", True), ("openai/gpt-4o-mini", False)):
        built, request = build(STRATEGY, model=model, mode="single")
        fake.enqueue(chatty)
        piece = await write_piece(bind(request), built, request, attempts_sink=[],
                                  repair_rounds=0)  # fmt: skip
        if tidied:
            assert "Sure!" not in piece.text and piece.text.count(INTRO) == 1
        else:
            assert piece.text == chatty


class _Finishing(FakeLLM):
    """A FakeLLM whose replies end with the given finish reasons, in order."""

    def __init__(self, reasons: list[str], replies: list[str]) -> None:
        super().__init__(replies)
        self.reasons = reasons

    async def complete(self, prompt: str, *, model: str, params: CompletionParams | None = None,
                       on_text: TextCallback | None = None) -> Completion:  # fmt: skip
        self.finish_reason = self.reasons.pop(0) if self.reasons else "stop"
        return await super().complete(prompt, model=model, params=params, on_text=on_text)


async def test_a_piece_cut_by_length_is_flagged_then_repaired(settings: Any) -> None:
    from contentgen.llm.router import Router

    cut = PIECE.replace(CLOSING, "Ask two local installers for a quote this week. Compare the")
    built, request = build(STRATEGY)
    llm = _Finishing(["length"], [cut])
    call = Router(settings, overrides={"*": llm}).bind(request)
    piece = await write_piece(call, built, request, attempts_sink=[], repair_rounds=0)
    assert piece.truncated
    assert piece.report.check("complete").passed is False  # type: ignore[union-attr]
    result = piece_result(piece, [], built.plan.keywords, 5)
    assert result.metadata.truncated and "finish_reason=length" in (result.metadata.seo_notes or "")

    llm = _Finishing(["length", "stop"], [cut, CLOSING])
    call = Router(settings, overrides={"*": llm}).bind(request)
    piece = await write_piece(call, built, request, attempts_sink=[], repair_rounds=1)
    repair = llm.history[1][1]
    assert "it was cut off" in repair and 'Rewrite the part "Conclusion"' in repair
    assert not piece.truncated and piece.report.passed and piece.text == PIECE


# --- modes --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "strategy", "request_mode", "expected"),
    [
        ("openai/gpt-4o-mini", None, None, "single"),
        ("local/smollm2", None, None, "sections"),
        ("openai/gpt-4o-mini", "sections", None, "sections"),
        ("local/smollm2", "single", None, "single"),
        ("local/smollm2", "single", "sections", "sections"),
        ("openai/gpt-4o-mini", "sections", "single", "single"),
    ],
)
def test_mode_is_the_requests_else_the_strategys_else_the_models(
    bind: Bind, model: str, strategy: str | None, request_mode: str | None, expected: str
) -> None:
    config = {"content_guidelines": {"generation_mode": strategy}} if strategy else {}
    built, request = build(config, model=model, mode=request_mode)
    assert resolve_mode(bind(request), built, request) == expected


SECTIONS_STRATEGY = {
    "content_guidelines": {"min_words": 250, "max_words": 450,
                           "required_sections": ["Introduction", "Our Process", "Conclusion"]},
    "seo_focus": {"meta_description_length": 150},
}  # fmt: skip


def _reply_for(prompt: str) -> str:
    """A well-behaved section writer: as many words as asked, once per part."""
    if prompt.startswith("A title, then "):
        return "1. A Heading (introduction)\nSolar Savings Explained\nPicking an Installer"
    if prompt.startswith("Write one sentence of under"):
        return "Solar panels help small offices cut power bills, and this guide shows how to start."
    match = re.search(r'\(in about (\d+) words\) (?:to open|for the part "([^"]+)")', prompt)
    assert match, prompt
    name, budget = match.group(2) or "opening", int(match.group(1))
    words = [f"{name.split()[0].lower()}word{i % 7}" for i in range(budget - 6)]
    return " ".join(words) + f" ends the {name} part here."


def _answer_by_prompt(fake: FakeLLM) -> list[str]:
    """Make ``fake`` answer each prompt with ``_reply_for`` it; returns the prompts it gets."""
    replies: list[str] = []
    original = fake.complete

    async def scripted(prompt: str, **kwargs: Any) -> Completion:
        fake.enqueue(_reply_for(prompt))
        replies.append(prompt)
        return await original(prompt, **kwargs)

    fake.complete = scripted  # type: ignore[method-assign]
    return replies


async def test_sections_mode_enforces_title_sections_order_intro_and_conclusion(
    bind: Bind, fake: FakeLLM
) -> None:
    built, request = build(SECTIONS_STRATEGY, keywords=["solar"], model="local/smollm2")
    call = bind(request)
    replies = _answer_by_prompt(fake)
    piece = await write_piece(call, built, request, attempts_sink=[], repair_rounds=0)
    headings = re.findall(r"^(#+) (.+)$", piece.text, re.MULTILINE)
    assert headings[0] == ("#", "Solar Panels for Small Offices")
    names = [h for level, h in headings if level == "##"]
    # a small model gets no outline call: title from the topic, body headings by code (none
    # with the keyword: the title has it)
    assert not [p for p in replies if p.startswith("A title, then ")]
    assert names == ["Introduction", "Our Process", "What to Know About It", "How It Works",
                     "Conclusion"]  # fmt: skip
    # a small model's meta description comes from the opening, by code (no call)
    meta = piece.text.rstrip().rsplit("\n", 1)[-1]
    assert meta.startswith("Meta description: introductionword0 ") and len(meta) <= 18 + 150
    assert 250 <= word_count(piece.text) <= 450
    section_prompts = [p for p in replies if "for the part" in p]
    assert not [p for p in replies if p.startswith("Write one sentence of under")]
    assert "Before this: introductionword0 " in section_prompts[1]  # what came before
    assert piece.report.check("sections").passed  # type: ignore[union-attr]
    assert piece.report.check("section_order").passed  # type: ignore[union-attr]


async def test_a_capable_model_in_sections_mode_gets_an_outline_call(
    bind: Bind, fake: FakeLLM
) -> None:
    longer = {**SECTIONS_STRATEGY, "content_guidelines": {
        **SECTIONS_STRATEGY["content_guidelines"], "min_words": 600, "max_words": 900}}  # fmt: skip
    built, request = build(longer, keywords=["solar"], mode="sections")
    replies = _answer_by_prompt(fake)
    piece = await write_piece(bind(request), built, request, attempts_sink=[], repair_rounds=0)
    assert replies[0].startswith("A title, then ")
    names = re.findall(r"^## (.+)$", piece.text, re.MULTILINE)
    # the outline's first line (no title) and its bad heading were refused; its good ones kept
    assert names == ["Introduction", "Our Process", "Solar Savings Explained",
                     "Picking an Installer", "Conclusion"]  # fmt: skip


@pytest.mark.parametrize(("low", "high"), [(150, 250), (600, 900)])
async def test_section_budgets_follow_the_strategys_length(
    bind: Bind, fake: FakeLLM, low: int, high: int
) -> None:
    strategy = {"content_guidelines": {"min_words": low, "max_words": high,
                                       "required_sections": REQUIRED}}  # fmt: skip
    built, request = build(strategy, model="local/smollm2")
    fake.default = "Some words here."
    await write_piece(bind(request), built, request, attempts_sink=[], repair_rounds=0)
    prompts = dict.fromkeys(p for _, p in fake.history)  # a part may be asked twice
    budgets = [int(b) for p in prompts for b in re.findall(r"in about (\d+) words", p)]
    total = sum(budgets)
    target = (low + high) // 2
    assert 0.8 * target <= total + 12 <= 1.1 * target, budgets
    assert len(set(budgets)) > 1 or len(budgets) == 1
    assert all(b != 40 for b in budgets)


async def test_a_social_post_in_sections_mode_is_one_call(bind: Bind, fake: FakeLLM) -> None:
    built, request = build({}, content_type=ContentType.SOCIAL, model="local/smollm2",
                           keywords=["solar"])  # fmt: skip
    post = ("Solar panels pay for themselves within a few years on most office roofs. "
            "Ask us how today! #solar")
    fake.enqueue(post)
    piece = await write_piece(bind(request), built, request, attempts_sink=[], repair_rounds=0)
    assert fake.calls == 1 and "a hook line" in fake.history[0][1]
    assert piece.text == f"# Solar Panels for Small Offices\n\n{post}\n"


async def test_chatter_before_the_title_is_dropped_by_code(bind: Bind, fake: FakeLLM) -> None:
    built, request = build(STRATEGY)
    fake.enqueue("Here is the revised blog post:\n\n" + PIECE)
    piece = await write_piece(bind(request), built, request, attempts_sink=[], repair_rounds=1)
    assert fake.calls == 1  # no call needed: code removes it
    assert piece.report.passed and piece.text == PIECE


async def test_a_short_social_post_is_expanded(bind: Bind, fake: FakeLLM) -> None:
    built, request = build({}, content_type=ContentType.SOCIAL, model="local/smollm2")
    short = "Solar panels pay for themselves within a few years on most office roofs."
    more = "Ask us for a free roof check this week and see what you could save. #solar"
    fake.enqueue(short, more)
    piece = await write_piece(bind(request), built, request, attempts_sink=[], repair_rounds=1)
    assert fake.calls == 2 and "to open the social media post" in fake.history[1][1]
    assert piece.text == f"# Solar Panels for Small Offices\n\n{short}\n\n{more}\n"
    assert piece.report.check("word_count").passed  # type: ignore[union-attr]


async def test_a_crashing_repair_keeps_the_piece(
    bind: Bind, fake: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    import structlog

    from contentgen.production import writer

    async def broken(*args: object) -> object:
        raise RuntimeError("bug")

    monkeypatch.setattr(writer, "apply", broken)
    built, request = build(STRATEGY, keywords=["heat pump"])
    fake.enqueue(PIECE)
    with structlog.testing.capture_logs() as logs:
        piece = await write_piece(bind(request), built, request, attempts_sink=[],
                                  repair_rounds=2)  # fmt: skip
    assert piece.text == PIECE and not piece.report.passed
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["repair_crashed"]


async def test_a_small_models_keyword_stuffing_and_forbidden_words_are_cut_by_code(
    bind: Bind, fake: FakeLLM
) -> None:
    strategy = {**STRATEGY, "seo_focus": {"keyword_density": 1.0}}
    built, request = build(strategy, keywords=["heat pump"], model="local/smollm2",
                           mode="single",
                           preferences={"forbidden_phrases": "game changer"})  # fmt: skip
    stuffed = PIECE.replace(INTRO, INTRO + " A heat pump is quiet.").replace(
        WORKS, WORKS + " The heat pump is a game changer. Every heat pump saves money. "
        "A good heat pump lasts for years."
    )
    fake.enqueue(stuffed)
    piece = await write_piece(bind(request), built, request, attempts_sink=[], repair_rounds=2)
    assert fake.calls == 1  # no call: code thinned it
    assert piece.report.passed, piece.report.summary()
    assert "game changer" not in piece.text
    assert piece.text.count("heat pump") == 1


# --- one targeted fix per failed check -------------------------------------------------------
THREE = {"content_guidelines": {
    "min_words": 60, "max_words": 250,
    "required_sections": ["Introduction", "Our Process", "Conclusion"],
}}  # fmt: skip
PROCESS = ("We visit the office, measure the roof and the power you use, and send a fixed quote "
           "within two days, with the savings worked out month by month.")  # fmt: skip


async def test_sections_out_of_order_are_put_back_by_code_and_a_missing_one_written(
    bind: Bind, fake: FakeLLM
) -> None:
    swapped = (f"# Solar Heat for Small Offices\n\n## Conclusion\n\n{CLOSING}\n\n"
               f"## How It Works\n\n{WORKS}\n\n## Introduction\n\n{INTRO}\n")  # fmt: skip
    built, request = build(THREE)
    fake.enqueue(swapped, PROCESS)
    piece = await write_piece(bind(request), built, request, attempts_sink=[], repair_rounds=1)
    assert fake.calls == 2 and 'for the part "Our Process"' in fake.history[1][1]
    headings = re.findall(r"^## (.+)$", piece.text, re.MULTILINE)
    assert headings == ["Introduction", "Our Process", "How It Works", "Conclusion"]
    assert PROCESS in piece.text and piece.report.passed


async def test_a_debris_title_gets_a_title_call(bind: Bind, fake: FakeLLM) -> None:
    built, request = build(STRATEGY)
    fake.enqueue(PIECE.replace("# Solar Heat for Small Offices", "# [Markdown: # 1]"),
                 "Solar Panels That Pay Off for Small Offices")  # fmt: skip
    piece = await write_piece(bind(request), built, request, attempts_sink=[], repair_rounds=1)
    assert fake.history[1][1].startswith("Write a title for a blog post about: Solar panels")
    assert piece.title == "Solar Panels That Pay Off for Small Offices"
    assert piece.text.startswith("# Solar Panels That Pay Off for Small Offices\n")


async def test_a_short_piece_gets_expand_by_n_words(bind: Bind, fake: FakeLLM) -> None:
    strategy = {"content_guidelines": {**STRATEGY["content_guidelines"], "min_words": 150,
                                       "max_words": 250}}  # fmt: skip
    built, request = build(strategy)
    extra = (
        "Most systems pay for themselves in six to eight years, and panels keep working for "
        "twenty-five years or more, so the rest is savings for the office and its owner. "
        "Ask for the yield of a similar roof nearby: a good installer has the numbers and will "
        "share them."
    )
    fake.enqueue(PIECE, extra)
    piece = await write_piece(bind(request), built, request, attempts_sink=[], repair_rounds=1)
    expand = fake.history[1][1]
    match = re.search(r"\(in about (\d+) words\) more for the part \"(\w+)\"", expand)
    assert match and int(match.group(1)) >= 36  # the words missing to the range's middle
    part = {"Introduction": INTRO, "Conclusion": CLOSING}[match.group(2)]  # a shortest part
    assert part in expand  # the part as it stands, to add to
    assert f"{part}\n\n{extra}" in piece.text
    assert piece.report.check("word_count").passed  # type: ignore[union-attr]


async def test_a_missing_meta_description_gets_a_meta_call(bind: Bind, fake: FakeLLM) -> None:
    strategy = {**STRATEGY, "seo_focus": {"meta_description_length": 150}}
    built, request = build(strategy)
    meta = "How solar panels cut an office's power bill from the first month, and what to ask."
    fake.enqueue(PIECE, meta)
    piece = await write_piece(bind(request), built, request, attempts_sink=[], repair_rounds=1)
    assert fake.history[1][1].startswith("Write one sentence of under 150 characters")
    assert piece.text.endswith(f"\n\nMeta description: {meta}\n") and piece.report.passed


def test_outline_headings_that_repeat_the_title_or_a_keyword_are_refused() -> None:
    from contentgen.quality.sections import acceptable_heading

    title = "Baking Sourdough Bread at Home"
    assert not acceptable_heading("Baking Sourdough Bread at Home", [], avoid=[title])
    assert not acceptable_heading("Sourdough Bread Basics", ["Why Sourdough Bread Matters"],
                                  keywords=["sourdough bread"])  # fmt: skip
    assert not acceptable_heading("1. Introduction (section)", [])
    assert acceptable_heading("Feeding Your Starter", ["Why Sourdough Bread Matters"],
                              avoid=[title], keywords=["sourdough bread"])  # fmt: skip


async def test_words_code_drops_are_made_up_in_the_same_round(bind: Bind, fake: FakeLLM) -> None:
    # thinning a too-dense keyword takes the piece under its range: the same round expands
    # the shortest part (else the round trades one failed check for another and is not kept)
    strategy = {"content_guidelines": {**STRATEGY["content_guidelines"], "min_words": 130,
                                       "max_words": 250},
                "seo_focus": {"keyword_density": 1.0}}  # fmt: skip
    built, request = build(strategy, keywords=["heat pump"], model="local/smollm2",
                           mode="single")  # fmt: skip
    stuffed = PIECE.replace(INTRO, INTRO + " A heat pump is quiet.").replace(
        WORKS, WORKS + " The heat pump is a good buy. Every heat pump saves money. "
        "A good heat pump lasts for years."
    )
    extra = ("Most systems pay for themselves in six to eight years, and panels keep working "
             "for twenty-five years or more, so the rest is savings for the office.")  # fmt: skip
    fake.enqueue(stuffed, extra)
    piece = await write_piece(bind(request), built, request, attempts_sink=[], repair_rounds=1)
    assert fake.calls == 2 and "short paragraph" in fake.history[1][1]
    assert piece.report.passed, piece.report.summary()
    assert extra in piece.text and piece.text.count("heat pump") == 1


def test_trimming_a_small_models_part_reaches_past_its_last_paragraph() -> None:
    from contentgen.quality.fixes import _trim

    body = ("Heat pumps move heat instead of making it. They work well in mild weather. They "
            "cost less to run than a boiler.\n\nA heat pump suits an older house too.")  # fmt: skip
    trimmed = _trim(body, 10, ["heat pump"])
    assert trimmed == ("Heat pumps move heat instead of making it.\n\n"
                       "A heat pump suits an older house too.")  # fmt: skip


async def test_a_small_models_thin_extra_section_is_dropped_by_code(
    bind: Bind, fake: FakeLLM
) -> None:
    built, request = build(STRATEGY, model="local/smollm2", mode="single")
    thin = PIECE.replace("## Conclusion", "## Extra Tips\n\nPanels like sun.\n\n## Conclusion")
    fake.enqueue(thin)
    piece = await write_piece(bind(request), built, request, attempts_sink=[], repair_rounds=1)
    assert fake.calls == 1  # no expansion call: three sections with text remain
    assert piece.report.passed, piece.report.summary()
    assert "Extra Tips" not in piece.text and piece.text == PIECE


async def test_a_thin_required_section_is_expanded_not_dropped(
    bind: Bind, fake: FakeLLM
) -> None:
    built, request = build(STRATEGY, model="local/smollm2", mode="single")
    thin = PIECE.replace(CLOSING, "Call us today.")
    fake.enqueue(thin, CLOSING)
    piece = await write_piece(bind(request), built, request, attempts_sink=[], repair_rounds=1)
    assert fake.calls == 2 and 'for the part "Conclusion"' in fake.history[1][1]
    assert "## Conclusion" in piece.text and CLOSING in piece.text
