"""Ordered SQL migrations (``NNNN_name.sql``), applied by ``SqliteStorage.open()``."""
