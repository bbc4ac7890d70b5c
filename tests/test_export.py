"""The export engine in process: lossless JSON Lines, RFC 4180 CSV, Parquet parts and row groups,
checkpoints, resume after a crash's leftovers, failed customers retried, refusals."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pyarrow.parquet as pq
import pytest

from partnercenter_async import (
    ExportError,
    ExportSummary,
    PartnerCenterClient,
    RetryPolicy,
    UnauthorizedError,
    export_orders,
)
from partnercenter_async.export import ExportFormat as Format
from partnercenter_async.export import OrderFilters, parquet_schema, plan_output
from partnercenter_async.export import _sinks as sinks
from partnercenter_async.testing import FakePartnerCenter, Fault

from .exports import csv_rows, expected_rows, multiset, parquet_rows, read_jsonl

MakeClient = Callable[..., PartnerCenterClient]
FILTERS = OrderFilters()
OUT_NAME = {Format.JSONL: "orders.jsonl", Format.CSV: "orders.csv", Format.PARQUET: "orders"}


async def export(
    client: PartnerCenterClient,
    out: Path,
    fmt: Format,
    customer_ids: list[str],
    *,
    resume: bool = False,
    filters: OrderFilters = FILTERS,
) -> ExportSummary:
    """The public export, as the CLI calls it."""
    return await export_orders(
        client, customer_ids, out, format=fmt, filters=filters, resume=resume
    )


def plan(out: Path | str, fmt: Format, filters: OrderFilters = FILTERS, **options: Any) -> Any:
    """``plan_output``, its lock released at once."""
    output = plan_output(out, fmt, filters, **options)
    output.release()
    return output


def all_records(fake: FakePartnerCenter) -> list[dict[str, Any]]:
    return [{"customerId": c, "order": o} for c in fake.customer_ids for o in fake.orders_of(c)]


def with_orders(fake: FakePartnerCenter) -> list[str]:
    return [c for c in fake.customer_ids if fake.orders_of(c)]


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def page(*raw_orders: bytes, pretty: bool = False) -> bytes:
    body = b'{"totalCount": %d, "items": [%s], "links": {}, "attributes": {}}' % (
        len(raw_orders),
        b",".join(raw_orders),
    )
    return msgspec.json.format(body, indent=2) if pretty else body


UNKNOWN = {"futureField": {"deep": [1, {"note": "line one\nline two", "ü": None}]}}


async def test_json_lines_carry_each_order_as_sent_with_unknown_nested_fields(
    client: PartnerCenterClient, fake: FakePartnerCenter, tmp_path: Path
) -> None:
    compact, pretty = with_orders(fake)[:2]
    order = {**fake.orders_of(compact)[0], **UNKNOWN}
    raw = msgspec.json.encode(order)
    fake.serve_raw(compact, page(raw))
    fake.serve_raw(pretty, page(raw, pretty=True))
    out = tmp_path / "orders.jsonl"
    await export(client, out, Format.JSONL, [compact, pretty])
    lines = out.read_bytes().splitlines()
    prefix = b'{"customerId":"%s","order":' % compact.encode()
    assert prefix + raw + b"}" in lines, "byte for byte as the service sent it"
    records = [json.loads(line) for line in lines]
    assert {"customerId": pretty, "order": order} in records, "pretty-printed: put on one line"
    assert all(r["order"]["futureField"] == UNKNOWN["futureField"] for r in records)


async def test_csv_quotes_commas_quotes_and_newlines(
    client: PartnerCenterClient, fake: FakePartnerCenter, tmp_path: Path
) -> None:
    customer = with_orders(fake)[2]
    awkward = 'Contoso, "Best" Ltd\r\nLine two; =1+1'
    order = fake.orders_of(customer)[0]
    order["lineItems"][0]["friendlyName"] = awkward
    fake.serve_raw(customer, page(msgspec.json.encode(order)))
    out = tmp_path / "orders.csv"
    await export(client, out, Format.CSV, [customer])
    with out.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    assert rows[0]["friendly_name"] == awkward
    assert out.read_bytes().endswith(b"\r\n"), "RFC 4180 line ends"


@pytest.mark.parametrize("fmt", [Format.CSV, Format.PARQUET])
async def test_flat_formats_hold_the_rows_of_the_json_lines(
    client: PartnerCenterClient,
    fake: FakePartnerCenter,
    tmp_path: Path,
    fmt: Format,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sinks, "PARQUET_ROW_GROUP_ROWS", 50)
    monkeypatch.setattr(sinks.ParquetSink, "commit_customers", 10)
    await export(client, tmp_path / "orders.jsonl", Format.JSONL, fake.customer_ids)
    out = tmp_path / OUT_NAME[fmt]
    await export(client, out, fmt, fake.customer_ids)
    expected = expected_rows(read_jsonl(tmp_path / "orders.jsonl"))
    if fmt is Format.CSV:
        assert csv_rows(out) == expected
        return
    assert parquet_rows(out) == expected
    parts = sorted(out.iterdir())
    assert [p.name for p in parts] == [f"part-{i:05d}.parquet" for i in range(5)], (
        "a part per 10 customers, nothing else left"
    )
    assert max(pq.ParquetFile(p).metadata.num_row_groups for p in parts) > 1, "row groups"
    assert pq.read_schema(parts[0]) == parquet_schema(), "the documented schema"


async def test_an_empty_export_still_has_the_schema(
    client: PartnerCenterClient, tmp_path: Path
) -> None:
    await export(client, tmp_path / "orders", Format.PARQUET, [])
    assert pq.read_table(tmp_path / "orders").schema == parquet_schema()


@pytest.mark.parametrize("fmt", list(Format))
async def test_resume_after_a_crash_keeps_what_the_checkpoint_counts_and_nothing_else(
    make_client: MakeClient,
    fake: FakePartnerCenter,
    tmp_path: Path,
    fmt: Format,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sinks.StreamSink, "commit_customers", 5)
    monkeypatch.setattr(sinks.ParquetSink, "commit_customers", 5)
    out = tmp_path / OUT_NAME[fmt]
    # One customer at a time; the 21st makes the service refuse the token: the run stops.
    fake.inject(fake.customer_ids[20], Fault.UNAUTHORIZED, Fault.UNAUTHORIZED)
    async with make_client(max_concurrency=1) as client:
        with pytest.raises(UnauthorizedError):
            await export(client, out, fmt, fake.customer_ids)
    # What a kill between two checkpoints leaves behind: data and ids past the checkpoint.
    if fmt is Format.PARQUET:
        (out / "part-00009.parquet").write_bytes(b"PAR1 not counted")
        (out / ".part-00010.parquet.tmp").write_bytes(b"PAR1 half")
        journal = out / "_checkpoint-ids"
    else:
        with out.open("ab") as data:
            data.write(b'{"customerId":"half a line')
        journal = out.with_name(out.name + ".checkpoint-ids")
    with journal.open("ab") as ids:
        ids.write(f'"{fake.customer_ids[30]}"\n'.encode())

    output = plan(out, fmt, resume=True)
    assert output.done == set(fake.customer_ids[:20])
    async with make_client() as client:
        summary = await export(client, out, fmt, fake.customer_ids, resume=True)
    assert (summary.skipped, summary.customers) == (20, len(fake.customer_ids) - 20)
    records = all_records(fake)
    if fmt is Format.JSONL:
        assert multiset(read_jsonl(out)) == multiset(records), "every order exactly once"
    elif fmt is Format.CSV:
        assert csv_rows(out) == expected_rows(records)
    else:
        assert parquet_rows(out) == expected_rows(records)
    assert names(tmp_path) == [out.name], "checkpoint files gone"


async def test_failed_customers_stay_in_the_checkpoint_and_resume_fetches_only_them(
    make_client: MakeClient, fake: FakePartnerCenter, tmp_path: Path
) -> None:
    broken = fake.customer_ids[4]
    fake.inject(broken, Fault.SERVER_ERROR, Fault.SERVER_ERROR)
    out = tmp_path / "orders.jsonl"
    async with make_client(retry=RetryPolicy(max_attempts=2)) as client:
        summary = await export(client, out, Format.JSONL, fake.customer_ids)
    assert set(summary.failed) == {broken}
    assert out.with_name("orders.jsonl.checkpoint").exists()
    before = len(fake.requests)
    async with make_client() as client:
        summary = await export(client, out, Format.JSONL, fake.customer_ids, resume=True)
    assert (summary.customers, summary.failed) == (1, {})
    assert {r.path_qs.split("?")[0] for r in fake.requests[before:]} == {
        f"/v1/customers/{broken}/orders"
    }
    assert multiset(read_jsonl(out)) == multiset(all_records(fake))


async def test_what_cannot_be_resumed_is_refused(
    make_client: MakeClient, fake: FakePartnerCenter, tmp_path: Path
) -> None:
    fake.inject(fake.customer_ids[1], *[Fault.SERVER_ERROR] * 2)
    out = tmp_path / "orders.jsonl"
    async with make_client(retry=RetryPolicy(max_attempts=2)) as client:
        await export(client, out, Format.JSONL, fake.customer_ids[:3])
    with pytest.raises(ExportError, match="--resume to continue"):
        plan(out, Format.JSONL, resume=False)
    with pytest.raises(ExportError, match="resume it with --format jsonl"):
        plan(out, Format.CSV, resume=True, force=True)
    with pytest.raises(ExportError, match="made with no filters, not --include-price"):
        plan(out, Format.JSONL, OrderFilters(include_price=True), resume=True)
    with pytest.raises(ExportError, match="stdout"):
        plan("-", Format.JSONL, resume=True)
    out.write_bytes(b"")
    output = plan_output(out, Format.JSONL, FILTERS, resume=True)
    with pytest.raises(ExportError, match="shorter than its checkpoint"):
        output.open()
    output.release()


def test_a_directory_gets_a_named_file(tmp_path: Path) -> None:
    assert plan(tmp_path, Format.CSV).path == tmp_path / "orders.csv"


async def test_finished_outputs_and_contradicting_names_are_refused_without_force(
    client: PartnerCenterClient, fake: FakePartnerCenter, tmp_path: Path
) -> None:
    out = tmp_path / "orders.jsonl"
    with pytest.raises(ExportError, match="names a jsonl file but the format is csv"):
        plan(out, Format.CSV)
    assert not out.exists(), "refused before anything is written"
    await export(client, out, Format.JSONL, fake.customer_ids[:2])
    with pytest.raises(ExportError, match="finished export; add --force"):
        plan(out, Format.JSONL)
    with pytest.raises(ExportError, match="nothing to resume"):
        plan(out, Format.JSONL, resume=True)
    summary = await export_orders(client, fake.customer_ids[:1], out, force=True)
    assert summary.customers == 1 and len(read_jsonl(out)) == len(fake.orders_of(summary_id(fake)))


def summary_id(fake: FakePartnerCenter) -> str:
    return fake.customer_ids[0]
