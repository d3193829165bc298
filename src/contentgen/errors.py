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
    │   └── MissingExtra        an optional extra is not installed: says which pip command
    ├── TemplateError           a prompt template does not parse or uses unknown variables
    ├── ProviderError           an LLM call failed after retries
    │   └── ProviderUnavailable connection refused / timed out / circuit open
    ├── StorageError
    └── JobFailed               waiting on a job that ended ``failed``

Every error carries a message that says what is wrong and how to fix it. Third-party errors
are translated at the adapter boundary and chained with ``raise ... from exc``.
"""

from __future__ import annotations

from typing import Any


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
    status_code = 502

    def __init__(
        self, message: str, *, provider: str, model: str, attempts: int = 1, **details: Any
    ) -> None:
        super().__init__(message, provider=provider, model=model, attempts=attempts, **details)
        self.provider = provider
        self.model = model
        self.attempts = attempts


class ProviderUnavailable(ProviderError):
    status_code = 503


class StorageError(ContentgenError):
    pass


class JobFailed(ContentgenError):
    status_code = 500

    def __init__(self, job_id: str, error: str) -> None:
        super().__init__(f"job {job_id} failed: {error}", job_id=job_id)
        self.job_id = job_id
        self.error = error
