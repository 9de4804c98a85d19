"""Every problem of the roster files, shown in one place: for people, for programs, for CI.

``validate`` and the load step of ``plan`` and ``apply`` all end here when a file is broken. Text
is one ``Error: file:line:col: message`` line per problem (the form editors and CI log parsers
know), in file and line order, then a count; ``--format json`` is a list of ``{file, line,
column, message}``; under GitHub Actions each problem is also an ``::error`` workflow command, so
the pull request shows it beside the line.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import click

from roster.errors import ConfigError, Problem
from roster.untrusted import json_text, printable, without_keys

# A file edited by a script can hold thousands of problems; the first thousand say enough.
MAX_SHOWN = 1000


def show_problems(error: ConfigError, *, limit: int = MAX_SHOWN) -> None:
    """Every problem on stderr (and as GitHub annotations on stdout when run there)."""
    shown = error.problems[:limit]
    for problem in shown:
        click.echo(f"Error: {_text(problem.located())}", err=True)
    if in_github_actions():
        for problem in shown:
            click.echo(github_annotation(problem))
    total = len(error.problems)
    if total > 1:
        files = len(error.files)
        counted = (
            f"{total:,} problems in {files:,} file{'s' if files != 1 else ''}"
            f"{f' (the first {limit:,} shown)' if total > limit else ''}."
        )
        click.echo(counted, err=True)


def problems_json(problems: Sequence[Problem]) -> str:
    """The documented JSON list of problems: file, line, column (null when unknown), message."""
    listed = [
        {
            "file": without_keys(problem.file or "."),
            "line": problem.line,
            "column": problem.column,
            "message": without_keys(problem.message),
        }
        for problem in problems
    ]
    return json_text(listed)


def in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def github_annotation(problem: Problem) -> str:
    """``::error file=…,line=…,col=…::message``, escaped as the runner reads it."""
    properties = [f"file={_property(_text(problem.file or '.'))}"]
    if problem.line is not None:
        properties.append(f"line={problem.line}")
        if problem.column is not None:
            properties.append(f"col={problem.column}")
    return f"::error {','.join(properties)}::{_data(_text(problem.message))}"


def _text(text: str) -> str:
    return printable(without_keys(text))


def _data(text: str) -> str:
    # The runner's own escapes: a message cannot end the command or start another.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
