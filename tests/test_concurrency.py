"""gather_or_cancel: results in order, and a failure cancels what is still running."""

from __future__ import annotations

import asyncio

import pytest

from roster.concurrency import gather_or_cancel


def test_results_come_back_in_order() -> None:
    async def after(delay: float, value: int) -> int:
        await asyncio.sleep(delay)
        return value

    assert asyncio.run(gather_or_cancel(after(0.02, 1), after(0, 2), after(0.01, 3))) == [1, 2, 3]


def test_the_first_failure_cancels_the_others_before_it_propagates() -> None:
    finished: list[str] = []
    cancelled: list[str] = []

    async def slow(name: str) -> None:
        try:
            await asyncio.sleep(5)
            finished.append(name)
        except asyncio.CancelledError:
            cancelled.append(name)
            raise

    async def fails() -> None:
        await asyncio.sleep(0)
        raise LookupError("refused")

    async def scenario() -> None:
        with pytest.raises(LookupError, match="refused"):
            await gather_or_cancel(slow("a"), fails(), slow("b"))
        # By the time the failure is seen, the siblings have already been cancelled.
        assert sorted(cancelled) == ["a", "b"]

    asyncio.run(scenario())
    assert finished == []
