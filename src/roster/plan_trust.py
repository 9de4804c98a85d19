"""What binds a saved plan to what was reviewed: a keyed signature, and the roster files.

The digest inside a plan file proves only that the file is whole: anyone who can write the file
can recompute it. A signature made with ``ROSTER_PLAN_KEY`` (HMAC-SHA256) proves that whoever
saved the plan held the key; comparing the plan's desired state with the roster files at hand
proves that the plan is the plan of those files. ``docs/plan-format.md`` has the threat model.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from typing import Any

from deepdiff import DeepDiff

from roster.credentials import Secret
from roster.errors import RosterError

PLAN_KEY_ENV = "ROSTER_PLAN_KEY"
SIGNATURE_SCHEME = "hmac-sha256"
MIN_KEY_CHARACTERS = 32
MAX_DIFFERENCE_LINES = 20
# Keys that start with "__" are compared too (DeepDiff skips them by default, and such an email
# is valid), and a dict whose keys mostly differ is described key by key, never as one value.
DIFF_OPTIONS: Mapping[str, Any] = {"ignore_private_variables": False, "threshold_to_diff_deeper": 0}


class PlanKeyError(RosterError):
    """``ROSTER_PLAN_KEY`` is set but cannot be used to sign or check plans."""


class UnboundPlanError(RosterError):
    """A saved plan whose signature or desired state does not match what apply was given."""


def plan_key(environ: Mapping[str, str] | None = None) -> Secret | None:
    """The signing key from ``ROSTER_PLAN_KEY``, or None when it is not set."""
    value = (os.environ if environ is None else environ).get(PLAN_KEY_ENV, "").strip()
    if not value:
        return None
    if len(value) < MIN_KEY_CHARACTERS:
        # Never echo the value, nor its length's neighbourhood: a short key is guessable offline.
        raise PlanKeyError(
            f"{PLAN_KEY_ENV} is too short to sign plans with: use at least"
            f" {MIN_KEY_CHARACTERS} random characters (for example: openssl rand -hex 32)"
        )
    return Secret(value)


def canonical(value: Any) -> bytes:
    """``value`` as canonical JSON bytes: sorted keys, no spaces, UTF-8 (a lone surrogate from
    the API passes through as its own three bytes rather than failing)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")


def signature(body: Mapping[str, Any], key: Secret) -> str:
    """``hmac-sha256:<hex>`` of the canonical JSON of ``body``."""
    mac = hmac.new(key.reveal().encode("utf-8"), canonical(body), hashlib.sha256)
    return f"{SIGNATURE_SCHEME}:{mac.hexdigest()}"


def check_signature(path: str, body: Mapping[str, Any], signed: object, key: Secret | None) -> None:
    """Refuse a plan whose signature is missing, wrong, or cannot be checked."""
    if key is None:
        if signed is not None:
            raise UnboundPlanError(
                f"{path}: the plan is signed, but {PLAN_KEY_ENV} is not set, so the signature"
                f" cannot be checked; set {PLAN_KEY_ENV} as it was when the plan was made"
            )
        return
    if signed is None:
        raise UnboundPlanError(
            f"{path}: the plan is not signed, and {PLAN_KEY_ENV} is set: only a plan saved"
            f" with that key may be applied; make the plan again where {PLAN_KEY_ENV} is set"
        )
    expected = signature(body, key).encode("ascii")
    if not isinstance(signed, str) or not hmac.compare_digest(_bytes(signed), expected):
        raise UnboundPlanError(
            f"{path}: the plan's signature does not match: it was changed after it was signed,"
            f" or signed with another {PLAN_KEY_ENV}; nothing was applied"
        )


def check_same_desired(
    planned: Mapping[str, Any], files: Mapping[str, Any], described_files: str
) -> None:
    """Refuse a plan whose desired state is not exactly what the roster files say, naming how.

    Equality decides (of the canonical JSON); the comparison of the two only words the refusal.
    """
    if canonical(planned) != canonical(files):
        shown = "; ".join(describe_difference(planned, files) or ["they differ"])
        raise UnboundPlanError(
            f"the plan was not made from {described_files}: {shown}; nothing was applied:"
            " plan again from these files"
        )


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def describe_difference(planned: Mapping[str, Any], files: Mapping[str, Any]) -> list[str]:
    """How the plan's desired state differs from the files', one phrase each, sorted."""
    diff = DeepDiff(dict(planned), dict(files), view="tree", ignore_order=True, **DIFF_OPTIONS)
    lines = sorted(
        [
            *(_changed(level) for kind in _CHANGED for level in diff.get(kind, [])),
            *(_only(level, "in the files, not in the plan") for level in _added(diff)),
            *(_only(level, "in the plan, not in the files") for level in _removed(diff)),
        ]
    )
    if len(lines) > MAX_DIFFERENCE_LINES:
        hidden = len(lines) - MAX_DIFFERENCE_LINES
        lines = [*lines[:MAX_DIFFERENCE_LINES], f"and {hidden} more differences"]
    return lines


_CHANGED = ("values_changed", "type_changes")


def _added(diff: Any) -> list[Any]:
    return [*diff.get("dictionary_item_added", []), *diff.get("iterable_item_added", [])]


def _removed(diff: Any) -> list[Any]:
    return [*diff.get("dictionary_item_removed", []), *diff.get("iterable_item_removed", [])]


def _changed(level: Any) -> str:
    return f"{_where(level)}: {_shown(level.t1)} in the plan, {_shown(level.t2)} in the files"


def _only(level: Any, where: str) -> str:
    """A key only one side has (``members.bob@acme.com: ...``), or a list item (its value)."""
    if isinstance(level.path(output_format="list")[-1], int):
        item = level.t1 if where.startswith("in the plan") else level.t2
        return f"{_where(level)}: {_shown(item)} {where}"
    return f"{_where(level)}: {where}"


def _where(level: Any) -> str:
    """A place in the desired state as the files spell it: ``members.bob@acme.com`` (a list
    is named, not the index of its item)."""
    parts = [part for part in level.path(output_format="list") if not isinstance(part, int)]
    return ".".join(str(part) for part in parts) or "the desired state"


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
