"""What apply tells the user: a line per change as it finishes, and the tally at the end.

Each change ends as made, already done (another apply or a person got there first), failed
(read back: not made), or of unknown outcome (the next plan shows it); the words say which.
"""

from __future__ import annotations

import click

from roster.apply import ApplyReport, ChangeResult
from roster.errors import RosterError
from roster.render import SIGNS, describe
from roster.untrusted import printable

ALREADY = "already done by another apply or by hand"


class ApplyFailed(RosterError):
    """Some changes failed or have an unknown outcome; the rest were made."""


def show_progress(result: ChangeResult) -> None:
    click.echo(result_line(result), err=True)


def result_line(result: ChangeResult) -> str:
    return f"  {SIGNS[result.change.kind]} {describe(result.change)}: {outcome_words(result)}"


def outcome_words(result: ChangeResult) -> str:
    note = f" ({printable(result.note)})" if result.note else ""
    error = printable(str(result.error)) if result.error is not None else ""
    if result.outcome == "already_done":
        return f"{ALREADY}{note}"
    if result.outcome == "done" and error:
        return f"done (read back after the answer was lost: {error}){note}"
    if result.outcome == "done":
        return f"done{note}"
    if result.outcome == "unknown":
        then = (
            printable(result.note) if result.note else "the next plan will show whether it was made"
        )
        return f"OUTCOME UNKNOWN: {error}; {then}"
    return f"FAILED: {error}{note}"


def finish(report: ApplyReport) -> None:
    """The tally on stdout, the changes not made on stderr; raises when any was not made."""
    total, made = len(report.results), len(report.applied)
    already = len(report.already_done)
    by_others = f" ({already} {ALREADY})" if already else ""
    manual = len(report.manual)
    left = (
        f" {manual} manual action{'s' if manual != 1 else ''} left for the Console."
        if manual
        else ""
    )
    if report.ok:
        click.echo(f"Apply complete: {made} of {total} changes made{by_others}.{left}")
        return
    click.echo(f"Apply finished with failures: {made} of {total} changes made{by_others}.{left}")
    for result in (*report.failed, *report.unknown):
        click.echo(result_line(result), err=True)
    raise ApplyFailed(_failure_summary(report, total))


def _failure_summary(report: ApplyReport, total: int) -> str:
    failed, unknown = len(report.failed), len(report.unknown)
    parts = [f"{failed} of {total} changes failed"] if failed else []
    if unknown:
        parts.append(f"{unknown} {'has an' if unknown == 1 else 'have an'} unknown outcome")
    return (
        f"{' and '.join(parts)} (listed above); fix the cause and run roster apply again:"
        " it only does what is left"
    )
