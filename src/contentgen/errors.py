"""The one error tree of contentgen.

::

    ContentgenError
    ├── InvalidInput            bad user input: names the field and what is allowed
    ├── NotFound
    │   ├── ClientNotFound
    │   ├── JobNotFound
    │   ├── StrategyNotFound
    │   └── PromptJobNotFound
    ├── Conflict                the change would break an invariant (e.g. client has jobs)
    ├── AuthError               a server refused the credentials (missing, bad, expired token)
    ├── Forbidden               the caller may not do this (e.g. a write without an admin token)
    ├── RemoteError             a server answered something unexpected (5xx, bad body)
    ├── ConfigurationError
    │   ├── MissingExtra        an optional extra is not installed: says which pip command
    │   └── MissingKey          a provider's key is not set: names the variable to set
    ├── TemplateError           a prompt template does not parse or uses unknown variables
    ├── ProviderError           an LLM call failed (``kind`` says how; ``attempts`` what was paid)
    │   └── ProviderUnavailable connection refused / timed out / circuit open
    ├── NoncompliantPiece       a piece still fails its strategy after repair (strategy says fail)
    ├── StorageError
    └── JobFailed               waiting on a job that ended ``failed``

Every error carries a message that says what is wrong and how to fix it. Third-party errors
are translated at the adapter boundary and chained with ``raise ... from exc``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from contentgen.llm.base import Attempt

#: How a provider call failed. Retried (and counted by circuit breakers): rate_limit, server,
#: timeout, connection, empty, malformed. Never retried: auth, bad_request, budget.
ProviderErrorKind = Literal[
    "rate_limit", "auth", "bad_request", "server", "timeout", "connection", "empty",
    "malformed", "budget",
]  # fmt: skip
TRANSIENT_KINDS = frozenset({"rate_limit", "server", "timeout", "connection", "empty", "malformed"})


class ContentgenError(Exception):
    """Base of every error contentgen raises on purpose."""

    #: HTTP status the server maps this error to.
    status_code: int = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details

    def __str__(self) -> str:
        return self.message


class InvalidInput(ContentgenError):
    """User input failed validation; ``field`` names what is wrong."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message, field=field, **details)
        self.field = field


class NotFound(ContentgenError):
    status_code = 404


class ClientNotFound(NotFound):
    def __init__(self, ref: str) -> None:
        super().__init__(
            f"client: no client named or with id {ref!r}; "
            "see `contentgen clients list` or add it with `contentgen clients add NAME`",
            field="client",
            ref=ref,
        )


class JobNotFound(NotFound):
    def __init__(self, job_id: str) -> None:
        super().__init__(
            f"Job not found: {job_id} (list jobs with `contentgen jobs`)", job_id=job_id
        )


class PromptJobNotFound(NotFound):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"Prompt job not found: {job_id}", job_id=job_id)


class StrategyNotFound(NotFound):
    pass


class Conflict(ContentgenError):
    status_code = 409


class AuthError(ContentgenError):
    """The server refused the credentials; ``reason`` is one of missing, malformed,
    bad_signature, expired, invalid_claims."""

    status_code = 401

    def __init__(self, message: str, *, reason: str = "invalid", **details: Any) -> None:
        super().__init__(message, reason=reason, **details)
        self.reason = reason


class Forbidden(ContentgenError):
    status_code = 403


class RemoteError(ContentgenError):
    """A contentgen server answered with an unexpected status or body."""

    status_code = 502

    def __init__(self, message: str, *, status: int | None = None, **details: Any) -> None:
        super().__init__(message, status=status, **details)
        self.status = status


class ConfigurationError(ContentgenError):
    status_code = 500


class MissingKey(ConfigurationError):
    """The provider of a model needs a key that is not set (checked before a job is created)."""

    status_code = 400

    def __init__(self, model: str, provider: str, variable: str) -> None:
        super().__init__(
            f"model {model}: no key for provider {provider}; set {variable} "
            "(or choose another model: `contentgen models` shows what is usable)",
            model=model,
            provider=provider,
            variable=variable,
        )
        self.variable = variable


class MissingExtra(ConfigurationError):
    def __init__(self, extra: str, purpose: str, hint: str = "") -> None:
        msg = f"{purpose} needs the optional extra '{extra}': pip install 'contentgen[{extra}]'"
        if hint:
            msg += f" ({hint})"
        super().__init__(msg, extra=extra)
        self.extra = extra


class TemplateError(InvalidInput):
    def __init__(self, message: str, *, line: int | None = None) -> None:
        where = f"line {line}: " if line else ""
        super().__init__(f"template: {where}{message}", field="template", line=line)
        self.line = line


class ProviderError(ContentgenError):
    """A model call failed. ``kind`` classifies it; ``attempts`` holds every provider call made
    (paid or not) so usage can be recorded; ``retry_after`` is the provider's ``Retry-After``
    in seconds when it sent one; ``status`` the HTTP status when there was one."""

    status_code = 502

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        model: str,
        kind: ProviderErrorKind = "server",
        attempts: tuple[Attempt, ...] | int = (),
        retry_after: float | None = None,
        status: int | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message, provider=provider, model=model, kind=kind, status=status,
                         **details)  # fmt: skip
        self.provider = provider
        self.model = model
        self.kind: ProviderErrorKind = kind
        # An int (the old count of attempts) is accepted and dropped: no Attempt to record.
        self.attempts: tuple[Attempt, ...] = () if isinstance(attempts, int) else attempts
        self.retry_after = retry_after
        self.status = status

    @property
    def transient(self) -> bool:
        """Worth another attempt (and a failure for the circuit breaker)."""
        return self.kind in TRANSIENT_KINDS


class ProviderUnavailable(ProviderError):
    status_code = 503


class BudgetExceeded(ProviderError):
    """A paid call was refused before it was made: it would pass the client's monthly budget,
    or its price is unknown while a budget applies. The message carries the numbers."""

    status_code = 402

    def __init__(self, message: str, *, provider: str, model: str, **details: Any) -> None:
        super().__init__(message, provider=provider, model=model, kind="budget", **details)


class StorageError(ContentgenError):
    pass


class NoncompliantPiece(ContentgenError):
    """The best version of a piece still fails checks of its strategy after its repair rounds,
    and the strategy sets ``content_guidelines.fail_on_noncompliance``. ``report`` is that
    version's ``ComplianceReport``; ``piece`` the version itself."""

    status_code = 422

    def __init__(self, summary: str, *, report: Any, piece: Any = None) -> None:
        super().__init__(
            f"the piece does not meet its strategy ({summary}); the strategy's "
            "fail_on_noncompliance is set, so the job failed instead of completing",
        )
        self.report = report
        self.piece = piece


class JobFailed(ContentgenError):
    status_code = 500

    def __init__(self, job_id: str, error: str) -> None:
        super().__init__(f"job {job_id} failed: {error}", job_id=job_id)
        self.job_id = job_id
        self.error = error
