"""Progress of ``export``: a live display drawn by rich on a terminal (three lines that fit 80
columns), a log line every ``PROGRESS_LOG_SECONDS`` otherwise; failed customers logged as they
fail, with structured fields."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable
from typing import Any

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from . import _logs
from ._errors import APIStatusError
from .export import ExportProgress

logger = logging.getLogger("partnercenter_async.export")

PROGRESS_LOG_SECONDS = 10.0
"""Without a terminal, a progress line this often (seconds)."""


def counters(progress: ExportProgress) -> dict[str, float | int]:
    """The counters the README promises, by name (the JSON logs' ``progress`` field)."""
    elapsed = max(progress.elapsed, 1e-9)
    return {
        "customers": progress.done,
        "total": progress.total,
        "orders": progress.orders,
        "failed": progress.failed,
        "failed_for_good": progress.final,
        "requests_per_second": round(progress.requests / elapsed, 1),
        "retries": progress.retries,
        "throttled": progress.throttled,
        "held_seconds": round(progress.held_seconds, 1),
    }


def counter_lines(progress: ExportProgress) -> tuple[str, str]:
    """The two lines under the bar, each under 80 columns."""
    c = counters(progress)
    share = 100 * progress.held_seconds / max(progress.elapsed, 1e-9)
    return (
        f"orders {c['orders']:,} · failed {c['failed']:,} · not found or denied "
        f"{c['failed_for_good']:,}",
        f"{c['requests_per_second']:,} req/s · retries {c['retries']:,} · throttled "
        f"{c['throttled']:,} · held {progress.held_seconds:,.0f} s ({share:.0f}% of the run)",
    )


class _Display(Progress):
    """rich's progress bar with the counters on two lines beneath it."""

    lines: tuple[str, str] = ("", "")

    def get_renderables(self) -> Iterable[RenderableType]:
        yield self.make_tasks_table(self.tasks)
        for line in self.lines:
            yield Text(line, no_wrap=True, overflow="ellipsis")


class ExportProgressView:
    """Shows an export's progress, called with each ``ExportProgress``: a live display when
    stderr is a terminal, else a log line now and then; each failed customer is logged with its
    error's fields (``customer_id``, ``status``, ``request_id``)."""

    def __init__(self) -> None:
        self._terminal = sys.stderr.isatty()
        self._display: _Display | None = None
        self._task: Any = None
        self._logged = time.monotonic()
        self.last: ExportProgress | None = None

    def __call__(self, progress: ExportProgress) -> None:
        self.last = progress
        result = progress.result
        if result is not None and result.error is not None:
            error = result.error
            logger.warning(
                "customer %s failed: %s",
                result.customer_id,
                error,
                extra={
                    "customer_id": result.customer_id,
                    "status": error.status if isinstance(error, APIStatusError) else None,
                    "request_id": error.request_id,
                    "correlation_id": error.correlation_id,
                },
            )
        if self._terminal:
            self._draw(progress)
        else:
            self._log(progress)

    def _draw(self, progress: ExportProgress) -> None:
        if self._display is None:
            console = Console(file=sys.stderr, highlight=False)
            self._display = _Display(
                TextColumn("customers"),
                BarColumn(bar_width=None),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=console,
                expand=True,
                refresh_per_second=4,
            )
            self._task = self._display.add_task("export", total=progress.total)
            _logs.set_console(console)
            self._display.start()
        self._display.lines = counter_lines(progress)
        self._display.update(self._task, completed=progress.done)

    def _log(self, progress: ExportProgress) -> None:
        now = time.monotonic()
        if progress.result is None or (
            now - self._logged < PROGRESS_LOG_SECONDS and progress.done < progress.total
        ):
            return
        self._logged = now
        c = counters(progress)
        rate = progress.done / max(progress.elapsed, 1e-9)
        eta = (progress.total - progress.done) / rate if rate else 0.0
        first, second = counter_lines(progress)
        logger.info(
            "progress: %d/%d customers, %s, %s, ETA %s",
            progress.done,
            progress.total,
            first,
            second,
            duration(eta),
            extra={"progress": c},
        )

    def close(self) -> None:
        """Stop the live display, leaving its last frame on the screen (once)."""
        display, self._display = self._display, None
        if display is not None:
            if self.last is not None:
                display.lines = counter_lines(self.last)
                display.update(self._task, completed=self.last.done)
            display.stop()
            _logs.set_console(None)


def duration(seconds: float) -> str:
    """``1h02m`` or ``3m05s``."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
