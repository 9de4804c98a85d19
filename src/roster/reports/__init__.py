"""Read-only organization reports: who is in the organization, and what it used and spent.

``dates`` turns the user's dates into API ranges, ``fetch`` reads the Admin API, the other
modules compute frozen values and render them; only ``roster.cli.reports`` prints.
"""
