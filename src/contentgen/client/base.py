"""``ContentClient``: the one client contract the CLI, the server and users program against.

Two implementations: ``LocalClient`` (``client/local.py``: backends from settings, jobs run in
this process or by workers on the same database) and ``RemoteClient`` (``client/remote.py``:
the server's HTTP contract over httpx). ``open_client(settings)`` picks one: remote when
``CONTENTGEN_SERVER_URL`` is set, local otherwise. Both raise the same errors: ``InvalidInput``
(with ``field`` and ``details``), ``NotFound`` subclasses (``JobNotFound``, ``ClientNotFound``,
``PromptJobNotFound``), ``Conflict``; the remote one also ``AuthError`` and ``Forbidden``.

A scoped client (``LocalClient.scoped(...)``, or a remote one whose token names some clients)
answers for a job, prompt job or client outside its scope exactly as for one that does not
exist.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

from contentgen.errors import InvalidInput
from contentgen.models import (
    Client as ClientRecord,
)
from contentgen.models import (
    ContentRequest,
    Job,
    JobFilter,
    JobPage,
    PromptJob,
    PromptMetadata,
    PromptRequest,
    Strategy,
    StrategyConfig,
)

if TYPE_CHECKING:
    from contentgen.instructions.setup import EffectiveSetup
    from contentgen.settings import Settings

#: A client by name or UUID; ``None`` is the ``default`` client.
ClientRef = str | uuid.UUID | None


class PromptView(Protocol):
    """A built prompt: its text and the IM's metadata (``BuiltPrompt`` locally)."""

    @property
    def prompt(self) -> str: ...

    @property
    def metadata(self) -> PromptMetadata: ...


@dataclass(frozen=True)
class BuiltPromptView:
    """A prompt built elsewhere (by a server): text and metadata only."""

    prompt: str
    metadata: PromptMetadata


@runtime_checkable
class ContentClient(Protocol):
    """What every contentgen client does; see the module docstring."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def aclose(self) -> None: ...

    # jobs -----------------------------------------------------------------------------------
    async def make_request(self, client: ClientRef = None, **fields: Any) -> ContentRequest:
        """Validate fields into a ``ContentRequest`` (the client by name or UUID)."""

    async def submit(self, request: ContentRequest | None = None, **fields: Any) -> uuid.UUID:
        """Queue a job (pending); returns its id at once."""

    async def status(self, job_id: uuid.UUID | str) -> Job:
        """A job by id (locally also by a unique prefix of its id)."""

    async def wait(
        self, job_id: uuid.UUID | str, *, timeout: float | None = None, poll: float = 0.5
    ) -> Job:
        """Wait until the job is finished; returns it whatever its final status."""

    async def generate(
        self, request: ContentRequest | None = None, *, timeout: float | None = None,
        **fields: Any,
    ) -> Job:  # fmt: skip
        """Submit and wait; raises ``JobFailed`` when the job failed."""

    async def preflight(self, request: ContentRequest) -> str | None:
        """Check the request can run (e.g. its model's extra is installed) before queueing it;
        the model that will write it, or None when a server decides."""

    async def jobs(self, filt: JobFilter | None = None, **fields: Any) -> list[Job]:
        """Recent jobs, newest first."""

    async def jobs_page(self, filt: JobFilter | None = None, *, cursor: str | None = None,
                        ) -> JobPage:  # fmt: skip
        """One page of jobs, newest first, from ``cursor`` (None: the newest)."""

    async def cancel(self, job_id: uuid.UUID | str) -> Job:
        """pending or in_progress -> cancelled; ``Conflict`` for a finished job."""

    async def retry(self, job_id: uuid.UUID | str) -> Job:
        """failed or cancelled -> pending again (a new attempt); ``Conflict`` when completed."""

    # prompts (IM) ---------------------------------------------------------------------------
    async def prompt(self, client: ClientRef = None, **fields: Any) -> PromptView:
        """The prompt a request would get, without calling a model."""

    async def generate_prompt(self, request: PromptRequest) -> uuid.UUID:
        """The reference's async IM call: a prompt job, built in the background."""

    async def get_prompt(self, job_id: uuid.UUID | str) -> PromptJob: ...

    # clients and strategies -----------------------------------------------------------------
    async def list_clients(self) -> list[ClientRecord]: ...

    async def resolve_client(self, ref: ClientRef) -> ClientRecord: ...

    async def effective_setup(self, ref: ClientRef) -> EffectiveSetup: ...

    async def get_strategy(self, ref: ClientRef, version: int | None = None) -> Strategy: ...

    async def set_strategy(
        self, ref: ClientRef, config: StrategyConfig | dict[str, Any], name: str = "default"
    ) -> Strategy:
        """Store a new active strategy version (unchanged config: the active one)."""


def open_client(settings: Settings | None = None, **local: Any) -> ContentClient:
    """A ``RemoteClient`` when ``settings.server_url`` is set (``CONTENTGEN_SERVER_URL``, with
    ``CONTENTGEN_TOKEN``), else a ``LocalClient`` (``local`` goes to its ``from_settings``)."""
    from contentgen.settings import Settings

    settings = settings or Settings()
    if settings.server_url:
        from contentgen.client.remote import RemoteClient

        return RemoteClient.from_settings(settings)
    from contentgen.client.local import LocalClient

    return LocalClient.from_settings(settings, **local)


# cursors --------------------------------------------------------------------------------------
def encode_cursor(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The data of a cursor made by ``encode_cursor``; ``InvalidInput`` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("cursor: not a cursor this server gave out", field="cursor") from exc
    if not isinstance(data, dict):
        raise InvalidInput("cursor: not a cursor this server gave out", field="cursor")
    return data
