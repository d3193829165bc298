"""The client facade users import."""

from contentgen.client.local import Client

__all__ = ["Client"]
