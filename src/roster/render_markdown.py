"""Render a ``Plan`` as markdown for a pull-request comment: a marker CI finds it by, a summary
table, manual actions in a warning, and the changes in collapsible diff blocks, cut to a limit.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from roster.changes import CHANGE_KINDS, Change, ChangeKind
from roster.model import Organization
from roster.plan import Plan
from roster.render import (
    RATE_LIMITS_DELAY,
    _held_back_section,
    _key_policy_section,
    _key_section,
    _rate_limit_section,
    _summary_line,
    _unmanaged_section,
    _waiting_section,
    describe,
    group_override_section,
    sign_of,
)
from roster.untrusted import markdown_text, printable

__all__ = ["DEFAULT_MAX_CHARS", "MARKDOWN_MARKER", "MIN_MAX_CHARS", "render_markdown"]

MARKDOWN_MARKER = "<!-- roster-plan -->"
# GitHub refuses comments over 65,536 characters; the margin leaves room for a CI's own footer.
DEFAULT_MAX_CHARS = 65_000
# Marker, heading, table, manual-action frame and footer always fit in this many characters.
MIN_MAX_CHARS = 1_000
OPEN_UP_TO = 10
NAME_LIMIT = 64
FULL_PLAN_HINT = "run `roster plan` locally or see the CI log for the full plan"

# GitHub's diff highlighting colours "+" green, "-" red and "!" orange; "~" would stay plain.
DIFF_SIGNS = {"+": "+", "-": "-", "~": "!", "!": "!"}
TITLES: dict[ChangeKind, str] = {
    "invite": "Invite",
    "reinvite": "Reinvite",
    "update_role": "Change role",
    "create_workspace": "Create workspace",
    "add_workspace_member": "Add to workspace",
    "update_workspace_member": "Change workspace role",
    "set_rate_limits": "Set workspace rate limits",
    "remove_workspace_member": "Remove from workspace",
    "archive_workspace": "Archive workspace",
    "delete_invite": "Delete invite",
    "remove_member": "Remove member",
    "deactivate_api_key": "Deactivate API key",
    "archive_api_key": "Archive API key",
    "manual": "Manual",
}
SUMMARY_COLUMNS = (
    ("Invite", "invite"),
    ("Add", "add"),
    ("Change", "change"),
    ("Remove", "remove"),
    ("Manual", "manual"),
    ("Waiting", "waiting"),
    ("Held back", "held_back"),
    ("Unmanaged", "unmanaged"),
)


def render_markdown(plan: Plan, *, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The plan as a pull-request comment of at most ``max_chars`` characters.

    When the whole plan is longer, the heading, summary table and manual actions are kept and
    the sections are cut by whole lines, with a count of what was left out.
    """
    if max_chars < MIN_MAX_CHARS:
        raise ValueError(f"max_chars must be at least {MIN_MAX_CHARS}, not {max_chars}")
    head = [_heading(plan.organization)]
    if plan.is_empty:
        head.append(_summary_line(plan))
    sections = _sections(plan)
    if plan.is_empty and not sections:
        return _join(head)
    head.append(_table(plan))
    warning = _Warning(tuple(markdown_text(c.note) for c in plan.manual_changes))
    whole = _join([*head, *warning.blocks(len(warning.notes)), *(s.render() for s in sections)])
    if len(whole) <= max_chars:
        return whole
    return _cut(head, warning, sections, max_chars)


def _join(blocks: Iterable[str]) -> str:
    return "\n\n".join(blocks) + "\n"


# --- the parts ------------------------------------------------------------------------------


def _heading(organization: Organization) -> str:
    name = markdown_text(organization.name, NAME_LIMIT)
    ids = markdown_text(organization.id, NAME_LIMIT)
    return f"{MARKDOWN_MARKER}\n## roster plan for {name} ({ids})"


def _table(plan: Plan) -> str:
    counts = {**plan.summary, "waiting": len(plan.waiting)}
    header = " | ".join(title for title, _ in SUMMARY_COLUMNS)
    align = "|".join("---:" for _ in SUMMARY_COLUMNS)
    values = " | ".join(f"{counts[key]:,}" for _, key in SUMMARY_COLUMNS)
    return f"| {header} |\n|{align}|\n| {values} |"


def _sections(plan: Plan) -> list[_Section]:
    by_kind = [
        _change_section(kind, [c for c in plan.api_changes if c.kind == kind])
        for kind in CHANGE_KINDS
    ]
    others = [
        ("Held back", _held_back_section(plan.held_back)),
        ("Waiting", _waiting_section(plan.waiting)),
        ("API keys of removed members", _key_section(plan.api_keys)),
        ("API keys past the key policy", _key_policy_section(plan.api_keys)),
        ("Rate limits to look at", _rate_limit_section(plan.rate_limits)),
        ("Group rules overridden", group_override_section(plan.group_overrides)),
        ("Unmanaged", _unmanaged_section(plan.unmanaged)),
    ]
    notices = [_notice_section(title, lines) for title, lines in others if lines]
    return [section for section in by_kind if section.lines] + notices


def _change_section(kind: ChangeKind, changes: Sequence[Change]) -> _Section:
    lines = tuple(printable(f"{DIFF_SIGNS[sign_of(c)]} {describe(c)}") for c in changes)
    intro = RATE_LIMITS_DELAY if kind == "set_rate_limits" else ""
    return _Section(TITLES[kind], lines, intro=intro)


def _notice_section(title: str, text_lines: Sequence[str]) -> _Section:
    intro, *lines = text_lines
    entries = tuple(printable(line.strip()) for line in lines)
    return _Section(title, entries, language="text", intro=intro, collapsed=True)


