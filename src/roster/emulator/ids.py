"""ULID-like object ids: ``<prefix>01`` + 22 base62 digits of (milliseconds, entropy).

Each new id is strictly greater than the previous one, even when the clock stands still or
moves back, so sorting ids sorts objects by creation. The digit alphabet is in ASCII order,
which makes string order equal numeric order.
"""

from __future__ import annotations

import random

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_WIDTH = 22
_ENTROPY_SPAN = 62**14


_PAIRS = [a + b for a in ALPHABET for b in ALPHABET]


def encode(value: int) -> str:
    """``value`` as exactly 22 base62 digits (two digits per step: ids are minted in bulk)."""
    pairs = []
    for _ in range(_WIDTH // 2):
        value, pair = divmod(value, 3844)
        pairs.append(_PAIRS[pair])
    return "".join(reversed(pairs))


def decode(text: str) -> int:
    value = 0
    for char in text:
        value = value * 62 + ALPHABET.index(char)
    return value


class IdFactory:
    """Mints monotonic ids; ``high_water`` is saved with the state so reloads stay monotonic."""

    def __init__(self, seed: str, high_water: int = 0) -> None:
        self._rng = random.Random(f"{seed}:{high_water}")
        self.high_water = high_water

    def new(self, prefix: str, epoch_ms: int) -> str:
        candidate = epoch_ms * _ENTROPY_SPAN + self._rng.randrange(_ENTROPY_SPAN // 2)
        self.high_water = max(self.high_water + 1, candidate)
        return f"{prefix}01{encode(self.high_water)}"


def id_value(object_id: str) -> int:
    """The number behind an id minted here (the part after ``<prefix>01``)."""
    return decode(object_id[-_WIDTH:])
