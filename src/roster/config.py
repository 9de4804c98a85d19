"""Load roster files into a ``Desired`` value, or fail with a ``ConfigError`` naming the line.

YAML is composed to nodes by hand so that every key and value keeps its position: duplicate keys,
anchors and schema errors are reported at ``file:line:column``. ``schemas/roster.schema.json`` is
the only definition of the format; the code adds just the checks that span files.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib.resources
import json
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from jsonschema import (  # type: ignore[import-untyped, unused-ignore]
    Draft202012Validator,
    ValidationError,
)
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.error import Mark, MarkedYAMLError
from yaml.events import AliasEvent, NodeEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from roster.desired import (
    DEFAULT_RULE_ROLE,
    DEFAULT_SYNC_REMOVALS,
    Desired,
    DesiredWorkspace,
    GroupOverride,
    GroupRule,
    GroupSync,
    Location,
    OrganizationRef,
    Policy,
    RemovalLimit,
)
from roster.errors import ConfigError, Problem
from roster.fastload import PLAIN_WHOLE_NUMBER, compiled_validator, sound_data
from roster.files import not_regular, open_regular, path_problem
from roster.model import ORG_ROLES
from roster.plan_workspaces import DEFAULT_WORKSPACE

# An exported organization of 100,000 members is about 11 MiB; the limit keeps far above that
# and still refuses a runaway file before parsing it.
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_NESTING = 32
ROSTER_SUFFIXES = (".yaml", ".yml")
SECTIONS_IN_ONE_FILE = ("organization", "policy", "groups")
# What a generated file may give: the rest is written by hand, in the other files.
GENERATED_SECTIONS = frozenset({"generated", "members", "workspaces"})
SCHEMA_NAME = "roster.schema.json"
DEFAULT_RATE_LIMITS = (
    "workspace 'Default': the Default workspace always has the organization's rate limits;"
    " set rate limits on another workspace"
)

# The top-level key that marks a file sync-groups wrote, which sync-groups itself does not read.
_GENERATED_MARK = re.compile(r"^generated:", re.MULTILINE)
# A key or value's place in a document: ("members", "alice@example.com"), ("policy", "ignore", 0).
Where = tuple[str | int, ...]
Position = tuple[int, int]

_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")
)
_ALLOWED_TAGS = _PLAIN_TAGS | {"tag:yaml.org,2002:timestamp"}
_INT_TAG = "tag:yaml.org,2002:int"


def load_config(paths: Sequence[Path], *, generated: bool = True) -> Desired:
    """Read, validate and merge the roster files at ``paths`` (files, or directories of them).

    Sound files are read at the speed of the parser (``roster.fastload``); when anything is
    wrong, every file is read again the careful way, which says exactly what and where. The
    ``ConfigError`` raised then carries every problem of every file, in file and line order: a
    file that cannot be read or fails the schema is left out of the checks across files, and
    those checks then say nothing that the missing file could make untrue.
    """
    files, problems, order = _found_files(paths)
    with _collector_paused():
        texts = []
        for path in files:
            try:
                texts.append((path, _read_text(path)))
            except ConfigError as error:
                problems.extend(error.problems)
        # Without its generated files, a workspace member may be listed in one of them.
        made = {path for path, text in texts if _GENERATED_MARK.search(text)}
        whole = generated or not made
        if not generated:
            texts = [(path, text) for path, text in texts if path not in made]
        if not problems and (sound := _load_sound(texts, whole)) is not None:
            return sound
        documents, complete = [], not problems and whole
        for path, text in texts:
            try:
                loaded = _load_document(path, text)
            except ConfigError as error:  # not YAML at all
                problems.extend(error.problems)
                complete = False
                continue
            problems.extend(loaded.problems)
            complete = complete and loaded.usable and loaded.whole
            if loaded.usable:
                documents.append(loaded.document)
        try:
            desired = _merge(documents, complete=complete)
        except ConfigError as error:
            problems.extend(error.problems)
        if problems:
            raise ConfigError(None, _in_file_order(problems, order))
        return desired


def _in_file_order(problems: Iterable[Problem], order: Sequence[str]) -> list[Problem]:
    rank = {name: index for index, name in enumerate(order)}
    return sorted(
        problems,
        key=lambda p: (rank.get(p.file or "", -1), p.file or "", p.line or 0, p.column or 0),
    )


def _load_sound(texts: Sequence[tuple[Path, str]], whole: bool = True) -> Desired | None:
    documents = []
    for path, text in texts:
        data = sound_data(text)
        if data is None or not _sound_validator()(data):
            return None
        if _needs_places(data):
            # Rate-limit groups are checked at plan time, group rules against the directory,
            # and what a generated file gives may be overridden: each needs its place.
            loaded = _load_document(path, text)
            if loaded.problems or not loaded.usable:
                return None
            documents.append(loaded.document)
        else:
            documents.append(_Document(str(path), data, {}, {}))
    try:
        return _merge(documents, complete=whole)
    except ConfigError:  # a problem across files: the careful path locates it
        return None


def _needs_places(data: Mapping[str, Any]) -> bool:
    if "groups" in data or "generated" in data:
        return True
    workspaces = data.get("workspaces") or {}
    return any("rate_limits" in section for section in workspaces.values())


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    # Building a large file's objects makes the cyclic collector run again and again, for a
    # fifth of the time, to find nothing: the loader makes no cycles.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def roster_files(paths: Sequence[Path]) -> list[Path]:
    """The files ``paths`` name; a directory stands for the ``*.yaml``/``*.yml`` files under it.

    A path that cannot be used is a problem; every such path is named in one ``ConfigError``.
    """
    files, problems, _ = _found_files(paths)
    if problems:
        raise ConfigError(None, problems)
    return files


def _found_files(paths: Sequence[Path]) -> tuple[list[Path], list[Problem], list[str]]:
    """The files found, the problems of the paths that cannot be used, and the order of both."""
    if not paths:
        raise ConfigError(".", [Problem("no roster file given")])
    unique: dict[Path, Path] = {}
    problems: list[Problem] = []
    order: list[str] = []
    for path in paths:
        try:
            expanded, unusable = _expand(path)
        except ConfigError as error:
            expanded, unusable = [], list(error.problems)
        named = [file for file in expanded if unique.setdefault(file.resolve(), file) is file]
        problems.extend(unusable)
        # A directory's files and unusable entries are told in name order, together.
        order.extend(sorted([*map(str, named), *(p.file or "." for p in unusable)]))
    return list(unique.values()), problems, order


def _expand(path: Path) -> tuple[list[Path], list[Problem]]:
    """The roster files ``path`` names and the entries under it that cannot be used; a
    ``ConfigError`` when ``path`` itself cannot be."""
    mode = _mode(path)
    if stat.S_ISDIR(mode):
        files, problems = _files_under(path)
        if not files and not problems:
            raise ConfigError(str(path), [Problem("no *.yaml or *.yml files in this directory")])
        return files, problems
    _require_regular(path, mode)
    return [path], []


def _files_under(top: Path) -> tuple[list[Path], list[Problem]]:
    """The roster files in ``top`` and its subdirectories, by path, and the entries that cannot
    be used (each one told; the walk goes on past them).

    Nothing under it is skipped unless hidden or plainly not a roster file: a team file left
    unread would have its members planned for removal. Links are followed; a directory reached
    again (through a link to it, or to one above it) is walked once, under its first path.
    """
    files: list[Path] = []
    problems: list[Problem] = []
    walked: set[Path] = set()
    pending = [top]
    while pending:
        directory = pending.pop()
        resolved = directory.resolve()
        if resolved in walked:
            continue
        walked.add(resolved)
        try:
            found, subdirectories = _contents(directory, problems)
        except ConfigError as error:  # the directory itself cannot be listed
            problems.extend(error.problems)
            continue
        files.extend(found)
        # Walked in name order, so that of two paths to one directory the first is kept.
        pending.extend(reversed(subdirectories))
    return sorted(files), sorted(problems, key=lambda p: p.file or "")


def _contents(directory: Path, problems: list[Problem]) -> tuple[list[Path], list[Path]]:
    """The roster files directly in ``directory``, and its subdirectories; an entry that cannot
    be used is added to ``problems``."""
    files: list[Path] = []
    subdirectories: list[Path] = []
    for entry in _visible_entries(directory):
        try:
            mode = _mode(entry)
            if stat.S_ISDIR(mode):
                subdirectories.append(entry)
            elif _is_roster_file(entry):
                _require_regular(entry, mode)
                files.append(entry)
        except ConfigError as error:
            problems.extend(error.problems)
    return files, subdirectories


def _visible_entries(directory: Path) -> list[Path]:
    """Each entry of ``directory`` that is not hidden."""
    try:
        entries = sorted(directory.iterdir())
    except OSError as error:
        problem = path_problem(directory, error, reading="the directory")
        raise ConfigError(str(directory), [Problem(problem)]) from None
    # Hidden names are skipped before they are looked at: editor lock files (.#team.yaml) are
    # dangling links, and .git is no roster.
    return [entry for entry in entries if not entry.name.startswith(".")]


def _mode(path: Path) -> int:
    """The type and mode of what ``path`` names, links followed; a ``ConfigError`` if nothing."""
    try:
        return path.stat().st_mode
    except OSError as error:
        raise ConfigError(str(path), [Problem(path_problem(path, error, reading="it"))]) from None


def _is_roster_file(path: Path) -> bool:
    # By name only: whether it can be read is for reading it to say, never a reason to skip it.
    return path.suffix.lower() in ROSTER_SUFFIXES and not path.name.startswith(".")


def _require_regular(path: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise ConfigError(str(path), [Problem(not_regular(mode))])


@functools.cache
def roster_schema() -> Mapping[str, Any]:
    """The JSON Schema of a roster file: packaged in the wheel, or ``schemas/`` in a source tree."""
    schema: dict[str, Any] = json.loads(roster_schema_text())
    return schema


def roster_schema_text() -> str:
    """The schema file's text, as it ships."""
    packaged = importlib.resources.files("roster") / "schemas" / SCHEMA_NAME
    # An editable install maps only src/ into the package; the schema then lives in the repo.
    source_tree = Path(__file__).resolve().parents[2] / "schemas" / SCHEMA_NAME
    return (packaged if packaged.is_file() else source_tree).read_text(encoding="utf-8")


