"""The paths roster is given, through the CLI: missing files, links, FIFOs and devices, directories
of roster files, key and plan files, and API URLs, which must never echo a key. Exact stdout,
stderr and exit code; nothing here may hang, or print a traceback or a key.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

import pytest
from click.testing import Result

from roster.api import AdminClient, make_http_client
from roster.api.http import Requester, RetryPolicy
from roster.config import roster_files
from roster.credentials import Secret
from roster.errors import ConnectionFailedError
from tests.support import run_cli

ADMIN_KEY = "sk-ant-admin01-paths-tests-Qw9eRt5y"
PASTED_KEY = "sk-ant-admin01-PastedIntoTheUrl-Xc7vBn2m"
SECRETS = (ADMIN_KEY, PASTED_KEY, PASTED_KEY.lower())
KEY_ENV = {"ANTHROPIC_ADMIN_KEY": ADMIN_KEY}

ONE_MEMBER = "members:\n  {}: user\n"
NO_CHANGES = "No changes. The organization matches the roster files.\n"
TINYCO = "Organization: Tinyco (7b0c3f0e-5a1d-4c2e-9f3b-1d2e3f4a5b6c)\n"
TINYCO_MEMBERS = """\
members:
  ada@tinyco.io: admin
  barbara@tinyco.io: claude_code_user
  contractor@agency.example: developer
  edsger@tinyco.io: user
  frances@tinyco.io: billing
  grace@tinyco.io: developer
  intern@tinyco.io: developer
  ken@tinyco.io: user
  linus@tinyco.io: developer
  margaret@tinyco.io: user
workspaces:
  Production:
    members:
      linus@tinyco.io: workspace_developer
  Research:
    members:
      intern@tinyco.io: workspace_developer
"""

# Every command that reads roster files; none of them gets as far as the API here.
READERS = [["validate"], ["plan", "--sandbox"], ["apply", "--yes", "--sandbox"]]


# --- helpers --------------------------------------------------------------------------------------


class Hung(Exception):
    """roster blocked (opening or reading a FIFO, say) for longer than any test may take."""


@pytest.fixture(autouse=True)
def never_hang() -> Iterator[None]:
    def hung(signum: int, frame: FrameType | None) -> None:
        raise Hung("roster blocked for 10 seconds")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, 10)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture(autouse=True)
def in_tmp_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test runs in an empty directory (so a fresh sandbox), with no key or URL set."""
    monkeypatch.chdir(tmp_path)
    for name in ("ANTHROPIC_ADMIN_KEY", "ROSTER_API_URL", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def roster(*args: object, env: dict[str, str] | None = None) -> Result:
    """Runs ``roster ARGS`` as a user would; no traceback and no key may ever reach the output."""
    return run_cli(args, env=env, secrets=SECRETS)


def outcome(result: Result) -> tuple[int, str, str]:
    return result.exit_code, result.stdout, result.stderr


def write(path: str, text: str) -> Path:
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")
    return file


def link(path: str, target: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)


def fifo(path: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)


def unix_socket(path: str) -> None:
    # The socket file stays once closed. A relative name keeps within a socket path's 108 bytes.
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)


