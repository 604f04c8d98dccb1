"""The formatter every handler gets redacts secrets wherever they are in the line."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from rollcall.config.logs import make_formatter, redact

TOKEN = "rct_" + "A1b2" * 11
KEY = "rc_" + "Z9y8" * 11


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            f'127.0.0.1:5 - "GET /v1/calendar.ics?token={TOKEN} HTTP/1.1" 200',
            '127.0.0.1:5 - "GET /v1/calendar.ics?token=[REDACTED] HTTP/1.1" 200',
        ),
        ("/x?a=1&api_key=s3cret&b=2", "/x?a=1&api_key=[REDACTED]&b=2"),
        ("/x?fromDate=2030&ACCESS_TOKEN=abc", "/x?fromDate=2030&ACCESS_TOKEN=[REDACTED]"),
        ("/x?key=abc;password=pw", "/x?key=[REDACTED];password=[REDACTED]"),
        ("Authorization: Bearer abc.def.ghi", "Authorization: Bearer [REDACTED]"),
        (f"a key {KEY} in prose", "a key rc_[REDACTED] in prose"),
        (f"a token {TOKEN}.", "a token rct_[REDACTED]."),
        # not secrets: left alone
        ("/v1/events?after=abc&limit=3", "/v1/events?after=abc&limit=3"),
        ("key prefix rc_abcdefg", "key prefix rc_abcdefg"),
        ("dedupe key=reminder:1:2", "dedupe key=reminder:1:2"),
    ],
)
def test_redact(line: str, expected: str) -> None:
    assert redact(line) == expected


@pytest.mark.parametrize("json_lines", [True, False])
def test_message_arguments_extras_and_tracebacks_are_redacted(json_lines: bool) -> None:
    formatter = make_formatter(json_lines)
    try:
        raise RuntimeError(f"GET /v1/calendar.ics?token={TOKEN} failed")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "rollcall.test", logging.ERROR, __file__, 1, "called %s with %s", ("/x", KEY), exc_info
    )
    record.url = f"/v1/calendar.ics?token={TOKEN}"
    line = formatter.format(record)
    assert TOKEN not in line and KEY not in line
    assert line.count("[REDACTED]") >= 3  # message, extra field, traceback
    if json_lines:
        body = json.loads(line)
        assert body["url"] == "/v1/calendar.ics?token=[REDACTED]"
        assert "token=[REDACTED] failed" in body["exc"]
