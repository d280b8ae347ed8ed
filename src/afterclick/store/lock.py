"""One writer at a time: the advisory lock on ``<store>.lock``, and reading DuckDB's own lock
messages (who holds the file, how long to wait)."""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from afterclick.store.errors import (
    StoreError,
    StoreReadOnly,
    disk_full,
    disk_full_message,
)

#: How long a second writer (or a reader, while a writer works) waits for the store, in seconds.
DEFAULT_LOCK_TIMEOUT = 60.0


def lock_timeout() -> float:
    try:
        return max(0.0, float(os.environ.get("AFTERCLICK_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT)))
    except ValueError:
        return DEFAULT_LOCK_TIMEOUT


def is_lock_conflict(exc: BaseException) -> bool:
    return "Could not set lock on file" in str(exc) or "Conflicting lock" in str(exc)


def lock_holder(exc: BaseException) -> str:
    """' (process 123)' from DuckDB's lock message, when it names one."""
    text = str(exc)
    if "(PID " in text:
        pid = text.split("(PID ", 1)[1].split(")", 1)[0]
        if pid.isdigit():
            return f" (process {pid})"
    return ""


def wait_a_moment(deadline: float, wait: float, told: bool, on_wait: Callable[[str], None] | None,
                  busy: str, waiting: str) -> bool:
    """After a try that found the store busy: past ``deadline``, stop with ``busy`` in one line;
    else tell ``on_wait`` (once) what is waited for, pause, and return that it was told."""
    if time.monotonic() >= deadline:
        raise StoreError(f"{busy}; waited {wait:g} s: run this again when it has finished "
                         "(AFTERCLICK_LOCK_TIMEOUT sets the wait)") from None
    if not told and on_wait is not None:
        on_wait(waiting)
        told = True
    time.sleep(0.05)
    return told


class WriteLock:
    """An advisory lock on ``<store>.lock`` held by the one process that writes the store.

    The lock file is removed by its holder on release; a waiter that locked a file which was
    removed meanwhile (a different inode than the path now names) tries again.
    """

    _held: ClassVar[dict[str, list]] = {}  # path -> [lock, count]: a process may open its store twice
    _mutex: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path):
        self.path = path.with_name(path.name + ".lock")
        self.fd: int | None = None

    @classmethod
    def acquire(cls, path: Path, timeout: float, on_wait: Callable[[str], None] | None) -> WriteLock:
        key = str(path.resolve())
        with cls._mutex:
            if key in cls._held:
                cls._held[key][1] += 1
                return cls._held[key][0]
        lock = cls(path)
        lock._take(path, timeout, on_wait)
        with cls._mutex:
            cls._held[key] = [lock, 1]
        lock.key = key
        return lock

    def _take(self, store: Path, timeout: float, on_wait: Callable[[str], None] | None) -> None:
        try:
            import fcntl
        except ImportError:  # no advisory locks here: DuckDB's own file lock still keeps writers apart
            return
        deadline, told = time.monotonic() + timeout, False
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                    raise StoreReadOnly(f"{store} is read-only (cannot write beside it: "
                                        f"{os.strerror(exc.errno).lower()})") from None
                if disk_full(exc):
                    raise StoreError(disk_full_message(str(store))) from None
                if exc.errno == errno.ENOENT:
                    raise StoreError(f"cannot create store {store}: the folder {store.parent} does "
                                     "not exist") from None
                raise StoreError(f"cannot write store {store}: {exc.strerror}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_pid(fd)
                os.close(fd)
                told = wait_a_moment(deadline, timeout, told, on_wait,
                                     f"{store} is being written by another afterclick run{holder}",
                                     f"waiting for another afterclick run{holder} to finish writing to {store}…")
                continue
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # its holder removed that lock file as we opened it: take the new one
        self.fd = fd
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:
            pass  # the pid is only for the waiting message

    def release(self) -> None:
        with self._mutex:
            entry = self._held.get(getattr(self, "key", ""))
            if entry is not None:
                entry[1] -= 1
                if entry[1] > 0:
                    return
                del self._held[self.key]
        if self.fd is not None:
            try:
                os.unlink(self.path)  # while still locked: a waiter sees the change and retries
            except OSError:
                pass
            os.close(self.fd)
            self.fd = None


@contextmanager
def write_lock(location: str | Path, *, wait: float | None = None,
               on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold a store's write lock (for work around a store: checking, deleting and rebuilding it).

    A ``Store`` opened for writing inside it, in this process, shares the lock.
    """
    lock = WriteLock.acquire(Path(str(location).removeprefix("duckdb://")),
                              lock_timeout() if wait is None else wait, on_wait)
    try:
        yield
    finally:
        lock.release()


def _read_pid(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode().strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (process {text})" if text.isdigit() else ""
