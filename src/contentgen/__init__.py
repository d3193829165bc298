"""contentgen: marketing content from per-client strategies, with LLMs.

Importing this package is cheap: litellm and llama_cpp load only when a model is called.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contentgen.client.base import ContentClient, open_client
    from contentgen.client.local import Client, LocalClient
    from contentgen.client.remote import RemoteClient
    from contentgen.client.sync import generate, status
    from contentgen.errors import (
        AuthError,
        ClientNotFound,
        ConfigurationError,
        Conflict,
        ContentgenError,
        Forbidden,
        InvalidInput,
        JobFailed,
        JobNotFound,
        MissingExtra,
        NotFound,
        ProviderError,
        ProviderUnavailable,
        RemoteError,
        TemplateError,
    )
    from contentgen.models import (
        ContentRequest,
        ContentResult,
        ContentType,
        Job,
        JobStatus,
        Length,
        Priority,
        StrategyConfig,
    )
    from contentgen.settings import Settings

__version__ = "0.1.0"

_WHERE: dict[str, str] = {
    "generate": "contentgen.client.sync",
    "status": "contentgen.client.sync",
    "Client": "contentgen.client.local",
    "LocalClient": "contentgen.client.local",
    "RemoteClient": "contentgen.client.remote",
    "ContentClient": "contentgen.client.base",
    "open_client": "contentgen.client.base",
    "AuthError": "contentgen.errors",
    "Forbidden": "contentgen.errors",
    "RemoteError": "contentgen.errors",
    "ClientNotFound": "contentgen.errors",
    "ConfigurationError": "contentgen.errors",
    "Conflict": "contentgen.errors",
    "ContentRequest": "contentgen.models",
    "ContentResult": "contentgen.models",
    "ContentType": "contentgen.models",
    "ContentgenError": "contentgen.errors",
    "InvalidInput": "contentgen.errors",
    "Job": "contentgen.models",
    "JobFailed": "contentgen.errors",
    "JobNotFound": "contentgen.errors",
    "JobStatus": "contentgen.models",
    "Length": "contentgen.models",
    "MissingExtra": "contentgen.errors",
    "NotFound": "contentgen.errors",
    "Priority": "contentgen.models",
    "ProviderError": "contentgen.errors",
    "ProviderUnavailable": "contentgen.errors",
    "Settings": "contentgen.settings",
    "StrategyConfig": "contentgen.models",
    "TemplateError": "contentgen.errors",
}

__all__ = [
    "AuthError",
    "Client",
    "ClientNotFound",
    "ConfigurationError",
    "Conflict",
    "ContentClient",
    "ContentRequest",
    "ContentResult",
    "ContentType",
    "ContentgenError",
    "Forbidden",
    "InvalidInput",
    "Job",
    "JobFailed",
    "JobNotFound",
    "JobStatus",
    "Length",
    "LocalClient",
    "MissingExtra",
    "NotFound",
    "Priority",
    "ProviderError",
    "ProviderUnavailable",
    "RemoteClient",
    "RemoteError",
    "Settings",
    "StrategyConfig",
    "TemplateError",
    "__version__",
    "generate",
    "open_client",
    "status",
]


def __getattr__(name: str) -> Any:
    """Import public names on first use, so `import contentgen` stays cheap."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'contentgen' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
