"""Applying a repair ``Plan`` to a draft: code fixes first (drop, trim, reorder), then one
model call per fix (title, missing section, expansion, rewrite, inserted sentence, meta)."""

from __future__ import annotations

from contentgen.quality import measures as m
from contentgen.quality import prompts
from contentgen.quality.draft import Draft, Section
from contentgen.quality.markdown import normalise, parse, sentences, word_count, words
from contentgen.quality.repair import INTRO, Plan, body_of, heading_of, parts, with_body
from contentgen.quality.sections import Part, choose_title, write_meta, write_part
from contentgen.quality.session import Session
from contentgen.quality.tidy import add_sentence, drop_sentences

SENTENCE_WORDS = 40


async def apply(draft: Draft, todo: Plan, session: Session) -> Draft:
    """The draft with the plan's fixes: code fixes first, then one call per fix."""
    before = word_count(draft.render())
    for index, passages in todo.drop.items():
        draft = with_body(draft, index, _drop(body_of(draft, index), passages))
    for index, count in todo.trim.items():
        draft = with_body(draft, index, _trim(body_of(draft, index), count, session.spec.keywords))
    _refill(draft, todo, session, before)
    if todo.reorder:
        draft = reorder(draft, session.spec.sections)
    if todo.drop_lead:
        draft = draft.changed(lead="")
    if todo.title:
        reply = await session.ask(
            prompts.title(session.kind, session.topic,
                          session.spec.keywords[0] if session.spec.keywords else None),
            20, purpose="title")  # fmt: skip
        session.title = choose_title(reply.text.strip().splitlines()[0] if reply.text.strip()
                                     else None, session)  # fmt: skip
        draft = draft.changed(title=session.title, raw_title=None)
    for heading in todo.add:
        draft = await _add(draft, heading, session)
    for index, extra in todo.expand.items():
        if index in todo.rewrite or index >= len(draft.sections) or (
            index == INTRO and not draft.intro
        ):
            continue
        draft = await _expand(draft, index, extra, session)
    for index, asks in todo.rewrite.items():
        draft = await _rewrite(draft, index, asks, todo.expand.get(index, 0), session)
    for index, keyword in todo.insert:
        draft = await _insert(draft, index, keyword, session)
    if todo.remove:  # last: the other fixes name parts by their index
        draft = await _remove(draft, todo.remove, session)
    if todo.meta:
        draft = draft.changed(meta=await write_meta(session, draft))
    return draft


async def _remove(draft: Draft, headings: list[str], session: Session) -> Draft:
    """The draft without the thin sections ``headings``; when that takes the piece under its
    word range, the shortest part is expanded (``_refill``)."""
    before = word_count(draft.render())
    kept = tuple(s for s in draft.sections
                 if s.heading not in headings or s.words >= m.MIN_SECTION_WORDS)  # fmt: skip
    draft = draft.changed(sections=kept)
    refill = Plan()
    _refill(draft, refill, session, before)
    for index, extra in refill.expand.items():
        draft = await _expand(draft, index, extra, session)
    return draft


def _refill(draft: Draft, todo: Plan, session: Session, before: int) -> None:
    """When the sentences code dropped (a keyword too dense, a repeat) take a piece that was
    in its word range under it, the shortest part gets an expansion in the same round (else
    the round trades one failed check for another, and its version is not kept)."""
    spec = session.spec
    after = word_count(draft.render())
    if todo.expand or before < spec.min_words or after >= spec.min_words:
        return
    texts = parts(draft)
    if not texts:
        return
    deficit = spec.min_words + (spec.target_words - spec.min_words) // 3 - after
    index = min(texts, key=lambda t: len(words(t[2])))[0]
    todo.expand[index] = max(25, deficit)


def _drop(body: str, passages: list[tuple[str, bool]]) -> str:
    # sentences that must go (echo, forbidden words) first; "keep the first use" then counts
    # among the sentences that stay
    for passage, keep_first in sorted(passages, key=lambda p: p[1]):
        norm = normalise(passage)
        seen = [0]

        def hit(sentence: str, norm: str = norm, keep_first: bool = keep_first,
                seen: list[int] = seen) -> bool:  # fmt: skip
            if norm not in normalise(sentence):
                return False
            seen[0] += 1
            return not (keep_first and seen[0] == 1)

        body = drop_sentences(body, hit)
    return body


def _trim(body: str, count: int, keywords: list[str]) -> str:
    """Drop sentences from the end of the part (its last paragraph first, then the ones before
    it, the first sentence of the part always staying) until ``count`` words are gone
    (sentences with a keyword stay)."""
    doomed: set[str] = set()
    gone = 0
    found = [s for p in parse(body).body_prose() for s in sentences(" ".join(p.text.split()))]
    for sentence in reversed(found[1:]):
        if gone >= count:
            break
        if any(m.keyword_hits(sentence, k) for k in keywords):
            continue
        doomed.add(normalise(sentence))
        gone += len(words(sentence))
    return drop_sentences(body, lambda s: normalise(s) in doomed) if doomed else body


