"""One run at a time per output folder: an OS-level lock on a file, released even if the run dies."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = ".kis-batch.lock"


class RunLocked(Exception):
    """Another kis-batch run holds this output folder."""


def _try_lock(handle: int) -> bool:
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(handle, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def run_lock(folder: Path) -> Iterator[None]:
    """Hold the folder's lock for the duration; raise RunLocked at once if another run holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    handle = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(handle):
            raise RunLocked(f"另一个 kis-batch 正在写 {folder}，请等它结束后再运行")
        yield
    finally:
        os.close(handle)
