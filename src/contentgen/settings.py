"""Settings: ``CONTENTGEN_*`` environment variables, ``.env`` and ``contentgen.toml``.

Built once at the edge (CLI entry, server start, ``Client.from_settings()``) and passed down;
no module reads the environment at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

EMBEDDED_MODEL = "local/smollm2"


def default_home() -> Path:
    return platformdirs.user_data_path("contentgen", appauthor=False)


class Settings(BaseSettings):
    """Every knob of contentgen. Each field is ``CONTENTGEN_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix="CONTENTGEN_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        toml_file="contentgen.toml",
    )

    home: Path = Field(default_factory=default_home, description="data directory")
    database_url: str = Field("", description="sqlite:///PATH (default) or memory://")
    cache_url: str = Field("", description="disk://PATH (default), memory:// or redis://...")
    model: str | None = Field(None, description="default model, e.g. openai/gpt-4o-mini")
    api_base: str | None = Field(None, description="base URL of an OpenAI-compatible API")
    api_key: SecretStr | None = Field(None, description="API key for api_base")
    llm_backend: Literal["auto", "litellm", "httpx"] = Field(
        "auto",
        description="auto: plain httpx for openai/ models when api_base is set (low overhead), "
        "litellm otherwise; litellm or httpx force one",
    )
    local_model_path: Path | None = Field(None, description="GGUF file for local/ models")
    catalogue: dict[str, str] = Field(
        default_factory=dict, description="priority -> model, e.g. {cost: openai/gpt-4o-mini}"
    )
    concurrency: int = Field(4, ge=1, le=512, description="jobs run at once")
    llm_timeout: float = Field(120.0, gt=0, description="seconds per LLM call")
    llm_retries: int = Field(3, ge=1, le=10, description="attempts per LLM call")
    retry_wait: float = Field(1.0, ge=0, description="first back-off between attempts, s")
    rpm_limits: dict[str, int] = Field(
        default_factory=dict, description="model -> requests per minute"
    )
    lease_seconds: float = Field(
        30.0, gt=0, description="seconds a job's lease lasts; runners heartbeat every third"
    )
    max_attempts: int = Field(
        3, ge=1, le=100, description="claims of a job whose runner vanished before it fails"
    )
    strategy_cache_ttl: int = Field(300, ge=0, description="seconds")
    prompt_cache_ttl: int = Field(3600, ge=0, description="seconds")
    local_max_tokens: int = Field(320, ge=16, description="max new tokens per local call")
    log_level: str = Field("WARNING")
    server_url: str | None = Field(
        None, description="a contentgen server (http://host:port): every command uses it"
    )
    token: SecretStr | None = Field(None, description="bearer token for server_url")
    jwt_secret: SecretStr | None = Field(
        None, description="HS256 secret the server signs and checks tokens with (>= 32 bytes)"
    )

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
