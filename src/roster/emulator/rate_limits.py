"""The Rate Limits API (admin-api.md §15, §15a): the catalogue of groups and limits that every
emulated organization has, each workspace's overrides of them, the rules of an override update,
and the ``next_page`` pages both list routes return. No HTTP here; the store checks workspaces.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from roster.emulator.pagination import MAX_LIMIT, parse_limit
from roster.emulator.problems import ApiProblem, invalid
from roster.emulator.records import JsonDict
from roster.model import LIMITER_TYPES as MODEL_LIMITER_TYPES
from roster.model import RATE_LIMIT_GROUP_TYPES

# The group and limiter types are the contract's (admin-api.md §15), as roster knows them.
GROUP_TYPES, LIMITER_TYPES = RATE_LIMIT_GROUP_TYPES, MODEL_LIMITER_TYPES
# Group ids are the same in every organization and never change (§15a): written once, here.
OPUS_4_GROUP_ID = "rlg_01cVhJvGDXWEkVkRQEnkNKkb"
SONNET_4_GROUP_ID = "rlg_013bWa1RDLPX11mXeiggNxjx"
HAIKU_4_GROUP_ID = "rlg_01crc53v8yU2Ki5GjB1poVuY"
HAIKU_3_GROUP_ID = "rlg_012q57kwa969sRwWopkxXwwT"
BATCH_GROUP_ID = "rlg_01RWESYvUYGLs4rcTiiKpxzx"
TOKEN_COUNT_GROUP_ID = "rlg_01CrZZFhDaoBsBJdfzBfN9MP"  # noqa: S105  (a group id, no secret)
FILES_GROUP_ID = "rlg_01jmUChtm1GY5kUESkSN1pRC"
SKILLS_GROUP_ID = "rlg_01P8pgXfs9xMBDqYzpiKpNAg"
WEB_SEARCH_GROUP_ID = "rlg_012M88Ut9yBtY1DxD1TWuTyj"
ENTRY_ID_PREFIX = "ratelimit_01"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_ID_WIDTH = 22
_PAGE_PREFIX = "page_"


@dataclass(frozen=True, slots=True)
class LimitGroup:
    """One group of the catalogue: its limits (limiter type, value) in the order listed."""

    id: str
    type: str
    limits: tuple[tuple[str, int], ...]
    display_name: str | None = None
    models: tuple[str, ...] | None = None

    def org_limits(self) -> dict[str, int]:
        return dict(self.limits)

    def group_json(self) -> JsonDict:
        shape: JsonDict = {"type": self.type, "id": self.id}
        if self.display_name is not None:
            shape["display_name"] = self.display_name
        return shape

    def models_json(self) -> list[str] | None:
        return None if self.models is None else list(self.models)


def _model_group(
    group_id: str, name: str, models: str, limits: tuple[tuple[str, int], ...]
) -> LimitGroup:
    return LimitGroup(group_id, "model_group", limits, name, tuple(models.split()))


def _requests(per_minute: int) -> tuple[tuple[str, int], ...]:
    return (("requests_per_minute", per_minute),)


CATALOGUE = (
    _model_group(
        OPUS_4_GROUP_ID,
        "Claude Opus 4.x",
        "claude-opus-4-5 claude-opus-4-5-20251101 claude-opus-4-1 claude-opus-4-1-20250805 "
        "claude-opus-4-0 claude-opus-4-20250514",
        (
            ("requests_per_minute", 4000),
            ("input_tokens_per_minute_cache_aware", 2_000_000),
            ("output_tokens_per_minute", 400_000),
        ),
    ),
    _model_group(
        SONNET_4_GROUP_ID,
        "Claude Sonnet 4.x",
        "claude-sonnet-4-5 claude-sonnet-4-5-20250929 claude-sonnet-4-0 claude-sonnet-4-20250514",
        (
            ("requests_per_minute", 4000),
            ("input_tokens_per_minute_cache_aware", 4_000_000),
            ("output_tokens_per_minute", 800_000),
        ),
    ),
    _model_group(
        HAIKU_4_GROUP_ID,
        "Claude Haiku 4.x",
        "claude-haiku-4-5 claude-haiku-4-5-20251001",
        (
            ("requests_per_minute", 4000),
            ("input_tokens_per_minute_cache_aware", 4_000_000),
            ("output_tokens_per_minute", 800_000),
        ),
    ),
    _model_group(
        HAIKU_3_GROUP_ID,
        "Claude Haiku 3.x",
        "claude-3-5-haiku-latest claude-3-5-haiku-20241022 claude-3-haiku-20240307",
        (
            ("requests_per_minute", 4000),
            ("input_tokens_per_minute", 400_000),
            ("output_tokens_per_minute", 80_000),
        ),
    ),
    LimitGroup(BATCH_GROUP_ID, "batch", _requests(4000)),
    LimitGroup(TOKEN_COUNT_GROUP_ID, "token_count", _requests(8000)),
    LimitGroup(FILES_GROUP_ID, "files", _requests(1000)),
    LimitGroup(SKILLS_GROUP_ID, "skills", _requests(500)),
    LimitGroup(WEB_SEARCH_GROUP_ID, "web_search", (("tool_uses_per_second", 30),)),
)
_POSITION = {group.id: index for index, group in enumerate(CATALOGUE)}
_BY_NAME = {
    name: group
    for group in CATALOGUE
    for name in (group.id, *([] if group.models else [group.type]), *(group.models or ()))
}


def base58(data: bytes, width: int = _ID_WIDTH) -> str:
    """``width`` base58 digits of ``data`` read as one number (its lowest digits)."""
    value, digits = int.from_bytes(data, "big"), []
    for _ in range(width):
        value, digit = divmod(value, len(BASE58))
        digits.append(BASE58[digit])
    return "".join(reversed(digits))


def entry_id(organization_id: str, group_id: str) -> str:
    """An entry's id: stable within an organization, different between organizations (§15a)."""
    digest = hashlib.sha256((organization_id + group_id).encode()).digest()
    return ENTRY_ID_PREFIX + base58(digest)


