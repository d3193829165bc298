"""Cache fixtures. The ``redis_url`` fixture (a real ``redis-server`` on loopback) is shared by
every test directory: see ``tests/server_fixtures.py``."""

from __future__ import annotations

import pytest

from contentgen.testing.postgres_server import free_port as _free_port


@pytest.fixture
def free_port() -> int:
    """A loopback TCP port nothing listens on (at the time of asking)."""
    return _free_port()
