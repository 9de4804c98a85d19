"""``roster sync-groups`` without the printing: read the source the ``groups`` section names,
resolve the rules, and compare the generated file with the one in place, under a guard.

The directory is only read; the one file written is the generated one, whole or not at all.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from roster.config import load_config
from roster.desired import GroupSync
from roster.errors import ConfigError, Problem, SourceError, UnsafePlanError
from roster.files import check_regular, path_problem, read_regular
from roster.sources.directory import Directory, Progress
from roster.sources.generated import render_generated
from roster.sources.rules import Resolution, resolve
from roster.yaml_writer import stateable_email

# Each kind's reader: module and function, imported only when its kind is read.
READERS = {
    "ldap": ("roster.sources.ldap", "read_directory"),
    "scim": ("roster.sources.scim", "read_directory"),
    "csv": ("roster.sources.exports", "read_csv"),
    "graph": ("roster.sources.exports", "read_graph"),
    "google": ("roster.sources.exports", "read_google"),
}
MAX_GENERATED_BYTES = 64 * 1024 * 1024


class Reader(Protocol):
    def __call__(
        self,
        settings: Mapping[str, Any],
        *,
        wanted: Any,
        base: Path,
        env: Mapping[str, str],
        progress: Progress | None = None,
    ) -> Directory: ...


@dataclass(frozen=True, slots=True)
class SyncResult:
    """The generated file's text, where it goes, and how it differs from the one in place."""

    output: Path
    text: str
    previous: str | None
    members: int
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]

    @property
    def is_unchanged(self) -> bool:
        return self.text == self.previous


def group_sync_of(paths: tuple[Path, ...]) -> GroupSync:
    """The ``groups`` section of the roster files (generated files left unread)."""
    sync = load_config(paths, generated=False).groups
    if sync is None:
        problem = "no roster file gives a 'groups' section: see docs/identity-sources.md"
        raise ConfigError(None, [Problem(problem, file=str(paths[0]))])
    return sync


def compute_sync(
    sync: GroupSync,
    *,
    env: Mapping[str, str],
    progress: Progress | None = None,
    force: bool = False,
) -> SyncResult:
    """The generated file the directory and rules give now; ``UnsafePlanError`` when it drops
    more people than ``groups.max_removals`` allows (unless ``force``)."""
    base = Path(sync.file).parent
    output = base / sync.output
    check_regular_output(output)
    directory = _reader(sync.source["kind"])(
        sync.source,
        wanted=tuple(rule.group for rule in sync.rules),
        base=base,
        env=env,
        progress=progress,
    )
    resolution = resolve(directory, sync.rules, stateable_email)
    rules_file = os.path.relpath(sync.file, output.parent)
    text = render_generated(resolution, Path(rules_file).as_posix())
    previous = _previous_text(output)
    before = _members_of(previous, output)
    result = _compared(output, text, previous, before, resolution)
    if not force:
        _check_removals(sync, result, before)
    return result


def write_generated(result: SyncResult) -> None:
    """Write the generated file whole: a new file beside it, renamed over it."""
    folder = result.output.parent
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=folder, prefix=".roster-", suffix=".tmp", delete=False
    ) as stream:
        stream.write(result.text)
    os.replace(stream.name, result.output)


def _reader(kind: str) -> Reader:
    module, name = READERS[kind]
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as error:
        raise SourceError(f"{kind}: this installation cannot read it ({error})") from None
    reader: Reader = getattr(loaded, name)
    return reader


def _previous_text(output: Path) -> str | None:
    try:
        return read_regular(output, MAX_GENERATED_BYTES).decode("utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise SourceError(f"{output}: {path_problem(output, error)}") from None
    except UnicodeDecodeError:
        raise SourceError(f"{output}: not UTF-8 text; remove it to write it again") from None


def _members_of(text: str | None, output: Path) -> dict[str, str]:
    """The members a generated file in place lists (email -> role)."""
    if text is None:
        return {}
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise SourceError(f"{output}: not a YAML file; remove it to write it again") from None
    members = data.get("members") if isinstance(data, dict) else None
    if not isinstance(data, dict) or "generated" not in data:
        raise SourceError(
            f"{output}: not a file roster sync-groups wrote (no 'generated' section); it is"
            " left as it is: name another output"
        )
    return {str(k).lower(): str(v) for k, v in members.items()} if isinstance(members, dict) else {}


def _compared(
    output: Path,
    text: str,
    previous: str | None,
    before: Mapping[str, str],
    resolution: Resolution,
) -> SyncResult:
    now = {email: member.role for email, member in resolution.members.items()}
    return SyncResult(
        output=output,
        text=text,
        previous=previous,
        members=len(now),
        added=tuple(sorted(now.keys() - before.keys())),
        removed=tuple(sorted(before.keys() - now.keys())),
        changed=tuple(sorted(e for e in now.keys() & before.keys() if now[e] != before[e])),
    )


def _check_removals(sync: GroupSync, result: SyncResult, before: Mapping[str, str]) -> None:
    limit = sync.max_removals
    allowed = limit.allowed(len(before))
    if len(result.removed) > allowed:
        raise UnsafePlanError(
            f"refusing to write {result.output}: {len(result.removed)} of the {len(before)} people"
            f" it lists would go ({result.members} left), and groups.max_removals allows"
            f" {limit.described(len(before))}; a broken bind or an emptied group looks like"
            " this: check the source, or run with --force if the removals are meant"
        )


def check_regular_output(output: Path) -> None:
    """Refuse an output that is a FIFO, a device or a directory before reading the source."""
    try:
        check_regular(output.stat().st_mode)
    except FileNotFoundError:
        return
    except OSError as error:
        raise SourceError(f"{output}: {path_problem(output, error)}") from None
