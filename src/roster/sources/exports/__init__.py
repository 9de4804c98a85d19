"""Directory sources read from files: group membership that an identity provider without API
access exports as a CSV, as Microsoft Graph member pages, or as Google Directory member pages.
"""

from __future__ import annotations

from roster.sources.exports.csv import read_csv
from roster.sources.exports.google import read_google
from roster.sources.exports.graph import read_graph

__all__ = ["read_csv", "read_google", "read_graph"]
