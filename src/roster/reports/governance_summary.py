"""The governance summary of ``roster report``: idle seats and old or unused API keys, from the
same readings as ``roster activity`` and ``roster keys``."""

from __future__ import annotations

from collections.abc import Sequence

from roster.reports.activity import ATTRIBUTABLE, ActivityReport
from roster.reports.dashboard import Section
from roster.reports.keys import KeysReport

# How many names a summary row shows before "and N more".
NAMES_SHOWN = 5
# The rotation rule the guides give for API keys, in days.
KEY_AGE_LIMIT = 90


def governance_section(seats: ActivityReport, keys: KeysReport, max_age_days: int) -> Section:
    """Idle seats and active keys past ``max_age_days``, as the report's summary shows them."""
    members = [row for row in seats.rows if row.status == "member"]
    idle = [row.email for row in members if row.state == "idle"]
    active = [row for row in keys.rows if row.status == "active"]
    old = [row for row in active if row.age_days is not None and row.age_days > max_age_days]
    unused = [row for row in active if row.last_used is None]
    days = seats.window.day_count
    rows = (
        (
            "Idle seats",
            f"{len(idle)} of {len(members)} members, no attributable use in {days} days",
        ),
        *_names(idle),
        ("Old API keys", f"{len(old)} of {len(active)} active keys older than {max_age_days} days"),
        *_names([f"{r.name} ({r.age_days} days)" for r in old]),
        ("Unused API keys", f"{len(unused)} of {len(active)} active keys unused in {days} days"),
        ("", "An idle seat is a question for a person, not a verdict."),
    )
    data = {
        "window": seats.window.data,
        "members": len(members),
        "idle_seats": idle,
        "max_age_days": max_age_days,
        "active_api_keys": len(active),
        "old_api_keys": [{"id": r.id, "name": r.name, "age_days": r.age_days} for r in old],
        "unused_api_keys": [{"id": r.id, "name": r.name} for r in unused],
        "attributable": ATTRIBUTABLE,
    }
    return Section("Governance", rows, data)


def _names(names: Sequence[str]) -> list[tuple[str, str]]:
    """A row a name under the count, the first few: a table cell holds one line."""
    more = len(names) - NAMES_SHOWN
    rows = [("", name) for name in names[:NAMES_SHOWN]]
    return [*rows, ("", f"and {more} more")] if more > 0 else rows
