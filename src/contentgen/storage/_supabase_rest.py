"""A thin layer over supabase-py's PostgREST client (``postgrest``, imported lazily): the few
request shapes ``SupabaseStorage`` needs, with its errors translated to ``StorageError``.

PostgREST reports database errors with their SQLSTATE (``code``) and message; ``RestError``
keeps both so the storage can map unique/foreign-key violations to the errors every backend
raises. The key travels only in request headers, never in messages.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from contentgen.errors import ContentgenError, MissingExtra, StorageError

Rows = list[dict[str, Any]]


class RestError(StorageError):
    """A request PostgREST refused; ``code`` is the SQLSTATE (or PostgREST's PGRST code)."""

    def __init__(self, message: str, *, code: str, detail: str) -> None:
        super().__init__(message, code=code)
        self.code = code
        self.detail = detail


def api_error(exc: ContentgenError) -> tuple[str, str]:
    """(code, message) of a ``RestError``; ("", "") for anything else."""
    if isinstance(exc, RestError):
        return exc.code, exc.detail
    return "", ""


def as_json(model: Any) -> Any:
    """A pydantic model as the JSON PostgREST stores in a jsonb column (None stays None)."""
    return None if model is None else model.model_dump(mode="json")


def iso(value: datetime) -> str:
    """A timestamp as PostgREST reads it (a naive one is taken to be UTC)."""
    when = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return when.isoformat()


def _value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class Rest:
    def __init__(self, rest_url: str, key: str, timeout: float) -> None:
        try:
            from postgrest import AsyncPostgrestClient
        except ImportError as exc:
            raise MissingExtra("supabase", "a supabase:// database URL") from exc
        self._http = httpx.AsyncClient(timeout=timeout)
        headers = {"apikey": key, "Authorization": f"Bearer {key}"}
        self._client = AsyncPostgrestClient(
            rest_url, headers=headers, http_client=self._http, retry_enabled=False
        )
        self._where = rest_url.split("//", 1)[-1].split("/", 1)[0]

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _run(self, builder: Any) -> Any:
        from postgrest.exceptions import APIError

        try:
            return await builder.execute()
        except APIError as exc:
            code = str(exc.code or "")
            text = str(exc.message or "")
            raise RestError(f"Supabase refused a request ({code}): {text}", code=code,
                            detail=f"{text} {exc.details or ''}") from exc  # fmt: skip
        except httpx.HTTPError as exc:
            raise StorageError(
                f"cannot reach Supabase at {self._where}: {type(exc).__name__} {exc}"
            ) from exc

    @staticmethod
    def _filter(query: Any, where: dict[str, Any]) -> Any:
        for column, value in where.items():
            if isinstance(value, list | tuple):
                query = query.in_(column, [_value(v) for v in value])
            elif value is None:
                query = query.is_(column, "null")
            else:
                query = query.eq(column, _value(value))
        return query

    async def select(
        self,
        table: str,
        columns: str,
        *,
        order: list[str] = (),  # type: ignore[assignment]
        limit: int | None = None,
        ranges: dict[str, tuple[str, str]] | None = None,
        below: dict[str, Any] | None = None,
        **where: Any,
    ) -> Rows:
        query = self._filter(self._client.from_(table).select(columns), where)
        for column, (low, high) in (ranges or {}).items():
            query = query.gte(column, low).lte(column, high)
        for column, value in (below or {}).items():
            if value is not None:
                query = query.lt(column, _value(value))
        for key in order:
            query = query.order(key.lstrip("-"), desc=key.startswith("-"))
        if limit is not None:
            query = query.limit(limit)
        response = await self._run(query)
        data: Rows = response.data
        return data

    async def count(self, table: str, **where: Any) -> int:
        from postgrest.types import CountMethod

        # a GET with limit 1, not HEAD: after PostgREST's HEAD answers, the kept-alive
        # connection sometimes breaks under the next request (httpx ReadError)
        query = self._filter(
            self._client.from_(table).select("id", count=CountMethod.exact), where
        ).limit(1)
        response = await self._run(query)
        return int(response.count or 0)

    async def insert(self, table: str, doc: dict[str, Any] | list[dict[str, Any]]) -> None:
        from postgrest.types import ReturnMethod

        await self._run(self._client.from_(table).insert(doc, returning=ReturnMethod.minimal))

    async def upsert(self, table: str, doc: dict[str, Any], *, on_conflict: str) -> None:
        from postgrest.types import ReturnMethod

        await self._run(self._client.from_(table).upsert(
            doc, on_conflict=on_conflict, returning=ReturnMethod.minimal))  # fmt: skip

    async def update(self, table: str, doc: dict[str, Any], **where: Any) -> Rows:
        response = await self._run(self._filter(self._client.from_(table).update(doc), where))
        data: Rows = response.data
        return data

    async def delete(self, table: str, **where: Any) -> Rows:
        response = await self._run(self._filter(self._client.from_(table).delete(), where))
        data: Rows = response.data
        return data

    async def rpc(self, function: str, params: dict[str, Any]) -> Any:
        response = await self._run(self._client.rpc(function, params))
        return response.data
