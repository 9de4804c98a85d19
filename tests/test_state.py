"""fetch_state: the organization as frozen values, one open invite per email."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from roster.api import AdminClient, make_http_client
from roster.credentials import Secret
from roster.errors import UnexpectedAnswerError
from roster.model import Invite
from roster.state import fetch_state, open_invites
from tests.support import Org, make_store


def invite(email: str, status: str, invited_at: str, role: str = "user") -> Invite:
    return Invite(f"invite_{email}_{invited_at}", email, role, status, invited_at, "later")


def test_a_pending_invite_wins_over_a_newer_expired_one() -> None:
    chosen = open_invites(
        [
            invite("a@x.io", "expired", "2026-10-01"),
            invite("a@x.io", "pending", "2026-09-01"),
            invite("a@x.io", "expired", "2026-08-01"),
        ],
        exclude=set(),
    )
    assert [(i.email, i.status, i.invited_at) for i in chosen] == [
        ("a@x.io", "pending", "2026-09-01")
    ]


def test_the_newest_expired_invite_is_kept_when_none_is_pending() -> None:
    chosen = open_invites(
        [invite("b@x.io", "expired", "2026-01-01"), invite("b@x.io", "expired", "2026-03-01")],
        exclude=set(),
    )
    assert [i.invited_at for i in chosen] == ["2026-03-01"]


def test_invites_of_members_are_left_out_and_the_rest_sorted() -> None:
    chosen = open_invites(
        [
            invite("z@x.io", "pending", "1"),
            invite("m@x.io", "pending", "1"),
            invite("a@x.io", "pending", "1"),
        ],
        exclude={"m@x.io"},
    )
    assert [i.email for i in chosen] == ["a@x.io", "z@x.io"]


def test_fetch_state_reads_members_and_open_invites() -> None:
    org = Org(make_store({"Ada@Example.io": "developer"}, {"new@example.io": ("user", True)}))
    current = asyncio.run(fetch_state(org.client()))
    assert current.organization.name == "Prop Org"
    assert current.organization.id == org.store.organization.id
    assert {(m.email, m.role) for m in current.members} == {
        ("ada@example.io", "developer"),
        ("admin@example.com", "admin"),
    }
    assert [(i.email, i.status) for i in current.invites] == [("new@example.io", "expired")]


# An answer of another shape than the contract's is one clear error, never a traceback.

GOOD_USER = {"id": "user_1", "type": "user", "email": "a@x.io", "name": "A", "role": "user"}
BROKEN_ANSWERS = {
    "a user without email": (
        "/users",
        {"data": [{**GOOD_USER, "email": None}]},
        "'email' is missing",
    ),
    "a role that is a number": ("/users", {"data": [{**GOOD_USER, "role": 3}]}, "'role' is a int"),
    "data that is not a list": ("/users", {"data": 7}, "data is not a list of objects"),
    "an invite status that is a number": (
        "/invites",
        {"data": [{"id": "invite_1", "email": "b@x.io", "role": "user", "status": 1}]},
        "'status' is a int",
    ),
    "a key creator that is text": (
        "/api_keys",
        {"data": [{"id": "apikey_1", "status": "active", "created_by": "user_1"}]},
        "'created_by' is a str, not an object",
    ),
    "an organization without id": ("/me", {}, "the organization whose 'id' is missing"),
}


@pytest.mark.parametrize("case", list(BROKEN_ANSWERS))
def test_an_answer_roster_cannot_read_is_one_clear_error(case: str) -> None:
    broken_path, answer, message = BROKEN_ANSWERS[case]
    good = {"/me": {"id": "org-1", "name": "Org"}}

    def respond(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1/organizations")
        if path == broken_path:
            return httpx.Response(200, json=answer)
        return httpx.Response(200, json=good.get(path, {"data": [], "has_more": False}))

    async def fetch() -> None:
        key = Secret("sk-ant-admin01-broken-answers-test")
        transport = httpx.MockTransport(respond)
        async with make_http_client("https://x", key, transport=transport) as http:
            await fetch_state(AdminClient(http))

    with pytest.raises(UnexpectedAnswerError) as caught:
        asyncio.run(fetch())
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_state_keeps_the_api_s_clock_and_reads_key_use_by_it() -> None:
    # The emulator's clock stands at 2026-11-02 09:00, whatever this machine's says.
    org = Org(make_store({"ada@example.com": "developer"}, {}))
    current = asyncio.run(fetch_state(org.client(), key_use_days=60))
    assert current.read_at == "2026-11-02T09:00:00Z"
    log = asyncio.run(org.control("GET", "requests"))
    usage = [e for e in log["requests"] if e["path"].endswith("/usage_report/messages")]
    assert usage  # 61 daily buckets: two pages of at most 31
    assert all("starting_at=2026-09-03T09%3A00%3A00Z" in e["query"] for e in usage)


def test_without_a_date_from_the_api_the_given_time_is_kept() -> None:
    class Dateless(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            me = {"id": "org-1", "name": "Acme", "type": "organization"}
            body = me if request.url.path.endswith("/me") else {"data": [], "has_more": False}
            return httpx.Response(200, json=body, request=request)

    http = make_http_client(
        "https://api.anthropic.com", Secret("sk-ant-admin01-x" * 2), transport=Dateless()
    )
    current = asyncio.run(fetch_state(AdminClient(http), read_at="2026-01-01T00:00:00Z"))
    assert current.read_at == "2026-01-01T00:00:00Z"
