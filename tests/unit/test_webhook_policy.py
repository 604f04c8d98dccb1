"""Webhook rules that take data: backoff and verdicts, blocked addresses, URLs."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest

from rollcall.domain.errors.webhooks import WebhookTargetBlocked, WebhookUrlInvalid
from rollcall.domain.webhooks.policy import RetryPolicy, retry_delay_ms, should_disable, verdict
from rollcall.domain.webhooks.targets import blocked_reason, check_url, parse_url

DEFAULTS = RetryPolicy(base_ms=10_000, max_ms=6 * 3600_000, window=timedelta(days=3))
T0 = datetime(2027, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("attempts", "delay_ms"),
    [
        (1, 10_000),
        (2, 20_000),
        (3, 40_000),
        (11, 10_240_000),
        (12, 20_480_000),
        (13, 6 * 3600_000),
        (40, 6 * 3600_000),
    ],
)
def test_backoff_doubles_from_the_base_up_to_the_cap(attempts: int, delay_ms: int) -> None:
    assert retry_delay_ms(DEFAULTS, attempts) == delay_ms


def test_the_defaults_retry_for_about_three_days() -> None:
    # Every attempt fails: count them until the verdict gives up
    now, attempts = T0, 0
    while True:
        attempts += 1
        decided = verdict(500, attempts=attempts, created_at=T0, now=now, policy=DEFAULTS)
        if decided != "retrying":
            break
        now += timedelta(milliseconds=retry_delay_ms(DEFAULTS, attempts))
    assert decided == "failed"
    assert timedelta(days=2, hours=18) <= now - T0 <= timedelta(days=3)
    assert 20 <= attempts <= 25


@pytest.mark.parametrize(
    ("status", "age", "expected"),
    [
        (200, timedelta(0), "succeeded"),
        (204, timedelta(days=5), "succeeded"),
        (299, timedelta(0), "succeeded"),
        (410, timedelta(0), "gone"),
        (301, timedelta(0), "retrying"),
        (404, timedelta(0), "retrying"),
        (500, timedelta(0), "retrying"),
        (None, timedelta(0), "retrying"),
        (500, timedelta(days=3), "failed"),
        (None, timedelta(days=3), "failed"),
    ],
)
def test_verdicts(status: int | None, age: timedelta, expected: str) -> None:
    got = verdict(status, attempts=1, created_at=T0, now=T0 + age, policy=DEFAULTS)
    assert got == expected


def test_disable_after_the_limit() -> None:
    assert [should_disable(n, 3) for n in range(5)] == [False, False, False, True, True]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "private"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "not global"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("93.184.216.34", None),
        ("2606:2800:220:1:248:1893:25c8:1946", None),
    ],
)
def test_blocked_addresses(address: str, reason: str | None) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/",
        "example.org/hook",
        "https://",
        "https:///path",
        "https://user:pw@example.org/",
        "https://example.org:0x1/",
        "https://example.org:70000/",
        "https://exa mple.org/",
        "https://example.org/\x00",
        "https://example.org/\n",
        "https://[::1/",
        "javascript:alert(1)",
    ],
)
def test_invalid_urls(url: str) -> None:
    with pytest.raises(WebhookUrlInvalid):
        check_url(url, allow_private=True)


@pytest.mark.parametrize(
    "url",
    ["http://localhost:8000/", "http://api.localhost/", "http://LOCALHOST./", "http://127.1.2.3/"],
)
def test_local_names_and_literals_are_blocked_unless_allowed(url: str) -> None:
    with pytest.raises(WebhookTargetBlocked):
        check_url(url, allow_private=False)
    check_url(url, allow_private=True)


def test_a_public_name_passes_without_dns() -> None:
    check_url("https://hooks.example.org/in?x=1", allow_private=False)
    assert parse_url("https://hooks.example.org/in") == ("https", "hooks.example.org", 443)
    assert parse_url("http://[2001:db8::1]:8080/") == ("http", "2001:db8::1", 8080)
