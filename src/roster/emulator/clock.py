"""The emulator's clock: real UTC time plus an adjustable offset, or a frozen instant.

Invite expiry, timestamps and the usage reports all read this clock, so tests can move time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from roster.timestamps import parse_timestamp


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds and ``Z``, the API's only timestamp form."""
    if moment.tzinfo is not timezone.utc:
        moment = moment.astimezone(timezone.utc)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp; a missing offset means UTC. Raises ``ValueError``."""
    return parse_timestamp(text)


class Clock:
    """Real time plus ``offset_seconds``; a frozen clock only moves when told to."""

    def __init__(self, offset_seconds: float = 0.0, *, frozen_at: datetime | None = None) -> None:
        self._offset = timedelta(seconds=offset_seconds)
        self._frozen_at = frozen_at

    @classmethod
    def frozen(cls, moment: datetime) -> Clock:
        return cls(frozen_at=moment.astimezone(timezone.utc))

    def now(self) -> datetime:
        if self._frozen_at is not None:
            return self._frozen_at
        return utc_now() + self._offset

    @property
    def offset_seconds(self) -> float:
        if self._frozen_at is not None:
            return (self._frozen_at - utc_now()).total_seconds()
        return self._offset.total_seconds()

    def advance(self, seconds: float) -> None:
        step = timedelta(seconds=seconds)
        if self._frozen_at is not None:
            self._frozen_at += step
        else:
            self._offset += step

    def set_now(self, moment: datetime) -> None:
        if self._frozen_at is not None:
            self._frozen_at = moment.astimezone(timezone.utc)
        else:
            self._offset = moment - utc_now()
