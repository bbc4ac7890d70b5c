"""Logs of the command line: secrets redacted in text and JSON, extras kept as fields."""

from __future__ import annotations

import json
import logging

import pytest

from partnercenter_async._logs import REDACTED, Redactor, configured

JWT = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJodHRwcyJ9.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Authorization: Bearer {JWT}", f"Authorization: Bearer {REDACTED}"),
        ("authorization: bearer opaque/token+value==", f"authorization: bearer {REDACTED}"),
        (f"token {JWT} used", f"token {REDACTED} used"),
        (
            "grant_type=refresh_token&refresh_token=0.AXEA-x_y&client_secret=abc~def&scope=s",
            f"grant_type=refresh_token&refresh_token={REDACTED}&client_secret={REDACTED}&scope=s",
        ),
        (
            '{"access_token": "opaque", "expires_in": 3600}',
            f'{{"access_token": "{REDACTED}", "expires_in": 3600}}',
        ),
        ("the registered s3cret-value leaks", f"the registered {REDACTED} leaks"),
        ("nothing secret here: 3600 s", "nothing secret here: 3600 s"),
    ],
)
def test_secrets_are_redacted(text: str, expected: str) -> None:
    redact = Redactor()
    redact.add("s3cret-value")
    redact.add("abc")  # too short to redact on its own: it would mangle ordinary text
    assert redact(text) == expected


@pytest.mark.parametrize("form", ["text", "json"])
def test_every_logger_goes_through_redaction(form: str, capsys: pytest.CaptureFixture[str]) -> None:
    redact = Redactor()
    redact.add("my-client-secret")
    with configured("info", form, redact):
        logging.getLogger("azure.identity").warning("secret my-client-secret, token %s", JWT)
        logging.getLogger("partnercenter_async.export").info(
            "progress", extra={"progress": {"customers": 3}}
        )
        logging.getLogger("azure.core").info("below WARNING: dropped")
    err = capsys.readouterr().err
    assert "my-client-secret" not in err and JWT not in err and err.count(REDACTED) == 2
    assert "dropped" not in err, "azure's HTTP logging is kept to warnings unless debugging"
    if form == "json":
        entries = [json.loads(line) for line in err.splitlines()]
        assert entries[0]["logger"] == "azure.identity" and entries[0]["level"] == "WARNING"
        assert entries[1]["progress"] == {"customers": 3}
    assert logging.getLogger().handlers == [] or all(
        type(h).__name__ != "_Handler" for h in logging.getLogger().handlers
    ), "the handler is removed again"
