"""Rendering the dashboard of ``roster report`` as terminal text, markdown for a chat channel
or CI summary (with a Mermaid chart), or JSON. Names from the API (models, emails, key names)
are escaped in text and markdown, and exact in JSON.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from roster.reports.charts import bar, mermaid_bars
from roster.reports.claude_code import ActorActivity, ClaudeCodeReport
from roster.reports.cost import decimal_text, dollars, usd
from roster.reports.dashboard import Dashboard, Section
from roster.reports.dates import rfc3339
from roster.reports.forecast import Forecast
from roster.reports.render import bucket_text, share
from roster.reports.table import WIDTH, Column, count, plural, render_json, render_table
from roster.reports.usage import USAGE_DELAY_MINUTES, Freshness
from roster.untrusted import markdown_text, printable

REPORT_FORMATS = ("text", "markdown", "json")
_CLAUDE_CODE_TOTALS = (
    "Active users",
    "Sessions",
    "Lines added",
    "Lines removed",
    "Commits",
    "Pull requests",
)
# Underscores inside a word are never emphasis in GitHub's markdown.
_PLAIN_WORD = re.compile(r"^[A-Za-z0-9]+(?:[_.-][A-Za-z0-9]+)*\Z")


def period_days(board: Dashboard) -> int:
    return (board.period.end - board.period.start).days


def period_label(board: Dashboard) -> str:
    """The first and last day of the period (both included), and how many days it has."""
    last = board.period.end - timedelta(days=1)
    return f"{_day(board.period.start)} – {_day(last)} ({plural(period_days(board), 'day')}, UTC)"


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _membership(board: Dashboard) -> str:
    return f"{count(board.members)} active, {plural(board.pending_invites, 'pending invite')}"


# --- words every format shares ----------------------------------------------------------------


def month_title(ahead: Forecast) -> str:
    return ahead.month.start.strftime("%B %Y") + " (UTC)"


def so_far_label(ahead: Forecast) -> str:
    return f"So far, to {ahead.as_of.strftime('%Y-%m-%d %H:%M')}"


def projected_label(ahead: Forecast) -> str:
    return f"Projected for the month ({plural(ahead.days_in_month, 'day')})"


def projection_note(ahead: Forecast) -> str:
    """How the projection was made, in one line."""
    if ahead.complete_days:
        return (
            "Projected: the rest of the month at the daily average of its complete days"
            f" ({ahead.complete_days})."
        )
    return "Projected: the rest of the month at the pace so far (no complete day yet)."


def freshness_lines(fresh: Freshness, *, claude_code: bool) -> tuple[str, str]:
    """When the data was read and its newest bucket; what may not be reported yet."""
    shown = f"Data as of {fresh.as_of.strftime('%Y-%m-%d %H:%M')} UTC"
    newest = (
        "no usage reported"
        if fresh.newest is None
        else f"newest usage: {bucket_text(fresh.newest)}"
    )
    # The Claude Code report holds only data more than about an hour old (admin-api.md §13).
    late = " (of Claude Code, the last hour)" if claude_code else ""
    return (
        f"{shown}; {newest}.",
        f"The last ~{USAGE_DELAY_MINUTES} minutes of usage{late} may be missing.",
    )


def actor_label(entry: ActorActivity) -> str:
    actor = entry.actor
    return actor.name if actor.is_user else f"{actor.name} (API key)"


def active_users(report: ClaudeCodeReport) -> str:
    keys = f" (and {plural(report.api_keys, 'API key')})" if report.api_keys else ""
    return f"{count(report.active_users)}{keys}"


# --- text -------------------------------------------------------------------------------------


def report_text(board: Dashboard, width: int | None = WIDTH) -> str:
    sections = [
        _summary_text(board, width),
        _section_text(board.governance, width),
        _forecast_text(board.forecast, width),
        _days_text(board, width),
        _models_text(board, width),
        _roles_text(board, width),
        _claude_code_text(board.claude_code, width),
        _freshness_text(board),
    ]
    return "\n".join(filter(None, sections))


def _summary_text(board: Dashboard, width: int | None) -> str:
    pairs = [
        ["Period", period_label(board)],
        ["Tokens", count(board.tokens.total)],
        ["Cost", dollars(board.cents)],
        ["Members", _membership(board)],
    ]
    body = render_table([Column(""), Column("", shrink=1)], pairs, width, header=False)
    return f"{printable(board.organization.name)}: organization report\n\n{body}"


def _section_text(section: Section | None, width: int | None) -> str:
    if section is None:
        return ""
    columns = [Column(section.title.upper()), Column("", shrink=1)]
    return render_table(columns, [list(row) for row in section.rows], width)


def _forecast_text(ahead: Forecast, width: int | None) -> str:
    columns = [Column(month_title(ahead).upper(), shrink=1), Column("TOKENS", "right")]
    rows = [
        [so_far_label(ahead), count(ahead.tokens), dollars(ahead.cents)],
        [projected_label(ahead), count(ahead.projected_tokens), dollars(ahead.projected_cents)],
    ]
    table = render_table([*columns, Column("COST", "right")], rows, width)
    return f"{table}{projection_note(ahead)}\n"


def _claude_code_text(report: ClaudeCodeReport | None, width: int | None) -> str:
    if report is None:
        return ""
    if not report.actors:
        return "No Claude Code use in this period.\n"
    totals = report.totals
    pairs = [
        ["Active users", active_users(report)],
        ["Sessions", count(totals.sessions)],
        [
            "Lines of code",
            f"{count(totals.lines_added)} added, {count(totals.lines_removed)} removed",
        ],
        ["Commits", count(totals.commits)],
        ["Pull requests", count(totals.pull_requests)],
    ]
    summary = render_table([Column("CLAUDE CODE"), Column("", shrink=1)], pairs, width)
    return f"{summary}\n{_top_actors_text(report, width)}"


def _top_actors_text(report: ClaudeCodeReport, width: int | None) -> str:
    columns = [Column("TOP CLAUDE CODE USERS", shrink=1), Column("DAYS", "right")]
    columns += [Column(h, "right") for h in ("SESSIONS", "LINES ADDED", "COMMITS", "PRS")]
    rows = [[actor_label(entry), *_actor_cells(entry)] for entry in report.top]
    return render_table(columns, rows, width)


def _actor_cells(entry: ActorActivity) -> list[str]:
    done = entry.activity
    numbers = (entry.days, done.sessions, done.lines_added, done.commits, done.pull_requests)
    return [count(n) for n in numbers]


def _freshness_text(board: Dashboard) -> str:
    lines = freshness_lines(board.freshness, claude_code=board.claude_code is not None)
    return "\n".join(lines) + "\n"


def _days_text(board: Dashboard, width: int | None) -> str:
    largest = max((day.tokens for day in board.days), default=0)
    columns = [Column("DAY"), Column("TOKENS PER DAY"), Column("TOKENS", "right")]
    columns.append(Column("COST", "right"))
    rows = [
        [_weekday(day.date), bar(day.tokens, largest), count(day.tokens), dollars(day.cents)]
        for day in board.days
    ]
    return render_table(columns, rows, width)


def _weekday(date: str) -> str:
    return f"{date} {datetime.strptime(date, '%Y-%m-%d').strftime('%a')}"


def _models_text(board: Dashboard, width: int | None) -> str:
    if not board.top_models:
        return "No token usage in this period.\n"
    total = board.tokens.total
    rows = [[m.model, count(m.tokens), share(m.tokens, total)] for m in board.top_models]
    columns = [Column("TOP MODELS", shrink=1), Column("TOKENS", "right")]
    return render_table([*columns, Column("SHARE", "right")], rows, width)


def _roles_text(board: Dashboard, width: int | None) -> str:
    rows = [[role, count(n)] for role, n in board.roles]
    return render_table([Column("ROLE"), Column("MEMBERS", "right")], rows, width)


# --- markdown ---------------------------------------------------------------------------------


def report_markdown(board: Dashboard) -> str:
    sections = [
        f"## {markdown_text(board.organization.name)}: organization report",
        f"**{period_label(board)}**",
        _md_table(
            ["Tokens", "Cost", "Members", "Pending invites"],
            [
                [
                    count(board.tokens.total),
                    dollars(board.cents),
                    count(board.members),
                    count(board.pending_invites),
                ]
            ],
            right=4,
        ),
        *_md_section(board.governance),
        *_md_forecast(board.forecast),
        "### Tokens per day",
        _md_chart(board),
        "### Top models",
        _md_models(board),
        "### Members by role",
        _md_table(["Role", "Members"], [[_word(r), count(n)] for r, n in board.roles], right=1),
        *_md_claude_code(board.claude_code),
        " ".join(freshness_lines(board.freshness, claude_code=board.claude_code is not None)),
    ]
    return "\n\n".join(sections) + "\n"


def _md_section(section: Section | None) -> list[str]:
    if section is None:
        return []
    # A table, not a list: a line of the report must never start like a plan's "- " line.
    rows = [f"| {markdown_text(label)} | {markdown_text(value)} |" for label, value in section.rows]
    return [f"### {markdown_text(section.title)}", "\n".join(["| | |", "|---|---|", *rows])]


def _md_forecast(ahead: Forecast) -> list[str]:
    rows = [
        [so_far_label(ahead), count(ahead.tokens), dollars(ahead.cents)],
        [projected_label(ahead), count(ahead.projected_tokens), dollars(ahead.projected_cents)],
    ]
    return [
        f"### {month_title(ahead)}",
        _md_table(["", "Tokens", "Cost"], rows, right=2),
        projection_note(ahead),
    ]


def _md_claude_code(report: ClaudeCodeReport | None) -> list[str]:
    if report is None:
        return []
    if not report.actors:
        return ["### Claude Code", "No Claude Code use in this period."]
    done = report.totals
    numbers = (
        done.sessions,
        done.lines_added,
        done.lines_removed,
        done.commits,
        done.pull_requests,
    )
    totals = [active_users(report), *map(count, numbers)]
    top = [
        [markdown_text(actor_label(entry), in_table=True), *_actor_cells(entry)]
        for entry in report.top
    ]
    top_header = ["User", "Days", "Sessions", "Lines added", "Commits", "Pull requests"]
    return [
        "### Claude Code",
        _md_table(list(_CLAUDE_CODE_TOTALS), [totals], right=6),
        "#### Top users",
        _md_table(top_header, top, right=5),
    ]


def _md_chart(board: Dashboard) -> str:
    labels = [day.date[5:] for day in board.days]
    return mermaid_bars("Tokens per day", labels, [d.tokens for d in board.days], "Tokens")


def _md_models(board: Dashboard) -> str:
    if not board.top_models:
        return "No token usage in this period."
    total = board.tokens.total
    rows = [[_code(m.model), count(m.tokens), share(m.tokens, total)] for m in board.top_models]
    return _md_table(["Model", "Tokens", "Share"], rows, right=2)


def _word(text: str) -> str:
    """``text`` as it is when it is one plain word (as roles are), else as escaped markdown."""
    return text if _PLAIN_WORD.match(text) else markdown_text(text, in_table=True)


def _code(text: str) -> str:
    """``text`` as inline code in a table cell; as escaped text if it could end the code or cell."""
    shown = printable(text)
    return markdown_text(shown, in_table=True) if "`" in shown or "|" in shown else f"`{shown}`"


def _md_table(header: list[str], rows: list[list[str]], *, right: int) -> str:
    """A GitHub table whose last ``right`` columns are right-aligned (cells already escaped)."""
    align = ["---"] * (len(header) - right) + ["---:"] * right
    return "\n".join("| " + " | ".join(line) + " |" for line in [header, align, *rows])


# --- json -------------------------------------------------------------------------------------


def report_data(board: Dashboard) -> dict[str, Any]:
    return {
        "organization": {"id": board.organization.id, "name": board.organization.name},
        "period": {**board.period.data, "days": period_days(board)},
        "tokens": board.tokens.data,
        "cost": {"cents": decimal_text(board.cents), "usd": decimal_text(usd(board.cents))},
        "top_models": [{"model": m.model, "tokens": m.tokens} for m in board.top_models],
        "members": {"total": board.members, "by_role": dict(board.roles)},
        "pending_invites": board.pending_invites,
        "days": [
            {
                "date": day.date,
                "tokens": day.tokens,
                "cents": decimal_text(day.cents),
                "usd": decimal_text(usd(day.cents)),
            }
            for day in board.days
        ],
        "forecast": _forecast_data(board.forecast),
        "freshness": board.freshness.data,
        "claude_code": None if board.claude_code is None else _claude_code_data(board.claude_code),
        "governance": None if board.governance is None else dict(board.governance.data),
    }


def _amount(tokens: int, cents: Decimal) -> dict[str, Any]:
    return {"tokens": tokens, "cents": decimal_text(cents), "usd": decimal_text(usd(cents))}


def _forecast_data(ahead: Forecast) -> dict[str, Any]:
    return {
        "month": {**ahead.month.data, "days": ahead.days_in_month},
        "as_of": rfc3339(ahead.as_of),
        "complete_days": ahead.complete_days,
        "to_date": _amount(ahead.tokens, ahead.cents),
        "projected": _amount(ahead.projected_tokens, ahead.projected_cents),
    }


def _claude_code_data(report: ClaudeCodeReport) -> dict[str, Any]:
    return {
        "active_users": report.active_users,
        "api_keys": report.api_keys,
        "totals": report.totals.data,
        "actors": [
            {"actor": entry.actor.data, "days": entry.days, **entry.activity.data}
            for entry in report.actors
        ],
    }


def render_report(board: Dashboard, fmt: str, width: int | None = WIDTH) -> str:
    renderers: dict[str, Callable[[Dashboard], str]] = {
        "text": lambda b: report_text(b, width),
        "markdown": report_markdown,
        "json": lambda b: render_json(report_data(b)),
    }
    return renderers[fmt](board)
