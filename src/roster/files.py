"""Reading and writing the files a user names, without hanging on what is not a file.

A FIFO or a device where a roster file, a key file or a plan was expected could make roster
wait forever (or read forever); a link loop is not a missing file. Kept free of heavy imports:
every command reads a file of some kind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

_FILE_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}
# O_NONBLOCK keeps even the open from waiting for a FIFO's other end (POSIX only; Windows has no
# FIFOs in the file system). It changes nothing for a regular file.
_NONBLOCK = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


class NotRegularFileError(OSError):
    """A FIFO, a device, a socket or a directory where a file was expected."""


@contextlib.contextmanager
def open_regular(path: Path) -> Iterator[BinaryIO]:
    """``path`` opened for reading, if it is a regular file; ``NotRegularFileError`` if not.

    A FIFO or a device is refused before it is opened, and again once open, since it may have
    been put in the file's place in between.
    """
    check_regular(path.stat().st_mode)
    with os.fdopen(os.open(path, os.O_RDONLY | _NONBLOCK), "rb") as stream:
        check_regular(os.fstat(stream.fileno()).st_mode)
        yield stream


def read_regular(path: Path) -> bytes:
    with open_regular(path) as stream:
        return stream.read()


def write_regular(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, which must be a regular file if it exists (never a FIFO)."""
    with contextlib.suppress(FileNotFoundError):
        check_regular(path.stat().st_mode)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | _NONBLOCK, 0o666)
    with os.fdopen(descriptor, "wb") as stream:
        check_regular(os.fstat(stream.fileno()).st_mode)
        stream.truncate(0)
        stream.write(text.encode("utf-8"))


def check_regular(mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise NotRegularFileError(not_regular(mode))


def not_regular(mode: int) -> str:
    """What a path of this mode is instead of a regular file, in words."""
    kind = _FILE_KINDS.get(stat.S_IFMT(mode))
    return f"not a regular file ({kind})" if kind else "not a regular file"


def path_problem(path: Path, error: OSError, *, reading: str = "the file") -> str:
    """Why ``path`` could not be opened, in words: missing, a dangling link, a link loop, ..."""
    if isinstance(error, NotRegularFileError):
        return str(error)
    if error.errno == errno.ELOOP:
        return "a symbolic link loop"
    if error.errno == errno.ENOENT:
        target = _link_target(path)
        if target is not None:
            return f"a symbolic link to {target}, which does not exist"
        return "no such file or directory"
    return f"cannot read {reading}: {error.strerror or error}"


def _link_target(path: Path) -> str | None:
    try:
        return os.readlink(path)
    except OSError:  # not a link (or gone since)
        return None
