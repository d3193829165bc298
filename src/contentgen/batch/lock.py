"""One batch at a time per output directory: ``DIR/.contentgen.lock``, held with an OS file
lock (``filelock``: ``flock`` on POSIX) for as long as the batch writes there. The lock dies
with the process (a killed batch never leaves a stale lock), and a second batch on the same
directory, in this process or another, is refused at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from contentgen.errors import Conflict

LOCK_NAME = ".contentgen.lock"


@contextmanager
def out_dir_lock(out_dir: Path) -> Iterator[Path]:
    """Hold ``out_dir``'s lock inside the block (the directory is created if needed);
    ``Conflict`` when another batch holds it."""
    from filelock import FileLock, Timeout

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / LOCK_NAME
    lock = FileLock(path, blocking=False, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise Conflict(
            f"out: another batch is writing to {out_dir}; wait for it to finish, "
            "or choose another --out",
            field="out",
        ) from None
    try:
        yield out_dir
    finally:
        lock.release()
