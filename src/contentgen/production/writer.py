"""Turn a built prompt into a Markdown piece with an LLM.

Capable models write the whole piece from the IM's prompt in one call. Small embedded models
(``call.mode == "sections"``, from the catalogue) lose structure and loop on long outputs, so
for them the structure and length come from here: a title call, then one call per section of
the plan, each carrying the client's full instructions. Every provider attempt of every call
is appended to ``attempts_sink`` as it happens, so a failure half-way still records what was
paid.
"""

from __future__ import annotations

import re

from contentgen.errors import ProviderError
from contentgen.instructions.builder import BuiltPrompt
from contentgen.llm.base import Attempt, Completion, ModelCall
from contentgen.production.analysis import drop_repeats, make_title

TOKENS_PER_WORD = 1.4
_MAX_TITLE_WORDS = 14


def _max_tokens(words: int, cap: int | None = None) -> int:
    tokens = int(words * TOKENS_PER_WORD) + 64
    return min(tokens, cap) if cap else tokens


async def _call(
    call: ModelCall, prompt: str, max_tokens: int, sink: list[Attempt]
) -> Completion:
    try:
        done = await call(prompt, max_tokens=max_tokens)
    except ProviderError as exc:
        sink.extend(exc.attempts)
        raise
    sink.extend(done.attempts or (done.as_attempt(),))
    return done


async def write_piece(
    call: ModelCall, built: BuiltPrompt, topic: str, *, attempts_sink: list[Attempt]
) -> tuple[str, list[Completion]]:
    """Return the Markdown text and the completions that produced it (one per call)."""
    plan = built.plan
    if call.mode == "single" or not plan.sections:
        tokens = _max_tokens(plan.max_words, call.max_output_tokens)
        done = await _call(call, built.prompt, tokens, attempts_sink)
        return done.text, [done]
    return await _write_by_section(call, built, topic, attempts_sink)


_TAG = re.compile(r"</?\s*[a-zA-Z][^>\n]*>?")
_CODE_LIKE = re.compile(r"""^\s*["']?[\w\-]+["']?\s*[:=]\s*["'{\[]""")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]?(?=\s|$)")


def tidy(text: str) -> str:
    """Small models leak HTML, JSON fragments, stray quotes and cut-off sentences: keep the
    prose."""
    lines = []
    for raw in text.splitlines():
        line = _TAG.sub("", raw).strip()
        if _CODE_LIKE.match(line):
            continue
        line = line.strip("\"'` ")
        if len(line.split()) < 3 and not line.startswith("#"):
            continue
        lines.append(line)
    body = "\n\n".join(lines).strip()
    ends = list(_SENTENCE_END.finditer(body))
    if ends and ends[-1].end() < len(body):  # drop the trailing fragment of a cut-off reply
        body = body[: ends[-1].end()]
    return body


def _clean_title(text: str, topic: str) -> str:
    for line in _TAG.sub("", text).strip().splitlines():
        line = re.sub(r"^(#+\s*|title\s*:\s*)", "", line.strip(), flags=re.IGNORECASE)
        line = line.strip().strip("\"'*`").strip()
        words = line.split()
        if 2 <= len(words) <= _MAX_TITLE_WORDS and not line.endswith(":"):
            return line.rstrip(".")
    return make_title(topic)


def _clean_section(text: str) -> str:
    """Section bodies are prose: a small model's own headings (often the title or the next
    section again) are dropped."""
    lines = [line for line in tidy(text).splitlines() if not line.lstrip().startswith("#")]
    return "\n".join(lines).strip()


async def _write_by_section(
    call: ModelCall, built: BuiltPrompt, topic: str, sink: list[Attempt]
) -> tuple[str, list[Completion]]:
    plan = built.plan
    calls: list[Completion] = []
    title_prompt = (
        f"{built.prompt}\n\nFirst, give only the title of this piece about {topic}: "
        "one line, no quotes, at most 12 words."
    )
    done = await _call(call, title_prompt, 32, sink)
    calls.append(done)
    title = _clean_title(done.text, topic)
    per_section = max(40, plan.target_words // max(1, len(plan.sections)))
    parts = [f"# {title}"]
    for section in plan.sections:
        prompt = (
            f"{built.prompt}\n\nThe piece is titled \"{title}\". Write only the section "
            f"\"{section}\": about {per_section} words of plain paragraphs, no heading, "
            "no title, do not repeat yourself."
        )
        done = await _call(call, prompt, _max_tokens(per_section, call.max_output_tokens), sink)
        calls.append(done)
        body = _clean_section(done.text)
        parts.append(f"## {section}\n\n{body}" if body else f"## {section}")
    return drop_repeats("\n\n".join(parts), seen=[title]), calls
