"""RFC 3339 timestamps, read the same on every supported Python.

``datetime.fromisoformat`` reads ``Z`` and any number of fractional digits only from Python
3.11 on; 3.10 takes neither. The text is put in the form 3.10 reads first.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

_ZULU = re.compile(r"[zZ]$")
# Fractional seconds before the offset (or the end): 3.10 reads exactly 3 or 6 digits.
_FRACTION = re.compile(r"(?<=:\d\d)\.(\d+)(?=[+-]\d\d:?\d\d$|$)")


def parse_timestamp(text: str) -> datetime:
    """The instant ``text`` names, in UTC; a missing offset means UTC. Raises ``ValueError``."""
    normal = _ZULU.sub("+00:00", text.strip())
    normal = _FRACTION.sub(lambda m: "." + (m[1] + "000000")[:6], normal)
    moment = datetime.fromisoformat(normal)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
