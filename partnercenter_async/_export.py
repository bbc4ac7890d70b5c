"""The bulk export behind ``partnercenter-async export``: output formats, checkpoints and resume.

Files, for ``--out orders.jsonl`` (likewise ``orders.csv``):

- ``orders.jsonl``: the data, appended one customer at a time;
- ``orders.jsonl.checkpoint``: a small JSON document, replaced atomically (temporary file, fsync,
  rename), recording the options, how many bytes of the data and of the journal are complete;
- ``orders.jsonl.checkpoint-ids``: the journal, one exported customer id per line.

Parquet output is a directory: ``part-00000.parquet``, ``part-00001.parquet``, ... each a complete
Parquet file (written as a hidden ``.part-NNNNN.parquet.tmp``, renamed when closed), plus
``_checkpoint.json`` and ``_checkpoint-ids`` (names that dataset readers skip). Its checkpoint
counts the finished parts.

A checkpoint is written only after the data and the journal it counts are flushed and fsynced,
so whatever kills the process, the last checkpoint describes complete data. Resuming truncates
the data and the journal to the checkpointed lengths (dropping a half-written tail and customers
written after the checkpoint; Parquet: deleting parts after the last counted one) and skips the
customers in the journal. When every customer is exported the checkpoint files are deleted;
while any has failed they stay, so that ``--resume`` retries just those.
"""

from __future__ import annotations

import csv
import enum
import io
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

import msgspec

from ._client import CustomerOrders, PartnerCenterClient
from ._errors import PartnerCenterError
from ._models import Order, OrderFilters

__all__ = [
    "COLUMNS",
    "ExportError",
    "ExportSummary",
    "Format",
    "Output",
    "plan_output",
    "replace_atomically",
    "run_export",
]

logger = logging.getLogger("partnercenter_async.export")

CHECKPOINT_VERSION = 1
CHECKPOINT_SECONDS = 2.0
"""JSON Lines and CSV: a checkpoint at least this often (seconds) while customers complete..."""
CHECKPOINT_CUSTOMERS = 200
"""...and after at most this many customers."""
PARQUET_PART_SECONDS = 300.0
"""Parquet: a part file (and a checkpoint) at least this often, in seconds..."""
PARQUET_PART_CUSTOMERS = 50_000
"""...and after at most this many customers."""
PARQUET_ROW_GROUP_ROWS = 20_000
"""Rows buffered in memory before they are written out as one Parquet row group."""


class Format(enum.StrEnum):
    """An output format of the export."""

    JSONL = "jsonl"
    CSV = "csv"
    PARQUET = "parquet"


class ExportError(Exception):
    """The output cannot be written or resumed as asked; the message says what to do."""


# The flat view of CSV and Parquet: one row per line item (an order without line items gets one
# row with the line-item columns empty), the order's columns repeated. Name, Parquet type.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("customer_id", "string"),
    ("order_id", "string"),
    ("alternate_id", "string"),
    ("reference_customer_id", "string"),
    ("billing_cycle", "string"),
    ("currency_code", "string"),
    ("currency_symbol", "string"),
    ("creation_date", "timestamp[us, UTC]"),
    ("status", "string"),
    ("transaction_type", "string"),
    ("total_price", "double"),
    ("line_item_number", "int64"),
    ("offer_id", "string"),
    ("subscription_id", "string"),
    ("parent_subscription_id", "string"),
    ("friendly_name", "string"),
    ("quantity", "int64"),
    ("term_duration", "string"),
    ("line_item_transaction_type", "string"),
    ("partner_id_on_record", "string"),
    ("promotion_id", "string"),
    ("renews_to_term_duration", "string"),
    ("list_price", "double"),
    ("discounted_price", "double"),
    ("prorated_price", "double"),
    ("price", "double"),
    ("extended_price", "double"),
)
_LINE_ITEM_COLUMNS = 16

Row = tuple[Any, ...]


