"""Provider keys stored in the data dir (`contentgen keys set PROVIDER`).

``HOME/keys.json`` maps key variables to values (``{"OPENAI_API_KEY": "sk-..."}``), written
with mode 0600 in a 0700 directory (``files.write_private``). The router reads them like
environment variables: the environment wins over the file, so a key exported for one command
overrides the stored one. Only provider keys live here (``OPENAI_API_KEY``,
``ANTHROPIC_API_KEY``, ..., and the ``key_env`` of a catalogue endpoint);
``CONTENTGEN_API_KEY`` stays a setting. Values never leave this module except to the router;
``list`` shows names and where they are set, never values.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from contentgen.errors import ConfigurationError, InvalidInput

FILE_NAME = "keys.json"
_VARIABLE = re.compile(r"^[A-Z][A-Z0-9_]*$")
#: Longest key accepted (real ones are < 200 characters).
MAX_KEY = 4096


def key_file(home: Path) -> Path:
    return home / FILE_NAME


def read_keys(home: Path) -> dict[str, str]:
    """The stored keys (variable -> value); {} when there is no file."""
    path = key_file(home)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read the stored keys ({exc.strerror})") from exc
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ConfigurationError(f"{path} is damaged (not a JSON object of strings); remove it "
                                 "and set the keys again with `contentgen keys set`")  # fmt: skip
    return data


def write_keys(home: Path, keys: Mapping[str, str]) -> None:
    from contentgen.files import write_private

    write_private(key_file(home), json.dumps(dict(sorted(keys.items())), indent=2) + "\n")


def with_stored_keys(home: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment the router reads: stored keys, overridden by the environment."""
    env = dict(os.environ if environ is None else environ)
    return {**read_keys(home), **env}


def known_variables(endpoint_keys: Mapping[str, str] | None = None) -> dict[str, str]:
    """Provider (or endpoint) name -> its key variable."""
    from contentgen.llm.routing import PROVIDER_KEYS

    return {**PROVIDER_KEYS, **(endpoint_keys or {})}


def variable_for(name: str, endpoint_keys: Mapping[str, str] | None = None) -> str:
    """The key variable of a provider name (``openai``), a catalogue endpoint, or a variable
    name given as it is (``GPU_BOX_KEY``); ``InvalidInput`` otherwise."""
    known = known_variables(endpoint_keys)
    found = known.get(name.strip().lower()) or known.get(name.strip())
    if found:
        return found
    if _VARIABLE.match(name.strip()) and name.strip() != "CONTENTGEN_API_KEY":
        return name.strip()
    providers = ", ".join(sorted(known))
    raise InvalidInput(f"provider: {name!r} is not a provider ({providers}) or a key variable "
                       "name like MY_SERVER_KEY", field="provider")  # fmt: skip


def check_value(value: str) -> str:
    key = value.strip()
    if not key:
        raise InvalidInput("key: empty; paste the key (input is hidden) or pipe it on stdin",
                           field="key")  # fmt: skip
    if len(key) > MAX_KEY or any(c.isspace() or not c.isprintable() for c in key):
        raise InvalidInput("key: not a key (one line of printable characters, no spaces)",
                           field="key")  # fmt: skip
    return key


@dataclass(frozen=True)
class KeyInfo:
    """Where a key variable is set: ``environment`` (wins), ``file``, both or neither."""

    provider: str
    variable: str
    in_environment: bool
    in_file: bool

    @property
    def source(self) -> str | None:
        if self.in_environment:
            return "environment" + (" (overrides the stored key)" if self.in_file else "")
        return "keys file" if self.in_file else None


def describe_keys(home: Path, endpoint_keys: Mapping[str, str] | None = None,
                  environ: Mapping[str, str] | None = None) -> list[KeyInfo]:  # fmt: skip
    """Every known key variable, and any other stored one, with where it is set."""
    env = os.environ if environ is None else environ
    stored = read_keys(home)
    rows = {v: p for p, v in known_variables(endpoint_keys).items()}
    for variable in stored:
        rows.setdefault(variable, "-")
    ordered = sorted(rows.items(), key=lambda kv: (kv[1], kv[0]))
    return [KeyInfo(provider, variable, bool(env.get(variable)), variable in stored)
            for variable, provider in ordered]  # fmt: skip
