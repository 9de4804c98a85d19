"""The Admin API client: ``AdminClient`` over the client ``make_http_client`` builds."""

from roster.api.client import AdminClient
from roster.api.http import API_VERSION, DEFAULT_BASE_URL, RetryPolicy, make_http_client

__all__ = ["API_VERSION", "DEFAULT_BASE_URL", "AdminClient", "RetryPolicy", "make_http_client"]
