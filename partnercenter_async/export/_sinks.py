"""Sinks: where the records go, and the typed position a checkpoint records for each kind.

A JSON Lines or CSV sink appends to one binary file and counts the bytes of complete customers
(``StreamPosition``); a Parquet sink writes part files in a directory and counts the finished
ones (``PartsPosition``). ``commit`` makes everything written durable and returns the position.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import IO, Any, Protocol

import msgspec

from partnercenter_async._client import CustomerOrders
from partnercenter_async._files import fsync_directory, fsync_file

from ._rows import COLUMNS, ExportFormat, Row, csv_records, jsonl_records, order_rows

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


class StreamPosition(msgspec.Struct, frozen=True, tag="stream"):
    """How much of a JSON Lines or CSV file is complete.

    Attributes:
        data_bytes: Bytes of the file holding complete customers (header included).
    """

    data_bytes: int


class PartsPosition(msgspec.Struct, frozen=True, tag="parts"):
    """How many Parquet part files are complete.

    Attributes:
        parts: Finished parts, ``part-00000.parquet`` to ``part-{parts - 1:05d}.parquet``.
    """

    parts: int


Position = StreamPosition | PartsPosition


class Sink(Protocol):
    """Takes each successful customer's orders; commits them durably on request."""

    @property
    def commit_seconds(self) -> float:
        """Commit at least this often (seconds)..."""
        ...

    @property
    def commit_customers(self) -> int:
        """...and after at most this many customers."""
        ...

    def write(self, result: CustomerOrders) -> None:
        """Write one customer's orders (all or, when it raises, none counted)."""
        ...

    def commit(self) -> Position:
        """Make every record written so far durable; return the position to checkpoint."""
        ...

    def close(self) -> Position:
        """Commit, then release the file; return the final position."""
        ...


class StreamSink:
    """JSON Lines or CSV, appended to a binary file; counts the bytes of complete customers.

    Args:
        out: The file, positioned at its end.
        fmt: ``JSONL`` or ``CSV``.
        position: Bytes already complete in ``out``.
        durable: fsync on commit and close the file at the end (False for stdout).
    """

    commit_seconds = CHECKPOINT_SECONDS
    commit_customers = CHECKPOINT_CUSTOMERS

    def __init__(self, out: IO[bytes], fmt: ExportFormat, position: int, *, durable: bool) -> None:
        self._out = out
        self._render = jsonl_records if fmt is ExportFormat.JSONL else csv_records
        self._position = position
        self._durable = durable

    def write(self, result: CustomerOrders) -> None:
        chunk = self._render(result)
        self._out.write(chunk)
        self._position += len(chunk)  # only once the whole customer is written

    def commit(self) -> StreamPosition:
        self._out.flush()
        if self._durable:
            os.fsync(self._out.fileno())
        return StreamPosition(self._position)

    def close(self) -> StreamPosition:
        try:
            return self.commit()
        finally:
            if self._durable:
                self._out.close()


class ParquetSink:
    """Parquet part files in a directory: row groups of ``PARQUET_ROW_GROUP_ROWS`` rows, one part
    per commit, each written as a hidden ``.part-NNNNN.parquet.tmp`` and renamed when complete.

    Args:
        directory: The output directory.
        parts: Parts already complete in it.

    Raises:
        ImportError: pyarrow is not installed.
    """

    commit_seconds = PARQUET_PART_SECONDS
    commit_customers = PARQUET_PART_CUSTOMERS

    def __init__(self, directory: Path, parts: int) -> None:
        import pyarrow as pa  # type: ignore[import-untyped]  # an optional extra
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        from ._rows import parquet_schema

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
                part_tmp(self._directory, self._parts), self._schema
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

    def commit(self) -> PartsPosition:
        if self._rows:
            self._write_group()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            tmp = part_tmp(self._directory, self._parts)
            fsync_file(tmp)
            os.replace(tmp, part(self._directory, self._parts))
            fsync_directory(self._directory)
            self._parts += 1
        return PartsPosition(self._parts)

    def close(self) -> PartsPosition:
        if self._parts == 0 and not self._rows and self._writer is None:
            self._write_group()  # an empty part, so that readers still find the schema
        return self.commit()


PART_NAME = re.compile(r"\.?part-(\d{5})\.parquet(\.tmp)?")
"""A part file's name (group 1: its index; group 2: ``.tmp`` while it is being written)."""


def part(directory: Path, index: int) -> Path:
    """The path of complete part ``index``."""
    return directory / f"part-{index:05d}.parquet"


def part_tmp(directory: Path, index: int) -> Path:
    """The path of part ``index`` while it is being written."""
    return directory / f".part-{index:05d}.parquet.tmp"
