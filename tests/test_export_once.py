"""Exactly once on every input, over real sockets: an output locked for the whole run, ids that
survive the journal, valid UTF-8 JSON Lines, a full disk at the start, GUIDs in two casings,
customers that are gone (404) or refused (403) finishing the export."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from azure.core.credentials import AccessToken

from partnercenter_async import (
    OutputInUseError,
    PartnerCenterClient,
    RetryPolicy,
    export_orders,
)
from partnercenter_async.testing import FakePartnerCenter, Fault

from .exports import multiset, read_jsonl

MakeClient = Callable[..., PartnerCenterClient]
GONE = "00000000-0000-0000-0000-000000000404"


def records(fake: FakePartnerCenter, customer_ids: list[str]) -> list[dict[str, Any]]:
    return [{"customerId": c, "order": o} for c in customer_ids for o in fake.orders_of(c)]


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def with_orders(fake: FakePartnerCenter) -> list[str]:
    return [c for c in fake.customer_ids if fake.orders_of(c)]


def page(*raw_orders: bytes) -> bytes:
    return b'{"totalCount": %d, "items": [%s], "links": {}, "attributes": {}}' % (
        len(raw_orders),
        b",".join(raw_orders),
    )


class GatedCredential:
    """Hands out a token only once ``gate`` is set: an export using it holds its output, waiting."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.waiting.set()
        await self.gate.wait()
        return AccessToken("gated-token", int(time.time()) + 3600)

    async def close(self) -> None:
        pass


@pytest.mark.parametrize("resume", [False, True], ids=["second-export", "resume-while-running"])
async def test_an_output_in_use_is_refused_at_once_and_the_running_export_stays_whole(
    make_client: MakeClient, fake: FakePartnerCenter, tmp_path: Path, resume: bool
) -> None:
    out = tmp_path / "orders.jsonl"
    gated = GatedCredential()
    async with make_client(credential=gated) as first_client, make_client() as second_client:
        first = asyncio.create_task(
            export_orders(first_client, None, out, command="partnercenter-async export first")
        )
        await gated.waiting.wait()  # the first run holds the output, listing the customers
        with pytest.raises(OutputInUseError, match=f"process {os.getpid()} .*export first"):
            await export_orders(second_client, fake.customer_ids, out, resume=resume)
        gated.gate.set()
        summary = await first
    assert summary.complete and summary.customers == len(fake.customer_ids)
    assert multiset(read_jsonl(out)) == multiset(records(fake, fake.customer_ids))
    assert names(tmp_path) == ["orders.jsonl"], "lock file removed"


@pytest.mark.parametrize("separator", ["\u2028", "\u0085", "\u2029"])
async def test_every_id_round_trips_through_the_journal(
    make_client: MakeClient, fake: FakePartnerCenter, tmp_path: Path, separator: str
) -> None:
    odd = f"odd{separator}customer"
    some, other, broken = with_orders(fake)[1:4]
    fake.serve_raw(odd, page(msgspec.json.encode(fake.orders_of(some)[0])))
    fake.inject(broken, Fault.SERVER_ERROR, Fault.SERVER_ERROR)
    out = tmp_path / "orders.jsonl"
    ids = [odd, other, broken]
    async with make_client(retry=RetryPolicy(max_attempts=2)) as client:
        summary = await export_orders(client, ids, out)
    assert set(summary.failed) == {broken}
    before = len(fake.requests)
    async with make_client() as client:
        summary = await export_orders(client, ids, out, resume=True)
    assert (summary.skipped, summary.customers, summary.complete) == (2, 1, True)
    assert [r.path_qs.split("?")[0] for r in fake.requests[before:]] == [
        f"/v1/customers/{broken}/orders"
    ], "the odd id is not fetched again"
    assert [r["customerId"] for r in read_jsonl(out)].count(odd) == 1


async def test_json_lines_are_valid_utf8_json_with_invalid_bytes_replaced(
    client: PartnerCenterClient, fake: FakePartnerCenter, tmp_path: Path
) -> None:
    customer = with_orders(fake)[1]
    order = msgspec.json.encode(fake.orders_of(customer)[0])
    raw = order[:-1] + b',"futureNote":"ok \xff\xfe then \xc3\xa9 ok"}'
    fake.serve_raw(customer, page(raw))
    out = tmp_path / "orders.jsonl"
    await export_orders(client, [customer], out)
    data = out.read_bytes()
    text = data.decode("utf-8")  # strict: raises on any invalid byte
    record = json.loads(text)
    assert record["order"]["futureNote"] == "ok \ufffd\ufffd then \u00e9 ok"
    assert data.startswith(b'{"customerId":"%s","order":%s' % (customer.encode(), order[:-1]))


