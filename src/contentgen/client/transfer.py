"""Export / import clients' whole setups as one YAML document (keep client setups in git).

Format (``contentgen: 1``)::

    contentgen: 1
    clients:                 # parents before children
      - name: acme
        parent: null         # a client earlier in the file, or one already in the database
        strategy:            # only the fields this client sets itself
          name: default
          config: {tone: {formality: professional}}
        seo_rules: {meta-title: "Keep titles under 60 characters"}
        preferences: {avoid: "jargon"}
        templates: {blog: "Write ... {{ topic }} ..."}

An export holds the client, its ancestors (so the file imports into an empty database with the
same effective setup) and, on request, its descendants.

Importing checks the whole document first — unknown keys, bad strategy fields, bad templates,
unknown parents — and changes nothing if any of it is wrong. Then, per client: it is created if
missing; a ``strategy`` becomes a new version only if it differs from the active one; a
``templates`` entry becomes a new version only if its body differs; ``seo_rules`` and
``preferences``, when present, become exactly the client's own rules and preferences (ones not
in the file are removed). Keys a client omits leave that part untouched. Importing the same
file twice therefore changes nothing the second time.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from contentgen.errors import Conflict, InvalidInput
from contentgen.instructions.setup import client_chain
from contentgen.instructions.templates import validate_template
from contentgen.models import Client as ClientRecord
from contentgen.models import ContentType, StrategyConfig

if TYPE_CHECKING:
    from contentgen.client.setup_api import SetupApi

FORMAT_VERSION = 1
_KEYS = ("name", "parent", "strategy", "seo_rules", "preferences", "templates")
_STRATEGY_KEYS = ("name", "config")


# export -------------------------------------------------------------------------------------
async def export_setup(
    api: SetupApi, ref: str | uuid.UUID, *, parents: bool = True, children: bool = False
) -> dict[str, Any]:
    """The client's setup as a document for ``dump_yaml``: its ancestors first (unless
    ``parents=False``), then the client, then (with ``children=True``) its descendants."""
    client = await api.resolve_client(ref)
    members = list(reversed(await client_chain(api.storage, client.id)))
    if not parents:
        members = members[-1:]
    if children:
        everyone = await api.storage.list_clients()
        frontier = [client.id]
        while frontier:
            kids = sorted(
                (c for c in everyone if c.parent_id in frontier), key=lambda c: c.name.lower()
            )
            members += kids
            frontier = [c.id for c in kids]
    names = {c.id: c.name for c in await api.storage.list_clients()}
    return {
        "contentgen": FORMAT_VERSION,
        "clients": [await _export_one(api, c, names) for c in members],
    }


async def _export_one(
    api: SetupApi, client: ClientRecord, names: dict[uuid.UUID, str]
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": client.name,
        "parent": names.get(client.parent_id) if client.parent_id else None,
    }
    strategy = await api.storage.get_strategy(client.id)
    if strategy is not None:
        from contentgen.client.setup_api import config_data

        doc["strategy"] = {
            "name": strategy.name,
            "config": config_data(strategy.config),
        }
    doc["seo_rules"] = {r.name: r.rule for r in await api.storage.list_seo_rules(client.id)}
    doc["preferences"] = {p.key: p.value for p in await api.storage.list_preferences(client.id)}
    templates = [t for t in await api.storage.list_templates(client.id) if t.active]
    doc["templates"] = {
        t.content_type.value: t.body for t in sorted(templates, key=lambda t: t.content_type)
    }
    return doc


def dump_yaml(data: dict[str, Any]) -> str:
    """YAML with multi-line strings (templates) as readable ``|`` blocks."""

    class _Dumper(yaml.SafeDumper):
        pass

    def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, _str)
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000)


def load_yaml(text: str, source: str = "file") -> dict[str, Any]:
    """Parse a YAML mapping; a syntax error becomes one line naming the line number."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}:" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InvalidInput(f"{source}:{where} not valid YAML ({problem})", field="file") from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"{source}: expected a YAML mapping at the top", field="file")
    return data


