"""The Google Workspace export source (``kind: google``): each group's pages of the Admin SDK
Directory API ``members.list``, per https://developers.google.com/admin-sdk/directory/reference/rest/v1/members/list
and the Member resource (https://developers.google.com/admin-sdk/directory/reference/rest/v1/members).

A page is ``{"kind": "admin#directory#members", "members": [...], "nextPageToken"}``, with no
``members`` for an empty group. A member has ``type`` USER, GROUP, EXTERNAL or CUSTOMER (the
whole domain: no email, its id the customer's) and a ``status`` such as ACTIVE or SUSPENDED.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from roster.errors import SourceError
from roster.sources.directory import Directory, Group, Person, Progress
from roster.sources.exports.common import (
    GroupRead,
    Item,
    Member,
    Nested,
    PageFormat,
    Skipped,
    directory_of,
    group_files,
    group_read,
    read_pages,
    required_text,
    tell_pages,
    text,
)

PAGE = PageFormat(
    prefix="google export",
    items="members",
    next_page="nextPageToken",
    items_required=False,
    kind="admin#directory#members",
)
MEMBER_TYPES = ("USER", "GROUP", "EXTERNAL", "CUSTOMER")


def read_google(
    settings: Mapping[str, Any],
    *,
    wanted: Collection[str],
    base: Path,
    env: Mapping[str, str],
    progress: Progress | None = None,
) -> Directory:
    """Every group under ``files`` (by email), each from its pages of members."""
    files = group_files(settings)
    keys = _group_keys(files)
    reads = [_read_group(name, pages, base, keys) for name, pages in files.items()]
    tell_pages(progress, PAGE.prefix, reads)
    return directory_of(PAGE.prefix, reads)


def _group_keys(files: Mapping[str, object]) -> dict[str, str]:
    """Each configured group's key, its email in lower case; one email twice is refused."""
    keys: dict[str, str] = {}
    for name in files:
        if name.lower() in keys:
            raise SourceError(
                f"google export: 'files' gives one group twice: '{keys[name.lower()]}' and"
                f" '{name}' (emails are the same in any case)"
            )
        keys[name.lower()] = name
    return keys


def _read_group(name: str, pages: tuple[str, ...], base: Path, keys: Collection[str]) -> GroupRead:
    members = (_member(name, item, keys) for item in read_pages(PAGE, name, pages, base))
    return group_read(Group(name.lower(), (name,), pages[0]), members, len(pages))


def _member(group: str, item: Item, keys: Collection[str]) -> Member:
    kind = _member_type(group, item)
    status = text(PAGE, item, "status")
    if status not in (None, "ACTIVE"):
        return Skipped(status)
    if kind == "GROUP":
        return Nested(_nested_key(group, item, keys))
    return _person(item)


def _member_type(group: str, item: Item) -> str:
    kind = required_text(PAGE, item, "type")
    if kind not in MEMBER_TYPES:
        raise SourceError(
            f"google export: {item[0]}: unknown member type '{kind}' ({', '.join(MEMBER_TYPES)})"
        )
    if kind == "CUSTOMER":
        raise SourceError(
            f"google export: group '{group}' ({item[0]}) has the whole domain as a member (type"
            " CUSTOMER); roster cannot expand that into people: give the rules groups that list"
            " their members"
        )
    return kind


def _person(item: Item) -> Person:
    member_id, email = text(PAGE, item, "id"), text(PAGE, item, "email")
    key = member_id or (email or "").lower()
    if not key:
        raise SourceError(f"google export: {item[0]} has neither an id nor an email")
    return Person(key, email, item[0])


def _nested_key(group: str, item: Item, keys: Collection[str]) -> str:
    email = required_text(PAGE, item, "email")
    if email.lower() not in keys:
        raise SourceError(
            f"google export: group '{group}' ({item[0]}) has member group '{email}', which no"
            " file under 'files' gives; export its members too"
        )
    return email.lower()
