"""Where an export's files live: a data file with its checkpoint files beside it, or a Parquet
directory with them inside; each layout opens its sink at a checkpointed position.

For ``orders.jsonl`` (likewise ``orders.csv``): ``orders.jsonl.checkpoint``,
``orders.jsonl.checkpoint-ids`` (the journal) and ``orders.jsonl.lock``, held by the run writing
it. Parquet: a directory of ``part-NNNNN.parquet`` files with ``_checkpoint.json``,
``_checkpoint-ids`` and ``_export.lock`` inside (names that dataset readers skip).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from ._errors import ExportError
from ._rows import BOM, ExportFormat, csv_header
from ._sinks import (
    PART_NAME,
    ParquetSink,
    PartsPosition,
    Position,
    Sink,
    StreamPosition,
    StreamSink,
)
from ._sinks import part as part_path

_SUFFIXES = {
    ".jsonl": ExportFormat.JSONL,
    ".ndjson": ExportFormat.JSONL,
    ".json": ExportFormat.JSONL,
    ".csv": ExportFormat.CSV,
    ".parquet": ExportFormat.PARQUET,
}


def format_of(name: str) -> ExportFormat | None:
    """The format a file name suggests by its extension (``.csv``: CSV, ...), or None."""
    return _SUFFIXES.get(Path(name).suffix.lower())


class Layout:
    """The paths of one output and how to open its sink.

    Attributes:
        format: The output format.
        data: The data file, or the directory of Parquet parts.
        checkpoint: The checkpoint (JSON).
        journal: The journal of exported customer ids.
        lock: The lock file held by the run writing the output.
    """

    def __init__(
        self, fmt: ExportFormat, data: Path, checkpoint: Path, journal: Path, lock: Path
    ) -> None:
        self.format, self.data = fmt, data
        self.checkpoint, self.journal, self.lock = checkpoint, journal, lock

    def empty_position(self) -> Position:
        """The position of an output with nothing in it yet."""
        raise NotImplementedError

    def open_sink(self, position: Position | None) -> Sink:
        """A sink writing after ``position`` (dropping anything beyond it), or afresh when None.

        Raises:
            ExportError: What ``position`` counts is missing.
            OSError: The data cannot be written.
        """
        raise NotImplementedError

    def has_data(self) -> bool:
        """Whether a previous export left data here."""
        raise NotImplementedError

    def discard_data(self) -> None:
        """Delete the data of a fresh run that could not start."""
        raise NotImplementedError


class FileLayout(Layout):
    """JSON Lines or CSV: ``orders.jsonl`` with ``orders.jsonl.checkpoint``, ``...-ids``,
    ``orders.jsonl.lock`` beside it."""

    def __init__(self, fmt: ExportFormat, data: Path) -> None:
        beside = data.with_name
        super().__init__(
            fmt,
            data,
            beside(data.name + ".checkpoint"),
            beside(data.name + ".checkpoint-ids"),
            beside(data.name + ".lock"),
        )

    def empty_position(self) -> Position:
        return StreamPosition(0)

    def open_sink(self, position: Position | None) -> Sink:
        if position is None:
            out: IO[bytes] = self.data.open("wb")
            header = BOM + csv_header() if self.format is ExportFormat.CSV else b""
            out.write(header)
            return StreamSink(out, self.format, len(header), durable=True)
        assert isinstance(position, StreamPosition)
        if not self.data.exists() or self.data.stat().st_size < position.data_bytes:
            raise ExportError(
                f"{self.data} is shorter than its checkpoint says ({position.data_bytes} bytes); "
                "it was changed since: delete its checkpoint and export again"
            )
        out = self.data.open("r+b")
        out.truncate(position.data_bytes)
        out.seek(position.data_bytes)
        return StreamSink(out, self.format, position.data_bytes, durable=True)

    def has_data(self) -> bool:
        return self.data.exists() and self.data.stat().st_size > 0

    def discard_data(self) -> None:
        self.data.unlink(missing_ok=True)


class DirectoryLayout(Layout):
    """Parquet: ``orders/part-NNNNN.parquet`` with ``_checkpoint.json``, ``_checkpoint-ids`` and
    ``_export.lock`` inside."""

    def __init__(self, data: Path) -> None:
        super().__init__(
            ExportFormat.PARQUET,
            data,
            data / "_checkpoint.json",
            data / "_checkpoint-ids",
            data / "_export.lock",
        )

    def empty_position(self) -> Position:
        return PartsPosition(0)

    def open_sink(self, position: Position | None) -> Sink:
        kept = 0
        if position is not None:
            assert isinstance(position, PartsPosition)
            kept = position.parts
        for index in range(kept):
            if not part_path(self.data, index).exists():
                missing = part_path(self.data, index)
                raise ExportError(f"{missing} is missing; delete the checkpoint")
        self.discard_data(keep=kept)
        return ParquetSink(self.data, kept)

    def has_data(self) -> bool:
        return any(PART_NAME.fullmatch(path.name) for path in self.data.iterdir())

    def discard_data(self, keep: int = 0) -> None:
        """Delete part files beyond the first ``keep`` ones, and half-written ones."""
        for path in self.data.iterdir():
            found = PART_NAME.fullmatch(path.name)
            if found and (found[2] or int(found[1]) >= keep):
                path.unlink()


def layout_of(out: Path, fmt: ExportFormat, *, force: bool) -> Layout:
    """The layout of ``out`` for ``fmt``, its directory created.

    Args:
        out: A file; a directory (that exists, or ends in ``/``) gets ``orders.<format>``;
            Parquet: always a directory.
        fmt: The output format.
        force: Accept a file name whose extension names another format.

    Raises:
        ExportError: Parquet into a file; a format the extension contradicts (without
            ``force``); a directory that cannot be created.
    """
    if fmt is ExportFormat.PARQUET:
        if out.exists() and not out.is_dir():
            raise ExportError(f"Parquet output is a directory of part files; {out} is a file")
        layout: Layout = DirectoryLayout(out)
        directory = out
    else:
        if out.is_dir() or str(out).endswith(("/", os.sep)):
            out = out / f"orders.{fmt.value}"
        layout = FileLayout(fmt, out)
        directory = out.parent
    suggested = format_of(out.name)
    if suggested is not None and suggested is not fmt and not force:
        raise ExportError(
            f"{out} names a {suggested.value} file but the format is {fmt.value}: add "
            f"--format {suggested.value}, choose another --out, or add --force"
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ExportError(f"cannot write {out}: {err}") from err
    return layout