# import -------------------------------------------------------------------------------------
@dataclass
class _Planned:
    """One client of the document, checked and ready to apply."""

    name: str
    parent: str | None
    existing: ClientRecord | None
    strategy: tuple[str, StrategyConfig] | None = None
    seo_rules: dict[str, str] | None = None
    preferences: dict[str, str] | None = None
    templates: dict[ContentType, str] = field(default_factory=dict)


async def import_setup(api: SetupApi, data: dict[str, Any]) -> list[str]:
    """Create or update every client of the document; returns one line per change.

    Raises ``InvalidInput`` or ``Conflict`` before changing anything if the document is wrong.
    """
    plans = await _plan(api, data)
    report: list[str] = []
    for plan in plans:
        report += await _apply(api, plan)
    return report


async def _plan(api: SetupApi, data: dict[str, Any]) -> list[_Planned]:
    version = data.get("contentgen", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise InvalidInput(
            f"contentgen: unsupported format {version!r} (this version reads {FORMAT_VERSION})",
            field="contentgen",
        )
    unknown = sorted(set(data) - {"contentgen", "clients"})
    docs = data.get("clients")
    if docs is None and "name" in data:  # a single client without the list
        docs, unknown = [{k: v for k, v in data.items() if k != "contentgen"}], []
    if unknown:
        raise InvalidInput(f"{unknown[0]}: unknown key (allowed: contentgen, clients)")
    if not isinstance(docs, list) or not docs:
        raise InvalidInput("clients: expected a non-empty list of clients", field="clients")
    plans: list[_Planned] = []
    seen: dict[str, _Planned] = {}
    for i, doc in enumerate(docs):
        plan = await _plan_one(api, doc, f"clients[{i}]", seen)
        seen[plan.name.casefold()] = plan
        plans.append(plan)
    return plans


async def _plan_one(
    api: SetupApi, doc: Any, where: str, seen: dict[str, _Planned]
) -> _Planned:
    from contentgen.client.setup_api import parse_strategy

    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        raise InvalidInput(f"{where}.name: every client needs a name", field=f"{where}.name")
    name = doc["name"].strip()
    where = f"{where} ({name})"
    _no_unknown(doc, _KEYS, where)
    try:
        uuid.UUID(name)
    except ValueError:
        pass
    else:
        raise InvalidInput(f"{where}.name: a client name must not look like a UUID")
    if name.casefold() in seen:
        raise InvalidInput(f"{where}.name: {name!r} appears twice in the file", field="name")
    parent = doc.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise InvalidInput(f"{where}.parent: expected a client name or null", field="parent")
    existing = await api.storage.get_client_by_name(name)
    await _check_parent(api, where, name, parent, existing, seen)
    plan = _Planned(name=name, parent=parent, existing=existing)
    strategy = doc.get("strategy")
    if strategy is not None:
        if not isinstance(strategy, dict):
            raise InvalidInput(f"{where}.strategy: expected a mapping with name and config")
        _no_unknown(strategy, _STRATEGY_KEYS, f"{where}.strategy")
        try:
            config = parse_strategy(strategy.get("config") or {})
        except InvalidInput as exc:
            raise InvalidInput(
                f"{where}: strategy.config.{exc.message}", field=f"strategy.config.{exc.field}"
            ) from exc
        plan.strategy = (str(strategy.get("name") or "default"), config)
    plan.seo_rules = _text_map(doc, "seo_rules", where)
    plan.preferences = _text_map(doc, "preferences", where)
    for ctype, body in (_text_map(doc, "templates", where) or {}).items():
        try:
            content_type = ContentType(ctype)
        except ValueError as exc:
            raise InvalidInput(
                f"{where}.templates.{ctype}: not a content type (blog, social, local)"
            ) from exc
        try:
            validate_template(body)
        except InvalidInput as exc:
            raise InvalidInput(f"{where}.templates.{ctype}: {exc.message}") from exc
        plan.templates[content_type] = body
    return plan


async def _check_parent(
    api: SetupApi, where: str, name: str, parent: str | None,
    existing: ClientRecord | None, seen: dict[str, _Planned],
) -> None:  # fmt: skip
    parent_record = await api.storage.get_client_by_name(parent) if parent else None
    if parent is not None and parent.casefold() not in seen and parent_record is None:
        raise InvalidInput(
            f"{where}.parent: no client {parent!r} in the file (before this one) or in the "
            "database; export with parents included, or import the parent first",
            field="parent",
        )
    if existing is None:
        return
    current = await api.storage.get_client(existing.parent_id) if existing.parent_id else None
    same = (current is None and parent is None) or (
        current is not None and parent_record is not None and current.id == parent_record.id
    )
    if not same:
        raise Conflict(
            f"{where}.parent: client {name!r} exists under "
            f"{current.name if current else 'no parent'!r} but the file puts it under "
            f"{parent or 'no parent'!r}; nothing was imported (moving a client is not supported)",
            field="parent",
        )


def _no_unknown(doc: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(str(k) for k in set(doc) - set(allowed))
    if unknown:
        raise InvalidInput(
            f"{where}.{unknown[0]}: unknown key (allowed: {', '.join(allowed)})",
            field=unknown[0],
        )


def _text_map(doc: dict[str, Any], key: str, where: str) -> dict[str, str] | None:
    value = doc.get(key)
    if value is None:
        return None if key not in doc else {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}.{key}: expected a mapping of name: text", field=key)
    result: dict[str, str] = {}
    for k, v in value.items():
        if isinstance(v, bool) or not isinstance(v, str | int | float) or not str(v).strip():
            raise InvalidInput(f"{where}.{key}.{k}: expected a non-empty text", field=key)
        # rules and preferences are stored stripped; template bodies exactly as written
        result[str(k).strip()] = str(v) if key == "templates" else str(v).strip()
    return result


async def _apply(api: SetupApi, plan: _Planned) -> list[str]:
    name, report = plan.name, []
    client = plan.existing
    if client is None:
        client = await api.add_client(name, parent=plan.parent)
        report.append(f"{name}: client created" + (f" under {plan.parent}" if plan.parent else ""))
    if plan.strategy is not None:
        before = await api.storage.get_strategy(client.id)
        after = await api.set_strategy(client.id, plan.strategy[1], plan.strategy[0])
        if before is None or before.version != after.version:
            report.append(f"{name}: strategy version {after.version} is active")
    if plan.seo_rules is not None:
        own = {r.name: r.rule for r in await api.storage.list_seo_rules(client.id)}
        report += await _sync_own(
            f"{name}: seo rule", own, plan.seo_rules,
            lambda k: api.remove_seo_rule(client.id, k),
            lambda k, v: api.set_seo_rule(client.id, k, v),
        )  # fmt: skip
    if plan.preferences is not None:
        own = {p.key: p.value for p in await api.storage.list_preferences(client.id)}
        report += await _sync_own(
            f"{name}: preference", own, plan.preferences,
            lambda k: api.remove_preference(client.id, k),
            lambda k, v: api.set_preference(client.id, k, v),
        )  # fmt: skip
    for ctype, body in plan.templates.items():
        before_tpl = await api.storage.get_template(client.id, ctype)
        tpl = await api.set_template(client.id, ctype, body)
        if before_tpl is None or before_tpl.version != tpl.version:
            report.append(f"{name}: {ctype.value} template v{tpl.version} is active")
    return report or [f"{name}: unchanged"]


async def _sync_own(
    label: str,
    own: dict[str, str],
    wanted: dict[str, str],
    remove: Callable[[str], Awaitable[object]],
    put: Callable[[str, str], Awaitable[object]],
) -> list[str]:
    """Make a client's own named values exactly ``wanted``; one report line per change."""
    report = []
    for key in own.keys() - wanted.keys():
        await remove(key)
        report.append(f"{label} {key!r} removed")
    for key, value in wanted.items():
        if own.get(key) != value:
            await put(key, value)
            report.append(f"{label} {key!r} set")
    return report