@dataclass(frozen=True, slots=True)
class _Section:
    """One collapsible group of lines in a code block; ``render(shown)`` keeps the first few."""

    title: str
    lines: tuple[str, ...]
    language: str = "diff"
    intro: str = ""
    collapsed: bool = False
    # offsets[n]: the characters the first n lines take, newlines included.
    offsets: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        widths = (len(line) + 1 for line in self.lines)
        object.__setattr__(self, "offsets", tuple(accumulate(widths, initial=0)))

    def render(self, shown: int | None = None) -> str:
        total = len(self.lines)
        shown = total if shown is None else shown
        label = f"{total:,}" if shown == total else f"{shown:,} of {total:,} shown"
        return self._frame(label, self.lines[:shown])

    def cost(self, shown: int) -> int:
        """At least the characters ``render(shown)`` adds to the comment (0 when left out)."""
        total = len(self.lines)
        if shown == 0:
            return 0
        longest_label = f"{total:,} of {total:,} shown"
        return len(self._frame(longest_label, ())) + len("\n\n") + self.offsets[shown]

    def most_that_fit(self, room: int, at_least: int) -> int:
        if at_least == 0 and self.cost(1) > room:
            return 0
        limit = room - self.cost(1) + self.offsets[1]
        return max(at_least, min(len(self.lines), bisect_right(self.offsets, limit) - 1))

    def _frame(self, label: str, lines: Sequence[str]) -> str:
        closed = self.collapsed or len(self.lines) > OPEN_UP_TO
        intro = [self.intro, ""] if self.intro else []
        return "\n".join(
            [
                f"<details{'' if closed else ' open'}><summary>{self.title} ({label})</summary>",
                "",
                *intro,
                f"```{self.language}",
                *lines,
                "```",
                "",
                "</details>",
            ]
        )


@dataclass(frozen=True, slots=True)
class _Warning:
    """The manual actions, in a GitHub alert that no collapsed section hides."""

    notes: tuple[str, ...]

    def blocks(self, shown: int) -> list[str]:
        if not self.notes:
            return []
        left_out = len(self.notes) - shown
        more = [f"> - … and {left_out:,} more not shown; {FULL_PLAN_HINT}"] if left_out else []
        return ["\n".join([*self._frame(), *self._items(self.notes[:shown]), *more])]

    def most_that_fit(self, room: int) -> int:
        total = len(self.notes)
        if self.cost(total, total) <= room:
            return total
        widths = accumulate((len(item) + 1 for item in self._items(self.notes)), initial=0)
        base = self.cost(0, total)
        return max(0, bisect_right(list(widths), room - base) - 1)

    def cost(self, shown: int, total: int) -> int:
        """The alert's characters with ``shown`` notes; ``total`` bounds the 'more' line."""
        if not self.notes:
            return 0
        more = f"\n> - … and {total:,} more not shown; {FULL_PLAN_HINT}" if shown < total else ""
        lines = [*self._frame(), *self._items(self.notes[:shown])]
        return len("\n".join(lines)) + len(more) + len("\n\n")

    def _frame(self) -> list[str]:
        count = len(self.notes)
        what = f"{count:,} manual action{'' if count == 1 else 's'}"
        them = "it" if count == 1 else "them"
        return ["> [!WARNING]", f"> **{what}** for the Console: apply cannot make {them}."]

    @staticmethod
    def _items(notes: Iterable[str]) -> list[str]:
        return [f"> - {note}" for note in notes]


# --- cutting to fit ---------------------------------------------------------------------------


def _cut(head: list[str], warning: _Warning, sections: list[_Section], max_chars: int) -> str:
    change_lines = sum(len(s.lines) for s in sections if s.language == "diff")
    other_lines = sum(len(s.lines) for s in sections) - change_lines
    room = max_chars - len(_join(head)) - len(_footer(change_lines, other_lines)) - len("\n\n")
    notes_shown = warning.most_that_fit(room)
    room -= warning.cost(notes_shown, len(warning.notes))
    shown = _share(sections, room)
    kept = [s.render(n) for s, n in zip(sections, shown, strict=True) if n]
    return _join([*head, *warning.blocks(notes_shown), *kept, *_footers(sections, shown)])


def _share(sections: Sequence[_Section], room: int) -> list[int]:
    """Lines to show per section: the same number from each while they fit, then more in order."""
    low, high = 0, max((len(s.lines) for s in sections), default=0)
    while low < high:
        middle = (low + high + 1) // 2
        if _cost(sections, _at_most(sections, middle)) <= room:
            low = middle
        else:
            high = middle - 1
    shown = _at_most(sections, low)
    for index, section in enumerate(sections):
        spare = room - _cost(sections, shown) + section.cost(shown[index])
        shown[index] = section.most_that_fit(spare, shown[index])
    return shown


def _at_most(sections: Sequence[_Section], count: int) -> list[int]:
    return [min(count, len(section.lines)) for section in sections]


def _cost(sections: Sequence[_Section], shown: Sequence[int]) -> int:
    return sum(section.cost(n) for section, n in zip(sections, shown, strict=True))


def _footers(sections: Sequence[_Section], shown: Sequence[int]) -> list[str]:
    """The line saying what the sections left out, if they left out anything."""
    left_out = [(s, len(s.lines) - n) for s, n in zip(sections, shown, strict=True)]
    changes = sum(n for s, n in left_out if s.language == "diff")
    others = sum(n for _, n in left_out) - changes
    return [_footer(changes, others)] if changes or others else []


def _footer(changes: int, others: int) -> str:
    parts = [f"{changes:,} more change{'' if changes == 1 else 's'}"] if changes else []
    parts += [f"{others:,} more entr{'y' if others == 1 else 'ies'}"] if others else []
    return f"… and {' and '.join(parts)} not shown; {FULL_PLAN_HINT}."