def order_rows(customer_id: str, order: Order) -> Iterator[Row]:
    """The rows of one order, with values in the order of ``COLUMNS`` (None when absent)."""
    head = (
        customer_id,
        order.id,
        order.alternate_id,
        order.reference_customer_id,
        order.billing_cycle,
        order.currency_code,
        order.currency_symbol,
        order.creation_date,
        order.status,
        order.transaction_type,
        order.total_price,
    )
    if not order.line_items:
        yield head + (None,) * _LINE_ITEM_COLUMNS
    for item in order.line_items:
        pricing = item.pricing
        yield (
            *head,
            item.line_item_number,
            item.offer_id,
            item.subscription_id,
            item.parent_subscription_id,
            item.friendly_name,
            item.quantity,
            item.term_duration,
            item.transaction_type,
            item.partner_id_on_record,
            item.promotion_id,
            item.renews_to.term_duration if item.renews_to else None,
            pricing.list_price if pricing else None,
            pricing.discounted_price if pricing else None,
            pricing.prorated_price if pricing else None,
            pricing.price if pricing else None,
            pricing.extended_price if pricing else None,
        )


def csv_text(value: Any) -> str:
    """A value as CSV text: empty for None, ``2018-03-15T02:17:15.645567Z`` for a timestamp."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- sinks: where the records go ------------------------------------------------------------------


class _Sink(Protocol):
    commit_seconds: float
    commit_customers: int

    def write(self, result: CustomerOrders) -> None: ...

    def commit(self) -> dict[str, int]:
        """Make every record written so far durable; return the position to checkpoint."""
        ...

    def close(self) -> dict[str, int]:
        """Commit, then release the file; return the final position."""
        ...


class _StreamSink:
    """JSON Lines or CSV, appended to a binary file; counts the bytes of complete records."""

    commit_seconds = CHECKPOINT_SECONDS
    commit_customers = CHECKPOINT_CUSTOMERS

    def __init__(self, out: IO[bytes], fmt: Format, position: int, *, durable: bool) -> None:
        self._out = out
        self._render = _jsonl_records if fmt is Format.JSONL else _csv_records
        self._position = position
        self._durable = durable

    def write(self, result: CustomerOrders) -> None:
        chunk = self._render(result)
        self._out.write(chunk)
        self._position += len(chunk)  # only once the whole customer is written

    def commit(self) -> dict[str, int]:
        self._out.flush()
        if self._durable:
            os.fsync(self._out.fileno())
        return {"data_bytes": self._position}

    def close(self) -> dict[str, int]:
        position = self.commit()
        if self._durable:
            self._out.close()
        return position


def _jsonl_records(result: CustomerOrders) -> bytes:
    """``{"customerId": ..., "order": <the order as sent>}`` per order, one per line."""
    prefix = b'{"customerId":' + msgspec.json.encode(result.customer_id) + b',"order":'
    return b"".join(
        prefix + (msgspec.json.format(raw, indent=0) if b"\n" in raw else raw) + b"}\n"
        for raw in result.raw_orders
    )


def _csv_records(result: CustomerOrders) -> bytes:
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")  # RFC 4180: CRLF, minimal quoting
    for order in result.orders:
        writer.writerows(map(csv_text, row) for row in order_rows(result.customer_id, order))
    return text.getvalue().encode()


_BOM = "\ufeff".encode()
"""Starts a CSV file so that spreadsheets read it as UTF-8 (not on stdout)."""


def _csv_header() -> bytes:
    text = io.StringIO(newline="")
    csv.writer(text, lineterminator="\r\n").writerow(name for name, _ in COLUMNS)
    return text.getvalue().encode()


class _ParquetSink:
    """Parquet part files in a directory: row groups of ``PARQUET_ROW_GROUP_ROWS`` rows, one part
    per commit."""

    commit_seconds = PARQUET_PART_SECONDS
    commit_customers = PARQUET_PART_CUSTOMERS

    def __init__(self, directory: Path, parts: int) -> None:
        import pyarrow as pa  # type: ignore[import-untyped]  # an optional extra
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        self._pa, self._pq = pa, pq
        self._schema = parquet_schema()
        self._directory = directory
        self._parts = parts
        self._rows: list[Row] = []
        self._writer: Any = None

    def write(self, result: CustomerOrders) -> None:
        for order in result.orders:
            self._rows.extend(order_rows(result.customer_id, order))
        if len(self._rows) >= PARQUET_ROW_GROUP_ROWS:
            self._write_group()

    def _write_group(self) -> None:
        if self._writer is None:
            self._writer = self._pq.ParquetWriter(
                _part_tmp(self._directory, self._parts), self._schema
            )
        columns = list(zip(*self._rows, strict=True)) if self._rows else [()] * len(COLUMNS)
        self._writer.write_table(
            self._pa.Table.from_arrays(
                [
                    self._pa.array(c, type=f.type)
                    for c, f in zip(columns, self._schema, strict=True)
                ],
                schema=self._schema,
            )
        )
        self._rows.clear()

    def commit(self) -> dict[str, int]:
        if self._rows:
            self._write_group()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            tmp = _part_tmp(self._directory, self._parts)
            _fsync_file(tmp)
            os.replace(tmp, _part(self._directory, self._parts))
            _fsync_directory(self._directory)
            self._parts += 1
        return {"parts": self._parts}

    def close(self) -> dict[str, int]:
        if self._parts == 0 and not self._rows and self._writer is None:
            self._write_group()  # an empty part, so that readers still find the schema
        return self.commit()


def parquet_schema() -> Any:
    """The fixed ``pyarrow.Schema`` of the Parquet output (``COLUMNS`` with their types).

    Raises:
        ImportError: pyarrow is not installed.
    """
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "double": pa.float64(),
        "int64": pa.int64(),
        "timestamp[us, UTC]": pa.timestamp("us", tz="UTC"),
    }
    return pa.schema([pa.field(name, types[kind]) for name, kind in COLUMNS])


_PART_NAME = re.compile(r"\.?part-(\d{5})\.parquet(\.tmp)?")


def _part(directory: Path, index: int) -> Path:
    return directory / f"part-{index:05d}.parquet"


def _part_tmp(directory: Path, index: int) -> Path:
    return directory / f".part-{index:05d}.parquet.tmp"


# -- the output: layout, checkpoint, resume ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Layout:
    data: Path  # the data file, or the directory of Parquet parts
    checkpoint: Path
    journal: Path


def _layout(name: str, fmt: Format) -> _Layout:
    out = Path(name)
    if fmt is Format.PARQUET:
        if out.exists() and not out.is_dir():
            raise ExportError(f"Parquet output is a directory of part files; {out} is a file")
        return _Layout(out, out / "_checkpoint.json", out / "_checkpoint-ids")
    if out.is_dir() or name.endswith(("/", os.sep)):
        out = out / f"orders.{fmt.value}"
    return _Layout(
        out,
        out.with_name(out.name + ".checkpoint"),
        out.with_name(out.name + ".checkpoint-ids"),
    )


class _CheckpointFile(msgspec.Struct, kw_only=True, omit_defaults=True):
    version: int
    format: str
    filters: dict[str, Any]
    data_bytes: int = 0
    parts: int = 0
    journal_bytes: int = 0
    customers: int = 0


class Output:
    """Where an export writes: a file or directory with its checkpoint, or stdout.

    Built by ``plan_output``, which reads but changes nothing; ``open`` creates or truncates.

    Attributes:
        format: The output format.
        filters: The listing filters (keyword arguments of ``stream_orders``).
        path: The data file or Parquet directory (None for stdout).
        done: Ids of the customers exported by the run being resumed (empty otherwise).
        resumed: True when continuing from a checkpoint.
    """

    def __init__(
        self,
        fmt: Format,
        filters: dict[str, Any],
        layout: _Layout | None,
        state: _CheckpointFile | None,
        done: set[str],
    ) -> None:
        self.format = fmt
        self.path = layout.data if layout else None
        self.done = done
        self.resumed = state is not None
        self.filters = filters
        self._layout = layout
        self._state = state
        self._sink: _Sink | None = None
        self._journal: IO[bytes] | None = None
        self._journal_bytes = state.journal_bytes if state else 0
        self._exported = state.customers if state else 0
        self._last_commit = time.monotonic()
        self._since_commit = 0

    def open(self) -> None:
        """Create (or truncate, when resuming) the files and write the first checkpoint.

        Raises:
            ExportError: A file cannot be opened, or what the checkpoint counts is missing.
        """
        layout, state = self._layout, self._state
        if layout is None:
            self._sink = _StreamSink(sys.stdout.buffer, self.format, 0, durable=False)
            if self.format is Format.CSV:
                sys.stdout.buffer.write(_csv_header())
            return
        try:
            if self.format is Format.PARQUET:
                layout.data.mkdir(parents=True, exist_ok=True)
                self._sink = _ParquetSink(layout.data, _reset_parts(layout.data, state))
            else:
                layout.data.parent.mkdir(parents=True, exist_ok=True)
                self._sink = _open_stream(layout.data, self.format, state)
            self._journal = _open_truncated(layout.journal, self._journal_bytes)
        except OSError as err:
            raise ExportError(f"cannot write {layout.data}: {err}") from err
        self._save()

    def write(self, result: CustomerOrders) -> None:
        """Append one customer's orders (a successful result); checkpoint when one is due."""
        assert self._sink is not None, "open() first"
        self._sink.write(result)
        if self._journal is not None:
            line = result.customer_id.encode() + b"\n"
            self._journal.write(line)
            self._journal_bytes += len(line)
        self._exported += 1
        self._since_commit += 1
        if (
            self._since_commit >= self._sink.commit_customers
            or time.monotonic() - self._last_commit >= self._sink.commit_seconds
        ):
            self.checkpoint()

    def checkpoint(self) -> None:
        """Make everything written durable, then record it in the checkpoint."""
        if self._sink is None:
            return
        position = self._sink.commit()
        if self._journal is not None:
            self._journal.flush()
            os.fsync(self._journal.fileno())
            self._save(position)
            logger.debug("checkpoint: %d customers exported, %s", self._exported, position)
        self._last_commit = time.monotonic()
        self._since_commit = 0

    def close(self, *, complete: bool) -> None:
        """Finish the data; delete the checkpoint when ``complete``, else write a final one.

        Args:
            complete: Every customer was exported: none failed and none is left.
        """
        sink, self._sink = self._sink, None
        if sink is None:
            return
        position = sink.close()
        journal, self._journal = self._journal, None
        if journal is None or self._layout is None:  # stdout
            return
        journal.flush()
        os.fsync(journal.fileno())
        journal.close()
        if complete:
            self._layout.checkpoint.unlink(missing_ok=True)  # first: it is what marks unfinished
            self._layout.journal.unlink(missing_ok=True)
        else:
            self._save(position)

    def _save(self, position: dict[str, int] | None = None) -> None:
        assert self._layout is not None
        state = _CheckpointFile(
            version=CHECKPOINT_VERSION,
            format=self.format.value,
            filters=self.filters,
            journal_bytes=self._journal_bytes,
            customers=self._exported,
            **(position or self._sink_position()),
        )
        replace_atomically(self._layout.checkpoint, msgspec.json.encode(state) + b"\n")

    def _sink_position(self) -> dict[str, int]:
        state = self._state
        if self.format is Format.PARQUET:
            return {"parts": state.parts if state else 0}
        return {"data_bytes": state.data_bytes if state else 0}


