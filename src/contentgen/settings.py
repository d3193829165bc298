"""Settings: ``CONTENTGEN_*`` environment variables, ``.env`` and ``contentgen.toml``.

Built once at the edge (CLI entry, server start, ``Client.from_settings()``) and passed down;
no module reads the environment at import time. ``Settings()`` reads the sources
(``settings_sources.py``: keyword arguments > environment > ``.env`` > ``contentgen.toml``);
``load_settings()`` does the same and turns every problem into a one-line
``ConfigurationError`` naming the variable, where it came from and what it accepts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from contentgen.errors import ConfigurationError
from contentgen.settings_sources import TOML, env_name, read_sources

EMBEDDED_MODEL = "local/smollm2"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
CACHE_SCHEMES = ("disk", "memory", "redis", "rediss")


def default_home() -> Path:
    import platformdirs

    return platformdirs.user_data_path("contentgen", appauthor=False)


class Settings(BaseModel):
    """Every knob of contentgen. Each field is ``CONTENTGEN_<NAME>`` in the environment.

    A field's ``description`` says its format; README.md lists every field (a test keeps the
    two in sync) and ``contentgen settings`` shows the effective values and their origin.
    """

    model_config = ConfigDict(extra="ignore", defer_build=True)

    def __init__(self, **values: Any) -> None:
        """Keyword arguments win over the environment, ``.env`` and ``contentgen.toml``."""
        found = read_sources({n: f.annotation for n, f in type(self).model_fields.items()})
        super().__init__(**{**found.values, **values})

    home: Path = Field(
        default_factory=default_home,
        description="data directory (a path; default: the user data dir, e.g. "
        "~/.local/share/contentgen)",
    )
    database_url: str = Field(
        "",
        description="sqlite:///PATH (default: HOME/contentgen.db), "
        "postgresql://USER:PASSWORD@HOST:PORT/DB, supabase://PROJECT.supabase.co or memory://",
    )
    database_listen: bool = Field(
        True, description="PostgreSQL: LISTEN for job changes, true or false (false: poll)"
    )
    database_pooled: bool | None = Field(
        None,
        description="PostgreSQL URL goes through a pooler in transaction mode (PgBouncer, "
        "Supavisor), true or false: no prepared statements, no LISTEN; unset: true for "
        "port 6543",
    )
    database_pool_size: int = Field(
        10, ge=1, le=200, description="PostgreSQL connections per process, an integer 1-200"
    )
    supabase_key: SecretStr | None = Field(
        None, description="service_role key for a supabase:// database URL (secret)"
    )
    cache_url: str = Field(
        "",
        description="disk://PATH (default: HOME/cache), memory://, redis://HOST[:PORT][/DB] "
        "or rediss://... (extra 'redis')",
    )
    model: str | None = Field(
        None, description="default model, a litellm model string, e.g. openai/gpt-4o-mini"
    )
    api_base: str | None = Field(
        None, description="base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:8080/v1"
    )
    api_key: SecretStr | None = Field(None, description="API key sent to API_BASE (secret)")
    llm_backend: Literal["auto", "litellm", "aiohttp", "httpx"] = Field(
        "auto",
        description="auto/aiohttp: aiohttp for openai/, bare and catalogue-endpoint models (low "
        "overhead), litellm for other providers; litellm: litellm for all ('httpx' is the old "
        "name of aiohttp)",
    )
    local_model_path: Path | None = Field(
        None, description="a GGUF file for local/ models (default: the bundled SmolLM2)"
    )
    catalogue: str | dict[str, Any] | None = Field(
        None,
        description="model catalogue: a TOML file path or an inline TOML/JSON table "
        "(format in contentgen.llm.catalogue)",
    )
    concurrency: int = Field(4, ge=1, le=512, description="jobs run at once, an integer 1-512")
    llm_timeout: float = Field(120.0, gt=0, description="seconds per LLM call, a number > 0")
    llm_retries: int = Field(3, ge=1, le=10, description="attempts per LLM call, an integer 1-10")
    retry_wait: float = Field(
        1.0, ge=0, description="first back-off between attempts in seconds, a number >= 0"
    )
    breaker_failures: int = Field(
        5, ge=1, le=1000,
        description="consecutive failures that open a model's circuit, an integer 1-1000",
    )
    breaker_reset: float = Field(
        30.0, gt=0, description="seconds an open circuit waits before a trial call, a number > 0"
    )
    rpm_limits: dict[str, int] = Field(
        default_factory=dict,
        description='model -> requests per minute, a JSON object, e.g. {"openai/gpt-4o-mini": 500}',
    )
    tpm_limits: dict[str, int] = Field(
        default_factory=dict,
        description="model -> tokens per minute, a JSON object, e.g. "
        '{"openai/gpt-4o-mini": 200000}',
    )
    rate_limit_url: str = Field(
        "",
        description="redis://HOST[:PORT][/DB] to share rpm/tpm limits across every worker "
        "(extra 'redis'); empty: limits hold per process",
    )
    lease_seconds: float = Field(
        30.0,
        gt=0,
        le=86400,
        description="seconds a job's lease lasts, a number > 0; runners heartbeat every third "
        "of it, and a job whose runner vanished is taken over after it",
    )
    max_attempts: int = Field(
        3,
        ge=1,
        le=100,
        description="claims of a job whose runners vanished before it fails, an integer 1-100",
    )
    strategy_cache_ttl: int = Field(
        300, ge=0, description="seconds a resolved client setup is cached, an integer >= 0"
    )
    prompt_cache_ttl: int = Field(
        3600, ge=0, description="seconds a built prompt is cached, an integer >= 0"
    )
    local_max_tokens: int = Field(
        320, ge=16, description="max new tokens per embedded-model call, an integer >= 16"
    )
    repair_rounds: int = Field(
        2, ge=0, le=10, description="rounds of targeted repairs of a piece that fails checks"
    )
    log_level: str = Field(
        "WARNING", description="DEBUG | INFO | WARNING | ERROR | CRITICAL (logs go to stderr)"
    )
    tracing: bool = Field(
        False,
        description="OpenTelemetry spans of every job (extra 'otel'), exported over OTLP/HTTP "
        "to OTEL_EXPORTER_OTLP_ENDPOINT: true or false",
    )

    server_url: str | None = Field(
        None, description="a contentgen server (http://host:port): every command uses it"
    )
    token: SecretStr | None = Field(None, description="bearer token for server_url")
    jwt_secret: SecretStr | None = Field(
        None, description="HS256 secret the server signs and checks tokens with (>= 32 bytes)"
    )

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)} (got {value!r})")
        return level

    @field_validator("cache_url")
    @classmethod
    def _cache_url(cls, value: str) -> str:
        value = value.strip()
        scheme, sep, _ = value.partition("://")
        if value and (not sep or scheme.lower() not in CACHE_SCHEMES):
            raise ValueError(
                f"unknown scheme {scheme if sep else ''!r}; expected disk://PATH, memory://, "
                "redis://HOST[:PORT][/DB] or rediss://..."
            )
        return value

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'contentgen.db'}"
        if not self.cache_url:
            self.cache_url = f"disk://{self.home / 'cache'}"
        return self


# --- loading with errors a user can act on -------------------------------------------------

def load_settings(**values: Any) -> Settings:
    """``Settings(**values)``, with every problem in the environment, ``.env`` or
    ``contentgen.toml`` raised as a one-line ``ConfigurationError``."""
    try:
        return Settings(**values)
    except Exception as exc:
        translated = settings_error(exc, given=values)
        if translated is None:
            raise
        raise translated from exc


def _label(name: str, given: dict[str, Any]) -> str:
    if name in given:
        return f"{name} (given as an argument)"
    origin = read_sources({name: Settings.model_fields[name].annotation}).origins.get(name)
    if origin == TOML:
        return f"{name} (from {TOML})"
    where = "the environment" if origin in (None, "environment") else origin
    return f"{env_name(name)} (from {where})"


def _expected(name: str) -> str:
    info = Settings.model_fields.get(name)
    return f"; expected {info.description}" if info is not None and info.description else ""


def _shown(name: str, value: Any) -> str:
    """A bad value fit for an error message: secrets and URL passwords hidden, kept short."""
    info = Settings.model_fields.get(name)
    if info is not None and "SecretStr" in str(info.annotation):
        return "'***'"
    text = repr(mask_url(value)) if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def mask_url(value: str) -> str:
    """``value`` with the password of a URL in it replaced by ``***``."""
    import re

    return re.sub(r"(://[^/@:\s]*:)[^/@\s]+@", r"\1***@", value)


def settings_error(
    exc: BaseException, given: dict[str, Any] | None = None
) -> ConfigurationError | None:
    """A ``ConfigurationError`` for a pydantic ``ValidationError`` raised by ``Settings``
    (naming the variable, its origin and the format it takes), or None for other errors."""
    from pydantic import ValidationError

    if not (isinstance(exc, ValidationError) and exc.title == Settings.__name__):
        return None
    first = exc.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else "settings"
    if name not in Settings.model_fields:
        return ConfigurationError(f"settings: {first['msg']}", field="settings")
    msg = str(first["msg"]).removeprefix("Value error, ")
    expected = "" if first["type"] == "value_error" else _expected(name)
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    value = f"={_shown(name, first['input'])}" if "input" in first else ""
    return ConfigurationError(
        f"setting {_label(name, given or {})}{value}: {msg}{expected}{suffix}", field=name
    )
