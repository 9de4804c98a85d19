"""What a review of progress and Ctrl-C found: the debug log redacts a key in a path, more
presses after a stop cannot cut the summary off, Ctrl-C before any change is exit 130, and an id
no URL can hold is an error line, not a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import signal

import pytest
from click.testing import CliRunner

from roster.api.http import log_answer
from roster.apply import Stopper
from roster.cli import main
from roster.cli.interrupts import ctrl_c_stops
from roster.errors import NotFoundError, UnexpectedAnswerError
from roster.progress import Answered
from tests.support import Org, make_store

KEY_IN_PATH = "sk-ant-admin01-" + "Q" * 24


def test_the_debug_log_redacts_a_key_in_a_path(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="roster.http")
    path = f"/v1/organizations/users/user_{KEY_IN_PATH}"
    log_answer(Answered("POST", path, (("q", KEY_IN_PATH),), 200, "req_1", None, 0.01))
    assert KEY_IN_PATH not in caplog.text
    assert "POST /v1/organizations/users/user_sk-ant-…(redacted)" in caplog.text


def test_after_a_stop_more_presses_are_ignored_until_the_process_ends() -> None:
    before = signal.getsignal(signal.SIGINT)

    async def stopped() -> object:
        stopper = Stopper()
        with ctrl_c_stops(stopper):
            stopper.stop()
        return signal.getsignal(signal.SIGINT)

    async def finished() -> object:
        with ctrl_c_stops(Stopper()):
            pass
        return signal.getsignal(signal.SIGINT)

    try:
        assert asyncio.run(stopped()) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # asyncio.run left it so
        signal.signal(signal.SIGINT, before)
        assert asyncio.run(finished()) is not signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def test_ctrl_c_while_files_load_changes_nothing_and_exits_130(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("roster.cli.validate.load_config", interrupted)
    result = CliRunner().invoke(main, ["validate", "roster.yaml"])
    assert (result.exit_code, result.stdout, result.stderr) == (
        130,
        "",
        "Stopped by Ctrl-C; roster changed nothing.\n",
    )


def test_an_id_no_url_can_hold_is_an_error_not_a_traceback() -> None:
    client = Org(make_store({"ada@example.com": "admin"}, {})).client()
    with pytest.raises(UnexpectedAnswerError) as caught:
        asyncio.run(client.get_user("user_\x1b[2K\nforged"))
    assert "nothing was sent" in str(caught.value)
    assert str(caught.value).startswith("GET /v1/organizations/users/user_")


def test_an_id_holding_a_path_stays_one_segment_of_its_own_request() -> None:
    org = Org(make_store({"ada@example.com": "admin"}, {}))
    client = org.client()
    with pytest.raises(NotFoundError) as caught:
        asyncio.run(client.update_workspace_rate_limits("../../../invites/x", "y", []))
    assert caught.value.path == (
        "/v1/organizations/workspaces/..%2F..%2F..%2Finvites%2Fx/rate_limits/y"
    )
