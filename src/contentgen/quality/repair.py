"""Repair: each failed check becomes a targeted fix of the part that failed.

| check | fix |
|---|---|
| title | a title call ("give a real title"); a title from the topic when the reply is no title |
| sections / body_sections | write the missing or empty section (a section call with its budget) |
| body_sections (small model) | a thin section not required goes (code) when enough remain |
| section_order | code puts the sections in the strategy's order |
| complete | rewrite the cut part so it ends properly |
| word_count (under) | one more paragraph for the shortest parts ("expand X by ~N words") |
| word_count (over) | rewrite the longest part shorter; small model: code drops its last sentences |
| keyword:K (missing, low) | rewrite a part working K in; small model: a sentence with K by code |
| keyword:K (too dense) | rewrite the part with the most uses |
| meta_description | a meta call; the opening's first sentences when the reply does not fit |
| readability | rewrite the hardest part in short sentences and plain words |
| repetition | rewrite the part where a passage comes back; small model: code drops the repeat |
| citations | one sentence naming a source, checked and placed by code |
| forbidden_phrases | rewrite the parts using them; small model: code drops those sentences |
| prompt_echo | code drops the echoing sentences |

Several asks for one part become one rewrite call. ``plan`` decides; ``fixes.apply`` does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from contentgen.quality import measures as m
from contentgen.quality.draft import Draft
from contentgen.quality.markdown import normalise, parse, words
from contentgen.quality.report import Check, ComplianceReport
from contentgen.quality.sections import (
    WORDS_PER_PART,
    fallback_headings,
)
from contentgen.quality.session import Session

INTRO = -1  # the part index of the opening paragraph
MAX_EXPANSIONS = 3


@dataclass
class Plan:
    """What one repair round will do."""

    title: bool = False
    meta: bool = False
    drop_lead: bool = False  # text before the title that echoes the prompt
    reorder: bool = False
    add: list[str] = field(default_factory=list)  # section headings to write
    expand: dict[int, int] = field(default_factory=dict)  # part -> words to add
    rewrite: dict[int, list[str]] = field(default_factory=dict)  # part -> asks
    trim: dict[int, int] = field(default_factory=dict)  # part -> words to drop (small model)
    #: part -> (passage, keep its first use in the part) whose sentences go
    drop: dict[int, list[tuple[str, bool]]] = field(default_factory=dict)
    insert: list[tuple[int, str | None]] = field(default_factory=list)  # (part, keyword|None=cite)
    #: body sections (by heading) that go: thin, not required, and enough sections without them
    remove: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.title or self.meta or self.drop_lead or self.reorder or self.add
                    or self.expand or self.remove
                    or self.rewrite or self.trim or self.drop or self.insert)  # fmt: skip

    def ask(self, part: int, text: str) -> None:
        self.rewrite.setdefault(part, []).append(text)


def parts(draft: Draft) -> list[tuple[int, str, str]]:
    """``(index, heading, body)`` of every part with text, the opening first."""
    found = [(INTRO, "", draft.intro)] if draft.intro.strip() else []
    return found + [(i, s.heading, s.body) for i, s in enumerate(draft.sections)]


def body_of(draft: Draft, index: int) -> str:
    return draft.intro if index == INTRO else draft.sections[index].body


def with_body(draft: Draft, index: int, body: str, *, truncated: bool = False) -> Draft:
    if index == INTRO:
        return draft.changed(intro=body, intro_truncated=truncated)
    section = replace(draft.sections[index], body=body, truncated=truncated)
    return draft.with_section(index, section)


def heading_of(draft: Draft, index: int) -> str:
    return "the opening" if index == INTRO else draft.sections[index].heading


def plan(draft: Draft, report: ComplianceReport, session: Session) -> Plan:
    spec = session.spec
    todo = Plan()
    failed = {c.name: c for c in report.failed}
    texts = parts(draft)
    if "title" in failed:
        todo.title = True
    positions = m.section_positions(parse(draft.render()), spec.sections)
    todo.add += [s for s in spec.sections if s not in positions]
    if "section_order" in failed:
        todo.reorder = True
    needed = max(m.MIN_LONG_FORM_SECTIONS, len(spec.sections))
    full = sum(1 for s in draft.sections if s.words >= m.MIN_SECTION_WORDS)
    for index, heading, body in texts:
        if heading and heading in todo.add:
            continue
        if index != INTRO and len(words(body)) < m.MIN_SECTION_WORDS and spec.long_form:
            required = any(m.heading_matches(heading, r) for r in spec.sections)
            if session.small and not required and full >= needed:
                # a small model's thin extra section: its expansions often come back empty or
                # repeated; the piece has enough sections without it (code drops it, no call)
                todo.remove.append(heading)
                continue
            share = spec.target_words // max(len(texts), 1)
            todo.expand[index] = max(m.MIN_SECTION_WORDS * 2, share)
    if "body_sections" in failed and spec.long_form:
        present = sum(1 for s in draft.sections if s.words >= m.MIN_SECTION_WORDS)
        missing = max(m.MIN_LONG_FORM_SECTIONS, len(spec.sections)) - present - len(todo.expand)
        taken = [s.heading for s in draft.sections] + spec.sections
        todo.add += fallback_headings(session, missing - len(todo.add), taken)
    if "complete" in failed:
        for index, _, _ in texts:
            if (draft.intro_truncated if index == INTRO else draft.sections[index].truncated):
                todo.ask(index, "it was cut off: make it end with a complete sentence")
    _length(draft, failed, texts, session, todo)
    _keywords(draft, report, texts, session, todo)
    if "meta_description" in failed:
        todo.meta = True
    if "readability" in failed and texts:
        hardest = min(texts, key=lambda t: m.reading_ease(parse(t[2]).prose) or 100.0)
        todo.ask(hardest[0], "use short sentences and plain, everyday words")
    if "repetition" in failed:
        for passage in m.repeated_passages(parse(draft.render()).body_prose()):
            where = _where(texts, passage.text, last=True)
            if where is None:
                continue
            if session.small:
                earlier = _where(texts, passage.text, last=False) != where
                todo.drop.setdefault(where, []).append((passage.text, not earlier))
            else:
                todo.ask(where, f"do not repeat \"{' '.join(passage.text.split()[:12])}...\"")
    if "citations" in failed and texts:
        todo.insert.append((texts[min(1, len(texts) - 1)][0], None))
    if "forbidden_phrases" in failed:
        for phrase in m.forbidden_found(draft.render(), spec.forbidden):
            for index, _, body in texts:
                if m.keyword_hits(body, phrase):
                    if session.small:
                        todo.drop.setdefault(index, []).append((phrase, False))
                    else:
                        todo.ask(index, f'do not use the words "{phrase}"')
    if "prompt_echo" in failed:
        grams = m.instruction_ngrams(session.echo_spec().instructions, spec.allowed)
        if draft.lead and m.echoes([p.text for p in parse(draft.lead).prose], grams,
                                   " ".join(spec.allowed)):  # fmt: skip
            todo.drop_lead = True
        for index, _, body in texts:
            for item in parse(body).prose:
                for found in m.echoes([item.text], grams, " ".join(spec.allowed)):
                    todo.drop.setdefault(index, []).append((found, False))
    return todo


def _length(draft: Draft, failed: dict[str, Check], texts: list[tuple[int, str, str]],
            session: Session, todo: Plan) -> None:  # fmt: skip
    spec = session.spec
    check = failed.get("word_count")
    if check is None or not texts:
        return
    total = int(getattr(check, "measured", 0) or 0)
    if total < spec.min_words:
        # into the range with a margin, not to its middle: each word added is paid for
        deficit = spec.min_words + (spec.target_words - spec.min_words) // 3 - total
        per_call = WORDS_PER_PART[session.small]
        count = min(MAX_EXPANSIONS, max(1, math.ceil(deficit / per_call)), len(texts))
        shortest = sorted(texts, key=lambda t: len(words(t[2])))[:count]
        for index, _, _ in shortest:
            todo.expand[index] = todo.expand.get(index, 0) + max(25, deficit // count)
    elif total > spec.max_words:
        excess = total - spec.target_words
        longest = sorted(texts, key=lambda t: -len(words(t[2])))
        if session.small:
            for index, _, body in longest:
                room = len(words(body)) - m.MIN_SECTION_WORDS - 10
                take = min(room, excess)
                if take > 0:
                    todo.trim[index] = take
                    excess -= take
                if excess <= 0:
                    break
        else:
            index, _, body = longest[0]
            target = max(m.MIN_SECTION_WORDS + 10, len(words(body)) - excess)
            todo.ask(index, f"shorten it to about {target} words")


def _keywords(draft: Draft, report: ComplianceReport, texts: list[tuple[int, str, str]],
              session: Session, todo: Plan) -> None:  # fmt: skip
    spec = session.spec
    for check in report.failed:
        if not check.name.startswith("keyword:") or not texts:
            continue
        keyword = check.name.split(":", 1)[1]
        density = float(check.measured or 0)
        high = m.density_band(spec.keyword_density)[1] if spec.keyword_density else math.inf
        if density > high:
            _too_dense(keyword, density, high, texts, session, todo, draft.render())
            continue
        lacking = [t for t in texts if not m.keyword_hits(t[2], keyword)] or texts
        needed = 1
        if spec.keyword_density:
            low = m.density_band(spec.keyword_density)[0]
            size = max(1, len(keyword.split()))
            count = report.check("word_count")
            total = int(count.measured or 0) if count is not None else 0
            have = m.keyword_hits(draft.render(), keyword)
            needed = max(1, math.ceil(low * total / (100 * size)) - have)
        for index, _, _ in sorted(lacking, key=lambda t: -len(words(t[2])))[:needed]:
            if session.small:
                todo.insert.append((index, keyword))
            else:
                todo.ask(index, f'work in the words "{keyword}" naturally')


def _too_dense(keyword: str, density: float, high: float, texts: list[tuple[int, str, str]],
               session: Session, todo: Plan, rendered: str) -> None:  # fmt: skip
    """Fewer uses: a capable model rewrites the part using it most; for a small model code
    drops the sentences using it (all but a part's first) from the parts using it most, until
    the density is back under the target's top."""
    ranked = sorted(texts, key=lambda t: -m.keyword_hits(t[2], keyword))
    if not session.small:
        todo.ask(ranked[0][0], f'use "{keyword}" only once or twice')
        return
    total = sum(m.keyword_hits(t[2], keyword) for t in texts)
    placed = total_hits - total if (total_hits := m.keyword_hits(rendered, keyword)) else 0
    excess = math.ceil(total_hits * (1 - high / density)) if density else 0
    for rank, (index, _, body) in enumerate(ranked):
        hits = m.keyword_hits(body, keyword)
        if excess <= 0 or not hits:
            break
        # the part using it most keeps one use, unless the title or a heading has one
        keep = rank == 0 and not placed
        todo.drop.setdefault(index, []).append((keyword, keep))
        excess -= hits - int(keep)


def _where(texts: list[tuple[int, str, str]], passage: str, *, last: bool) -> int | None:
    norm = normalise(passage)
    hits = [index for index, _, body in texts if norm in normalise(body)]
    if not hits:
        return None
    return hits[-1] if last else hits[0]