def swapped_for_a_fifo(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    """``path`` looks like a regular file until it is opened: it was swapped for a FIFO between
    roster looking at it and opening it."""
    write("decoy", "members: {}\n")
    os.mkfifo(path)
    lookalike = os.stat("decoy")
    monkeypatch.setattr(Path, "stat", lambda self, **kwargs: lookalike)


# --- a path that names nothing usable ---------------------------------------------------------


def make_missing() -> None:
    pass


def make_dangling() -> None:
    link("roster.yaml", "nowhere.yaml")


def make_loop() -> None:
    link("roster.yaml", "other.yaml")
    link("other.yaml", "roster.yaml")


def make_fifo() -> None:
    fifo("roster.yaml")


def make_socket() -> None:
    unix_socket("roster.yaml")


UNUSABLE = {
    "missing": (make_missing, "no such file or directory"),
    "dangling-link": (make_dangling, "a symbolic link to nowhere.yaml, which does not exist"),
    "link-loop": (make_loop, "a symbolic link loop"),
    "fifo": (make_fifo, "not a regular file (a FIFO)"),
    "socket": (make_socket, "not a regular file (a socket)"),
}


@pytest.mark.parametrize("command", READERS, ids=lambda c: c[0])
@pytest.mark.parametrize("kind", list(UNUSABLE))
def test_a_roster_path_that_is_not_a_file_is_one_line_naming_it(
    command: list[str], kind: str
) -> None:
    make, problem = UNUSABLE[kind]
    make()
    result = roster(*command, "roster.yaml")
    assert outcome(result) == (1, "", f"Error: roster.yaml: {problem}\n")


@pytest.mark.parametrize("command", READERS, ids=lambda c: c[0])
def test_a_device_is_refused_without_being_read(command: list[str]) -> None:
    result = roster(*command, "/dev/null")
    assert outcome(result) == (1, "", "Error: /dev/null: not a regular file (a character device)\n")


def test_a_missing_path_is_named_among_good_ones() -> None:
    write("org.yaml", "members: {}\n")
    result = roster("validate", "org.yaml", "teams/platform.yaml")
    assert outcome(result) == (1, "", "Error: teams/platform.yaml: no such file or directory\n")


def test_an_empty_path_is_a_usage_error_not_the_current_directory() -> None:
    # Path("") would be ".": an unset variable in `roster plan "$DIR"` must not plan the cwd.
    write("org.yaml", "members: {}\n")
    result = roster("validate", "")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith(
        "Error: Invalid value for 'PATHS...': an empty path names no file\n"
    )


def test_a_roster_file_swapped_for_a_fifo_once_looked_at_cannot_hang_roster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with monkeypatch.context() as patch:
        swapped_for_a_fifo(patch, "roster.yaml")
        result = roster("validate", "roster.yaml")
    assert outcome(result) == (1, "", "Error: roster.yaml: not a regular file (a FIFO)\n")


# --- the admin key file and a saved plan -------------------------------------------------------


def test_a_fifo_as_the_key_file_is_refused_without_waiting_on_it() -> None:
    os.mkfifo("admin.key")
    result = roster("org", "--api-key-file", "admin.key")
    assert outcome(result) == (1, "", "Error: admin.key: key file is not a regular file (a FIFO)\n")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: os.symlink("admin.key", "admin.key"), "a symbolic link loop"),
        (
            lambda: os.symlink("gone.key", "admin.key"),
            "a symbolic link to gone.key, which does not exist",
        ),
        (lambda: None, "key file not found"),
        (lambda: os.mkdir("admin.key"), "key file is not a regular file (a directory)"),
    ],
)
def test_a_key_file_that_cannot_be_read_says_why_in_one_line(
    make: Callable[[], object], message: str
) -> None:
    make()
    result = roster("org", "--api-key-file", "admin.key")
    assert outcome(result) == (1, "", f"Error: admin.key: {message}\n")


def test_a_device_as_the_key_file_is_refused() -> None:
    result = roster("org", "--api-key-file", "/dev/null")
    assert outcome(result) == (
        1,
        "",
        "Error: /dev/null: key file is not a regular file (a character device)\n",
    )


def test_a_key_file_swapped_for_a_fifo_once_looked_at_cannot_hang_roster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with monkeypatch.context() as patch:
        swapped_for_a_fifo(patch, "admin.key")
        result = roster("org", "--api-key-file", "admin.key")
    assert outcome(result) == (1, "", "Error: admin.key: key file is not a regular file (a FIFO)\n")


def make_deep_plan() -> None:
    write("plan.json", "[" * 5000 + "]" * 5000 + "\n")


# Python 3.13's JSON parser no longer recurses, so it reads the deep list (which holds no plan).
DEEP_PLAN = "nested too deeply" if sys.version_info < (3, 13) else "no plan in it"


def make_fifo_plan() -> None:
    fifo("plan.json")


def make_dangling_plan() -> None:
    link("plan.json", "old.json")