@functools.cache
def _sound_validator() -> Callable[[Any], bool]:
    return compiled_validator(inline_refs(roster_schema()))


@functools.cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(inline_refs(roster_schema()))


def inline_refs(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The schema with its local ``#/$defs/...`` references replaced by what they name.

    The same rules, resolved once: validating a large file otherwise resolves a reference for
    every email and role in it. (The schema has no recursive definitions.)
    """
    definitions = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/") and len(node) == 1:
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        return [resolve(item) for item in node] if isinstance(node, list) else node

    return {key: resolve(value) for key, value in schema.items() if key != "$defs"}


# --- reading and composing one file -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Document:
    """One parsed roster file: its data, and where each key and value starts in it."""

    path: str
    data: Any
    keys: Mapping[Where, Position]
    values: Mapping[Where, Position]

    def key_position(self, where: Where) -> Position:
        return self.keys.get(where) or self.values.get(where[:-1], (1, 1))

    def key_problem(self, where: Where, message: str) -> Problem:
        return Problem(message, *self.key_position(where))

    def value_problem(self, where: Where, message: str) -> Problem:
        return Problem(message, *self.values.get(where, (1, 1)))

    def located(self, where: Where) -> str:
        return f"{self.path}:{self.key_position(where)[0]}"

    def key_place(self, where: Where) -> Location:
        return (self.path, *self.key_position(where))

    def value_place(self, where: Where) -> Location:
        return (self.path, *self.values.get(where, (1, 1)))

    @property
    def is_generated(self) -> bool:
        """Whether ``roster sync-groups`` wrote it (it gives ``generated``)."""
        return "generated" in self.data


@dataclass(frozen=True, slots=True)
class _Loaded:
    """One file read the careful way."""

    document: _Document
    problems: list[Problem]
    usable: bool  # the schema accepts the data: it can be merged
    whole: bool  # nothing that may list members was dropped (a second 'members:' block)


def _load_document(path: Path, text: str) -> _Loaded:
    """One file's data and positions, its problems, and whether the data can be merged.

    A ``ConfigError`` when the text is not YAML at all. What the YAML builder refuses (a
    duplicate key, a tag) and what the schema refuses are told together; a schema problem at a
    place the builder already named is the same one, not told twice. Data the schema accepts can
    be merged even when the builder refused something: it holds the first of two equal keys.
    """
    root = _compose(text, str(path))
    builder = _Builder(str(path))
    document = builder.document(root)
    named = {(p.line, p.column) for p in builder.problems}
    invalid = list(_schema_problems(document))
    told = [p for p in invalid if (p.line, p.column) not in named]
    problems = sorted(builder.problems + told, key=lambda p: (p.line or 0, p.column or 0))
    located = [p.in_file(str(path)) for p in problems]
    return _Loaded(document, located, usable=not invalid, whole=not builder.dropped_a_section)


def _read_text(path: Path) -> str:
    try:
        raw = _read_capped(path)
    except OSError as error:
        raise ConfigError(str(path), [Problem(path_problem(path, error))]) from None
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise ConfigError(str(path), [_not_utf8(raw, error.start)]) from None


def _read_capped(path: Path) -> bytes:
    # The size is checked before reading and again after: a file may grow while it is read.
    with open_regular(path) as stream:
        size = os.fstat(stream.fileno()).st_size
        if size > MAX_FILE_BYTES:
            raise ConfigError(str(path), [_too_big(size)])
        raw = stream.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(str(path), [_too_big(len(raw))])
    return raw


def _too_big(size: int) -> Problem:
    limit = MAX_FILE_BYTES // (1024 * 1024)
    return Problem(f"the file is {size / 1024 / 1024:.1f} MiB, over the {limit} MiB limit")


def _not_utf8(raw: bytes, offset: int) -> Problem:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    message = f"not UTF-8: byte 0x{raw[offset]:02x} at offset {offset} cannot be decoded"
    # The column counts characters, as an editor does: everything before the byte decodes.
    column = len(raw[line_start:offset].decode("utf-8")) + 1
    return Problem(message, raw.count(b"\n", 0, offset) + 1, column)


class _Refusing(Composer):
    """Composes nodes only, refusing anchors, aliases and deep nesting."""

    depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[attr-defined]  # from the parser it is mixed with
        if isinstance(event, AliasEvent) or (isinstance(event, NodeEvent) and event.anchor):
            raise _Refused("YAML anchors and aliases (&name, *name) are not allowed", event)
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _Refused(f"nested more than {MAX_NESTING} levels deep", event)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _RosterLoader(_Refusing, yaml.SafeLoader):
    """The pure-Python parser: slower, with the most precise error messages."""


def _fast_loader() -> type | None:
    """libyaml's parser under the same composer, several times faster; None without libyaml."""
    try:
        from yaml import cyaml  # noqa: PLC0415  (absent when PyYAML was built without libyaml)
    except ImportError:
        return None
    parser: Any = cyaml.CParser  # type: ignore[attr-defined]

    class FastRosterLoader(_Refusing, parser, Resolver):  # type: ignore[misc]
        def __init__(self, text: str) -> None:
            parser.__init__(self, text)
            Composer.__init__(self)
            Resolver.__init__(self)

    return FastRosterLoader


_FAST_LOADER = _fast_loader()


class _Refused(MarkedYAMLError):
    def __init__(self, problem: str, event: Any) -> None:
        super().__init__(problem=problem, problem_mark=event.start_mark)


def _compose(text: str, path: str) -> Node:
    try:
        root = _compose_node(text)
    except MarkedYAMLError as error:
        raise ConfigError(path, [_yaml_problem(error, text)]) from None
    except yaml.YAMLError as error:
        raise ConfigError(path, [_reader_problem(error, text)]) from None
    if root is None:
        raise ConfigError(path, [Problem("the file is empty (or only comments)", 1, 1)])
    return root


def _compose_node(text: str) -> Node | None:
    # A file libyaml finds anything wrong with is read again by the pure-Python parser, whose
    # messages and positions are the ones roster reports; a sound file is read once, fast.
    # libyaml accepts tabs in places the pure-Python parser refuses: a tab takes the slow path,
    # so that roster refuses tabs the same way wherever it runs.
    if _FAST_LOADER is not None and "\t" not in text:
        with contextlib.suppress(yaml.YAMLError):
            return _single_node(_FAST_LOADER(text))
    return _single_node(_RosterLoader(text))


def _single_node(loader: Any) -> Node | None:
    try:
        node: Node | None = loader.get_single_node()
        return node
    finally:
        loader.dispose()


def _yaml_problem(error: MarkedYAMLError, text: str) -> Problem:
    mark = error.problem_mark or error.context_mark
    if mark is None:
        return Problem(f"invalid YAML: {error.problem}")
    if text[mark.index : mark.index + 1] == "\t":
        return Problem("tab character: YAML indents and separates with spaces", *_position(mark))
    if isinstance(error, _Refused):
        return Problem(str(error.problem), *_position(mark))
    return Problem(f"invalid YAML: {_yaml_message(error)}", *_position(mark))


def _yaml_message(error: MarkedYAMLError) -> str:
    if error.context is None or error.context_mark is None:
        return str(error.problem)
    if not error.context.startswith("while"):
        return f"{error.context}, {error.problem}"
    return f"{error.problem} ({error.context} at line {error.context_mark.line + 1})"


def _reader_problem(error: yaml.YAMLError, text: str) -> Problem:
    offset = getattr(error, "position", 0)
    line_start = text.rfind("\n", 0, offset) + 1
    message = f"invalid YAML: {error}".splitlines()[0]
    if isinstance(error, yaml.reader.ReaderError):
        message = f"the control character U+{error.character:04X} is not allowed in YAML"
    return Problem(message, text.count("\n", 0, offset) + 1, offset - line_start + 1)


def _child(where: Where, key: str | int) -> Where:
    return (*where, key)


def _position(mark: Mark) -> Position:
    return mark.line + 1, mark.column + 1


@dataclass(slots=True)
class _Builder:
    """Turns composed nodes into plain data, noting where each key and value starts."""

    path: str
    keys: dict[Where, Position] = field(default_factory=dict)
    values: dict[Where, Position] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    constructor: SafeConstructor = field(default_factory=SafeConstructor)
    # A mapping or list under a duplicate key was dropped: it may have listed members.
    dropped_a_section: bool = False

    def document(self, root: Node) -> _Document:
        """The data, without what was refused: the first of two equal keys is kept."""
        data = self.value(root, ())
        return _Document(self.path, data, self.keys, self.values)

    def value(self, node: Node, where: Where) -> Any:
        self.values[where] = _position(node.start_mark)
        if node.tag not in _ALLOWED_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self.problem(node, f"YAML tag {tag} is not allowed in a roster file")
        if isinstance(node, MappingNode):
            return self.mapping(node, where)
        if isinstance(node, SequenceNode):
            return [self.value(item, (*where, index)) for index, item in enumerate(node.value)]
        return self.scalar(node) if isinstance(node, ScalarNode) else None

    def mapping(self, node: MappingNode, where: Where) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.key(key_node, where)
            if key is None:
                self.dropped_a_section |= isinstance(value_node, MappingNode | SequenceNode)
            else:
                self.keys[_child(where, key)] = _position(key_node.start_mark)
                result[key] = self.value(value_node, _child(where, key))
        return result

    def key(self, node: Node, where: Where) -> str | None:
        if not isinstance(node, ScalarNode):
            self.problem(node, "a key must be plain text, not a list or a mapping")
            return None
        if node.tag not in _PLAIN_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self.problem(node, f"YAML tag {tag} is not allowed in a roster file")
        if _child(where, node.value) in self.keys:
            first = self.keys[_child(where, node.value)][0]
            self.problem(node, f"duplicate key '{node.value}'; first at {self.path}:{first}")
            return None
        return str(node.value)

    def scalar(self, node: ScalarNode) -> Any:
        # Dates and custom tags stay text; the schema then says what was expected.
        if node.tag not in _PLAIN_TAGS:
            return node.value
        value = self.constructor.construct_object(node)
        if node.tag == _INT_TAG and not PLAIN_WHOLE_NUMBER.fullmatch(node.value):
            self.problem(
                node,
                f"{node.value} reads as {value} in YAML; write numbers in plain decimal digits",
            )
        elif isinstance(value, float) and value.is_integer():
            # The schema takes 2500.0 for a whole number; apply would send it as a decimal.
            self.problem(
                node,
                f"{node.value} is a decimal; write the whole number {int(value)} without a point",
            )
        return value

    def problem(self, node: Node, message: str) -> None:
        self.problems.append(Problem(message, *_position(node.start_mark)))


# --- schema problems, in words a person editing the file understands ----------------------------


def _schema_problems(document: _Document) -> Iterator[Problem]:
    for error in _validator().iter_errors(document.data):
        yield from _explain(error, document)


def _explain(error: ValidationError, document: _Document) -> Iterable[Problem]:
    where: Where = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and error.validator_value is False:
        return _unknown_keys(error, where, document)
    if "propertyNames" in error.absolute_schema_path:
        return [document.key_problem(_child(where, error.instance), _bad_key(error, where))]
    if error.validator == "uniqueItems":
        return [document.value_problem(_repeated_item(error.instance, where), _repeated(where))]
    return [document.value_problem(where, _message(error, where))]


def _unknown_keys(error: ValidationError, where: Where, document: _Document) -> list[Problem]:
    allowed = ", ".join(sorted(error.schema.get("properties", {})))
    unknown = [key for key in error.instance if key not in error.schema.get("properties", {})]
    message = "unknown key '{}' " + _within(where) + f"; allowed: {allowed}"
    return [document.key_problem(_child(where, key), message.format(key)) for key in unknown]


def _bad_key(error: ValidationError, where: Where) -> str:
    key = error.instance
    if key in ORG_ROLES:
        return f"{_name(where)}: '{key}' is a role, not an email; list each member as 'email: role'"
    return f"{_name(where)}: '{key}' is not a valid {error.schema.get('title', 'key')}"


def _repeated_item(items: list[Any], where: Where) -> Where:
    return _child(where, next(i for i, item in enumerate(items) if item in items[:i]))


def _repeated(where: Where) -> str:
    return f"{_name(where)} lists the same entry twice"


def _message(error: ValidationError, where: Where) -> str:
    title = error.schema.get("title")
    name, shown = _name(where), _shown(error.instance)
    if error.validator == "type":
        expected = _TYPE_WORDS.get(str(error.validator_value))
        found = shown if isinstance(error.instance, float) else _kind(error.instance)
        return f"{name} must be {expected}, not {found}"
    if error.validator == "minimum":
        return f"{name} must be at least {error.validator_value}, not {shown}"
    if error.validator == "enum":
        return _not_in_enum(name, error.instance, [str(v) for v in error.validator_value], title)
    if error.validator in {"minProperties", "minLength"}:
        return _empty(name, error.schema)
    if title is not None:
        return f"{name}: {shown} is not a valid {title}"
    return f"{name}: {error.message}"


def _not_in_enum(name: str, value: Any, choices: list[str], title: str | None) -> str:
    listed = ", ".join(choices)
    if title is None:
        return f"{name}: {_shown(value)} is not one of: {listed}"
    if isinstance(value, str) and value in ORG_ROLES:
        return f"{name}: a roster file cannot give the role '{value}'; valid {title}s: {listed}"
    if value == "workspace_billing":
        return (
            f"{name}: workspace_billing cannot be given; it comes from the org billing role."
            f" Valid {title}s: {listed}"
        )
    return f"{name}: {_shown(value)} is not a valid {title}; valid {title}s: {listed}"


def _empty(name: str, schema: Mapping[str, Any]) -> str:
    keys = sorted(schema.get("properties", {}))
    return (
        f"{name} is empty; give at least one of: {', '.join(keys)}" if keys else f"{name} is empty"
    )


_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
}


