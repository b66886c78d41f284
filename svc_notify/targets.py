"""Where a webhook may go: an http(s) URL whose host resolves only to public addresses.

A target is checked at registration, for a clear error, and again before
every attempt, because DNS can change in between. The attempt then connects
to exactly the addresses that passed (`sender`), so a name that resolves
elsewhere a moment later (DNS rebinding) cannot redirect it. Loopback,
private, unique-local, link-local, multicast, reserved and unspecified
addresses are refused unless the operator allows private targets, also when
hidden inside an IPv6 address (IPv4-mapped, 6to4, Teredo, NAT64). Cloud
metadata addresses are refused even then: no webhook has business there.
"""

from __future__ import annotations

import asyncio
import re
import socket
import unicodedata
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Final

import httpx

IPAddress = IPv4Address | IPv6Address

MAX_URL_LENGTH: Final = 2000  # what browsers and most servers accept
_SCHEMES: Final = {"http": 80, "https": 443}
# A DNS name (already IDNA-encoded by httpx) or an IP literal (IPv6 without brackets).
_HOST: Final = re.compile(r"[A-Za-z0-9_.-]+|[0-9A-Fa-f:.]+")
_METADATA: Final = frozenset(
    ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean instance metadata
        "169.254.170.2",  # AWS ECS task metadata and credentials
        "fd00:ec2::254",  # AWS instance metadata over IPv6
        "100.100.100.200",  # Alibaba Cloud metadata
        "168.63.129.16",  # Azure WireServer (a public address)
        "192.0.0.192",  # Oracle Cloud legacy metadata
    )
)
# The first that applies names the refusal (private is checked after the narrower kinds).
_KINDS: Final = (
    ("is_loopback", "a loopback address"),
    ("is_unspecified", "an unspecified address"),
    ("is_link_local", "a link-local address"),
    ("is_multicast", "a multicast address"),
    ("is_private", "a private address"),
    ("is_reserved", "a reserved address"),
)
_NAT64: Final = ip_network("64:ff9b::/96")
# getaddrinfo's answers for a name that does not exist (not a lookup that failed for now).
_NO_SUCH_NAME: Final = frozenset(
    code for code in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)) if code is not None
)


class TargetRefused(Exception):
    """Why a webhook cannot be sent to this URL, as a sentence for its owner."""


def parse(value: str) -> httpx.URL:
    """The URL `value` names; TargetRefused unless it is an absolute http(s) URL with a host."""
    if not value:
        raise TargetRefused("is required")
    if any(char.isspace() or unicodedata.category(char) == "Cc" for char in value):
        raise TargetRefused("must not contain spaces or control characters")
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as error:
        raise TargetRefused(f"is not a valid URL ({error})") from None
    if url.scheme not in _SCHEMES:
        raise TargetRefused("must be an http:// or https:// URL")
    host = url.raw_host.decode("ascii")
    if not host:
        raise TargetRefused("must name a host")
    if _HOST.fullmatch(host) is None:
        raise TargetRefused(f"has an invalid host {host[:60]!r}")
    if url.userinfo:
        raise TargetRefused("must not contain a user name or password")
    if url.port is not None and not 0 < url.port < 65536:
        raise TargetRefused(f"has an invalid port {url.port}")
    return url


def port_of(url: httpx.URL) -> int:
    return url.port or _SCHEMES[url.scheme]


async def resolve(url: httpx.URL, *, allow_private: bool) -> list[IPAddress]:
    """Every address the URL's host resolves to, once each, all allowed; else TargetRefused.

    A lookup that fails for now (no resolver answer) raises OSError: the same
    URL may resolve later.
    """
    host = url.raw_host.decode("ascii")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port_of(url), type=socket.SOCK_STREAM
        )
    except socket.gaierror as error:
        if error.errno in _NO_SUCH_NAME:
            raise TargetRefused(f"host {host} does not resolve") from None
        raise
    addresses = list(dict.fromkeys(ip_address(info[4][0]) for info in infos))
    if not addresses:
        raise TargetRefused(f"host {host} does not resolve")
    for address in addresses:
        problem = refusal(address, allow_private=allow_private)
        if problem is not None:
            shown = "" if host == str(address) else f"{host} resolves to "
            raise TargetRefused(f"{shown}{address}, {problem}, which is not allowed")
    return addresses


def refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """What kind of forbidden address `address` is, or None when a webhook may go there."""
    candidates = _with_embedded(address)
    if any(candidate in _METADATA for candidate in candidates):
        return "a cloud metadata address"
    if allow_private:
        return None
    for candidate in candidates:
        kind = _kind(candidate)
        if kind is not None:
            return kind
    return None


def _kind(address: IPAddress) -> str | None:
    for flag, kind in _KINDS:
        if getattr(address, flag):
            return kind
    if not address.is_global:
        return "a reserved address"
    return None


def _with_embedded(address: IPAddress) -> list[IPAddress]:
    """Any IPv4 address that `address` carries (where a packet may really go), then itself."""
    if isinstance(address, IPv4Address):
        return [address]
    bare = IPv6Address(int(address))  # without a scope id, for the comparisons
    found: list[IPAddress] = []
    if bare.ipv4_mapped is not None:
        found.append(bare.ipv4_mapped)
    if bare.sixtofour is not None:
        found.append(bare.sixtofour)
    if bare.teredo is not None:
        found.extend(bare.teredo)
    if bare in _NAT64:
        found.append(IPv4Address(int(bare) & 0xFFFF_FFFF))
    return [*found, bare]
