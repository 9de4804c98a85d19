"""The Admin API client against the emulator: paging, errors, retries, lost creates, the key."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from roster import __version__
from roster.api import AdminClient, make_http_client
from roster.api.http import Requester, RetryPolicy, retry_after_seconds
from roster.credentials import Secret
from roster.emulator.app import create_app
from roster.emulator.seed import generate
from roster.emulator.server import running_server
from roster.emulator.store import Store
from roster.emulator.transport import InProcessTransport
from roster.errors import (
    ApiError,
    AuthenticationError,
    ConnectionFailedError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

pytestmark = pytest.mark.anyio

ADMIN_KEY = "sk-ant-admin01-Tq8wLm3Zr5Xv2Nb7Kp4Hs9Jd"
BASE_URL = "https://api.anthropic.com"


class Emulator:
    """An in-process emulator with a control channel and a client factory."""

    def __init__(self, store: Store) -> None:
        self.app = create_app(store)
        self.transport = InProcessTransport(self.app)
        self.control = httpx.AsyncClient(transport=self.transport, base_url=BASE_URL)
        self.delays: list[float] = []
        self.now = 0.0

    async def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now

    def client(self, key: str = ADMIN_KEY, **options: Any) -> AdminClient:
        http = make_http_client(BASE_URL, Secret(key), transport=self.transport)
        requester = Requester(
            http,
            retry=options.pop("retry", RetryPolicy()),
            rng=random.Random(0),
            sleep=self.sleep,
            clock=self.clock,
            max_concurrency=options.pop("max_concurrency", 8),
        )
        return AdminClient(http, requester=requester, **options)

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        response = await self.control.post(f"/_emulator/{path}", json=body)
        response.raise_for_status()
        return response.json()

    async def fault(self, kind: str, method: str, path: str, **extra: Any) -> None:
        await self.post(
            "faults", {"faults": [{"kind": kind, "method": method, "path": path, **extra}]}
        )

    async def requests(self) -> list[dict[str, Any]]:
        response = await self.control.get("/_emulator/requests")
        return list(response.json()["requests"])

    async def state(self) -> dict[str, Any]:
        return dict((await self.control.get("/_emulator/state")).json())


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emu = Emulator(generate(users=40, seed=7))
    yield emu
    await emu.control.aclose()


async def pending_invites_for(client: AdminClient, email: str) -> list[dict[str, Any]]:
    return await client.list_invites(email=email, statuses=["pending"])


# Paging


async def test_lists_follow_every_page() -> None:
    emu = Emulator(generate(users=2500, seed=1))
    users = await emu.client().list_users()
    assert len(users) == len({u["id"] for u in users}) >= 2500
    pages = [r for r in await emu.requests() if r["path"] == "/v1/organizations/users"]
    assert len(pages) == 3
    assert all("limit=1000" in r["query"] for r in pages)
    assert "after_id=" in pages[1]["query"]


async def test_small_pages_walk_the_whole_list_in_order(emulator: Emulator) -> None:
    everything = await emulator.client().list_users()
    paged = await emulator.client(page_size=7).list_users()
    assert [u["id"] for u in paged] == [u["id"] for u in everything]


async def test_filters_reach_the_api(emulator: Emulator) -> None:
    client = emulator.client()
    users = await client.list_users()
    target = users[3]
    found = await client.list_users(email=target["email"].upper())
    assert [u["id"] for u in found] == [target["id"]]
    developers = await client.list_users(roles=["developer"])
    assert developers
    assert {u["role"] for u in developers} == {"developer"}


# Errors


async def test_request_headers(emulator: Emulator) -> None:
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        seen.append(request)

    http = make_http_client(BASE_URL, Secret(ADMIN_KEY), transport=emulator.transport)
    http.event_hooks["request"].append(record)
    await AdminClient(http).me()
    headers = seen[0].headers
    assert headers["x-api-key"] == ADMIN_KEY
    assert headers["anthropic-version"] == "2023-06-01"
    assert headers["user-agent"].startswith(f"roster/{__version__}")


@pytest.mark.parametrize(
    ("key", "error", "advice"),
    [
        ("sk-ant-admin01-short", AuthenticationError, "did not accept the key"),
        ("not-a-key-at-all", AuthenticationError, "did not accept the key"),
        ("sk-ant-api03-R2Dabcdefghijkl", PermissionDeniedError, "is not an admin key"),
    ],
)
async def test_auth_errors_say_what_to_do(
    emulator: Emulator, key: str, error: type[ApiError], advice: str
) -> None:
    with pytest.raises(error) as caught:
        await emulator.client(key).me()
    assert advice in str(caught.value)
    assert caught.value.request_id
    assert caught.value.request_id.startswith("req_")
    assert key not in str(caught.value)


async def test_unknown_id_is_not_found_with_request_id(emulator: Emulator) -> None:
    with pytest.raises(NotFoundError) as caught:
        await emulator.client().get_user("user_01DoesNotExist000000000")
    error = caught.value
    assert (error.status, error.error_type) == (404, "not_found_error")
    logged = await emulator.requests()
    assert error.request_id == logged[-1]["request_id"]
    assert str(error).startswith("GET /v1/organizations/users/user_01DoesNotExist000000000 404:")


async def test_business_rule_errors_carry_the_error_code(emulator: Emulator) -> None:
    client = emulator.client()
    member = (await client.list_users(roles=["user"]))[0]
    with pytest.raises(InvalidRequestError) as caught:
        await client.create_invite(member["email"], "user")
    assert caught.value.error_code == "already_member"
    assert "already_member" in str(caught.value)


# Retries


async def test_retry_after_is_honoured_never_sooner(emulator: Emulator) -> None:
    await emulator.fault("429", "GET", "/v1/organizations/me", retry_after=0.25)
    me = await emulator.client().me()
    assert me["type"] == "organization"
    [delay] = emulator.delays
    assert 0.25 <= delay <= 0.3  # up to a fifth later, so refused requests do not return together


async def test_overload_and_server_errors_back_off_exponentially(emulator: Emulator) -> None:
    for kind in ("529", "500", "503"):
        await emulator.fault(kind, "GET", "/v1/organizations/me")
    await emulator.client().me()
    assert len(emulator.delays) == 3
    first, second, third = emulator.delays
    assert 0.375 <= first <= 0.5
    assert 0.75 <= second <= 1.0
    assert 1.5 <= third <= 2.0


async def test_failures_are_bounded(emulator: Emulator) -> None:
    await emulator.post("faults", {"faults": [{"kind": "500"}] * 3})
    client = emulator.client(retry=RetryPolicy(max_attempts=3))
    with pytest.raises(ServerError) as caught:
        await client.me()
    assert caught.value.status == 500
    assert caught.value.attempts == 3
    assert "after 3 attempts" in str(caught.value)
    assert len(emulator.delays) == 2


async def test_refusals_have_a_budget_of_their_own(emulator: Emulator) -> None:
    # Two failures and three overload refusals: neither budget is used up, so it succeeds.
    faults = [{"kind": "500"}, {"kind": "529"}, {"kind": "529"}, {"kind": "500"}, {"kind": "529"}]
    await emulator.post("faults", {"faults": faults})
    client = emulator.client(retry=RetryPolicy(max_attempts=3, max_refusals=4))
    assert (await client.me())["type"] == "organization"
    assert len(emulator.delays) == 5


async def test_refusals_are_bounded(emulator: Emulator) -> None:
    await emulator.post("faults", {"faults": [{"kind": "529"}] * 3})
    client = emulator.client(retry=RetryPolicy(max_refusals=3))
    with pytest.raises(ServerError) as caught:
        await client.me()
    assert (caught.value.status, caught.value.attempts) == (529, 3)


async def test_rate_limit_exhausted_tells_the_user_to_slow_down(emulator: Emulator) -> None:
    await emulator.post("faults", {"faults": [{"kind": "429", "retry_after": 1}] * 2})
    client = emulator.client(retry=RetryPolicy(max_refusals=2))
    with pytest.raises(RateLimitError, match="slow down"):
        await client.me()
    [delay] = emulator.delays
    assert 1.0 <= delay <= 1.2


async def test_a_rate_limit_holds_every_request_not_only_the_refused_one(
    emulator: Emulator,
) -> None:
    client = emulator.client()
    await emulator.fault("429", "GET", "/v1/organizations/me", retry_after=2)
    await client.me()
    refused_at = 0.0  # the emulator's fake clock starts at 0 and moves only by the sleeps
    paused = emulator.now
    assert 2.0 <= paused - refused_at <= 2.4  # the refused request came back after its wait
    await client.list_users()  # a different request, after the refusal: it waits too
    assert emulator.now >= refused_at + 2.0
    # Refused before any request was taken, the limit tells nothing of a rate: only the pause.
    assert client._requester.pacer.rate is None


async def test_retry_after_is_capped(emulator: Emulator) -> None:
    await emulator.fault("429", "GET", "/v1/organizations/me", retry_after=3600)
    await emulator.client(retry=RetryPolicy(max_retry_after=30)).me()
    assert emulator.delays == [30]


async def test_client_errors_are_not_retried(emulator: Emulator) -> None:
    with pytest.raises(NotFoundError):
        await emulator.client().get_invite("invite_01Nope0000000000000000")
    assert emulator.delays == []


# Lost creates: never a duplicate invite


@pytest.mark.parametrize("kind", ["drop_after", "drop_before", "500", "503"])
async def test_a_lost_invite_is_created_exactly_once(emulator: Emulator, kind: str) -> None:
    client = emulator.client()
    await emulator.fault(kind, "POST", "/v1/organizations/invites")
    invite = await client.create_invite("New.Hire@example.com", "developer")
    assert invite["email"].lower() == "new.hire@example.com"
    assert invite["role"] == "developer"
    pending = await pending_invites_for(client, "new.hire@example.com")
    assert [i["id"] for i in pending] == [invite["id"]]


async def test_after_a_lost_create_the_client_reads_before_resending(emulator: Emulator) -> None:
    await emulator.fault("drop_after", "POST", "/v1/organizations/invites")
    await emulator.client().create_invite("lost@example.com", "user")
    routes = [(r["method"], r["path"]) for r in await emulator.requests()]
    assert routes == [
        ("POST", "/v1/organizations/invites"),
        ("GET", "/v1/organizations/invites"),
    ]


async def test_a_refused_create_is_resent_without_reading(emulator: Emulator) -> None:
    await emulator.fault("529", "POST", "/v1/organizations/invites")
    await emulator.client().create_invite("refused@example.com", "user")
    routes = [(r["method"], r["path"]) for r in await emulator.requests()]
    assert routes == [("POST", "/v1/organizations/invites")] * 2


async def test_a_lost_delete_that_happened_counts_as_done(emulator: Emulator) -> None:
    client = emulator.client()
    user = (await client.list_users(roles=["user"]))[0]
    await emulator.fault("drop_after", "DELETE", f"/v1/organizations/users/{user['id']}")
    await client.remove_user(user["id"])
    with pytest.raises(NotFoundError):
        await client.get_user(user["id"])


@pytest.mark.parametrize("kind", ["drop_after", "drop_before"])
async def test_a_lost_workspace_create_is_found_by_name(emulator: Emulator, kind: str) -> None:
    client = emulator.client()
    await emulator.fault(kind, "POST", "/v1/organizations/workspaces")
    created = await client.create_workspace("Skunkworks")
    named = [w for w in await client.list_workspaces() if w["name"] == "Skunkworks"]
    assert [w["id"] for w in named] == [created["id"]]


async def test_a_lost_workspace_create_never_mistakes_a_namesake(emulator: Emulator) -> None:
    client = emulator.client()
    namesake = await client.create_workspace("Skunkworks")
    await emulator.fault("drop_after", "POST", "/v1/organizations/workspaces")
    created = await client.create_workspace("Skunkworks")
    named = [w["id"] for w in await client.list_workspaces() if w["name"] == "Skunkworks"]
    assert created["id"] != namesake["id"]
    assert sorted(named) == sorted([namesake["id"], created["id"]])


async def test_connection_refused_is_one_clear_error() -> None:
    http = make_http_client("http://127.0.0.1:9", Secret(ADMIN_KEY))
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    requester = Requester(http, retry=RetryPolicy(max_attempts=2), sleep=sleep)
    with pytest.raises(ConnectionFailedError, match=r"could not reach http://127\.0\.0\.1:9"):
        await AdminClient(http, requester=requester).me()
    assert len(delays) == 1
    await http.aclose()


# Pacing


async def test_concurrency_is_bounded(emulator: Emulator) -> None:
    import anyio

    in_flight = 0
    peak = 0

    class Counting(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                await anyio.sleep(0.01)
                return await emulator.transport.handle_async_request(request)
            finally:
                in_flight -= 1

    http = make_http_client(BASE_URL, Secret(ADMIN_KEY), transport=Counting())
    client = AdminClient(http, max_concurrency=3)
    async with anyio.create_task_group() as group:
        for _ in range(12):
            group.start_soon(client.me)
    assert peak == 3


def test_retry_after_header_forms() -> None:
    assert retry_after_seconds(httpx.Headers({"retry-after-ms": "1500"})) == 1.5
    assert retry_after_seconds(httpx.Headers({"retry-after": "2"})) == 2.0
    assert (
        retry_after_seconds(httpx.Headers({"retry-after": "0.5", "retry-after-ms": "250"})) == 0.25
    )
    past = retry_after_seconds(httpx.Headers({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    assert past == 0.0
    assert retry_after_seconds(httpx.Headers({"retry-after": "soon"})) is None
    assert retry_after_seconds(httpx.Headers({})) is None


# The key never leaks


async def test_key_appears_nowhere_through_failures(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = emulator.client()
    await emulator.fault("drop_after", "POST", "/v1/organizations/invites")
    await emulator.fault("529", "GET", "/v1/organizations/me")
    await client.create_invite("someone@example.com", "user")
    await client.me()
    texts = [repr(client), repr(client._requester), repr(client._requester._http)]
    for call in (
        client.get_user("user_01Nope"),
        emulator.client("sk-ant-api03-NotAdminKey01").me(),
    ):
        with pytest.raises(ApiError) as caught:
            await call
        texts += [str(caught.value), repr(caught.value)]
    assert "roster.http" in caplog.text
    assert ADMIN_KEY not in caplog.text
    assert all(ADMIN_KEY not in text for text in texts)


# Over real HTTP


async def test_over_real_http_paging_and_lost_connections(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    app = create_app(generate(users=1200, seed=3))
    with running_server(app) as base_url:
        control = httpx.AsyncClient(base_url=base_url)
        fault = {"kind": "drop_after", "method": "POST", "path": "/v1/organizations/invites"}
        (await control.post("/_emulator/faults", json={"faults": [fault]})).raise_for_status()
        async with make_http_client(base_url, Secret(ADMIN_KEY)) as http:
            client = AdminClient(http, retry=RetryPolicy(base_delay=0.01))
            users = await client.list_users()
            invite = await client.create_invite("over.http@example.com", "user")
            pending = await client.list_invites(email="over.http@example.com", statuses=["pending"])
        log = (await control.get("/_emulator/requests")).json()
        await control.aclose()
    assert len(users) >= 1200
    assert [i["id"] for i in pending] == [invite["id"]]
    assert log["counters"]["faults"] == {"drop_after": 1}
    assert ADMIN_KEY not in caplog.text


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "NaN"])
def test_a_wait_that_would_never_end_is_ignored(value: str) -> None:
    assert retry_after_seconds(httpx.Headers({"retry-after": value})) is None
    assert retry_after_seconds(httpx.Headers({"retry-after-ms": value})) is None


async def test_an_unknown_outcome_is_looked_up_before_a_create_is_sent_again() -> None:
    # change_outcome_unknown (503) says "send it again", but the invite may have been made.
    store = generate(users=5, seed=2)
    emu = Emulator(store)
    calls: list[tuple[str, str]] = []
    answered = False

    class UnknownOnce(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            nonlocal answered
            calls.append((request.method, request.url.path))
            response = await emu.transport.handle_async_request(request)
            if request.method == "POST" and not answered:
                answered = True  # made, but the answer says the outcome is unknown
                body = {
                    "type": "error",
                    "error": {
                        "type": "api_error",
                        "message": "unknown",
                        "details": {"error_code": "change_outcome_unknown"},
                    },
                }
                return httpx.Response(503, json=body)
            return response

    http = make_http_client(BASE_URL, Secret(ADMIN_KEY), transport=UnknownOnce())
    requester = Requester(http, rng=random.Random(0), sleep=emu.sleep, clock=emu.clock)
    invite = await AdminClient(http, requester=requester).create_invite("u@example.com", "user")
    assert calls == [
        ("POST", "/v1/organizations/invites"),
        ("GET", "/v1/organizations/invites"),
    ]
    assert invite["email"] == "u@example.com"
    await emu.control.aclose()


async def test_a_cursor_that_does_not_move_stops_paging(emulator: Emulator) -> None:
    class Stuck(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            page = {
                "data": [{"id": "user_1"}],
                "has_more": True,
                "first_id": "user_1",
                "last_id": "user_1",
            }
            return httpx.Response(200, json=page, request=request)

    http = make_http_client(BASE_URL, Secret(ADMIN_KEY), transport=Stuck())
    with pytest.raises(ServerError, match="same page cursor twice"):
        await AdminClient(http).list_users()


async def test_a_lost_key_archive_that_happened_counts_as_done(emulator: Emulator) -> None:
    client = emulator.client()
    key = next(k for k in await client.list_api_keys(status="active"))
    await emulator.fault("drop_after", "POST", f"/v1/organizations/api_keys/{key['id']}")
    archived = await client.update_api_key(key["id"], status="archived")
    assert archived["status"] == "archived"


async def test_requester_unconfirmed_is_resent_and_the_removal_completes(
    emulator: Emulator,
) -> None:
    # SDK 2.15's 403: a partial effect (keys turned off, the user still there); safe to resend.
    state = await emulator.state()
    user = next(u for u in state["users"] if u["role"] == "developer")
    path = f"/v1/organizations/users/{user['id']}"
    fault = {"kind": "requester_unconfirmed", "method": "DELETE", "path": path}
    await emulator.post("faults", {"faults": [fault] * 2})
    assert (await emulator.client().remove_user(user["id"]))["type"] == "user_deleted"
    assert [r["status"] for r in await emulator.requests() if r["path"] == path] == [403, 403, 200]
    assert user["id"] not in {u["id"] for u in (await emulator.state())["users"]}


async def test_requester_unconfirmed_never_says_the_key_is_not_an_admin_key(
    emulator: Emulator,
) -> None:
    state = await emulator.state()
    key = state["api_keys"][0]
    path = f"/v1/organizations/api_keys/{key['id']}"
    fault = {"kind": "requester_unconfirmed", "method": "POST", "path": path}
    await emulator.post("faults", {"faults": [fault] * 3})
    client = emulator.client(retry=RetryPolicy(max_attempts=3))
    with pytest.raises(PermissionDeniedError) as caught:
        await client.update_api_key(key["id"], status="inactive")
    assert caught.value.error_code == "api_key_requester_unconfirmed"
    assert caught.value.attempts == 3
    assert "not an admin key" not in str(caught.value)


async def test_an_answer_that_trickles_in_is_cut_off_at_the_attempt_deadline() -> None:
    class Trickling(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(30)  # headers, then a byte now and then: never a whole answer
            raise AssertionError("the deadline should have come first")

    http = make_http_client(BASE_URL, Secret(ADMIN_KEY), transport=Trickling())
    policy = RetryPolicy(max_attempts=2, attempt_deadline=0.05)

    async def no_sleep(_: float) -> None:
        return None

    client = AdminClient(http, requester=Requester(http, retry=policy, sleep=no_sleep))
    with pytest.raises(ConnectionFailedError) as caught:
        await client.me()
    assert caught.value.attempts == 2
    assert "no answer in time from https://api.anthropic.com: no complete answer within 0.05 s" in (
        str(caught.value)
    )


async def test_a_key_the_server_quotes_back_is_never_shown() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        quoted = f"invalid x-api-key {request.headers['x-api-key']}"
        body = {"type": "error", "error": {"type": "authentication_error", "message": quoted}}
        return httpx.Response(401, json=body)

    http = make_http_client(BASE_URL, Secret(ADMIN_KEY), transport=httpx.MockTransport(refuse))
    with pytest.raises(AuthenticationError) as caught:
        await AdminClient(http).me()
    assert ADMIN_KEY not in str(caught.value)
    assert "invalid x-api-key sk-ant-…(redacted)" in str(caught.value)


async def test_a_cursor_cycle_of_several_pages_stops_paging(emulator: Emulator) -> None:
    class Cycling(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            # page_a -> page_b -> page_a -> ...: no token repeats the one just before it.
            token = "page_b" if request.url.params.get("page") == "page_a" else "page_a"
            page = {"data": [{"id": "ratelimit_1"}], "next_page": token}
            return httpx.Response(200, json=page, request=request)

    http = make_http_client(BASE_URL, Secret(ADMIN_KEY), transport=Cycling())
    with pytest.raises(ServerError, match="same page cursor twice"):
        await AdminClient(http).list_rate_limits()