def plan_output(out: str, fmt: Format, filters: dict[str, Any], *, resume: bool) -> Output:
    """Check what ``--out``, ``--format`` and ``--resume`` ask for, reading but changing nothing.

    Args:
        out: A file, a directory (ends in ``/`` or exists; Parquet: always), or ``-`` for stdout.
        fmt: The output format.
        filters: The listing filters, recorded in the checkpoint; a resumed run must match.
        resume: Continue from the checkpoint, if there is one (else start afresh).

    Returns:
        The ``Output``, with ``done`` holding the ids a resumed run skips.

    Raises:
        ExportError: stdout with Parquet or ``--resume``; a checkpoint left by an unfinished
            export without ``--resume``; a checkpoint that is unreadable or made with another
            format or other filters.
    """
    if out == "-":
        if fmt is Format.PARQUET:
            raise ExportError("Parquet cannot go to stdout; give --out a directory")
        if resume:
            raise ExportError("--resume needs a file to continue; stdout cannot be resumed")
        return Output(fmt, filters, None, None, set())
    layout = _layout(out, fmt)
    if not layout.checkpoint.exists():
        return Output(fmt, filters, layout, None, set())
    if not resume:
        raise ExportError(
            f"{layout.data} holds an unfinished export (checkpoint {layout.checkpoint}): add "
            "--resume to continue it, or delete the checkpoint to start over"
        )
    try:
        state = msgspec.json.decode(layout.checkpoint.read_bytes(), type=_CheckpointFile)
        with layout.journal.open("rb") as journal:
            ids = journal.read(state.journal_bytes)
        if len(ids) < state.journal_bytes:
            raise ExportError(f"{layout.journal} is shorter than its checkpoint says")
        done = set(ids.decode().splitlines())
    except (OSError, msgspec.DecodeError, UnicodeDecodeError, ExportError) as err:
        raise ExportError(
            f"cannot resume from {layout.checkpoint}: {err}; delete it to start over"
        ) from err
    if state.version != CHECKPOINT_VERSION or state.format != fmt.value:
        raise ExportError(
            f"the export in {layout.data} was made as {state.format}; resume it with "
            f"--format {state.format}"
        )
    if state.filters != filters:
        raise ExportError(
            f"the export in {layout.data} was made with other filters ({state.filters}); "
            "resume it with the same ones"
        )
    return Output(fmt, filters, layout, state, done)


