"""The pure rules of webhook delivery: which targets are refused, the retry schedule, Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime
from ipaddress import ip_address

import pytest

from svc_notify import retries, targets

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("127.0.0.1", "a loopback address"),
        ("127.9.9.9", "a loopback address"),
        ("::1", "a loopback address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("10.0.0.1", "a private address"),
        ("172.16.5.4", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fc00::1", "a private address"),  # unique local
        ("fd12:3456::1", "a private address"),
        ("169.254.1.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("100.64.0.1", "a reserved address"),  # carrier-grade NAT
        ("240.0.0.1", "a private address"),  # reserved, and Python counts it private
        ("169.254.169.254", "a cloud metadata address"),
        ("169.254.170.2", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("100.100.100.200", "a cloud metadata address"),
        ("168.63.129.16", "a cloud metadata address"),
        # IPv4 hidden in IPv6: mapped, 6to4, NAT64
        ("::ffff:127.0.0.1", "a loopback address"),
        ("::ffff:169.254.169.254", "a cloud metadata address"),
        ("2002:a00:1::", "a private address"),
        ("64:ff9b::a9fe:a9fe", "a cloud metadata address"),
    ],
)
def test_refused_addresses(address: str, kind: str | None) -> None:
    assert targets.refusal(ip_address(address), allow_private=False) == kind


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", None),
        ("10.0.0.1", None),
        ("fe80::1", None),
        ("169.254.169.254", "a cloud metadata address"),
        ("::ffff:169.254.169.254", "a cloud metadata address"),
    ],
)
def test_allowing_private_targets_still_refuses_metadata(address: str, kind: str | None) -> None:
    assert targets.refusal(ip_address(address), allow_private=True) == kind


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("", "is required"),
        ("ftp://example.com/hook", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("example.com/hook", "http:// or https://"),
        ("//example.com/hook", "http:// or https://"),
        ("http:///hook", "must name a host"),
        ("http://exa mple.com/", "spaces or control characters"),
        ("http://example.com/\r\nX-Injected: 1", "spaces or control characters"),
        ("http://[::1/", "not a valid URL"),
        ("http://user:password@example.com/", "user name or password"),
        ("http://example.com:99999/", "invalid port"),
        ("http://bad%host/", "invalid host"),
    ],
)
def test_malformed_urls(url: str, says: str) -> None:
    with pytest.raises(targets.TargetRefused, match=says.replace("(", r"\(")):
        targets.parse(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hooks?x=1",
        "http://192.0.2.1:8080/",
        "https://[2001:db8::1]/",
        "https://bücher.example/",
    ],
)
def test_wellformed_urls(url: str) -> None:
    assert targets.parse(url).scheme in {"http", "https"}


def test_the_schedule_is_the_specifications_with_jitter_never_early() -> None:
    expected = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
    for failed, seconds in enumerate(expected, start=1):
        delays = [retries.next_delay(failed) for _ in range(50)]
        assert all(d is not None and seconds <= d <= seconds * 1.2 for d in delays), failed
    assert retries.next_delay(10) is None  # ten attempts in all: out of retries


def test_the_scale_shortens_the_schedule() -> None:
    delay = retries.next_delay(2, scale=0.01)
    assert delay is not None
    assert 3.0 <= delay <= 3.6


def test_retry_after_is_a_floor_capped_at_a_day() -> None:
    assert retries.next_delay(1, scale=0.01, retry_after=30.0) == 30.0
    delay = retries.next_delay(2, retry_after=1.0)
    assert delay is not None
    assert delay >= 300
    assert retries.next_delay(1, retry_after=10**9) == retries.MAX_RETRY_AFTER


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Sun, 01 Mar 2026 12:00:30 GMT", 30.0),
        ("Sun, 01 Mar 2026 12:00:30 -0000", 30.0),
        ("Sun, 01 Mar 2026 11:00:00 GMT", 0.0),  # in the past: no wait
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        ("٣", None),  # a digit, but not ASCII
    ],
)
def test_retry_after_header(header: str | None, seconds: float | None) -> None:
    assert retries.retry_after_seconds(header, NOW) == seconds
