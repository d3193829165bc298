"""The effective settings and where each value came from (``contentgen settings``).

Secrets (``SecretStr`` fields) are shown as ``***`` and passwords in URLs are masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from contentgen.settings import Settings, env_name, mask_url

#: Origins, highest precedence first (the order Settings reads its sources in).
ORIGINS = ("argument", "environment", ".env", "contentgen.toml", "default")


@dataclass(frozen=True)
class SettingView:
    name: str  # the field, e.g. "concurrency"
    env: str  # its variable, e.g. "CONTENTGEN_CONCURRENCY"
    value: Any  # JSON-able, secrets masked
    origin: str  # one of ORIGINS
    description: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "env": self.env, "value": self.value, "origin": self.origin}


def _raw_sources() -> list[tuple[str, dict[str, Any]]]:
    from pydantic_settings import (
        DotEnvSettingsSource,
        EnvSettingsSource,
        TomlConfigSettingsSource,
    )

    return [
        ("environment", EnvSettingsSource(Settings)()),
        (".env", DotEnvSettingsSource(Settings)()),
        ("contentgen.toml", TomlConfigSettingsSource(Settings)()),
    ]


def shown_value(value: Any) -> Any:
    """A setting's value fit to print: JSON-able, secrets and URL passwords masked."""
    if isinstance(value, SecretStr):
        return "***" if value.get_secret_value() else ""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, str):
        return mask_url(value)
    if isinstance(value, dict):
        return {str(k): shown_value(v) for k, v in value.items()}
    return value


def effective_settings(
    settings: Settings, init_values: dict[str, Any] | None = None
) -> list[SettingView]:
    """Every field of ``settings`` in declaration order, with the source it came from
    (``init_values``: the keyword arguments ``settings`` was built with, if any)."""
    sources = [("argument", dict(init_values or {})), *_raw_sources()]
    views = []
    for name, info in Settings.model_fields.items():
        origin = next((label for label, found in sources if name in found), "default")
        views.append(
            SettingView(
                name=name,
                env=env_name(name),
                value=shown_value(getattr(settings, name)),
                origin=origin,
                description=info.description or "",
            )
        )
    return views