PLAN_FILES = {
    "missing": (make_missing, "no such file or directory"),
    "dangling-link": (make_dangling_plan, "a symbolic link to old.json, which does not exist"),
    "fifo": (make_fifo_plan, "not a regular file (a FIFO)"),
    "nested-5000-deep": (make_deep_plan, f"not a roster plan file ({DEEP_PLAN})"),
}


@pytest.mark.parametrize("kind", list(PLAN_FILES))
def test_a_saved_plan_that_cannot_be_read_is_one_line_naming_it(kind: str) -> None:
    make, problem = PLAN_FILES[kind]
    make()
    result = roster("apply", "plan.json", "--yes", "--sandbox")
    assert outcome(result) == (1, "", f"Error: plan.json: {problem}\n")


def test_a_plan_file_swapped_for_a_fifo_once_looked_at_cannot_hang_roster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with monkeypatch.context() as patch:
        swapped_for_a_fifo(patch, "plan.json")
        result = roster("apply", "plan.json", "--yes", "--sandbox")
    assert outcome(result) == (1, "", "Error: plan.json: not a regular file (a FIFO)\n")


# --- directories of roster files --------------------------------------------------------------


def test_a_directory_is_read_with_its_subdirectories_and_any_case_of_extension() -> None:
    write("roster/Team.YAML", ONE_MEMBER.format("ann@acme.com"))
    write("roster/a.Yml", ONE_MEMBER.format("bob@acme.com"))
    write("roster/eng/platform/core.yaml", ONE_MEMBER.format("cy@acme.com"))
    write("roster/notes.txt", "not: [yaml")
    write("roster/.draft.yaml", "not: [yaml")
    write("roster/.old/team.yaml", "not: [yaml")
    link("roster/.#Team.YAML", "root@host.1234")  # an editor's lock file: a dangling link
    result = roster("validate", "roster")
    assert outcome(result) == (0, "Valid: 3 files, 3 members (policy.unmanaged: report).\n", "")
    assert roster_files([Path("roster")]) == [
        Path("roster/Team.YAML"),
        Path("roster/a.Yml"),
        Path("roster/eng/platform/core.yaml"),
    ]


def test_members_in_a_subdirectory_are_never_planned_for_removal() -> None:
    write("roster/org.yaml", "organization:\n  name: Tinyco\npolicy:\n  unmanaged: remove\n")
    write("roster/teams/Everyone.YML", TINYCO_MEMBERS)
    result = roster("plan", "roster", "--sandbox")
    assert outcome(result) == (0, f"{TINYCO}\n{NO_CHANGES}", "")


def test_links_in_a_directory_are_followed_and_each_file_is_read_once() -> None:
    write("roster/a.yaml", ONE_MEMBER.format("ann@acme.com"))
    write("roster/teams/b.yaml", ONE_MEMBER.format("bob@acme.com"))
    write("shared/c.yaml", ONE_MEMBER.format("cy@acme.com"))
    link("roster/shared", "../shared")  # a directory elsewhere, through a link
    link("roster/teams-link", "teams")  # the same directory twice
    link("roster/teams/up", "..")  # a loop back up the tree
    link("roster/teams/again.yaml", "../a.yaml")  # the same file twice
    result = roster("validate", "roster")
    assert outcome(result) == (0, "Valid: 3 files, 3 members (policy.unmanaged: report).\n", "")
    assert roster_files([Path("roster"), Path("roster/teams-link")]) == [
        Path("roster/a.yaml"),
        Path("roster/shared/c.yaml"),
        Path("roster/teams/b.yaml"),
    ]


def dangling_roster_file() -> None:
    link("roster/teams/gone.yaml", "moved.yaml")


def dangling_link_of_any_name() -> None:
    # It may have been a directory of roster files: nothing says it was not.
    link("roster/archive", "../old-archive")


def roster_file_link_loop() -> None:
    link("roster/loop.yaml", "loop.yaml")


def roster_file_fifo() -> None:
    fifo("roster/teams/fifo.yaml")


