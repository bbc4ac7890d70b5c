"""The command line: the demo export end to end, customers from a file, failures named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from partnercenter_async._cli import DEMO_CUSTOMERS, main
from partnercenter_async.testing import SAMPLE_CUSTOMER_ID, FakeConfig, FakePartnerCenter


def demo_fake() -> FakePartnerCenter:
    return FakePartnerCenter(FakeConfig(customers=DEMO_CUSTOMERS))


def test_demo_export_writes_every_order_as_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "orders.jsonl"
    assert main(["export", "--demo", "--out", str(out)]) == 0
    lines = out.read_bytes().splitlines()
    fake = demo_fake()
    expected = [order for c in fake.customer_ids for order in fake.orders_of(c)]
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(o["id"] for o in expected)
    assert sorted(map(json.loads, lines), key=lambda o: o["id"]) == sorted(
        expected, key=lambda o: o["id"]
    ), "each line is the order exactly as the service sent it, unknown fields included"
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"{DEMO_CUSTOMERS + 1} customers, {len(expected)} orders written" in summary
    assert "requests" in summary and "retries" in summary


def test_export_of_listed_customers_names_the_failed_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    customers = tmp_path / "customers.txt"
    customers.write_text(f"{SAMPLE_CUSTOMER_ID}\n\nno-such-customer\n")
    out = tmp_path / "orders.jsonl"
    status = main(["export", "--demo", "--customers", str(customers), "--out", str(out)])
    assert status == 1
    err = capsys.readouterr().err
    assert "failed: no-such-customer: " in err and "404" in err
    ids = {json.loads(line)["id"] for line in out.read_bytes().splitlines()}
    assert "YxH1q4KScfvfkJQjgRI8QY1DznnUWZTH1" in ids


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["export"])
    assert caught.value.code == 2
    out = tmp_path / "o.jsonl"
    assert main(["export", "--base-url", "http://example.com", "--out", str(out)]) == 2
