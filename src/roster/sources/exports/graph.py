"""The Microsoft Graph export source (``kind: graph``): each group's pages of ``GET
/groups/{id}/members`` as the API returns them, per "List group members" (v1.0), at
https://learn.microsoft.com/en-us/graph/api/group-list-members?view=graph-rest-1.0 .

A page is ``{"@odata.context", "value": [directoryObject, ...], "@odata.nextLink"}``: the next
link is there while more than a page (100 by default) remains. Members are users, groups,
organizational contacts, devices and service principals, told apart by ``@odata.type``; without
permission to read a type the API still lists its members, with only ``@odata.type`` and ``id``.
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
    folder_of,
    group_files,
    group_read,
    read_pages,
    required_text,
    tell_pages,
    text,
)

PAGE = PageFormat(prefix="graph export", items="value", next_page="@odata.nextLink")
USER_TYPE = "#microsoft.graph.user"
GROUP_TYPE = "#microsoft.graph.group"
# How Entra ID spells a guest's userPrincipalName ("ann_example.com#EXT#@tenant..."): it is no
# address anyone receives mail at.
GUEST_MARK = "#ext#"


def read_graph(
    settings: Mapping[str, Any],
    *,
    wanted: Collection[str],
    base: Path,
    env: Mapping[str, str],
    progress: Progress | None = None,
) -> Directory:
    """Every group under ``files`` (by display name or id), each from its pages of members."""
    files = group_files(settings)
    reads = [_read_group(name, pages, base, files) for name, pages in files.items()]
    describe = f"graph export {folder_of(files)}"
    tell_pages(progress, describe, reads)
    return directory_of(describe, reads)


def _read_group(
    name: str, pages: tuple[str, ...], base: Path, configured: Collection[str]
) -> GroupRead:
    members = (_member(name, item, configured) for item in read_pages(PAGE, name, pages, base))
    return group_read(Group(name, (name,), pages[0]), members, len(pages))


def _member(group: str, item: Item, configured: Collection[str]) -> Member:
    kind = required_text(PAGE, item, "@odata.type")
    if kind == USER_TYPE:
        return _person(item)
    if kind == GROUP_TYPE:
        return Nested(_nested_key(group, item, configured))
    return Skipped(kind.removeprefix("#microsoft.graph."))


def _person(item: Item) -> Member:
    key = required_text(PAGE, item, "id")
    if item[1].get("accountEnabled") is False:  # listed only when the export selected it
        return Skipped("disabled user")
    return Person(key, _email(item), item[0], text(PAGE, item, "displayName"))


def _email(item: Item) -> str | None:
    """``mail``, else the ``userPrincipalName`` unless it is a guest's made-up one."""
    mail = text(PAGE, item, "mail")
    principal = text(PAGE, item, "userPrincipalName")
    if mail is None and principal is not None and GUEST_MARK not in principal.lower():
        return principal
    return mail


def _nested_key(group: str, item: Item, configured: Collection[str]) -> str:
    """The configured group a member group is: by its id if a name is that id, else its name."""
    group_id = required_text(PAGE, item, "id")
    name = text(PAGE, item, "displayName")
    for key in (group_id, name):
        if key is not None and key in configured:
            return key
    raise SourceError(
        f"graph export: group '{group}' ({item[0]}) has member group '{name or group_id}',"
        " which no file under 'files' gives; export its members too"
    )