IN_A_DIRECTORY = {
    "dangling-link": (
        dangling_roster_file,
        "roster/teams/gone.yaml: a symbolic link to moved.yaml, which does not exist",
    ),
    "dangling-link-any-name": (
        dangling_link_of_any_name,
        "roster/archive: a symbolic link to ../old-archive, which does not exist",
    ),
    "link-loop": (roster_file_link_loop, "roster/loop.yaml: a symbolic link loop"),
    "fifo": (roster_file_fifo, "roster/teams/fifo.yaml: not a regular file (a FIFO)"),
}


@pytest.mark.parametrize("command", READERS, ids=lambda c: c[0])
@pytest.mark.parametrize("kind", list(IN_A_DIRECTORY))
def test_an_unusable_entry_in_a_directory_is_an_error_never_skipped(
    command: list[str], kind: str
) -> None:
    write("roster/org.yaml", ONE_MEMBER.format("ann@acme.com"))
    write("roster/teams/b.yaml", ONE_MEMBER.format("bob@acme.com"))
    make, problem = IN_A_DIRECTORY[kind]
    make()
    result = roster(*command, "roster")
    assert outcome(result) == (1, "", f"Error: {problem}\n")


def test_a_fifo_with_another_extension_is_not_a_roster_file() -> None:
    write("roster/org.yaml", ONE_MEMBER.format("ann@acme.com"))
    fifo("roster/events.log")
    result = roster("validate", "roster")
    assert outcome(result) == (0, "Valid: 1 file, 1 members (policy.unmanaged: report).\n", "")


def test_an_unreadable_subdirectory_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    write("roster/org.yaml", ONE_MEMBER.format("ann@acme.com"))
    write("roster/locked/team.yaml", ONE_MEMBER.format("bob@acme.com"))
    # chmod 000 stops no root user, and tests may run as root: the refusal is made by hand.
    iterdir = Path.iterdir

    def listing(self: Path) -> Iterator[Path]:
        if self.name == "locked":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return iterdir(self)

    with monkeypatch.context() as patch:
        patch.setattr(Path, "iterdir", listing)
        result = roster("validate", "roster")
    assert outcome(result) == (
        1,
        "",
        "Error: roster/locked: cannot read the directory: Permission denied\n",
    )


def test_a_directory_with_no_roster_file_anywhere_under_it_is_an_error() -> None:
    write("roster/notes.txt", "members: {}\n")
    write("roster/docs/README.md", "members: {}\n")
    write("roster/.hidden/team.yaml", "members: {}\n")
    result = roster("validate", "roster")
    assert outcome(result) == (1, "", "Error: roster: no *.yaml or *.yml files in this directory\n")


# --- the API URL never echoes a key -----------------------------------------------------------

KEY_IN_URL = {
    "path": f"http://127.0.0.1:9/{PASTED_KEY}",
    "host": f"http://{PASTED_KEY}/",
    "https-host": f"https://{PASTED_KEY}.example.com",
    "port": f"http://127.0.0.1:{PASTED_KEY}/",
    "query": f"https://api.anthropic.com/v1?key={PASTED_KEY}",
    "userinfo": f"https://admin:{PASTED_KEY}@api.anthropic.com",
    "fragment": f"https://api.anthropic.com/#{PASTED_KEY}",
    "percent-encoded": "https://api.anthropic.com/" + PASTED_KEY.replace("-", "%2D"),
    "scheme": f"{PASTED_KEY}://api.anthropic.com",
}
KEY_IN_URL_REFUSED = (
    "Error: the API URL holds what looks like a key (sk-ant-...); give only https://HOST[:PORT]"
    " (the admin key goes in ANTHROPIC_ADMIN_KEY or --api-key-file)\n"
)


@pytest.mark.parametrize("command", [["org"], ["plan", "roster.yaml"]], ids=lambda c: c[0])
@pytest.mark.parametrize("where", list(KEY_IN_URL))
def test_a_key_in_the_api_url_is_refused_without_being_echoed(
    command: list[str], where: str
) -> None:
    write("roster.yaml", "members: {}\n")
    result = roster(*command, "--api-url", KEY_IN_URL[where], env=KEY_ENV)
    assert outcome(result) == (1, "", KEY_IN_URL_REFUSED)


