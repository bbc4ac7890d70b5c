"""Traces and metrics of the client's work (no-op for now; OpenTelemetry comes in issue 13).

The transport opens one ``RequestTrace`` per logical request and reports each attempt, wait,
status and retry to it; the fan-out wraps each customer, and each whole operation, in a scope.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping


class RequestTrace:
    """What happened to one logical request (retries included)."""

    __slots__ = ()

    def attempt(self, number: int) -> None:
        """Attempt ``number`` (1-based) is about to be sent."""

    def waited(self, what: str, seconds: float) -> None:
        """The request waited ``seconds`` on ``what``: ``"throttle_hold"`` or ``"rate_limiter"``."""

    def response(self, status: int) -> None:
        """An attempt was answered with ``status``."""

    def retrying(self, reason: str, delay: float) -> None:
        """The request will be sent again in ``delay`` seconds because of ``reason``."""

    def failed(self, error: BaseException) -> None:
        """The logical request ends in ``error``."""


_NO_TRACE = RequestTrace()


class Telemetry:
    """The client's instruments, built once per client.

    Args:
        server_address: The API host.
        server_port: The API port, or None for the scheme's default.
        rate: The allowed rate now, in requests per minute.
        in_flight: The requests in flight now.
    """

    __slots__ = ()

    def __init__(
        self,
        *,
        server_address: str,
        server_port: int | None,
        rate: Callable[[], float],
        in_flight: Callable[[], int],
    ) -> None:
        pass

    @contextlib.contextmanager
    def request(
        self,
        method: str,
        route: str,
        url: str,
        *,
        request_id: str,
        correlation_id: str,
        customer_id: str | None,
    ) -> Iterator[RequestTrace]:
        """One logical request to ``route`` (a template such as ``/customers/{customer_id}``)."""
        yield _NO_TRACE

    @contextlib.contextmanager
    def customer(self, customer_id: str) -> Iterator[None]:
        """The work on one customer of a fan-out."""
        yield

    @contextlib.contextmanager
    def operation(self, name: str, attributes: Mapping[str, str | int]) -> Iterator[None]:
        """A whole operation: a fan-out, an export, a sync."""
        yield
