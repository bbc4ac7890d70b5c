"""The export's own errors (the client's are ``PartnerCenterError``)."""

from __future__ import annotations


class ExportError(Exception):
    """The output cannot be written or resumed as asked; the message says what to do."""


class OutputInUseError(ExportError):
    """Another export is writing the same output; the message names it."""
