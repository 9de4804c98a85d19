"""An emulator of the Anthropic Admin API: a Starlette app over an in-memory organization.

roster's tests, benchmarks and ``--sandbox`` mode talk to it instead of the real API. The
business rules live in ``store``; HTTP in ``app``; faults, latency and rate limits in ``control``.
"""
