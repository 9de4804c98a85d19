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

from roster.errors import CredentialError
from roster.untrusted import KEY_MARK

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


KEY_ENV = "ANTHROPIC_ADMIN_KEY"


def refuse_key_in_path(path: str, given_as: str) -> None:
    """Refuse a path with a key in it (pasted in place of a file name): it would be echoed."""
    if KEY_MARK in path.lower():
        raise CredentialError(
            f"{given_as} was given what looks like a key ({KEY_MARK}...), not a path; put the"
            f" key in a file, or in {KEY_ENV}"
        )


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


class TooLargeError(OSError):
    """A file larger than roster reads for its purpose (a key file of gigabytes, say)."""


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path``; ``TooLargeError`` beyond ``limit`` bytes."""
    with open_regular(path) as stream:
        # Its size is checked before reading (no gigabytes read in vain) and after (it may grow).
        large = os.fstat(stream.fileno()).st_size > limit
        data = b"" if large else stream.read(limit + 1)
    if large or len(data) > limit:
        raise TooLargeError(f"larger than the {_size(limit)} roster reads")
    return data


def _size(limit: int) -> str:
    return f"{limit // 2**20} MiB" if limit >= 2**20 else f"{limit // 2**10} KiB"


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
    if isinstance(error, NotRegularFileError | TooLargeError):
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
