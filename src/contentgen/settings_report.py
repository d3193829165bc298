"""The effective settings and where each value came from (``contentgen settings``).

Secrets (``SecretStr`` fields) are shown as ``***`` and passwords in URLs are masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from contentgen.settings import Settings, mask_url
from contentgen.settings_sources import env_name, read_sources

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
    origins = read_sources({n: f.annotation for n, f in Settings.model_fields.items()}).origins
    views = []
    for name, info in Settings.model_fields.items():
        origin = "argument" if name in (init_values or {}) else origins.get(name, "default")
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
