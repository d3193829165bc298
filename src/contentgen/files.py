"""Private files: the database, the cache and key files are readable by their owner only.

``private_dir`` creates a directory with mode 0700; ``private_file`` creates an empty file with
mode 0600 (or tightens an existing one we own) before a library such as SQLite opens it —
SQLite gives the ``-wal``, ``-shm`` and journal files it creates later the mode of the
database file, so they are private too. ``write_private`` writes a whole file (e.g. stored
keys) that way, atomically.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> None:
    """Create ``path`` and its missing parents if needed, each with mode 0700.

    Existing directories are left as they are: they may be shared on purpose (e.g. ``/tmp``)."""
    missing: list[Path] = []
    current = path
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=PRIVATE_DIR)
        directory.chmod(PRIVATE_DIR)  # mkdir's mode is reduced by the umask; chmod is not


def private_file(path: Path, *, siblings: tuple[str, ...] = ()) -> None:
    """Create ``path`` empty with mode 0600 if missing; make it (and the existing files named
    ``path`` + each of ``siblings``, e.g. ``-wal``) 0600 if they are readable by others."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    for target in (path, *(path.with_name(path.name + s) for s in siblings)):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if target.stat().st_mode & 0o077:
                target.chmod(PRIVATE_FILE)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600, atomically (temporary file + rename)."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, PRIVATE_FILE)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
