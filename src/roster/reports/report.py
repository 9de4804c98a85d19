"""Rendering the dashboard of ``roster report`` as terminal text, markdown for a chat channel
or CI summary (with a Mermaid chart), or JSON.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from roster.reports.charts import bar, mermaid_bars
from roster.reports.cost import decimal_text, dollars, usd
from roster.reports.dashboard import Dashboard
from roster.reports.render import share
from roster.reports.table import WIDTH, Column, count, plural, render_json, render_table
from roster.untrusted import markdown_text, printable

REPORT_FORMATS = ("text", "markdown", "json")
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


# --- text -------------------------------------------------------------------------------------


def report_text(board: Dashboard, width: int | None = WIDTH) -> str:
    sections = [
        _summary_text(board, width),
        _days_text(board, width),
        _models_text(board, width),
        _roles_text(board, width),
    ]
    return "\n".join(sections)


def _summary_text(board: Dashboard, width: int | None) -> str:
    pairs = [
        ["Period", period_label(board)],
        ["Tokens", count(board.tokens.total)],
        ["Cost", dollars(board.cents)],
        ["Members", _membership(board)],
    ]
    body = render_table([Column(""), Column("", shrink=1)], pairs, width, header=False)
    return f"{printable(board.organization.name)}: organization report\n\n{body}"


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
        "### Tokens per day",
        _md_chart(board),
        "### Top models",
        _md_models(board),
        "### Members by role",
        _md_table(["Role", "Members"], [[_word(r), count(n)] for r, n in board.roles], right=1),
    ]
    return "\n\n".join(sections) + "\n"


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
    }


def render_report(board: Dashboard, fmt: str, width: int | None = WIDTH) -> str:
    renderers: dict[str, Callable[[Dashboard], str]] = {
        "text": lambda b: report_text(b, width),
        "markdown": report_markdown,
        "json": lambda b: render_json(report_data(b)),
    }
    return renderers[fmt](board)
