"""Every configured secret value, and masking them out of any text (issue 7, point 12).

A provider may echo the key it was sent in an error message; an error can also quote a URL
or a header. Whatever the path, the text that leaves the LLM layer (error messages, attempt
errors, logs) goes through ``Secrets.mask``. The secrets are: ``CONTENTGEN_API_KEY``, every
key variable the catalogue names, every provider key variable contentgen knows, and any other
environment variable whose name says it holds a secret (``*_API_KEY``, ``*_TOKEN``,
``*_SECRET``, ``*_PASSWORD``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

from contentgen.settings import Settings

MASK = "***"
_SECRET_NAME = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD)$", re.IGNORECASE)
#: Shorter values are not masked: they would mask ordinary words and numbers.
MIN_LENGTH = 6


class Secrets:
    """A fixed set of secret values; ``mask`` replaces each with ``***``."""

    def __init__(self, values: Iterable[str]) -> None:
        unique = {v for v in values if v and len(v) >= MIN_LENGTH}
        # Longest first, so a secret that contains another is masked whole.
        self.values = tuple(sorted(unique, key=len, reverse=True))
        self._pattern = (
            re.compile("|".join(re.escape(v) for v in self.values)) if self.values else None
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        key_variables: Iterable[str] = (),
        environ: Mapping[str, str] | None = None,
    ) -> Secrets:
        env = os.environ if environ is None else environ
        values = [settings.api_key.get_secret_value()] if settings.api_key else []
        values += [env.get(name, "") for name in key_variables]
        values += [value for name, value in env.items() if _SECRET_NAME.search(name)]
        return cls(values)

    def mask(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)