def _name(where: Where) -> str:
    if not where:
        return "the top level"
    parts = [f"[{part}]" if isinstance(part, int) else f".{part}" for part in where]
    return "".join(parts).removeprefix(".")


def _within(where: Where) -> str:
    return f"in {_name(where)}" if where else "at the top level"


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true/false"
    return "a number" if isinstance(value, int | float) else "text"


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, int | float) else _kind(value)


# --- merging documents into one Desired -----------------------------------------------------------


@dataclass(slots=True)
class _Merge:
    """The documents read so far, merged, and the problems found across them, per file."""

    members: dict[str, str] = field(default_factory=dict)
    listed_at: dict[str, tuple[_Document, Where]] = field(default_factory=dict)
    sections: dict[str, tuple[_Document, Any]] = field(default_factory=dict)
    problems: dict[str, list[Problem]] = field(default_factory=dict)
    workspaces: dict[str, DesiredWorkspace] = field(default_factory=dict)
    workspace_at: dict[str, str] = field(default_factory=dict)
    # Listed, but refused (twice, or matched by policy.ignore): their workspace lines say nothing.
    refused: set[str] = field(default_factory=set)
    # False when a file was left out: a workspace member missing from 'members' may be in it.
    complete: bool = True
    # Where each workspace member is listed, by (workspace, email).
    workspace_member_at: dict[tuple[str, str], tuple[_Document, Where]] = field(
        default_factory=dict
    )
    # People a generated file gives that another file lists (or policy.ignore matches).
    overridden: set[str] = field(default_factory=set)
    overrides: list[GroupOverride] = field(default_factory=list)

    def sections_of(self, document: _Document) -> None:
        for name in SECTIONS_IN_ONE_FILE:
            if name in document.data:
                self.section(document, name)

    def section(self, document: _Document, name: str) -> None:
        if name in self.sections:
            first = self.sections[name][0].located((name,))
            self.add(document, (name,), f"'{name}' is given in two files; first at {first}")
        else:
            self.sections[name] = (document, document.data[name])

    def section_value(self, name: str) -> Any:
        return self.sections[name][1] if name in self.sections else None

    def members_of(self, document: _Document, policy: Policy) -> None:
        for listed, role in document.data.get("members", {}).items():
            self.member(document, listed, role, policy)

    def member(self, document: _Document, listed: str, role: str, policy: Policy) -> None:
        email, where = listed.lower(), ("members", listed)
        if email in self.listed_at:
            self.add(document, where, _listed_twice(listed, *self.listed_at[email]))
        elif (glob := policy.ignoring_glob(email)) is not None:
            self.add(document, where, f"{listed} is a member but policy.ignore '{glob}' matches it")
            self.refused.add(email)
        else:
            self.members[email] = sys.intern(role)  # a few roles, held once each
            self.listed_at[email] = (document, where)

    def generated_members_of(self, document: _Document, policy: Policy) -> None:
        """A generated file's members: a person another file lists is left to that file."""
        for name in document.data:
            if name not in GENERATED_SECTIONS:
                self.add(document, (name,), f"'{name}' cannot be given in a generated file")
        for listed, role in document.data.get("members", {}).items():
            email, where = listed.lower(), ("members", listed)
            first = self.listed_at.get(email)
            if first is not None and not first[0].is_generated:
                self.overridden.add(email)
                self.overrides.append(self.override(document, where, role, first, email))
            elif first is None and policy.ignores(email):
                self.overridden.add(email)
                self.overrides.append(GroupOverride(email, role, document.key_place(where)))
            else:
                self.member(document, listed, role, policy)

    def override(
        self,
        document: _Document,
        where: Where,
        role: str,
        first: tuple[_Document, Where],
        email: str,
        *,
        workspace: str = "",
        file_role: str | None = None,
    ) -> GroupOverride:
        return GroupOverride(
            email,
            role,
            document.key_place(where),
            file_role if file_role is not None else self.members[email],
            first[0].key_place(first[1]),
            workspace,
        )

    def workspaces_of(self, document: _Document) -> None:
        for name, section in document.data.get("workspaces", {}).items():
            self.workspace(document, name, section)

    def generated_workspaces_of(self, document: _Document) -> None:
        """A generated file's workspace members, added to what the other files give."""
        for name, section in document.data.get("workspaces", {}).items():
            where = ("workspaces", name)
            for key in section:
                if key != "members":
                    self.add(
                        document, (*where, key), f"'{key}' cannot be given in a generated file"
                    )
            given = self.workspaces.get(name)
            if given is not None and given.archived:
                first = self.workspace_at[name]
                self.add(
                    document,
                    where,
                    f"workspace '{name}' is archived at {first}; the group"
                    " rules cannot give it members",
                )
                continue
            if given is None:
                self.workspace_at[name] = document.located(where)
            members = dict(given.members) if given is not None else {}
            for listed, role in section.get("members", {}).items():
                self.generated_workspace_member(
                    document, (*where, "members", listed), role, members
                )
            self.workspaces[name] = DesiredWorkspace(
                name,
                MappingProxyType(members),
                False,
                given.rate_limits if given is not None else None,
                given.rate_limits_at if given is not None else {},
            )

    def generated_workspace_member(
        self, document: _Document, where: Where, role: str, members: dict[str, str]
    ) -> None:
        email, name = str(where[-1]).lower(), str(where[1])
        if email in self.overridden or email in self.refused:
            return  # the other file's entry, or policy.ignore, decides; the plan says so
        if email in members:
            first = self.workspace_member_at.get((name, email))
            if first is None or first[0].is_generated:
                self.add(document, where, f"{where[-1]} is listed twice in workspace '{name}'")
            else:
                self.overrides.append(
                    self.override(
                        document,
                        where,
                        role,
                        first,
                        email,
                        workspace=name,
                        file_role=members[email],
                    )
                )
        elif self.workspace_member_ok(document, where, role):
            members[email] = sys.intern(role)
            self.workspace_member_at[(name, email)] = (document, where)

    def workspace(self, document: _Document, name: str, section: Mapping[str, Any]) -> None:
        where = ("workspaces", name)
        if name in self.workspace_at:
            first = self.workspace_at[name]
            self.add(document, where, f"workspace '{name}' is given twice; first at {first}")
            return
        self.workspace_at[name] = document.located(where)
        members: dict[str, str] = {}
        for listed, role in section.get("members", {}).items():
            member_where = (*where, "members", listed)
            if listed.lower() in members:
                self.add(document, member_where, f"{listed} is listed twice in workspace '{name}'")
            elif self.workspace_member_ok(document, member_where, role):
                members[listed.lower()] = sys.intern(role)
                self.workspace_member_at[(name, listed.lower())] = (document, member_where)
        archived = bool(section.get("archived", False))
        if archived and members:
            self.add(document, where, f"workspace '{name}' is archived: it cannot list members")
        limits, limits_at = self.rate_limits_of(document, where, section, archived)
        self.workspaces[name] = DesiredWorkspace(
            name, MappingProxyType(members), archived, limits, limits_at
        )

    def rate_limits_of(
        self, document: _Document, where: Where, section: Mapping[str, Any], archived: bool
    ) -> tuple[Mapping[str, Mapping[str, int]] | None, dict[str, Location]]:
        """A workspace's rate limits, and where each group is named: the groups themselves
        are known only once the organization's are read, at plan time."""
        listed = section.get("rate_limits")
        if listed is None:
            return None, {}
        name, at = where[-1], (*where, "rate_limits")
        if archived:
            self.add(document, at, f"workspace '{name}' is archived: it cannot have rate limits")
        elif name == DEFAULT_WORKSPACE:
            self.add(document, at, DEFAULT_RATE_LIMITS)
        limits = {group: MappingProxyType(dict(values)) for group, values in listed.items()}
        places = {g: document.key_place((*at, g)) for g in listed}
        return MappingProxyType(limits), places

    def workspace_member_ok(self, document: _Document, where: Where, role: str) -> bool:
        email = str(where[-1]).lower()
        org_role = self.members.get(email)
        if org_role is None and (email in self.refused or not self.complete):
            return False  # already told, or perhaps listed in the file that was left out
        problem = _workspace_member_problem(str(where[-1]), org_role, role)
        if problem is not None:
            self.add(document, where, f"workspace '{where[1]}': {problem}")
        return problem is None

    def add(self, document: _Document, where: Where, message: str) -> None:
        self.problems.setdefault(document.path, []).append(document.key_problem(where, message))

    def raise_problems(self, documents: Sequence[_Document]) -> None:
        """Every problem found across the documents, each file's in line order."""
        problems = [
            problem.in_file(document.path)
            for document in documents
            for problem in sorted(
                self.problems.get(document.path, ()), key=lambda p: (p.line or 0, p.column or 0)
            )
        ]
        if problems:
            raise ConfigError(None, problems)


