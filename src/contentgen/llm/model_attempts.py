"""One model's attempts within a route: the breaker, budget, rate limit and call slot.

Before every attempt the model's circuit breaker is asked (an open circuit raises
``CircuitOpen``), money is reserved when a budget applies, and the model's rate limit taken;
the batch's call slot is held during the provider call only, never during a back-off sleep.
Every attempt made is appended to ``attempts`` under the catalogue's name and price. The
first attempt is a plain call; a retryable failure goes on in ``retry_policy``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from tenacity import RetryCallState

from contentgen.errors import ProviderError
from contentgen.llm.attempt_accounting import (
    completion_cost,
    own_attempt,
    settle_budget,
    usage_attributes,
)
from contentgen.llm.base import Attempt, Completion, CompletionParams, TextCallback
from contentgen.llm.breaker import CircuitOpen
from contentgen.llm.budget import DEFAULT_MAX_TOKENS, CallBudget, cost_bound
from contentgen.llm.catalogue import ModelEntry
from contentgen.llm.retry_policy import retry_after_failure, retryable
from contentgen.llm.streamed_text import StreamedText
from contentgen.logs import get_logger
from contentgen.production.shared_limits import estimate_tokens
from contentgen.tracing import span

if TYPE_CHECKING:
    from contentgen.llm.router import Router

log = get_logger()


async def attempt_model(
    router: Router, entry: ModelEntry, prompt: str, params: CompletionParams,
    on_text: TextCallback | None, slots: asyncio.Semaphore | None, attempts: list[Attempt],
    budget: CallBudget | None, *, wait: Callable[[RetryCallState], float],
    sleep: Callable[[float], Awaitable[None]],
) -> Completion:  # fmt: skip
    """``prompt`` on ``entry`` with up to ``settings.llm_retries`` attempts (``Router.run``)."""
    breaker = router.breakers.get(f"{entry.provider}:{entry.name}")
    backend = router.backend(entry)
    wire = router.wire(entry)
    if entry.provider == "local":
        cap = router.settings.local_max_tokens
        params = dataclasses.replace(params, max_tokens=min(params.max_tokens or cap, cap))
    prices = router.catalogue.prices(entry)
    if budget is not None and (prices is None or prices.input or prices.output):
        if params.max_tokens is None:  # a bound on the output makes a bound on the cost
            params = dataclasses.replace(params, max_tokens=DEFAULT_MAX_TOKENS)
    else:
        budget = None  # free (local, fake, a price of 0): nothing to hold
    estimate = None if prices is None else cost_bound(prices, prompt, params.max_tokens or 0)

    def own(attempt: Attempt) -> Attempt:
        return own_attempt(router.catalogue, router.secrets, entry, attempt)

    def cost_of(done: Completion) -> float | None:
        return completion_cost(router.catalogue, entry, done)

    async def once() -> Completion:
        if not breaker.allow():
            raise CircuitOpen(entry.name, entry.provider, breaker.retry_in())
        hold: object | None = None
        if budget is not None:
            try:
                hold = await budget.reserve(entry.name, estimate)
            except BaseException:
                breaker.release()  # no call was made
                raise
        try:
            with span("contentgen.llm.attempt", **{"gen_ai.system": entry.provider,
                                                   "gen_ai.request.model": entry.name,
                                                   "contentgen.estimate_usd": estimate,
                                                   }) as attempt_span:  # fmt: skip
                try:
                    done = await call()
                except ProviderError as exc:
                    attempt_span.set_attribute("contentgen.error_kind", exc.kind)
                    raise
                attempt_span.set_attributes(usage_attributes(done, cost_of(done)))
        except ProviderError as exc:
            if budget is not None:
                costs = [own(a).cost for a in exc.attempts]
                paid = None if None in costs else sum(c or 0.0 for c in costs)
                await settle_budget(budget, hold, paid)
            raise
        if budget is not None:
            await settle_budget(budget, hold, cost_of(done))
        return done

    async def call() -> Completion:
        held = None
        if router.shared_limits is None:
            await router.limits.acquire(entry.name)
        else:
            held = await router.shared_limits.acquire(entry.name, estimate_tokens(prompt, params))
        # on_text only when streaming: an LLM written before streaming still works.
        extra = {} if on_text is None else {"on_text": on_text}
        if isinstance(on_text, StreamedText):
            on_text.attempt()
        try:
            if slots is None:
                done = await backend.complete(prompt, model=wire, params=params, **extra)
            else:
                async with slots:
                    done = await backend.complete(prompt, model=wire, params=params, **extra)
        except ProviderError as exc:
            attempts.extend(own(a) for a in exc.attempts)
            if held is not None and router.shared_limits is not None:
                used = sum(a.input_tokens + a.output_tokens for a in exc.attempts)
                await router.shared_limits.settle(entry.name, used, held)
            if exc.transient and exc.kind != "rate_limit":
                breaker.failure()
                if breaker.state != "closed":
                    log.warning("circuit_open", model=entry.name, failures=breaker.failures)
            else:
                breaker.release()
            raise
        except BaseException:
            breaker.release()
            raise
        breaker.success()
        if held is not None and router.shared_limits is not None:
            used = done.input_tokens + done.output_tokens
            await router.shared_limits.settle(entry.name, used, held)
        router.latency.observe(entry.name, done.latency_ms)
        return done

    # The first attempt is a plain call: tenacity's loop costs ~0.1 ms of CPU, as much as
    # the HTTP call itself, and most calls succeed at once.
    try:
        return await once()
    except ProviderError as exc:
        if not retryable(exc) or router.settings.llm_retries <= 1:
            raise
        first = exc
    return await retry_after_failure(once, first, model=entry.name,
                                     retries=router.settings.llm_retries, wait=wait,
                                     sleep=sleep)  # fmt: skip
