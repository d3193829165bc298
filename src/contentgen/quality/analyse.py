"""``analyse``: a piece against its spec, as a ``ComplianceReport`` of named checks.

Check names (one per line of the report): ``title``, ``word_count``, ``sections``,
``section_order``, ``body_sections``, ``keyword:<keyword>`` (one per keyword: used, at the
density the strategy targets), ``meta_description``, ``readability``, ``repetition``,
``citations``, ``forbidden_phrases``, ``prompt_echo``, ``complete``. A check is present only
when the strategy asks for what it measures (no ``citations`` check without
``citation_required``, no ``sections`` check without required sections).
"""

from __future__ import annotations

from contentgen.quality import measures as m
from contentgen.quality.markdown import Doc, parse, words
from contentgen.quality.report import Check, ComplianceReport
from contentgen.quality.spec import MAX_TITLE_WORDS, META_MIN_CHARS, QualitySpec


def _title(doc: Doc, title: str | None, spec: QualitySpec) -> Check:
    found = title or doc.title
    if found is None:
        front = doc.front.get("title")
        found = front if isinstance(front, str) else None
    problems = m.title_problems(found, allowed=" ".join(spec.allowed), max_words=MAX_TITLE_WORDS)
    message = f"title {found!r}: {', '.join(problems)}" if found else "no title"
    return Check(name="title", passed=not problems, measured=found,
                 target=f"present, 2-{MAX_TITLE_WORDS} words, no URL or debris",
                 message="" if not problems else message)  # fmt: skip


def _word_count(total: int, spec: QualitySpec) -> Check:
    target = f"{spec.min_words}-{spec.max_words}"
    if total < spec.min_words:
        message = f"{total} words, under the range {target}"
    elif total > spec.max_words:
        message = f"{total} words, over the range {target}"
    else:
        message = ""
    return Check(name="word_count", passed=not message, measured=total, target=target,
                 message=message)  # fmt: skip


def _sections(doc: Doc, spec: QualitySpec) -> list[Check]:
    if not spec.sections:
        return []
    positions = m.section_positions(doc, spec.sections)
    missing = [s for s in spec.sections if s not in positions]
    checks = [
        Check(name="sections", passed=not missing,
              measured=f"{len(positions)}/{len(spec.sections)}",
              target=", ".join(spec.sections),
              message="missing sections: " + ", ".join(missing) if missing else "")
    ]  # fmt: skip
    if len(spec.sections) > 1:
        wrong = m.in_order(positions, spec.sections)
        checks.append(Check(
            name="section_order", passed=not wrong,
            measured=" > ".join(s for s in sorted(positions, key=positions.__getitem__)),
            target=" > ".join(spec.sections),
            message="sections out of order: " + ", ".join(wrong) if wrong else "",
        ))  # fmt: skip
    return checks


def _body_sections(doc: Doc, spec: QualitySpec) -> list[Check]:
    if not spec.long_form:
        return []
    parts = m.section_texts(doc)
    empty = [p.heading for p in parts if p.words < m.MIN_SECTION_WORDS]
    full = len(parts) - len(empty)
    needed = max(m.MIN_LONG_FORM_SECTIONS, len(spec.sections))
    problems = []
    if full < needed:
        problems.append(f"{full} section{'s' if full != 1 else ''} with text (at least {needed})")
    if empty:
        problems.append("no text under: " + ", ".join(empty))
    return [Check(name="body_sections", passed=not problems, measured=full,
                  target=f">= {needed} sections of >= {m.MIN_SECTION_WORDS} words",
                  message="; ".join(problems))]  # fmt: skip


def _keywords(text: str, total: int, spec: QualitySpec) -> list[Check]:
    checks = []
    for keyword in spec.keywords:
        hits = m.keyword_hits(text, keyword)
        density = m.keyword_density(text, keyword, total)
        if spec.keyword_density:
            low, high = m.density_band(spec.keyword_density)
            target = f"{low}-{high}%"
            ok = hits > 0 and low <= density <= high
        else:
            target, ok = "used", hits > 0
        if hits == 0:
            message = f"keyword {keyword!r} not used"
        elif not ok:
            message = f"keyword {keyword!r} at {density}% (target {target})"
        else:
            message = ""
        checks.append(Check(name=f"keyword:{keyword}", passed=ok, measured=density,
                            target=target, message=message))  # fmt: skip
    return checks


