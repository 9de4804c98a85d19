"""Pacing on a fake clock: the client against the emulator's rate limits, end to end.

The emulator answers as a real server does (429, a whole-second retry-after, no
retry-after-ms, per-second and per-minute windows); client and emulator read one virtual
clock, so a minute of pacing runs in a second and the figures are exact.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

import pytest

from roster.api import AdminClient, make_http_client
from roster.api.http import Requester, RetryPolicy
from roster.api.pacing import Pacer
from roster.emulator.app import create_app
from roster.emulator.control import Control
from roster.emulator.store import Store
from roster.emulator.transport import InProcessTransport
from tests.support import BASE_URL, KEY, VirtualTime


@dataclass(frozen=True, slots=True)
class Run:
    seconds: float
    requests: int
    refusals: int


def paced(requests: int, config: dict[str, object], *, max_rps: float | None = None) -> Run:
    """``requests`` GET /me at concurrency 8 through the emulator limited by ``config``."""
    time = VirtualTime()
    control = Control(clock=time.clock)
    control.configure(config)
    transport = InProcessTransport(create_app(Store(), control=control))

    async def scenario() -> float:
        http = make_http_client(BASE_URL, KEY, transport=transport)
        requester = Requester(
            http, rng=random.Random(0), sleep=time.sleep, clock=time.clock, max_rps=max_rps
        )
        client = AdminClient(http, requester=requester)
        started = time.now
        await asyncio.gather(*(client.me() for _ in range(requests)))
        return time.now - started

    seconds = time.run(scenario())
    counters = control.log.to_json()["counters"]
    return Run(seconds, counters["total"], counters["by_status"].get("429", 0))


@pytest.mark.parametrize("limit", [20, 50, 100])
def test_an_unknown_per_second_limit_is_found_at_once_and_kept_just_under(limit: int) -> None:
    run = paced(10 * limit, {"rate_limit_per_second": limit})
    bound = 10.0  # ten times the limit, at the limit
    # One refusal, its whole-second pause, then 97 % of the limit found: no second refusal.
    assert run.seconds <= bound / 0.97 + 1.0 + 0.1
    assert run.refusals <= 8  # the requests in flight when the limit was met


def test_a_per_minute_limit_is_learned_over_the_minute() -> None:
    run = paced(900, {"rate_limit_per_second": 50, "rate_limit_per_minute": 600})
    # 600 in the first minute, then 10 a second: 90 s at the limit.
    assert run.seconds <= 90 * 1.2
    assert run.refusals <= 40


def test_without_a_limit_nothing_waits() -> None:
    run = paced(200, {})
    assert (run.seconds, run.refusals) == (0.0, 0)


def test_max_rps_caps_the_rate_before_any_refusal() -> None:
    run = paced(100, {"rate_limit_per_second": 50}, max_rps=20)
    assert run.refusals == 0
    assert run.seconds == pytest.approx(99 / 20)


def test_a_token_bucket_with_retry_after_ms_is_followed_too() -> None:
    run = paced(300, {"rate_limit_rps": 30})
    assert run.seconds <= 300 / 30 / 0.97 + 1.5
    assert run.refusals <= 16


# --- the pacer alone ------------------------------------------------------------------------------


def test_a_turn_is_computed_when_it_is_taken_never_booked_ahead() -> None:
    time = VirtualTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep)

    async def scenario() -> list[float]:
        starts = [await pacer.turn() for _ in range(3)]
        pacer.refused(starts[-1], retry_after=2.0)  # the limit is met: 3 a second were taken
        waiting = asyncio.gather(*(pacer.turn() for _ in range(3)))
        await asyncio.sleep(0)
        pacer.rate = 10.0  # the rate rises while they wait: they start at the new spacing
        return starts + list(await waiting)

    starts = time.run(scenario())
    assert starts[:3] == [1000.0, 1000.0, 1000.0]
    assert starts[3:] == pytest.approx([1002.0, 1002.1, 1002.2])


def test_refusals_of_requests_in_flight_cut_the_rate_once() -> None:
    time = VirtualTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep)

    async def scenario() -> None:
        starts = [await pacer.turn() for _ in range(40)]
        for started in starts[:30]:
            pacer.answered(started)
        for started in starts[30:]:
            pacer.refused(started, retry_after=1.0)
        assert pacer.rate is None  # counted once the pause is over, when all are back
        await pacer.turn()

    time.run(scenario())
    assert pacer.rate == pytest.approx(30 * 0.97)


def test_the_rate_is_raised_again_after_a_quiet_while() -> None:
    time = VirtualTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep)

    async def scenario(requests: int) -> None:
        for _ in range(requests):
            pacer.answered(await pacer.turn())

    time.run(scenario(10))
    pacer.refused(time.now, retry_after=1.0)  # ten were taken in the second: 9.7 a second
    time.run(scenario(1))
    found = pacer.rate
    assert found == pytest.approx(9.7)
    time.run(scenario(300))  # 30 s at that rate: under the hold, the rate stays
    assert pacer.rate == found
    time.run(scenario(600))  # past the hold: probing a little higher, about 1 a second
    assert found < pacer.rate < found + 60


def test_retry_policy_and_pacing_share_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # No real time anywhere in the request path: a frozen real clock changes nothing.
    monkeypatch.setattr("time.monotonic", lambda: 0.0)
    monkeypatch.setattr("time.perf_counter", lambda: 0.0)
    run = paced(120, {"rate_limit_per_second": 40})
    assert run.seconds <= 120 / 40 / 0.97 + 1.1
    assert RetryPolicy().attempt_deadline > 0