@lru_cache(maxsize=16)
def entries_of(organization_id: str) -> Mapping[str, LimitGroup]:
    """Entry id -> group, for one organization."""
    return {entry_id(organization_id, group.id): group for group in CATALOGUE}


def require_group_type(raw: str | None) -> str | None:
    if raw is not None and raw not in GROUP_TYPES:
        raise invalid(f"group_type: {raw!r} is not one of {', '.join(GROUP_TYPES)}")
    return raw


# --- an override update's body ----------------------------------------------------------------


def limit_changes(body: object) -> dict[str, int | None]:
    """``{"limits": [{"type", "value"}, ...]}`` as limiter type -> new value (None: clear)."""
    limits = body.get("limits") if isinstance(body, dict) else None
    if not isinstance(limits, list) or not limits:
        raise invalid(
            'limits: the body must be {"limits": [...]} with at least one {type, value}',
            "invalid_limits",
        )
    changes: dict[str, int | None] = {}
    for index, item in enumerate(limits):
        limiter, value = _limit_change(index, item)
        if limiter in changes:
            raise invalid(f"limits[{index}].type: {limiter} is given twice", "duplicate_limit_type")
        changes[limiter] = value
    return changes


def _limit_change(index: int, item: object) -> tuple[str, int | None]:
    if not isinstance(item, dict):
        raise invalid(f"limits[{index}]: expected an object with type and value", "invalid_limit")
    limiter = item.get("type")
    if not isinstance(limiter, str) or limiter not in LIMITER_TYPES:
        raise invalid(
            f"limits[{index}].type: {limiter!r} is not one of {', '.join(LIMITER_TYPES)}",
            "invalid_limit_type",
        )
    if "value" not in item or not _settable(item["value"]):
        shown = repr(item["value"]) if "value" in item else "nothing"
        raise invalid(
            f"limits[{index}].value: expected a positive integer or null, got {shown}",
            "invalid_limit_value",
        )
    value: int | None = item["value"]
    return limiter, value


