"""The one YAML writer of the roster files roster writes: ``export``'s and ``sync-groups``'.

Names come from the API or a directory. Every value, in comments too, goes through here, so that
a name that could end a comment, start a key or act on a terminal cannot set the next file's
policy or hide a line from its reviewer.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]

from roster.config import inline_refs, roster_schema
from roster.desired import FILE_ROLES
from roster.model import ASSIGNABLE_WORKSPACE_ROLES
from roster.untrusted import is_unsafe, printable

# What the YAML writer itself leaves unquoted and unescaped: checked here to skip it for speed.
_PLAIN_EMAIL = re.compile(r"^[a-z0-9][a-z0-9._%+\-]*@[a-z0-9.\-]+\Z")
# Roles a file states: plain words that YAML reads as text (unlike yes, no, null...).
_PLAIN_ROLES = FILE_ROLES | ASSIGNABLE_WORKSPACE_ROLES
# Editors with yaml-language-server read the schema named here, beside the file: `roster schema
# -o DIR/roster.schema.json` writes it there.
SCHEMA_MODELINE = "# yaml-language-server: $schema=roster.schema.json"


def entry_lines(email: str, role: str, comment: str, indent: int = 2) -> list[str]:
    """One ``email: role`` line (more, for a key YAML writes in its long form), and a comment."""
    if _PLAIN_EMAIL.match(email) and role in _PLAIN_ROLES:
        lines = [f"{' ' * indent}{email}: {role}"]  # what the YAML writer gives, without its cost
    else:
        lines = yaml_lines({email: role}, indent=indent)
    if comment:
        lines[-1] += "  " + comment_line(comment)
    return lines


def yaml_lines(data: Mapping[str, Any], indent: int = 0) -> list[str]:
    """``data`` as block YAML lines, indented; any text that could act on a terminal or editor
    (control, bidirectional or invisible characters) is written as a double-quoted escape."""
    odd = any(is_unsafe(char) for text in _texts(data) for char in text)
    dumped = yaml.safe_dump(
        dict(data),
        sort_keys=False,
        allow_unicode=not odd,
        default_style='"' if odd else None,
        width=math.inf,
    )
    return [" " * indent + line for line in dumped.splitlines()]


def flow(text: str) -> str:
    """``text`` as a one-line YAML scalar for a comment to quote: as the writer would put it
    when it is printable, else double-quoted with every odd character escaped."""
    odd = not text.isprintable()
    style = '"' if odd else None
    dumped = yaml.safe_dump(text, default_style=style, allow_unicode=not odd, width=math.inf)
    return dumped.splitlines()[0]  # a plain scalar is followed by the document-end line


def comment_line(text: str, indent: int = 0) -> str:
    # ``printable`` too: a comment ends at a line break, and no quoted name may carry one.
    return " " * indent + "# " + printable(text)


def _texts(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _texts(key)
            yield from _texts(item)


@functools.cache
def schema_validator(*where: str) -> Draft202012Validator:
    """A validator of the part of the roster schema found by the keys ``where``."""
    schema: Any = inline_refs(roster_schema())
    for step in where:
        schema = schema[step]
    return Draft202012Validator(schema)


@functools.cache
def stateable_email(email: str) -> bool:
    """Whether a roster file can state ``email`` (the API holds some addresses it cannot)."""
    return bool(schema_validator("properties", "members", "propertyNames").is_valid(email))
