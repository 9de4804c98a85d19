"""RFC 3339 timestamps read alike on every supported Python (3.10 reads neither ``Z`` nor a
fraction of other than 3 or 6 digits by itself)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from roster.emulator.clock import parse_time
from roster.reports.dates import DateError, parse_moment
from roster.timestamps import parse_timestamp

UTC = timezone.utc
NOW = datetime(2026, 11, 2, 9, 30, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-30T12:34:56Z", datetime(2026, 10, 30, 12, 34, 56, tzinfo=UTC)),
        ("2026-10-30T12:34:56.5Z", datetime(2026, 10, 30, 12, 34, 56, 500000, tzinfo=UTC)),
        ("2026-10-30T12:34:56.12z", datetime(2026, 10, 30, 12, 34, 56, 120000, tzinfo=UTC)),
        ("2026-10-30T12:34:56.1234567Z", datetime(2026, 10, 30, 12, 34, 56, 123456, tzinfo=UTC)),
        ("2026-10-30T14:34:56.25+02:00", datetime(2026, 10, 30, 12, 34, 56, 250000, tzinfo=UTC)),
        ("2026-10-30T12:34:56", datetime(2026, 10, 30, 12, 34, 56, tzinfo=UTC)),
        (" 2026-10-30T12:34:56.000001Z ", datetime(2026, 10, 30, 12, 34, 56, 1, tzinfo=UTC)),
    ],
)
def test_every_rfc_3339_form_reads_as_the_same_instant(text: str, expected: datetime) -> None:
    assert parse_timestamp(text) == expected
    assert parse_time(text) == expected
    assert parse_moment(text, NOW) == expected


@pytest.mark.parametrize("text", ["2026-10-30T25:00:00Z", "2026-13-30T00:00:00Z", "soon"])
def test_what_is_no_timestamp_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        parse_timestamp(text)
    with pytest.raises(DateError):
        parse_moment(text, NOW)
