"""``write_piece``: a built prompt -> a Markdown piece that meets its strategy, or says how not.

1. **Write** in the piece's generation mode: ``single`` (the client's whole prompt in one call:
   capable models) or ``sections`` (``quality.sections``: an outline call (not for the
   embedded model), then one call per part with its word budget; structure, title and order
   by code). The mode is the request's
   ``mode``, else the strategy's ``content_guidelines.generation_mode``, else the model's
   (``ModelCall.mode``, from the catalogue: the embedded model writes in sections).
2. **Measure** it (``quality.analyse``): a ``ComplianceReport``.
3. **Repair** what failed (``quality.repair``), up to ``repair_rounds`` rounds, each applied to
   the best version so far; the best version by score is kept.

The small-model clean-up (``quality.tidy``) runs on the small-model path only (the embedded
``local/`` models): a capable model's Markdown is kept as written. Every provider attempt of
every call — repairs included — is appended to ``attempts_sink`` as it happens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from contentgen.errors import NoncompliantPiece, ProviderError
from contentgen.instructions.builder import BuiltPrompt
from contentgen.llm.base import Attempt, Mode, ModelCall
from contentgen.logs import get_logger
from contentgen.models import ContentRequest, ContentResult, ResultMetadata, TokenUsage
from contentgen.quality.analyse import analyse
from contentgen.quality.draft import Draft
from contentgen.quality.fixes import apply
from contentgen.quality.prompts import style_brief
from contentgen.quality.repair import plan
from contentgen.quality.report import ComplianceReport
from contentgen.quality.sections import make_title, write_sections
from contentgen.quality.session import Session
from contentgen.quality.spec import QualitySpec
from contentgen.quality.tidy import tidy_markdown
from contentgen.tracing import span

__all__ = ["TOKENS_PER_WORD", "NoncompliantPiece", "Piece", "piece_result", "write_piece"]

#: Output tokens per word of a piece, for estimates (``batch --dry-run``).
TOKENS_PER_WORD = 1.4
#: Repair rounds when the caller does not say (setting ``repair_rounds``).
REPAIR_ROUNDS = 2

log = get_logger()


@dataclass(frozen=True)
class Piece:
    """A written piece: its Markdown (with its ``# `` title), title, report and whether a part
    of it is still cut at the provider's token limit."""

    text: str
    title: str
    report: ComplianceReport
    truncated: bool


def resolve_mode(call: ModelCall, built: BuiltPrompt, request: ContentRequest) -> Mode:
    """The request's mode, else the strategy's, else the model's."""
    strategy = built.setup.config.content_guidelines.generation_mode
    return request.mode or strategy or call.mode


def is_small(call: ModelCall) -> bool:
    """The embedded (``local/``) models take the small-model path."""
    return call.model == "local" or call.model.startswith("local/")


def assess(draft: Draft, session: Session) -> ComplianceReport:
    with span("contentgen.analysis") as found:
        report = analyse(draft.render(), session.echo_spec(), title=draft.title,
                         truncated=draft.truncated_parts())  # fmt: skip
        found.set_attributes({"contentgen.score": report.score,
                              "contentgen.passed": report.passed})  # fmt: skip
    return report


async def write_single(session: Session, built: BuiltPrompt) -> Draft:
    spec = session.spec
    reply = await session.ask(built.prompt, spec.max_words, stream=True, purpose="piece")
    cut = reply.finish_reason == "length"
    text = tidy_markdown(reply.text, cut=cut) if session.small else reply.text
    # a small model's cut sentence is gone (tidy); a capable model's cut piece is repaired
    draft = Draft.parse(text, title=make_title(session.topic), truncated=cut and not session.small)
    session.title = draft.title
    return draft


async def write_piece(
    call: ModelCall,
    built: BuiltPrompt,
    request: ContentRequest,
    *,
    on_text: Callable[[str], None] | None = None,
    attempts_sink: list[Attempt],
    repair_rounds: int = REPAIR_ROUNDS,
    small: bool | None = None,
) -> Piece:
    """Write, measure and repair one piece (see the module docstring).

    ``on_text`` receives the first draft as it is written (repairs are not streamed).
    ``small`` forces the small-model path on or off (default: ``is_small(call)``). Raises
    ``ProviderError`` when writing the first draft fails (its attempts are in the sink), and
    ``NoncompliantPiece`` when the best version still fails and the strategy sets
    ``fail_on_noncompliance``; a failed repair call only ends the repairs."""
    mode = resolve_mode(call, built, request)
    session = Session(
        call=call, spec=QualitySpec.from_built(built, request.topic), topic=request.topic,
        style="", sink=attempts_sink, small=is_small(call) if small is None else small,
        on_text=on_text,
    )  # fmt: skip
    session.style = style_brief(built.setup, small=session.small)
    if mode == "sections":
        best = await write_sections(session)
    else:
        best = await write_single(session, built)
    report = assess(best, session)
    rounds = 0
    while not report.passed and rounds < repair_rounds:
        todo = plan(best, report, session)
        if todo.empty:
            break
        rounds += 1
        session.title = best.title
        try:
            candidate = await apply(best, todo, session)
        except ProviderError as exc:
            log.warning("repair_failed", error=exc.message, round=rounds)
            break
        except Exception:  # a bug in a repair must not cost the piece already written
            log.exception("repair_crashed", round=rounds)
            break
        found = assess(candidate, session)
        log.info("repair_round", round=rounds, score=found.score, best=report.score)
        if found.score > report.score:
            best, report = candidate, found
    report = report.model_copy(update={"repair_rounds": rounds, "mode": mode})
    piece = Piece(text=best.render(), title=best.title, report=report,
                  truncated=bool(best.truncated_parts()))  # fmt: skip
    if not report.passed and session.spec.fail_on_noncompliance:
        raise NoncompliantPiece(report.summary(), report=report, piece=piece)
    return piece


def piece_result(
    piece: Piece, attempts: list[Attempt], keywords: list[str], elapsed_ms: int
) -> ContentResult:
    """The job's result: the piece, its report (``compliance``, summed up in ``seo_notes``)
    and the tokens and cost of every attempt."""
    from contentgen.quality.markdown import parse, words
    from contentgen.quality.measures import keyword_hits

    visible = parse(piece.text).visible_text()
    notes = piece.report.summary()
    if piece.truncated:
        notes += "; truncated: a part was cut at the model's output limit (finish_reason=length)"
    unknown = sorted({a.model for a in attempts if a.cost is None})
    if unknown:
        notes += "; cost unknown: no price for " + ", ".join(unknown)
        notes += " (generation_cost counts the priced calls only)"
    last = next((a for a in reversed(attempts) if a.error is None), None)
    return ContentResult(
        content=piece.text,
        title=piece.title,
        metadata=ResultMetadata(
            word_count=len(words(visible)),
            keywords_used=[k for k in keywords if keyword_hits(visible, k)],
            llm_provider=last.provider if last else "unknown",
            model=last.model if last else "unknown",
            generation_cost=round(sum(a.cost or 0.0 for a in attempts), 10),
            generation_time_ms=elapsed_ms,
            token_usage=TokenUsage(
                input=sum(a.input_tokens for a in attempts),
                output=sum(a.output_tokens for a in attempts),
            ),
            seo_notes=notes,
            compliance=piece.report,
            truncated=piece.truncated,
            unpriced_calls=sum(1 for a in attempts if a.cost is None),
        ),
    )