def reorder(draft: Draft, required: list[str]) -> Draft:
    """Required sections in the strategy's order, in the places they hold (body sections do
    not move)."""
    sections = list(draft.sections)
    slots = [i for i, s in enumerate(sections)
             if any(m.heading_matches(s.heading, r) for r in required)]  # fmt: skip

    def rank(section: Section) -> int:
        return next(i for i, r in enumerate(required) if m.heading_matches(section.heading, r))

    ordered = sorted((sections[i] for i in slots), key=rank)
    for slot, section in zip(slots, ordered, strict=True):
        sections[slot] = section
    return draft.changed(sections=tuple(sections))


def _done_before(draft: Draft, index: int) -> list[tuple[str | None, str]]:
    done: list[tuple[str | None, str]] = [(None, draft.intro)] if draft.intro else []
    return done + [(s.heading, s.body) for s in draft.sections[:index]]


async def _add(draft: Draft, heading: str, session: Session) -> Draft:
    spec = session.spec
    required = spec.sections
    if heading in required:
        rank = required.index(heading)
        before = [i for i, s in enumerate(draft.sections)
                  if any(m.heading_matches(s.heading, r) for r in required[:rank])]  # fmt: skip
        index = before[-1] + 1 if before else 0
        if rank == len(required) - 1:
            index = len(draft.sections)
    else:
        index = max(len(draft.sections) - 1, 0)
    budget = max(m.MIN_SECTION_WORDS * 2, spec.target_words // max(len(draft.sections) + 1, 1))
    part = Part(heading, budget)
    section = await write_part(session, part, _done_before(draft, index), stream=False)
    return draft.inserted(index, section)


async def _expand(draft: Draft, index: int, extra: int, session: Session) -> Draft:
    body, heading = body_of(draft, index), heading_of(draft, index)
    was_cut = draft.intro_truncated if index == INTRO else draft.sections[index].truncated
    if session.small:  # the draft's own prompt, which a small model follows best
        said = " ".join(" ".join(sentences(body)[:1]).split()[:12])
        last = index == len(draft.sections) - 1
        prompt = prompts.section(session.kind, session.title, session.topic, session.style,
                                 heading if index != INTRO else None, extra, [], said,
                                 closing=last and session.spec.long_form)  # fmt: skip
    else:
        prompt = prompts.expand(session.kind, session.title, session.topic, session.style,
                                heading, extra, [], body or "(nothing yet)")  # fmt: skip
    reply = await session.ask(prompt, extra, purpose="expand")
    added = session.clean(reply, heading, list(draft.text_parts))
    if not words(added):
        return draft
    cut = reply.finish_reason == "length" and not session.small
    return with_body(draft, index, f"{body.rstrip()}\n\n{added}".strip(),
                     truncated=cut or was_cut)  # fmt: skip


async def _rewrite(draft: Draft, index: int, asks: list[str], extra: int,
                   session: Session) -> Draft:  # fmt: skip
    body = body_of(draft, index)
    current = len(words(body))
    shorten = next((a for a in asks if a.startswith("shorten")), None)
    budget = max(current + extra, m.MIN_SECTION_WORDS * 2)
    if shorten:
        budget = int(words(shorten)[-2]) if words(shorten)[-2].isdigit() else current
    prompt = prompts.rewrite(session.kind, session.title, session.topic, session.style,
                             heading_of(draft, index), budget, asks, body)  # fmt: skip
    reply = await session.ask(prompt, budget, purpose="rewrite")
    others = [t for i, t in enumerate(draft.text_parts) if i != index + 2]
    new = session.clean(reply, heading_of(draft, index), others)
    if len(words(new)) < min(current, budget) // 2:
        return draft  # a reply that lost most of the part is no repair
    cut = reply.finish_reason == "length" and not session.small
    return with_body(draft, index, new, truncated=cut)


async def _insert(draft: Draft, index: int, keyword: str | None, session: Session) -> Draft:
    prompt = prompts.sentence(session.kind, session.topic, keyword, cite=keyword is None)
    for _ in range(3 if keyword is None else 2):
        reply = await session.ask(prompt, SENTENCE_WORDS, purpose="sentence")
        found = pick_sentence(reply.text, keyword)
        if found:
            return with_body(draft, index, add_sentence(body_of(draft, index), found))
    return draft


def pick_sentence(reply: str, keyword: str | None) -> str | None:
    """A sentence of the reply that does the job (uses ``keyword``, or cites a source when it
    is None) and echoes nothing of the request."""
    text = " ".join(line.strip().strip("\"“”'") for line in reply.splitlines() if line.strip())
    for sentence in sentences(text):
        sentence = sentence.strip().strip("\"“”")
        count = len(words(sentence))
        if not 5 <= count <= SENTENCE_WORDS or m.echoes([sentence], set()):
            continue
        if keyword is None and not m.citation_count(sentence):
            continue
        if keyword is not None and (not m.keyword_hits(sentence, keyword)
                                    or f'"{keyword.lower()}"' in sentence.lower()
                                    or "the words" in sentence.lower()):  # fmt: skip
            continue
        return sentence if sentence[-1] in ".!?" else sentence + "."
    return None