def _meta(doc: Doc, spec: QualitySpec) -> list[Check]:
    longest = spec.meta_description_length
    if not longest:
        return []
    meta = doc.meta_description()
    size = len(meta) if meta else 0
    target = f"{META_MIN_CHARS}-{longest} characters"
    if not meta:
        message = "no meta description"
    elif not META_MIN_CHARS <= size <= longest:
        message = f"meta description has {size} characters (target {target})"
    else:
        message = ""
    return [Check(name="meta_description", passed=not message, measured=size, target=target,
                  message=message)]  # fmt: skip


def _readability(doc: Doc, spec: QualitySpec) -> list[Check]:
    if spec.min_reading_ease is None:
        return []
    ease = m.reading_ease(doc.body_prose())
    ok = ease is None or ease >= spec.min_reading_ease
    least = f"{spec.min_reading_ease:g}"
    message = "" if ok else f"hard to read: Flesch reading ease {ease} (at least {least})"
    return [Check(name="readability", passed=ok, measured=ease,
                  target=f">= {spec.min_reading_ease:g}", message=message)]  # fmt: skip


def _repetition(doc: Doc) -> Check:
    passages = m.repeated_passages(doc.body_prose())
    message = ""
    if passages:
        first = " ".join(passages[0].text.split()[:12])
        plural = "s" if len(passages) > 1 else ""
        message = f"{len(passages)} repeated passage{plural} ('{first}...')"
    return Check(name="repetition", passed=not passages, measured=len(passages), target="0",
                 message=message)  # fmt: skip


def _citations(doc: Doc, spec: QualitySpec) -> list[Check]:
    if not spec.citation_required:
        return []
    found = m.citation_count(doc.body)
    message = "" if found else "no source cited (the strategy requires citations)"
    return [Check(name="citations", passed=found > 0, measured=found, target=">= 1",
                  message=message)]  # fmt: skip


def _forbidden(text: str, spec: QualitySpec) -> list[Check]:
    if not spec.forbidden:
        return []
    found = m.forbidden_found(text, spec.forbidden)
    message = "forbidden phrases used: " + ", ".join(found) if found else ""
    return [Check(name="forbidden_phrases", passed=not found, measured=len(found),
                  target="none of: " + ", ".join(spec.forbidden), message=message)]  # fmt: skip


def _echo(doc: Doc, spec: QualitySpec) -> Check:
    grams = m.instruction_ngrams(spec.instructions, spec.allowed)
    texts = [h.text for h in doc.headings if h.level > 1] + [p.text for p in doc.body_prose()]
    found = m.echoes(texts, grams, " ".join(spec.allowed))
    message = f"prompt or instructions echoed: '{found[0]}'" if found else ""
    return Check(name="prompt_echo", passed=not found, measured=len(found), target="0",
                 message=message)  # fmt: skip


def _complete(doc: Doc, truncated: list[str] | None) -> Check:
    if truncated is None:  # no finish_reason to go by: look at how the text ends
        cut = ["the end"] if m.ends_mid_sentence(doc) else []
        how = "ends mid-sentence"
    else:
        cut = truncated
        how = "cut at the token limit (finish_reason=length)"
    message = f"{', '.join(cut)}: {how}" if cut else ""
    return Check(name="complete", passed=not cut, measured=len(cut), target="0",
                 message=message)  # fmt: skip


def analyse(
    text: str,
    spec: QualitySpec,
    *,
    title: str | None = None,
    truncated: list[str] | None = None,
    doc: Doc | None = None,
) -> ComplianceReport:
    """Measure ``text`` against ``spec``.

    ``title`` is the piece's title when it is not its ``# `` heading; ``truncated`` names the
    parts a provider cut at its token limit (``None``: unknown, judged from the text)."""
    doc = doc or parse(text)
    visible = doc.visible_text()
    total = len(words(visible))
    checks = [_title(doc, title, spec), _word_count(total, spec)]
    checks += _sections(doc, spec)
    checks += _body_sections(doc, spec)
    checks += _keywords(visible, total, spec)
    checks += _meta(doc, spec)
    checks += _readability(doc, spec)
    checks.append(_repetition(doc))
    checks += _citations(doc, spec)
    checks += _forbidden(visible, spec)
    checks.append(_echo(doc, spec))
    checks.append(_complete(doc, truncated))
    return ComplianceReport.of(checks)