async def test_a_full_disk_at_the_start_stops_cleanly_and_resume_then_works(
    client: PartnerCenterClient,
    fake: FakePartnerCenter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    out = tmp_path / "orders.jsonl"
    with monkeypatch.context() as disk:
        disk.setattr(os, "fsync", full)
        with pytest.raises(OSError, match="No space left") as caught:
            await export_orders(client, fake.customer_ids[:3], out)
    assert caught.value.errno == errno.ENOSPC
    assert names(tmp_path) == [], "nothing half-made is left, the lock released"
    summary = await export_orders(client, fake.customer_ids[:3], out, resume=True)
    assert summary.complete and multiset(read_jsonl(out)) == multiset(
        records(fake, fake.customer_ids[:3])
    )


async def test_a_guid_in_two_casings_is_one_customer_exported_once(
    make_client: MakeClient, fake: FakePartnerCenter, tmp_path: Path
) -> None:
    guid, broken = with_orders(fake)[1:3]
    fake.inject(broken, Fault.SERVER_ERROR, Fault.SERVER_ERROR)
    out = tmp_path / "orders.jsonl"
    async with make_client(retry=RetryPolicy(max_attempts=2)) as client:
        summary = await export_orders(client, [guid.upper(), guid.lower(), broken], out)
    assert summary.customers == 1
    async with make_client() as client:
        summary = await export_orders(client, [guid.lower(), broken], out, resume=True)
    assert (summary.skipped, summary.customers) == (1, 1), "the journal's spelling matches too"
    written = [r["customerId"] for r in read_jsonl(out)]
    assert written.count(guid.upper()) == len(fake.orders_of(guid)), "kept as first written"
    assert guid.lower() not in written


async def test_customers_gone_or_refused_are_final_and_the_export_finishes(
    make_client: MakeClient, fake: FakePartnerCenter, tmp_path: Path
) -> None:
    refused = "00000000-0000-0000-0000-000000000403"
    fake.serve_raw(refused, b'{"code": 403, "description": "denied"}', status=403)
    ok = fake.customer_ids[1:4]
    out = tmp_path / "orders.jsonl"
    async with make_client() as client:
        summary = await export_orders(client, [*ok, GONE, refused], out)
    assert summary.complete and not summary.failed
    assert {c: f.status for c, f in summary.final.items()} == {GONE: 404, refused: 403}
    assert names(tmp_path) == ["orders.jsonl"], "finished"
    assert multiset(read_jsonl(out)) == multiset(records(fake, ok))


async def test_resume_skips_final_failures_unless_asked_to_retry_them(
    make_client: MakeClient, fake: FakePartnerCenter, tmp_path: Path
) -> None:
    broken = fake.customer_ids[2]
    fake.inject(broken, Fault.SERVER_ERROR, Fault.SERVER_ERROR)
    out = tmp_path / "orders.jsonl"
    ids = [fake.customer_ids[1], broken, GONE]
    async with make_client(retry=RetryPolicy(max_attempts=2)) as client:
        summary = await export_orders(client, ids, out)
    assert (set(summary.failed), set(summary.final)) == ({broken}, {GONE})
    fake.inject(broken, Fault.SERVER_ERROR, Fault.SERVER_ERROR)
    before = len(fake.requests)
    async with make_client(retry=RetryPolicy(max_attempts=2)) as client:
        summary = await export_orders(client, ids, out, resume=True)
    assert set(summary.final) == {GONE}, "named again from the checkpoint"
    fetched = {r.path_qs.split("?")[0] for r in fake.requests[before:]}
    assert fetched == {f"/v1/customers/{broken}/orders"}, "the 404 is not retried"
    before = len(fake.requests)
    async with make_client() as client:
        summary = await export_orders(client, ids, out, resume=True, retry_failed=True)
    fetched = {r.path_qs.split("?")[0] for r in fake.requests[before:]}
    assert fetched == {f"/v1/customers/{broken}/orders", f"/v1/customers/{GONE}/orders"}
    assert summary.complete and set(summary.final) == {GONE}
