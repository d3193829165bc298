"""Clients and strategies on ``RemoteClient`` (a mixin): read a client's record and
effective setup, read and replace its strategy, over the server's ``/clients`` routes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from contentgen.client.base import ClientRef
from contentgen.errors import ClientNotFound
from contentgen.models import Client as ClientRecord
from contentgen.models import Strategy, StrategyConfig

if TYPE_CHECKING:
    from contentgen.client.remote_http import NotFoundFactory
    from contentgen.instructions.setup import EffectiveSetup


class RemoteSetupApi:
    """Mixin: needs ``_call`` (``HttpApi`` has it)."""

    if TYPE_CHECKING:  # provided by HttpApi; no stub at run time (it would shadow it)

        async def _call(
            self, method: str, path: str, *, body: Any = None,
            params: dict[str, Any] | None = None, not_found: NotFoundFactory | None = None,
        ) -> Any: ...  # fmt: skip

    async def list_clients(self) -> list[ClientRecord]:
        data = await self._call("GET", "/clients")
        return [ClientRecord.model_validate(c) for c in data["clients"]]

    async def _client_view(self, ref: ClientRef) -> dict[str, Any]:
        name = str(ref) if ref is not None else "default"
        data: dict[str, Any] = await self._call(
            "GET", f"/clients/{quote(name, safe='')}", not_found=lambda: ClientNotFound(name)
        )
        return data

    async def resolve_client(self, ref: ClientRef) -> ClientRecord:
        return ClientRecord.model_validate((await self._client_view(ref))["client"])

    async def effective_setup(self, ref: ClientRef) -> EffectiveSetup:
        from contentgen.instructions.setup import EffectiveSetup

        return EffectiveSetup.model_validate((await self._client_view(ref))["setup"])

    async def get_strategy(self, ref: ClientRef, version: int | None = None) -> Strategy:
        name = str(ref) if ref is not None else "default"
        params = {"version": version} if version is not None else None
        data = await self._call("GET", f"/clients/{quote(name, safe='')}/strategy",
                                params=params, not_found=lambda: ClientNotFound(name))  # fmt: skip
        return Strategy.model_validate(data)

    async def set_strategy(
        self, ref: ClientRef, config: StrategyConfig | dict[str, Any], name: str = "default"
    ) -> Strategy:
        ref_name = str(ref) if ref is not None else "default"
        data_config = (
            config.model_dump(mode="json", exclude_none=True)
            if isinstance(config, StrategyConfig) else config
        )  # fmt: skip
        data = await self._call(
            "PUT", f"/clients/{quote(ref_name, safe='')}/strategy",
            body={"name": name, "config": data_config},
            not_found=lambda: ClientNotFound(ref_name),
        )  # fmt: skip
        return Strategy.model_validate(data)
