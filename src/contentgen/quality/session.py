"""One piece's conversation with its model: every call goes through ``Session.ask``, which
records each provider attempt in the sink as it happens (paid calls are never lost, even when
a later call fails) and keeps the prompts sent (a piece must not echo them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from contentgen.errors import ProviderError
from contentgen.llm.base import Attempt, Completion, ModelCall
from contentgen.logs import get_logger
from contentgen.models import ContentType
from contentgen.quality import prompts
from contentgen.quality.spec import QualitySpec

#: Tokens per English word, for a reply's ``max_tokens`` (with a margin: a cut reply costs a
#: repair, a few spare tokens cost nothing when the model stops on its own).
TOKENS_PER_WORD = 1.4
TOKEN_MARGIN = 30
#: A small model stops on its own well before its cap, or rambles into it: a loose cap gives
#: it room to finish more of its sentences (what runs past the last one is dropped).
SMALL_TOKENS_PER_WORD = 2.0

log = get_logger()


def max_tokens_for(words: int, cap: int | None) -> int:
    tokens = int(words * TOKENS_PER_WORD) + TOKEN_MARGIN
    return min(tokens, cap) if cap else tokens


@dataclass
class Session:
    call: ModelCall
    spec: QualitySpec
    topic: str
    style: str
    sink: list[Attempt]
    #: The small-model path: replies get ``tidy_markdown`` and code does more of the work.
    small: bool
    on_text: Callable[[str], None] | None = None
    title: str = ""
    #: The piece's section names: a small model's "Introduction: ..." labels come off.
    labels: list[str] = field(default_factory=list)
    prompts_sent: list[str] = field(default_factory=list)
    calls: int = 0

    @property
    def kind(self) -> str:
        return prompts.KIND[self.spec.content_type]

    @property
    def social(self) -> bool:
        return self.spec.content_type is ContentType.SOCIAL

    def budget_tokens(self, words: int) -> int:
        if self.small:
            tokens = int(words * SMALL_TOKENS_PER_WORD) + TOKEN_MARGIN
            cap = self.call.max_output_tokens
            return min(tokens, cap) if cap else tokens
        return max_tokens_for(words, self.call.max_output_tokens)

    async def ask(
        self, prompt: str, words: int, *, stream: bool = False, purpose: str = "write"
    ) -> Completion:
        """One model call for about ``words`` words; ``stream`` passes ``on_text`` on."""
        self.prompts_sent.append(prompt)
        self.calls += 1
        on_text = self.on_text if stream else None
        try:
            done = await self.call(prompt, max_tokens=self.budget_tokens(words), on_text=on_text)
        except ProviderError as exc:
            if isinstance(exc.attempts, tuple):
                self.sink.extend(exc.attempts)
            raise
        self.sink.extend(done.attempts or (done.as_attempt(),))
        log.debug("writer_call", purpose=purpose, model=done.model,
                  output_tokens=done.output_tokens, finish_reason=done.finish_reason)  # fmt: skip
        return done

    def clean(self, reply: Completion, heading: str, seen: list[str]) -> str:
        """A reply's text as the body of part ``heading`` (``tidy.section_body``)."""
        from contentgen.quality.measures import forbidden_found
        from contentgen.quality.tidy import drop_sentences, section_body

        body = section_body(
            reply.text, heading, title=self.title, small=self.small, seen=seen,
            cut=reply.finish_reason == "length",
            labels=[*self.labels, "Introduction", "Conclusion", "Opening", heading, self.title],
            keep=" ".join(self.spec.allowed),
        )  # fmt: skip
        if self.small and self.spec.forbidden:  # code keeps a small model's words in line
            body = drop_sentences(body, lambda s: bool(forbidden_found(s, self.spec.forbidden)))
        return body

    def emit(self, text: str) -> None:
        """Stream text the code writes itself (headings) alongside the model's."""
        if self.on_text is not None:
            self.on_text(text)

    def echo_spec(self) -> QualitySpec:
        """The spec, also guarding against echoes of the writer's own instructions."""
        return self.spec.with_instructions(*prompts.INSTRUCTIONS)
