"""Reading a sound roster file at the speed of the YAML parser.

Most roster files are sound. They are parsed and constructed by libyaml with PyYAML's safe
constructor, and checked with a validator compiled from ``schemas/roster.schema.json`` (the
same schema, the one definition of the format). Anything this path is not sure of (a duplicate
key, an anchor, a merge key, a key that is not text, a tab, a schema problem) makes it answer
None, and the careful path in ``roster.config`` reads the file again to say exactly what is wrong
and where: the fast path only ever says yes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node
from yaml.resolver import Resolver

# Where an anchor (&a) or an alias (*a) may start: the careful path refuses both. A match in a
# comment is no anchor, when no quote before the "#" could hold it; any other match that is none
# (in a quoted string, say) only sends the file the careful way.
_ANCHOR_OR_ALIAS = re.compile(r"(?:^|[\s\[\]{},:?-])[&*]", re.MULTILINE)
_COMMENT = re.compile(r"(?:^|\s)#")
_MERGE_TAG = "tag:yaml.org,2002:merge"
_INT_TAG, _FLOAT_TAG = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
# A whole number as people write one: YAML 1.1 also reads 017 (octal), 0x10 and 1:30 (base 60).
PLAIN_WHOLE_NUMBER = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)")


class _Unsure(Exception):
    """The fast path cannot vouch for this file."""


def sound_data(text: str) -> Any | None:
    """The file's data if it reads plainly (no anchors, merges, duplicate or non-text keys,
    tabs), else None."""
    loader_class = _loader_class()
    if loader_class is None or "\t" in text or _may_have_anchors(text):
        return None
    loader = loader_class(text)
    try:
        return loader.get_single_data()
    except (yaml.YAMLError, _Unsure):
        return None
    finally:
        loader.dispose()


def compiled_validator(schema: Mapping[str, Any]) -> Callable[[Any], bool]:
    """A function telling whether data is valid under ``schema``, compiled from it."""
    import fastjsonschema  # noqa: PLC0415  (a first validation pays for it, not every start)

    # The schema is Draft 2020-12 but uses nothing later than Draft 7, which is what it compiles.
    check = fastjsonschema.compile({k: v for k, v in schema.items() if k != "$schema"})

    def valid(data: Any) -> bool:
        try:
            check(data)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return valid


def _may_have_anchors(text: str) -> bool:
    return any(not _in_comment(text, match.end() - 1) for match in _ANCHOR_OR_ALIAS.finditer(text))


def _in_comment(text: str, offset: int) -> bool:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    line = text[start : len(text) if end == -1 else end]
    comment = _COMMENT.search(line)
    if comment is None or comment.end() > offset - start + 1:
        return False
    before = line[: comment.start()]
    return "'" not in before and '"' not in before  # no quote could hold that "#"


@functools.cache
def _loader_class() -> type | None:
    """libyaml's parser under PyYAML's safe constructor, refusing what it cannot vouch for."""
    try:
        from yaml import cyaml  # noqa: PLC0415  (absent when PyYAML was built without libyaml)
    except ImportError:
        return None
    parser: Any = cyaml.CParser  # type: ignore[attr-defined]

    class SoundLoader(parser, SafeConstructor, Resolver):  # type: ignore[misc]
        def __init__(self, text: str) -> None:
            parser.__init__(self, text)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

        def flatten_mapping(self, node: MappingNode) -> None:
            if any(key.tag == _MERGE_TAG for key, _ in node.value):
                raise _Unsure("a merge key")

        def construct_object(self, node: Node, deep: bool = False) -> Any:
            if node in self.constructed_objects:
                raise _Unsure("an alias")  # a node met twice: the text check missed it
            if node.tag == _FLOAT_TAG or (
                node.tag == _INT_TAG and not PLAIN_WHOLE_NUMBER.fullmatch(node.value)
            ):
                raise _Unsure("a number the schema would take for another")
            return SafeConstructor.construct_object(self, node, deep)

        def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
            if not isinstance(node, MappingNode):
                raise _Unsure("not a mapping")
            mapping: dict[Any, Any] = SafeConstructor.construct_mapping(self, node, deep)
            if len(mapping) != len(node.value):
                raise _Unsure("a duplicate key")
            if not all(type(key) is str for key in mapping):
                raise _Unsure("a key that is not text")
            return mapping

    return SoundLoader
