"""Validation of request values for the emulated API: each rule raises a 400 naming it."""

from __future__ import annotations

import re
from collections.abc import Iterable

from roster.emulator.problems import invalid
from roster.emulator.records import JsonDict, default_residency
from roster.model import ASSIGNABLE_WORKSPACE_ROLES, ORG_ROLES, SETTABLE_ROLES

WORKSPACE_NAME_MAX = 40
API_KEY_NAME_MAX = 500
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+\Z")
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}\Z")


def normalize_email(raw: object) -> str:
    """Lower-cased and stripped; a 400 unless it looks like an address."""
    if not isinstance(raw, str) or not _EMAIL.match(raw.strip()) or len(raw.strip()) > 254:
        raise invalid(f"email: {raw!r} is not a valid email address", "invalid_email")
    return raw.strip().lower()


def name_from_email(email: str) -> str:
    """``jane.doe@x.com`` -> ``Jane Doe``: a plausible display name for an accepted invite."""
    local = email.split("@", 1)[0]
    return " ".join(part.capitalize() for part in re.split(r"[._+-]+", local) if part) or local


def require_settable_role(role: object) -> None:
    if not isinstance(role, str) or role not in SETTABLE_ROLES:
        raise invalid(
            f"role: {role!r} cannot be set through the API; use one of {sorted(SETTABLE_ROLES)}",
            "role_not_assignable",
        )


def require_no_rbac_groups(groups: object) -> None:
    """``rbac_group_ids`` is a list of strings, and must be empty: a Console organization."""
    if groups is None:
        return
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise invalid("rbac_group_ids: expected a list of strings")
    if groups:
        raise invalid(
            "rbac_group_ids: RBAC groups need an Enterprise organization", "rbac_not_enabled"
        )


def require_no_cmek_or_profile(body: JsonDict) -> None:
    """The emulated organization has no customer-managed keys and no user profiles (§9)."""
    if body.get("external_key_id") is not None:
        raise invalid(
            "external_key_id: the organization has no customer-managed keys",
            "external_key_validation_failed",
        )
    if body.get("user_profile_id") is not None:
        raise invalid(
            f"user_profile_id: no user profile {body['user_profile_id']!r}",
            "user_profile_not_found",
        )


def require_org_roles(roles: Iterable[str]) -> frozenset[str]:
    unknown = sorted(set(roles) - ORG_ROLES)
    if unknown:
        raise invalid(f"roles[]: unknown role {unknown[0]!r}")
    return frozenset(roles)


def require_assignable_workspace_role(role: object) -> None:
    if role == "workspace_billing":
        raise invalid(
            "workspace_billing comes from the org billing role and cannot be assigned",
            "workspace_role_not_assignable",
        )
    if not isinstance(role, str) or role not in ASSIGNABLE_WORKSPACE_ROLES:
        raise invalid(f"workspace_role: {role!r} is not an assignable workspace role")


def require_workspace_name(name: object) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= WORKSPACE_NAME_MAX:
        raise invalid(f"name: must be a string of 1 to {WORKSPACE_NAME_MAX} characters")
    return name


def require_color(color: object, default: str) -> str:
    if color is None:
        return default
    if not isinstance(color, str) or not _COLOR.match(color):
        raise invalid(f"display_color: {color!r} is not a #RRGGBB colour")
    return color


def updated_tags(tags: dict[str, str], changes: object) -> dict[str, str]:
    """Merge ``changes`` into ``tags``; a null value removes the tag."""
    if changes is None:
        return dict(tags)
    if not isinstance(changes, dict):
        raise invalid("tags: must be an object of strings")
    merged = dict(tags)
    for key, value in changes.items():
        if not isinstance(key, str) or key.lower().startswith("anthropic"):
            raise invalid(f"tags: key {key!r} is reserved", "reserved_tag_key")
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, str):
            merged[key] = value
        else:
            raise invalid(f"tags: value of {key!r} must be a string or null")
    return merged


def residency_on_create(raw: object) -> JsonDict:
    residency = default_residency()
    if raw is None:
        return residency
    if not isinstance(raw, dict):
        raise invalid("data_residency: must be an object")
    if raw.get("workspace_geo", "us") != "us":
        raise invalid("data_residency.workspace_geo: only 'us' is available")
    return residency_on_update(residency, {k: v for k, v in raw.items() if k != "workspace_geo"})


def residency_on_update(current: JsonDict, raw: object) -> JsonDict:
    if raw is None:
        return dict(current)
    if not isinstance(raw, dict) or not set(raw) <= {
        "allowed_inference_geos",
        "default_inference_geo",
    }:
        raise invalid(
            "data_residency: only allowed_inference_geos and default_inference_geo can change"
        )
    merged = {**current, **raw}
    allowed, default = merged["allowed_inference_geos"], merged["default_inference_geo"]
    if default not in ("global", "us"):
        raise invalid("data_residency.default_inference_geo: must be 'global' or 'us'")
    if allowed != "unrestricted" and (
        not isinstance(allowed, list)
        or not set(allowed) <= {"global", "us"}
        or default not in allowed
    ):
        raise invalid("data_residency: default_inference_geo must be one of allowed_inference_geos")
    return merged
