"""roster: manage an Anthropic (Claude) organization as code through the Admin API."""

__version__ = "0.1.0"
