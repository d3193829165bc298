"""The client facade users import: ``ContentClient`` (the contract), ``LocalClient``,
``RemoteClient`` (``contentgen.client.remote``) and ``open_client``."""

from contentgen.client.base import ContentClient, open_client
from contentgen.client.local import Client, LocalClient

__all__ = ["Client", "ContentClient", "LocalClient", "open_client"]
