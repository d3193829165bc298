"""``FakeLLM``: a scriptable in-process model for tests (it ships with the library).

::

    llm = FakeLLM(["# Title\\n\\nfirst reply", ProviderError("down", provider="x", model="y")])
    llm.enqueue("another reply")
    await llm.complete("prompt", model="openai/gpt-4o-mini")
    assert llm.history == [("openai/gpt-4o-mini", "prompt")]

Canned replies are used first, in order (an exception is raised instead of answering); then
``default``; with no default it writes a deterministic Markdown article from the prompt. Like
every backend it makes one attempt per call: a ``ProviderError`` it raises carries that
attempt; an empty reply is raised as ``ProviderError(kind="empty")``. With ``on_text`` the
reply is streamed word by word.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Iterable

from contentgen.errors import ProviderError
from contentgen.llm import pricing
from contentgen.llm.base import Completion, CompletionParams, TextCallback, failed_attempt

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")
_COMMON_WORDS = """
the and for with that this from your about into over what when where which write blog post
article words word using include including keywords keyword should must have has are was were
will would can could our their them they you
"""
_STOPWORDS = frozenset(_COMMON_WORDS.split())


def article_from_prompt(prompt: str) -> str:
    """A deterministic Markdown article mentioning the prompt's words ('# ' title, '## ' parts)."""
    words: list[str] = []
    for match in _WORD.finditer(prompt):
        word = match.group(0).lower()
        if word not in _STOPWORDS and word not in words:
            words.append(word)
    if not words:
        words = ["content"]
    topic = " ".join(words[:4])
    title = topic.title()
    sections = []
    for i, heading in enumerate(("Why it matters", "How to get started", "What to avoid")):
        focus = words[(i + 1) % len(words)]
        others = ", ".join(words[: 6 + i])
        sections.append(
            f"## {heading}: {focus.title()}\n\n"
            f"When it comes to {topic}, {focus} makes the difference. "
            f"Teams that plan around {others} see steadier results, because every step "
            f"builds on the one before it. Start small, measure what changes, and keep "
            f"what works.\n"
        )
    conclusion = (
        f"## Conclusion\n\nGood {topic} is a habit, not a one-off project. "
        f"Pick one idea from this guide and try it this week.\n"
    )
    return f"# {title}\n\n" + "\n".join(sections) + "\n" + conclusion


class FakeLLM:
    """A model that answers from a queue; records every call in ``history``."""

    def __init__(
        self,
        replies: Iterable[str | BaseException] = (),
        default: str | None = None,
        latency: float = 0.0,
        *,
        finish_reason: str = "stop",
    ) -> None:
        self._queue: deque[str | BaseException] = deque(replies)
        self.default = default
        #: Seconds each call takes (simulated with ``asyncio.sleep``).
        self.latency = latency
        #: The ``finish_reason`` of every answer (``"length"`` simulates a cut reply).
        self.finish_reason = finish_reason
        #: ``(model, prompt)`` of every call, in order, failed ones included.
        self.history: list[tuple[str, str]] = []
        self.closed = False

    def enqueue(self, *items: str | BaseException) -> None:
        """Add canned replies (or exceptions to raise) after the queued ones."""
        self._queue.extend(items)

    @property
    def calls(self) -> int:
        """How many times ``complete`` was called."""
        return len(self.history)

    @property
    def pending(self) -> int:
        """Canned replies not used yet."""
        return len(self._queue)

    async def complete(
        self,
        prompt: str,
        *,
        model: str,
        params: CompletionParams | None = None,
        on_text: TextCallback | None = None,
    ) -> Completion:
        started = time.perf_counter()
        self.history.append((model, prompt))
        provider = model.split("/", 1)[0] if "/" in model else "fake"
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if self._queue:
            item = self._queue.popleft()
            if isinstance(item, BaseException):
                if isinstance(item, ProviderError) and not item.attempts:
                    ms = round((time.perf_counter() - started) * 1000)
                    item.attempts = (failed_attempt(item.provider, item.model, item.message, ms),)
                raise item
            text = item
        elif self.default is not None:
            text = self.default
        else:
            text = article_from_prompt(prompt)
        input_tokens, output_tokens = len(prompt.split()), len(text.split())
        cost = pricing.cost(model, input_tokens, output_tokens)
        ms = round((time.perf_counter() - started) * 1000)
        if not text.strip():
            message = f"{model}: empty content"
            attempt = failed_attempt(provider, model, message, ms, input_tokens=input_tokens,
                                     cost=cost, finish_reason=self.finish_reason)  # fmt: skip
            raise ProviderError(message, provider=provider, model=model, kind="empty",
                                attempts=(attempt,))  # fmt: skip
        if on_text is not None:
            for i, word in enumerate(text.split(" ")):
                on_text(word if i == 0 else " " + word)
        return Completion(
            text=text,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost=cost,
            latency_ms=ms,
            provider=provider,
            model=model,
            finish_reason=self.finish_reason,
        )

    async def aclose(self) -> None:
        self.closed = True
