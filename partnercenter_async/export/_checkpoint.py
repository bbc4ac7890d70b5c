"""The checkpoint of a file or directory export: its document, its journal of exported ids, and
the customers that failed for good.

The checkpoint (``orders.jsonl.checkpoint``; Parquet: ``_checkpoint.json``) is a small JSON
document replaced atomically; the journal (``...checkpoint-ids``; Parquet: ``_checkpoint-ids``)
holds one exported customer id per line as a JSON string, so that every id (U+2028, U+0085 and
other line separators of ``str.splitlines`` included) reads back exactly as written.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO

import msgspec

from partnercenter_async._files import replace_atomically
from partnercenter_async._models import OrderFilters

from ._errors import ExportError
from ._layout import Layout
from ._rows import ExportFormat
from ._sinks import Position

CHECKPOINT_VERSION = 2
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


class FinalFailure(msgspec.Struct, frozen=True, kw_only=True):
    """A customer that failed for good: retrying cannot help.

    Attributes:
        status: The HTTP status: 404 (no such customer) or 403 (no rights on it).
        message: The error's message.
        request_id: ``MS-RequestId`` of the failed request, for support.
    """

    status: int
    message: str
    request_id: str | None = None


def customer_key(customer_id: str) -> str:
    """The key that identifies a customer: a GUID in lower case (GUIDs ignore case), else as is."""
    return customer_id.lower() if _GUID.fullmatch(customer_id) else customer_id


class Checkpoint(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The checkpoint document (``version`` 2).

    Attributes:
        version: ``CHECKPOINT_VERSION``.
        format: The export's format.
        filters: The export's order filters (a resume must ask for the same).
        position: Where the complete data ends: a byte length (JSON Lines, CSV) or the parts
            written (Parquet).
        journal_bytes: The journal's length in bytes that this checkpoint counts.
        customers: Customers exported, over every run of the export.
        final: The customers that failed for good, by id.
    """

    version: int
    format: ExportFormat
    filters: OrderFilters
    position: Position
    journal_bytes: int = 0
    customers: int = 0
    final: dict[str, FinalFailure] = msgspec.field(default_factory=dict)


def read_checkpoint(layout: Layout) -> tuple[Checkpoint, set[str]]:
    """The checkpoint of ``layout`` and the keys (``customer_key``) of the ids its journal counts.

    Raises:
        ExportError: Unreadable, of another version, or a journal shorter than it says.
    """
    try:
        raw = layout.checkpoint.read_bytes()
        version = msgspec.json.decode(raw, type=dict[str, object]).get("version")
        if version != CHECKPOINT_VERSION:
            raise ExportError(
                f"it was written by another version of partnercenter-async (format {version})"
            )
        state = msgspec.json.decode(raw, type=Checkpoint)
        with layout.journal.open("rb") as journal:
            ids = journal.read(state.journal_bytes)
        if len(ids) < state.journal_bytes:
            raise ExportError(f"{layout.journal} is shorter than its checkpoint says")
        decode = msgspec.json.Decoder(str).decode
        done = {customer_key(decode(line)) for line in ids.split(b"\n") if line}
    except (OSError, msgspec.DecodeError, msgspec.ValidationError, ExportError) as err:
        raise ExportError(
            f"cannot resume from {layout.checkpoint}: {err}; delete it to start over"
        ) from err
    return state, done


def write_checkpoint(layout: Layout, state: Checkpoint) -> None:
    """Replace ``layout``'s checkpoint with ``state``, atomically (data and journal fsynced first,
    by the caller)."""
    replace_atomically(layout.checkpoint, msgspec.json.encode(state) + b"\n")


def journal_line(customer_id: str) -> bytes:
    """The journal's line of one exported customer: its id as a JSON string."""
    return msgspec.json.encode(customer_id) + b"\n"


def open_journal(path: Path, length: int) -> IO[bytes]:
    """The journal at ``path``, truncated to ``length`` bytes (what the checkpoint counts) and
    open for appending; created if missing."""
    out = path.open("r+b" if path.exists() else "w+b")
    out.truncate(length)
    out.seek(length)
    return out


def filter_flags(filters: OrderFilters) -> str:
    """The filters as the command line's flags, e.g. ``--billing-type monthly --include-price``."""
    flags = [
        f"--{name.replace('_', '-')}" + ("" if value is True else f" {value}")
        for name, value in msgspec.structs.asdict(filters).items()
        if value not in (None, False)
    ]
    return " ".join(flags) if flags else "no filters"
