"""fetch_state: the organization as frozen values, one open invite per email."""

from __future__ import annotations

import asyncio

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
