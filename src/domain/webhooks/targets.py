"""Which addresses a webhook may reach. Pure: takes a URL or addresses, returns a verdict.

Loopback, private, link-local (the cloud metadata address 169.254.169.254 is
one), multicast, reserved, unspecified and any other non-global address are
refused unless the deployment allows private targets. The worker resolves the
host at every delivery and checks every address it got (DNS rebinding); the
API refuses at creation what it can tell without DNS: IP literals and
``localhost`` names.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from rollcall.domain.errors.webhooks import WebhookTargetBlocked, WebhookUrlInvalid

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: The metadata services of the big clouds that sit on otherwise routable-looking
#: addresses (AWS's IPv6 one is ULA, Alibaba's is in shared address space).
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("100.100.100.200"),
    }
)


def blocked_reason(address: Address) -> str | None:
    """Why a delivery may not reach ``address``, or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return blocked_reason(address.ipv4_mapped)
    checks = (
        (address in METADATA_ADDRESSES, "metadata"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_private, "private"),
        (address.is_multicast, "multicast"),
        (address.is_unspecified, "unspecified"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "not global"),
    )
    for hit, reason in checks:
        if hit:
            return reason
    return None


def check_addresses(host: str, addresses: list[Address], *, allow_private: bool) -> None:
    """Raise WebhookTargetBlocked if any address of ``host`` is refused."""
    if allow_private:
        return
    for address in addresses:
        reason = blocked_reason(address)
        if reason is not None:
            raise WebhookTargetBlocked(
                f"The webhook host {host} resolves to a {reason} address ({address}); "
                "such targets are refused unless WEBHOOK_ALLOW_PRIVATE_TARGETS=true.",
                host=host,
                address=str(address),
            )


def parse_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a webhook URL; raises WebhookUrlInvalid."""
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise WebhookUrlInvalid("The webhook URL may not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookUrlInvalid() from None
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise WebhookUrlInvalid()
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlInvalid("The webhook URL may not carry a user name or password.")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


def literal_address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_url(url: str, *, allow_private: bool) -> None:
    """What can be refused without DNS: a bad URL, a blocked IP literal, ``localhost``."""
    _scheme, host, _port = parse_url(url)
    if allow_private:
        return
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        raise WebhookTargetBlocked(
            "The webhook host is localhost; such targets are refused unless "
            "WEBHOOK_ALLOW_PRIVATE_TARGETS=true.",
            host=host,
        )
    address = literal_address(host)
    if address is not None:
        check_addresses(host, [address], allow_private=False)
