"""Logging for the command line: text or JSON lines on stderr, with secrets redacted.

On a terminal with a live progress display, records are printed above it (``set_console``). At
debug level the client's transport logs one line per request attempt, with structured fields.

Every record that reaches the handler (this package's, azure-identity's, aiohttp's) is redacted
after formatting: bearer tokens, JWTs (every Entra ID access token is one), ``access_token``,
``refresh_token``, ``client_secret`` and ``client_assertion`` values, and any literal secret
registered with ``Redactor.add`` (the client secret, each refresh token).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec
from rich.console import Console

REDACTED = "[redacted]"
_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[\w\-.~+/]{16,}=*"),  # shorter: words, as in "bearer token"
    re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*"),
    re.compile(
        r"(?i)((?:access_token|refresh_token|id_token|client_secret|client_assertion)"
        r"[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,;}]+"
    ),
)
_MIN_SECRET = 6
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


class Redactor:
    """Replaces secrets in text with ``[redacted]``.

    Example:
        >>> redactor = Redactor()
        >>> redactor.add("s3cret-value")
        >>> redactor("client_secret=s3cret-value")
        'client_secret=[redacted]'
    """

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, secret: str | None) -> None:
        """Redact ``secret`` from now on (ignored when None or shorter than 6 characters)."""
        if secret and len(secret.strip()) >= _MIN_SECRET:
            self._secrets.add(secret.strip())

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: (m.group(1) if m.lastindex else "") + REDACTED, text)
        return text


class _TextFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record))


class _JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, exception, and any extras."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        redact = self._redact
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        for key, value in vars(record).items():  # extra={...} fields, e.g. the progress counters
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = redact(value) if isinstance(value, str) else value
        return msgspec.json.encode(entry, enc_hook=lambda value: redact(str(value))).decode()


_console: Console | None = None


def set_console(console: Console | None) -> None:
    """Print log records through ``console`` (above its live display), or to stderr when None."""
    global _console
    _console = console


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to stderr as it is at each record (tests swap it); above a live display if any."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        console = _console
        if console is None:
            super().emit(record)
            return
        try:
            console.print(self.format(record), markup=False, highlight=False, soft_wrap=True)
        except Exception:
            self.handleError(record)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--log-level`` and ``--log-format`` flags of a subcommand."""
    parser.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        default="info",
        help="debug: also one line per HTTP request",
    )
    parser.add_argument(
        "--log-format", choices=["text", "json"], default="text", help="json: one object per line"
    )


@contextlib.contextmanager
def configured(level: str, form: str, redact: Redactor) -> Iterator[None]:
    """Send every log record of ``level`` and above to stderr, as ``form``, while inside.

    Args:
        level: ``"debug"``, ``"info"``, ``"warning"`` or ``"error"``.
        form: ``"text"`` (time, level, message) or ``"json"`` (one object per line).
        redact: Applied to every formatted record.
    """
    handler = _Handler()
    handler.setFormatter(_JsonFormatter(redact) if form == "json" else _TextFormatter(redact))
    root = logging.getLogger()
    azure = logging.getLogger("azure")  # its HTTP logging is noisy below WARNING
    saved = root.level, azure.level
    numeric = logging.getLevelNamesMapping()[level.upper()]
    root.addHandler(handler)
    root.setLevel(numeric)
    azure.setLevel(max(numeric, logging.WARNING) if numeric > logging.DEBUG else numeric)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        azure.setLevel(saved[1])
