"""Durable file helpers: atomic replacement, fsync of files and directories, an exclusive lock.

Used by the export (its checkpoint, its Parquet parts, the lock on its output) and by the command
line's refresh-token store.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import msgspec

__all__ = ["FileLock", "LockedError", "fsync_directory", "fsync_file", "replace_atomically"]


def replace_atomically(path: Path, data: bytes, *, mode: int = 0o666) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old or the new content, never half.

    Writes a temporary file beside it (``<name>.tmp``), fsyncs it, renames it over ``path``,
    fsyncs the directory. On failure the temporary file is removed and ``path`` is unchanged.

    Args:
        path: The file to replace.
        data: Its new content.
        mode: Permissions of a new file (before the umask), e.g. ``0o600`` for a secret.

    Raises:
        OSError: The file cannot be written (e.g. ``ENOSPC``, disk full).
    """
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    try:
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def fsync_file(path: Path) -> None:
    """Flush ``path``'s content to the disk.

    Raises:
        OSError: The file cannot be opened or synced.
    """
    with path.open("rb") as file:
        os.fsync(file.fileno())


def fsync_directory(directory: Path) -> None:
    """Make the renames and creations inside ``directory`` durable (a no-op where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # Windows cannot open a directory; its renames are durable enough
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _Owner(msgspec.Struct, kw_only=True):
    pid: int
    host: str
    started: float  # Unix time
    command: str = ""


class LockedError(Exception):
    """Another process holds the lock.

    Attributes:
        path: The lock file.
        owner: Who holds it, as the holder wrote it: ``process 123 on host, since 2026-11-26
            12:00:01 UTC (partnercenter-async export ...)``, or ``"another process"``.
    """

    def __init__(self, path: Path, owner: str) -> None:
        super().__init__(f"{path} is locked by {owner}")
        self.path = path
        self.owner = owner


class FileLock:
    """An exclusive, non-blocking lock on a file, released when the process ends however it ends.

    POSIX ``flock`` (Windows: ``msvcrt.locking``) on ``path``, which holds who took it (process
    id, host, time, command) so that a refused caller can name the holder. Released and deleted by
    ``release``; a lock file left by a killed process is taken over, since its lock died with it.

    Example:
        >>> with FileLock(Path("orders.jsonl.lock"), command="export"):
        ...     ...  # nobody else holds it here
    """

    def __init__(self, path: Path, *, command: str = "") -> None:
        self.path = path
        self._command = command
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock at once, or raise.

        Raises:
            LockedError: Another process (or another ``FileLock`` on the same file) holds it.
            OSError: The lock file cannot be created (e.g. a read-only or missing directory).
        """
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                if not _try_lock(fd):
                    raise LockedError(self.path, _read_owner(fd))
                # The holder before us may have deleted the file between our open and our lock:
                # then we hold a lock on a file nobody else will open. Try again on the new one.
                if os.path.exists(self.path) and os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                    break
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
        owner = _Owner(
            pid=os.getpid(), host=socket.gethostname(), started=time.time(), command=self._command
        )
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, msgspec.json.encode(owner) + b"\n")
        self._fd = fd

    def release(self) -> None:
        """Delete the lock file and release the lock (safe to call twice)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()  # while still holding it, so nobody locks the old file after us
        os.close(fd)

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_owner(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        owner = msgspec.json.decode(os.read(fd, 4096), type=_Owner)
    except (OSError, msgspec.DecodeError):
        return "another process"
    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(owner.started))
    command = f" ({owner.command})" if owner.command else ""
    return f"process {owner.pid} on {owner.host}, since {since}{command}"
