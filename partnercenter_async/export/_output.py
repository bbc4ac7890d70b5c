"""The output of an export: stdout, or a file or directory kept with a checkpoint, a journal and a
lock (``_checkpoint`` and ``_layout`` say what each file holds and where it lives);
``plan_output`` checks what is asked before any customer is fetched.

A checkpoint is written only after the data and the journal it counts are fsynced, so whatever
kills the process, the last checkpoint describes complete data. Resuming truncates the data and
the journal to the checkpointed lengths and skips the customers in the journal and, unless asked
to retry them, those recorded as failed for good.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from pathlib import Path
from typing import IO, Protocol

from partnercenter_async._client import CustomerOrders
from partnercenter_async._files import FileLock, LockedError
from partnercenter_async._models import OrderFilters

from ._checkpoint import (
    CHECKPOINT_VERSION,
    Checkpoint,
    FinalFailure,
    filter_flags,
    journal_line,
    open_journal,
    read_checkpoint,
    write_checkpoint,
)
from ._errors import ExportError, OutputInUseError
from ._layout import Layout, layout_of
from ._rows import ExportFormat, csv_header
from ._sinks import Position, Sink, StreamSink

logger = logging.getLogger("partnercenter_async.export")


class Output(Protocol):
    """Where an export writes. Built by ``plan_output``; ``open`` creates or truncates.

    Attributes:
        format: The output format.
        filters: The listing filters (a resumed run's are those of its checkpoint).
        path: The data file or Parquet directory; None for stdout.
        done: Keys (``customer_key``) of the customers a resumed run exported already.
        final: Customers a resumed run recorded as failed for good, by id.
        resumed: True when continuing from a checkpoint.
    """

    format: ExportFormat
    filters: OrderFilters
    path: Path | None
    done: set[str]
    final: dict[str, FinalFailure]
    resumed: bool

    def open(self) -> None:
        """Create the files (truncate them to the checkpoint when resuming)."""
        ...

    def write(self, result: CustomerOrders) -> None:
        """Append one customer's orders; checkpoint when one is due."""
        ...

    def record_final(self, customer_id: str, failure: FinalFailure) -> None:
        """Remember a customer that failed for good (saved with the next checkpoint)."""
        ...

    def checkpoint(self) -> None:
        """Make everything written durable, then record it."""
        ...

    def close(self, *, complete: bool) -> None:
        """Finish the data; remove the checkpoint when ``complete``, else save a last one."""
        ...

    def release(self) -> None:
        """Release the output's lock (safe to call twice)."""
        ...


class StdoutOutput:
    """JSON Lines or CSV (no BOM) on stdout: no checkpoint, no lock, no resume."""

    path: Path | None = None
    resumed = False

    def __init__(self, fmt: ExportFormat, filters: OrderFilters) -> None:
        self.format, self.filters = fmt, filters
        self.done: set[str] = set()
        self.final: dict[str, FinalFailure] = {}
        self._sink: StreamSink | None = None

    def open(self) -> None:
        out = sys.stdout.buffer
        if self.format is ExportFormat.CSV:
            out.write(csv_header())
        self._sink = StreamSink(out, self.format, 0, durable=False)

    def write(self, result: CustomerOrders) -> None:
        assert self._sink is not None, "open() first"
        self._sink.write(result)

    def record_final(self, customer_id: str, failure: FinalFailure) -> None:
        self.final[customer_id] = failure

    def checkpoint(self) -> None:
        if self._sink is not None:
            self._sink.commit()

    def close(self, *, complete: bool) -> None:
        sink, self._sink = self._sink, None
        if sink is not None:
            sink.close()

    def release(self) -> None:
        pass


class CheckpointedOutput:
    """A file or Parquet directory, checkpointed as it is written and locked while in use."""

    def __init__(
        self,
        layout: Layout,
        filters: OrderFilters,
        lock: FileLock,
        state: Checkpoint | None,
        done: set[str],
    ) -> None:
        self.format = layout.format
        self.filters = filters
        self.path: Path | None = layout.data
        self.done = done
        self.final: dict[str, FinalFailure] = dict(state.final) if state else {}
        self.resumed = state is not None
        self._layout = layout
        self._lock = lock
        self._position: Position = state.position if state else layout.empty_position()
        self._sink: Sink | None = None
        self._journal: IO[bytes] | None = None
        self._journal_bytes = state.journal_bytes if state else 0
        self._exported = state.customers if state else 0
        self._last_commit = time.monotonic()
        self._since_commit = 0

    def open(self) -> None:
        """Create (or truncate, when resuming) the files and write the first checkpoint.

        Raises:
            ExportError: What the checkpoint counts is missing or shorter.
            OSError: A file cannot be written (e.g. the disk is full); on a fresh run nothing is
                left behind, on a resumed one the checkpoint still holds.
        """
        layout = self._layout
        try:
            self._sink = layout.open_sink(self._position if self.resumed else None)
            self._journal = open_journal(layout.journal, self._journal_bytes)
            self._save()
        except BaseException:
            self._abandon()
            raise

    def _abandon(self) -> None:
        """After a failed ``open``: close what was opened; on a fresh run, delete it too."""
        sink, self._sink = self._sink, None
        journal, self._journal = self._journal, None
        for closing in (sink, journal):
            with contextlib.suppress(Exception):
                if closing is not None:
                    closing.close()
        if not self.resumed:
            for path in (self._layout.checkpoint, self._layout.journal):
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                self._layout.discard_data()

    def write(self, result: CustomerOrders) -> None:
        assert self._sink is not None and self._journal is not None, "open() first"
        self._sink.write(result)
        line = journal_line(result.customer_id)
        self._journal.write(line)
        self._journal_bytes += len(line)
        self._exported += 1
        self._since_commit += 1
        if (
            self._since_commit >= self._sink.commit_customers
            or time.monotonic() - self._last_commit >= self._sink.commit_seconds
        ):
            self.checkpoint()

    def record_final(self, customer_id: str, failure: FinalFailure) -> None:
        self.final[customer_id] = failure

    def checkpoint(self) -> None:
        if self._sink is None or self._journal is None:
            return
        self._position = self._sink.commit()
        self._journal.flush()
        _fsync(self._journal)
        self._save()
        logger.debug("checkpoint: %d customers exported, %s", self._exported, self._position)
        self._last_commit = time.monotonic()
        self._since_commit = 0

    def close(self, *, complete: bool) -> None:
        sink, self._sink = self._sink, None
        journal, self._journal = self._journal, None
        if sink is None or journal is None:
            return
        try:
            self._position = sink.close()
            journal.flush()
            _fsync(journal)
        finally:
            journal.close()
        if complete:
            self._layout.checkpoint.unlink(missing_ok=True)  # first: it is what marks unfinished
            self._layout.journal.unlink(missing_ok=True)
        else:
            self._save()

    def release(self) -> None:
        self._lock.release()

    def _save(self) -> None:
        state = Checkpoint(
            version=CHECKPOINT_VERSION,
            format=self.format,
            filters=self.filters,
            position=self._position,
            journal_bytes=self._journal_bytes,
            customers=self._exported,
            final=self.final,
        )
        write_checkpoint(self._layout, state)


def plan_output(
    out: str | os.PathLike[str],
    fmt: ExportFormat,
    filters: OrderFilters,
    *,
    resume: bool = False,
    retry_failed: bool = False,
    force: bool = False,
    command: str = "",
) -> Output:
    """Check what the output, format and resume ask for; lock the output for this run.

    Changes no data: it creates the output's directory and its lock file only.

    Args:
        out: A file, a directory (ends in ``/`` or exists; Parquet: always), or ``-`` for stdout.
        fmt: The output format.
        filters: The listing filters, recorded in the checkpoint; a resumed run must match.
        resume: Continue from the checkpoint. Without one: start a new export when there is no
            output yet (with a warning), refuse when there is a finished one.
        retry_failed: When resuming, fetch again the customers recorded as failed for good.
        force: Overwrite a finished output, or write a format its file name does not suggest.
        command: What is running, recorded in the lock so that a refused run can name it.

    Returns:
        The output; ``done`` and ``final`` hold what a resumed run skips.

    Raises:
        OutputInUseError: Another export is writing the output.
        ExportError: stdout with Parquet or ``resume``; an unfinished export without ``resume``;
            a finished one without ``force``; a format the file name contradicts; a checkpoint
            that is unreadable or made with another format or other filters; an output that
            cannot be created.
    """
    if os.fspath(out) == "-":
        if fmt is ExportFormat.PARQUET:
            raise ExportError("Parquet cannot go to stdout; give --out a directory")
        if resume:
            raise ExportError("--resume needs a file to continue; stdout cannot be resumed")
        return StdoutOutput(fmt, filters)
    layout = layout_of(Path(out), fmt, force=force)
    lock = FileLock(layout.lock, command=command)
    try:
        lock.acquire()
    except LockedError as err:
        raise OutputInUseError(
            f"{layout.data} is being written by another export ({err.owner}); wait for it to "
            "end, or stop it, before writing or resuming this output"
        ) from err
    except OSError as err:
        raise ExportError(f"cannot write {layout.data}: {err}") from err
    try:
        return _plan_locked(layout, filters, lock, resume, retry_failed, force)
    except BaseException:
        lock.release()
        raise


def _plan_locked(
    layout: Layout,
    filters: OrderFilters,
    lock: FileLock,
    resume: bool,
    retry_failed: bool,
    force: bool,
) -> CheckpointedOutput:
    if not layout.checkpoint.exists():
        if layout.has_data() and not force:
            raise ExportError(
                f"{layout.data} holds a finished export"
                + (": there is nothing to resume" if resume else "")
                + "; add --force to overwrite it, or choose another --out"
            )
        if resume:
            logger.warning("nothing to resume in %s: starting a new export", layout.data)
        return CheckpointedOutput(layout, filters, lock, None, set())
    if not resume:
        raise ExportError(
            f"{layout.data} holds an unfinished export (checkpoint {layout.checkpoint}): add "
            "--resume to continue it, or delete the checkpoint to start over"
        )
    state, done = read_checkpoint(layout)
    if state.format is not layout.format:
        raise ExportError(
            f"the export in {layout.data} was made as {state.format}; resume it with "
            f"--format {state.format}"
        )
    if state.filters != filters:
        raise ExportError(
            f"the export in {layout.data} was made with {filter_flags(state.filters)}, not "
            f"{filter_flags(filters)}; resume it with the same filters"
        )
    if retry_failed:
        state.final = {}
    return CheckpointedOutput(layout, filters, lock, state, done)


def _fsync(file: IO[bytes]) -> None:
    os.fsync(file.fileno())
