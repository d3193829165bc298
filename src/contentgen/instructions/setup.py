"""A client's effective setup: its own strategy, rules, preferences and templates, with
whatever it does not set inherited field by field from its parent, grandparent, ..."""

from __future__ import annotations

import hashlib
import uuid

from pydantic import BaseModel, ConfigDict, Field

from contentgen.errors import ClientNotFound, StorageError
from contentgen.models import (
    Client,
    ContentType,
    PromptTemplate,
    SeoRule,
    StrategyConfig,
)
from contentgen.storage.base import Storage

MAX_DEPTH = 16


class Inherited(BaseModel):
    """A value with the name of the client it comes from."""

    model_config = ConfigDict(defer_build=True)

    value: str
    origin: str


class EffectiveSetup(BaseModel):
    model_config = ConfigDict(defer_build=True)

    client: Client
    chain: list[Client]  # the client first, then its ancestors
    config: StrategyConfig
    origins: dict[str, str] = Field(default_factory=dict)  # "tone.voice" -> client name
    strategy_version: int = 0  # 0: no strategy anywhere in the chain
    strategy_origin: str | None = None
    seo_rules: dict[str, Inherited] = Field(default_factory=dict)  # rule name -> rule
    preferences: dict[str, Inherited] = Field(default_factory=dict)
    templates: dict[ContentType, PromptTemplate] = Field(default_factory=dict)
    template_origins: dict[ContentType, str] = Field(default_factory=dict)

    def fingerprint(self) -> str:
        """Hash of everything that shapes a prompt (for the prompt cache key).

        The client and its chain are included: a template may use ``client_name``, and the
        origins name ancestors, so a rename must change the key too.
        """
        payload = self.model_dump_json()
        return hashlib.sha256(payload.encode()).hexdigest()[:32]


async def client_chain(storage: Storage, client_id: uuid.UUID) -> list[Client]:
    client = await storage.get_client(client_id)
    if client is None:
        raise ClientNotFound(str(client_id))
    chain = [client]
    while chain[-1].parent_id is not None:
        if len(chain) > MAX_DEPTH:
            raise StorageError(f"client hierarchy of {client.name!r} is deeper than {MAX_DEPTH}")
        parent = await storage.get_client(chain[-1].parent_id)
        if parent is None:
            break
        chain.append(parent)
    return chain


async def resolve_setup(storage: Storage, client_id: uuid.UUID) -> EffectiveSetup:
    """Load the client's chain and merge it, nearest client winning field by field."""
    chain = await client_chain(storage, client_id)
    merged: dict[str, dict[str, object]] = {}
    origins: dict[str, str] = {}
    version, version_origin = 0, None
    rules: dict[str, Inherited] = {}
    prefs: dict[str, Inherited] = {}
    templates: dict[ContentType, PromptTemplate] = {}
    template_origins: dict[ContentType, str] = {}
    for member in chain:
        strategy = await storage.get_strategy(member.id)
        if strategy is not None:
            if version_origin is None:
                version, version_origin = strategy.version, member.name
            for section, fields in strategy.config.model_dump().items():
                for name, value in fields.items():
                    if value is not None and name not in merged.setdefault(section, {}):
                        merged[section][name] = value
                        origins[f"{section}.{name}"] = member.name
        for rule in await storage.list_seo_rules(member.id):
            rules.setdefault(rule.name, Inherited(value=rule.rule, origin=member.name))
        for pref in await storage.list_preferences(member.id):
            prefs.setdefault(pref.key, Inherited(value=pref.value, origin=member.name))
        for ctype in ContentType:
            if ctype not in templates:
                tpl = await storage.get_template(member.id, ctype)
                if tpl is not None:
                    templates[ctype] = tpl
                    template_origins[ctype] = member.name
    return EffectiveSetup(
        client=chain[0],
        chain=chain,
        config=StrategyConfig.model_validate(merged, context=EFFECTIVE),
        origins=origins,
        strategy_version=version,
        strategy_origin=version_origin,
        seo_rules=rules,
        preferences=prefs,
        templates=templates,
        template_origins=template_origins,
    )


#: Validation context of a merged config: its word range is checked by the prompt builder,
#: which can name the clients the two ends come from.
EFFECTIVE = {"effective": True}


def rule_texts(setup: EffectiveSetup) -> list[str]:
    return [r.value for r in setup.seo_rules.values()]


__all__ = ["EffectiveSetup", "Inherited", "SeoRule", "client_chain", "resolve_setup"]
