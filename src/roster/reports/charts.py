"""Bar charts: text bars for a terminal, and Mermaid ``xychart-beta`` for markdown (GitHub
renders it). Values are whole numbers; the Mermaid axis is scaled to a readable unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

from roster.untrusted import printable

BAR_WIDTH = 30
_EIGHTHS = " ▏▎▍▌▋▊▉"
_FULL = "█"
_UNITS = ((10**9, "billions"), (10**6, "millions"), (10**3, "thousands"))


def bar(value: int, largest: int, width: int = BAR_WIDTH) -> str:
    """A bar ``width`` long for ``largest``, in eighths of a character; never empty above 0."""
    if value <= 0 or largest <= 0:
        return ""
    eighths = max(1, (value * width * 16 + largest) // (2 * largest))
    full, rest = divmod(eighths, 8)
    return _FULL * full + (_EIGHTHS[rest] if rest else "")


def scale(largest: int) -> tuple[int, str]:
    """The divisor and unit name that keep a chart's numbers short."""
    return next(((d, name) for d, name in _UNITS if largest >= d), (1, ""))


def mermaid_bars(title: str, labels: Sequence[str], values: Sequence[int], quantity: str) -> str:
    """A Mermaid ``xychart-beta`` bar chart of ``values`` (one per label)."""
    divisor, unit = scale(max(values, default=0))
    scaled = [_scaled(value, divisor) for value in values]
    top = max(1, -(-max(values, default=0) // divisor))
    axis = f"{quantity} ({unit})" if unit else quantity
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            f'    title "{_quoted(title)}"',
            f"    x-axis [{', '.join(chr(34) + _quoted(x) + chr(34) for x in labels)}]",
            f'    y-axis "{_quoted(axis)}" 0 --> {top}',
            f"    bar [{', '.join(scaled)}]",
            "```",
        ]
    )


def _scaled(value: int, divisor: int) -> str:
    if divisor == 1:
        return str(value)
    shown = (Decimal(value) / divisor).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return str(shown)


def _quoted(text: str) -> str:
    # Mermaid strings cannot escape a double quote.
    return printable(text).replace('"', "'")