def _settable(value: object) -> bool:
    """A positive integer (a bool is not one), or None to clear the override."""
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1)


# --- the organization's entries and the workspaces' overrides ----------------------------------


class RateLimits:
    """The catalogue as one organization sees it, and its workspaces' overrides.

    ``organization_id`` is read on every use, so a store that loads another organization's
    state has that organization's entry ids at once; ``on_change`` records a mutation.
    """

    def __init__(self, organization_id: Callable[[], str], on_change: Callable[[], None]) -> None:
        self._organization_id = organization_id
        self._on_change = on_change
        # workspace id -> group id -> limiter type -> the workspace's value
        self._overrides: dict[str, dict[str, dict[str, int]]] = {}

    def clear(self) -> None:
        self._overrides = {}

    # lookups

    def entry_id(self, group: LimitGroup) -> str:
        return entry_id(self._organization_id(), group.id)

    def group(self, ref: str) -> LimitGroup | None:
        """The group an entry id, a group id, a group type (not ``model_group``) or a model
        name or alias names."""
        return entries_of(self._organization_id()).get(ref) or _BY_NAME.get(ref)

    def entry_id_for(self, ref: str) -> str:
        group = self.group(ref)
        if group is None:
            raise KeyError(f"no rate-limit group {ref!r}")
        return self.entry_id(group)

    def group_of_entry(self, rate_limit_id: str) -> LimitGroup:
        """The group of one of this organization's entry ids, or a 404."""
        group = entries_of(self._organization_id()).get(rate_limit_id)
        if group is None:
            raise ApiProblem(404, f"rate limit {rate_limit_id!r} not found")
        return group

    def select(
        self,
        group_type: str | None = None,
        *,
        model: str | None = None,
        overridden_in: str | None = None,
    ) -> list[LimitGroup]:
        """The groups a list shows, in catalogue order: of ``group_type``, the one containing
        ``model`` (a 404 if none does), the ones the workspace ``overridden_in`` overrides."""
        require_group_type(group_type)
        groups: Iterable[LimitGroup] = CATALOGUE
        if model is not None:
            groups = [g for g in CATALOGUE if g.models and model in g.models]
            if not groups:
                raise ApiProblem(404, f"model {model!r} not found or has no rate limits")
        if overridden_in is not None:
            own = self._overrides.get(overridden_in, {})
            groups = [g for g in groups if g.id in own]
        return [g for g in groups if group_type is None or g.type == group_type]

    # JSON

    def entry_json(self, group: LimitGroup) -> JsonDict:
        return {
            "type": "rate_limit",
            "id": self.entry_id(group),
            "group": group.group_json(),
            "models": group.models_json(),
            "limits": [{"type": limiter, "value": value} for limiter, value in group.limits],
        }

    def entries(self) -> list[JsonDict]:
        """Every entry of the organization, as ``GET /rate_limits`` lists them."""
        return [self.entry_json(group) for group in CATALOGUE]

    def workspace_entry(
        self, workspace_id: str, group: LimitGroup, *, include_inherited: bool = False
    ) -> JsonDict:
        own = self._overrides.get(workspace_id, {}).get(group.id, {})
        return {
            "type": "workspace_rate_limit",
            "rate_limit_id": self.entry_id(group),
            "workspace_id": workspace_id,
            "group": group.group_json(),
            "models": group.models_json(),
            "limits": workspace_values(group, own, include_inherited),
        }

    # overrides

    def set_overrides(self, workspace_id: str, ref: str, changes: Mapping[str, int | None]) -> None:
        """Set (an int) or clear (None) a workspace's overrides of one group; no API rules."""
        group = self.group(ref)
        if group is None:
            raise KeyError(f"no rate-limit group {ref!r}")
        unknown = sorted(set(changes) - set(LIMITER_TYPES))
        if unknown:
            raise ValueError(f"not limiter types: {', '.join(unknown)}")
        groups = self._overrides.setdefault(workspace_id, {})
        own = groups.setdefault(group.id, {})
        for limiter, value in changes.items():
            if value is None:
                own.pop(limiter, None)
            else:
                own[limiter] = value
        if not own:
            del groups[group.id]
        if not groups:
            del self._overrides[workspace_id]
        self._on_change()

    def overrides(self, workspace_id: str) -> dict[str, dict[str, int]]:
        """Entry id -> limiter type -> value: the workspace's own values, in catalogue order."""
        own = self._overrides.get(workspace_id, {})
        return {
            self.entry_id(group): _in_limiter_order(own[group.id])
            for group in CATALOGUE
            if group.id in own
        }

    def overridden_workspaces(self) -> list[str]:
        return sorted(self._overrides)

    # paging

    def page(
        self, groups: Sequence[LimitGroup], limit: str | None, token: str | None
    ) -> tuple[list[LimitGroup], str | None]:
        """One page of ``groups`` and the next page's token. No ``limit``: all in one page."""
        size = None if limit is None else parse_limit(limit, MAX_LIMIT, MAX_LIMIT)
        start = 0 if token is None else self._token_position(token)
        rest = [g for g in groups if _POSITION[g.id] >= start]
        if size is None or len(rest) <= size:
            return rest, None
        return rest[:size], self._token(rest[size])

    def _token(self, first: LimitGroup) -> str:
        """The page that starts at ``first``: opaque to clients, base64 of its entry id."""
        return _PAGE_PREFIX + base64.urlsafe_b64encode(self.entry_id(first).encode()).decode()

    def _token_position(self, token: str) -> int:
        """Where the page of ``token`` starts in the catalogue; a page left by an override
        cleared meanwhile starts at the next group that is still listed."""
        try:
            if not token.startswith(_PAGE_PREFIX):
                raise ValueError(token)
            first = base64.urlsafe_b64decode(token[len(_PAGE_PREFIX) :].encode()).decode()
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise invalid("page: not a valid page token", "invalid_page_token") from None
        group = entries_of(self._organization_id()).get(first)
        if group is None:
            raise invalid("page: not a valid page token", "invalid_page_token")
        return _POSITION[group.id]

    # persistence

    def to_json(self) -> list[JsonDict]:
        """The overrides, by workspace id then catalogue order (keyed by the stable group id)."""
        return [
            {"workspace_id": workspace_id, "group_id": group.id, "limits": _in_limiter_order(own)}
            for workspace_id in sorted(self._overrides)
            for group in CATALOGUE
            if (own := self._overrides[workspace_id].get(group.id))
        ]

    def load_json(self, items: Iterable[JsonDict]) -> None:
        """Add the overrides ``to_json`` wrote (a state file without them has none)."""
        for item in items:
            if item["group_id"] not in _POSITION:
                raise ValueError(f"unknown rate-limit group {item['group_id']!r}")
            self.set_overrides(item["workspace_id"], item["group_id"], dict(item["limits"]))


def workspace_values(
    group: LimitGroup, own: Mapping[str, int], include_inherited: bool
) -> list[JsonDict]:
    """A workspace entry's ``limits``: its overrides, and with ``include_inherited`` every
    limiter type the organization limits too; the organization's order, then any others."""
    org = group.org_limits()
    ordered = [limiter for limiter, _ in group.limits] + [t for t in LIMITER_TYPES if t not in org]
    return [
        _workspace_value(limiter, own, org)
        for limiter in ordered
        if limiter in own or (include_inherited and limiter in org)
    ]


def _workspace_value(limiter: str, own: Mapping[str, int], org: Mapping[str, int]) -> JsonDict:
    if limiter in own:
        source, value = "workspace", own[limiter]
    else:
        source, value = "organization", org[limiter]
    return {
        "type": limiter,
        "value": value,
        "org_limit": org.get(limiter),
        "source": {"type": source},
    }


def _in_limiter_order(values: Mapping[str, int]) -> dict[str, int]:
    return {limiter: values[limiter] for limiter in LIMITER_TYPES if limiter in values}