def _open_stream(path: Path, fmt: Format, state: _CheckpointFile | None) -> _StreamSink:
    if state is None:
        out: IO[bytes] = path.open("wb")
        header = _BOM + _csv_header() if fmt is Format.CSV else b""
        out.write(header)
        return _StreamSink(out, fmt, len(header), durable=True)
    if not path.exists() or path.stat().st_size < state.data_bytes:
        raise ExportError(
            f"{path} is shorter than its checkpoint says ({state.data_bytes} bytes); it was "
            "changed since: delete its checkpoint and export again"
        )
    out = _open_truncated(path, state.data_bytes)
    return _StreamSink(out, fmt, state.data_bytes, durable=True)


def _open_truncated(path: Path, length: int) -> IO[bytes]:
    """Open ``path`` for appending after truncating it to ``length`` bytes (creating it)."""
    out = path.open("r+b" if path.exists() else "w+b")
    out.truncate(length)
    out.seek(length)
    return out


def _reset_parts(directory: Path, state: _CheckpointFile | None) -> int:
    """Delete part files a checkpoint does not count (all of them on a fresh run)."""
    kept = state.parts if state else 0
    for index in range(kept):
        if not _part(directory, index).exists():
            raise ExportError(f"{_part(directory, index)} is missing; delete the checkpoint")
    for path in directory.iterdir():
        found = _PART_NAME.fullmatch(path.name)
        if found and (found[2] or int(found[1]) >= kept):
            path.unlink()
    return kept


