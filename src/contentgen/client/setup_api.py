"""Client management on the facade: clients, versioned strategies, SEO rules, preferences,
templates, export/import. Every change bumps the client's setup revision in storage, which is
part of the strategy cache key: no process reads a setup cached before the change."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError

from contentgen.errors import ClientNotFound, Conflict, InvalidInput, StrategyNotFound
from contentgen.instructions.builder import InstructionsModule
from contentgen.instructions.setup import EffectiveSetup
from contentgen.instructions.templates import validate_template
from contentgen.models import (
    NAME_MAX,
    RULE_MAX,
    ContentPreference,
    ContentType,
    PromptTemplate,
    SeoRule,
    Strategy,
    StrategyConfig,
    StrategyHistoryEntry,
    invalid_input_from,
)
from contentgen.models import (
    Client as ClientRecord,
)
from contentgen.storage import setup_rules
from contentgen.storage.base import Storage

DEFAULT_CLIENT = "default"
#: The strategy the ``default`` client gets when it is created (validated on use, not at
#: import, to keep CLI start-up fast).
DEFAULT_STRATEGY: dict[str, Any] = {
    "content_guidelines": {"citation_required": False},
    "tone": {"formality": "professional", "voice": "friendly", "engagement": "informative"},
}


#: What a pydantic error type means, in words a strategy author understands.
_EXPECTED = {
    "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
    "float_type": "a number", "float_parsing": "a number",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "string_type": "a string", "list_type": "a list of strings",
    "model_type": "a mapping", "dict_type": "a mapping", "model_attributes_type": "a mapping",
}  # fmt: skip


def parse_strategy(data: Any) -> StrategyConfig:
    """Validate a strategy mapping; errors name the field path and the expected type, e.g.
    ``content_guidelines.min_words: expected an integer, got 'lots'``."""
    if not isinstance(data, dict):
        raise InvalidInput(
            "strategy: expected a mapping with content_guidelines, seo_focus and tone",
            field="strategy",
        )
    try:
        return StrategyConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        path = path.removeprefix(".")
        more = len(exc.errors()) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        if first["type"] == "extra_forbidden":
            section = first["loc"][0] if len(first["loc"]) > 1 else None
            model = (
                StrategyConfig.model_fields[str(section)].annotation if section else StrategyConfig
            )
            allowed = ", ".join(getattr(model, "model_fields", {}))
            raise InvalidInput(
                f"{path}: unknown field (allowed here: {allowed}){suffix}", field=path
            ) from exc
        expected = _EXPECTED.get(first["type"])
        if expected is not None:
            raise InvalidInput(
                f"{path}: expected {expected}, got {first['input']!r}{suffix}", field=path
            ) from exc
        msg = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidInput(f"{path}: {msg}{suffix}", field=path) from exc


def config_data(config: StrategyConfig) -> dict[str, Any]:
    """The fields a strategy sets, as plain data (unset fields and empty sections left out)."""
    data = config.model_dump(mode="json", exclude_none=True)
    return {section: fields for section, fields in data.items() if fields}


def strategy_changes(old: StrategyConfig | None, new: StrategyConfig) -> list[str]:
    before = _flatten(old.model_dump(exclude_none=True)) if old else {}
    after = _flatten(new.model_dump(exclude_none=True))
    changes = []
    for key in sorted(before.keys() | after.keys()):
        if key not in before:
            changes.append(f"{key} set to {after[key]!r}")
        elif key not in after:
            changes.append(f"{key} unset (was {before[key]!r})")
        elif before[key] != after[key]:
            changes.append(f"{key}: {before[key]!r} -> {after[key]!r}")
    return changes


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


class SetupApi:
    """Mixin: needs ``self.storage`` and ``self.instructions``."""

    storage: Storage
    instructions: InstructionsModule

    # clients ----------------------------------------------------------------------------------
    async def resolve_client(self, ref: str | uuid.UUID | None) -> ClientRecord:
        """A client by UUID or name; ``None`` means the ``default`` client (created on use)."""
        if ref is None or (isinstance(ref, str) and ref.strip().lower() == DEFAULT_CLIENT):
            return await self._default_client()
        found: ClientRecord | None = None
        as_id = ref if isinstance(ref, uuid.UUID) else _maybe_uuid(ref)
        if as_id is not None:
            found = await self.storage.get_client(as_id)
        if found is None and isinstance(ref, str):
            found = await self.storage.get_client_by_name(ref.strip())
        if found is None:
            raise ClientNotFound(str(ref))
        return found

    async def _default_client(self) -> ClientRecord:
        client = await self.storage.get_client_by_name(DEFAULT_CLIENT)
        if client is None:
            try:
                client = await self.storage.add_client(ClientRecord(name=DEFAULT_CLIENT))
            except Conflict:  # created concurrently
                found = await self.storage.get_client_by_name(DEFAULT_CLIENT)
                assert found is not None
                return found
            await setup_rules.add_strategy(
                self.storage,
                client.id,
                "default",
                StrategyConfig.model_validate(DEFAULT_STRATEGY),
                ["default strategy"],
            )
        return client

    async def add_client(self, name: str, parent: str | uuid.UUID | None = None) -> ClientRecord:
        parent_id = (await self.resolve_client(parent)).id if parent is not None else None
        try:
            record = ClientRecord(name=name, parent_id=parent_id)
        except ValidationError as exc:
            raise invalid_input_from(exc) from exc
        if _maybe_uuid(name) is not None:
            raise InvalidInput("name: a client name must not look like a UUID", field="name")
        return await self.storage.add_client(record)

    async def list_clients(self) -> list[ClientRecord]:
        return await self.storage.list_clients()

    async def rename_client(self, ref: str | uuid.UUID, new_name: str) -> ClientRecord:
        client = await self.resolve_client(ref)
        if _maybe_uuid(new_name) is not None:
            raise InvalidInput("name: a client name must not look like a UUID", field="name")
        renamed = await self.storage.rename_client(client.id, new_name.strip())
        return renamed

    async def remove_client(self, ref: str | uuid.UUID, *, force: bool = False) -> list[str]:
        """Remove a client. Refused while it has jobs or children unless ``force``, which also
        removes its descendants; returns a line per removed client saying what went."""
        client = await self.resolve_client(ref)
        all_clients = await self.storage.list_clients()
        doomed = _descendants(client, all_clients)  # deepest first, client last
        jobs = {c.id: await self.storage.count_jobs(c.id) for c in doomed}
        if not force and (len(doomed) > 1 or jobs[client.id]):
            raise Conflict(
                f"client {client.name!r} has {len(doomed) - 1} descendant client(s) and "
                f"{jobs[client.id]} job(s); remove with --force (force=True) to delete "
                "them too",
                client=client.name,
            )
        report = []
        for member in doomed:
            await self.storage.delete_client(member.id)
            report.append(f"{member.name}: removed with {jobs[member.id]} job(s) and its setup")
        return report

    async def effective_setup(self, ref: str | uuid.UUID | None) -> EffectiveSetup:
        client = await self.resolve_client(ref)
        return await self.instructions.setup_for(client.id)

    # strategies -------------------------------------------------------------------------------
    async def set_strategy(
        self, ref: str | uuid.UUID | None, config: StrategyConfig | dict[str, Any],
        name: str = "default",
    ) -> Strategy:  # fmt: skip
        """Store a new active version; returns the active one unchanged if nothing differs."""
        name = _required("name", name, NAME_MAX)
        client = await self.resolve_client(ref)
        cfg = config if isinstance(config, StrategyConfig) else parse_strategy(config)
        current = await self.storage.get_strategy(client.id)
        if current is not None and current.config == cfg and current.name == name:
            return current
        changes = strategy_changes(current.config if current else None, cfg)
        strategy = await setup_rules.add_strategy(self.storage, client.id, name, cfg, changes)
        return strategy

    async def get_strategy(
        self, ref: str | uuid.UUID | None, version: int | None = None
    ) -> Strategy:
        client = await self.resolve_client(ref)
        strategy = await self.storage.get_strategy(client.id, version)
        if strategy is None:
            if version is not None:
                raise StrategyNotFound(
                    f"strategy: client {client.name!r} has no version {version}; "
                    f"see `contentgen strategies history {client.name}`"
                )
            raise StrategyNotFound(
                f"strategy: client {client.name!r} has no strategy of its own; "
                f"set one with `contentgen strategies set {client.name} FILE.yaml`"
            )
        return strategy

    async def list_strategies(self, ref: str | uuid.UUID | None) -> list[Strategy]:
        return await self.storage.list_strategies((await self.resolve_client(ref)).id)

    async def strategy_history(self, ref: str | uuid.UUID | None) -> list[StrategyHistoryEntry]:
        return await self.storage.strategy_history((await self.resolve_client(ref)).id)

    async def activate_strategy(self, ref: str | uuid.UUID | None, version: int) -> Strategy:
        """Make ``version`` the active one (roll back or forward); a no-op if it already is."""
        client = await self.resolve_client(ref)
        versions = await self.storage.list_strategies(client.id)
        found = next((s for s in versions if s.version == version), None)
        if found is None:
            have = ", ".join(str(s.version) for s in versions) or "none"
            raise StrategyNotFound(
                f"strategy: client {client.name!r} has no version {version} (versions: {have}); "
                f"see `contentgen strategies history {client.name}`"
            )
        if found.active:
            return found
        strategy = await setup_rules.activate_strategy(self.storage, client.id, version)
        return strategy

    # rules, preferences, templates ------------------------------------------------------------
    async def set_seo_rule(self, ref: str | uuid.UUID | None, name: str, rule: str) -> SeoRule:
        name, rule = _required("name", name, NAME_MAX), _required("rule", rule, RULE_MAX)
        client = await self.resolve_client(ref)
        for existing in await self.storage.list_seo_rules(client.id):
            if existing.name == name:
                if existing.rule == rule:
                    return existing
                await self.storage.delete_seo_rule(client.id, name)
        added = await self.storage.add_seo_rule(SeoRule(client_id=client.id, name=name, rule=rule))
        return added

    async def remove_seo_rule(self, ref: str | uuid.UUID | None, name: str) -> bool:
        client = await self.resolve_client(ref)
        removed = await self.storage.delete_seo_rule(client.id, name)
        return removed

    async def set_preference(
        self, ref: str | uuid.UUID | None, key: str, value: str
    ) -> ContentPreference:
        key, value = _required("key", key, NAME_MAX), _required("value", value, RULE_MAX)
        client = await self.resolve_client(ref)
        for existing in await self.storage.list_preferences(client.id):
            if existing.key == key and existing.value == value:
                return existing
        pref = await self.storage.set_preference(
            ContentPreference(client_id=client.id, key=key, value=value)
        )
        return pref

    async def remove_preference(self, ref: str | uuid.UUID | None, key: str) -> bool:
        client = await self.resolve_client(ref)
        removed = await self.storage.delete_preference(client.id, key)
        return removed

    async def set_template(
        self, ref: str | uuid.UUID | None, content_type: ContentType | str, body: str
    ) -> PromptTemplate:
        """Validate and store a new active template version (unchanged body: no new version)."""
        client = await self.resolve_client(ref)
        try:
            ctype = ContentType(content_type)
        except ValueError as exc:
            raise InvalidInput(
                f"content_type: {content_type!r} is not one of blog, social, local",
                field="content_type",
            ) from exc
        validate_template(body)
        current = await self.storage.get_template(client.id, ctype)
        if current is not None and current.body == body:
            return current
        tpl = await setup_rules.add_template(self.storage, client.id, ctype, body)
        return tpl

    async def list_templates(self, ref: str | uuid.UUID | None) -> list[PromptTemplate]:
        return await self.storage.list_templates((await self.resolve_client(ref)).id)


def _required(field: str, value: str, limit: int) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(f"{field}: must not be empty", field=field)
    if len(value) > limit:
        raise InvalidInput(
            f"{field}: must be at most {limit} characters (got {len(value)})", field=field
        )
    return value


def _maybe_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


def _descendants(root: ClientRecord, clients: list[ClientRecord]) -> list[ClientRecord]:
    children: dict[uuid.UUID, list[ClientRecord]] = {}
    for c in clients:
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c)
    order: list[ClientRecord] = []

    def visit(node: ClientRecord) -> None:
        for child in children.get(node.id, []):
            visit(child)
        order.append(node)

    visit(root)
    return order
