"""What the terminal roster writes to can show: colour, and how wide a table may be."""

from __future__ import annotations

import os
import shutil
import sys

# Narrower than this, no table is readable: COLUMNS below it is taken as this.
MIN_WIDTH = 40


def use_color() -> bool:
    """Colour on a terminal, or anywhere when it is forced; never with NO_COLOR."""
    return not os.environ.get("NO_COLOR") and (color_forced() or sys.stdout.isatty())


def color_forced() -> bool:
    """FORCE_COLOR asks for colour anywhere (a CI log that shows it); NO_COLOR refuses it
    everywhere and wins over it (no-color.org, force-color.org)."""
    return bool(os.environ.get("FORCE_COLOR")) and not os.environ.get("NO_COLOR")


def table_width() -> int | None:
    """The width tables are cut to: COLUMNS when set, else the terminal's; None (every cell
    whole) when standard output is not a terminal, so `roster members > file` loses nothing."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), MIN_WIDTH)
    if sys.stdout.isatty():
        return max(shutil.get_terminal_size().columns, MIN_WIDTH)
    return None
