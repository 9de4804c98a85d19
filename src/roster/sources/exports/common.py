"""What the export readers share: reading a file safely, reading JSON member pages and their
fields, and turning each group's members into a ``Directory`` with its progress lines.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePath
from typing import Any

from roster.errors import SourceError
from roster.files import path_problem, read_regular
from roster.sources.directory import Directory, Group, Person, Progress

# An export of even a very large directory is a few MiB; far more is not an export.
MAX_EXPORT_BYTES = 64 * 2**20
# An item of a page, and where it is ("engineering.json: value[3]").
Item = tuple[str, Mapping[str, Any]]


def read_text(base: Path, shown: str, named: str) -> str:
    """The text of the file ``shown`` (as configured, relative to ``base``), without a BOM;
    ``named`` names it in an error ("csv export groups.csv")."""
    path = base / shown
    try:
        data = read_regular(path, MAX_EXPORT_BYTES)
    except OSError as error:
        raise SourceError(f"{named}: {path_problem(path, error)}") from None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise SourceError(f"{named}: not UTF-8 text (byte {error.start})") from None


def read_json(base: Path, shown: str, prefix: str) -> Any:
    """The JSON value in the file ``shown``."""
    text = read_text(base, shown, f"{prefix}: {shown}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        where = f"{shown}:{error.lineno}:{error.colno}"
        raise SourceError(f"{prefix}: {where}: invalid JSON: {error.msg}") from None
    except ValueError:  # Python reads no integer of more than 4300 digits
        raise SourceError(f"{prefix}: {shown}: invalid JSON: a number of too many digits") from None
    except RecursionError:
        raise SourceError(f"{prefix}: {shown}: invalid JSON: nested too deeply") from None


@dataclass(frozen=True, slots=True)
class PageFormat:
    """How an API's list response holds its items: in which field, how it says more follow."""

    prefix: str
    items: str
    next_page: str
    items_required: bool = True
    kind: str | None = None


def read_pages(fmt: PageFormat, group: str, pages: Sequence[str], base: Path) -> Iterator[Item]:
    """Every item of a group's pages; refused if the last page says more pages follow."""
    for number, shown in enumerate(pages, start=1):
        page = _page(fmt, shown, read_json(base, shown, fmt.prefix))
        if number == len(pages) and page.get(fmt.next_page):
            raise SourceError(
                f"{fmt.prefix}: group '{group}': {shown} gives a {fmt.next_page}, so more pages"
                " follow it; export them too and list every page under 'files'"
            )
        yield from _items(fmt, shown, page)


def _page(fmt: PageFormat, shown: str, page: Any) -> Mapping[str, Any]:
    if not isinstance(page, dict):
        raise SourceError(f"{fmt.prefix}: {shown} is not an object with a '{fmt.items}' list")
    kind = page.get("kind")
    if fmt.kind is not None and kind is not None and kind != fmt.kind:
        raise SourceError(f"{fmt.prefix}: {shown} is a '{kind}', not a '{fmt.kind}' page")
    if fmt.items_required and fmt.items not in page:
        raise SourceError(f"{fmt.prefix}: {shown} has no '{fmt.items}' list")
    return page


def _items(fmt: PageFormat, shown: str, page: Mapping[str, Any]) -> Iterator[Item]:
    items = page.get(fmt.items, [])
    if not isinstance(items, list):
        raise SourceError(f"{fmt.prefix}: {shown}: {fmt.items} is not a list")
    for index, item in enumerate(items):
        where = f"{shown}: {fmt.items}[{index}]"
        if not isinstance(item, dict):
            raise SourceError(f"{fmt.prefix}: {where} is not an object")
        yield where, item


def text(fmt: PageFormat, item: Item, name: str) -> str | None:
    """The string field ``name`` of an item; ``None`` if absent, null or empty."""
    where, fields = item
    value = fields.get(name)
    if value is not None and not isinstance(value, str):
        raise SourceError(f"{fmt.prefix}: {where}: {name} is not a string")
    return value or None


def required_text(fmt: PageFormat, item: Item, name: str) -> str:
    """The string field ``name`` of an item, which must be there and not empty."""
    value = text(fmt, item, name)
    if value is None:
        raise SourceError(f"{fmt.prefix}: {item[0]} has no {name}")
    return value


@dataclass(frozen=True, slots=True)
class Nested:
    """A member that is another configured group, by its key."""

    key: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A member roster leaves out, and what it is ("device", "SUSPENDED")."""

    what: str


Member = Person | Nested | Skipped


@dataclass(frozen=True, slots=True)
class GroupRead:
    """One configured group as its pages give it: the group, its people, what was skipped."""

    group: Group
    people: tuple[Person, ...]
    skipped: tuple[str, ...]
    pages: int


def group_read(group: Group, members: Iterable[Member], pages: int) -> GroupRead:
    """``group`` with its direct ``members``, each once, in the order the pages give them."""
    found = list(members)
    people = tuple(member for member in found if isinstance(member, Person))
    nested = [member.key for member in found if isinstance(member, Nested)]
    skipped = tuple(member.what for member in found if isinstance(member, Skipped))
    keys = tuple(dict.fromkeys(person.key for person in people))
    group = replace(group, people=keys, groups=tuple(dict.fromkeys(nested)))
    return GroupRead(group, people, skipped, pages)


def directory_of(describe: str, reads: Sequence[GroupRead]) -> Directory:
    """The directory the groups give; a person in several groups is the entry first met."""
    people: dict[str, Person] = {}
    for read in reads:
        for person in read.people:
            people.setdefault(person.key, person)
    return Directory(describe, people, {read.group.key: read.group for read in reads})


def tell_pages(progress: Progress | None, describe: str, reads: Sequence[GroupRead]) -> None:
    """One line for what was read, and one for what was skipped if anything was."""
    if progress is None:
        return
    people = {person.key for read in reads for person in read.people}
    pages = sum(read.pages for read in reads)
    progress(
        f"{describe}: {counted(len(reads), 'group')}, {counted(pages, 'page')},"
        f" {counted(len(people), 'person', 'people')}"
    )
    skipped = Counter(what for read in reads for what in read.skipped)
    if skipped:
        told = ", ".join(f"{count} {what}" for what, count in sorted(skipped.items()))
        progress(f"{describe}: skipped {counted(skipped.total(), 'member')}: {told}")


def counted(count: int, one: str, many: str | None = None) -> str:
    """``1 row``, ``2 rows``, ``2 people``."""
    return f"{count} {one if count == 1 else many or one + 's'}"


def group_files(settings: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """``files`` of the settings: each group's pages (the schema has checked their types)."""
    files: Mapping[str, str | list[str]] = settings["files"]
    return {
        name: (pages,) if isinstance(pages, str) else tuple(pages) for name, pages in files.items()
    }


def folder_of(files: Mapping[str, tuple[str, ...]]) -> str:
    """The folder the files are in, as configured ("." beside the roster file)."""
    parents = {str(PurePath(page).parent) for pages in files.values() for page in pages}
    try:
        return os.path.commonpath(sorted(parents)) or "."
    except ValueError:  # absolute and relative paths mixed
        return "several folders"