@pytest.mark.parametrize("where", list(KEY_IN_URL))
def test_a_key_in_roster_api_url_is_refused_without_being_echoed(where: str) -> None:
    result = roster("org", env={**KEY_ENV, "ROSTER_API_URL": KEY_IN_URL[where]})
    assert outcome(result) == (1, "", KEY_IN_URL_REFUSED)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://127.0.0.1:9/tenants/acme-Zq8yXw7v", "http://127.0.0.1:9"),
        ("http://[::1]:9/tenants/acme-Zq8yXw7v/", "http://[::1]:9"),
    ],
)
async def test_an_unreachable_api_is_named_by_its_scheme_host_and_port_only(
    url: str, origin: str
) -> None:
    http = make_http_client(url, Secret(ADMIN_KEY))

    async def sleep(seconds: float) -> None:
        pass

    requester = Requester(http, retry=RetryPolicy(max_attempts=2), sleep=sleep)
    with pytest.raises(ConnectionFailedError) as caught:
        await AdminClient(http, requester=requester).me()
    await http.aclose()
    message = str(caught.value)
    assert message.startswith(f"GET /v1/organizations/me: could not reach {origin}: ")
    assert "tenants" not in message


@pytest.mark.parametrize(
    ("args", "given_as"),
    [
        (
            ["plan", "--sandbox", "roster.yaml", "--api-key-file", f" {PASTED_KEY}"],
            "--api-key-file",
        ),
        (["plan", "roster.yaml", "--api-key-file", f"Bearer {PASTED_KEY}"], "--api-key-file"),
        (["plan", "roster.yaml", "--api-key-file", f"{PASTED_KEY}/.."], "--api-key-file"),
        (["plan", "--sandbox", PASTED_KEY], "a roster path"),
        (["validate", f"roster/{PASTED_KEY.upper()}.yaml"], "a roster path"),
        (["plan", "--sandbox", "roster.yaml", "--out", f"{PASTED_KEY}/plan.json"], "--out"),
        (["export", "--sandbox", "-o", f"/nonexistent/{PASTED_KEY}"], "--output"),
    ],
)
def test_a_key_pasted_as_a_path_is_refused_without_being_echoed(
    args: list[str], given_as: str
) -> None:
    write("roster.yaml", ONE_MEMBER.format("ann@acme.com"))
    result = roster(*args, env=KEY_ENV)
    assert outcome(result) == (
        1,
        "",
        f"Error: {given_as} was given what looks like a key (sk-ant-...), not a path; put the"
        " key in a file, or in ANTHROPIC_ADMIN_KEY\n",
    )


def test_a_key_file_or_a_plan_too_large_to_be_one_is_refused_before_it_is_read() -> None:
    with open("admin.key", "wb") as key_file:
        key_file.truncate(3 * 2**30)  # sparse: three gigabytes that take no room
    with open("plan.json", "wb") as plan_file:
        plan_file.truncate(3 * 2**30)
    key = roster("org", "--api-key-file", "admin.key")
    assert outcome(key) == (1, "", "Error: admin.key: larger than the 64 KiB roster reads\n")
    plan = roster("apply", "--sandbox", "--yes", "plan.json")
    assert outcome(plan) == (1, "", "Error: plan.json: larger than the 256 MiB roster reads\n")


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--format", PASTED_KEY, "roster.yaml"],
        [PASTED_KEY],
        ["plan", f"--{PASTED_KEY}", "roster.yaml"],
        [f"--{PASTED_KEY}"],
        ["members", "--role", PASTED_KEY],
        ["usage", "--start", PASTED_KEY, "--sandbox"],
    ],
)
def test_a_key_pasted_as_an_option_value_is_not_echoed_by_click(args: list[str]) -> None:
    write("roster.yaml", ONE_MEMBER.format("ann@acme.com"))
    result = roster(*args, env=KEY_ENV)
    assert result.exit_code == 2
    assert "sk-ant-…(redacted)" in result.stderr
