"""What a route's attempts cost and how they are reported.

Every attempt is put under the catalogue's model name and price with every configured secret
masked out of its error text; the final ``Completion`` (or ``ProviderError``) carries all of
them. A call's reserved budget is settled with what it cost.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from contentgen.errors import ProviderError, ProviderUnavailable
from contentgen.llm.base import Attempt, Completion
from contentgen.llm.budget import CallBudget
from contentgen.llm.catalogue import Catalogue, ModelEntry
from contentgen.llm.secrets import Secrets
from contentgen.logs import get_logger

log = get_logger()


def completion_cost(catalogue: Catalogue, entry: ModelEntry, done: Completion) -> float | None:
    """What ``done`` cost at the catalogue's price (None: the price is unknown)."""
    return catalogue.cost(entry, done.input_tokens, done.output_tokens,
                          done.cached_tokens, done.reasoning_tokens)  # fmt: skip


def own_attempt(
    catalogue: Catalogue, secrets: Secrets, entry: ModelEntry, attempt: Attempt
) -> Attempt:
    """A backend's failed attempt under the catalogue's name, price and secret mask."""
    cost = attempt.cost
    if attempt.input_tokens or attempt.output_tokens:
        cost = catalogue.cost(entry, attempt.input_tokens, attempt.output_tokens,
                              attempt.cached_tokens, attempt.reasoning_tokens)  # fmt: skip
    error = secrets.mask(attempt.error) if attempt.error else attempt.error
    return dataclasses.replace(attempt, model=entry.name, provider=entry.provider,
                               cost=cost, error=error)  # fmt: skip


def final_completion(
    entry: ModelEntry, done: Completion, attempts: list[Attempt], cost: float | None
) -> Completion:
    """``done`` under the catalogue's name and price ``cost``, with every attempt of the call."""
    success = Attempt(entry.provider, entry.name, done.input_tokens, done.output_tokens,
                      done.cached_tokens, done.reasoning_tokens, cost, done.latency_ms,
                      done.finish_reason, None)  # fmt: skip
    return dataclasses.replace(done, model=entry.name, provider=entry.provider, cost=cost,
                               attempts=(*attempts, success))  # fmt: skip


def final_error(last: ProviderError, attempts: list[Attempt], secrets: Secrets) -> ProviderError:
    """The error a route ends with: ``last``, counting the attempts made per model."""
    made = len(attempts)
    per_model: dict[str, int] = {}
    for attempt in attempts:
        per_model[attempt.model] = per_model.get(attempt.model, 0) + 1
    where = ", ".join(f"{m} x{n}" for m, n in per_model.items()) or "no call made"
    noun = "attempt" if made == 1 else "attempts"
    message = secrets.mask(f"{last.message} [{made} {noun}: {where}]")
    cls = ProviderUnavailable if isinstance(last, ProviderUnavailable) else ProviderError
    log.warning("llm_failed", model=last.model, kind=last.kind, attempts=made)
    return cls(message, provider=last.provider, model=last.model, kind=last.kind,
               attempts=tuple(attempts), retry_after=last.retry_after,
               status=last.status)  # fmt: skip


async def settle_budget(budget: CallBudget, hold: object | None, cost: float | None) -> None:
    """Replace the estimate ``hold`` by what the call cost; a failure only logs."""
    try:
        await budget.settle(hold, cost)
    except Exception as exc:  # the estimate stays held until the job ends: safe
        log.warning("budget_settle_failed", error=str(exc))


def usage_attributes(done: Completion, cost: float | None) -> dict[str, Any]:
    """The tracing span attributes of a successful attempt."""
    return {
        "gen_ai.usage.input_tokens": done.input_tokens,
        "gen_ai.usage.output_tokens": done.output_tokens,
        "contentgen.cached_tokens": done.cached_tokens,
        "contentgen.reasoning_tokens": done.reasoning_tokens,
        "contentgen.cost_usd": cost,
        "contentgen.cost_known": cost is not None,
        "gen_ai.response.finish_reasons": [done.finish_reason or "unknown"],
        "contentgen.latency_ms": done.latency_ms,
    }
