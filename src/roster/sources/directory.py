"""What every directory source reads: people and groups as frozen values, keyed by the source's
own identifiers, and the few things every source does alike (its secret, retries, progress).

A source module (``ldap``, ``scim``, ``exports``) turns its directory into a ``Directory``; the
pure mapping in ``roster.sources.rules`` turns that and the group rules into members.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from roster.errors import SourceError
from roster.files import path_problem, read_regular

# Told one line at a time on stderr ("ldap ldaps://dir.example.com: 212 people read").
Progress = Callable[[str], None]
# A secret file is a line or two; anything far larger is not one.
MAX_SECRET_BYTES = 64 * 1024
# Transient failures are tried again this many times in all, waiting longer each time.
ATTEMPTS = 3
FIRST_WAIT_SECONDS = 0.5

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Person:
    """A person entry: ``key`` is the source's identifier (a DN, a SCIM id, an address),
    ``where`` names the entry for an error ("entry uid=ann,ou=people,dc=example,dc=com")."""

    key: str
    email: str | None
    where: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Group:
    """A group entry: the names rules may give it (a DN and its cn, a display name, an address),
    its direct member people and direct member groups, by key."""

    key: str
    names: tuple[str, ...]
    where: str
    people: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The name a generated file gives the group by: the first of its names."""
        return self.names[0] if self.names else self.key


@dataclass(frozen=True, slots=True)
class Directory:
    """What a source read: ``describe`` names the source in messages ("ldap ldaps://...")."""

    describe: str
    people: Mapping[str, Person] = field(default_factory=dict)
    groups: Mapping[str, Group] = field(default_factory=dict)


class TransientError(Exception):
    """A failure worth trying again (a dropped connection, a timeout, a 5xx or 429)."""


def read_secret(
    settings: Mapping[str, object], name: str, base: Path, env: Mapping[str, str], describe: str
) -> str:
    """The secret the settings point to with ``<name>_env`` or ``<name>_file`` (relative to
    ``base``, the folder of the file that gives the settings); never a value in the file."""
    variable, file = settings.get(f"{name}_env"), settings.get(f"{name}_file")
    if isinstance(variable, str):
        value = env.get(variable, "")
        if not value:
            raise SourceError(f"{describe}: the environment variable {variable} is not set")
        return value
    if isinstance(file, str):
        path = base / file
        try:
            text = read_regular(path, MAX_SECRET_BYTES).decode("utf-8").strip()
        except OSError as error:
            raise SourceError(
                f"{describe}: {name} file {path}: {path_problem(path, error)}"
            ) from None
        except UnicodeDecodeError:
            raise SourceError(f"{describe}: {name} file {path} is not UTF-8 text") from None
        if not text:
            raise SourceError(f"{describe}: {name} file {path} is empty")
        return text
    raise SourceError(f"{describe}: give {name}_env or {name}_file")


def retrying(
    call: Callable[[], T],
    what: str,
    progress: Progress | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``call()``, tried again after a ``TransientError`` up to ``ATTEMPTS`` times in all; the
    last failure becomes a ``SourceError`` saying ``what`` failed and why."""
    wait = FIRST_WAIT_SECONDS
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return call()
        except TransientError as error:
            if attempt == ATTEMPTS:
                raise SourceError(f"{what}: {error} (tried {ATTEMPTS} times)") from None
            if progress is not None:
                progress(f"{what}: {error}; trying again in {wait:g} s")
            sleep(wait)
            wait *= 2
    raise AssertionError("unreachable")
