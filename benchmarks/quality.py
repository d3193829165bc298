"""Quality on the embedded model: how many pieces meet their strategy, at what cost.

Run: python benchmarks/quality.py [--topics 20] [--configs single,sections,repair]
         [--rounds 2] [--json results.json]
Needs the embedded model (pip install 'contentgen[local]'). Slow: about 10-20 minutes for 20
topics and the three configurations on 2 cores.

20 topics with strategies of the kinds an agency runs (blog posts with Introduction and
Conclusion, local pages with Services and Contact, social posts; word ranges, keywords with and
without a density target, meta descriptions, citations, forbidden phrases) are written by the
embedded model (SmolLM2-135M) in three configurations:

- ``single``: the client's whole prompt in one call (what a capable model gets);
- ``sections``: one call per part with its word budget (the outline call a capable model
  gets is skipped for the embedded model: title and headings by code); no repair;
- ``repair``: ``sections`` plus up to ``--rounds`` repair rounds.

For each: the pass rate of every check (``keyword:*`` checks pooled as ``keywords``), the share
of topics that pass every check, and tokens (input + output, every attempt) and seconds per
piece. Acceptance (issue 11): ``repair`` passes >= 90% of topics in full at <= 3x the tokens of
``single``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contentgen.cache.memory import MemoryCache
from contentgen.client.local import Client
from contentgen.llm.base import Attempt
from contentgen.models import ContentRequest
from contentgen.production.writer import write_piece
from contentgen.quality.report import Check, ComplianceReport
from contentgen.settings import Settings
from contentgen.storage.memory import MemoryStorage

BLOG = {"min_words": 280, "max_words": 420, "required_sections": ["Introduction", "Conclusion"]}
LOCAL = {"min_words": 220, "max_words": 380, "required_sections": ["Services", "Contact Us"]}
SOCIAL = {"min_words": 30, "max_words": 70}
TONES = [
    {"formality": "professional", "voice": "friendly", "engagement": "informative"},
    {"formality": "casual", "voice": "warm", "engagement": "playful"},
    {"formality": "professional", "voice": "confident", "engagement": "practical"},
]


@dataclass(frozen=True)
class Topic:
    client: str
    content_type: str
    topic: str
    keywords: list[str]
    guidelines: dict[str, Any]
    seo: dict[str, Any] = field(default_factory=dict)
    forbidden: str = ""


TOPICS = [
    Topic("greenroof", "blog", "how solar panels cut energy bills for small offices",
          ["solar panels"], BLOG, {"meta_description_length": 155}),
    Topic("greenroof", "blog", "choosing a heat pump for an older house", ["heat pump"],
          {**BLOG, "citation_required": True}, {"meta_description_length": 155}),
    Topic("bakery", "blog", "baking sourdough bread at home for beginners",
          ["sourdough bread"], BLOG, {"keyword_density": 1.0}, "game changer"),
    Topic("fitco", "blog", "a simple weekly running plan for new runners", ["running plan"],
          BLOG, {"meta_description_length": 160}),
    Topic("petcare", "blog", "how to keep your dog calm during fireworks", ["dog"],
          {**BLOG, "required_sections": ["Introduction", "Why Dogs Fear Fireworks",
                                         "Conclusion"]}, {}),
    Topic("moneywise", "blog", "saving for retirement in your thirties", ["retirement savings"],
          {**BLOG, "citation_required": True}, {"keyword_density": 1.0}),
    Topic("travelco", "blog", "packing light for a week in Europe", ["packing list"], BLOG,
          {"meta_description_length": 155}, "must-see"),
    Topic("gardenly", "blog", "growing tomatoes on a small balcony", ["tomatoes", "balcony"],
          BLOG, {}),
    Topic("fixit", "local", "emergency plumbing repairs in Denver", ["plumber in Denver"],
          LOCAL, {}),
    Topic("brightsmile", "local", "family dental care in Austin", ["dentist in Austin"],
          LOCAL, {"meta_description_length": 155}),
    Topic("greenroof", "local", "roof repair and inspections in Portland",
          ["roof repair Portland"], LOCAL, {}),
    Topic("pawspa", "local", "dog grooming in Brooklyn", ["dog grooming"],
          {**LOCAL, "required_sections": ["Services", "Prices", "Contact Us"]}, {}),
    Topic("fitco", "local", "personal training in Chicago", ["personal trainer"], LOCAL,
          {"keyword_density": 1.0}, "world-class"),
    Topic("bakery", "local", "wedding cakes in Seattle", ["wedding cakes"], LOCAL,
          {"meta_description_length": 160}),
    Topic("bakery", "social", "our new cinnamon rolls are out of the oven",
          ["cinnamon rolls"], SOCIAL),
    Topic("fitco", "social", "join our free Saturday morning run club", ["run club"], SOCIAL),
    Topic("greenroof", "social", "spring discount on solar panel installation",
          ["solar panels"], SOCIAL, {}, "game changer"),
    Topic("petcare", "social", "tips for walking your dog in hot weather", ["dog"], SOCIAL),
    Topic("travelco", "social", "last-minute deals on weekend trips to Lisbon", ["Lisbon"],
          SOCIAL),
    Topic("moneywise", "social", "five minutes a week to check your budget", ["budget"],
          SOCIAL),
]

CONFIGS = {"single": ("single", 0), "sections": ("sections", 0), "repair": ("sections", None)}


@dataclass
class Outcome:
    topic: Topic
    config: str
    report: ComplianceReport
    tokens: int
    calls: int
    seconds: float
    words: int
    text: str = ""


async def setup(cg: Client, topics: list[Topic]) -> None:
    done: set[str] = set()
    for index, item in enumerate(topics):
        if item.client in done:
            continue
        done.add(item.client)
        await cg.add_client(item.client)
        await cg.set_strategy(item.client, {
            "content_guidelines": {"citation_required": False},
            "tone": TONES[index % len(TONES)],
        })  # fmt: skip


async def run_one(cg: Client, item: Topic, config: str, rounds: int) -> Outcome:
    mode, fixed = CONFIGS[config]
    # each topic's own strategy (a client may carry several: set it before each piece)
    await cg.set_strategy(item.client, {
        "content_guidelines": {**item.guidelines, "citation_required":
                               item.guidelines.get("citation_required", False)},
        "seo_focus": item.seo,
        "tone": TONES[len(item.topic) % len(TONES)],
    })  # fmt: skip
    if item.forbidden:
        await cg.set_preference(item.client, "forbidden_phrases", item.forbidden)
    request = await cg.make_request(item.client, topic=item.topic,
                                    content_type=item.content_type, keywords=item.keywords,
                                    length="short", model="local/smollm2", mode=mode)  # fmt: skip
    assert isinstance(request, ContentRequest)
    built = await cg.instructions.build(request.prompt_request())
    call = cg.router.bind(request)
    sink: list[Attempt] = []
    started = time.perf_counter()
    piece = await write_piece(call, built, request, attempts_sink=sink,
                              repair_rounds=rounds if fixed is None else fixed)  # fmt: skip
    seconds = time.perf_counter() - started
    if item.forbidden:
        await cg.remove_preference(item.client, "forbidden_phrases")
    check = piece.report.check("word_count")
    return Outcome(item, config, piece.report, sum(a.input_tokens + a.output_tokens for a in sink),
                   len(sink), seconds, int(check.measured or 0) if check else 0,
                   piece.text)  # fmt: skip


def pooled(name: str) -> str:
    return "keywords" if name.startswith("keyword:") else name


def table(outcomes: list[Outcome], configs: list[str]) -> str:
    names: list[str] = []
    for o in outcomes:
        for c in o.report.checks:
            if pooled(c.name) not in names:
                names.append(pooled(c.name))
    rows = ["| check | " + " | ".join(configs) + " |", "|---|" + "---|" * len(configs)]
    for name in names:
        cells = []
        for config in configs:
            runs = Counter[bool]()
            for o in outcomes:
                if o.config == config:
                    for c in o.report.checks:
                        if pooled(c.name) == name:
                            runs[c.passed] += 1
            total = runs[True] + runs[False]
            share = f"{100 * runs[True] / total:.0f}% ({runs[True]}/{total})" if total else "-"
            cells.append(share)
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    by = {c: [o for o in outcomes if o.config == c] for c in configs}
    base = sum(o.tokens for o in by.get("single", [])) / max(len(by.get("single", [])), 1)
    summary: list[tuple[str, Any]] = [
        ("**all checks (topics passing in full)**",
         lambda os: f"**{100 * sum(o.report.passed for o in os) / len(os):.0f}% "
                    f"({sum(o.report.passed for o in os)}/{len(os)})**"),
        ("mean score", lambda os: f"{sum(o.report.score for o in os) / len(os):.3f}"),
        ("tokens per piece (in + out)", lambda os: f"{sum(o.tokens for o in os) / len(os):.0f}"),
        ("tokens vs single", lambda os: f"{sum(o.tokens for o in os) / len(os) / base:.2f}x"
                                        if base else "-"),
        ("calls per piece", lambda os: f"{sum(o.calls for o in os) / len(os):.1f}"),
        ("seconds per piece", lambda os: f"{sum(o.seconds for o in os) / len(os):.1f}"),
        ("words per piece", lambda os: f"{sum(o.words for o in os) / len(os):.0f}"),
    ]  # fmt: skip
    for label, fn in summary:
        rows.append(f"| {label} | " + " | ".join(fn(by[c]) if by[c] else "-" for c in configs)
                    + " |")  # fmt: skip
    return "\n".join(rows)


async def main_async(args: argparse.Namespace) -> list[Outcome]:
    topics = TOPICS[: args.topics]
    configs = args.configs.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp) / "home", retry_wait=0)
        async with Client.from_settings(settings, storage=MemoryStorage(),
                                        cache=MemoryCache()) as cg:  # fmt: skip
            await setup(cg, topics)
            outcomes = []
            for item in topics:
                for config in configs:
                    try:
                        outcome = await run_one(cg, item, config, args.rounds)
                    except Exception as exc:  # a failed job counts as a failed piece
                        error = Check(name="error", passed=False, message=repr(exc))
                        outcome = Outcome(item, config, ComplianceReport.of([error]), 0, 0,
                                          0.0, 0)  # fmt: skip
                    outcomes.append(outcome)
                    if args.json:
                        write_json(args.json, outcomes)
                    failed = ", ".join(c.name for c in outcome.report.failed) or "-"
                    print(f"{config:<9} {item.content_type:<7} {item.topic[:44]:<44} "
                          f"score {outcome.report.score:.2f} tokens {outcome.tokens:>5} "
                          f"{outcome.seconds:5.1f}s failed: {failed}", file=sys.stderr,
                          flush=True)  # fmt: skip
    return outcomes


def write_json(path: Path, outcomes: list[Outcome]) -> None:
    path.write_text(json.dumps([
        {"topic": o.topic.topic, "type": o.topic.content_type, "config": o.config,
         "tokens": o.tokens, "calls": o.calls, "seconds": round(o.seconds, 2),
         "report": o.report.model_dump(mode="json"), "text": o.text}
        for o in outcomes
    ], indent=1))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=len(TOPICS))
    parser.add_argument("--configs", default="single,sections,repair")
    parser.add_argument("--rounds", type=int, default=2, help="repair rounds of 'repair'")
    parser.add_argument("--json", type=Path, help="write every outcome to this file")
    args = parser.parse_args()
    outcomes = asyncio.run(main_async(args))
    print(table(outcomes, args.configs.split(",")))


if __name__ == "__main__":
    main()
