"""Export / import a client's whole setup as one YAML document (keep client setups in git).

Format (``contentgen: 1``)::

    contentgen: 1
    clients:            # parents before children; a single client may omit the list
      - name: acme
        parent: null
        strategy: {name: default, config: {...}}     # only the fields this client sets
        seo_rules: {meta-title: "Keep titles under 60 characters"}
        preferences: {avoid: "jargon"}
        templates: {blog: "Write ... {{ topic }} ..."}

Importing is idempotent: an unchanged strategy or template creates no new version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from contentgen.errors import ClientNotFound, InvalidInput

if TYPE_CHECKING:
    from contentgen.client.setup_api import SetupApi

FORMAT_VERSION = 1
_KEYS = {"name", "parent", "strategy", "seo_rules", "preferences", "templates"}


async def export_setup(api: SetupApi, ref: str) -> dict[str, Any]:
    client = await api.resolve_client(ref)
    parent = await api.storage.get_client(client.parent_id) if client.parent_id else None
    doc: dict[str, Any] = {"name": client.name, "parent": parent.name if parent else None}
    strategy = await api.storage.get_strategy(client.id)
    if strategy is not None:
        doc["strategy"] = {
            "name": strategy.name,
            "config": strategy.config.model_dump(mode="json", exclude_none=True),
        }
    rules = await api.storage.list_seo_rules(client.id)
    doc["seo_rules"] = {r.name: r.rule for r in rules}
    prefs = await api.storage.list_preferences(client.id)
    doc["preferences"] = {p.key: p.value for p in prefs}
    templates = [t for t in await api.storage.list_templates(client.id) if t.active]
    doc["templates"] = {t.content_type.value: t.body for t in templates}
    return {"contentgen": FORMAT_VERSION, "clients": [doc]}


def dump_yaml(data: dict[str, Any]) -> str:
    class _Dumper(yaml.SafeDumper):
        pass

    def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, _str)
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


def load_yaml(text: str, source: str = "file") -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise InvalidInput(f"{source}:{where} not valid YAML ({exc})", field="file") from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"{source}: expected a YAML mapping at the top", field="file")
    return data


async def import_setup(api: SetupApi, data: dict[str, Any]) -> list[str]:
    """Create or update every client of the document; returns one line per change."""
    if data.get("contentgen", FORMAT_VERSION) != FORMAT_VERSION:
        raise InvalidInput(f"contentgen: unsupported format {data.get('contentgen')!r}")
    docs = data.get("clients", [data] if "name" in data else None)
    if not isinstance(docs, list) or not docs:
        raise InvalidInput("clients: expected a list of clients", field="clients")
    for i, doc in enumerate(docs):
        _check_doc(doc, f"clients[{i}]")
    report: list[str] = []
    for doc in docs:
        report += await _import_one(api, doc)
    return report


def _check_doc(doc: Any, where: str) -> None:
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        raise InvalidInput(f"{where}.name: every client needs a name", field=f"{where}.name")
    unknown = set(doc) - _KEYS
    if unknown:
        raise InvalidInput(
            f"{where}.{sorted(unknown)[0]}: unknown key (allowed: {', '.join(sorted(_KEYS))})",
            field=where,
        )
    for key in ("seo_rules", "preferences", "templates"):
        if doc.get(key) is not None and not isinstance(doc[key], dict):
            raise InvalidInput(f"{where}.{key}: expected a mapping", field=f"{where}.{key}")


async def _import_one(api: SetupApi, doc: dict[str, Any]) -> list[str]:
    from contentgen.client.setup_api import parse_strategy

    name = doc["name"]
    report = []
    strategy = doc.get("strategy")
    config = None
    if strategy is not None:
        if not isinstance(strategy, dict):
            raise InvalidInput(f"{name}.strategy: expected a mapping", field="strategy")
        config = parse_strategy(strategy.get("config", {}))
    try:
        client = await api.resolve_client(name)
    except ClientNotFound:
        client = await api.add_client(name, parent=doc.get("parent"))
        report.append(f"{name}: client created")
    if config is not None:
        before = await api.storage.get_strategy(client.id)
        after = await api.set_strategy(client.id, config, strategy.get("name", "default"))  # type: ignore[union-attr]
        if before is None or before.version != after.version:
            report.append(f"{name}: strategy version {after.version}")
    for rule_name, rule in (doc.get("seo_rules") or {}).items():
        await api.set_seo_rule(client.id, str(rule_name), str(rule))
    for key, value in (doc.get("preferences") or {}).items():
        await api.set_preference(client.id, str(key), str(value))
    for ctype, body in (doc.get("templates") or {}).items():
        before_tpl = await api.storage.get_template(client.id, ctype)
        tpl = await api.set_template(client.id, ctype, str(body))
        if before_tpl is None or before_tpl.version != tpl.version:
            report.append(f"{name}: {ctype} template v{tpl.version}")
    return report or [f"{name}: unchanged"]
