"""Ordered PostgreSQL migrations (``NNNN_name.sql``), applied by ``contentgen db migrate``."""
