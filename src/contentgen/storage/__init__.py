"""Persistence: the ``Storage`` protocol, its backends and ``open_storage(url)``."""

from contentgen.storage.base import Storage
from contentgen.storage.factory import open_storage
from contentgen.storage.memory import MemoryStorage
from contentgen.storage.sqlite import SqliteStorage

__all__ = ["MemoryStorage", "SqliteStorage", "Storage", "open_storage"]
