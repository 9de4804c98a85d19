"""The admin key: where it comes from, what is refused, and that it never shows itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from roster.credentials import (
    Secret,
    check_base_url,
    key_file_warning,
    key_warning,
    load_admin_key,
)
from roster.errors import CredentialError

ADMIN_KEY = "sk-ant-admin01-Zq3xT7pWm2Lk9vB4nR8s"


def test_key_comes_from_the_environment() -> None:
    key = load_admin_key(None, {"ANTHROPIC_ADMIN_KEY": f"  {ADMIN_KEY}\n"})
    assert key.reveal() == ADMIN_KEY


def test_key_file_wins_over_the_environment(tmp_path: Path) -> None:
    key_file = tmp_path / "admin.key"
    key_file.write_text(ADMIN_KEY + "\n")
    key = load_admin_key(key_file, {"ANTHROPIC_ADMIN_KEY": "sk-ant-admin01-other-key-000"})
    assert key.reveal() == ADMIN_KEY


def test_missing_key_says_how_to_provide_one() -> None:
    with pytest.raises(CredentialError, match="set ANTHROPIC_ADMIN_KEY or pass --api-key-file"):
        load_admin_key(None, {})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "key file is empty"),
        ("   \n", "key file is empty"),
        (ADMIN_KEY + " extra", "spaces or characters a key never has"),
        ("export KEY=" + ADMIN_KEY, "spaces or characters a key never has"),
    ],
)
def test_bad_key_files_are_refused_without_echoing_them(
    tmp_path: Path, content: str, message: str
) -> None:
    key_file = tmp_path / "admin.key"
    key_file.write_text(content)
    with pytest.raises(CredentialError, match=message) as caught:
        load_admin_key(key_file, {})
    assert ADMIN_KEY not in str(caught.value)
    assert str(key_file) in str(caught.value)


def test_absent_key_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CredentialError, match=r"nope\.key: key file not found"):
        load_admin_key(tmp_path / "nope.key", {})


def test_secret_never_shows_itself() -> None:
    secret = Secret(ADMIN_KEY)
    assert ADMIN_KEY not in repr(secret)
    assert ADMIN_KEY not in str(secret)
    assert ADMIN_KEY not in f"{secret!r} {secret}"
    assert ADMIN_KEY not in repr({"key": secret})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (ADMIN_KEY, None),
        ("sk-ant-api03-R2Dabcdefgh", "regular API key"),
        ("hunter2hunter2", "does not start with sk-ant-admin"),
    ],
)
def test_key_shape_warnings(value: str, expected: str | None) -> None:
    warning = key_warning(Secret(value))
    if expected is None:
        assert warning is None
    else:
        assert warning is not None
        assert expected in warning
        assert value not in warning


def test_world_readable_key_file_is_warned_about(tmp_path: Path) -> None:
    key_file = tmp_path / "admin.key"
    key_file.write_text(ADMIN_KEY)
    key_file.chmod(0o644)
    assert "readable by other users" in (key_file_warning(key_file) or "")
    key_file.chmod(0o600)
    assert key_file_warning(key_file) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://api.anthropic.com",
        "https://api.anthropic.com/",
        "http://127.0.0.1:8787",
        "http://localhost:8787",
        "http://[::1]:8787",
        "http://127.3.2.1",
    ],
)
def test_allowed_base_urls(url: str) -> None:
    assert check_base_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://api.anthropic.com", "refusing to send the admin key in clear"),
        ("http://10.0.0.5:8787", "refusing to send the admin key in clear"),
        ("http://localhost.evil.example", "refusing to send the admin key in clear"),
        ("ftp://api.anthropic.com", "invalid API URL"),
        ("api.anthropic.com", "invalid API URL"),
    ],
)
def test_refused_base_urls(url: str, message: str) -> None:
    with pytest.raises(CredentialError, match=message):
        check_base_url(url)


@pytest.mark.parametrize(
    "url",
    [
        f"https://user:{ADMIN_KEY}@api.anthropic.com",
        f"https://api.anthropic.com/?key={ADMIN_KEY}",
        f"https://api.anthropic.com/#{ADMIN_KEY}",
        f"garbage {ADMIN_KEY}",
        "https://xn--",
        f"http://127.0.0.1:8787/{ADMIN_KEY}",
        f"https://{ADMIN_KEY}.example.com",
        f"http://{ADMIN_KEY}",
        f"http://127.0.0.1:{ADMIN_KEY}",
        "https://api.anthropic.com/" + ADMIN_KEY.replace("-", "%2D"),
    ],
)
def test_a_url_is_refused_without_being_echoed(url: str) -> None:
    with pytest.raises(CredentialError) as caught:
        check_base_url(url)
    assert ADMIN_KEY not in str(caught.value)
    assert ADMIN_KEY.lower() not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_url_with_a_path_is_allowed_but_never_one_holding_a_key() -> None:
    assert check_base_url("https://proxy.example.com/anthropic/") == (
        "https://proxy.example.com/anthropic"
    )
    with pytest.raises(CredentialError, match=r"holds what looks like a key \(sk-ant-\.\.\.\)"):
        check_base_url("https://proxy.example.com/SK-ANT-admin01-abc")


def test_a_key_given_as_the_key_file_path_is_not_echoed() -> None:
    with pytest.raises(
        CredentialError, match=r"looks like a key \(sk-ant-...\), not a path"
    ) as caught:
        load_admin_key(Path(ADMIN_KEY), {})
    assert ADMIN_KEY not in str(caught.value)
