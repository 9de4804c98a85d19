"""The CSV export source (``kind: csv``): one row per group member, with the columns ``group``,
``member`` and optionally ``member_type`` (``user`` or ``group``) and ``name``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from roster.errors import SourceError
from roster.sources.directory import Directory, Group, Person, Progress
from roster.sources.exports.common import counted, read_text

COLUMNS = ("group", "member", "member_type", "name")
REQUIRED_COLUMNS = ("group", "member")
MEMBER_TYPES = ("user", "group")


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    group: str
    member: str
    member_type: str
    name: str | None


@dataclass(slots=True)
class _Members:
    """A group's rows so far: where it first appears, its members in the order given."""

    where: str
    people: dict[str, None] = field(default_factory=dict)
    groups: dict[str, None] = field(default_factory=dict)


def read_csv(
    settings: Mapping[str, Any],
    *,
    wanted: Collection[str],
    base: Path,
    env: Mapping[str, str],
    progress: Progress | None = None,
) -> Directory:
    """Every group of the CSV file at ``path`` (relative to ``base``), read whole."""
    shown: str = settings["path"]
    rows = _rows(read_text(base, shown, f"csv export {shown}"), shown)
    directory = _directory(rows, shown)
    if progress is not None:
        progress(_summary(directory, rows))
    return directory


def _summary(directory: Directory, rows: Sequence[_Row]) -> str:
    people, groups = len(directory.people), len(directory.groups)
    return (
        f"{directory.describe}: {counted(len(rows), 'row')},"
        f" {counted(people, 'person', 'people')}, {counted(groups, 'group')}"
    )


def _rows(text: str, shown: str) -> list[_Row]:
    records = _records(text, shown)
    header = next(records, None)
    if header is None:
        raise SourceError(f"csv export {shown}: no header row ({', '.join(COLUMNS)})")
    columns = _columns(shown, *header)
    return [_row(shown, line, record, columns) for line, record in records]


def _records(text: str, shown: str) -> Iterator[tuple[int, list[str]]]:
    """The records that hold anything, each with the line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                yield line, record
            line = reader.line_num + 1
    except csv.Error as error:
        raise SourceError(f"csv export {shown}:{reader.line_num}: {error}") from None


def _columns(shown: str, line: int, header: Sequence[str]) -> dict[str, int]:
    """Where each documented column is; other columns are left for other uses."""
    names = [cell.strip().lower() for cell in header]
    for name in COLUMNS:
        if names.count(name) > 1:
            raise SourceError(f"csv export {shown}:{line}: the column '{name}' appears twice")
    for name in REQUIRED_COLUMNS:
        if name not in names:
            raise SourceError(
                f"csv export {shown}:{line}: the header has no '{name}' column"
                f" (columns: {', '.join(COLUMNS)})"
            )
    return {name: names.index(name) for name in COLUMNS if name in names}


def _row(shown: str, line: int, record: Sequence[str], columns: Mapping[str, int]) -> _Row:
    def cell(name: str) -> str:
        index = columns.get(name, len(record))
        return record[index] if index < len(record) else ""

    where = f"csv export {shown}:{line}"
    if not cell("group").strip():
        raise SourceError(f"{where}: the group is empty")
    member_type = cell("member_type").strip().lower() or "user"
    if member_type not in MEMBER_TYPES:
        raise SourceError(f"{where}: unknown member_type '{cell('member_type')}' (user or group)")
    if member_type == "group" and not cell("member").strip():
        raise SourceError(f"{where}: a member_type group row with an empty member")
    return _Row(line, cell("group"), cell("member"), member_type, cell("name") or None)


def _directory(rows: Sequence[_Row], shown: str) -> Directory:
    people: dict[str, Person] = {}
    groups: dict[str, _Members] = {}
    for row in rows:
        members = groups.setdefault(row.group, _Members(f"{shown}:{row.line}"))
        if row.member_type == "group":
            members.groups[row.member] = None
        else:
            person = _person(people.get(_person_key(row, shown)), row, shown)
            people[person.key] = person
            members.people[person.key] = None
    _refuse_unknown_groups(rows, shown, groups)
    found = {name: _group(name, members) for name, members in groups.items()}
    return Directory(f"csv export {shown}", people, found)


def _person_key(row: _Row, shown: str) -> str:
    # A row without an address is a person of its own, for the mapping to name if a rule reaches it.
    return row.member.lower() if row.member.strip() else f"{shown}:{row.line}"


def _person(known: Person | None, row: _Row, shown: str) -> Person:
    """The person the row gives; one already met stays where first given, taking a name."""
    if known is not None:
        return replace(known, name=row.name) if known.name is None and row.name else known
    email = row.member if row.member.strip() else None
    key = _person_key(row, shown)
    return Person(key, email, f"{shown}:{row.line}", row.name)


def _refuse_unknown_groups(rows: Sequence[_Row], shown: str, groups: Mapping[str, object]) -> None:
    for row in rows:
        if row.member_type == "group" and row.member not in groups:
            raise SourceError(
                f"csv export {shown}:{row.line}: group '{row.group}' has member group"
                f" '{row.member}', which no row gives as a group"
            )


def _group(name: str, members: _Members) -> Group:
    return Group(name, (name,), members.where, tuple(members.people), tuple(members.groups))
