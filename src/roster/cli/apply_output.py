"""What apply tells the user: a line per change as it finishes, and the tally at the end.

Each change ends as made, already done (another apply or a person got there first), failed
(read back: not made), or of unknown outcome (the next plan shows it); the words say which.
An apply stopped by Ctrl-C says what finished before, what was in flight, and what never started.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

import click

from roster.apply import ApplyReport, ChangeResult, Interruption
from roster.changes import Change
from roster.errors import EXIT_INTERRUPTED, RosterError
from roster.render import describe, sign_of
from roster.untrusted import printable

ALREADY = "already done by another apply or by hand"
# Changes not started that the summary names; the next plan lists every one.
NOT_STARTED_SHOWN = 10


class ApplyFailed(RosterError):
    """Some changes failed or have an unknown outcome; the rest were made."""


def show_progress(result: ChangeResult) -> None:
    click.echo(result_line(result), err=True)


def result_line(result: ChangeResult) -> str:
    return f"  {sign_of(result.change)} {describe(result.change)}: {outcome_words(result)}"


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
    if report.interruption is not None:
        stopped(report, report.interruption)
    total, made = len(report.results), len(report.applied)
    by_others, left = _by_others(report), _manual_left(report)
    if report.ok:
        click.echo(f"Apply complete: {made} of {total} changes made{by_others}.{left}")
        return
    click.echo(f"Apply finished with failures: {made} of {total} changes made{by_others}.{left}")
    for result in (*report.failed, *report.unknown):
        click.echo(result_line(result), err=True)
    raise ApplyFailed(_failure_summary(report, total))


def stopped(report: ApplyReport, interruption: Interruption) -> NoReturn:
    """The summary of an apply stopped by Ctrl-C: the tally on stdout, what finished, what was
    in flight and what never started on stderr; exits 130."""
    click.echo(_stopped_tally(report, interruption))
    finished, in_flight = report.finished_first, report.in_flight
    _section("Finished before Ctrl-C", len(finished), [result_line(r) for r in finished])
    _section("In flight at Ctrl-C", len(in_flight), [result_line(r) for r in in_flight])
    not_started = interruption.not_started
    _section("Not started", len(not_started), _not_started_lines(not_started))
    click.echo(
        "`roster plan` shows what is left to do; `roster apply` again does only that.", err=True
    )
    raise click.exceptions.Exit(EXIT_INTERRUPTED)


def _stopped_tally(report: ApplyReport, interruption: Interruption) -> str:
    made, not_started = len(report.applied), len(interruption.not_started)
    total = len(report.results) + not_started
    failed, unknown = len(report.failed), len(report.unknown)
    parts = [f"{made} of {total} changes made{_by_others(report)}"]
    parts += [f"{failed} failed"] if failed else []
    parts += [f"{unknown} of unknown outcome"] if unknown else []
    parts.append(f"{not_started} not started")
    return f"Apply stopped by Ctrl-C: {', '.join(parts)}.{_manual_left(report)}"


def _section(title: str, count: int, lines: Sequence[str]) -> None:
    if not count:
        click.echo(f"{title}: none.", err=True)
        return
    click.echo(f"{title} ({count}):", err=True)
    for line in lines:
        click.echo(line, err=True)


def _not_started_lines(changes: Sequence[Change]) -> list[str]:
    lines = [f"  {sign_of(c)} {describe(c)}" for c in changes[:NOT_STARTED_SHOWN]]
    more = len(changes) - NOT_STARTED_SHOWN
    return [*lines, f"  … and {more} more"] if more > 0 else lines


def _by_others(report: ApplyReport) -> str:
    already = len(report.already_done)
    return f" ({already} {ALREADY})" if already else ""


def _manual_left(report: ApplyReport) -> str:
    manual = len(report.manual)
    if not manual:
        return ""
    return f" {manual} manual action{'s' if manual != 1 else ''} left for the Console."


def _failure_summary(report: ApplyReport, total: int) -> str:
    failed, unknown = len(report.failed), len(report.unknown)
    parts = [f"{failed} of {total} changes failed"] if failed else []
    if unknown:
        parts.append(f"{unknown} {'has an' if unknown == 1 else 'have an'} unknown outcome")
    return (
        f"{' and '.join(parts)} (listed above); fix the cause and run roster apply again:"
        " it only does what is left"
    )
