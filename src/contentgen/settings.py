"""Settings: ``CONTENTGEN_*`` environment variables, ``.env`` and ``contentgen.toml``.

Built once at the edge (CLI entry, server start, ``Client.from_settings()``) and passed down;
no module reads the environment at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from contentgen.errors import ConfigurationError

EMBEDDED_MODEL = "local/smollm2"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
CACHE_SCHEMES = ("disk", "memory", "redis", "rediss")


def default_home() -> Path:
    return platformdirs.user_data_path("contentgen", appauthor=False)


class Settings(BaseSettings):
    """Every knob of contentgen. Each field is ``CONTENTGEN_<NAME>`` in the environment.

    A field's ``description`` says its format; README.md lists every field (a test keeps the
    two in sync) and ``contentgen settings`` shows the effective values and their origin.
    """

    model_config = SettingsConfigDict(
        env_prefix="CONTENTGEN_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        toml_file="contentgen.toml",
    )

    home: Path = Field(
        default_factory=default_home,
        description="data directory (a path; default: the user data dir, e.g. "
        "~/.local/share/contentgen)",
    )
    database_url: str = Field(
        "", description="sqlite:///PATH (default: HOME/contentgen.db) or memory://"
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
        5, ge=1, le=1000, description="consecutive failures that open a model's circuit"
    )
    breaker_reset: float = Field(
        30.0, gt=0, description="seconds an open circuit waits before a trial call"
    )
    rpm_limits: dict[str, int] = Field(
        default_factory=dict,
        description='model -> requests per minute, a JSON object, e.g. {"openai/gpt-4o-mini": 500}',
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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            TomlConfigSettingsSource(settings_cls),
            file_secret_settings,
        )


# --- loading with errors a user can act on -------------------------------------------------

_SOURCES = {
    "EnvSettingsSource": "the environment",
    "DotEnvSettingsSource": ".env",
    "TomlConfigSettingsSource": "contentgen.toml",
}


def load_settings(**values: Any) -> Settings:
    """``Settings(**values)``, with every problem in the environment, ``.env`` or
    ``contentgen.toml`` raised as a one-line ``ConfigurationError`` that names the variable
    or file, where it came from and what is accepted."""
    try:
        return Settings(**values)
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"a settings file (.env or contentgen.toml) is not UTF-8 text ({exc.reason} at "
            f"byte {exc.start + 1}); save it as UTF-8",
            field="settings",
        ) from exc
    except Exception as exc:
        translated = settings_error(exc)
        if translated is None:
            raise
        raise translated from exc


def env_name(field: str) -> str:
    """``CONTENTGEN_CONCURRENCY`` for ``concurrency``."""
    return f"{Settings.model_config.get('env_prefix', '')}{field}".upper()


def _origin(field: str) -> tuple[str, str]:
    """(name, source) of a setting's raw value, for error messages: the variable in the
    environment or .env, else the key in contentgen.toml."""
    import os

    name = env_name(field)
    if any(key.upper() == name for key in os.environ):
        return name, "the environment"
    try:
        from pydantic_settings import DotEnvSettingsSource

        if field in DotEnvSettingsSource(Settings)():
            return name, ".env"
    except Exception:  # an unreadable .env is reported on its own
        pass
    return field, "contentgen.toml"


def _label(field: str, source: str | None = None) -> str:
    name, where = _origin(field)
    if source is not None:
        where = _SOURCES.get(source, source)
        name = field if where == "contentgen.toml" else env_name(field)
    return f"{name} (from {where})"


def _expected(field: str) -> str:
    info = Settings.model_fields.get(field)
    return f"; expected {info.description}" if info is not None and info.description else ""


def _shown(field: str, value: Any) -> str:
    """A bad value fit for an error message: secrets and URL passwords hidden, kept short."""
    info = Settings.model_fields.get(field)
    if info is not None and "SecretStr" in str(info.annotation):
        return "'***'"
    text = mask_url(value) if isinstance(value, str) else repr(value)
    text = repr(text) if isinstance(value, str) else text
    return text if len(text) <= 80 else text[:77] + "..."


def mask_url(value: str) -> str:
    """``value`` with the password of a URL in it replaced by ``***``."""
    import re

    return re.sub(r"(://[^/@:\s]*:)[^/@\s]+@", r"\1***@", value)


def settings_error(exc: BaseException) -> ConfigurationError | None:
    """A ``ConfigurationError`` for a failure to build ``Settings``, or None if ``exc`` is not
    one (pydantic ValidationError, pydantic-settings SettingsError or a TOML error)."""
    import tomllib

    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    if isinstance(exc, ValidationError) and exc.title == Settings.__name__:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        msg = str(first["msg"]).removeprefix("Value error, ")
        expected = "" if first["type"] == "value_error" else _expected(field)
        more = len(exc.errors()) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        value = f"={_shown(field, first['input'])}" if "input" in first else ""
        return ConfigurationError(
            f"setting {_label(field)}{value}: {msg}{expected}{suffix}", field=field
        )
    if isinstance(exc, SettingsError):
        import re

        found = re.search(r'field "(\w+)" from source "(\w+)"', str(exc))
        if found is None:
            return ConfigurationError(f"settings: {exc}", field="settings")
        field, source = found.groups()
        reason = f": {exc.__cause__}" if exc.__cause__ else ""
        return ConfigurationError(
            f"setting {_label(field, source)} cannot be parsed{reason}{_expected(field)}",
            field=field,
        )
    if isinstance(exc, tomllib.TOMLDecodeError):
        return ConfigurationError(
            f"settings file contentgen.toml is not valid TOML: {exc}; fix it or move it away",
            field="toml",
        )
    return None