def _workspace_member_problem(listed: str, org_role: str | None, role: str) -> str | None:
    """Why ``listed`` cannot have ``role`` in a workspace, by the API's inheritance rules."""
    if org_role is None:
        return f"{listed} is not in 'members'; workspace members must be organization members"
    if org_role == "admin" and role != "workspace_admin":
        return (
            f"{listed} is an org admin, and org admins are workspace_admin in every workspace;"
            " drop this line"
        )
    if org_role == "billing" and role != "workspace_admin":
        return (
            f"{listed} has the billing role, which makes them workspace_billing in every"
            " workspace; the only other role they can have is workspace_admin"
        )
    return None


def _listed_twice(listed: str, first: _Document, first_where: Where) -> str:
    spelled = str(first_where[-1])
    case_note = f" as {spelled} (emails ignore case)" if spelled != listed else ""
    return f"{listed} is listed twice; first at {first.located(first_where)}{case_note}"


def _merge(documents: Sequence[_Document], *, complete: bool) -> Desired:
    """The documents as one ``Desired``; ``complete`` is False when a file was left out.

    Each stage goes on after a problem, keeping the first of two entries, so that one run tells
    every problem; what a refused entry would have made wrong later is not told again. Files
    written by hand come first: what they give wins over what a generated file gives.
    """
    merge = _Merge(complete=complete)
    by_hand = [document for document in documents if not document.is_generated]
    generated = [document for document in documents if document.is_generated]
    for document in documents:
        merge.sections_of(document)
    # The policy comes first: whether a member may be listed depends on policy.ignore.
    policy = Policy.from_data(merge.section_value("policy") or {})
    for document in by_hand:
        merge.members_of(document, policy)
    for document in generated:
        merge.generated_members_of(document, policy)
    for document in by_hand:
        merge.workspaces_of(document)
    for document in generated:
        merge.generated_workspaces_of(document)
    merge.raise_problems(documents)
    organization = merge.section_value("organization")
    return Desired(
        members=MappingProxyType(dict(sorted(merge.members.items()))),
        policy=policy,
        organization=_organization(organization) if organization is not None else None,
        workspaces=MappingProxyType(dict(sorted(merge.workspaces.items()))),
        group_overrides=tuple(merge.overrides),
        groups=_group_sync(merge.sections["groups"]) if "groups" in merge.sections else None,
    )


def _group_sync(given: tuple[_Document, Any]) -> GroupSync:
    document, section = given
    rules = tuple(
        GroupRule(
            group=rule["group"],
            role=rule.get("role", DEFAULT_RULE_ROLE),
            workspaces=MappingProxyType(dict(rule.get("workspaces", {}))),
            at=document.value_place(("groups", "rules", index, "group")),
        )
        for index, rule in enumerate(section["rules"])
    )
    limit = section.get("max_removals")
    return GroupSync(
        source=MappingProxyType(dict(section["source"])),
        rules=rules,
        output=section["output"],
        file=document.path,
        max_removals=DEFAULT_SYNC_REMOVALS if limit is None else RemovalLimit.parse(limit),
    )


def _organization(section: Mapping[str, Any]) -> OrganizationRef:
    return OrganizationRef(id=section.get("id"), name=section.get("name"))
