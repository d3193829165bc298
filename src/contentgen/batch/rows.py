"""A batch file's rows, validated: each a (row, request) for a known client, or a rejection.
Shared by the run and the dry run (``estimate``), which needs nothing of the pipeline."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from contentgen.batch.csv_input import Rejection, Row, read_rows
from contentgen.errors import ClientNotFound
from contentgen.models import Client as ClientRecord
from contentgen.models import ContentRequest

if TYPE_CHECKING:
    from contentgen.client.local import Client


class ClientResolver:
    """Client name/UUID -> record, looked up once per distinct value."""

    def __init__(self, cg: Client) -> None:
        self.cg = cg
        self._by_ref: dict[str | None, ClientRecord | None] = {}
        self.names: dict[uuid.UUID, str] = {}

    async def get(self, ref: str | None) -> ClientRecord | None:
        if ref not in self._by_ref:
            try:
                record: ClientRecord | None = await self.cg.resolve_client(ref)
            except ClientNotFound:
                record = None
            self._by_ref[ref] = record
            if record is not None:
                self.names[record.id] = record.name
        return self._by_ref[ref]


async def validated_rows(
    path: Path, resolver: ClientResolver
) -> AsyncIterator[tuple[Row, ContentRequest] | Rejection]:
    """Every data row, as (row, request) or a rejection (unknown clients included)."""
    for item in read_rows(path):
        if isinstance(item, Rejection):
            yield item
            continue
        client = await resolver.get(item.client)
        if client is None:
            reason = f"no client named or with id {item.client!r} (see `contentgen clients list`)"
            yield Rejection(item.number, "client", reason, item.raw)
            continue
        yield item, item.request.model_copy(update={"client_id": client.id})
