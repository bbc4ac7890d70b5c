"""The dlt sources on their own: tables, keys, child tables, unknown fields, dlt's own loop."""

from __future__ import annotations

import os

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

import asyncio
import uuid
from pathlib import Path
from typing import Any

import dlt
import pytest

from partnercenter_async import PartnerCenterClient
from partnercenter_async.sync import (
    Batch,
    parse_destination,
    partner_center_full,
    partner_center_source,
)
from partnercenter_async.testing import FakePartnerCenter, StaticTokenCredential


def _pipeline(tmp_path: Path) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name="partner_center",
        destination=parse_destination(f"duckdb:///{tmp_path / 'x.duckdb'}").destination,
        dataset_name="partner_center",
        pipelines_dir=str(tmp_path / uuid.uuid4().hex),
    )


def _rows(pipeline: dlt.Pipeline, sql: str) -> list[tuple[Any, ...]]:
    with pipeline.sql_client() as client:
        return [tuple(row) for row in client.execute_sql(sql) or ()]


def test_tables_keys_and_unknown_fields(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path)
    order = {
        "customer_id": "c1",
        "id": "o1",
        "status": "pending",
        "creationDate": "2018-03-15T02:17:15.6455674Z",
        "lineItems": [{"lineItemNumber": 0, "pricing": {"listPrice": 22.0}}],
        "brandNewField": {"nested": "kept"},
    }
    pipeline.run(partner_center_source(Batch(orders=[order])))
    pipeline.run(partner_center_source(Batch(orders=[order | {"status": "completed"}])))
    assert _rows(
        pipeline, "SELECT customer_id, id, status, brand_new_field__nested FROM orders"
    ) == [("c1", "o1", "completed", "kept")]
    lines = "SELECT line_item_number, pricing__list_price FROM orders__line_items"
    assert _rows(pipeline, lines) == [(0, 22.0)]  # replaced with its order, not doubled


async def test_the_full_source_runs_on_dlts_own_loop(
    fake: FakePartnerCenter, tmp_path: Path
) -> None:
    async with fake:
        base_url = fake.base_url

        def make_client() -> PartnerCenterClient:
            return PartnerCenterClient(
                StaticTokenCredential(), base_url=base_url, requests_per_minute=1e9
            )

        gone = fake.customer_ids[3]
        fake.end_relationship(gone)
        pipeline = _pipeline(tmp_path)
        # dlt blocks its caller and runs the async generators on a loop of its own, while the
        # fake keeps answering on this one
        await asyncio.to_thread(pipeline.run, partner_center_full(make_client))
        expected = sum(
            len(fake.orders_of(c)) for c in fake.customer_ids if c not in fake.activity.ended
        )
    assert _rows(pipeline, "SELECT count(*) FROM orders") == [(expected,)]
    listed = _rows(pipeline, "SELECT count(*) FROM customers")
    assert listed == [(len(fake.customer_ids) - 1,)]
    assert _rows(pipeline, f"SELECT count(*) FROM orders WHERE customer_id = '{gone}'") == [(0,)]


@pytest.mark.parametrize(
    ("text", "display", "file"),
    [
        ("duckdb", "duckdb", "partner_center_orders.duckdb"),
        ("duckdb:///orders.duckdb", "duckdb:///orders.duckdb", "orders.duckdb"),
        ("duckdb:////var/data/o.duckdb", "duckdb:////var/data/o.duckdb", "/var/data/o.duckdb"),
        ("bigquery", "bigquery", None),
    ],
)
def test_destinations(text: str, display: str, file: str | None) -> None:
    target = parse_destination(text)
    assert (target.display, target.duckdb_file, target.secrets) == (display, file, ())


@pytest.mark.parametrize(
    "url",
    [
        "postgres://sync:p%40ss%2Fword@db.example:5433/orders",
        "postgresql://sync:p@ss/word@db.example:5433/orders",  # not percent-encoded
    ],
)
def test_a_postgres_password_is_kept_out_of_the_display(url: str) -> None:
    target = parse_destination(url)
    assert target.display == "postgresql://sync:***@db.example:5433/orders"
    assert "p@ss/word" in target.secrets


@pytest.mark.parametrize("text", ["duckdb://", "duckdb:///", "mysql://u:p@h/db"])
def test_destinations_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"duckdb|scheme"):
        parse_destination(text)


def test_a_duckdb_file_named_like_the_dataset_is_refused() -> None:
    parse_destination("duckdb:///partner_center.duckdb").check("other")
    with pytest.raises(ValueError, match="ambiguous"):
        parse_destination("duckdb:///data/partner_center.duckdb").check("partner_center")