def replace_atomically(path: Path, data: bytes, *, mode: int = 0o666) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old or the new content, never half.

    Writes a temporary file beside it, fsyncs it, renames it over ``path``, fsyncs the directory.

    Args:
        path: The file to replace.
        data: Its new content.
        mode: Permissions of a new file (before the umask), e.g. ``0o600`` for a secret.
    """
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    _fsync_directory(path.parent)


def _fsync_file(path: Path) -> None:
    with path.open("rb") as file:
        os.fsync(file.fileno())


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # Windows cannot open a directory; its renames are durable enough
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- the run -------------------------------------------------------------------------------------


@dataclass(slots=True)
class ExportSummary:
    """What one run did.

    Attributes:
        customers: Customers exported by this run.
        orders: Orders written by this run.
        failed: Customers that failed, with their errors.
        skipped: Customers skipped because a resumed run had exported them already.
    """

    customers: int = 0
    orders: int = 0
    failed: dict[str, PartnerCenterError] = field(default_factory=dict)
    skipped: int = 0


async def run_export(
    client: PartnerCenterClient,
    customer_ids: list[str],
    output: Output,
    *,
    on_result: Callable[[CustomerOrders, ExportSummary], None] = lambda result, summary: None,
) -> ExportSummary:
    """Export the orders of ``customer_ids`` not in ``output.done`` into an opened ``output``.

    Writes each customer's orders as the result arrives and checkpoints as it goes; whatever
    ends the run (an error, cancellation), a last checkpoint records what was written.

    Args:
        client: The client to fetch with.
        customer_ids: Every customer of the export, done ones included.
        output: An opened ``Output``; its ``filters`` go to ``stream_orders``.
        on_result: Called after each customer, for progress.

    Returns:
        The summary; ``failed`` maps failed customers to their errors.

    Raises:
        AuthenticationError: No token, or the service refuses it: the run stops.
        OSError: The output cannot be written.
    """
    summary = ExportSummary()
    todo = [c for c in customer_ids if c not in output.done]
    summary.skipped = len(customer_ids) - len(todo)
    # Close the stream (cancelling its workers) whatever happens.
    raw_orders = output.format is Format.JSONL  # JSON Lines writes each order as it was sent
    stream = client.stream_orders(
        todo, raw_orders=raw_orders, filters=msgspec.convert(output.filters, OrderFilters)
    )
    try:
        async for result in stream:
            if result.error is not None:
                summary.failed[result.customer_id] = result.error
            else:
                output.write(result)
                summary.customers += 1
                summary.orders += len(result.orders)
            on_result(result, summary)
    finally:
        await stream.aclose()
        output.checkpoint()
    return summary
