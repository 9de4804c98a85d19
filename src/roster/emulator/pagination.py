"""ID-cursor pagination (admin-api.md §3a) over ascending lists of ids.

Pages are found with bisect, then scanned only as far as the filter needs, so walking a
50,000-member organization costs about the page size per request, not the organization size.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from roster.emulator.problems import invalid

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Cursor:
    limit: int = DEFAULT_LIMIT
    after_id: str | None = None
    before_id: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    ids: list[str]
    has_more: bool


def parse_limit(raw: str | None, default: int, maximum: int) -> int:
    """An integer in 1..maximum, or a 400 naming the allowed range."""
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"limit: expected an integer, got {raw!r}") from None
    if not 1 <= value <= maximum:
        raise invalid(f"limit: must be between 1 and {maximum}, got {value}")
    return value


def parse_cursor(limit: str | None, after_id: str | None, before_id: str | None) -> Cursor:
    if after_id is not None and before_id is not None:
        raise invalid("after_id and before_id cannot both be set", "conflicting_cursors")
    return Cursor(parse_limit(limit, DEFAULT_LIMIT, MAX_LIMIT), after_id, before_id)


def paginate(ids: Sequence[str], cursor: Cursor, keep: Callable[[str], bool] | None = None) -> Page:
    """The page of ascending ``ids`` that ``cursor`` selects, keeping ids ``keep`` accepts."""
    if cursor.before_id is not None:
        return _backward(ids, bisect.bisect_left(ids, cursor.before_id), cursor.limit, keep)
    start = 0 if cursor.after_id is None else bisect.bisect_right(ids, cursor.after_id)
    return _forward(ids, start, cursor.limit, keep)


def _forward(
    ids: Sequence[str], start: int, limit: int, keep: Callable[[str], bool] | None
) -> Page:
    if keep is None:
        return Page(list(ids[start : start + limit]), start + limit < len(ids))
    found: list[str] = []
    for index in range(start, len(ids)):
        if keep(ids[index]):
            if len(found) == limit:
                return Page(found, True)
            found.append(ids[index])
    return Page(found, False)


def _backward(ids: Sequence[str], end: int, limit: int, keep: Callable[[str], bool] | None) -> Page:
    if keep is None:
        start = max(0, end - limit)
        return Page(list(ids[start:end]), start > 0)
    found: list[str] = []
    for index in range(end - 1, -1, -1):
        if keep(ids[index]):
            if len(found) == limit:
                return Page(found[::-1], True)
            found.append(ids[index])
    return Page(found[::-1], False)


class SortedIds:
    """An ascending list of ids with cheap appends (new ids are always the largest)."""

    def __init__(self, ids: Sequence[str] = ()) -> None:
        self.items: list[str] = sorted(ids)

    def add(self, object_id: str) -> None:
        if not self.items or object_id > self.items[-1]:
            self.items.append(object_id)
        else:
            bisect.insort(self.items, object_id)

    def remove(self, object_id: str) -> None:
        index = bisect.bisect_left(self.items, object_id)
        if index < len(self.items) and self.items[index] == object_id:
            del self.items[index]

    def __len__(self) -> int:
        return len(self.items)
