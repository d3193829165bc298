"""Where settings come from: the environment, ``.env`` and ``contentgen.toml``.

Read here rather than through pydantic-settings, which costs more start-up time than pydantic
itself (every CLI command pays it; issue 7, point 20), and so that every value's origin is
known (``contentgen settings`` and error messages name it).

Precedence, highest first: keyword arguments, ``CONTENTGEN_<NAME>`` in the environment (any
case), the same in ``.env``, ``<name>`` in ``contentgen.toml`` (both files in the working
directory). Values of mapping or list fields are JSON in the environment and ``.env``
(``CONTENTGEN_CATALOGUE='{"cost": "openai/gpt-4o-mini"}'``) and native in TOML.
"""

from __future__ import annotations

import os
import re
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contentgen.errors import ConfigurationError

ENV_PREFIX = "CONTENTGEN_"
DOTENV = ".env"
TOML = "contentgen.toml"
ENVIRONMENT = "environment"


@dataclass
class Sources:
    """Raw values by field name, and the origin of each (``environment``, ``.env`` or
    ``contentgen.toml``)."""

    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)


def env_name(name: str) -> str:
    """``CONTENTGEN_CONCURRENCY`` for ``concurrency``."""
    return f"{ENV_PREFIX}{name}".upper()


def is_structured(annotation: Any) -> bool:
    """True for mapping and list fields (given as JSON in the environment)."""
    origin = typing.get_origin(annotation)
    if origin in (dict, list, set, tuple, Mapping):
        return True
    if origin is typing.Union or type(annotation).__name__ == "UnionType":
        return any(is_structured(arg) for arg in typing.get_args(annotation))
    return False


def admits_text(annotation: Any) -> bool:
    """True for a union with ``str`` (e.g. the catalogue: a TOML path or an inline table)."""
    if annotation is str:
        return True
    if typing.get_origin(annotation) is typing.Union or type(annotation).__name__ == "UnionType":
        return any(admits_text(arg) for arg in typing.get_args(annotation))
    return False


def parse_dotenv(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines: ``export`` prefixes, comments, blank lines and quotes as usual."""
    found: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            quote, value = value[0], value[1:-1]
            if quote == '"':
                value = value.replace("\\n", "\n").replace('\\"', '"')
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
        found[key.strip()] = value
    return found


def _read(path: Path, what: str) -> str | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigurationError(f"settings file {what}: cannot read it ({exc.strerror})",
                                 field="settings") from exc  # fmt: skip
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"settings file {what} is not UTF-8 text (byte {exc.start + 1}); save it as UTF-8",
            field="settings",
        ) from exc


def _from_variables(
    variables: Mapping[str, str], fields: Mapping[str, Any], origin: str
) -> Sources:
    import json

    by_name = {key.upper(): value for key, value in variables.items()}
    found = Sources()
    for name, annotation in fields.items():
        var = env_name(name)
        if var not in by_name:
            continue
        value: Any = by_name[var]
        text_too = admits_text(annotation)
        plain_text = text_too and not value.lstrip().startswith(("{", "["))
        if is_structured(annotation) and not plain_text:
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                if text_too:  # e.g. an inline TOML table: the field's own validator reads it
                    found.values[name], found.origins[name] = value, origin
                    continue
                where = "the environment" if origin == ENVIRONMENT else origin
                raise ConfigurationError(
                    f"setting {var} (from {where}) is not valid JSON ({exc.msg} at "
                    f"character {exc.pos + 1}); it takes a JSON object or list",
                    field=name,
                ) from exc
        found.values[name] = value
        found.origins[name] = origin
    return found


def read_sources(fields: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Sources:
    """The raw settings of ``fields`` (name -> annotation) and their origins."""
    import tomllib

    layers: list[Sources] = []
    layers.append(_from_variables(os.environ if environ is None else environ, fields,
                                  ENVIRONMENT))  # fmt: skip
    dotenv = _read(Path(DOTENV), DOTENV)
    if dotenv is not None:
        layers.append(_from_variables(parse_dotenv(dotenv), fields, DOTENV))
    toml = _read(Path(TOML), TOML)
    if toml is not None:
        try:
            data = tomllib.loads(toml)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(
                f"settings file {TOML} is not valid TOML: {exc}; fix it or move it away",
                field="toml",
            ) from exc
        layer = Sources()
        for name in fields:
            if name in data:
                layer.values[name], layer.origins[name] = data[name], TOML
        layers.append(layer)
    merged = Sources()
    for layer in reversed(layers):  # lowest precedence first, so higher ones overwrite
        merged.values.update(layer.values)
        merged.origins.update(layer.origins)
    return merged


def unknown_variables(known: Iterable[str], environ: Mapping[str, str] | None = None) -> list[str]:
    """``CONTENTGEN_*`` variables that name no setting (likely typos)."""
    names = {env_name(n) for n in known}
    env = os.environ if environ is None else environ
    return sorted(k for k in env if k.upper().startswith(ENV_PREFIX) and k.upper() not in names)
