"""The Instructions Module (IM): a request plus the client's effective setup -> a prompt.

The strategy cache holds each client's resolved ``EffectiveSetup`` (TTL
``strategy_cache_ttl``) under a key with the storage's setup revision of the client's chain,
so a change of the client's or an ancestor's setup, in any process, is seen at once. The
prompt cache keys on the canonical request plus the setup's
fingerprint, strategy version and template version, so it can never serve a stale prompt.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from dataclasses import dataclass

from pydantic import ValidationError

from contentgen.cache.base import Cache
from contentgen.errors import InvalidInput, PromptJobNotFound
from contentgen.instructions.defaults import (
    BUILTIN_TEMPLATE_VERSION,
    BUILTIN_TEMPLATES,
    DEFAULT_SECTIONS,
    WORD_TARGETS,
)
from contentgen.instructions.setup import EFFECTIVE, EffectiveSetup, resolve_setup, rule_texts
from contentgen.instructions.templates import render_template
from contentgen.logs import get_logger
from contentgen.models import (
    JobStatus,
    PromptJob,
    PromptMetadata,
    PromptRequest,
    utcnow,
)
from contentgen.storage.base import Storage

log = get_logger()


@dataclass(frozen=True)
class WritingPlan:
    """What the piece must look like: the pipeline writes and checks against it."""

    sections: list[str]
    min_words: int
    max_words: int
    target_words: int
    keywords: list[str]


@dataclass(frozen=True)
class BuiltPrompt:
    prompt: str
    metadata: PromptMetadata
    plan: WritingPlan
    setup: EffectiveSetup


def make_plan(request: PromptRequest, setup: EffectiveSetup) -> WritingPlan:
    """The writing plan; refuses a word range whose minimum exceeds its maximum (possible
    when the two come from different clients of the chain; one strategy cannot hold it)."""
    guide = setup.config.content_guidelines
    target = WORD_TARGETS[request.content_type][request.length]
    lo, hi = guide.min_words, guide.max_words
    if lo is not None and hi is not None and lo > hi:
        lo_from = setup.origins.get("content_guidelines.min_words", "?")
        hi_from = setup.origins.get("content_guidelines.max_words", "?")
        name = setup.client.name
        raise InvalidInput(
            f"strategy: content_guidelines.min_words {lo} (from {lo_from}) exceeds "
            f"content_guidelines.max_words {hi} (from {hi_from}) for client {name!r}; change "
            f"one with `contentgen strategies set {name} --min-words N` or `--max-words N`",
            field="content_guidelines.min_words",
        )
    min_words = lo if lo is not None else (int(target * 0.8) if hi is None else min(hi, target))
    max_words = hi if hi is not None else max(int(target * 1.2), min_words)
    if lo is not None or hi is not None:
        target = (min_words + max_words) // 2
    sections = guide.required_sections
    if sections is None:
        sections = DEFAULT_SECTIONS[request.content_type]
    keywords = list(request.keywords)
    for kw in setup.config.seo_focus.primary_keywords or []:
        if kw.lower() not in {k.lower() for k in keywords}:
            keywords.append(kw)
    return WritingPlan(list(sections), min_words, max_words, target, keywords)


class InstructionsModule:
    def __init__(
        self, storage: Storage, cache: Cache, *, strategy_ttl: float, prompt_ttl: float
    ) -> None:
        self.storage = storage
        self.cache = cache
        self.strategy_ttl = strategy_ttl
        self.prompt_ttl = prompt_ttl
        self._tasks: set[asyncio.Task[None]] = set()

    # strategy cache --------------------------------------------------------------------------
    async def setup_for(self, client_id: uuid.UUID) -> EffectiveSetup:
        """The client's effective setup, from the strategy cache when it is current.

        The key holds the setup revision of the client's chain, read from storage first: any
        change of the client or an ancestor, made by any process, changes the key, so a
        setup cached before a change is never read again (it just expires). The setup is
        read after the revision, so what is stored under a key is never older than it."""
        revision = await self.storage.setup_revision(client_id)
        key = f"setup:{client_id}:{revision}"
        raw = await self.cache.get(key)
        if raw is not None:
            try:
                return EffectiveSetup.model_validate_json(raw, context=EFFECTIVE)
            except ValidationError:
                await self.cache.delete(key)
        setup = await resolve_setup(self.storage, client_id)
        await self.cache.set(key, setup.model_dump_json().encode(), ttl=self.strategy_ttl)
        return setup

    # prompts ---------------------------------------------------------------------------------
    async def build(
        self, request: PromptRequest, setup: EffectiveSetup | None = None, *, cache: bool = True
    ) -> BuiltPrompt:
        """The prompt for a request; ``setup`` (already resolved) skips the strategy cache.

        ``cache=False`` skips the prompt cache: a batch's rows have distinct topics, so a
        lookup would never hit and each store would only cost time."""
        if setup is None or setup.client.id != request.client_id:
            setup = await self.setup_for(request.client_id)
        plan = make_plan(request, setup)
        template = setup.templates.get(request.content_type)
        body = template.body if template else BUILTIN_TEMPLATES[request.content_type]
        template_version = f"v{template.version}" if template else BUILTIN_TEMPLATE_VERSION
        metadata = PromptMetadata(
            client_id=request.client_id,
            content_type=request.content_type,
            keywords=plan.keywords,
            template_version=template_version,
            refined=False,
            strategy_version=setup.strategy_version,
        )
        if not cache:
            prompt = render_template(body, self._variables(request, setup, plan))
            return BuiltPrompt(prompt, metadata, plan, setup)
        canonical = json.dumps(
            [request.model_dump(mode="json"), setup.fingerprint(), template_version],
            sort_keys=True,
        )
        key = "prompt:" + hashlib.sha256(canonical.encode()).hexdigest()
        cached = await self.cache.get(key)
        if cached is not None:
            return BuiltPrompt(cached.decode(), metadata, plan, setup)
        prompt = render_template(body, self._variables(request, setup, plan))
        await self.cache.set(key, prompt.encode(), ttl=self.prompt_ttl)
        return BuiltPrompt(prompt, metadata, plan, setup)

    @staticmethod
    def _variables(
        request: PromptRequest, setup: EffectiveSetup, plan: WritingPlan
    ) -> dict[str, object]:
        cfg = setup.config
        return {
            "topic": request.topic,
            "content_type": request.content_type.value,
            "keywords": list(request.keywords),
            "length": request.length.value,
            "client_name": setup.client.name,
            "target_words": plan.target_words,
            "min_words": plan.min_words,
            "max_words": plan.max_words,
            "required_sections": plan.sections,
            "citation_required": bool(cfg.content_guidelines.citation_required),
            "primary_keywords": cfg.seo_focus.primary_keywords or [],
            "keyword_density": cfg.seo_focus.keyword_density,
            "meta_description_length": cfg.seo_focus.meta_description_length,
            "tone": cfg.tone.model_dump(),
            "seo_rules": rule_texts(setup),
            "preferences": {k: v.value for k, v in setup.preferences.items()},
        }

    # the reference's async IM contract -------------------------------------------------------
    async def generate_prompt(self, request: PromptRequest) -> uuid.UUID:
        """Create a prompt job and build it in the background; returns its id at once."""
        job = await self.storage.save_prompt_job(PromptJob(params=request))
        task = asyncio.create_task(self._run_prompt_job(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job.id

    async def _run_prompt_job(self, job: PromptJob) -> None:
        try:
            job = job.model_copy(update={"status": JobStatus.IN_PROGRESS, "updated_at": utcnow()})
            await self.storage.save_prompt_job(job)
            built = await self.build(job.params)
        except Exception as exc:  # a prompt job must end failed, never hang
            log.warning("prompt_job_failed", job_id=str(job.id), error=str(exc))
            job = job.model_copy(
                update={"status": JobStatus.FAILED, "error": str(exc), "updated_at": utcnow()}
            )
        else:
            job = job.model_copy(
                update={
                    "status": JobStatus.COMPLETED,
                    "prompt": built.prompt,
                    "metadata": built.metadata,
                    "updated_at": utcnow(),
                }
            )
        await self.storage.save_prompt_job(job)

    async def get_prompt(self, job_id: uuid.UUID) -> PromptJob:
        job = await self.storage.get_prompt_job(job_id)
        if job is None:
            raise PromptJobNotFound(str(job_id))
        return job

    async def drain(self) -> None:
        """Wait for background prompt jobs (called on close)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
