"""The admin key and where it may be sent.

The key is read from ``ANTHROPIC_ADMIN_KEY`` or a key file, never from a command-line value
(which would land in shell history and process listings). It lives in a ``Secret`` whose repr
and str never show it, and it is only sent over https, or plain http to a loopback address.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import re
import stat
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

import httpx

from roster.errors import CredentialError
from roster.files import (
    NotRegularFileError,
    path_problem,
    read_regular,
    refuse_key_in_path,
)
from roster.untrusted import KEY_MARK

KEY_ENV = "ANTHROPIC_ADMIN_KEY"
ADMIN_KEY_PREFIX = "sk-ant-admin"
_KEY_SHAPE = re.compile(r"^[A-Za-z0-9_\-]+\Z")
_CONSOLE_URL = "Console > Settings > Admin keys"
# A key is about a hundred characters; a key file of more than this is not one.
MAX_KEY_FILE_BYTES = 64 * 1024


class Secret:
    """A string that never shows itself in repr, str, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('<redacted>')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def load_admin_key(key_file: Path | None, environ: Mapping[str, str] | None = None) -> Secret:
    """The admin key from ``key_file`` if given, else from ``ANTHROPIC_ADMIN_KEY``."""
    if key_file is not None:
        # `--api-key-file $ANTHROPIC_ADMIN_KEY` passes the key itself; never echo it.
        refuse_key_in_path(str(key_file), "--api-key-file")
        return _checked(_read_key_file(key_file), source=str(key_file))
    value = (os.environ if environ is None else environ).get(KEY_ENV, "").strip()
    if not value:
        raise CredentialError(
            f"no admin key: set {KEY_ENV} or pass --api-key-file FILE "
            f"(an Admin API key, sk-ant-admin01-..., from {_CONSOLE_URL})"
        )
    return _checked(value, source=KEY_ENV)


def _read_key_file(path: Path) -> str:
    try:
        text = read_regular(path, MAX_KEY_FILE_BYTES).decode("utf-8")
    except NotRegularFileError as exc:
        raise CredentialError(f"{path}: key file is {exc}") from None
    except OSError as exc:
        if exc.errno == errno.ENOENT and not path.is_symlink():
            raise CredentialError(f"{path}: key file not found") from None
        problem = path_problem(path, exc, reading="the key file")
        raise CredentialError(f"{path}: {problem}") from None
    except UnicodeDecodeError:
        raise CredentialError(f"{path}: cannot read key file: not readable text") from None
    value = text.strip()
    if not value:
        raise CredentialError(f"{path}: key file is empty")
    return value


def _checked(value: str, *, source: str) -> Secret:
    if not _KEY_SHAPE.match(value):
        # Never echo the value: it may be a real key with a stray character.
        raise CredentialError(
            f"{source}: the admin key contains spaces or characters a key never has; "
            "check the value was copied whole and alone"
        )
    return Secret(value)


def key_warning(key: Secret) -> str | None:
    """Why this key will likely fail against the Admin API, or None if it looks right."""
    value = key.reveal()
    if value.startswith(ADMIN_KEY_PREFIX):
        return None
    if value.startswith("sk-ant-api"):
        return (
            "the key looks like a regular API key (sk-ant-api...), not an Admin API key "
            f"(sk-ant-admin01-...): the Admin API will likely answer 403, unless it is a scoped "
            f"Claude Enterprise admin key. Create an admin key in {_CONSOLE_URL}"
        )
    return (
        "the key does not start with sk-ant-admin: the Admin API will likely answer 401. "
        f"Create an admin key in {_CONSOLE_URL}"
    )


def key_file_warning(path: Path) -> str | None:
    """A warning when a key file can be read by other users of the machine."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        return f"{path} is readable by other users; consider chmod 600 {path}"
    return None


def check_base_url(url: str) -> str:
    """The API base URL, refused if the key would travel in clear to a non-loopback host.

    The URL itself is never echoed, only its host, and not even that once anything in the URL
    looks like a key: a key pasted into it would land in logs.
    """
    _refuse_a_key_in(url)
    parsed = _parsed(url)
    if parsed.userinfo or parsed.query or parsed.fragment:
        raise CredentialError(
            f"the API URL for {parsed.host} carries a user, query or fragment; give only"
            " https://HOST[:PORT] (the admin key goes in ANTHROPIC_ADMIN_KEY or --api-key-file)"
        )
    if parsed.scheme == "http" and not is_loopback(parsed.host):
        raise CredentialError(
            f"refusing to send the admin key in clear over http:// to {parsed.host}; use https:// "
            "(plain http is allowed only for loopback addresses, such as a local emulator)"
        )
    return str(parsed).rstrip("/")


def _refuse_a_key_in(url: str) -> None:
    # Anywhere, in any case, percent-encoded or not: as the host, the port, the path, a user.
    if KEY_MARK in url.lower() or KEY_MARK in urllib.parse.unquote(url).lower():
        raise CredentialError(
            f"the API URL holds what looks like a key ({KEY_MARK}...); give only"
            " https://HOST[:PORT] (the admin key goes in ANTHROPIC_ADMIN_KEY or --api-key-file)"
        )


def _parsed(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
        host = parsed.host
    except Exception:  # httpx.InvalidURL, or an IDNA error for a malformed host name
        raise CredentialError("invalid API URL: expected https://HOST[:PORT]") from None
    if parsed.scheme not in {"http", "https"} or not host:
        raise CredentialError("invalid API URL: expected https://HOST[:PORT]")
    return parsed


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name, an address, or an IPv6 address in brackets) is this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
