"""Text from the API or from a file, made safe to show to a person, the way ``git`` and ``ls``
quote odd file names: every human renderer passes each untrusted field through ``printable``.

A name that carries a newline could print a fake plan line, an ANSI sequence could erase the lines
above it, a bidirectional override could make text read in another order than it runs. Such
characters are shown escaped (``\\n``, ``\\x1b``, ``\\u202e``), never interpreted. ``printable``
is idempotent, so text that passes through it twice reads the same.
"""

from __future__ import annotations

import json
import re
import unicodedata
from bisect import bisect_right
from itertools import accumulate
from typing import Any

# Control (C0, DEL, C1), format (bidirectional controls, zero-width characters, BOM), line and
# paragraph separators, and lone surrogates (which cannot even be written as UTF-8).
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# Format characters that scripts and emoji need to render at all, and that move nothing.
KEPT_FORMAT_CHARACTERS = frozenset({"\u200c", "\u200d"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# How every Anthropic key begins; never part of what roster shows. A key has a long random
# part after it, which "sk-ant-admin01-..." in roster's own advice has not.
KEY_MARK = "sk-ant-"
_KEY = re.compile(r"sk-ant-[A-Za-z0-9_\-]{16,}", re.IGNORECASE)
# Backslash-escaping these keeps names inert in markdown: no emphasis, code, links, HTML, tables
# or math.
MARKDOWN_SPECIALS = frozenset("\\`*_{}[]<>#+!|~&$^")
# What GitHub links or notifies on after parsing, backslashes or not: @mentions (after anything
# but an ASCII letter or digit, as GitHub reads them), #12 and GH-12 references, URLs. Emails
# stay text: GitHub may show one as a mailto: link to itself, which misleads no one.
_LIVE_IN_MARKDOWN = re.compile(r"(?<![A-Za-z0-9])@[A-Za-z0-9]|#\d|\bgh-\d|://|www\.", re.IGNORECASE)


def is_unsafe(char: str) -> bool:
    """Whether ``char`` must not reach a terminal or a plain-text log as it is."""
    return unicodedata.category(char) in UNSAFE_CATEGORIES and char not in KEPT_FORMAT_CHARACTERS


def escaped(char: str) -> str:
    """``char`` spelled out: ``\\n``, ``\\x1b``, ``\\u202e`` or ``\\U000e0001``."""
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def without_keys(text: str) -> str:
    """``text`` with anything that looks like a key replaced: a server or a proxy may echo the
    key in an error message, and a user may paste one where an option's value goes."""
    return _KEY.sub(f"{KEY_MARK}…(redacted)", text) if KEY_MARK in text.lower() else text


def printable(text: str) -> str:
    """``text`` on one line, with every character that could act on a terminal escaped."""
    if text.isprintable():  # the common case, at C speed: nothing to escape
        return text
    return "".join(escaped(char) if is_unsafe(char) else char for char in text)


def markdown_text(text: str, limit: int | None = None, *, in_table: bool = False) -> str:
    """``text`` as literal markdown outside code, ``printable``, at most ``limit`` characters.

    Text that GitHub would turn into a mention, an issue link or a link even when escaped
    (``@team``, ``#12``, ``https://...``) is shown as inline code instead, which it leaves alone.
    """
    shown = printable(text)
    if _LIVE_IN_MARKDOWN.search(shown):
        return _code_span(_cut(list(shown), limit), in_table=in_table)
    return _cut(["\\" + c if c in MARKDOWN_SPECIALS else c for c in shown], limit)


def _cut(pieces: list[str], limit: int | None) -> str:
    if limit is None or sum(map(len, pieces)) <= limit:
        return "".join(pieces)
    kept = list(accumulate(map(len, pieces)))
    return "".join(pieces[: bisect_right(kept, limit - 1)]) + "…"


def _code_span(text: str, *, in_table: bool) -> str:
    """``text`` as inline code: fenced by more backticks than it holds in a row."""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    padded = f" {text} " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else text
    # Inside a table a pipe ends the cell even in code, unless escaped (GitHub's tables).
    return fence + (padded.replace("|", "\\|") if in_table else padded) + fence


# What JSON leaves as it is, and so what might need an escape: DEL and everything beyond ASCII.
_BEYOND_ASCII = re.compile("[\x7f-\U0010ffff]")


def json_text(data: Any) -> str:
    """``data`` as indented JSON with sorted keys, exact and still safe to ``cat``.

    Non-ASCII text stays readable; the characters ``printable`` escapes are written as JSON
    ``\\uXXXX`` escapes (JSON already escapes the C0 ones), which parse back to the same string.
    Outside strings JSON is ASCII, so the substitution only ever touches string contents.
    """
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return _BEYOND_ASCII.sub(_json_escape, text)


def _json_escape(match: re.Match[str]) -> str:
    char = match.group()
    if not is_unsafe(char):
        return char
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    high, low = divmod(code - 0x10000, 0x400)  # JSON spells astral characters as a UTF-16 pair
    return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"
