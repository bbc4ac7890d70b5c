"""Where a sync writes and what it remembers: destinations from URLs, state read back from them.

The state lives in the destination (tables ``sync_customers`` and ``sync_runs``), never on the
machine, so a run on a fresh machine against the same database continues incrementally.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import dlt
from dlt.destinations.exceptions import DatabaseUndefinedRelation

from ._select import CustomerState

__all__ = ["DEFAULT_DUCKDB_FILE", "PriorState", "Target", "parse_destination", "read_state"]

DEFAULT_DUCKDB_FILE = "partner_center_orders.duckdb"
"""``--destination duckdb`` writes this file in the working directory. Not
``partner_center.duckdb``: DuckDB names a file's catalog after it, and a catalog named like the
dataset (``partner_center``) makes every ``partner_center.orders`` ambiguous (a binder error)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    """A destination and how to name it in logs.

    Attributes:
        destination: The dlt destination (a factory with credentials, or a name dlt configures).
        display: The destination for logs: the URL with its password replaced by ``***``.
        secrets: Strings to redact from every log line (the password, URL-decoded and not).
        duckdb_file: The DuckDB file, for a DuckDB destination.
    """

    destination: Any
    display: str
    secrets: tuple[str, ...] = ()
    duckdb_file: str | None = None

    def check(self, dataset: str) -> None:
        """Refuse a DuckDB file named like the dataset (DuckDB cannot tell them apart).

        Raises:
            ValueError: ``orders/partner_center.duckdb`` with dataset ``partner_center``.
        """
        if self.duckdb_file is not None and Path(self.duckdb_file).stem == dataset:
            raise ValueError(
                f"DuckDB names the catalog of {self.duckdb_file} {dataset!r}, like the dataset: "
                "queries would be ambiguous. Name the file otherwise, or pass --dataset."
            )


@dataclasses.dataclass(frozen=True, slots=True)
class PriorState:
    """What the destination remembers of earlier runs.

    Attributes:
        customers: ``sync_customers`` by customer id (lower case).
        last_run_start: Start of the last run that reached its end, None before the first.
        demo_runs: Runs recorded so far (the demo derives its simulated day from it).
    """

    customers: dict[str, CustomerState]
    last_run_start: datetime | None
    demo_runs: int = 0


def parse_destination(text: str) -> Target:
    """A ``--destination``: ``duckdb``, ``duckdb:///rel.duckdb``, ``duckdb:////abs.duckdb``,
    ``postgresql://user:password@host:port/database``, or another dlt destination's name
    (``bigquery``, ``snowflake``, ``motherduck``, ``filesystem``, ...) configured through dlt's
    own configuration (``.dlt/secrets.toml`` or ``DESTINATION__...`` variables).

    Raises:
        ValueError: A URL of a scheme this does not know, or a duckdb URL without a path.
    """
    if text == "duckdb":
        file = DEFAULT_DUCKDB_FILE
        return Target(dlt.destinations.duckdb(credentials=file), text, duckdb_file=file)
    if "://" not in text:
        return Target(text, text)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "duckdb":
        path = text.split("://", 1)[1]
        if not path.startswith("/") or path == "/":
            raise ValueError(f"expected duckdb:///relative.duckdb or duckdb:////abs.duckdb: {text}")
        file = str(Path(path[1:]))
        display = f"duckdb:///{path[1:]}"
        return Target(dlt.destinations.duckdb(credentials=file), display, duckdb_file=file)
    if scheme in ("postgres", "postgresql") or scheme.startswith("postgresql+"):
        rest = text.split("://", 1)[1]
        url = f"postgresql://{rest}"
        # The last "@" ends the user information, even in a URL whose password is not
        # percent-encoded: whatever precedes it after "user:" never reaches a log.
        userinfo, at, location = rest.rpartition("@")
        user, colon, password = userinfo.partition(":")
        if not at or not colon:
            return Target(dlt.destinations.postgres(credentials=url), url)
        secrets = tuple({password, unquote(password), quote(unquote(password), safe="")})
        display = f"postgresql://{user}:***@{location}"
        return Target(dlt.destinations.postgres(credentials=url), display, secrets)
    raise ValueError(f"unknown destination URL scheme {scheme!r} (duckdb, postgresql)")


def read_state(pipeline: dlt.Pipeline) -> PriorState:
    """The state earlier runs left in the pipeline's destination (empty before the first run).

    Restores dlt's schema and state from the destination first (a fresh machine has none).

    Raises:
        dlt's ``DestinationConnectionError`` and friends: the destination cannot be reached.
    """
    pipeline.sync_destination()
    rows = _select(pipeline, "sync_customers", _CUSTOMER_COLUMNS) or []
    last = _select(pipeline, "sync_runs", "max(started_at), count(*)")  # none before a run ends
    state = {
        str(cid).lower(): CustomerState(
            customer_id=str(cid).lower(),
            checked_at=_utc(checked),
            pending_since=_utc(pending),
            unavailable=None if status is None else int(status),
            orders=int(orders or 0),
            failed=error is not None,
            read_at=_utc(read),
            unavailable_since=_utc(since),
        )
        for cid, checked, pending, status, orders, error, read, since in rows
    }
    started, count = (last or [(None, 0)])[0]
    return PriorState(state, _utc(started), int(count or 0))


_CUSTOMER_COLUMNS = (
    "customer_id, checked_at, pending_since, unavailable_status, orders, last_error, read_at, "
    "unavailable_since"
)


def _select(pipeline: dlt.Pipeline, table: str, columns: str) -> Sequence[Sequence[Any]] | None:
    """``SELECT columns FROM table`` in the destination, None when the table does not exist.

    Asks the destination itself, not dlt's schema: a run stopped before dlt stored its state
    leaves tables that a fresh machine's schema does not name.
    """
    try:
        with pipeline.sql_client() as client:
            name = client.make_qualified_table_name(table)
            return client.execute_sql(f"SELECT {columns} FROM {name}")
    except DatabaseUndefinedRelation:
        return None


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"expected a timestamp, got {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
